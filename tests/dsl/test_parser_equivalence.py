"""The fast parser (dsl._parser) and the Lark path build identical ASTs, spans and diagnostics.

``dsl/grammar.lark`` + Lark is the oracle: whatever the fast parser accepts must come out exactly
as Lark + ``build`` make it; whatever it rejects goes to Lark (syntax errors are reported there).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import _parser, ast, build, syntax
from dsl.diagnostics import Diagnostic, Diagnostics
from tests.dsl.test_properties import TOKENS, conditions, rule_sources

ROOT = Path(__file__).parents[2]
CORPUS = sorted(
    [*ROOT.glob("tests/dsl/golden/*.rules"), *ROOT.glob("knowledge_packs/*/rules/*.rules")]
)
DOC_BLOCKS = re.findall(r"```rules\n(.*?)```", (ROOT / "docs" / "dsl.md").read_text(), flags=re.S)
ERROR_FILES = sorted(ROOT.glob("tests/dsl/errors/*.rules"))


Built = tuple[ast.File, list[Diagnostic]]


def _both(text: str) -> tuple[bool, Built, Built]:
    fast_diags = Diagnostics()
    parsed = syntax.run(text, "t.rules", fast_diags)
    fast = build.run(parsed, fast_diags)
    lark_diags = Diagnostics()
    lark = build.run(syntax.run(text, "t.rules", lark_diags, fast=False), lark_diags)
    return parsed.ast is not None, (fast, fast_diags.items), (lark, lark_diags.items)


def _assert_same(text: str, *, accepted: bool | None = None) -> None:
    took_fast, fast, lark = _both(text)
    if accepted is not None:
        assert took_fast == accepted
    assert fast[0] == lark[0]
    assert fast[1] == lark[1]


@pytest.mark.parametrize("path", CORPUS, ids=[str(p.relative_to(ROOT)) for p in CORPUS])
def test_corpus_file(path: Path) -> None:
    _assert_same(path.read_text(encoding="utf-8"), accepted=True)


@pytest.mark.parametrize("block", DOC_BLOCKS, ids=[f"dsl.md#{i}" for i in range(len(DOC_BLOCKS))])
def test_doc_example(block: str) -> None:
    _assert_same(block, accepted=True)


def _error_cases() -> list[str]:
    cases = []
    for path in ERROR_FILES:
        cases.extend(path.read_text(encoding="utf-8").split("\n---\n"))
    return cases


@pytest.mark.parametrize("case", _error_cases())
def test_error_case(case: str) -> None:
    _assert_same(case)


def test_benchmark_pack() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_compile import make_pack
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    _assert_same(make_pack(40), accepted=True)


EDGE_CASES = [
    "",
    "\n\n# only a comment\n",
    'rule X "t" { category custom severity error scope line when true message "m" }',
    # keywords where only a NAME may stand are names (Lark's contextual lexer)
    'rule when "t" { category all, any scope sum\n when line.count.in > 1 message "m" }',
    'table t pair { key in: code, not: code value and: x source csv "x.csv" }',
    'rule X "t" { category c severity e scope line when sum(all in claim.lines: x.all) > 1\n'
    ' message "m" }',
    # keywords elsewhere: Lark decides (a path called `present`, a clause called `pass`)
    'rule X "t" { category c severity e scope line when present == 1 message "m" }',
    'rule X "t" { category c severity e scope line pass x when true message "m" }',
    'rule X "t" { category c severity e scope line when _ == 1 message "m" }',
    # parentheses, tuples, lookups, flattening
    'rule X "t" { category c severity e scope pair when ((a.b) and (c or (d))) and not (e) or f\n'
    ' message "{(line.units) + 1} {t[a, (b)].c} {f()} {g(1, 2025-01-01)}" }',
    'rule X "t" { category c severity e scope pair when (a, b) in t and t[a] == "1" and x not in'
    ' {"A".."B", "C"*, 1, true, 2025-01-01} and y in "A".."B" and z startswith "Q"\n'
    ' and w is missing and v is present and 1 - 2 > 0 message "m" }',
    'rule X "t" { category c severity e scope line when a - b * (c + d) - e * f * g > 1\n'
    ' message "m" }',
    'rule X "t" { category c severity e scope line when a in {} message "m" }',
    # decision tables
    'rule X "t" { category c severity e scope line decide a, (b), c + 1 {\n'
    '  _, < 3, in {"A"} -> fire: "x {a} {a + 1}"\n  "A", not in "A".."B", (1) -> pass\n'
    "  1, 2 -> fire\n} }",
    # dates, invalid dates, ranges
    'rule X "t" { effective .. category c severity e scope line when true message "m" }',
    'rule X "t" { effective 2025-02-30 .. 2025-13-01 category c when d > 2025-02-31 message "m" }',
    'pack p { version "1" kinds a, b title "t", "u" }\npack q { bogus x }',
    # holes that the fast parser rejects go to Lark (and report there)
    'rule X "t" { category c severity e scope line when true\n'
    ' message "{a +} {b} {c(\\"x\\")} {{}}" }',
    'rule X "t" { category c severity e scope line when true message "{ a # c }" }',
    # tokens
    'rule B-1-x "t" { category a-b severity e scope line when x-1 > 1-1 and y-z message "m" }',
    'rule X "t" { category c severity e scope line when a..b message "m" }',
    'rule X "t" { category c severity e scope line when a = 1 message "m" }',
    'rule X "t" { category c severity e scope line when a\v> 1 message "m" }  ',
    'rule X "t" { category c severity e scope line when a > 1 message "m" }\t \r\n  ',
    'rule X "unterminated { category c }',
    # the `field` clause: a dotted path, a single name (a path too), keywords, errors
    'rule X "t" { category c severity e scope pair when true message "m"\n'
    "  field other.procedure_code }",
    'rule X "t" { field dx.code category c field line . in . x severity e when true message "m" }',
    'rule X "t" { category c field procedure_code scope line when true message "m" }',
    'rule X "t" { category c field a, b field "x" field a: b when true message "m" }',
    'rule X "t" { category c field a. when true message "m" }',
]


def test_untitled_rule_is_left_to_lark() -> None:
    # The fast parser hands untitled rules to the Lark path (Lark adds no placeholder for `STRING?`)
    with pytest.raises(_parser.Reject):
        build.fast_build("rule X { category c }", "t.rules")


def test_untitled_rule_compiles_on_the_lark_path() -> None:
    # Regression: build.rule_decl took the first clause for the title and crashed (AttributeError)
    from dsl import compile_source

    text = "rule X {\n  category structure\n  severity error\n  scope claim\n"
    text += '  when claim.total_charge > 0\n  message "m"\n}\n'
    compiled = compile_source(text, file="t.rules")
    assert [r.id for r in compiled.rules] == ["X"] and compiled.rules[0].title == ""


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_case(text: str) -> None:
    _assert_same(text)


EXAMPLES = int(os.environ.get("CLAIMSCRUB_EQUIVALENCE_EXAMPLES", "150"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sources())
def test_generated_rules(src: str) -> None:
    _assert_same(src, accepted=True)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions, st.sampled_from(["", "+ 1", "* 2 - 3"]))
def test_generated_holes_and_cells(cond: str, tail: str) -> None:
    hole = cond.replace('"', '\\"')
    src = (
        'rule X "t" {\n  category c\n  severity e\n  scope line\n'
        f"  decide line.units {tail}, claim.total_charge {{\n"
        f'    < 3, _ -> fire: "a {{line.units {tail}}} {{{hole}}}"\n'
        "    _, _ -> pass\n  }\n}\n"
    )
    _assert_same(src, accepted=True)


@settings(max_examples=EXAMPLES * 2, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join))
def test_token_soup(src: str) -> None:
    _assert_same(src)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sources(), st.integers(0, 10_000), st.integers(1, 5), st.sampled_from(TOKENS))
def test_mangled_rules(src: str, at: int, cut: int, insert: str) -> None:
    at %= max(1, len(src))
    _assert_same(src[:at] + src[at + cut :])
    _assert_same(src[:at] + " " + insert + " " + src[at:])
