"""The `field` clause: the edit's field path and value follow it, in both evaluators."""

from __future__ import annotations

from pathlib import Path

import pytest

from claims.model import Claim
from claims.optum.convert import parse_claim_json
from dsl.compile import compile_pack, compile_source
from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack as compile_engine_pack
from engine.edits import Edit
from engine.evaluate import evaluate
from engine.pack import PackData

MEDICARE = Path(__file__).parents[2] / "knowledge_packs" / "medicare"


def _claim(codes: list[str], modifiers: tuple[list[str], ...] = ()) -> Claim:
    lines = []
    for i, code in enumerate(codes):
        service: dict[str, object] = {
            "procedureIdentifier": "HC",
            "procedureCode": code,
            "lineItemChargeAmount": "50.00",
            "measurementUnit": "UN",
            "serviceUnitCount": "1",
            "compositeDiagnosisCodePointers": {"diagnosisCodePointers": ["1"]},
        }
        if i < len(modifiers) and modifiers[i]:
            service["procedureModifiers"] = modifiers[i]
        lines.append({"serviceDate": "20250115", "professionalService": service})
    return parse_claim_json(
        {
            "controlNumber": "000000201",
            "tradingPartnerServiceId": "TESTPAYER",
            "submitter": {"organizationName": "TEST SUBMITTER"},
            "receiver": {"organizationName": "TEST PAYER"},
            "subscriber": {
                "memberId": "TEST000001",
                "paymentResponsibilityLevelCode": "P",
                "firstName": "TEST",
                "lastName": "PATIENT",
                "gender": "F",
                "dateOfBirth": "19800115",
            },
            "billing": {"providerType": "BillingProvider", "npi": "1234567893"},
            "claimInformation": {
                "claimFilingCode": "CI",
                "patientControlNumber": "TESTPCN0201",
                "claimChargeAmount": "100.00",
                "placeOfServiceCode": "11",
                "claimFrequencyCode": "1",
                "healthCareCodeInformation": [
                    {"diagnosisTypeCode": "ABK", "diagnosisCode": "J069"},
                ],
                "serviceLines": lines,
            },
        }
    )


def _both(pack: PackData, claims: list[Claim]) -> list[Edit]:
    interner = Interner()
    compiled = compile_engine_pack(pack, interner)
    batch = ClaimBatch.build(claims, compiled.fields_needed, interner)
    fast = evaluate([compiled], batch)
    ref = reference.evaluate([pack], claims)
    assert fast == ref
    return list(ref)


def test_ncci_edit_points_at_the_column_two_code() -> None:
    pack = PackData.load(compile_pack(MEDICARE), MEDICARE)
    edits = _both(pack, [_claim(["X0010", "X0012"])])
    (edit,) = [e for e in edits if e.rule_id == "MCR-0001"]
    assert edit.lines == (1, 2)
    assert edit.field == "claimInformation.serviceLines[1].professionalService.procedureCode"
    assert edit.value == "X0012"


_RULES = """\
rule T-0001 "Pair, with a field clause" {{
  category custom
  severity error
  scope pair
  when line.service_date == other.service_date and other.procedure_code == "B2"
  message "m"
  {field}
}}
"""


@pytest.mark.parametrize(
    ("clause", "path", "value"),
    [
        ("", "claimInformation.serviceLines[0].serviceDate", "2025-01-15"),
        (
            "field other.procedure_code",
            "claimInformation.serviceLines[1].professionalService.procedureCode",
            "B2",
        ),
        (
            "field line.procedure_code",
            "claimInformation.serviceLines[0].professionalService.procedureCode",
            "A1",
        ),
        ("field claim.frequency_code", "claimInformation.claimFrequencyCode", "1"),
        ("field patient.last_name", "subscriber.lastName", ""),  # PHI: no value
    ],
)
def test_field_clause_sets_edit_field_and_value(clause: str, path: str, value: str) -> None:
    rules = compile_source(_RULES.format(field=clause))
    assert (rules.rules[0].field is None) == (clause == "")
    pack = PackData.load(rules, name="t", version="1")
    edits = _both(pack, [_claim(["A1", "B2"])])
    (edit,) = edits
    assert edit.lines == (1, 2)
    assert (edit.field, edit.value) == (path, value)


def test_field_clause_on_a_set_field_and_a_diagnosis() -> None:
    source = """\
rule T-0002 "Line" {
  category custom
  severity error
  scope line
  when line.procedure_code == "A1"
  message "m"
  field line.modifiers
}

rule T-0003 "Diagnosis" {
  category custom
  severity error
  scope diagnosis
  when dx.code is present
  message "m"
  field dx.code
}
"""
    pack = PackData.load(compile_source(source), name="t", version="1")
    edits = _both(pack, [_claim(["A1"], (["XS", "59"],))])
    by_rule = {e.rule_id: e for e in edits}
    line_edit = by_rule["T-0002"]
    modifiers = "claimInformation.serviceLines[0].professionalService.procedureModifiers"
    assert line_edit.field == modifiers
    assert "XS" in line_edit.value and "59" in line_edit.value
    dx_edit = by_rule["T-0003"]
    assert dx_edit.field == "claimInformation.healthCareCodeInformation[0].diagnosisCode"
    assert dx_edit.value == "J069"
