"""Optum Professional Claims v3 JSON (``ClaimSubmissionRequest``) ↔ domain ``Claim`` (837P).

The models mirror Optum's objects property for property (see ``claims.optum._base.OptumModel`` for
how unread properties are handled).  ``to_domain`` maps one request to a ``Claim``;
``professional_json`` is its inverse.  Professional specifics:

* ``claimInformation.placeOfServiceCode`` is the claim's place of service (``Claim.facility_code``).
* Diagnoses are one list, ``healthCareCodeInformation``, kept in order so that the 1-based
  ``diagnosisCodePointers`` of the lines keep pointing at the same codes.  Optum documents only
  ``ABK``/``ABF`` (and ICD-9 ``BK``/``BF``); the other HI qualifiers (``ABJ``, ``APR``, ``ABN`` and
  their ICD-9 forms) are accepted too so that every domain diagnosis has a spelling, and a rule can
  report them instead of the boundary refusing the claim.
* Condition codes travel in ``conditionInformation[].conditionCodes`` (HI*BG).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from claims.model import (
    Claim,
    ClaimKind,
    Diagnosis,
    Party,
    Person,
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
    OptumModel,
    Pointer,
    Quantity,
    YesNo,
    chunks,
    dx_qualifier,
    names,
)
from claims.optum._providers import (
    PROVIDER_TYPE_OF,
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

__all__ = ["ProfessionalClaimRequest", "professional_json"]

_PROVIDER_UNMODELLED = names(
    "commercialNumber locationNumber payerIdentificationNumber employerIdentificationNumber"
    " claimOfficeNumber naic stateLicenseNumber providerUpinNumber middleName suffix address"
    " contactInformation"
)


class ProfessionalProvider(TaxonomyProvider):
    """``billing``, ``rendering``, ``referring``, ``ordering``, ``supervising``.

    The role comes from the property the object sits in; ``providerType`` is only required.  The tax
    id is ``employerId`` (REF*EI), or ``ssn`` (REF*SY) when no EIN is given.
    """

    UNMODELLED = _PROVIDER_UNMODELLED

    ssn: str | None = None

    def tax_id(self) -> str:
        """``employerId``, else ``ssn`` (the professional document only has an SSN property)."""
        tax_id = self.employer_id if self.employer_id is not None else self.ssn
        return tax_id or ""


class ProfessionalProviderEntry(ProfessionalProvider):
    """An item of the deprecated top-level ``providers[]``: here ``providerType`` gives the role."""

    provider_type: Literal[  # narrows the parent's str
        "BillingProvider",
        "RenderingProvider",
        "ReferringProvider",
        "SupervisingProvider",
        "OrderingProvider",
    ]


class ProfessionalLineProvider(ProfessionalProvider):
    """``ServiceLineProvider`` and ``ServiceLineOrderingProvider`` (2420A-H)."""

    UNMODELLED = _PROVIDER_UNMODELLED | names("otherIdentifier secondaryIdentifier")


class ServiceFacilityLocation(OptumModel):
    """``ServiceFacilityLocation`` (2310C / 2420C): always an organization in the domain."""

    UNMODELLED = names("address secondaryIdentifier phoneName phoneNumber phoneExtension")

    organization_name: str
    npi: str | None = None

    def to_domain(self) -> Provider:
        """The domain ``SERVICE_FACILITY`` provider."""
        return facility_provider(self.organization_name, self.npi)


def _facility_json(provider: Provider) -> dict[str, str]:
    out = {"organizationName": provider.last_name}
    if provider.npi:
        out["npi"] = provider.npi
    return out


class Submitter(OptumModel):
    """``Submitter`` (1000A).  The professional document has no submitter identifier."""

    UNMODELLED = names("middleName contactInformation")

    organization_name: str | None = None
    last_name: str | None = None
    first_name: str | None = None

    def to_domain(self) -> Party:
        """The submitter party, named by its organization or else its last name."""
        name = self.organization_name if self.organization_name is not None else self.last_name
        return Party(name=name or "")


class Receiver(OptumModel):
    """``Receiver`` (1000B)."""

    organization_name: str


class Subscriber(SubscriberFields):
    """``Subscriber`` (2010BA)."""

    UNMODELLED = names(
        "ssn organizationName insuranceTypeCode subscriberGroupName suffix policyNumber"
        " groupNumber contactInformation"
    )


class Dependent(OptumModel):
    """``Dependent`` (2010CA): present only when the patient is not the subscriber."""

    UNMODELLED = names("suffix ssn contactInformation")

    first_name: str
    last_name: str
    middle_name: str | None = None
    gender: Code
    date_of_birth: OptumDate | None = None
    member_id: str | None = None
    relationship_to_subscriber_code: Code
    address: Address | None = None

    def to_domain(self) -> Person:
        """The patient as a domain person."""
        return to_person(self, self.member_id)


class HealthCareInformation(OptumModel):
    """One ``healthCareCodeInformation`` item: an HI composite."""

    diagnosis_type_code: Literal["ABK", "BK", "ABF", "BF", "ABJ", "BJ", "APR", "PR", "ABN", "BN"]
    diagnosis_code: IcdCode

    def to_domain(self) -> Diagnosis:
        """The domain diagnosis; the qualifier gives its role and ICD revision."""
        role, icd9 = DX_QUALIFIERS[self.diagnosis_type_code]
        return Diagnosis(code=self.diagnosis_code, role=role, icd9=icd9)


class ConditionInformation(OptumModel):
    """One ``conditionInformation`` item (one HI*BG segment)."""

    condition_codes: list[ListCode]


class ClaimDateInformation(OptumModel):
    """``ClaimDateInformation``: the 2300 DTP dates the domain keeps."""

    UNMODELLED = names(
        "initialTreatmentDate lastSeenDate acuteManifestationDate accidentDate"
        " lastMenstrualPeriodDate lastXRayDate hearingAndVisionPrescriptionDate"
        " disabilityBeginDate disabilityEndDate lastWorkedDate authorizedReturnToWorkDate"
        " assumedAndRelinquishedCareBeginDate assumedAndRelinquishedCareEndDate"
        " repricerReceivedDate firstContactDate"
    )

    symptom_date: OptumDate | None = None  # DTP*431 onset of current illness
    admission_date: OptumDate | None = None
    discharge_date: OptumDate | None = None


class ClaimSupplementalInformation(ClaimSupplementalNumbers):
    """``ClaimSupplementalInformation``: 2300 REF numbers the domain keeps."""

    UNMODELLED = names(
        "reportInformation cliaNumber repricedClaimNumber adjustedRepricedClaimNumber"
        " investigationalDeviceExemptionNumber claimNumber mammographyCertificationNumber"
        " medicalRecordNumber demoProjectIdentifier carePlanOversightNumber"
        " medicareCrossoverReferenceId serviceAuthorizationExceptionCode"
    )


class CompositeDiagnosisCodePointers(OptumModel):
    """SV107: 1-based positions in ``healthCareCodeInformation``."""

    diagnosis_code_pointers: list[Pointer]


class ProfessionalService(OptumModel):
    """``ProfessionalService`` (SV1)."""

    UNMODELLED = names("epsdtIndicator familyPlanningIndicator copayStatusCode")

    procedure_identifier: Code
    procedure_code: Code
    procedure_modifiers: list[ListCode] | None = None
    description: str | None = None
    line_item_charge_amount: Amount
    measurement_unit: Code
    service_unit_count: Quantity
    place_of_service_code: Code | None = None
    composite_diagnosis_code_pointers: CompositeDiagnosisCodePointers | None = None
    emergency_indicator: YesNo | None = None


class DrugIdentification(OptumModel):
    """``DrugIdentification`` (LIN/CTP).  The domain assumes the NDC qualifier ``N4``."""

    UNMODELLED = names("linkSequenceNumber pharmacyPrescriptionNumber")

    service_id_qualifier: Code
    national_drug_code: Code
    national_drug_unit_count: Quantity | None = None
    measurement_unit_code: Code


_LINE_PROVIDER_KEYS: tuple[tuple[str, ProviderRole], ...] = (
    ("renderingProvider", ProviderRole.RENDERING),
    ("purchasedServiceProvider", ProviderRole.PURCHASED_SERVICE),
    ("serviceFacilityLocation", ProviderRole.SERVICE_FACILITY),
    ("supervisingProvider", ProviderRole.SUPERVISING),
    ("orderingProvider", ProviderRole.ORDERING),
    ("referringProvider", ProviderRole.REFERRING),
)


class LinePriorAuthorization(OptumModel):
    """``PriorAuthorization`` (2400 REF*G1)."""

    UNMODELLED = names("otherPayerPrimaryIdentifier")

    prior_authorization_or_referral_number: Annotated[str, Field(min_length=1, max_length=50)]


class ServiceLineReferenceInformation(OptumModel):
    """``ServiceLineReferenceInformation`` (2400 REF): the line's prior authorizations."""

    UNMODELLED = names(
        "repricedLineItemReferenceNumber adjustedRepricedLineItemReferenceNumber"
        " mammographyCertificationNumber clinicalLaboratoryImprovementAmendmentNumber"
        " referringCliaNumber immunizationBatchNumber referralNumber"
    )

    prior_authorization: Annotated[
        list[LinePriorAuthorization], Field(default_factory=list, max_length=5)
    ]


