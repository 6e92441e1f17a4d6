from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from dsl import CompileError, compile_pack, compile_source, ir
from dsl.compile import STAGES, CompileOptions, analyze
from dsl.diagnostics import render
from dsl.ir import Category, Scope, ValueType
from dsl.schema import DEFAULT_SCHEMA
from dsl.tables import load_csv_table

RULE = """rule X-1 "t" {{
  category custom
  severity error
  scope line
  when {cond}
  message "m"
}}
"""


def _cond(cond: str) -> ir.Expr:
    return compile_source(RULE.format(cond=cond)).rules[0].branches[0].condition


def test_stages_table_is_the_pipeline() -> None:
    assert [s.name for s in STAGES] == ["parse", "build", "resolve", "check", "lower"]


def test_date_literal_in_an_expression_is_a_date_not_arithmetic() -> None:
    node = _cond("line.service_date >= 2025-01-31")
    assert isinstance(node, ir.Compare) and isinstance(node.right, ir.Const)
    assert node.right.type is ValueType.DATE


def test_compile_error_carries_all_diagnostics_and_json() -> None:
    src = RULE.format(cond="line.unitz > 1 and line.procedure_code in nope")
    with pytest.raises(CompileError) as info:
        compile_source(src, file="a.rules")
    codes = [d.code for d in info.value.diagnostics]
    assert codes == ["E201", "E202"]
    data = json.loads(json.dumps(info.value.diagnostics[0].to_json()))
    assert data == {
        "code": "E201",
        "severity": "error",
        "message": "unknown field 'unitz' on line",
        "file": "a.rules",
        "line": 5,
        "column": 13,
        "end_line": 5,
        "end_column": 18,
        "hint": "did you mean 'units'?",
    }


def test_render_underlines_the_whole_span() -> None:
    src = RULE.format(cond='line.service_date > "2025-01-01"')
    result = analyze([("a.rules", src)])
    text = render(result.diagnostics[0], src)
    assert text.splitlines()[0] == "a.rules:5:8: error[E302]: comparing a date with a code"
    assert "^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~ write dates without quotes" in text


def test_warnings_do_not_fail_unless_asked() -> None:
    src = RULE.format(cond='line.place_of_service == "11" and line.place_of_service == "12"')
    assert compile_source(src).rules[0].id == "X-1"
    with pytest.raises(CompileError):
        compile_source(src, options=CompileOptions(warnings_as_errors=True))


def test_reads_record_fields_and_tables() -> None:
    src = 'table t code_set {\n  source csv "t.csv"\n}\n\n' + RULE.format(
        cond="line.procedure_code in t and patient.age > 3"
    )
    rule = compile_source(src).rules[0]
    names = {DEFAULT_SCHEMA.fields[i].name for i in rule.reads.fields}
    assert names == {"line.procedure_code", "patient.age"}
    assert rule.reads.tables == (0,)


def test_constants_are_interned() -> None:
    rules = compile_source(
        RULE.format(cond='line.procedure_code == "A" or line.revenue_code == "A"')
    )
    assert [c.value for c in rules.constants] == ["A"]


def test_decision_table_lowers_to_ordered_branches() -> None:
    src = """rule D-1 "t" {
  category age-conflict
  severity error
  scope line
  message "default {patient.age}"
  decide patient.age, line.procedure_code {
    < 18, in {"A", "B"} -> fire: "child"
    >= 65, _ -> fire
    _, _ -> pass
  }
}
"""
    rule = compile_source(src).rules[0]
    assert [b.fires for b in rule.branches] == [True, True, False]
    assert rule.branches[0].message.parts == ("child",)
    assert rule.branches[1].message.parts[0] == "default "
    assert rule.scope is Scope.LINE and rule.category is Category.AGE_CONFLICT


def test_relations_and_effective_dates() -> None:
    src = RULE.format(cond="line.units > 1") + RULE.replace("X-1", "X-2").format(
        cond="line.units > 2"
    ).replace(
        "  scope line\n", "  scope line\n  effective 2025-01-01 .. 2025-06-30\n  supersedes X-1\n"
    )
    rules = compile_source(src)
    assert rules.rules[1].effective_from == date(2025, 1, 1)
    (rel,) = rules.relations
    assert (rel.kind, rel.source, rel.target) == (ir.RelationKind.SUPERSEDES, 1, 0)


def test_compile_pack_and_csv_table(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "tables").mkdir()
    (tmp_path / "rules" / "a.rules").write_text(
        'pack demo {\n  version "1.0"\n  kinds professional\n}\n\n'
        'table mue limit {\n  source csv "tables/mue.csv"\n'
        "  key hcpcs: code\n  value limit: number\n}\n"
    )
    (tmp_path / "rules" / "b.rules").write_text(
        RULE.format(cond="line.units > mue[line.procedure_code]")
    )
    (tmp_path / "tables" / "mue.csv").write_text("# source: test\nhcpcs,limit\n99213,1\n")
    rules = compile_pack(tmp_path)
    assert rules.pack is not None and rules.pack.claim_kinds == ("professional",)
    rows = load_csv_table(rules.tables[0], tmp_path)
    assert rows == {("99213",): (1,)}


def test_empty_pack_directory_is_a_compile_error(tmp_path: Path) -> None:
    with pytest.raises(CompileError) as info:
        compile_pack(tmp_path)
    assert info.value.diagnostics[0].code == "E212"


def test_message_hole_errors_point_into_the_string() -> None:
    src = RULE.format(cond="line.units > 1").replace('"m"', '"units {line.units +}"')
    result = analyze([("a.rules", src)])
    (diag,) = result.diagnostics
    assert (diag.code, diag.span.line) == ("E102", 6)
    assert diag.message == "incomplete expression in a message hole"


def test_python_m_dsl_dump(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dsl.__main__ import main

    f = tmp_path / "a.rules"
    f.write_text(RULE.format(cond="line.units > 1"))
    assert main(["dump", str(f)]) == 0
    assert "Rule index=0 id='X-1'" in capsys.readouterr().out
    assert main(["dump", "--after", "resolve", str(f)]) == 0
