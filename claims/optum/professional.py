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

from typing import Any, ClassVar, Literal

from pydantic import field_validator

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
    PROVIDER_TYPE_OF,
    PROVIDER_TYPES,
    Address,
    Amount,
    Code,
    IcdCode,
    LineNumber,
    ListCode,
    OptumDate,
    OptumModel,
    Pointer,
    ProviderName,
    Quantity,
    YesNo,
    address_fields,
    chunks,
    dx_qualifier,
    fmt_date,
    fmt_decimal,
    in_role_order,
    names,
    person_json,
    provider_json,
)

__all__ = ["ProfessionalClaimRequest", "professional_json"]

_PROVIDER_UNMODELLED = names(
    "commercialNumber locationNumber payerIdentificationNumber employerIdentificationNumber"
    " claimOfficeNumber naic stateLicenseNumber providerUpinNumber middleName suffix address"
    " contactInformation"
)


class ProfessionalProvider(ProviderName):
    """``billing``, ``rendering``, ``referring``, ``ordering``, ``supervising``.

    The role comes from the property the object sits in; ``providerType`` is only required.  The tax
    id is ``employerId`` (REF*EI), or ``ssn`` (REF*SY) when no EIN is given.
    """

    UNMODELLED = _PROVIDER_UNMODELLED

    provider_type: str
    taxonomy_code: Code | None = None
    employer_id: str | None = None
    ssn: str | None = None

    def to_domain(self, role: ProviderRole) -> Provider:
        """The domain provider in ``role``."""
        tax_id = self.employer_id if self.employer_id is not None else self.ssn
        return self.to_provider(role, taxonomy=self.taxonomy_code or "", tax_id=tax_id or "")


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
        return Provider(
            role=ProviderRole.SERVICE_FACILITY,
            npi=self.npi or "",
            entity_type="2",
            last_name=self.organization_name,
        )


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


