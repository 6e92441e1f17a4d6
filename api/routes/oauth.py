"""``POST /v1/oauth/token``: OAuth 2.0 client credentials (RFC 6749 section 4.4), Optum's shape.

Credentials come in the body (form or JSON: ``client_id``, ``client_secret``, ``grant_type``) or
as HTTP Basic (RFC 6749 section 2.3.1).  Errors are ``{"error", "error_description"}``: 400
``invalid_request`` / ``unsupported_grant_type``, 401 ``invalid_client`` (wrong secret, revoked, or
locked after repeated failures).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from api.auth import LockedError, current_auth
from api.errors import OAuthError

__all__ = ["bp"]

bp = Blueprint("oauth", __name__)


def _credentials() -> dict[str, str]:
    if request.mimetype == "application/json":
        try:
            data: Any = json.loads(request.get_data())
        except ValueError:
            raise OAuthError(400, "invalid_request", "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise OAuthError(400, "invalid_request", "the body must be a JSON object")
    else:
        data = request.form.to_dict()
    out = {k: v for k, v in data.items() if isinstance(v, str)}
    if request.authorization is not None and request.authorization.type == "basic":
        out.setdefault("client_id", request.authorization.username or "")
        out.setdefault("client_secret", request.authorization.password or "")
    return out


@bp.post("/oauth/token")
def token() -> Response:
    """Exchange client credentials for a bearer token."""
    creds = _credentials()
    if creds.get("grant_type") != "client_credentials":
        if not creds.get("grant_type"):
            raise OAuthError(400, "invalid_request", "grant_type is required")
        raise OAuthError(400, "unsupported_grant_type", "only client_credentials is supported")
    client_id, secret = creds.get("client_id", ""), creds.get("client_secret", "")
    if not client_id or not secret or len(client_id) > 200 or len(secret) > 500:
        raise OAuthError(400, "invalid_request", "client_id and client_secret are required")
    g.client_id = client_id
    try:
        client = current_auth().authenticate(client_id, secret)
    except LockedError:
        raise OAuthError(
            401, "invalid_client", "client locked after repeated failures; try again later"
        ) from None
    if client is None:
        raise OAuthError(401, "invalid_client", "unknown client or wrong secret")
    resp = jsonify(current_auth().issue(client))
    resp.headers["Cache-Control"] = "no-store"
    return resp
