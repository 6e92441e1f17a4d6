"""Optum Institutional Claims v1 JSON (``InstitutionalClaimsRequest``) ↔ domain ``Claim`` (837I).

Institutional specifics:

* ``claimInformation.placeOfServiceCode`` carries the facility type code (the first two digits of
  the type of bill), i.e. ``Claim.facility_code``; the third digit is ``claimFrequencyCode``.
* Diagnoses come in one object or list per role.  Domain order is the 837I HI order:
  principal, admitting, reasons for visit, external causes, others (``DIAGNOSIS_ORDER``).
* Optum's ``...List`` properties are lists of HI segments (lists of lists of at most 12 items);
  the grouping is flattened on the way in and re-made on the way out.
* ``submitter.taxId`` / ``receiver.taxId`` are NM109 (NM108=46), the domain's ``Party.identifier``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import field_validator

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
from claims.optum._base import (
    DX_QUALIFIERS,
    Address,
    Amount,
    Code,
    IcdCode,
    LineNumber,
    ListCode,
    OptumDate,
    OptumDateHour,
    OptumModel,
    Quantity,
    chunks,
    dx_qualifier,
    flatten,
    fmt_date,
    fmt_decimal,
    names,
)
from claims.optum._providers import (
    PROVIDER_TYPE_OF,
    ProviderName,
    TaxonomyProvider,
    claim_providers,
    claim_providers_json,
    facility_provider,
    line_providers,
    line_providers_json,
    provider_json,
    unique_provider_types,
)
from claims.optum._shared import (
    ClaimSupplementalNumbers,
    SubscriberFields,
    claim_head,
    claim_information_head_json,
    dates_json,
    dependent_json,
    drug_json,
    line_head_json,
    line_parts,
    present,
    request_head_json,
    service_amounts_json,
    subscriber_json,
    to_person,
)

__all__ = ["DIAGNOSIS_ORDER", "InstitutionalClaimRequest", "institutional_json"]

#: The order of ``Claim.diagnoses`` read from institutional JSON (the 837I HI segment order).
DIAGNOSIS_ORDER: tuple[DiagnosisRole, ...] = (
    DiagnosisRole.PRINCIPAL,
    DiagnosisRole.ADMITTING,
    DiagnosisRole.REASON_FOR_VISIT,
    DiagnosisRole.EXTERNAL_CAUSE,
    DiagnosisRole.OTHER,
)

_PROVIDER_UNMODELLED = names(
    "secondaryIdentificationQualifierCode secondaryIdentifier commercialNumber locationNumber"
    " stateLicenseNumber providerUpinNumber middleName suffix address contactInformation"
)


class InstitutionalProvider(TaxonomyProvider):
    """``billing``, ``referring``, ``rendering``, ``attending`` (role from the property name)."""

    UNMODELLED = _PROVIDER_UNMODELLED


class InstitutionalProviderEntry(InstitutionalProvider):
    """An item of the top-level ``providers[]``, which overrides the named properties."""

    provider_type: Literal[  # narrows the parent's str
        "BillingProvider", "AttendingProvider", "ReferringProvider", "RenderingProvider"
    ]


class InstitutionalLineProvider(InstitutionalProvider):
    """``ServiceLineProvider`` (2420A-D)."""

    UNMODELLED = _PROVIDER_UNMODELLED | names("referenceIdentification")


class OperatingPhysician(ProviderName):
    """``operatingPhysician`` / ``otherOperatingPhysician``: no taxonomy, no tax id."""

    UNMODELLED = names("identificationQualifierCode secondaryIdentifier middleName suffix")

    def to_domain(self, role: ProviderRole) -> Provider:
        """The domain provider in ``role``."""
        return self.to_provider(role)


class ServiceFacilityLocation(OptumModel):
    """``ServiceFacilityLocation`` (2310E); its NPI is ``identificationCode``."""

    UNMODELLED = names("address secondaryIdentificationQualifierCode secondaryIdentifier")

    organization_name: str
    identification_code: str | None = None

    def to_domain(self) -> Provider:
        """The domain ``SERVICE_FACILITY`` provider."""
        return facility_provider(self.organization_name, self.identification_code)


class Submitter(OptumModel):
    """``Submitter`` (1000A)."""

    UNMODELLED = names("contactInformation")

    organization_name: str
    tax_id: str | None = None


class Receiver(OptumModel):
    """``Receiver`` (1000B)."""

    organization_name: str
    tax_id: str | None = None


class Subscriber(SubscriberFields):
    """``Subscriber`` (2010BA)."""

    UNMODELLED = names("standardHealthId ssn suffix policyNumber groupNumber")

    first_name: str  # required here, optional in the professional document
    last_name: str


class Dependent(OptumModel):
    """``Dependent`` (2010CA).  The institutional document has no patient member id."""

    UNMODELLED = names("suffix ssn")

    first_name: str
    last_name: str
    middle_name: str | None = None
    gender: Code
    date_of_birth: OptumDate | None = None
    relationship_to_subscriber_code: Code
    address: Address | None = None

    def to_domain(self) -> Person:
        """The patient as a domain person."""
        return to_person(self)


class PrincipalDiagnosis(OptumModel):
    """``principalDiagnosis`` (HI*ABK)."""

    qualifier_code: Literal["ABK", "BK"]
    principal_diagnosis_code: IcdCode
    present_on_admission_indicator: Code | None = None


class AdmittingDiagnosis(OptumModel):
    """``admittingDiagnosis`` (HI*ABJ); no present-on-admission indicator."""

    qualifier_code: Literal["ABJ", "BJ"]
    admitting_diagnosis_code: IcdCode


class PatientReasonForVisit(OptumModel):
    """One ``patientReasonForVisits`` item (HI*APR)."""

    qualifier_code: Literal["APR", "PR"]
    patient_reason_for_visit_code: IcdCode


class ExternalCauseOfInjury(OptumModel):
    """One ``externalCauseOfInjuries`` item (HI*ABN)."""

    qualifier_code: Literal["ABN", "BN"]
    external_cause_of_injury: IcdCode
    present_on_admission_indicator: Code | None = None


class OtherDiagnosisInformation(OptumModel):
    """One other diagnosis (HI*ABF)."""

    qualifier_code: Literal["ABF", "BF"]
    other_diagnosis_code: IcdCode
    present_on_admission_indicator: Code | None = None


class PrincipalProcedureInformation(OptumModel):
    """``principalProcedureInformation`` (HI*BBR; ``CAH`` reads as ICD-10-PCS, not ICD-9)."""

    qualifier_code: Literal["BBR", "BR", "CAH"]
    principal_procedure_code: IcdCode
    principal_procedure_date: OptumDate | None = None


class OtherProcedureInformation(OptumModel):
    """One other procedure (HI*BBQ)."""

    qualifier_code: Literal["BBQ", "BQ"]
    other_procedure_code: IcdCode
    other_procedure_date: OptumDate | None = None


class OccurrenceSpanInformation(OptumModel):
    """One occurrence span (HI*BI, UB-04 FL 35-36)."""

    occurrence_span_code: ListCode
    occurrence_span_code_start_date: OptumDate
    occurrence_span_code_end_date: OptumDate


class OccurrenceInformation(OptumModel):
    """One occurrence (HI*BH, UB-04 FL 31-34); Optum reuses the span's property names."""

    occurrence_span_code: ListCode
    occurrence_span_code_date: OptumDate