class ProfessionalServiceLine(OptumModel):
    """``ServiceLine`` (2400)."""

    UNMODELLED = names(
        "providerControlNumber durableMedicalEquipmentService serviceLineSupplementalInformation"
        " durableMedicalEquipmentCertificateOfMedicalNecessity ambulanceTransportInformation"
        " durableMedicalEquipmentCertification ambulanceCertification hospiceEmployeeIndicator"
        " conditionIndicatorDurableMedicalEquipment serviceLineDateInformation"
        " ambulancePatientCount obstetricAnesthesiaAdditionalUnits testResults"
        " contractInformation salesTaxAmount postageTaxAmount"
        " fileInformation additionalNotes goalRehabOrDischargePlans thirdPartyOrganizationNotes"
        " purchasedServiceInformation linePricingRepricingInformation ambulancePickUpLocation"
        " ambulanceDropOffLocation lineAdjudicationInformation formIdentification"
    )

    assigned_number: LineNumber | None = None
    service_date: OptumDate | None = None
    service_date_end: OptumDate | None = None
    professional_service: ProfessionalService
    drug_identification: DrugIdentification | None = None
    rendering_provider: ProfessionalLineProvider | None = None
    purchased_service_provider: ProfessionalLineProvider | None = None
    service_facility_location: ServiceFacilityLocation | None = None
    supervising_provider: ProfessionalLineProvider | None = None
    ordering_provider: ProfessionalLineProvider | None = None
    referring_provider: ProfessionalLineProvider | None = None
    service_line_reference_information: ServiceLineReferenceInformation | None = None

    def to_domain(self, position: int) -> ServiceLine:
        """The domain line; ``position`` (1-based) numbers it when ``assignedNumber`` is absent."""
        svc = self.professional_service
        ref = self.service_line_reference_information
        pointers = svc.composite_diagnosis_code_pointers
        providers = line_providers(
            (
                (self.rendering_provider, ProviderRole.RENDERING),
                (self.purchased_service_provider, ProviderRole.PURCHASED_SERVICE),
                (self.supervising_provider, ProviderRole.SUPERVISING),
                (self.ordering_provider, ProviderRole.ORDERING),
                (self.referring_provider, ProviderRole.REFERRING),
            ),
            self.service_facility_location,
        )
        return ServiceLine(
            **line_parts(self, svc, self.drug_identification),
            number=self.assigned_number if self.assigned_number is not None else position,
            procedure_code=svc.procedure_code,
            procedure_qualifier=svc.procedure_identifier,
            place_of_service=svc.place_of_service_code or "",
            diagnosis_pointers=tuple(pointers.diagnosis_code_pointers if pointers else ()),
            emergency=bool(svc.emergency_indicator),
            providers=providers,
            prior_authorizations=tuple(
                a.prior_authorization_or_referral_number
                for a in (ref.prior_authorization if ref is not None else ())
            ),
        )


