"""Hypothesis: generated rules survive format → parse → format; junk only raises CompileError."""

from __future__ import annotations

import contextlib
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.compile import compile_source
from dsl.diagnostics import CompileError
from dsl.dump import dump_ir
from dsl.fmt import format

NUMERIC = ["line.units", "line.charge", "patient.age", "claim.total_charge"]
CODES = ["line.procedure_code", "line.place_of_service", "claim.frequency_code", "patient.sex"]
DATES = ["line.service_date", "claim.statement_from", "patient.birth_date"]
code_lit = st.from_regex(r"[A-Z0-9]{1,5}", fullmatch=True).map(lambda s: f'"{s}"')
num_lit = st.integers(0, 9999).map(str)
date_lit = st.dates().map(lambda d: d.isoformat())


def _atoms() -> st.SearchStrategy[str]:
    cmp = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    numeric = st.builds(lambda f, o, v: f"{f} {o} {v}", st.sampled_from(NUMERIC), cmp, num_lit)
    arith = st.builds(
        lambda f, o, v, w: f"{f} {o} {v} > {w}",
        st.sampled_from(NUMERIC),
        st.sampled_from(["+", "-", "*"]),
        num_lit,
        num_lit,
    )
    member = st.builds(
        lambda f, neg, items: f"{f} {'not in' if neg else 'in'} {{{', '.join(items)}}}",
        st.sampled_from(CODES),
        st.booleans(),
        st.lists(
            st.one_of(
                code_lit,
                st.tuples(code_lit, code_lit).map(lambda t: f"{t[0]}..{t[1]}"),
                code_lit.map(lambda s: s + "*"),
            ),
            min_size=1,
            max_size=4,
        ),
    )
    dates = st.builds(lambda f, o, d: f"{f} {o} {d}", st.sampled_from(DATES), cmp, date_lit)
    presence = st.builds(
        lambda f, p: f"{f} is {p}",
        st.sampled_from(CODES + DATES),
        st.sampled_from(["present", "missing"]),
    )
    agg = st.builds(
        lambda k, v: f"{k}(x in claim.lines: x.units > {v})",
        st.sampled_from(["any", "all"]),
        num_lit,
    )
    count = num_lit.map(lambda v: f'count(d in claim.diagnoses: d.code startswith "Z") > {v}')
    calls = st.just("npi_valid(billing.npi)") | st.just(
        "days_between(line.service_date, claim.statement_to) > 30"
    )
    return st.one_of(numeric, arith, member, dates, presence, agg, count, calls)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        children.map(lambda x: f"not ({x})"),
        st.tuples(children, children, st.sampled_from(["and", "or"])).map(
            lambda t: f"({t[0]}) {t[2]} ({t[1]})"
        ),
    )


conditions = st.recursive(_atoms(), _combine, max_leaves=8)
spacing = st.sampled_from([" ", "  ", "\n  ", "\n\n"])


@st.composite
def rule_sources(draw: st.DrawFn) -> str:
    n = draw(st.integers(1, 3))
    items = []
    for i in range(n):
        sp = [draw(spacing) for _ in range(6)]
        comment = draw(st.sampled_from(["", "  # note\n", "\n  # about it\n"]))
        items.append(
            f'rule GEN-{i:04d} "rule {i}" {{{sp[0]}category custom{sp[1]}'
            f"severity error{comment}{sp[2]}"
            f'scope line{sp[3]}when {draw(conditions)}{sp[4]}message "m {{line.units}}"{sp[5]}}}'
        )
    return "\n".join(items) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sources())
def test_format_is_idempotent_and_keeps_the_ir(src: str) -> None:
    once = format(src)
    assert format(once) == once
    assert dump_ir(compile_source(src), spans=False) == dump_ir(compile_source(once), spans=False)


TOKENS = [
    "rule",
    "pack",
    "table",
    "when",
    "decide",
    "and",
    "or",
    "not",
    "in",
    "is",
    "present",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "..",
    "->",
    "==",
    "=",
    "<",
    ">",
    "_",
    "fire",
    "pass",
    "*",
    "+",
    '"A"',
    '"',
    "1",
    "2025-01-01",
    "2025-13-45",
    "line.units",
    "claim",
    "x",
    "category",
    "scope",
    "message",
    "any",
    "sum",
    "#c\n",
    "\n",
    "&&",
    "!",
]


def _compile_or_compile_error(src: str) -> None:
    start = time.perf_counter()
    try:
        compile_source(src, file="fuzz.rules")
    except CompileError as exc:
        assert exc.diagnostics
    with contextlib.suppress(CompileError):
        format(src)
    assert time.perf_counter() - start < 2.0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join))
def test_token_soup_only_raises_compile_error(src: str) -> None:
    _compile_or_compile_error(src)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200).map(lambda b: b.decode("utf-8", "replace")))
def test_random_bytes_only_raise_compile_error(src: str) -> None:
    _compile_or_compile_error(src)


@settings(max_examples=100, deadline=None)
@given(rule_sources(), st.integers(0, 10_000), st.integers(1, 5))
def test_truncated_or_mangled_rules_only_raise_compile_error(src: str, at: int, cut: int) -> None:
    at %= max(1, len(src))
    _compile_or_compile_error(src[:at] + src[at + cut :])
