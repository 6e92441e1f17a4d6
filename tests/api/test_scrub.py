"""Scrub endpoints: JSON (one claim or a list), X12, pack selection, structural errors, history."""

from __future__ import annotations

import json
from typing import Any

from claims.optum import parse_claims_json
from claims.sources import SAMPLES_DIR
from claims.x12 import write_x12
from store import (
    Actor,
    create_draft,
    make_engine,
    make_sessionmaker,
    promote,
    publish,
    scrubs_for_claim,
)
from tests.api.conftest import Api

PROF = "/v1/claims/professional/scrub"
INST = "/v1/claims/institutional/scrub"
X12 = "/v1/claims/x12/scrub"


def sample(name: str) -> Any:
    return json.loads((SAMPLES_DIR / f"{name}.json").read_text())


def test_clean_professional_claim_is_success_object(api: Api) -> None:
    resp = api.client.post(PROF, json=sample("professional-clean"), headers=api.auth("submitter"))
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert isinstance(body, dict)
    assert body["status"] == "SUCCESS"
    assert body["errors"] == []
    assert body["claimReference"]["claimType"] == "PROF"


def test_claim_with_edits_is_200_edits_in_optum_shape(api: Api) -> None:
    resp = api.client.post(PROF, json=sample("professional-edits"), headers=api.auth("submitter"))
    assert resp.status_code == 200
    body = resp.json
    assert body["status"] == "EDITS"
    first = body["errors"][0]
    for key in ("field", "value", "code", "description", "followupAction", "location", "ruleId"):
        assert key in first
    assert first["pack"] and first["packVersion"]
    assert "explanation" not in first


def test_explain_adds_explanations(api: Api) -> None:
    resp = api.client.post(
        PROF + "?explain=true", json=sample("professional-edits"), headers=api.auth("submitter")
    )
    assert resp.status_code == 200
    assert any("explanation" in e for e in resp.json["errors"])


def test_list_gives_list_and_institutional_endpoint(api: Api) -> None:
    claims = [sample("professional-clean"), sample("professional-edits")]
    resp = api.client.post(PROF, json=claims, headers=api.auth("submitter"))
    assert resp.status_code == 200
    assert [e["status"] for e in resp.json] == ["SUCCESS", "EDITS"]
    resp = api.client.post(INST, json=sample("institutional-edits"), headers=api.auth("submitter"))
    assert resp.status_code == 200
    assert resp.json["claimReference"]["claimType"] == "INST"
    assert resp.json["status"] == "EDITS"


def test_packs_parameter_narrows_and_pins(api: Api) -> None:
    edits = sample("professional-edits")
    h = api.auth("submitter")
    resp = api.client.post(PROF + "?packs=medicare", json=edits, headers=h)
    assert resp.status_code == 200
    assert {e["pack"] for e in resp.json["errors"]} <= {"medicare"}
    resp = api.client.post(PROF + "?packs=general-professional@1.1.0", json=edits, headers=h)
    assert resp.status_code == 200
    assert {e["packVersion"] for e in resp.json["errors"]} == {"1.1.0"}
    resp = api.client.post(PROF + "?packs=general-professional@9.9", json=edits, headers=h)
    assert resp.status_code == 422
    resp = api.client.post(PROF + "?packs=@", json=edits, headers=h)
    assert resp.status_code == 422


def test_unsubscribed_pack_is_forbidden_and_no_subscription_is_422(api: Api) -> None:
    cid, secret = api.make_client("narrow", ["submitter"], ("medicare",))
    tok = api.client.post(
        "/v1/oauth/token",
        json={"client_id": cid, "client_secret": secret, "grant_type": "client_credentials"},
    ).json["access_token"]
    h = {"Authorization": f"Bearer {tok}"}
    resp = api.client.post(
        PROF + "?packs=general-professional", json=sample("professional-edits"), headers=h
    )
    assert resp.status_code == 403
    assert resp.mimetype == "application/problem+json"
    cid, secret = api.make_client("none", ["submitter"], ())
    tok = api.client.post(
        "/v1/oauth/token",
        json={"client_id": cid, "client_secret": secret, "grant_type": "client_credentials"},
    ).json["access_token"]
    resp = api.client.post(
        PROF, json=sample("professional-edits"), headers={"Authorization": f"Bearer {tok}"}
    )
    assert resp.status_code == 422