class ValueInformation(OptumModel):
    """One value code and amount (HI*BE, UB-04 FL 39-41)."""

    value_code: ListCode
    value_code_amount: Amount


class ConditionInformation(OptumModel):
    """One condition code (HI*BG, UB-04 FL 18-28)."""

    condition_code: ListCode


class ClaimDateInformation(OptumModel):
    """``ClaimDateInformation``: statement period and admission (the hour is not kept)."""

    UNMODELLED = names("dischargeHour repricerReceivedDate")

    admission_date_and_hour: OptumDateHour | None = None
    statement_begin_date: OptumDate | None = None
    statement_end_date: OptumDate | None = None


class ClaimCodeInformation(OptumModel):
    """``ClaimCodeInformation`` (CL1)."""

    admission_type_code: Code
    admission_source_code: Code | None = None
    patient_status_code: Code


class ClaimSupplementalInformation(ClaimSupplementalNumbers):
    """``ClaimSupplementalInformation``: 2300 REF numbers the domain keeps."""

    UNMODELLED = names(
        "reportInformation repricedClaimNumber investigationalDeviceExemptionNumber claimNumber"
        " medicalRecordNumber demoProjectIdentifier serviceAuthorizationExceptionCode"
        " peerReviewAuthorizationNumber adjustedRepricedClaimRefNumber"
    )

    auto_accident_state: Code | None = None  # REF*LU


