"""Operations: healthcheck, OpenAPI, request ids, JSON logs without PHI, 413/404/405/500."""

from __future__ import annotations

import json
import re

import pytest

from api.app import create_app
from api.openapi import OPERATIONS
from api.settings import Settings
from claims.sources import SAMPLES_DIR
from knowledge_packs import bundled_pack_dirs
from tests.api.conftest import Api, build_api

PROF = "/v1/claims/professional/scrub"


def test_healthcheck(api: Api) -> None:
    resp = api.client.get("/healthcheck")
    assert resp.status_code == 200
    body = resp.json
    assert body["status"] == "UP" and body["store"] == "UP"
    assert set(body["versions"]) == {d.name for d in bundled_pack_dirs()}
    assert body["loaded"] >= 3


def test_healthcheck_down_when_store_unreachable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path}/nope/../x.db", secret_key="k", warm_packs=True)
    )
    resp = app.test_client().get("/healthcheck")
    assert resp.status_code == 503
    assert resp.json["store"] == "DOWN"


def test_openapi_is_31_and_matches_the_url_map(api: Api) -> None:
    doc = api.client.get("/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    schemas = doc["components"]["schemas"]
    assert "ProfessionalClaimRequest" in schemas and "TokenRequest" in schemas
    served = set()
    for rule in api.app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:  # type: ignore[operator]
            served.add((method.lower(), path))
            view = api.app.view_functions[rule.endpoint]
            op = next(o for o in OPERATIONS if (o.method, o.path) == (method.lower(), path))
            assert frozenset(op.roles) == getattr(view, "required_roles", frozenset())
    assert served == {(m, p) for m, p in doc_ops(doc)}


def doc_ops(doc: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(m, p) for p, item in doc["paths"].items() for m in item]


def test_request_body_schema_is_the_validating_model(api: Api) -> None:
    from claims.optum import ProfessionalClaimRequest

    doc = api.client.get("/openapi.json").json
    mine = doc["components"]["schemas"]["ProfessionalClaimRequest"]
    direct = ProfessionalClaimRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    assert set(mine["properties"]) == set(direct["properties"])
    assert mine.get("required") == direct.get("required")


def test_request_id_generated_and_echoed(api: Api) -> None:
    resp = api.client.get("/healthcheck")
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-Id"])
    resp = api.client.get("/healthcheck", headers={"X-Request-Id": "abc-123"})
    assert resp.headers["X-Request-Id"] == "abc-123"
    resp = api.client.get("/nope", headers={"X-Request-Id": "bad id with spaces"})
    assert resp.headers["X-Request-Id"] != "bad id with spaces"
    assert resp.json["requestId"] == resp.headers["X-Request-Id"]


def test_json_logs_have_request_fields_and_no_body(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    claim = (SAMPLES_DIR / "professional-edits.json").read_text()
    capsys.readouterr()
    resp = api.client.post(
        PROF,
        data=claim,
        headers={**api.auth("submitter"), "X-Request-Id": "rid-1"},
        content_type="application/json",
    )
    assert resp.status_code == 200
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    mine = [x for x in lines if x.get("request_id") == "rid-1"]
    assert mine, err
    line = mine[-1]
    assert line["method"] == "POST" and line["path"] == PROF and line["status"] == 200
    assert line["client_id"] == api.creds["submitter"][0]
    assert isinstance(line["duration_ms"], float)
    for secret in ("TESTPCN0002", "P0739", api.creds["submitter"][1]):
        assert secret not in err


def test_413_is_problem_json(store_url: str) -> None:
    small = build_api(store_url, max_content_length=1000)
    resp = small.client.post(
        PROF,
        data=b"[" + b" " * 2000 + b"]",
        headers=small.auth("submitter"),
        content_type="application/json",
    )
    assert resp.status_code == 413
    assert resp.mimetype == "application/problem+json"
    assert resp.json["status"] == 413


def test_404_and_405_are_problem_json(api: Api) -> None:
    resp = api.client.get("/v1/nothing")
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    assert resp.json["title"] == "Not Found"
    resp = api.client.get("/v1/oauth/token")
    assert resp.status_code == 405 and resp.json["status"] == 405
    assert "POST" in resp.headers["Allow"]
    resp = api.client.get("/v1/packs/nope/versions", headers=api.auth("author"))
    assert resp.status_code == 404 and resp.json["type"].endswith("not-found")


def test_unexpected_exception_is_problem_500_logging_the_class_only(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    app = api.app

    def boom() -> str:
        raise RuntimeError("secret claim data 123-45-6789")

    app.add_url_rule("/boom", "boom", boom)
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    capsys.readouterr()
    resp = app.test_client().get("/boom")
    assert resp.status_code == 500
    assert resp.mimetype == "application/problem+json"
    assert "123-45-6789" not in resp.get_data(as_text=True)
    err = capsys.readouterr().err
    assert "RuntimeError" in err and "123-45-6789" not in err
