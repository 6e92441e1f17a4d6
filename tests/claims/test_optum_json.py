"""Error reporting of the Optum JSON boundary: paths, syntax positions, and no PHI in messages."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from claims.model import ClaimKind
from claims.optum import ClaimJsonError, loc_to_path, parse_claim_json, parse_claims_json
from tests.claims.test_optum_examples import institutional_request, professional_request


def errors_of(data: Any, *, many: bool = False, **kwargs: Any) -> list[dict[str, Any]]:
    with pytest.raises(ClaimJsonError) as info:
        if many or isinstance(data, list):
            parse_claims_json(data, **kwargs)
        else:
            parse_claim_json(data, **kwargs)
    return [dict(e) for e in info.value.errors]


def paths(data: Any, *, many: bool = False, **kwargs: Any) -> list[str]:
    return [e["path"] for e in errors_of(data, many=many, **kwargs)]


def test_loc_to_path() -> None:
    assert loc_to_path(()) == ""
    assert loc_to_path((1, "a", 0, "b")) == "[1].a[0].b"
    assert loc_to_path(("claimInformation", "serviceLines", 1, "x")) == (
        "claimInformation.serviceLines[1].x"
    )


def test_wrong_type_is_reported_at_its_path_with_its_value() -> None:
    req = professional_request()
    req["claimInformation"]["placeOfServiceCode"] = 11
    (err,) = errors_of(req)
    assert err["path"] == "claimInformation.placeOfServiceCode"
    assert err["value"] == "11"


def test_bad_procedure_code_path() -> None:
    req = professional_request()
    req["claimInformation"]["serviceLines"][1]["professionalService"]["procedureCode"] = "J34-90"
    (err,) = errors_of(req)
    assert err["path"] == "claimInformation.serviceLines[1].professionalService.procedureCode"
    assert err["value"] == "J34-90"


def test_missing_required_field() -> None:
    req = institutional_request()
    del req["claimInformation"]["claimChargeAmount"]
    assert paths(req) == ["claimInformation.claimChargeAmount"]


def test_misspelt_field_is_rejected_at_its_path() -> None:
    req = professional_request()
    ci = req["claimInformation"]
    ci["claimChargeAmout"] = ci.pop("claimChargeAmount")
    errs = errors_of(req)
    assert {e["path"] for e in errs} == {
        "claimInformation.claimChargeAmount",  # missing
        "claimInformation.claimChargeAmout",  # not in Optum's schema
    }


def test_documented_but_unmodelled_fields_are_accepted() -> None:
    req = professional_request()
    req["claimInformation"]["claimNote"] = {"additionalInformation": "anything"}
    req["payToAddress"] = {"address1": "1 PAY ST", "city": "X"}
    parse_claim_json(req)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("20240230", "day is out of range"),
        ("20241301", "month must be"),
        ("2024-01-02", "YYYYMMDD"),
    ],
)
def test_bad_service_date(value: str, fragment: str) -> None:
    req = professional_request()
    req["claimInformation"]["serviceLines"][0]["serviceDate"] = value
    (err,) = errors_of(req)
    assert err["path"] == "claimInformation.serviceLines[0].serviceDate"
    assert fragment in err["message"]
    assert err["value"] == value


@pytest.mark.parametrize("value", ["12,50", "1e3", "", "NaN", True, [1]])
def test_bad_amount(value: object) -> None:
    req = institutional_request()
    req["claimInformation"]["serviceLines"][0]["institutionalService"]["lineItemChargeAmount"] = (
        value
    )
    assert paths(req) == [
        "claimInformation.serviceLines[0].institutionalService.lineItemChargeAmount"
    ]


def test_json_numbers_are_read_exactly() -> None:
    req = professional_request()
    text = json.dumps(req).replace('"128.75"', "12345678901234567.891")
    assert parse_claim_json(text).total_charge == Decimal("12345678901234567.891")
    req["claimInformation"]["claimChargeAmount"] = 0.1  # a Python float from a caller's dict
    assert parse_claim_json(req).total_charge == Decimal("0.1")


def test_invalid_json_text_reports_line_and_column() -> None:
    text = '{\n  "controlNumber": "1",\n  "submitter": {,}\n}'
    (err,) = errors_of(text)
    assert (err["path"], err["line"], err["column"]) == ("", 3, 17)
    assert err["message"].startswith("invalid JSON")
    (err,) = errors_of(text.encode())
    assert err["line"] == 3


def test_list_with_one_bad_claim_prefixes_the_index() -> None:
    bad = institutional_request()
    bad["claimInformation"]["serviceLines"][1]["assignedNumber"] = "0"
    good = professional_request()
    assert paths([good, bad]) == ["[1].claimInformation.serviceLines[1].assignedNumber"]
    assert paths(json.dumps([good, bad, bad]), many=True) == [
        "[1].claimInformation.serviceLines[1].assignedNumber",
        "[2].claimInformation.serviceLines[1].assignedNumber",
    ]
    assert len(parse_claims_json([good, institutional_request()])) == 2
    assert len(parse_claims_json(good)) == 1


@pytest.mark.parametrize(
    ("where", "key", "value"),
    [
        ("subscriber", "memberId", 98765432101),
        ("subscriber", "dateOfBirth", "19801340"),
        ("dependent", "dateOfBirth", "20151399"),
        ("subscriber", "firstName", 4242),
    ],
)
def test_phi_values_never_appear_in_errors(where: str, key: str, value: object) -> None:
    req = professional_request()
    req[where][key] = value
    with pytest.raises(ClaimJsonError) as info:
        parse_claim_json(req)
    (err,) = info.value.errors
    assert err["path"] == f"{where}.{key}"
    assert "value" not in err
    assert str(value) not in str(info.value)
    assert str(value) not in err["message"]


def test_misspelt_phi_field_does_not_echo_its_value() -> None:
    req = professional_request()
    req["subscriber"]["memberID"] = "SECRET123"
    with pytest.raises(ClaimJsonError) as info:
        parse_claim_json(req)
    assert info.value.errors[0]["path"] == "subscriber.memberID"
    assert "SECRET123" not in str(info.value)


def test_kind_mismatch_and_undetectable_kind() -> None:
    assert "claimInformation.serviceLines[0].professionalService" in paths(
        professional_request(), kind=ClaimKind.INSTITUTIONAL
    )
    req = professional_request()
    req["claimInformation"]["serviceLines"] = []
    del req["claimInformation"]["healthCareCodeInformation"]
    del req["claimInformation"]["relatedCausesCode"]
    del req["claimInformation"]["autoAccidentStateCode"]
    del req["claimInformation"]["conditionInformation"]
    (err,) = errors_of(req)
    assert "pass kind" in err["message"]
    assert paths([req], kind=ClaimKind.PROFESSIONAL) == [
        "[0].claimInformation.healthCareCodeInformation"
    ]
    req["claimInformation"]["healthCareCodeInformation"] = []
    assert parse_claims_json([req])[0].lines == ()


def test_not_an_object() -> None:
    assert errors_of("[1, 2]")[0]["message"] == "a claim must be a JSON object"
    assert paths([1]) == ["[0]"]


def test_provider_with_two_kinds_of_name() -> None:
    req = professional_request()
    req["billing"]["lastName"] = "DOE"
    assert paths(req) == ["billing"]


def test_codes_are_normalised() -> None:
    req = professional_request()
    req["claimInformation"]["serviceLines"][0]["professionalService"]["procedureCode"] = " 99213 "
    req["claimInformation"]["healthCareCodeInformation"][0]["diagnosisCode"] = "s52.501a"
    claim = parse_claim_json(req)
    assert claim.lines[0].procedure_code == "99213"
    assert claim.diagnoses[0].code == "S52501A"