class InstitutionalService(OptumModel):
    """``InstitutionalService`` (SV2)."""

    UNMODELLED = names("nonCoveredChargeAmount")

    service_line_revenue_code: Code
    procedure_identifier: Code | None = None
    procedure_code: Code | None = None
    procedure_modifiers: list[ListCode] | None = None
    description: str | None = None
    line_item_charge_amount: Amount
    measurement_unit: Code
    service_unit_count: Quantity


class DrugIdentification(OptumModel):
    """``DrugIdentification`` (LIN/CTP): no qualifier here; the NDC is N4."""

    UNMODELLED = names("linkSequenceNumber pharmacyPrescriptionNumber")

    national_drug_code: Code
    national_drug_unit_count: Quantity | None = None
    measurement_unit_code: Code


_LINE_PROVIDER_KEYS: tuple[tuple[str, ProviderRole], ...] = (
    ("renderingProvider", ProviderRole.RENDERING),
    ("referringProvider", ProviderRole.REFERRING),
    ("operatingPhysician", ProviderRole.OPERATING),
    ("otherOperatingPhysician", ProviderRole.OTHER_OPERATING),
)


class InstitutionalServiceLine(OptumModel):
    """``ServiceLine`` (2400).  The line ``description`` is read from ``institutionalService``."""

    UNMODELLED = names(
        "serviceTaxAmount facilityTaxAmount thirdPartyOrganizationNotes lineItemControlNumber"
        " repricedLineItemReferenceNumber description adjustedRepricedLineItemReferenceNumber"
        " lineNoteText lineAdjudicationInformation lineSupplementInformation"
        " serviceLineSupplementalInformation serviceLineDateInformation"
        " serviceLineReferenceInformation linePricingInformation lineAdjustmentInformation"
        " lineRepricingInformation"
    )

    assigned_number: LineNumber
    service_date: OptumDate | None = None
    service_date_end: OptumDate | None = None
    institutional_service: InstitutionalService
    drug_identification: DrugIdentification | None = None
    rendering_provider: InstitutionalLineProvider | None = None
    referring_provider: InstitutionalLineProvider | None = None
    operating_physician: OperatingPhysician | None = None
    other_operating_physician: OperatingPhysician | None = None

    def to_domain(self) -> ServiceLine:
        """The domain line."""
        svc = self.institutional_service
        providers = line_providers(
            (
                (self.rendering_provider, ProviderRole.RENDERING),
                (self.referring_provider, ProviderRole.REFERRING),
                (self.operating_physician, ProviderRole.OPERATING),
                (self.other_operating_physician, ProviderRole.OTHER_OPERATING),
            )
        )
        return ServiceLine(
            **line_parts(self, svc, self.drug_identification),
            number=self.assigned_number,
            procedure_code=svc.procedure_code or "",
            procedure_qualifier=(
                svc.procedure_identifier if svc.procedure_identifier is not None else "HC"
            ),
            revenue_code=svc.service_line_revenue_code,
            providers=providers,
        )


