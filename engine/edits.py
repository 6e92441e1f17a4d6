"""The edit record both evaluators produce, and where its ``field`` points in Optum JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from claims.model import Claim, ClaimKind, DiagnosisRole
from dsl.diagnostics import Span
from dsl.ir import FieldInfo, FieldRoot

__all__ = ["Edit", "edit_location", "optum_path", "span_text"]


@dataclass(frozen=True, slots=True)
class Edit:
    """One finding of one rule on one subject of one claim.

    ``field`` is a JSON path in Optum naming; ``value`` is the offending value as a string (``""``
    for
    protected health information); ``location`` is the X12 loop and segment (``2400 SV1``) when the
    claim came from X12; ``lines`` are 1-based positions of the service lines involved.
    ``explanation`` (only when asked for) maps each field the rule reads to its value on the
    subject,
    and lists the table rows the firing condition matched under ``"rows"``.
    """

    claim_index: int
    rule_id: str
    pack: str
    pack_version: str
    category: str
    severity: str
    message: str
    field: str
    value: str
    location: str
    lines: tuple[int, ...]
    diagnosis: str
    action: str
    allow_override: bool
    rule_span: str
    explanation: Mapping[str, object] | None = None


def span_text(span: Span) -> str:
    """``file:line:col``."""
    return f"{span.file}:{span.line}:{span.column}"


_CLAIM: Final[Mapping[str, str]] = {
    "total_charge": "claimChargeAmount",
    "facility_code": "placeOfServiceCode",
    "place_of_service": "placeOfServiceCode",
    "type_of_bill": "placeOfServiceCode",
    "frequency_code": "claimFrequencyCode",
    "claim_filing_code": "claimFilingCode",
    "patient_control_number": "patientControlNumber",
    "statement_from": "claimDateInformation.statementBeginDate",
    "statement_to": "claimDateInformation.statementEndDate",
    "admission_date": "claimDateInformation.admissionDate",
    "discharge_date": "claimDateInformation.dischargeDate",
    "onset_date": "claimDateInformation.symptomDate",
    "admission_type_code": "claimCodeInformation.admissionTypeCode",
    "admission_source_code": "claimCodeInformation.admissionSourceCode",
    "patient_status_code": "claimCodeInformation.patientStatusCode",
    "condition_codes": "conditionCodes",
    "related_causes": "relatedCausesCode",
    "value_codes": "valueInformationList",
    "occurrence_codes": "occurrenceInformationList",
    "occurrence_spans": "occurrenceSpanInformations",
    "auto_accident_state": "autoAccidentStateCode",
    "delay_reason_code": "delayReasonCode",
    "prior_authorization": "claimSupplementalInformation.priorAuthorizationNumber",
    "referral_number": "claimSupplementalInformation.referralNumber",
    "original_reference_number": "claimSupplementalInformation.claimNumber",
    "first_service_date": "serviceLines[0].serviceDate",
}
_PERSON: Final[Mapping[str, str]] = {
    "last_name": "lastName",
    "first_name": "firstName",
    "middle_name": "middleName",
    "member_id": "memberId",
    "birth_date": "dateOfBirth",
    "sex": "gender",
    "address_line": "address.address1",
    "city": "address.city",
    "state": "address.state",
    "postal_code": "address.postalCode",
    "age": "dateOfBirth",
}
_PROVIDER: Final[Mapping[str, str]] = {
    "npi": "npi",
    "taxonomy": "taxonomyCode",
    "entity_type": "providerType",
    "last_name": "lastName",
    "first_name": "firstName",
    "tax_id": "employerId",
}
_PROVIDER_KEY: Final[Mapping[str, str]] = {
    "operating": "operatingPhysician",
    "other_operating": "otherOperatingPhysician",
    "pay_to": "payToAddress",
    "service_facility": "claimInformation.serviceFacilityLocation",
    "purchased_service": "purchasedServiceProvider",
}
_LINE_TOP: Final[Mapping[str, str]] = {
    "number": "assignedNumber",
    "service_date": "serviceDate",
    "service_date_end": "serviceDateEnd",
    "ndc": "drugIdentification.nationalDrugCode",
    "ndc_quantity": "drugIdentification.nationalDrugUnitCount",
    "ndc_unit": "drugIdentification.measurementUnitCode",
    "prior_authorizations": "serviceLineReferenceInformation.priorAuthorization",
}
_LINE_SERVICE: Final[Mapping[str, str]] = {
    "procedure_code": "procedureCode",
    "procedure_qualifier": "procedureIdentifier",
    "modifiers": "procedureModifiers",
    "charge": "lineItemChargeAmount",
    "units": "serviceUnitCount",
    "unit_type": "measurementUnit",
    "place_of_service": "placeOfServiceCode",
    "emergency": "emergencyIndicator",
    "description": "description",
    "revenue_code": "serviceLineRevenueCode",
    "diagnosis_pointers": "compositeDiagnosisCodePointers.diagnosisCodePointers",
}
_INSTITUTIONAL_DX: Final[Mapping[DiagnosisRole, tuple[str, str]]] = {
    DiagnosisRole.PRINCIPAL: ("principalDiagnosis", "principalDiagnosisCode"),
    DiagnosisRole.ADMITTING: ("admittingDiagnosis", "admittingDiagnosisCode"),
    DiagnosisRole.REASON_FOR_VISIT: ("patientReasonForVisits[]", "patientReasonForVisitCode"),
    DiagnosisRole.EXTERNAL_CAUSE: ("externalCauseOfInjuries[]", "externalCauseOfInjury"),
    DiagnosisRole.OTHER: ("otherDiagnosisInformationList[]", "otherDiagnosisCode"),
}


def optum_path(claim: Claim, info: FieldInfo, line: int = -1, dx: int = -1) -> str:
    """The Optum JSON path of field ``info`` (on line position ``line`` / diagnosis ``dx``)."""
    attr = info.attribute[-1] if info.attribute else ""
    root = info.root
    if info.attribute == ("payer", "identifier"):
        return "tradingPartnerServiceId"
    if root is FieldRoot.CLAIM:
        return "claimInformation." + _CLAIM.get(attr, attr)
    if root is FieldRoot.SUBSCRIBER:
        return "subscriber." + _PERSON.get(attr, attr)
    if root is FieldRoot.PATIENT:
        who = "subscriber" if claim.patient is None else "dependent"
        return f"{who}.{_PERSON.get(attr, attr)}"
    if root is FieldRoot.PROVIDER:
        key = _PROVIDER_KEY.get(info.provider_role, info.provider_role)
        return f"{key}.{_PROVIDER.get(attr, attr)}"
    if root is FieldRoot.LINE:
        base = f"claimInformation.serviceLines[{max(line, 0)}]"
        if attr in _LINE_TOP:
            return f"{base}.{_LINE_TOP[attr]}"
        service = (
            "professionalService"
            if claim.kind is ClaimKind.PROFESSIONAL
            else "institutionalService"
        )
        return f"{base}.{service}.{_LINE_SERVICE.get(attr, attr)}"
    return _dx_path(claim, attr, dx)


def _dx_path(claim: Claim, attr: str, dx: int) -> str:
    if dx < 0 or dx >= len(claim.diagnoses):
        return "claimInformation"
    if claim.kind is ClaimKind.PROFESSIONAL:
        return f"claimInformation.healthCareCodeInformation[{dx}].diagnosisCode"
    role = claim.diagnoses[dx].role
    container, leaf = _INSTITUTIONAL_DX[role]
    if container.endswith("[]"):
        k = sum(1 for d in claim.diagnoses[:dx] if d.role is role)
        container = f"{container[:-2]}[{k}]"
    if attr == "poa":
        leaf = "presentOnAdmissionIndicator"
    return f"claimInformation.{container}.{leaf}"


def edit_location(claim: Claim, line_pos: int, dx_pos: int) -> str:
    """Where an edit's subject sits in the X12 file (``2400 SV1``, ``2300 HI``), or "".

    A line's own segment when the edit is about a line; the HI segment of the claim for a
    diagnosis (every 837 diagnosis is an HI composite in loop 2300); the claim's CLM otherwise.
    Claims that did not come from X12 have no location.
    """
    source = claim.lines[line_pos].source if line_pos >= 0 else None
    if source is None:
        source = claim.source
    if source is None:
        return ""
    if dx_pos >= 0 and line_pos < 0:
        return f"{source.loop} HI"
    return str(source)