class Subscriber(OptumModel):
    """``Subscriber`` (2010BA)."""

    UNMODELLED = names(
        "ssn organizationName insuranceTypeCode subscriberGroupName suffix policyNumber"
        " groupNumber contactInformation"
    )

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
        return Person(
            last_name=self.last_name or "",
            first_name=self.first_name or "",
            middle_name=self.middle_name or "",
            member_id=self.member_id or "",
            birth_date=self.date_of_birth,
            sex=self.gender or "",
            **address_fields(self.address),
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
        return Person(
            last_name=self.last_name,
            first_name=self.first_name,
            middle_name=self.middle_name or "",
            member_id=self.member_id or "",
            birth_date=self.date_of_birth,
            sex=self.gender,
            **address_fields(self.address),
        )


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


class ClaimSupplementalInformation(OptumModel):
    """``ClaimSupplementalInformation``: 2300 REF numbers the domain keeps."""

    UNMODELLED = names(
        "reportInformation cliaNumber repricedClaimNumber adjustedRepricedClaimNumber"
        " investigationalDeviceExemptionNumber claimNumber mammographyCertificationNumber"
        " medicalRecordNumber demoProjectIdentifier carePlanOversightNumber"
        " medicareCrossoverReferenceId serviceAuthorizationExceptionCode"
    )

    prior_authorization_number: str | None = None
    referral_number: str | None = None
    claim_control_number: str | None = None  # REF*F8, the claim being replaced or voided


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


class ProfessionalServiceLine(OptumModel):
    """``ServiceLine`` (2400)."""

    UNMODELLED = names(
        "providerControlNumber durableMedicalEquipmentService serviceLineSupplementalInformation"
        " durableMedicalEquipmentCertificateOfMedicalNecessity ambulanceTransportInformation"
        " durableMedicalEquipmentCertification ambulanceCertification hospiceEmployeeIndicator"
        " conditionIndicatorDurableMedicalEquipment serviceLineDateInformation"
        " ambulancePatientCount obstetricAnesthesiaAdditionalUnits testResults"
        " contractInformation serviceLineReferenceInformation salesTaxAmount postageTaxAmount"
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

    def to_domain(self, position: int) -> ServiceLine:
        """The domain line; ``position`` (1-based) numbers it when ``assignedNumber`` is absent."""
        svc = self.professional_service
        drug = self.drug_identification
        pointers = svc.composite_diagnosis_code_pointers
        providers: list[Provider] = []
        for p, role in (
            (self.rendering_provider, ProviderRole.RENDERING),
            (self.purchased_service_provider, ProviderRole.PURCHASED_SERVICE),
            (self.supervising_provider, ProviderRole.SUPERVISING),
            (self.ordering_provider, ProviderRole.ORDERING),
            (self.referring_provider, ProviderRole.REFERRING),
        ):
            if p is not None:
                providers.append(p.to_domain(role))
        if self.service_facility_location is not None:
            providers.append(self.service_facility_location.to_domain())
        return ServiceLine(
            number=self.assigned_number if self.assigned_number is not None else position,
            charge=svc.line_item_charge_amount,
            units=svc.service_unit_count,
            procedure_code=svc.procedure_code,
            procedure_qualifier=svc.procedure_identifier,
            modifiers=tuple(svc.procedure_modifiers or ()),
            unit_type=svc.measurement_unit,
            service_date=self.service_date,
            service_date_end=self.service_date_end,
            place_of_service=svc.place_of_service_code or "",
            diagnosis_pointers=tuple(pointers.diagnosis_code_pointers if pointers else ()),
            emergency=bool(svc.emergency_indicator),
            ndc=drug.national_drug_code if drug else "",
            ndc_quantity=drug.national_drug_unit_count if drug else None,
            ndc_unit=drug.measurement_unit_code if drug else "",
            description=svc.description or "",
            providers=in_role_order(providers),
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
        seen = [p.provider_type for p in value or ()]
        if len(seen) != len(set(seen)):
            raise ValueError("each providerType may appear only once")
        return value

    def _claim_providers(self) -> tuple[Provider, ...]:
        by_role: dict[ProviderRole, Provider] = {}
        for attr, role in _CLAIM_PROVIDER_KEYS:
            named: ProfessionalProvider | None = getattr(self, attr)
            if named is not None:
                by_role[role] = named.to_domain(role)
        for entry in self.providers or ():  # Optum: the array overrides the named properties
            role = PROVIDER_TYPES[entry.provider_type]
            by_role[role] = entry.to_domain(role)
        facility = self.claim_information.service_facility_location
        if facility is not None:
            by_role[ProviderRole.SERVICE_FACILITY] = facility.to_domain()
        return in_role_order(by_role.values())

    def to_domain(self) -> Claim:
        """The domain claim this request describes."""
        ci = self.claim_information
        dates = ci.claim_date_information or ClaimDateInformation()
        supp = ci.claim_supplemental_information or ClaimSupplementalInformation()
        dependent = self.dependent
        return Claim(
            kind=ClaimKind.PROFESSIONAL,
            control_number=self.control_number,
            patient_control_number=ci.patient_control_number,
            total_charge=ci.claim_charge_amount,
            facility_code=ci.place_of_service_code,
            frequency_code=ci.claim_frequency_code,
            claim_filing_code=ci.claim_filing_code,
            payer=Party(
                name=self.trading_partner_name or "",
                identifier=self.trading_partner_service_id or "",
            ),
            submitter=self.submitter.to_domain(),
            receiver=Party(name=self.receiver.organization_name),
            subscriber=self.subscriber.to_domain(),
            payment_responsibility=self.subscriber.payment_responsibility_level_code,
            patient=dependent.to_domain() if dependent else None,
            relationship_code=dependent.relationship_to_subscriber_code if dependent else "18",
            providers=self._claim_providers(),
            diagnoses=tuple(h.to_domain() for h in ci.health_care_code_information),
            onset_date=dates.symptom_date,
            admission_date=dates.admission_date,
            discharge_date=dates.discharge_date,
            condition_codes=tuple(
                code for group in ci.condition_information or () for code in group.condition_codes
            ),
            prior_authorization=supp.prior_authorization_number or "",
            referral_number=supp.referral_number or "",
            original_reference_number=supp.claim_control_number or "",
            related_causes=tuple(ci.related_causes_code or ()),
            auto_accident_state=ci.auto_accident_state_code or "",
            delay_reason_code=ci.delay_reason_code or "",
            lines=tuple(line.to_domain(i) for i, line in enumerate(ci.service_lines, 1)),
        )


# ---------------------------------------------------------------------------------------------
# domain → JSON


def _line_json(line: ServiceLine) -> dict[str, Any]:
    svc: dict[str, Any] = {
        "procedureIdentifier": line.procedure_qualifier,
        "procedureCode": line.procedure_code,
    }
    if line.modifiers:
        svc["procedureModifiers"] = list(line.modifiers)
    if line.description:
        svc["description"] = line.description
    svc["lineItemChargeAmount"] = fmt_decimal(line.charge)
    svc["measurementUnit"] = line.unit_type
    svc["serviceUnitCount"] = fmt_decimal(line.units)
    if line.place_of_service:
        svc["placeOfServiceCode"] = line.place_of_service
    if line.diagnosis_pointers:
        pointers = [str(p) for p in line.diagnosis_pointers]
        svc["compositeDiagnosisCodePointers"] = {"diagnosisCodePointers": pointers}
    if line.emergency:
        svc["emergencyIndicator"] = "Y"
    out: dict[str, Any] = {"assignedNumber": str(line.number)}
    if line.service_date is not None:
        out["serviceDate"] = fmt_date(line.service_date)
    if line.service_date_end is not None:
        out["serviceDateEnd"] = fmt_date(line.service_date_end)
    out["professionalService"] = svc
    if line.ndc or line.ndc_quantity is not None or line.ndc_unit:
        drug = {"serviceIdQualifier": "N4", "nationalDrugCode": line.ndc}
        if line.ndc_quantity is not None:
            drug["nationalDrugUnitCount"] = fmt_decimal(line.ndc_quantity)
        drug["measurementUnitCode"] = line.ndc_unit
        out["drugIdentification"] = drug
    keys = {role: key for key, role in _LINE_PROVIDER_KEYS}
    for provider in line.providers:
        key = keys.get(provider.role)
        if key is None or key in out:
            continue  # a role the 2420 loops do not have, or a second one of a role
        if provider.role is ProviderRole.SERVICE_FACILITY:
            out[key] = _facility_json(provider)
        else:
            out[key] = provider_json(provider, provider_type=PROVIDER_TYPE_OF[provider.role])
    return out


def _claim_information_json(claim: Claim) -> dict[str, Any]:
    ci: dict[str, Any] = {
        "claimFilingCode": claim.claim_filing_code,
        "patientControlNumber": claim.patient_control_number,
        "claimChargeAmount": fmt_decimal(claim.total_charge),
        "placeOfServiceCode": claim.facility_code,
        "claimFrequencyCode": claim.frequency_code,
    }
    if claim.related_causes:
        ci["relatedCausesCode"] = list(claim.related_causes)
    if claim.auto_accident_state:
        ci["autoAccidentStateCode"] = claim.auto_accident_state
    if claim.delay_reason_code:
        ci["delayReasonCode"] = claim.delay_reason_code
    dates = {
        key: fmt_date(value)
        for key, value in (
            ("symptomDate", claim.onset_date),
            ("admissionDate", claim.admission_date),
            ("dischargeDate", claim.discharge_date),
        )
        if value is not None
    }
    if dates:
        ci["claimDateInformation"] = dates
    supplemental = {
        key: value
        for key, value in (
            ("priorAuthorizationNumber", claim.prior_authorization),
            ("referralNumber", claim.referral_number),
            ("claimControlNumber", claim.original_reference_number),
        )
        if value
    }
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
    out: dict[str, Any] = {"controlNumber": claim.control_number}
    if claim.payer.identifier:
        out["tradingPartnerServiceId"] = claim.payer.identifier
    if claim.payer.name:
        out["tradingPartnerName"] = claim.payer.name
    out["submitter"] = {"organizationName": claim.submitter.name}
    out["receiver"] = {"organizationName": claim.receiver.name}
    subscriber: dict[str, Any] = {"paymentResponsibilityLevelCode": claim.payment_responsibility}
    if claim.subscriber.member_id:
        subscriber["memberId"] = claim.subscriber.member_id
    subscriber.update(person_json(claim.subscriber, names_required=False))
    out["subscriber"] = subscriber
    if claim.patient is not None:
        dependent = person_json(claim.patient, names_required=True)
        dependent["gender"] = claim.patient.sex
        if claim.patient.member_id:
            dependent["memberId"] = claim.patient.member_id
        dependent["relationshipToSubscriberCode"] = claim.relationship_code
        out["dependent"] = dependent
    for key, role in _CLAIM_PROVIDER_KEYS:
        provider = claim.provider(role)
        if provider is not None:
            out[key] = provider_json(provider, provider_type=PROVIDER_TYPE_OF[role])
    out["claimInformation"] = _claim_information_json(claim)
    return out
