"""What both Optum claim documents share above the provider level: people, headers, line parts.

Why here: the professional and institutional documents spell the subscriber and dependent, the
request header (control number, trading partner), the five ``claimInformation`` properties that
start every claim, the 2300 REF numbers and the amounts, dates and drug of a service line the same
way, and the domain reads them the same way.  Each document's module keeps its own models (their
property sets differ; see the ``UNMODELLED`` lists) and calls these helpers for the common part,
so a difference between the documents is always spelled out in that document's module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, TypedDict

from claims.model import Claim, Party, Person, ServiceLine
from claims.optum._base import Address, Code, OptumDate, OptumModel, fmt_date, fmt_decimal

__all__ = [
    "ClaimHead",
    "ClaimSupplementalNumbers",
    "LineParts",
    "SubscriberFields",
    "address_fields",
    "address_json",
    "claim_head",
    "claim_information_head_json",
    "dates_json",
    "dependent_json",
    "drug_json",
    "line_head_json",
    "line_parts",
    "person_json",
    "present",
    "request_head_json",
    "service_amounts_json",
    "subscriber_json",
    "to_person",
]


# ---------------------------------------------------------------------------------------------
# people


class _PersonParts(Protocol):
    @property
    def first_name(self) -> str | None: ...
    @property
    def last_name(self) -> str | None: ...
    @property
    def middle_name(self) -> str | None: ...
    @property
    def gender(self) -> str | None: ...
    @property
    def date_of_birth(self) -> date | None: ...
    @property
    def address(self) -> Address | None: ...


def address_fields(address: Address | None) -> dict[str, str]:
    """The ``Person`` keyword arguments held by an ``Address``."""
    if address is None:
        return {}
    return {
        "address_line": address.address1,
        "city": address.city,
        "state": address.state or "",
        "postal_code": address.postal_code or "",
    }


def to_person(parts: _PersonParts, member_id: str | None = None) -> Person:
    """A subscriber or dependent object as a domain person."""
    return Person(
        last_name=parts.last_name or "",
        first_name=parts.first_name or "",
        middle_name=parts.middle_name or "",
        member_id=member_id or "",
        birth_date=parts.date_of_birth,
        sex=parts.gender or "",
        **address_fields(parts.address),
    )


class SubscriberFields(OptumModel):
    """``Subscriber`` (2010BA) properties both documents read, in Optum's order.

    The names are optional here (the professional document allows an organization subscriber);
    the institutional ``Subscriber`` narrows them to required.
    """

    member_id: str | None = None
    payment_responsibility_level_code: Code
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    gender: Code | None = None
    date_of_birth: OptumDate | None = None
    address: Address | None = None

    def to_domain(self) -> Person:
        """The subscriber as a domain person."""
        return to_person(self, self.member_id)


def address_json(person: Person) -> dict[str, str] | None:
    """The ``address`` object of a person, or None when the domain has no address parts."""
    if not (person.address_line or person.city or person.state or person.postal_code):
        return None
    out = {"address1": person.address_line, "city": person.city}
    if person.state:
        out["state"] = person.state
    if person.postal_code:
        out["postalCode"] = person.postal_code
    return out


def person_json(person: Person, *, names_required: bool) -> dict[str, Any]:
    """The name, gender, birth date and address properties shared by subscriber and dependent."""
    out: dict[str, Any] = {
        key: value
        for key, value in (
            ("firstName", person.first_name),
            ("lastName", person.last_name),
            ("middleName", person.middle_name),
        )
        if value or (names_required and key != "middleName")
    }
    if person.sex:
        out["gender"] = person.sex
    if person.birth_date is not None:
        out["dateOfBirth"] = fmt_date(person.birth_date)
    address = address_json(person)
    if address is not None:
        out["address"] = address
    return out


def subscriber_json(claim: Claim, *, names_required: bool) -> dict[str, Any]:
    """The ``subscriber`` object; ``names_required`` writes empty names the document requires."""
    out: dict[str, Any] = {"paymentResponsibilityLevelCode": claim.payment_responsibility}
    if claim.subscriber.member_id:
        out["memberId"] = claim.subscriber.member_id
    out.update(person_json(claim.subscriber, names_required=names_required))
    return out


def dependent_json(claim: Claim, patient: Person, *, member_id: bool) -> dict[str, Any]:
    """The ``dependent`` object; ``member_id`` is False where the document has no patient id."""
    out = person_json(patient, names_required=True)
    out["gender"] = patient.sex
    if member_id and patient.member_id:
        out["memberId"] = patient.member_id
    out["relationshipToSubscriberCode"] = claim.relationship_code
    return out


# ---------------------------------------------------------------------------------------------
# the claim header


class _Subscriber(Protocol):
    @property
    def payment_responsibility_level_code(self) -> str: ...
    def to_domain(self) -> Person: ...


class _Dependent(Protocol):
    @property
    def relationship_to_subscriber_code(self) -> str: ...
    def to_domain(self) -> Person: ...


class _Request(Protocol):
    @property
    def control_number(self) -> str: ...
    @property
    def trading_partner_service_id(self) -> str | None: ...
    @property
    def trading_partner_name(self) -> str | None: ...
    @property
    def subscriber(self) -> _Subscriber: ...
    @property
    def dependent(self) -> _Dependent | None: ...


class _ClaimInformation(Protocol):
    @property
    def claim_filing_code(self) -> str: ...
    @property
    def patient_control_number(self) -> str: ...
    @property
    def claim_charge_amount(self) -> Decimal: ...
    @property
    def place_of_service_code(self) -> str: ...
    @property
    def claim_frequency_code(self) -> str: ...
    @property
    def delay_reason_code(self) -> str | None: ...


class ClaimSupplementalNumbers(OptumModel):
    """The 2300 REF numbers of ``ClaimSupplementalInformation`` that both documents have."""

    prior_authorization_number: str | None = None
    referral_number: str | None = None
    claim_control_number: str | None = None  # REF*F8, the claim being replaced or voided


class ClaimHead(TypedDict):
    """The ``Claim`` fields both documents carry in the same properties."""

    control_number: str
    patient_control_number: str
    total_charge: Decimal
    facility_code: str
    frequency_code: str
    claim_filing_code: str
    payer: Party
    subscriber: Person
    payment_responsibility: str
    patient: Person | None
    relationship_code: str
    prior_authorization: str
    referral_number: str
    original_reference_number: str
    delay_reason_code: str


def claim_head(
    request: _Request, ci: _ClaimInformation, supp: ClaimSupplementalNumbers
) -> ClaimHead:
    """The common ``Claim`` fields of a request; the document's module adds the rest."""
    dependent = request.dependent
    return ClaimHead(
        control_number=request.control_number,
        patient_control_number=ci.patient_control_number,
        total_charge=ci.claim_charge_amount,
        facility_code=ci.place_of_service_code,
        frequency_code=ci.claim_frequency_code,
        claim_filing_code=ci.claim_filing_code,
        payer=Party(
            name=request.trading_partner_name or "",
            identifier=request.trading_partner_service_id or "",
        ),
        subscriber=request.subscriber.to_domain(),
        payment_responsibility=request.subscriber.payment_responsibility_level_code,
        patient=dependent.to_domain() if dependent else None,
        relationship_code=dependent.relationship_to_subscriber_code if dependent else "18",
        prior_authorization=supp.prior_authorization_number or "",
        referral_number=supp.referral_number or "",
        original_reference_number=supp.claim_control_number or "",
        delay_reason_code=ci.delay_reason_code or "",
    )


