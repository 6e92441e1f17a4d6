"""claims → write_x12 → read_x12 gives the same claims back."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.model import (
    Claim,
    ClaimKind,
    CodeAmount,
    CodeDate,
    CodeSpan,
    Diagnosis,
    DiagnosisRole,
    Party,
    Person,
    Procedure,
    Provider,
    ProviderRole,
    ServiceLine,
)
from claims.x12 import WriteOptions, X12Error, read_x12, write_x12
from tests.claims.strategies import claims as claim_strategy
from tests.claims.test_x12_reader import SAMPLE_FILES

OPTIONS = WriteOptions(timestamp=datetime(2024, 5, 6, 7, 8), interchange_control_number=42)


def _round_trip(claims: list[Claim]) -> list[Claim | X12Error]:
    return list(read_x12(io.BytesIO(write_x12(claims, OPTIONS))))


def _by_kind(claims: list[Claim]) -> list[Claim]:
    """The writer's output order: 837P group first, input order within a kind."""
    return sorted(claims, key=lambda c: c.kind is ClaimKind.INSTITUTIONAL)


def _professional() -> Claim:
    lines = (
        ServiceLine(
            number=1,
            charge=Decimal("125.50"),
            units=Decimal(1),
            procedure_code="99214",
            modifiers=("25", "GT"),
            service_date=date(2024, 3, 1),
            place_of_service="02",
            diagnosis_pointers=(1, 2),
            emergency=True,
            description="TELEHEALTH VISIT",
        ),
        ServiceLine(
            number=2,
            charge=Decimal("40"),
            units=Decimal("2.5"),
            procedure_code="J1100",
            service_date=date(2024, 3, 1),
            service_date_end=date(2024, 3, 3),
            diagnosis_pointers=(2,),
            ndc="00009047314",
            ndc_quantity=Decimal("1.5"),
            ndc_unit="ML",
            providers=(
                Provider(
                    ProviderRole.ORDERING,
                    npi="1112223338",
                    entity_type="1",
                    last_name="WELBY",
                    first_name="MARCUS",
                ),
            ),
        ),
    )
    return Claim(
        kind=ClaimKind.PROFESSIONAL,
        control_number="12345",
        patient_control_number="PCN-1",
        total_charge=Decimal("165.50"),
        facility_code="11",
        frequency_code="7",
        claim_filing_code="CI",
        payer=Party("ACME HEALTH", "PAYER1"),
        submitter=Party("BILLING CO", "SUB1"),
        receiver=Party("CLEARINGHOUSE", "REC1"),
        subscriber=Person(
            "DOE",
            "JOHN",
            "Q",
            "MEM1",
            date(1980, 2, 29),
            "M",
            "1 MAIN ST",
            "SPRINGFIELD",
            "IL",
            "62701",
        ),
        payment_responsibility="S",
        patient=Person("DOE", "JANE", birth_date=date(2010, 1, 1), sex="F"),
        relationship_code="19",
        providers=(
            Provider(ProviderRole.BILLING, "1234567893", "207Q00000X", "2", "CLINIC", "", "12345"),
            Provider(ProviderRole.PAY_TO, last_name="CLINIC LOCKBOX"),
            Provider(ProviderRole.RENDERING, "1999996666", "207Q00000X", "1", "SMITH", "ANN"),
            Provider(ProviderRole.SERVICE_FACILITY, "1581234567", last_name="CLINIC SITE"),
        ),
        diagnoses=(
            Diagnosis("E119", DiagnosisRole.PRINCIPAL),
            Diagnosis("I10", DiagnosisRole.OTHER),
            Diagnosis("4019", DiagnosisRole.OTHER, icd9=True),
        ),
        onset_date=date(2024, 2, 1),
        prior_authorization="AUTH1",
        referral_number="REF9",
        original_reference_number="ORIG7",
        related_causes=("AA", "EM"),
        auto_accident_state="NY",
        delay_reason_code="1",
        lines=lines,
    )