class ProfessionalClaimInformation(OptumModel):
    """``ClaimInformation`` (2300 CLM and what hangs off it)."""

    UNMODELLED = names(
        "propertyCasualtyClaimNumber deathDate patientWeight pregnancyIndicator"
        " signatureIndicator planParticipationCode benefitsAssignmentCertificationIndicator"
        " releaseInformationCode patientSignatureSourceCode autoAccidentCountryCode"
        " specialProgramCode patientAmountPaid fileInformation fileInformationList"
        " claimContractInformation claimNote ambulanceTransportInformation"
        " spinalManipulationServiceInformation ambulanceCertification"
        " patientConditionInformationVision homeboundIndicator epsdtReferral"
        " anesthesiaRelatedSurgicalProcedure claimPricingRepricingInformation"
        " ambulancePickUpLocation ambulanceDropOffLocation otherSubscriberInformation"
    )

    claim_filing_code: Code
    patient_control_number: str
    claim_charge_amount: Amount
    place_of_service_code: Code
    claim_frequency_code: Code
    related_causes_code: list[ListCode] | None = None
    auto_accident_state_code: Code | None = None
    delay_reason_code: Code | None = None
    claim_date_information: ClaimDateInformation | None = None
    claim_supplemental_information: ClaimSupplementalInformation | None = None
    health_care_code_information: list[HealthCareInformation]
    condition_information: list[ConditionInformation] | None = None
    service_facility_location: ServiceFacilityLocation | None = None
    service_lines: list[ProfessionalServiceLine]


