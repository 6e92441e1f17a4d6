"""Pinned cases for the differential contract: both evaluators, fixed rules, fixed claims.

Why: the property test (``test_differential.py``) draws random rules and claims; the shapes that
have broken an evaluator before, or sit on a boundary, are kept here by name so they are checked
on every run whatever Hypothesis draws: code ranges and their sub-codes, effective-date edges,
missing values in comparisons and sets, pair rules over repeated lines, numbers the fixed-point
encoding cannot hold (those claims go to the reference evaluator), ICD-10-CM releases by date.
Each case also states the edits it must give, so a change that breaks both evaluators the same way
fails too.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claims.model import Claim, ClaimKind, Diagnosis, DiagnosisRole, Person, ServiceLine
from dsl.compile import compile_source
from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack
from engine.evaluate import evaluate
from engine.pack import PackData


def _line(n: int, code: str, on: date | None = date(2025, 3, 3), **kw: object) -> ServiceLine:
    return ServiceLine(
        n, Decimal(kw.pop("charge", 10)), Decimal(kw.pop("units", 1)), code, service_date=on, **kw
    )  # type: ignore[arg-type]


def _claim(lines: tuple[ServiceLine, ...], dx: tuple[str, ...] = ("I10",), **kw: object) -> Claim:
    diagnoses = tuple(
        Diagnosis(c, DiagnosisRole.PRINCIPAL if i == 0 else DiagnosisRole.OTHER)
        for i, c in enumerate(dx)
    )
    total = sum((ln.charge for ln in lines), Decimal(0))
    return Claim(
        ClaimKind.PROFESSIONAL, "1", "P1", kw.pop("total", total), "11", "1",  # type: ignore[arg-type]
        diagnoses=diagnoses, lines=lines, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


CASES: dict[str, tuple[str, list[Claim], list[tuple[str, tuple[int, ...], str]]]] = {
    "range includes sub-codes of its upper bound": (
        'rule R "r" { category custom severity error scope diagnosis\n'
        '  when dx.code in {"O00".."O9A"} message "m" }',
        [_claim((_line(1, "99213"),), dx=("O9A211", "O9A", "O00", "N99", "P00"))],
        [("R", (), "O9A211"), ("R", (), "O9A"), ("R", (), "O00")],
    ),
    "effective window edges are inclusive": (
        'rule R "r" { category custom severity error scope line\n'
        '  effective 2025-03-03 .. 2025-03-31 when line.units > 0 message "m" }',
        [
            _claim((_line(1, "A"),)),
            _claim((_line(1, "A", date(2025, 3, 31)),)),
            _claim((_line(1, "A", date(2025, 3, 2)),)),
            _claim((_line(1, "A", date(2025, 4, 1)),)),
        ],
        [("R", (1,), ""), ("R", (1,), "")],
    ),
    "missing values: comparisons false, is missing true": (
        'rule R "r" { category custom severity error scope line\n'
        "  when line.service_date < claim.first_service_date or line.place_of_service is missing\n"
        '  message "m" }',
        [_claim((_line(1, "A", None), _line(2, "B", place_of_service="22")))],
        [("R", (1,), "")],
    ),
    "pair rule over three identical lines": (
        'rule R "r" { category duplicate severity warning scope pair\n'
        "  when other.number < line.number and line.procedure_code == other.procedure_code\n"
        '  message "m" }',
        [_claim((_line(1, "A"), _line(2, "A"), _line(3, "A"), _line(4, "B")))],
        [("R", (2, 1), ""), ("R", (3, 1), ""), ("R", (3, 2), "")],
    ),
    "a number fixed point cannot hold goes to the reference evaluator": (
        'rule R "r" { category charges severity error scope line\n'
        '  when line.charge > 10.00001 message "{line.charge}" }',
        [_claim((_line(1, "A", charge=Decimal("10.000011")), _line(2, "B")))],
        [("R", (1,), "")],
    ),
    "aggregates over no lines and no diagnoses": (
        'rule R "r" { category custom severity error scope claim\n'
        "  when count(l in claim.lines) == 0 or not any(d in claim.diagnoses: d.code is present)\n"
        '  message "m" }',
        [_claim((), dx=()), _claim((_line(1, "A"),))],
        [("R", (), "")],
    ),
    "patient age on the first date of service": (
        'rule R "r" { category age-conflict severity error scope claim\n'
        '  when patient.age < 18 message "{patient.age}" }',
        [
            _claim((_line(1, "A"),), subscriber=Person(birth_date=date(2007, 3, 4))),
            _claim((_line(1, "A"),), subscriber=Person(birth_date=date(2007, 3, 3))),
        ],
        [("R", (), "")],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_pinned_case(name: str) -> None:
    text, claims, want = CASES[name]
    pack = PackData.load(compile_source('pack p { version "1" }\n' + text, file=f"{name}.rules"))
    interner = Interner()
    cp = compile_pack(pack, interner)
    fast = evaluate([cp], ClaimBatch.build(claims, cp.fields_needed, interner))
    slow = reference.evaluate([pack], claims)
    assert fast == slow
    assert [(e.rule_id, e.lines, e.diagnosis) for e in fast] == want
