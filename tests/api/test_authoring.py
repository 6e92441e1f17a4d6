"""Authoring over HTTP: draft, save (diagnostics), validate, cases, diff, publish, 409, rollback."""

from __future__ import annotations

from knowledge_packs import bundled_pack_dirs
from tests.api.conftest import Api

P = "/v1/packs/medicare"
RULE = "rules/mue.rules"


def test_read_packs_versions_and_files(api: Api) -> None:
    h = api.auth("author")
    packs = api.client.get("/v1/packs", headers=h).json
    assert {p["name"] for p in packs} == {d.name for d in bundled_pack_dirs()}
    versions = api.client.get(f"{P}/versions", headers=h).json
    assert versions[0]["status"] == "published" and versions[0]["active"]
    v = api.client.get(f"{P}/versions/0.1.0", headers=h).json
    assert any(f["path"] == RULE for f in v["files"])
    f = api.client.get(f"{P}/versions/0.1.0/files/{RULE}", headers=h).json
    assert "MCR-0002" in f["content"]
    assert api.client.get(f"{P}/versions/0.1.0/files/nope.txt", headers=h).status_code == 404
    assert api.client.get(f"{P}/versions/9/files/{RULE}", headers=h).status_code == 404


def test_full_authoring_cycle(api: Api) -> None:
    a, p = api.auth("author"), api.auth("publisher")
    resp = api.client.post(f"{P}/drafts", json={"version": "0.2.0"}, headers=a)
    assert resp.status_code == 201, resp.json
    assert resp.json["status"] == "draft"
    rev = resp.json["revision"]
    # A second draft while one is open: 409.
    assert api.client.post(f"{P}/drafts", json={}, headers=a).status_code == 409
    text = api.client.get(f"{P}/versions/draft/files/{RULE}", headers=a).json["content"]
    # A broken rule is saved with diagnostics carrying spans.
    broken = text.replace("severity error", "severity errror", 1)
    resp = api.client.put(f"{P}/draft/files/{RULE}", json={"content": broken}, headers=a)
    assert resp.status_code == 200, resp.json
    saved = resp.json
    assert saved["compiled"] is True and saved["revision"] > rev
    errors = [d for d in saved["diagnostics"] if d["severity"] == "error"]
    assert errors
    d = errors[0]
    assert d["file"].endswith("mue.rules") and d["line"] > 0 and d["column"] > 0
    assert {"end_line", "end_column", "code", "message"} <= set(d)
    # Validation reports it; publishing is refused with the diagnostics.
    report = api.client.post(f"{P}/versions/draft/validate", headers=a).json
    assert report["ok"] is False and report["issues"]
    cases = api.client.post(f"{P}/versions/draft/test", headers=a)
    assert cases.status_code == 422, cases.json
    assert cases.json["title"] == "Cases cannot run"
    assert "/tmp" not in cases.json["detail"]
    assert all(not d["file"].startswith("/") for d in cases.json["diagnostics"])
    resp = api.client.post(f"{P}/publish", json={"note": "try"}, headers=p)
    assert resp.status_code == 422
    assert resp.json["diagnostics"]
    # Fix it; a stale revision is a 409 naming what changed.
    resp = api.client.put(
        f"{P}/draft/files/{RULE}", json={"content": text, "expected_revision": rev}, headers=a
    )
    assert resp.status_code == 409
    assert resp.mimetype == "application/problem+json"
    assert resp.json["changes"] and "set-file" in resp.json["changes"][0]
    fixed = text.replace("per line.", "on one line.", 1)
    resp = api.client.put(
        f"{P}/draft/files/{RULE}",
        json={"content": fixed, "expected_revision": saved["revision"]},
        headers=a,
    )
    assert resp.status_code == 200, resp.json
    assert not [x for x in resp.json["diagnostics"] if x["severity"] == "error"]
    # Cases run once the rules' header names the draft's version too.
    header = api.client.get(f"{P}/versions/draft/files/rules/pack.rules", headers=a).json
    resp = api.client.put(
        f"{P}/draft/files/rules/pack.rules",
        json={"content": header["content"].replace('"0.1.0"', '"0.2.0"')},
        headers=a,
    )
    assert resp.status_code == 200
    cases = api.client.post(f"{P}/versions/draft/test", headers=a)
    assert cases.status_code == 200, cases.json
    assert cases.json["cases"] and cases.json["passed"] is True
    diff = api.client.get(f"{P}/diff?from=0.1.0&to=draft", headers=a).json
    changed = {c["path"]: c for c in diff}
    assert RULE in changed
    assert any(r["rule_id"] == "MCR-0002" for r in changed[RULE]["rules"])
    assert api.client.get(f"{P}/diff?from=0.1.0", headers=a).status_code == 422
    # Publish, promote, history, rollback.
    resp = api.client.post(f"{P}/publish", json={"note": "wording"}, headers=p)
    assert resp.status_code == 200, resp.json
    assert resp.json["version"] == "0.2.0" and resp.json["active"]
    resp = api.client.post(f"{P}/promote", json={"version": "0.2.0"}, headers=p)
    assert resp.status_code == 200, resp.json
    api.clock.advance(2)
    assert api.client.get("/healthcheck").json["versions"]["medicare"] == "0.2.0"
    hist = api.client.get(f"{P}/history", headers=api.auth("admin")).json
    actions = [e["action"] for e in hist["audit"]]
    assert {"draft", "set-file", "publish", "promote"} <= set(actions)
    assert any(e["client"].startswith("api:") for e in hist["audit"])
    resp = api.client.post(f"{P}/rollback", json={"to_version": "0.1.0"}, headers=p)
    assert resp.status_code == 200, resp.json
    assert resp.json["active"] and resp.json["version"] not in ("0.1.0", "0.2.0")


def test_bad_bodies_are_422_with_paths(api: Api) -> None:
    a, p = api.auth("author"), api.auth("publisher")
    resp = api.client.post(f"{P}/drafts", json={"versoin": "x"}, headers=a)
    assert resp.status_code == 422
    assert resp.json["errors"][0]["path"] == "versoin"
    resp = api.client.post(f"{P}/publish", data=b"{", headers=p, content_type="application/json")
    assert resp.status_code == 400
    resp = api.client.post(
        f"{P}/promote", json={"version": "0.1.0", "environment": "moon"}, headers=p
    )
    assert resp.status_code == 422
    resp = api.client.put(f"{P}/draft/files/../x", json={"content": "x"}, headers=a)
    assert resp.status_code in (404, 422)


def test_client_admin(api: Api) -> None:
    h = api.auth("admin")
    resp = api.client.post(
        "/v1/clients",
        json={"name": "new", "roles": ["submitter"], "packs": ["medicare"]},
        headers=h,
    )
    assert resp.status_code == 201
    made = resp.json
    assert made["client_secret"]
    listed = api.client.get("/v1/clients", headers=h).json
    assert any(c["client_id"] == made["client_id"] and "client_secret" not in c for c in listed)
    resp = api.client.post(
        "/v1/oauth/token",
        data={**made, "grant_type": "client_credentials"},
    )
    assert resp.status_code == 200
    assert api.client.delete(f"/v1/clients/{made['client_id']}", headers=h).json["revoked"]
    assert api.client.delete("/v1/clients/cs_nobody", headers=h).status_code == 404
    bad = api.client.post("/v1/clients", json={"name": "x", "roles": ["root"]}, headers=h)
    assert bad.status_code == 422
    bad = api.client.post(
        "/v1/clients", json={"name": "x", "roles": ["admin"], "packs": ["nope"]}, headers=h
    )
    assert bad.status_code == 404
