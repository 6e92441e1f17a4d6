"""The OpenAPI 3.1 document, generated from the pydantic models that validate the requests.

Request bodies are ``claims.optum``'s ``ProfessionalClaimRequest`` / ``InstitutionalClaimRequest``
and ``api.schemas``; their ``model_json_schema`` output goes into ``components.schemas`` unchanged
(pydantic emits JSON Schema 2020-12, which OpenAPI 3.1 uses).  The operation table below is the one
place that lists paths and required roles; a test checks it against Flask's URL map.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api import schemas as s
from claims.optum import InstitutionalClaimRequest, ProfessionalClaimRequest

__all__ = ["OPERATIONS", "Operation", "openapi_document"]

REF = "#/components/schemas/{model}"


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented operation."""

    method: str
    path: str
    summary: str
    roles: tuple[str, ...] = ()  # empty: no token needed
    body: str = ""  # "model:<Name>", "claims:<Name>", "x12", "token", ""
    response: str = ""  # a component name, "[Name]" for an array, "" for a free object
    status: int = 200
    query: tuple[tuple[str, str], ...] = field(default=())


_R = ("author", "publisher")
_P = (("pack", "path"),)
_PV = (("pack", "path"), ("version", "path"))

OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/healthcheck", "Health of the store and the loaded packs", response="Health"),
    Operation("get", "/openapi.json", "This document"),
    Operation(
        "post",
        "/v1/oauth/token",
        "Client credentials → bearer token",
        body="token",
        response="TokenResponse",
    ),
    Operation(
        "post",
        "/v1/claims/professional/scrub",
        "Scrub professional claims (Optum Professional Claims v3 JSON)",
        ("submitter",),
        body="claims:ProfessionalClaimRequest",
        response="ClaimEnvelope",
        query=(("packs", "query"), ("explain", "query")),
    ),
    Operation(
        "post",
        "/v1/claims/institutional/scrub",
        "Scrub institutional claims (Optum Institutional Claims v1 JSON)",
        ("submitter",),
        body="claims:InstitutionalClaimRequest",
        response="ClaimEnvelope",
        query=(("packs", "query"), ("explain", "query")),
    ),
    Operation(
        "post",
        "/v1/claims/x12/scrub",
        "Scrub every claim of an X12 005010 837P/837I interchange",
        ("submitter",),
        body="x12",
        response="[ClaimEnvelope]",
        query=(("packs", "query"), ("explain", "query")),
    ),
    Operation("get", "/v1/packs", "List packs", _R),
    Operation("get", "/v1/packs/{pack}/versions", "List versions", _R, query=_P),
    Operation("get", "/v1/packs/{pack}/versions/{version}", "Read a version", _R, query=_PV),
    Operation(
        "get",
        "/v1/packs/{pack}/versions/{version}/files/{path}",
        "Read a file of a version",
        _R,
        query=(*_PV, ("path", "path")),
    ),
    Operation(
        "post",
        "/v1/packs/{pack}/drafts",
        "Create a draft",
        ("author",),
        body="model:DraftCreate",
        response="VersionOut",
        status=201,
        query=_P,
    ),
    Operation("delete", "/v1/packs/{pack}/draft", "Discard the draft", ("author",), query=_P),
    Operation(
        "put",
        "/v1/packs/{pack}/draft/files/{path}",
        "Save a rule, table, case or doc file in the draft (diagnostics with spans)",
        ("author",),
        body="model:FileSave",
        response="FileSaved",
        query=(*_P, ("path", "path")),
    ),
    Operation(
        "delete",
        "/v1/packs/{pack}/draft/files/{path}",
        "Remove a file from the draft",
        ("author",),
        query=(*_P, ("path", "path"), ("expected_revision", "query")),
    ),
    Operation(
        "post", "/v1/packs/{pack}/versions/{version}/validate", "Validate a version", _R, query=_PV
    ),
    Operation(
        "post", "/v1/packs/{pack}/versions/{version}/test", "Run a version's cases", _R, query=_PV
    ),
    Operation(
        "get",
        "/v1/packs/{pack}/diff",
        "Diff two versions",
        _R,
        query=(*_P, ("from", "query"), ("to", "query")),
    ),
    Operation(
        "post",
        "/v1/packs/{pack}/publish",
        "Publish the draft",
        ("publisher",),
        body="model:PublishRequest",
        response="VersionOut",
        query=_P,
    ),
    Operation(
        "post",
        "/v1/packs/{pack}/rollback",
        "Roll back to an earlier version",
        ("publisher",),
        body="model:RollbackRequest",
        response="VersionOut",
        query=_P,
    ),
    Operation(
        "post",
        "/v1/packs/{pack}/promote",
        "Point an environment at a version",
        ("publisher",),
        body="model:PromoteRequest",
        query=_P,
    ),
    Operation(
        "get",
        "/v1/packs/{pack}/history",
        "Versions and audit log of a pack",
        ("author", "publisher", "admin"),
        query=_P,
    ),
    Operation("get", "/v1/clients", "List API clients", ("admin",), response="[ClientOut]"),
    Operation(
        "post",
        "/v1/clients",
        "Create an API client",
        ("admin",),
        body="model:ClientCreate",
        response="ClientCreated",
        status=201,
    ),
    Operation(
        "delete",
        "/v1/clients/{client_id}",
        "Revoke an API client",
        ("admin",),
        response="ClientOut",
        query=(("client_id", "path"),),
    ),
    Operation("get", "/v1/audit", "Store-wide audit log", ("admin",), query=(("limit", "query"),)),
)

