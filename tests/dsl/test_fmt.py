from __future__ import annotations

from pathlib import Path

import pytest

from dsl.compile import compile_source
from dsl.diagnostics import CompileError
from dsl.dump import dump_ir
from dsl.fmt import format

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.rules"))


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_goldens_are_formatted_and_fmt_keeps_ir(path: Path) -> None:
    text = path.read_text()
    once = format(text)
    assert format(once) == once
    assert once == text, "golden sources are kept in canonical form"
    assert dump_ir(compile_source(once), spans=False) == dump_ir(compile_source(text), spans=False)


MESSY = """# leading comment
rule   X-1 "t" {   message "m {line.units}"   # trailing on message
  scope line
     # about the condition
  when (line.units > 1 and (line.charge < 10)) or not (line.procedure_code in {"A","B"})
  severity error category custom
}
# final comment
"""

CANONICAL = """# leading comment
rule X-1 "t" {
  category custom
  severity error
  scope line
  # about the condition
  when line.units > 1 and line.charge < 10 or not line.procedure_code in {"A", "B"}
  message "m {line.units}"  # trailing on message
}
# final comment
"""


def test_messy_source_formats_to_canonical_layout_with_comments() -> None:
    assert format(MESSY) == CANONICAL
    assert format(CANONICAL) == CANONICAL
    assert dump_ir(compile_source(MESSY), spans=False) == dump_ir(
        compile_source(CANONICAL), spans=False
    )


def test_long_conditions_break_at_top_level_operator() -> None:
    cond = " and ".join(f'line.procedure_code != "{i:05d}"' for i in range(6))
    src = (
        'rule X "t" {\n  category custom\n  severity error\n  scope line\n'
        f'  when {cond}\n  message "m"\n}}\n'
    )
    out = format(src)
    assert '\n    and line.procedure_code != "00001"' in out
    assert format(out) == out


def test_format_refuses_unparsable_text() -> None:
    with pytest.raises(CompileError) as info:
        format('rule X "t" { when x = 1 }')
    assert info.value.diagnostics[0].code == "E103"


def test_parentheses_needed_for_meaning_are_kept() -> None:
    src = (
        'rule X "t" {\n  category custom\n  severity error\n  scope line\n'
        "  when not (line.units > 1 or line.units < 0) and line.units - (line.units - 1) > 0\n"
        '  message "m"\n}\n'
    )
    out = format(src)
    assert "not (line.units > 1 or line.units < 0)" in out
    assert "line.units - (line.units - 1)" in out
    assert dump_ir(compile_source(src), spans=False) == dump_ir(compile_source(out), spans=False)


def test_field_clause_is_formatted_after_message() -> None:
    src = (
        'rule P-1 "t" { field   other . procedure_code  # the column two code\n'
        "category ncci-ptp severity error scope pair\n"
        'when line.procedure_code == other.procedure_code message "m" }\n'
    )
    out = format(src)
    assert out == (
        'rule P-1 "t" {\n'
        "  category ncci-ptp\n"
        "  severity error\n"
        "  scope pair\n"
        "  when line.procedure_code == other.procedure_code\n"
        '  message "m"\n'
        "  field other.procedure_code  # the column two code\n"
        "}\n"
    )
    assert format(out) == out
    assert dump_ir(compile_source(out), spans=False) == dump_ir(compile_source(src), spans=False)
