"""One error shape: RFC 9457 problem details (``application/problem+json``) for every error.

``{"type", "title", "status", "detail", "instance", "requestId", ...}`` plus, per family, the
located details a client needs: ``errors`` (JSON paths or X12 locations), ``diagnostics`` (compiler
spans), ``changes`` (what another writer changed).  The token endpoint alone answers RFC 6749's
``{"error", "error_description"}`` (:class:`OAuthError`), as OAuth clients expect.

Messages never quote a request body; the catch-all handler logs the exception class only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from claims.optum import ClaimJsonError
from store.errors import (
    ConflictError,
    InvalidPackError,
    NotFoundError,
    PublishRefusedError,
    StoreError,
)

__all__ = ["ApiError", "OAuthError", "problem", "register_error_handlers"]

log = logging.getLogger("api")
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://claimscrub.dev/problems/"


class ApiError(Exception):
    """An error answered as problem details: ``status``, a short ``title``, a ``detail``."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        kind: str = "",
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.headers = dict(headers or {})
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind or title.lower().replace(" ", "-")
        self.extra = extra


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error of the token endpoint."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def problem(status: int, title: str, detail: str = "", *, kind: str = "", **extra: Any) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": request.path,
        "requestId": g.get("request_id", ""),
    }
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = PROBLEM_JSON
    return resp


def _json_issues(errors: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for e in errors:
        item = dict(e) if isinstance(e, Mapping) else {"message": str(e)}
        out.append({k: v for k, v in item.items() if v is not None})
    return out


bp = Blueprint("errors", __name__)


@bp.app_errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    resp = problem(exc.status, exc.title, exc.detail, kind=exc.kind, **exc.extra)
    resp.headers.update(exc.headers)
    return resp


@bp.app_errorhandler(OAuthError)
def _oauth_error(exc: OAuthError) -> Response:
    resp = jsonify({"error": exc.error, "error_description": exc.description})
    resp.status_code = exc.status
    resp.headers["Cache-Control"] = "no-store"
    if exc.status == 401:
        resp.headers["WWW-Authenticate"] = 'Basic realm="claimscrub"'
    return resp


@bp.app_errorhandler(ClaimJsonError)
def _claim_json_error(exc: ClaimJsonError) -> Response:
    issues = _json_issues(exc.errors)
    syntax = any("line" in i for i in issues) or any(
        i.get("path", "") == "" and str(i.get("message", "")).startswith("invalid JSON")
        for i in issues
    )
    if syntax:
        return problem(400, "Malformed JSON", "the body is not valid JSON", errors=issues)
    return problem(
        422,
        "Invalid claim",
        f"{len(issues)} problem(s) in the claim JSON; see errors[].path",
        errors=issues,
    )


@bp.app_errorhandler(ValidationError)
def _validation_error(exc: ValidationError) -> Response:
    errors = [
        {
            "path": ".".join(str(p) for p in e["loc"]),
            "message": e["msg"],
            "type": e["type"],
        }
        for e in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
    json_invalid = any(e["type"] == "json_invalid" for e in errors)
    if json_invalid:
        return problem(400, "Malformed JSON", "the body is not valid JSON", errors=errors)
    return problem(422, "Invalid request", "the request body does not validate", errors=errors)


@bp.app_errorhandler(PublishRefusedError)
def _refused(exc: PublishRefusedError) -> Response:
    return problem(
        422,
        "Publish refused",
        f"validation found {len(exc.report.errors)} error(s); nothing was published",
        diagnostics=[i.to_json() for i in exc.report.issues],
        checks=list(exc.report.checks),
    )


@bp.app_errorhandler(ConflictError)
def _conflict(exc: ConflictError) -> Response:
    return problem(409, "Conflict", str(exc), changes=list(exc.changes))


@bp.app_errorhandler(NotFoundError)
def _not_found(exc: NotFoundError) -> Response:
    return problem(404, "Not Found", str(exc))


@bp.app_errorhandler(InvalidPackError)
def _invalid(exc: InvalidPackError) -> Response:
    return problem(422, "Invalid request", str(exc))


@bp.app_errorhandler(StoreError)
def _store_error(exc: StoreError) -> Response:
    return problem(422, "Store error", str(exc))


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    detail = exc.description or exc.name
    resp = problem(status, exc.name, detail)
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        resp.headers["Allow"] = ", ".join(exc.valid_methods)
    return resp


@bp.app_errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    # The class only: messages and tracebacks may hold claim data.
    log.error("unhandled exception", extra={"exception": type(exc).__name__})
    return problem(500, "Internal Server Error", "an unexpected error; see the server log")


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on ``app``."""
    app.register_blueprint(bp)
