"""Token endpoint (RFC 6749 errors), token expiry with an injected clock, revocation, lockout."""

from __future__ import annotations

import base64

from sqlalchemy import select

from store import make_engine, make_sessionmaker, revoke_client
from store.models import AuditEvent
from tests.api.conftest import Api

TOKEN = "/v1/oauth/token"
PROF = "/v1/claims/professional/scrub"


def grant(cid: str, secret: str) -> dict[str, str]:
    return {"client_id": cid, "client_secret": secret, "grant_type": "client_credentials"}


def test_token_form_json_and_basic(api: Api) -> None:
    cid, secret = api.creds["submitter"]
    for resp in (
        api.client.post(TOKEN, data=grant(cid, secret)),
        api.client.post(TOKEN, json=grant(cid, secret)),
        api.client.post(
            TOKEN,
            data={"grant_type": "client_credentials"},
            headers={
                "Authorization": "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()
            },
        ),
    ):
        assert resp.status_code == 200, resp.json
        assert resp.json["token_type"] == "bearer"
        assert resp.json["expires_in"] == 3600
        assert resp.json["access_token"]
        assert resp.headers["Cache-Control"] == "no-store"


def test_token_errors_follow_rfc6749(api: Api) -> None:
    cid, secret = api.creds["submitter"]
    cases = [
        ({"client_id": cid, "client_secret": secret}, 400, "invalid_request"),
        ({**grant(cid, secret), "grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "client_id": cid}, 400, "invalid_request"),
        (grant(cid, "wrong"), 401, "invalid_client"),
        (grant("cs_nobody", "wrong"), 401, "invalid_client"),
    ]
    for body, status, error in cases:
        resp = api.client.post(TOKEN, data=body)
        assert resp.status_code == status, body
        assert resp.json["error"] == error
        assert set(resp.json) == {"error", "error_description"}
    resp = api.client.post(TOKEN, data=b"{nope", content_type="application/json")
    assert resp.status_code == 400 and resp.json["error"] == "invalid_request"


def test_missing_invalid_and_expired_tokens_are_401(api: Api) -> None:
    resp = api.client.post(PROF, json={})
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"
    assert "Bearer" in resp.headers["WWW-Authenticate"]
    resp = api.client.post(PROF, json={}, headers={"Authorization": "Bearer garbage"})
    assert resp.status_code == 401
    resp = api.client.post(PROF, json={}, headers={"Authorization": "Basic abc"})
    assert resp.status_code == 401
    headers = api.auth("submitter")
    assert api.client.post(PROF, json={}, headers=headers).status_code == 422  # valid: reaches body
    api.clock.advance(3599)
    assert api.client.post(PROF, json={}, headers=headers).status_code == 422
    api.clock.advance(2)
    resp = api.client.post(PROF, json={}, headers=headers)
    assert resp.status_code == 401
    assert "expired" in resp.json["detail"]


def test_token_signed_with_other_key_is_rejected(api: Api, store_url: str) -> None:
    from api.app import create_app
    from api.settings import Settings

    other = create_app(Settings(database_url=store_url, secret_key="other", warm_packs=False))
    headers = api.auth("submitter")
    resp = other.test_client().post(PROF, json={}, headers=headers)
    assert resp.status_code == 401


def test_revoked_client_token_stops_working(api: Api) -> None:
    headers = api.auth("submitter")
    with make_sessionmaker(make_engine(api.url)).begin() as s:
        revoke_client(s, api.creds["submitter"][0])
    api.clock.advance(1.5)  # past the client cache interval
    assert api.client.post(PROF, json={}, headers=headers).status_code == 401
    cid, secret = api.creds["submitter"]
    assert api.client.post(TOKEN, data=grant(cid, secret)).status_code == 401


def test_lockout_after_five_failures_is_audited_and_expires(api: Api) -> None:
    cid, secret = api.creds["author"]
    for _ in range(4):
        assert api.client.post(TOKEN, data=grant(cid, "bad")).status_code == 401
        api.clock.advance(10)
    assert api.client.post(TOKEN, data=grant(cid, secret)).status_code == 200  # not yet locked
    resp = api.client.post(TOKEN, data=grant(cid, "bad"))  # fifth failure in 5 minutes
    assert resp.status_code == 401
    resp = api.client.post(TOKEN, data=grant(cid, secret))  # right secret, but locked
    assert resp.status_code == 401
    assert "locked" in resp.json["error_description"]
    with make_sessionmaker(make_engine(api.url)).begin() as s:
        actions = list(
            s.scalars(select(AuditEvent.action).where(AuditEvent.client == f"api:{cid}"))
        )
    assert actions.count("auth-failure") == 5
    assert actions.count("auth-lockout") == 1
    # Other clients are unaffected.
    other_cid, other_secret = api.creds["publisher"]
    assert api.client.post(TOKEN, data=grant(other_cid, other_secret)).status_code == 200
    api.clock.advance(901)
    assert api.client.post(TOKEN, data=grant(cid, secret)).status_code == 200
    # The count restarts after the lock: one more failure does not lock again.
    assert api.client.post(TOKEN, data=grant(cid, "bad")).status_code == 401
    assert api.client.post(TOKEN, data=grant(cid, secret)).status_code == 200


def test_failures_spread_over_more_than_the_window_do_not_lock(api: Api) -> None:
    cid, secret = api.creds["author"]
    for _ in range(8):
        assert api.client.post(TOKEN, data=grant(cid, "bad")).status_code == 401
        api.clock.advance(100)  # at most 3 failures within any 300 s
    assert api.client.post(TOKEN, data=grant(cid, secret)).status_code == 200


def test_admin_audit_shows_lockout(api: Api) -> None:
    cid, _ = api.creds["author"]
    for _ in range(5):
        api.client.post(TOKEN, data=grant(cid, "bad"))
    events = api.client.get("/v1/audit", headers=api.auth("admin")).json
    assert any(e["action"] == "auth-lockout" and e["client"] == f"api:{cid}" for e in events)