class InstitutionalClaimInformation(OptumModel):
    """``ClaimInformation`` (2300)."""

    UNMODELLED = names(
        "propertyCasualtyClaimNumber patientWeight signatureIndicator planParticipationCode"
        " benefitsAssignmentCertificationIndicator releaseInformationCode patientAmountPaid"
        " patientEstimatedAmountDue fileInformation billingNote claimNotes"
        " claimContractInformation conditionCodes diagnosisRelatedGroupInformation"
        " treatmentCodeInformationList claimPricingInformation otherSubscriberInformation"
        " epsdtReferral"
    )

    claim_filing_code: Code
    patient_control_number: str
    claim_charge_amount: Amount
    place_of_service_code: Code
    claim_frequency_code: Code
    delay_reason_code: Code | None = None
    claim_date_information: ClaimDateInformation | None = None
    claim_supplemental_information: ClaimSupplementalInformation | None = None
    principal_diagnosis: PrincipalDiagnosis | None = None
    admitting_diagnosis: AdmittingDiagnosis | None = None
    patient_reason_for_visits: list[PatientReasonForVisit] | None = None
    external_cause_of_injuries: list[ExternalCauseOfInjury] | None = None
    other_diagnosis_information_list: list[list[OtherDiagnosisInformation]] | None = None
    principal_procedure_information: PrincipalProcedureInformation | None = None
    other_procedure_information_list: list[list[OtherProcedureInformation]] | None = None
    occurrence_span_informations: list[list[OccurrenceSpanInformation]] | None = None
    value_information_list: list[list[ValueInformation]] | None = None
    occurrence_information_list: list[list[OccurrenceInformation]] | None = None
    condition_codes_list: list[list[ConditionInformation]] | None = None
    service_facility_location: ServiceFacilityLocation | None = None
    service_lines: list[InstitutionalServiceLine]
    claim_code_information: ClaimCodeInformation

    def diagnoses(self) -> tuple[Diagnosis, ...]:
        """All diagnoses, in ``DIAGNOSIS_ORDER``."""
        out: list[Diagnosis] = []

        def add(qualifier: str, code: str, poa: str | None = None) -> None:
            role, icd9 = DX_QUALIFIERS[qualifier]
            out.append(Diagnosis(code=code, role=role, poa=poa or "", icd9=icd9))

        if (p := self.principal_diagnosis) is not None:
            add(p.qualifier_code, p.principal_diagnosis_code, p.present_on_admission_indicator)
        if (a := self.admitting_diagnosis) is not None:
            add(a.qualifier_code, a.admitting_diagnosis_code)
        for r in self.patient_reason_for_visits or ():
            add(r.qualifier_code, r.patient_reason_for_visit_code)
        for e in self.external_cause_of_injuries or ():
            add(e.qualifier_code, e.external_cause_of_injury, e.present_on_admission_indicator)
        for o in flatten(self.other_diagnosis_information_list):
            add(o.qualifier_code, o.other_diagnosis_code, o.present_on_admission_indicator)
        return tuple(out)

    def procedures(self) -> tuple[Procedure, ...]:
        """The principal procedure, then the others."""
        out: list[Procedure] = []
        if (p := self.principal_procedure_information) is not None:
            out.append(
                Procedure(
                    code=p.principal_procedure_code,
                    date=p.principal_procedure_date,
                    principal=True,
                    icd9=p.qualifier_code == "BR",
                )
            )
        out.extend(
            Procedure(
                code=o.other_procedure_code,
                date=o.other_procedure_date,
                icd9=o.qualifier_code == "BQ",
            )
            for o in flatten(self.other_procedure_information_list)
        )
        return tuple(out)


_CLAIM_PROVIDER_KEYS: tuple[tuple[str, ProviderRole], ...] = (
    ("billing", ProviderRole.BILLING),
    ("referring", ProviderRole.REFERRING),
    ("rendering", ProviderRole.RENDERING),
    ("attending", ProviderRole.ATTENDING),
    ("operatingPhysician", ProviderRole.OPERATING),
    ("otherOperatingPhysician", ProviderRole.OTHER_OPERATING),
)


class InstitutionalClaimRequest(OptumModel):
    """``InstitutionalClaimsRequest``: one institutional claim as Optum's API takes it."""

    UNMODELLED = names("billingPayToPlanName billingPayToAddressName payerAddress usageIndicator")
    KIND: ClassVar[ClaimKind] = ClaimKind.INSTITUTIONAL

    control_number: str
    trading_partner_service_id: str | None = None
    trading_partner_name: str | None = None
    submitter: Submitter
    receiver: Receiver
    subscriber: Subscriber
    dependent: Dependent | None = None
    providers: list[InstitutionalProviderEntry] | None = None
    billing: InstitutionalProvider | None = None
    referring: InstitutionalProvider | None = None
    rendering: InstitutionalProvider | None = None
    attending: InstitutionalProvider | None = None
    operating_physician: OperatingPhysician | None = None
    other_operating_physician: OperatingPhysician | None = None
    claim_information: InstitutionalClaimInformation

    @field_validator("providers")
    @classmethod
    def _one_entry_per_type(
        cls, value: list[InstitutionalProviderEntry] | None
    ) -> list[InstitutionalProviderEntry] | None:
        unique_provider_types(value)
        return value

    def to_domain(self) -> Claim:
        """The domain claim this request describes."""
        ci = self.claim_information
        dates = ci.claim_date_information or ClaimDateInformation()
        supp = ci.claim_supplemental_information or ClaimSupplementalInformation()
        codes = ci.claim_code_information
        providers = claim_providers(
            (
                (self.billing, ProviderRole.BILLING),
                (self.referring, ProviderRole.REFERRING),
                (self.rendering, ProviderRole.RENDERING),
                (self.attending, ProviderRole.ATTENDING),
                (self.operating_physician, ProviderRole.OPERATING),
                (self.other_operating_physician, ProviderRole.OTHER_OPERATING),
            ),
            self.providers,
            ci.service_facility_location,
        )
        return Claim(
            **claim_head(self, ci, supp),
            kind=ClaimKind.INSTITUTIONAL,
            submitter=Party(
                name=self.submitter.organization_name, identifier=self.submitter.tax_id or ""
            ),
            receiver=Party(
                name=self.receiver.organization_name, identifier=self.receiver.tax_id or ""
            ),
            providers=providers,
            diagnoses=ci.diagnoses(),
            procedures=ci.procedures(),
            statement_from=dates.statement_begin_date,
            statement_to=dates.statement_end_date,
            admission_date=dates.admission_date_and_hour,
            admission_type_code=codes.admission_type_code,
            admission_source_code=codes.admission_source_code or "",
            patient_status_code=codes.patient_status_code,
            condition_codes=tuple(c.condition_code for c in flatten(ci.condition_codes_list)),
            occurrence_codes=tuple(
                CodeDate(code=o.occurrence_span_code, date=o.occurrence_span_code_date)
                for o in flatten(ci.occurrence_information_list)
            ),
            occurrence_spans=tuple(
                CodeSpan(
                    code=s.occurrence_span_code,
                    start=s.occurrence_span_code_start_date,
                    end=s.occurrence_span_code_end_date,
                )
                for s in flatten(ci.occurrence_span_informations)
            ),
            value_codes=tuple(
                CodeAmount(code=v.value_code, amount=v.value_code_amount)
                for v in flatten(ci.value_information_list)
            ),
            auto_accident_state=supp.auto_accident_state or "",
            lines=tuple(line.to_domain() for line in ci.service_lines),
        )


