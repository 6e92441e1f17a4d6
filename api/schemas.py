"""Pydantic boundary models of the HTTP API: they validate request bodies and generate the OpenAPI.

Claims themselves are validated by ``claims.optum`` (``ProfessionalClaimRequest`` /
``InstitutionalClaimRequest``); these models cover the token endpoint, authoring, clients and the
response shapes.  Routes parse raw bytes with ``Model.model_validate_json(request.get_data())``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "ApiModel",
    "ClaimEnvelope",
    "ClientCreate",
    "ClientCreated",
    "ClientOut",
    "Diagnostic",
    "DraftCreate",
    "EditOut",
    "FileSave",
    "FileSaved",
    "Health",
    "OAuthErrorBody",
    "Problem",
    "PromoteRequest",
    "PublishRequest",
    "RollbackRequest",
    "TokenRequest",
    "TokenResponse",
    "VersionOut",
]

Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Role = Literal["submitter", "author", "publisher", "admin"]


class ApiModel(BaseModel):
    """Strict request models: unknown properties are errors, strings are stripped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class OutModel(BaseModel):
    """Response models (documentation; responses are built as plain JSON)."""

    model_config = ConfigDict(extra="allow")


# -- OAuth ------------------------------------------------------------------------------------


class TokenRequest(ApiModel):
    """Client credentials grant (JSON or ``application/x-www-form-urlencoded``)."""

    client_id: str = Field(min_length=1, max_length=200)
    client_secret: str = Field(min_length=1, max_length=500)
    grant_type: Literal["client_credentials"]


class TokenResponse(OutModel):
    """A bearer token."""

    access_token: str
    token_type: Literal["bearer"]
    expires_in: int


class OAuthErrorBody(OutModel):
    """RFC 6749 section 5.2 error."""

    error: str
    error_description: str


class Problem(OutModel):
    """RFC 9457 problem details; members per family (errors, diagnostics, changes) may follow."""

    type: str
    title: str
    status: int
    detail: str
    instance: str = ""
    requestId: str = ""


# -- scrub responses ----------------------------------------------------------------------------


class EditOut(OutModel):
    """One edit in Optum's ``errors[]`` shape plus claimscrub's fields."""

    field: str
    value: str
    code: str
    description: str
    followupAction: str
    location: str
    ruleId: str
    pack: str
    packVersion: str
    category: str
    severity: Literal["error", "warning", "info"]
    lines: list[int]
    allowOverride: bool
    explanation: dict[str, Any] | None = None


class ClaimEnvelope(OutModel):
    """The response for one claim: SUCCESS (no edit), EDITS, or ERRORS (X12 claim not readable)."""

    status: Literal["SUCCESS", "EDITS", "ERRORS"]
    controlNumber: str
    claimReference: dict[str, Any]
    errors: list[EditOut]


# -- authoring --------------------------------------------------------------------------------


class DraftCreate(ApiModel):
    """Open a draft copied from a version (default: the active one)."""

    from_version: Name | None = None
    version: Name | None = None


class FileSave(ApiModel):
    """Create or replace one file of the draft."""

    content: str = Field(max_length=5_000_000)
    expected_revision: int | None = Field(default=None, ge=1)


class Diagnostic(OutModel):
    """A compiler diagnostic with its span (1-based lines and columns)."""

    code: str
    severity: Literal["error", "warning", "note"]
    message: str
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    hint: str | None = None


class FileSaved(OutModel):
    """Result of saving a file: the draft's new revision and the compiler's diagnostics."""

    pack: str
    version: str
    path: str
    revision: int
    compiled: bool
    diagnostics: list[Diagnostic]


class PublishRequest(ApiModel):
    """Publish the draft."""

    note: str = Field(min_length=1, max_length=2000)
    effective_from: date | None = None
    expected_revision: int | None = Field(default=None, ge=1)


class RollbackRequest(ApiModel):
    """Publish an earlier version's content again as a new version."""

    to_version: Name
    note: str | None = Field(default=None, max_length=2000)


class PromoteRequest(ApiModel):
    """Point an environment at a published version."""

    version: Name
    environment: Literal["staging", "production"] = "production"
    expected_revision: int | None = Field(default=None, ge=1)


class VersionOut(OutModel):
    """One pack version."""

    pack: str
    version: str
    status: Literal["draft", "published", "retired"]
    active: bool
    revision: int
    content_hash: str
    effective_from: date | None = None


# -- clients ----------------------------------------------------------------------------------


class ClientCreate(ApiModel):
    """A new API client."""

    name: str = Field(min_length=1, max_length=128)
    roles: list[Role] = Field(min_length=1, max_length=4)
    packs: list[Name] = Field(default_factory=list, max_length=100)


class ClientOut(OutModel):
    """A client (never its secret)."""

    client_id: str
    name: str
    roles: list[str]
    packs: list[str]
    revoked: bool


class ClientCreated(OutModel):
    """A created client: the secret is shown here only."""

    client_id: str
    client_secret: str


class Health(OutModel):
    """Health of this process and its store."""

    status: Literal["UP", "DOWN"]
    store: str
    environment: str
    versions: dict[str, str]
    loaded: int