def present(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The ``(property, value)`` pairs whose value is not empty, as a JSON object."""
    return {key: value for key, value in pairs if value}


def dates_json(pairs: Iterable[tuple[str, date | None]]) -> dict[str, str]:
    """The ``(property, date)`` pairs whose date is set, as ``YYYYMMDD`` in a JSON object."""
    return {key: fmt_date(value) for key, value in pairs if value is not None}


def request_head_json(claim: Claim) -> dict[str, Any]:
    """``controlNumber`` and the trading partner (the payer), which start both requests."""
    out: dict[str, Any] = {"controlNumber": claim.control_number}
    if claim.payer.identifier:
        out["tradingPartnerServiceId"] = claim.payer.identifier
    if claim.payer.name:
        out["tradingPartnerName"] = claim.payer.name
    return out


def claim_information_head_json(claim: Claim) -> dict[str, Any]:
    """The CLM properties that start both documents' ``claimInformation``."""
    return {
        "claimFilingCode": claim.claim_filing_code,
        "patientControlNumber": claim.patient_control_number,
        "claimChargeAmount": fmt_decimal(claim.total_charge),
        "placeOfServiceCode": claim.facility_code,
        "claimFrequencyCode": claim.frequency_code,
    }


# ---------------------------------------------------------------------------------------------
# service lines


class _Line(Protocol):
    @property
    def service_date(self) -> date | None: ...
    @property
    def service_date_end(self) -> date | None: ...


class _Service(Protocol):
    @property
    def procedure_modifiers(self) -> Sequence[str] | None: ...
    @property
    def description(self) -> str | None: ...
    @property
    def line_item_charge_amount(self) -> Decimal: ...
    @property
    def measurement_unit(self) -> str: ...
    @property
    def service_unit_count(self) -> Decimal: ...


class _Drug(Protocol):
    @property
    def national_drug_code(self) -> str: ...
    @property
    def national_drug_unit_count(self) -> Decimal | None: ...
    @property
    def measurement_unit_code(self) -> str: ...


class LineParts(TypedDict):
    """The ``ServiceLine`` fields both documents carry in the same properties."""

    charge: Decimal
    units: Decimal
    modifiers: tuple[str, ...]
    unit_type: str
    service_date: date | None
    service_date_end: date | None
    ndc: str
    ndc_quantity: Decimal | None
    ndc_unit: str
    description: str


def line_parts(line: _Line, svc: _Service, drug: _Drug | None) -> LineParts:
    """The common ``ServiceLine`` fields of a line, its SV1/SV2 and its drug (LIN/CTP)."""
    return LineParts(
        charge=svc.line_item_charge_amount,
        units=svc.service_unit_count,
        modifiers=tuple(svc.procedure_modifiers or ()),
        unit_type=svc.measurement_unit,
        service_date=line.service_date,
        service_date_end=line.service_date_end,
        ndc=drug.national_drug_code if drug else "",
        ndc_quantity=drug.national_drug_unit_count if drug else None,
        ndc_unit=drug.measurement_unit_code if drug else "",
        description=svc.description or "",
    )


def service_amounts_json(line: ServiceLine, svc: dict[str, Any]) -> None:
    """Add modifiers, description, charge, unit and count to an SV1/SV2 object, in Optum's order."""
    if line.modifiers:
        svc["procedureModifiers"] = list(line.modifiers)
    if line.description:
        svc["description"] = line.description
    svc["lineItemChargeAmount"] = fmt_decimal(line.charge)
    svc["measurementUnit"] = line.unit_type
    svc["serviceUnitCount"] = fmt_decimal(line.units)


def line_head_json(line: ServiceLine) -> dict[str, Any]:
    """``assignedNumber`` and the service dates, which start both documents' line objects."""
    out: dict[str, Any] = {"assignedNumber": str(line.number)}
    if line.service_date is not None:
        out["serviceDate"] = fmt_date(line.service_date)
    if line.service_date_end is not None:
        out["serviceDateEnd"] = fmt_date(line.service_date_end)
    return out


def drug_json(line: ServiceLine, *, qualifier: bool) -> dict[str, str] | None:
    """The ``drugIdentification`` object, or None; ``qualifier``: write ``serviceIdQualifier``."""
    if not (line.ndc or line.ndc_quantity is not None or line.ndc_unit):
        return None
    drug = {"serviceIdQualifier": "N4"} if qualifier else {}
    drug["nationalDrugCode"] = line.ndc
    if line.ndc_quantity is not None:
        drug["nationalDrugUnitCount"] = fmt_decimal(line.ndc_quantity)
    drug["measurementUnitCode"] = line.ndc_unit
    return drug