_MODELS: tuple[type[BaseModel], ...] = (
    ProfessionalClaimRequest,
    InstitutionalClaimRequest,
    s.TokenRequest,
    s.TokenResponse,
    s.OAuthErrorBody,
    s.Problem,
    s.ClaimEnvelope,
    s.DraftCreate,
    s.FileSave,
    s.FileSaved,
    s.PublishRequest,
    s.RollbackRequest,
    s.PromoteRequest,
    s.VersionOut,
    s.ClientCreate,
    s.ClientOut,
    s.ClientCreated,
    s.Health,
)

_PARAM_SCHEMAS: dict[str, dict[str, Any]] = {
    "explain": {"type": "boolean"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
    "expected_revision": {"type": "integer", "minimum": 1},
    "packs": {
        "type": "string",
        "description": "Comma-separated PACK or PACK@VERSION (default: every subscribed pack)",
    },
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF.format(model=name)}


def _schema_of(response: str) -> dict[str, Any]:
    if not response:
        return {}
    if response.startswith("["):
        return {"type": "array", "items": _ref(response.strip("[]"))}
    return _ref(response)


def _body(op: Operation) -> dict[str, Any] | None:
    if op.body == "token":
        form = _ref("TokenRequest")
        return {
            "required": True,
            "content": {
                "application/json": {"schema": form},
                "application/x-www-form-urlencoded": {"schema": form},
            },
        }
    if op.body == "x12":
        return {
            "required": True,
            "content": {
                "application/edi-x12": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    if op.body.startswith("claims:"):
        one = _ref(op.body.split(":", 1)[1])
        schema = {"oneOf": [one, {"type": "array", "items": one, "minItems": 1}]}
        return {"required": True, "content": {"application/json": {"schema": schema}}}
    if op.body.startswith("model:"):
        schema = _ref(op.body.split(":", 1)[1])
        return {"required": True, "content": {"application/json": {"schema": schema}}}
    return None


def _operation(op: Operation) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": _ref("Problem")}}
    ok: dict[str, Any] = {"description": "OK"}
    if op.response or op.body.startswith("claims:"):
        schema = _schema_of(op.response)
        if op.body.startswith("claims:"):
            schema = {"oneOf": [schema, {"type": "array", "items": schema}]}
        ok["content"] = {"application/json": {"schema": schema}}
    responses: dict[str, Any] = {str(op.status): ok}
    if op.path == "/v1/oauth/token":
        oauth = {"*/*": {"schema": _ref("OAuthErrorBody")}}
        responses["400"] = {"description": "Malformed request", "content": oauth}
        responses["401"] = {"description": "Invalid or locked client", "content": oauth}
    responses["default"] = {"description": "Problem details", "content": problem}
    out: dict[str, Any] = {
        "summary": op.summary,
        "operationId": (op.method + op.path).replace("/", "_").replace("{", "").replace("}", ""),
        "responses": responses,
    }
    if op.roles:
        out["security"] = [{"bearer": []}]
        out["x-roles"] = list(op.roles)
        out["description"] = f"Roles: {', '.join(op.roles)}."
    else:
        out["security"] = []
    params = [
        {
            "name": name,
            "in": where,
            "required": where == "path",
            "schema": _PARAM_SCHEMAS.get(name, {"type": "string", "minLength": 1}),
        }
        for name, where in op.query
    ]
    if params:
        out["parameters"] = params
    body = _body(op)
    if body is not None:
        out["requestBody"] = body
    return out


@cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process)."""
    _, defs = models_json_schema([(m, "validation") for m in _MODELS], ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "claimscrub",
            "version": "1",
            "description": "Claim scrubbing shaped like Optum's claims APIs, and pack authoring.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "POST /v1/oauth/token",
                }
            },
        },
    }
