"""processing_date(): the date the claim is scrubbed, passed to evaluation (never the clock)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import dsl
from claims.model import Claim, ClaimKind, ServiceLine
from dsl.ir import BuiltinId, Call, Compare, ValueType
from dsl.schema import BUILTINS, BUILTINS_BY_NAME
from engine.pack import PackData
from engine.scrubber import Scrubber

HEADER = 'pack t {\n  version "1"\n}\n'


def _rule(when: str, message: str = '"edit"') -> str:
    return (
        HEADER
        + 'rule T-0001 "t" {\n  category dates\n  severity error\n  scope line\n'
        + f"  when {when}\n  message {message}\n}}\n"
    )


def _codes(text: str) -> list[str]:
    with pytest.raises(dsl.CompileError) as err:
        dsl.compile_source(text, file="t.rules")
    return [d.code for d in err.value.diagnostics if d.severity.value == "error"]


def test_signature() -> None:
    info = BUILTINS_BY_NAME["processing_date"]
    assert info.id is BuiltinId.PROCESSING_DATE
    assert info.params == ()
    assert info.result is ValueType.DATE
    assert BUILTINS[BuiltinId.PROCESSING_DATE] is info


def test_lowers_to_a_date_call() -> None:
    rules = dsl.compile_source(_rule("line.service_date > processing_date()"), file="t.rules")
    cond = rules.rules[0].branches[0].condition
    assert isinstance(cond, Compare)
    assert cond.right == Call(cond.right.span, ValueType.DATE, BuiltinId.PROCESSING_DATE, ())
    assert rules.rules[0].reads.fields  # reads line.service_date; processing_date() is no field


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ("processing_date(line.service_date) > line.service_date", "E305"),  # no arguments
        ('processing_date() == "2025-01-01"', "E302"),  # a date, not a code
        ("processing_date() > 3", "E301"),
        ("processing_date()", "E301"),  # a date is not a condition
    ],
)
def test_type_errors(when: str, code: str) -> None:
    codes = _codes(_rule(when))
    assert codes
    if code != "E301":
        assert code in codes


@pytest.mark.parametrize(
    "when",
    [
        "days_between(line.service_date, processing_date()) > 365",
        "add_days(line.service_date, 365) < processing_date()",
        "processing_date() is present",
        "claim.first_service_date > processing_date()",
    ],
)
def test_well_typed(when: str) -> None:
    dsl.compile_source(_rule(when, '"{processing_date()}"'), file="t.rules")


def _claim(*days: date) -> Claim:
    lines = tuple(
        ServiceLine(i + 1, Decimal(1), Decimal(1), "99213", service_date=d)
        for i, d in enumerate(days)
    )
    return Claim(ClaimKind.PROFESSIONAL, "1", "P", Decimal(len(days)), "11", "1", lines=lines)


@pytest.mark.parametrize("evaluator", ["numba", "reference"])
def test_scrubber_threads_the_date(evaluator: str) -> None:
    rules = dsl.compile_source(
        _rule(
            "line.service_date > processing_date()",
            '"Line {line.number}: {line.service_date} is after {processing_date()}"',
        ),
        file="t.rules",
    )
    scrubber = Scrubber([PackData.load(rules)])
    claim = _claim(date(2025, 6, 1), date(2025, 6, 2))

    def run(pd: date | None) -> list[str]:
        edits = scrubber.scrub([claim], processing_date=pd, evaluator=evaluator)  # type: ignore[arg-type]
        return [e.message for e in edits[0]]

    assert run(None) == []  # missing: the rule stays silent
    assert run(date(2025, 6, 2)) == []
    assert run(date(2025, 6, 1)) == ["Line 2: 2025-06-02 is after 2025-06-01"]
    assert len(run(date(2025, 1, 1))) == 2