def test_bad_json_is_400_with_line_and_column(api: Api) -> None:
    resp = api.client.post(
        PROF,
        data=b'{"claimInformation": [1, }',
        headers=api.auth("submitter"),
        content_type="application/json",
    )
    assert resp.status_code == 400
    assert resp.mimetype == "application/problem+json"
    err = resp.json["errors"][0]
    assert err["line"] == 1 and err["column"] > 1


def test_missing_required_field_is_422_with_path(api: Api) -> None:
    claim = sample("professional-clean")
    del claim["claimInformation"]["serviceLines"][0]["professionalService"]["procedureCode"]
    resp = api.client.post(PROF, json=[claim], headers=api.auth("submitter"))
    assert resp.status_code == 422
    paths = [e["path"] for e in resp.json["errors"]]
    assert any(p.startswith("[0].claimInformation.serviceLines[0]") for p in paths), paths


def test_non_claim_bodies_never_500(api: Api) -> None:
    h = api.auth("submitter")
    for body in (b"[]", b"1", b'"x"', b"null", b"{}", b"\xff\xfe", b"[[[]]]", b"1e999999"):
        resp = api.client.post(PROF, data=body, headers=h, content_type="application/json")
        assert resp.status_code in (400, 422), (body, resp.status_code)
        assert resp.json["status"] == resp.status_code


def _x12(names: list[str]) -> bytes:
    claims = [c for n in names for c in parse_claims_json(sample(n))]
    return write_x12(claims)


def test_x12_scrub_many_claims(api: Api) -> None:
    body = _x12(["professional-clean", "professional-edits", "institutional-edits"])
    resp = api.client.post(
        X12, data=body, headers=api.auth("submitter"), content_type="application/edi-x12"
    )
    assert resp.status_code == 200, resp.json
    assert [e["status"] for e in resp.json] == ["SUCCESS", "EDITS", "EDITS"]


def test_x12_not_x12_is_400_and_broken_envelope_is_422_located(api: Api) -> None:
    h = api.auth("submitter")
    resp = api.client.post(X12, data=b"hello", headers=h)
    assert resp.status_code == 400
    assert resp.json["errors"][0]["code"].startswith("X12-E")
    body = _x12(["professional-clean"]).replace(b"IEA*1*", b"IEA*2*")
    resp = api.client.post(X12, data=body, headers=h)
    assert resp.status_code == 422, resp.json
    err = resp.json["errors"][0]
    assert err["code"] == "X12-E010"
    assert {"segment", "segmentId", "loop", "element", "byteOffset"} <= set(err)


def test_x12_samples_from_reference(api: Api, x12_samples_dir: Any) -> None:
    files = sorted(p for p in x12_samples_dir.rglob("*") if p.is_file())[:6]
    h = api.auth("submitter")
    for path in files:
        resp = api.client.post(X12, data=path.read_bytes(), headers=h)
        assert resp.status_code in (200, 400, 422), (path.name, resp.status_code)
        if resp.status_code == 200:
            assert isinstance(resp.json, list)


def test_scrub_is_recorded_with_hashed_control_number(api: Api) -> None:
    claim = sample("professional-edits")
    resp = api.client.post(PROF, json=claim, headers=api.auth("submitter"))
    control = resp.json["controlNumber"]
    with make_sessionmaker(make_engine(api.url)).begin() as s:
        records = scrubs_for_claim(s, control)
        assert len(records) == 1
        assert records[0].status == "EDITS"
        assert records[0].claim_key != control
        assert {v.version.pack.name for v in records[0].versions} >= {"general-professional"}
        assert all("description" not in e for e in records[0].edits)


def test_promoted_version_is_picked_up_without_restart(api: Api) -> None:
    h = api.auth("submitter")
    claim = sample("professional-clean")
    first = api.client.post(PROF + "?packs=general-professional", json=claim, headers=h)
    assert first.status_code == 200
    by = Actor("tester")
    with make_sessionmaker(make_engine(api.url)).begin() as s:
        create_draft(s, "general-professional", by=by, version="1.1.1")
        publish(s, "general-professional", by=by, note="test")
        promote(s, "general-professional", "1.1.1", "production", by=by)
    api.clock.advance(2)
    resp = api.client.post(
        PROF + "?packs=general-professional", json=sample("professional-edits"), headers=h
    )
    assert resp.status_code == 200
    assert {e["packVersion"] for e in resp.json["errors"]} == {"1.1.1"}
    health = api.client.get("/healthcheck").json
    assert health["versions"]["general-professional"] == "1.1.1"