# ---------------------------------------------------------------------------------------------
# domain → JSON


def _line_json(line: ServiceLine) -> dict[str, Any]:
    if line.prior_authorizations:  # Institutional Claims v1 has no line-level authorization
        raise ValueError(f"line {line.number}: an institutional line has no prior authorization")
    svc: dict[str, Any] = {"serviceLineRevenueCode": line.revenue_code}
    if line.procedure_code or line.procedure_qualifier != "HC":
        svc["procedureIdentifier"] = line.procedure_qualifier
    if line.procedure_code:
        svc["procedureCode"] = line.procedure_code
    service_amounts_json(line, svc)
    out = line_head_json(line)
    out["institutionalService"] = svc
    drug = drug_json(line, qualifier=False)
    if drug is not None:
        out["drugIdentification"] = drug
    line_providers_json(line.providers, _LINE_PROVIDER_KEYS, _provider_json, out)
    return out


def _provider_json(provider: Provider) -> dict[str, str]:
    if provider.role in (ProviderRole.OPERATING, ProviderRole.OTHER_OPERATING):
        return provider_json(provider, provider_type=None, extras=False)
    return provider_json(provider, provider_type=PROVIDER_TYPE_OF[provider.role])


def _diagnoses_json(claim: Claim, ci: dict[str, Any]) -> None:
    def of(role: DiagnosisRole) -> list[Diagnosis]:
        return [dx for dx in claim.diagnoses if dx.role is role]

    def poa(dx: Diagnosis, item: dict[str, str]) -> dict[str, str]:
        if dx.poa:
            item["presentOnAdmissionIndicator"] = dx.poa
        return item

    if principal := of(DiagnosisRole.PRINCIPAL):
        dx = principal[0]
        ci["principalDiagnosis"] = poa(
            dx, {"qualifierCode": dx_qualifier(dx), "principalDiagnosisCode": dx.code}
        )
    if admitting := of(DiagnosisRole.ADMITTING):
        dx = admitting[0]
        ci["admittingDiagnosis"] = {
            "qualifierCode": dx_qualifier(dx),
            "admittingDiagnosisCode": dx.code,
        }
    if reasons := of(DiagnosisRole.REASON_FOR_VISIT):
        ci["patientReasonForVisits"] = [
            {"qualifierCode": dx_qualifier(dx), "patientReasonForVisitCode": dx.code}
            for dx in reasons
        ]
    if causes := of(DiagnosisRole.EXTERNAL_CAUSE):
        ci["externalCauseOfInjuries"] = [
            poa(dx, {"qualifierCode": dx_qualifier(dx), "externalCauseOfInjury": dx.code})
            for dx in causes
        ]
    if others := of(DiagnosisRole.OTHER):
        ci["otherDiagnosisInformationList"] = [
            [
                poa(dx, {"qualifierCode": dx_qualifier(dx), "otherDiagnosisCode": dx.code})
                for dx in group
            ]
            for group in chunks(others)
        ]


