from datetime import date
from decimal import Decimal

from hypothesis import given

from claims.model import Claim, ClaimKind, Person, Provider, ProviderRole, ServiceLine
from tests.claims.strategies import claims


def _claim(kind: ClaimKind, **kw: object) -> Claim:
    base: dict[str, object] = {
        "kind": kind,
        "control_number": "0001",
        "patient_control_number": "PCN1",
        "total_charge": Decimal("10.00"),
        "facility_code": "13" if kind is ClaimKind.INSTITUTIONAL else "11",
        "frequency_code": "1",
    }
    base.update(kw)
    return Claim(**base)  # type: ignore[arg-type]


def test_type_of_bill_is_facility_plus_frequency_on_institutional_claims_only() -> None:
    assert _claim(ClaimKind.INSTITUTIONAL).type_of_bill == "131"
    assert _claim(ClaimKind.PROFESSIONAL).type_of_bill == ""
    assert _claim(ClaimKind.PROFESSIONAL).place_of_service == "11"
    assert _claim(ClaimKind.INSTITUTIONAL).place_of_service == ""


def test_first_service_date_prefers_lines_then_statement_start() -> None:
    lines = (
        ServiceLine(1, Decimal(5), Decimal(1), "99213", service_date=date(2025, 3, 2)),
        ServiceLine(2, Decimal(5), Decimal(1), "99214", service_date=date(2025, 3, 1)),
    )
    assert _claim(ClaimKind.PROFESSIONAL, lines=lines).first_service_date == date(2025, 3, 1)
    inst = _claim(ClaimKind.INSTITUTIONAL, statement_from=date(2025, 1, 5))
    assert inst.first_service_date == date(2025, 1, 5)


def test_member_is_patient_when_present_else_subscriber() -> None:
    sub, pat = Person(last_name="A"), Person(last_name="B")
    assert _claim(ClaimKind.PROFESSIONAL, subscriber=sub).member is sub
    assert _claim(ClaimKind.PROFESSIONAL, subscriber=sub, patient=pat).member is pat


def test_provider_by_role() -> None:
    billing = Provider(ProviderRole.BILLING, npi="1234567893")
    claim = _claim(ClaimKind.PROFESSIONAL, providers=(billing,))
    assert claim.provider(ProviderRole.BILLING) is billing
    assert claim.provider(ProviderRole.RENDERING) is None


@given(claims())
def test_generated_claims_are_internally_consistent(claim: Claim) -> None:
    assert claim.total_charge == sum((ln.charge for ln in claim.lines), Decimal(0))
    assert [ln.number for ln in claim.lines] == list(range(1, len(claim.lines) + 1))
    assert claim.provider(ProviderRole.BILLING) is not None
