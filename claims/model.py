"""Plain, typed domain objects for professional and institutional claims.

Why plain dataclasses and not pydantic: the domain is the contract between the X12 reader, the
JSON boundary, the rule compiler (field names and types) and the evaluators.  Validation of
untrusted input happens once, at the boundary (``claims.optum`` and ``claims.x12``); inside, objects
are frozen and cheap to build (the X12 reader builds millions of them).

Codes are kept as the strings the claim carries (upper case, no dots); money is ``Decimal`` so that
totals compare exactly; dates are ``datetime.date``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "Claim",
    "ClaimKind",
    "CodeAmount",
    "CodeDate",
    "CodeSpan",
    "Diagnosis",
    "DiagnosisRole",
    "Party",
    "Person",
    "Procedure",
    "Provider",
    "ProviderRole",
    "ServiceLine",
    "SourceLocation",
]


class ClaimKind(StrEnum):
    """Which 837 implementation (and which Optum API) a claim belongs to."""

    PROFESSIONAL = "professional"  # 837P / CMS-1500
    INSTITUTIONAL = "institutional"  # 837I / UB-04


class DiagnosisRole(StrEnum):
    """The part a diagnosis plays on the claim (from the HI qualifier: ABK/ABF/ABJ/APR/ABN)."""

    PRINCIPAL = "principal"
    OTHER = "other"
    ADMITTING = "admitting"
    REASON_FOR_VISIT = "reason_for_visit"
    EXTERNAL_CAUSE = "external_cause"


class ProviderRole(StrEnum):
    """Provider roles by 837 loop (2010AA, 2310A-F, 2420A-H)."""

    BILLING = "billing"
    PAY_TO = "pay_to"
    RENDERING = "rendering"
    REFERRING = "referring"
    ATTENDING = "attending"
    OPERATING = "operating"
    OTHER_OPERATING = "other_operating"
    SERVICE_FACILITY = "service_facility"
    SUPERVISING = "supervising"
    ORDERING = "ordering"
    PURCHASED_SERVICE = "purchased_service"


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where an object came from in an X12 file, so an edit can say ``2400 SV1``.

    ``segment_number`` is the 1-based position of the segment inside its transaction set (ST is 1),
    which is how 999/277CA acknowledgements locate an error.
    """

    loop: str
    segment_id: str
    segment_number: int
    transaction_control_number: str = ""

    def __str__(self) -> str:
        return f"{self.loop} {self.segment_id}"


@dataclass(frozen=True, slots=True)
class Person:
    """A subscriber or patient: only what scrubbing and round trips need.  All of it is PHI."""

    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    member_id: str = ""
    birth_date: date | None = None
    sex: str = ""  # DMG03: M, F, U
    address_line: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""


@dataclass(frozen=True, slots=True)
class Party:
    """An organization in the envelope: submitter, receiver or payer."""

    name: str = ""
    identifier: str = ""


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider in one role.  ``entity_type`` is NM102: 1 person, 2 organization."""

    role: ProviderRole
    npi: str = ""
    taxonomy: str = ""
    entity_type: str = "2"
    last_name: str = ""  # or the organization name
    first_name: str = ""
    tax_id: str = ""  # EIN (REF*EI) or SSN (REF*SY) of the billing provider


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One diagnosis code.  ``icd9`` is true for BK/BF-style ICD-9 qualifiers (pre-2015 claims)."""

    code: str
    role: DiagnosisRole
    poa: str = ""  # present on admission: Y, N, U, W, 1 or empty
    icd9: bool = False


@dataclass(frozen=True, slots=True)
class Procedure:
    """An ICD-10-PCS (or ICD-9 volume 3) procedure on an institutional claim."""

    code: str
    date: date | None = None
    principal: bool = False
    icd9: bool = False


@dataclass(frozen=True, slots=True)
class CodeDate:
    """An occurrence code with its date (UB-04 FL 31-34)."""

    code: str
    date: date