_CLAIM_PROVIDER_KEYS: tuple[tuple[str, ProviderRole], ...] = (
    ("billing", ProviderRole.BILLING),
    ("rendering", ProviderRole.RENDERING),
    ("referring", ProviderRole.REFERRING),
    ("supervising", ProviderRole.SUPERVISING),
    ("ordering", ProviderRole.ORDERING),
)


class ProfessionalClaimRequest(OptumModel):
    """``ClaimSubmissionRequest``: one professional claim as Optum's API takes it."""

    UNMODELLED = names("payToAddress payToPlan payerAddress usageIndicator")
    KIND: ClassVar[ClaimKind] = ClaimKind.PROFESSIONAL

    control_number: str
    trading_partner_service_id: str | None = None
    trading_partner_name: str | None = None
    submitter: Submitter
    receiver: Receiver
    subscriber: Subscriber
    dependent: Dependent | None = None
    providers: list[ProfessionalProviderEntry] | None = None
    billing: ProfessionalProvider | None = None
    referring: ProfessionalProvider | None = None
    rendering: ProfessionalProvider | None = None
    ordering: ProfessionalProvider | None = None
    supervising: ProfessionalProvider | None = None
    claim_information: ProfessionalClaimInformation

    @field_validator("providers")
    @classmethod
    def _one_entry_per_type(
        cls, value: list[ProfessionalProviderEntry] | None
    ) -> list[ProfessionalProviderEntry] | None:
        unique_provider_types(value)
        return value

    def to_domain(self) -> Claim:
        """The domain claim this request describes."""
        ci = self.claim_information
        dates = ci.claim_date_information or ClaimDateInformation()
        supp = ci.claim_supplemental_information or ClaimSupplementalInformation()
        providers = claim_providers(
            (
                (self.billing, ProviderRole.BILLING),
                (self.rendering, ProviderRole.RENDERING),
                (self.referring, ProviderRole.REFERRING),
                (self.supervising, ProviderRole.SUPERVISING),
                (self.ordering, ProviderRole.ORDERING),
            ),
            self.providers,
            ci.service_facility_location,
        )
        return Claim(
            **claim_head(self, ci, supp),
            kind=ClaimKind.PROFESSIONAL,
            submitter=self.submitter.to_domain(),
            receiver=Party(name=self.receiver.organization_name),
            providers=providers,
            diagnoses=tuple(h.to_domain() for h in ci.health_care_code_information),
            onset_date=dates.symptom_date,
            admission_date=dates.admission_date,
            discharge_date=dates.discharge_date,
            condition_codes=tuple(
                code for group in ci.condition_information or () for code in group.condition_codes
            ),
            related_causes=tuple(ci.related_causes_code or ()),
            auto_accident_state=ci.auto_accident_state_code or "",
            lines=tuple(line.to_domain(i) for i, line in enumerate(ci.service_lines, 1)),
        )