def _procedures_json(claim: Claim, ci: dict[str, Any]) -> None:
    principal = [p for p in claim.procedures if p.principal]
    if principal:
        p = principal[0]
        item = {"qualifierCode": "BR" if p.icd9 else "BBR", "principalProcedureCode": p.code}
        if p.date is not None:
            item["principalProcedureDate"] = fmt_date(p.date)
        ci["principalProcedureInformation"] = item
    others: list[dict[str, str]] = []
    for p in claim.procedures:
        if not p.principal:
            item = {"qualifierCode": "BQ" if p.icd9 else "BBQ", "otherProcedureCode": p.code}
            if p.date is not None:
                item["otherProcedureDate"] = fmt_date(p.date)
            others.append(item)
    if others:
        ci["otherProcedureInformationList"] = list(chunks(others))


def _codes_json(claim: Claim, ci: dict[str, Any]) -> None:
    if claim.occurrence_spans:
        spans = [
            {
                "occurrenceSpanCode": s.code,
                "occurrenceSpanCodeStartDate": fmt_date(s.start),
                "occurrenceSpanCodeEndDate": fmt_date(s.end),
            }
            for s in claim.occurrence_spans
        ]
        ci["occurrenceSpanInformations"] = list(chunks(spans))
    if claim.value_codes:
        values = [
            {"valueCode": v.code, "valueCodeAmount": fmt_decimal(v.amount)}
            for v in claim.value_codes
        ]
        ci["valueInformationList"] = list(chunks(values))
    if claim.occurrence_codes:
        occurrences = [
            {"occurrenceSpanCode": o.code, "occurrenceSpanCodeDate": fmt_date(o.date)}
            for o in claim.occurrence_codes
        ]
        ci["occurrenceInformationList"] = list(chunks(occurrences))
    if claim.condition_codes:
        conditions = [{"conditionCode": c} for c in claim.condition_codes]
        ci["conditionCodesList"] = list(chunks(conditions))


def _claim_information_json(claim: Claim) -> dict[str, Any]:
    ci = claim_information_head_json(claim)
    if claim.delay_reason_code:
        ci["delayReasonCode"] = claim.delay_reason_code
    dates = dates_json(
        (
            ("admissionDateAndHour", claim.admission_date),
            ("statementBeginDate", claim.statement_from),
            ("statementEndDate", claim.statement_to),
        )
    )
    if dates:
        ci["claimDateInformation"] = dates
    supplemental = present(
        (
            ("priorAuthorizationNumber", claim.prior_authorization),
            ("referralNumber", claim.referral_number),
            ("claimControlNumber", claim.original_reference_number),
            ("autoAccidentState", claim.auto_accident_state),
        )
    )
    if supplemental:
        ci["claimSupplementalInformation"] = supplemental
    _diagnoses_json(claim, ci)
    _procedures_json(claim, ci)
    _codes_json(claim, ci)
    facility = claim.provider(ProviderRole.SERVICE_FACILITY)
    if facility is not None:
        sfl = {"organizationName": facility.last_name}
        if facility.npi:
            sfl["identificationCode"] = facility.npi
        ci["serviceFacilityLocation"] = sfl
    ci["serviceLines"] = [_line_json(line) for line in claim.lines]
    codes = {"admissionTypeCode": claim.admission_type_code}
    if claim.admission_source_code:
        codes["admissionSourceCode"] = claim.admission_source_code
    codes["patientStatusCode"] = claim.patient_status_code
    ci["claimCodeInformation"] = codes
    return ci


def institutional_json(claim: Claim) -> dict[str, Any]:
    """The ``InstitutionalClaimsRequest`` JSON object (as Python data) for an institutional claim.

    What the document has no place for is left out: see the package docstring for the list.
    """
    out = request_head_json(claim)
    for key, party in (("submitter", claim.submitter), ("receiver", claim.receiver)):
        obj = {"organizationName": party.name}
        if party.identifier:
            obj["taxId"] = party.identifier
        out[key] = obj
    out["subscriber"] = subscriber_json(claim, names_required=True)
    if claim.patient is not None:
        out["dependent"] = dependent_json(claim, claim.patient, member_id=False)
    claim_providers_json(claim, _CLAIM_PROVIDER_KEYS, _provider_json, out)
    out["claimInformation"] = _claim_information_json(claim)
    return out