@dataclass(frozen=True, slots=True)
class CodeSpan:
    """An occurrence span code with its from/through dates (UB-04 FL 35-36)."""

    code: str
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class CodeAmount:
    """A value code with its amount (UB-04 FL 39-41)."""

    code: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """One service line (2400 loop).

    Institutional lines carry a revenue code; their HCPCS code is optional.
    """

    number: int
    charge: Decimal
    units: Decimal
    procedure_code: str = ""
    procedure_qualifier: str = "HC"  # HC (CPT/HCPCS), ER, IV, WK, N4 ...
    modifiers: tuple[str, ...] = ()
    revenue_code: str = ""
    unit_type: str = "UN"  # UN units, MJ minutes, DA days, F2 international units
    service_date: date | None = None
    service_date_end: date | None = None
    place_of_service: str = ""  # SV105, only when it differs from the claim's
    diagnosis_pointers: tuple[int, ...] = ()  # 1-based into the claim's diagnosis list
    emergency: bool = False
    ndc: str = ""
    ndc_quantity: Decimal | None = None
    ndc_unit: str = ""
    description: str = ""
    providers: tuple[Provider, ...] = ()  # one per role, in ProviderRole order
    # 837P 2400 REF*G1 (up to 5): authorizations for this service (the claim's own is REF*G1 in
    # 2300); 837I lines have none
    prior_authorizations: tuple[str, ...] = ()
    source: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Claim:
    """One claim (one CLM segment and everything under it), of either kind.

    ``facility_code`` is CLM05-1: the place of service on a professional claim, the facility type
    code (first two digits of the type of bill) on an institutional one.  ``control_number`` is the
    transaction set control number (ST02) or the JSON ``controlNumber``.
    """

    kind: ClaimKind
    control_number: str
    patient_control_number: str
    total_charge: Decimal
    facility_code: str
    frequency_code: str
    claim_filing_code: str = ""
    payer: Party = Party()
    submitter: Party = Party()
    receiver: Party = Party()
    subscriber: Person = Person()
    payment_responsibility: str = "P"  # SBR01: P primary, S secondary, T tertiary ...
    patient: Person | None = None  # None when the patient is the subscriber
    relationship_code: str = "18"  # 18 self; otherwise PAT01 (01 spouse, 19 child, ...)
    providers: tuple[Provider, ...] = ()  # one per role, in ProviderRole order
    diagnoses: tuple[Diagnosis, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    statement_from: date | None = None
    statement_to: date | None = None
    admission_date: date | None = None
    discharge_date: date | None = None
    onset_date: date | None = None
    admission_type_code: str = ""
    admission_source_code: str = ""
    patient_status_code: str = ""
    condition_codes: tuple[str, ...] = ()
    occurrence_codes: tuple[CodeDate, ...] = ()
    occurrence_spans: tuple[CodeSpan, ...] = ()
    value_codes: tuple[CodeAmount, ...] = ()
    prior_authorization: str = ""
    referral_number: str = ""
    original_reference_number: str = ""  # REF*F8, required for frequency 7 and 8
    related_causes: tuple[str, ...] = ()  # CLM11: AA auto accident, EM employment, OA other
    auto_accident_state: str = ""
    delay_reason_code: str = ""
    lines: tuple[ServiceLine, ...] = ()
    source: SourceLocation | None = field(default=None, compare=False)

    @property
    def place_of_service(self) -> str:
        """The claim-level place of service (professional claims only)."""
        return self.facility_code if self.kind is ClaimKind.PROFESSIONAL else ""

    @property
    def type_of_bill(self) -> str:
        """The three-character type of bill (facility type + frequency), institutional only."""
        if self.kind is not ClaimKind.INSTITUTIONAL:
            return ""
        return f"{self.facility_code}{self.frequency_code}"

    @property
    def member(self) -> Person:
        """The person the services were for: the patient if given, else the subscriber."""
        return self.patient if self.patient is not None else self.subscriber

    @property
    def first_service_date(self) -> date | None:
        """The earliest date of service: line dates, else the statement period start."""
        dates = [ln.service_date for ln in self.lines if ln.service_date is not None]
        if dates:
            return min(dates)
        return self.statement_from

    def provider(self, role: ProviderRole) -> Provider | None:
        """The claim-level provider in ``role``, if any."""
        for p in self.providers:
            if p.role is role:
                return p
        return None