# ---------------------------------------------------------------------------------------------
# domain → JSON


def _line_json(line: ServiceLine) -> dict[str, Any]:
    svc: dict[str, Any] = {
        "procedureIdentifier": line.procedure_qualifier,
        "procedureCode": line.procedure_code,
    }
    service_amounts_json(line, svc)
    if line.place_of_service:
        svc["placeOfServiceCode"] = line.place_of_service
    if line.diagnosis_pointers:
        pointers = [str(p) for p in line.diagnosis_pointers]
        svc["compositeDiagnosisCodePointers"] = {"diagnosisCodePointers": pointers}
    if line.emergency:
        svc["emergencyIndicator"] = "Y"
    out = line_head_json(line)
    out["professionalService"] = svc
    drug = drug_json(line, qualifier=True)
    if drug is not None:
        out["drugIdentification"] = drug
    if line.prior_authorizations:
        out["serviceLineReferenceInformation"] = {
            "priorAuthorization": [
                {"priorAuthorizationOrReferralNumber": a} for a in line.prior_authorizations
            ]
        }
    line_providers_json(line.providers, _LINE_PROVIDER_KEYS, _provider_json, out)
    return out


def _provider_json(provider: Provider) -> dict[str, str]:
    if provider.role is ProviderRole.SERVICE_FACILITY:
        return _facility_json(provider)
    return provider_json(provider, provider_type=PROVIDER_TYPE_OF[provider.role])


def _claim_information_json(claim: Claim) -> dict[str, Any]:
    ci = claim_information_head_json(claim)
    if claim.related_causes:
        ci["relatedCausesCode"] = list(claim.related_causes)
    if claim.auto_accident_state:
        ci["autoAccidentStateCode"] = claim.auto_accident_state
    if claim.delay_reason_code:
        ci["delayReasonCode"] = claim.delay_reason_code
    dates = dates_json(
        (
            ("symptomDate", claim.onset_date),
            ("admissionDate", claim.admission_date),
            ("dischargeDate", claim.discharge_date),
        )
    )
    if dates:
        ci["claimDateInformation"] = dates
    supplemental = present(
        (
            ("priorAuthorizationNumber", claim.prior_authorization),
            ("referralNumber", claim.referral_number),
            ("claimControlNumber", claim.original_reference_number),
        )
    )
    if supplemental:
        ci["claimSupplementalInformation"] = supplemental
    ci["healthCareCodeInformation"] = [
        {"diagnosisTypeCode": dx_qualifier(dx), "diagnosisCode": dx.code} for dx in claim.diagnoses
    ]
    if claim.condition_codes:
        ci["conditionInformation"] = [
            {"conditionCodes": group} for group in chunks(claim.condition_codes)
        ]
    facility = claim.provider(ProviderRole.SERVICE_FACILITY)
    if facility is not None:
        ci["serviceFacilityLocation"] = _facility_json(facility)
    ci["serviceLines"] = [_line_json(line) for line in claim.lines]
    return ci


def professional_json(claim: Claim) -> dict[str, Any]:
    """The ``ClaimSubmissionRequest`` JSON object (as Python data) for a professional claim.

    What the document has no place for is left out: see the package docstring for the list.
    """
    out = request_head_json(claim)
    out["submitter"] = {"organizationName": claim.submitter.name}
    out["receiver"] = {"organizationName": claim.receiver.name}
    out["subscriber"] = subscriber_json(claim, names_required=False)
    if claim.patient is not None:
        out["dependent"] = dependent_json(claim, claim.patient, member_id=True)
    claim_providers_json(claim, _CLAIM_PROVIDER_KEYS, _provider_json, out)
    out["claimInformation"] = _claim_information_json(claim)
    return out
