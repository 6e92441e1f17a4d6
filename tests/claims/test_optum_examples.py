"""Example Optum requests for the JSON boundary tests, with the domain claims they must become."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

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
from claims.optum import claim_to_json, parse_claim_json


def professional_request() -> dict[str, Any]:
    """A professional request using most modelled properties and a few unmodelled ones."""
    return {
        "controlNumber": "000000001",
        "tradingPartnerServiceId": "87726",
        "tradingPartnerName": "UNITEDHEALTHCARE",
        "usageIndicator": "T",
        "submitter": {
            "organizationName": "REGIONAL PPO NETWORK",
            "contactInformation": {"name": "SUBMITTER CONTACT", "phoneNumber": "5554567890"},
        },
        "receiver": {"organizationName": "EXTRA HEALTHY INSURANCE"},
        "subscriber": {
            "memberId": "0000000001",
            "paymentResponsibilityLevelCode": "P",
            "firstName": "JOHNONE",
            "lastName": "DOEONE",
            "gender": "M",
            "dateOfBirth": "19800102",
            "policyNumber": "00001",
            "address": {
                "address1": "123 ADDRESS1",
                "city": "CITY1",
                "state": "WA",
                "postalCode": "981010000",
            },
        },
        "dependent": {
            "firstName": "JANEONE",
            "lastName": "DOEONE",
            "gender": "F",
            "dateOfBirth": "20150102",
            "relationshipToSubscriberCode": "19",
        },
        "billing": {
            "providerType": "BillingProvider",
            "npi": "1760854442",
            "employerId": "123456789",
            "taxonomyCode": "207q00000x",
            "organizationName": "HAPPY DOCTORS GROUPPRACTICE",
            "address": {"address1": "000 ADDRESS1", "city": "CITY2"},
        },
        "rendering": {
            "providerType": "RenderingProvider",
            "npi": "1234567893",
            "firstName": "JANE",
            "lastName": "DOCTOR",
        },
        "claimInformation": {
            "claimFilingCode": "CI",
            "patientControlNumber": "12345",
            "claimChargeAmount": "128.75",
            "placeOfServiceCode": "11",
            "claimFrequencyCode": "1",
            "signatureIndicator": "Y",
            "planParticipationCode": "A",
            "benefitsAssignmentCertificationIndicator": "Y",
            "releaseInformationCode": "Y",
            "relatedCausesCode": ["AA"],
            "autoAccidentStateCode": "NY",
            "claimDateInformation": {"symptomDate": "20240101", "accidentDate": "20240101"},
            "claimSupplementalInformation": {
                "priorAuthorizationNumber": "PA123",
                "claimControlNumber": "ORIG1",
                "medicalRecordNumber": "MR1",
            },
            "healthCareCodeInformation": [
                {"diagnosisTypeCode": "ABK", "diagnosisCode": "S52.501A"},
                {"diagnosisTypeCode": "ABF", "diagnosisCode": "V4352XA"},
            ],
            "conditionInformation": [{"conditionCodes": ["01", "02"]}],
            "serviceFacilityLocation": {
                "organizationName": "HAPPY DOCTORS CLINIC",
                "npi": "1234567801",
                "address": {"address1": "9 CLINIC WAY", "city": "CITY3"},
            },
            "serviceLines": [
                {
                    "assignedNumber": "1",
                    "serviceDate": "20240102",
                    "professionalService": {
                        "procedureIdentifier": "HC",
                        "procedureCode": "99213",
                        "procedureModifiers": ["25"],
                        "lineItemChargeAmount": "100.00",
                        "measurementUnit": "UN",
                        "serviceUnitCount": "1",
                        "compositeDiagnosisCodePointers": {"diagnosisCodePointers": ["1", "2"]},
                        "emergencyIndicator": "Y",
                        "epsdtIndicator": "Y",
                    },
                },
                {
                    "assignedNumber": "2",
                    "serviceDate": "20240102",
                    "serviceDateEnd": "20240103",
                    "professionalService": {
                        "procedureIdentifier": "HC",
                        "procedureCode": "J3490",
                        "lineItemChargeAmount": 28.75,
                        "measurementUnit": "UN",
                        "serviceUnitCount": "1.5",
                        "placeOfServiceCode": "22",
                        "compositeDiagnosisCodePointers": {"diagnosisCodePointers": ["1"]},
                    },
                    "drugIdentification": {
                        "serviceIdQualifier": "N4",
                        "nationalDrugCode": "00002143380",
                        "nationalDrugUnitCount": "2",
                        "measurementUnitCode": "ML",
                    },
                    "renderingProvider": {
                        "providerType": "RenderingProvider",
                        "npi": "1234567893",
                        "lastName": "NURSE",
                    },
                },
            ],
        },
    }


def professional_claim() -> Claim:
    """The domain claim ``professional_request()`` must become."""
    return Claim(
        kind=ClaimKind.PROFESSIONAL,
        control_number="000000001",
        patient_control_number="12345",
        total_charge=Decimal("128.75"),
        facility_code="11",
        frequency_code="1",
        claim_filing_code="CI",
        payer=Party("UNITEDHEALTHCARE", "87726"),
        submitter=Party("REGIONAL PPO NETWORK"),
        receiver=Party("EXTRA HEALTHY INSURANCE"),
        subscriber=Person(
            last_name="DOEONE",
            first_name="JOHNONE",
            member_id="0000000001",
            birth_date=date(1980, 1, 2),
            sex="M",
            address_line="123 ADDRESS1",
            city="CITY1",
            state="WA",
            postal_code="981010000",
        ),
        payment_responsibility="P",
        patient=Person(
            last_name="DOEONE", first_name="JANEONE", birth_date=date(2015, 1, 2), sex="F"
        ),
        relationship_code="19",
        providers=(
            Provider(
                ProviderRole.BILLING,
                npi="1760854442",
                taxonomy="207Q00000X",
                entity_type="2",
                last_name="HAPPY DOCTORS GROUPPRACTICE",
                tax_id="123456789",
            ),
            Provider(
                ProviderRole.RENDERING,
                npi="1234567893",
                entity_type="1",
                last_name="DOCTOR",
                first_name="JANE",
            ),
            Provider(
                ProviderRole.SERVICE_FACILITY,
                npi="1234567801",
                entity_type="2",
                last_name="HAPPY DOCTORS CLINIC",
            ),
        ),
        diagnoses=(
            Diagnosis("S52501A", DiagnosisRole.PRINCIPAL),
            Diagnosis("V4352XA", DiagnosisRole.OTHER),
        ),
        onset_date=date(2024, 1, 1),
        condition_codes=("01", "02"),
        prior_authorization="PA123",
        original_reference_number="ORIG1",
        related_causes=("AA",),
        auto_accident_state="NY",
        lines=(
            ServiceLine(
                number=1,
                charge=Decimal("100.00"),
                units=Decimal(1),
                procedure_code="99213",
                modifiers=("25",),
                service_date=date(2024, 1, 2),
                diagnosis_pointers=(1, 2),
                emergency=True,
            ),
            ServiceLine(
                number=2,
                charge=Decimal("28.75"),
                units=Decimal("1.5"),
                procedure_code="J3490",
                service_date=date(2024, 1, 2),
                service_date_end=date(2024, 1, 3),
                place_of_service="22",
                diagnosis_pointers=(1,),
                ndc="00002143380",
                ndc_quantity=Decimal(2),
                ndc_unit="ML",
                providers=(
                    Provider(
                        ProviderRole.RENDERING, npi="1234567893", entity_type="1", last_name="NURSE"
                    ),
                ),
            ),
        ),
    )


def institutional_request() -> dict[str, Any]:
    """An institutional request using most modelled properties and a few unmodelled ones."""
    return {
        "controlNumber": "000000002",
        "tradingPartnerServiceId": "87726",
        "submitter": {
            "organizationName": "REGIONAL PPO NETWORK",
            "taxId": "12345",
            "contactInformation": {"name": "JANETWO DOETWO"},
        },
        "receiver": {"organizationName": "EXTRA HEALTHY INSURANCE", "taxId": "67890"},
        "subscriber": {
            "memberId": "0000000002",
            "paymentResponsibilityLevelCode": "S",
            "firstName": "JOHNTWO",
            "lastName": "DOETWO",
            "gender": "M",
            "dateOfBirth": "19800101",
        },
        "providers": [
            {"providerType": "BillingProvider", "npi": "1760854442", "organizationName": "HOSP"},
        ],
        "billing": {
            "providerType": "BillingProvider",
            "npi": "9999999999",
            "organizationName": "OVERRIDDEN",
        },
        "attending": {
            "providerType": "AttendingProvider",
            "npi": "1234567893",
            "taxonomyCode": "207RC0000X",
            "firstName": "ANN",
            "lastName": "ATTEND",
        },
        "operatingPhysician": {"lastName": "CUTTER", "firstName": "BO", "npi": "1234567801"},
        "claimInformation": {
            "claimFilingCode": "MA",
            "patientControlNumber": "PCN2",
            "claimChargeAmount": "1075.50",
            "placeOfServiceCode": "11",
            "claimFrequencyCode": "1",
            "planParticipationCode": "A",
            "benefitsAssignmentCertificationIndicator": "Y",
            "releaseInformationCode": "Y",
            "claimDateInformation": {
                "admissionDateAndHour": "202401010830",
                "statementBeginDate": "20240101",
                "statementEndDate": "20240105",
                "dischargeHour": "1100",
            },
            "claimSupplementalInformation": {
                "priorAuthorizationNumber": "PA9",
                "autoAccidentState": "NJ",
            },
            "claimCodeInformation": {
                "admissionTypeCode": "1",
                "admissionSourceCode": "7",
                "patientStatusCode": "01",
            },
            "principalDiagnosis": {
                "qualifierCode": "ABK",
                "principalDiagnosisCode": "I21.4",
                "presentOnAdmissionIndicator": "Y",
            },
            "admittingDiagnosis": {"qualifierCode": "ABJ", "admittingDiagnosisCode": "R079"},
            "patientReasonForVisits": [
                {"qualifierCode": "APR", "patientReasonForVisitCode": "R0789"}
            ],
            "externalCauseOfInjuries": [
                {
                    "qualifierCode": "ABN",
                    "externalCauseOfInjury": "W010XXA",
                    "presentOnAdmissionIndicator": "N",
                }
            ],
            "otherDiagnosisInformationList": [
                [
                    {
                        "qualifierCode": "ABF",
                        "otherDiagnosisCode": "E119",
                        "presentOnAdmissionIndicator": "Y",
                    },
                    {"qualifierCode": "ABF", "otherDiagnosisCode": "I10"},
                ]
            ],
            "principalProcedureInformation": {
                "qualifierCode": "BBR",
                "principalProcedureCode": "02703ZZ",
                "principalProcedureDate": "20240102",
            },
            "otherProcedureInformationList": [
                [{"qualifierCode": "BBQ", "otherProcedureCode": "B2111ZZ"}]
            ],
            "occurrenceInformationList": [
                [{"occurrenceSpanCode": "11", "occurrenceSpanCodeDate": "20231231"}]
            ],
            "occurrenceSpanInformations": [
                [
                    {
                        "occurrenceSpanCode": "70",
                        "occurrenceSpanCodeStartDate": "20231201",
                        "occurrenceSpanCodeEndDate": "20231203",
                    }
                ]
            ],
            "valueInformationList": [[{"valueCode": "80", "valueCodeAmount": "4"}]],
            "conditionCodesList": [[{"conditionCode": "01"}, {"conditionCode": "39"}]],
            "serviceLines": [
                {
                    "assignedNumber": "1",
                    "serviceDate": "20240101",
                    "institutionalService": {
                        "serviceLineRevenueCode": "0120",
                        "lineItemChargeAmount": "1000.00",
                        "measurementUnit": "DA",
                        "serviceUnitCount": "4",
                        "nonCoveredChargeAmount": "0",
                    },
                },
                {
                    "assignedNumber": "2",
                    "institutionalService": {
                        "serviceLineRevenueCode": "0300",
                        "procedureIdentifier": "HC",
                        "procedureCode": "80053",
                        "procedureModifiers": ["91"],
                        "lineItemChargeAmount": "75.50",
                        "measurementUnit": "UN",
                        "serviceUnitCount": "1",
                    },
                },
            ],
        },
    }


def institutional_claim() -> Claim:
    """The domain claim ``institutional_request()`` must become."""
    return Claim(
        kind=ClaimKind.INSTITUTIONAL,
        control_number="000000002",
        patient_control_number="PCN2",
        total_charge=Decimal("1075.50"),
        facility_code="11",
        frequency_code="1",
        claim_filing_code="MA",
        payer=Party("", "87726"),
        submitter=Party("REGIONAL PPO NETWORK", "12345"),
        receiver=Party("EXTRA HEALTHY INSURANCE", "67890"),
        subscriber=Person(
            last_name="DOETWO",
            first_name="JOHNTWO",
            member_id="0000000002",
            birth_date=date(1980, 1, 1),
            sex="M",
        ),
        payment_responsibility="S",
        providers=(
            Provider(ProviderRole.BILLING, npi="1760854442", entity_type="2", last_name="HOSP"),
            Provider(
                ProviderRole.ATTENDING,
                npi="1234567893",
                taxonomy="207RC0000X",
                entity_type="1",
                last_name="ATTEND",
                first_name="ANN",
            ),
            Provider(
                ProviderRole.OPERATING,
                npi="1234567801",
                entity_type="1",
                last_name="CUTTER",
                first_name="BO",
            ),
        ),
        diagnoses=(
            Diagnosis("I214", DiagnosisRole.PRINCIPAL, poa="Y"),
            Diagnosis("R079", DiagnosisRole.ADMITTING),
            Diagnosis("R0789", DiagnosisRole.REASON_FOR_VISIT),
            Diagnosis("W010XXA", DiagnosisRole.EXTERNAL_CAUSE, poa="N"),
            Diagnosis("E119", DiagnosisRole.OTHER, poa="Y"),
            Diagnosis("I10", DiagnosisRole.OTHER),
        ),
        procedures=(
            Procedure("02703ZZ", date(2024, 1, 2), principal=True),
            Procedure("B2111ZZ"),
        ),
        statement_from=date(2024, 1, 1),
        statement_to=date(2024, 1, 5),
        admission_date=date(2024, 1, 1),
        admission_type_code="1",
        admission_source_code="7",
        patient_status_code="01",
        condition_codes=("01", "39"),
        occurrence_codes=(CodeDate("11", date(2023, 12, 31)),),
        occurrence_spans=(CodeSpan("70", date(2023, 12, 1), date(2023, 12, 3)),),
        value_codes=(CodeAmount("80", Decimal(4)),),
        prior_authorization="PA9",
        auto_accident_state="NJ",
        lines=(
            ServiceLine(
                number=1,
                charge=Decimal("1000.00"),
                units=Decimal(4),
                revenue_code="0120",
                unit_type="DA",
                service_date=date(2024, 1, 1),
            ),
            ServiceLine(
                number=2,
                charge=Decimal("75.50"),
                units=Decimal(1),
                procedure_code="80053",
                modifiers=("91",),
                revenue_code="0300",
            ),
        ),
    )


def test_professional_example_parses_to_the_expected_claim() -> None:
    assert parse_claim_json(json.dumps(professional_request())) == professional_claim()


def test_institutional_example_parses_to_the_expected_claim() -> None:
    assert parse_claim_json(institutional_request()) == institutional_claim()


@pytest.mark.parametrize(
    "claim", [professional_claim(), institutional_claim()], ids=["professional", "institutional"]
)
def test_examples_round_trip(claim: Claim) -> None:
    text = json.dumps(claim_to_json(claim))  # only strings: no Decimal/date leaks into the JSON
    assert parse_claim_json(text) == claim


def test_explicit_kind_matches_detection() -> None:
    assert parse_claim_json(professional_request(), ClaimKind.PROFESSIONAL) == professional_claim()


def test_providers_array_overrides_named_property() -> None:
    billing = institutional_claim().provider(ProviderRole.BILLING)
    assert billing is not None
    assert billing.npi == "1760854442"
