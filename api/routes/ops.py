"""Operations: ``GET /healthcheck`` and ``GET /openapi.json`` (no token needed)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.auth import current_auth
from api.openapi import openapi_document
from api.routes.runtime import current_runtime

__all__ = ["bp"]

bp = Blueprint("ops", __name__)


@bp.get("/healthcheck")
def healthcheck() -> tuple[Response, int]:
    """UP when the store answers; the versions this process scrubs with and how many are loaded."""
    runtime = current_runtime()
    try:
        with current_auth().sessions() as s:
            s.execute(text("SELECT 1"))
        versions = {n: r.version for n, r in runtime.pointers().items()}
        store = "UP"
    except SQLAlchemyError:
        versions, store = {}, "DOWN"
    body = {
        "status": "UP" if store == "UP" else "DOWN",
        "store": store,
        "environment": runtime.settings.environment,
        "versions": versions,
        "loaded": len(runtime.loaded()),
    }
    return jsonify(body), 200 if store == "UP" else 503


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API."""
    return jsonify(openapi_document())
