"""The professional claim envelope the X12 and end-to-end benchmarks generate around their lines.

One place for the parties, subscriber, providers and diagnoses, so that the two benchmarks read
and scrub claims of the same shape and differ only in their service lines and deliberate defects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from claims.model import (
    Claim,
    ClaimKind,
    Diagnosis,
    DiagnosisRole,
    Party,
    Person,
    Provider,
    ProviderRole,
    ServiceLine,
)

BILLING = Provider(ProviderRole.BILLING, "1234567893", "207Q00000X", "2", "CLINIC", "", "1")
RENDERING = Provider(ProviderRole.RENDERING, "1999996666", "", "1", "SMITH", "ANN")


def professional_claim(
    i: int,
    lines: tuple[ServiceLine, ...],
    *,
    control_number: str,
    diagnoses: Sequence[str],
    total: Decimal | None = None,
) -> Claim:
    """Claim number ``i``: one subscriber per claim, shared providers, the given diagnosis codes.

    ``total`` defaults to the sum of the line charges (a clean claim).
    """
    principal, *others = diagnoses
    return Claim(
        kind=ClaimKind.PROFESSIONAL,
        control_number=control_number,
        patient_control_number=f"PCN{i:08d}",
        total_charge=total if total is not None else sum((ln.charge for ln in lines), Decimal(0)),
        facility_code="11",
        frequency_code="1",
        claim_filing_code="CI",
        payer=Party("ACME HEALTH", "60054"),
        submitter=Party("CLINIC BILLING", "S1"),
        receiver=Party("CLEARINGHOUSE", "R1"),
        subscriber=Person(
            f"LAST{i % 997}",
            f"FIRST{i % 101}",
            member_id=f"M{i:09d}",
            birth_date=date(1940 + i % 60, 1 + i % 12, 1 + i % 28),
            sex="MF"[i % 2],
        ),
        providers=(BILLING, RENDERING),
        diagnoses=(
            Diagnosis(principal, DiagnosisRole.PRINCIPAL),
            *(Diagnosis(code, DiagnosisRole.OTHER) for code in others),
        ),
        lines=lines,
    )