def _institutional() -> Claim:
    return Claim(
        kind=ClaimKind.INSTITUTIONAL,
        control_number="0002",
        patient_control_number="HOSP9",
        total_charge=Decimal("1000"),
        facility_code="11",
        frequency_code="1",
        claim_filing_code="MA",
        subscriber=Person("ROE", "RITA", member_id="1EG4TE5MK72"),
        providers=(
            Provider(ProviderRole.BILLING, "1234567893", "282N00000X", "2", "GENERAL HOSPITAL"),
            Provider(ProviderRole.ATTENDING, "1999996666", "207R00000X", "1", "HOUSE", "GREG"),
            Provider(ProviderRole.OPERATING, "1588667638", "", "1", "YANG", "CRISTINA"),
        ),
        diagnoses=(
            Diagnosis("S72001A", DiagnosisRole.PRINCIPAL, poa="Y"),
            Diagnosis("S72001A", DiagnosisRole.ADMITTING),
            Diagnosis("R52", DiagnosisRole.REASON_FOR_VISIT),
            Diagnosis("W010XXA", DiagnosisRole.EXTERNAL_CAUSE, poa="Y"),
            *(Diagnosis(f"Z{n:02d}", DiagnosisRole.OTHER, poa="N") for n in range(14)),
        ),
        procedures=(
            Procedure("0QS734Z", date(2024, 3, 2), principal=True),
            Procedure("0QS704Z", date(2024, 3, 2)),
            Procedure("3E0234Z"),
        ),
        statement_from=date(2024, 3, 1),
        statement_to=date(2024, 3, 5),
        admission_date=date(2024, 3, 1),
        discharge_date=date(2024, 3, 5),
        admission_type_code="1",
        admission_source_code="7",
        patient_status_code="01",
        condition_codes=("07", "39"),
        occurrence_codes=(CodeDate("11", date(2024, 2, 28)),),
        occurrence_spans=(CodeSpan("74", date(2024, 3, 1), date(2024, 3, 2)),),
        value_codes=(CodeAmount("80", Decimal(4)), CodeAmount("A1", Decimal("250.00"))),
        lines=(
            ServiceLine(
                1,
                Decimal(600),
                Decimal(4),
                revenue_code="0120",
                unit_type="DA",
                procedure_qualifier="",
                service_date=date(2024, 3, 1),
            ),
            ServiceLine(
                2,
                Decimal(400),
                Decimal(1),
                revenue_code="0360",
                procedure_code="27236",
                modifiers=("RT",),
            ),
        ),
    )


def test_hand_built_claims_round_trip() -> None:
    claims = [_institutional(), _professional(), _professional()]
    assert _round_trip(claims) == _by_kind(claims)


def test_output_is_a_well_formed_interchange() -> None:
    text = write_x12([_professional(), _institutional()], OPTIONS).decode()
    segments = text.split("~")[:-1]
    assert len(segments[0]) == 105 and segments[0].startswith("ISA*00*")
    assert [s.split("*")[0] for s in segments if s[:2] in ("GS", "GE", "ST", "SE", "IE")] == [
        "GS",
        "ST",
        "SE",
        "GE",
        "GS",
        "ST",
        "SE",
        "GE",
        "IEA",
    ]
    assert "*005010X222A1" in segments[1] and segments[-1] == "IEA*2*000000042"


def test_claims_without_control_numbers_get_generated_ones() -> None:
    claim = _professional()
    unnumbered = [Claim(**{**_fields(claim), "control_number": ""}) for _ in range(3)]
    items = list(
        read_x12(io.BytesIO(write_x12(unnumbered, WriteOptions(claims_per_transaction=2))))
    )
    assert [c.control_number for c in items if isinstance(c, Claim)] == ["0001", "0001", "0002"]


def _fields(claim: Claim) -> dict[str, object]:
    return {name: getattr(claim, name) for name in claim.__dataclass_fields__}


def test_delimiters_in_data_are_refused() -> None:
    bad = Claim(**{**_fields(_professional()), "patient_control_number": "A*B"})
    with pytest.raises(ValueError, match="delimiter"):
        write_x12([bad])


@pytest.mark.parametrize("path", SAMPLE_FILES or [None], ids=lambda p: getattr(p, "name", "absent"))
def test_reference_samples_survive_write_and_read(path: object) -> None:
    if path is None:
        pytest.skip("reference samples absent")
    claims = [c for c in read_x12(path) if isinstance(c, Claim)]  # type: ignore[arg-type]
    assert _round_trip(claims) == claims


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(claim_strategy(), min_size=1, max_size=5))
def test_property_round_trip(claims: list[Claim]) -> None:
    assert _round_trip(claims) == _by_kind(claims)
