"""Client administration (role ``admin``): create, list, revoke; the store-wide audit log.

The secret of a new client is in the 201 response only (the store keeps a salted scrypt hash).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from api.auth import current_auth, require
from api.schemas import ClientCreate
from store import clients as store_clients
from store.models import ApiClient, AuditEvent

__all__ = ["bp"]

bp = Blueprint("clients", __name__)


def _client_json(c: ApiClient) -> dict[str, Any]:
    return {
        "client_id": c.client_id,
        "name": c.name,
        "roles": [r.role for r in c.roles],
        "packs": sorted(p.pack.name for p in c.packs),
        "revoked": c.revoked_at is not None,
    }


@bp.get("/clients")
@require("admin")
def list_clients() -> Response:
    """Every client (no secrets)."""
    with current_auth().sessions.begin() as s:
        return jsonify([_client_json(c) for c in store_clients.list_clients(s)])


@bp.post("/clients")
@require("admin")
def create_client() -> tuple[Response, int]:
    """Create a client with roles and pack subscriptions; the secret is shown once."""
    body = ClientCreate.model_validate_json(request.get_data())
    with current_auth().sessions.begin() as s:
        made = store_clients.create_client(s, body.name, body.roles, body.packs)
        return jsonify(made.to_json()), 201


@bp.delete("/clients/<client_id>")
@require("admin")
def revoke_client(client_id: str) -> Response:
    """Revoke a client: its secret and its tokens stop working."""
    with current_auth().sessions.begin() as s:
        return jsonify(_client_json(store_clients.revoke_client(s, client_id)))


@bp.get("/audit")
@require("admin")
def audit() -> Response:
    """The latest audit events of the whole store (``?limit=``, at most 1000), newest first."""
    limit = max(1, min(request.args.get("limit", 100, type=int) or 100, 1000))
    with current_auth().sessions.begin() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit))
        return jsonify(
            [
                {
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "client": e.client,
                    "action": e.action,
                    "pack": e.pack_id,
                    "detail": e.detail,
                }
                for e in events
            ]
        )
