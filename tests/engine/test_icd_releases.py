"""ICD-10-CM built-ins answer with the release in force on the date they are given, in both
evaluators (the kernel picks the release from ``compiled._icd_arrays``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claims.model import Claim, ClaimKind, Diagnosis, DiagnosisRole, ServiceLine
from dsl.compile import compile_source
from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack
from engine.evaluate import evaluate
from engine.icd10cm import icd10cm_code_sets
from engine.pack import PackData

RULES = """
pack icd { version "1" }
rule ICD-1 "invalid on the date of service" { category invalid-diagnosis severity error
  scope diagnosis
  when not icd10cm_valid(dx.code, claim.first_service_date)
  message "{dx.code} is not valid on {claim.first_service_date}" }
rule ICD-2 "not billable on a line's date" { category invalid-diagnosis severity error
  scope line
  when any(d in claim.diagnoses: not icd10cm_billable(d.code, line.service_date))
  message "line {line.number}" }
"""


def _claim(n: int, on: date, codes: tuple[str, ...]) -> Claim:
    line = ServiceLine(1, Decimal(50), Decimal(1), "99213", service_date=on)
    dx = tuple(
        Diagnosis(c, DiagnosisRole.PRINCIPAL if i == 0 else DiagnosisRole.OTHER)
        for i, c in enumerate(codes)
    )
    return Claim(
        ClaimKind.PROFESSIONAL, str(n), f"P{n}", Decimal(50), "11", "1", diagnoses=dx, lines=(line,)
    )


@pytest.mark.parametrize(
    ("on", "invalid"),
    [
        (date(2025, 9, 30), {"E11A"}),  # FY2025: E11A does not exist yet; S301XXA does
        (date(2025, 10, 1), {"S301XXA"}),  # FY2026: E11A added, S301XXA deleted
        (date(2019, 6, 1), {"E11A"}),  # older than every release: the earliest answers
    ],
)
def test_release_follows_the_date(on: date, invalid: set[str]) -> None:
    pack = PackData.load(compile_source(RULES, file="icd.rules"))
    assert len(pack.icd_sets) >= 2 and pack.icd_sets == icd10cm_code_sets()
    claims = [_claim(1, on, ("E11A", "S301XXA", "I10"))]
    interner = Interner()
    cp = compile_pack(pack, interner)
    fast = evaluate([cp], ClaimBatch.build(claims, cp.fields_needed, interner))
    slow = reference.evaluate([pack], claims)
    assert fast == slow
    assert {e.diagnosis for e in fast if e.rule_id == "ICD-1"} == invalid
    assert [e.rule_id for e in fast].count("ICD-2") == 1  # a code that is not billable then


def test_an_explicit_mapping_answers_for_every_date() -> None:
    pack = PackData.load(compile_source(RULES, file="icd.rules"), icd10cm={"I10": True})
    claims = [_claim(1, date(2025, 9, 30), ("E11A", "I10")), _claim(2, date(2026, 1, 1), ("I10",))]
    interner = Interner()
    cp = compile_pack(pack, interner)
    fast = evaluate([cp], ClaimBatch.build(claims, cp.fields_needed, interner))
    assert fast == reference.evaluate([pack], claims)
    assert [(e.claim_index, e.diagnosis) for e in fast if e.rule_id == "ICD-1"] == [(0, "E11A")]
