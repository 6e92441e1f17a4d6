"""The role matrix: each role against each endpoint gets exactly the access it should.

Roles are independent grants (ADR 0007): no role implies another.  "Allowed" means the request gets
past authorization (any status but 401/403: the body or target may still be wrong); "denied" means
403.  Without a token every protected endpoint answers 401.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.openapi import OPERATIONS
from claims.sources import SAMPLES_DIR
from tests.api.conftest import ROLES, Api, build_api

CLAIM = json.loads((SAMPLES_DIR / "professional-clean.json").read_text())
INST = json.loads((SAMPLES_DIR / "institutional-clean.json").read_text())
P = "/v1/packs/medicare"

A, PUB, ADM, SUB = "author", "publisher", "admin", "submitter"

# (method, path, JSON body or raw bytes, roles allowed) — written out, not derived from the code.
MATRIX: list[tuple[str, str, Any, frozenset[str]]] = [
    ("post", "/v1/claims/professional/scrub", CLAIM, frozenset({SUB})),
    ("post", "/v1/claims/institutional/scrub", INST, frozenset({SUB})),
    ("post", "/v1/claims/x12/scrub", b"ISA", frozenset({SUB})),
    ("get", "/v1/packs", None, frozenset({A, PUB})),
    ("get", f"{P}/versions", None, frozenset({A, PUB})),
    ("get", f"{P}/versions/active", None, frozenset({A, PUB})),
    ("get", f"{P}/versions/active/files/pack.toml", None, frozenset({A, PUB})),
    ("post", f"{P}/versions/active/validate", None, frozenset({A, PUB})),
    ("post", f"{P}/versions/active/test", None, frozenset({A, PUB})),
    ("get", f"{P}/diff?from=active&to=active", None, frozenset({A, PUB})),
    ("post", f"{P}/drafts", {}, frozenset({A})),
    ("put", f"{P}/draft/files/docs/x.md", {"content": "x"}, frozenset({A})),
    ("delete", f"{P}/draft/files/docs/x.md", None, frozenset({A})),
    ("delete", f"{P}/draft", None, frozenset({A})),
    ("post", f"{P}/publish", {"note": "n"}, frozenset({PUB})),
    ("post", f"{P}/rollback", {"to_version": "0.1.0"}, frozenset({PUB})),
    ("post", f"{P}/promote", {"version": "0.1.0"}, frozenset({PUB})),
    ("get", f"{P}/history", None, frozenset({A, PUB, ADM})),
    ("get", "/v1/clients", None, frozenset({ADM})),
    ("post", "/v1/clients", {"name": "n", "roles": ["submitter"]}, frozenset({ADM})),
    ("delete", "/v1/clients/cs_nobody", None, frozenset({ADM})),
    ("get", "/v1/audit", None, frozenset({ADM})),
]


@pytest.fixture(scope="module")
def shared_api(seeded_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    target = tmp_path_factory.mktemp("roles") / "store.db"
    shutil.copy(seeded_store, target)
    yield build_api(f"sqlite:///{target}")


def call(api: Api, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    kwargs: dict[str, Any] = {"headers": headers}
    if isinstance(body, bytes):
        kwargs["data"] = body
    elif body is not None:
        kwargs["json"] = body
    return getattr(api.client, method)(path, **kwargs)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX, ids=lambda v: str(v)[:40])
def test_role_matrix(
    shared_api: Api, role: str, method: str, path: str, body: Any, allowed: frozenset[str]
) -> None:
    resp = call(shared_api, method, path, body, shared_api.auth(role))
    if role in allowed:
        assert resp.status_code not in (401, 403), (role, resp.status_code, resp.json)
        assert resp.status_code < 500, resp.json
    else:
        assert resp.status_code == 403, (role, resp.status_code)
        assert resp.json["title"] == "Forbidden"


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX, ids=lambda v: str(v)[:40])
def test_no_token_is_401(
    shared_api: Api, method: str, path: str, body: Any, allowed: frozenset[str]
) -> None:
    resp = call(shared_api, method, path, body, {})
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"


@pytest.mark.parametrize("role", [*ROLES, None])
def test_public_endpoints(shared_api: Api, role: str | None) -> None:
    headers = shared_api.auth(role) if role else {}
    assert shared_api.client.get("/healthcheck", headers=headers).status_code == 200
    assert shared_api.client.get("/openapi.json", headers=headers).status_code == 200


def test_multi_role_client_gets_the_union(shared_api: Api) -> None:
    cid, secret = shared_api.make_client("both", ["author", "publisher"])
    tok = shared_api.client.post(
        "/v1/oauth/token",
        data={"client_id": cid, "client_secret": secret, "grant_type": "client_credentials"},
    ).json["access_token"]
    h = {"Authorization": f"Bearer {tok}"}
    assert shared_api.client.get("/v1/packs", headers=h).status_code == 200
    assert shared_api.client.post(f"{P}/publish", json={"note": "x"}, headers=h).status_code != 403
    assert shared_api.client.get("/v1/clients", headers=h).status_code == 403


def test_matrix_covers_every_documented_operation_and_roles_match() -> None:
    documented = {(op.method, op.path): frozenset(op.roles) for op in OPERATIONS if op.roles}
    tested: dict[tuple[str, str], frozenset[str]] = {}
    for method, path, _, allowed in MATRIX:
        template = path.split("?")[0]
        for op in OPERATIONS:
            if op.method == method and _matches(op.path, template):
                tested[(op.method, op.path)] = allowed
    assert tested == documented


def _matches(template: str, path: str) -> bool:
    t, p = template.strip("/").split("/"), path.strip("/").split("/")
    if t and t[-1] == "{path}":
        t, p = t[:-1], p[: len(t) - 1]
    return len(t) == len(p) and all(a == b or a.startswith("{") for a, b in zip(t, p, strict=True))
