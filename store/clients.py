"""API clients (OAuth client credentials): creation, verification, revocation.

Secrets are random (256 bits), shown once, and stored only as scrypt(secret, per-secret salt).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.errors import InvalidPackError, NotFoundError
from store.models import ROLES, ApiClient, ApiClientPack, ApiClientRole, utcnow
from store.service import get_pack

__all__ = [
    "NewClient",
    "create_client",
    "get_client",
    "hash_secret",
    "list_clients",
    "revoke_client",
    "verify_client",
]

# scrypt cost: n=2**14, r=8, p=1 (16 MiB, tens of milliseconds): the parameters OWASP lists for
# scrypt.  They are stored with each hash, so raising them later does not break old secrets.
_KDF = "scrypt:16384:8:1"


@dataclass(frozen=True, slots=True)
class NewClient:
    """A created client and its secret (returned only here, never stored in clear)."""

    client: ApiClient
    client_secret: str

    def to_json(self) -> dict[str, str]:
        """``{"client_id": ..., "client_secret": ...}``."""
        return {"client_id": self.client.client_id, "client_secret": self.client_secret}


def hash_secret(secret: str, salt: bytes, kdf: str = _KDF) -> str:
    """Hex digest of ``secret`` under ``kdf`` (``scrypt:n:r:p``) with ``salt``."""
    name, n, r, p = kdf.split(":")
    if name != "scrypt":
        raise ValueError(f"unknown key derivation {kdf!r}")
    digest = hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), dklen=32
    )
    return digest.hex()


def create_client(
    session: Session, name: str, roles: Iterable[str], packs: Iterable[str] = ()
) -> NewClient:
    """A new client with ``roles`` subscribed to ``packs``; the secret is in the result only."""
    role_list = sorted(set(roles))
    unknown = [r for r in role_list if r not in ROLES]
    if unknown or not role_list:
        raise InvalidPackError(
            f"unknown role(s) {', '.join(unknown) or '(none given)'}; roles: {', '.join(ROLES)}"
        )
    pack_rows = [get_pack(session, p) for p in sorted(set(packs))]
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    client = ApiClient(
        client_id="cs_" + secrets.token_hex(12),
        name=name,
        secret_kdf=_KDF,
        secret_salt=salt.hex(),
        secret_hash=hash_secret(secret, salt),
        roles=[ApiClientRole(role=r) for r in role_list],
        packs=[ApiClientPack(pack_id=p.id) for p in pack_rows],
    )
    session.add(client)
    session.flush()
    return NewClient(client, secret)


def get_client(session: Session, client_id: str) -> ApiClient:
    """A client by its public id."""
    client = session.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).first()
    if client is None:
        raise NotFoundError(f"unknown client {client_id!r}")
    return client


def list_clients(session: Session) -> list[ApiClient]:
    """Every client, oldest first (revoked ones included)."""
    return list(session.scalars(select(ApiClient).order_by(ApiClient.id)))


def verify_client(session: Session, client_id: str, secret: str) -> ApiClient | None:
    """The client if ``secret`` is its secret and it is not revoked, else ``None``."""
    client = session.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).first()
    if client is None:
        # Same work as a real check, so response time does not reveal which ids exist.
        hash_secret(secret, b"\0" * 16)
        return None
    digest = hash_secret(secret, bytes.fromhex(client.secret_salt), client.secret_kdf)
    if not hmac.compare_digest(digest, client.secret_hash) or client.revoked_at is not None:
        return None
    return client


def revoke_client(session: Session, client_id: str) -> ApiClient:
    """Revoke a client: its secret stops working; the row stays for the audit trail."""
    client = get_client(session, client_id)
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        session.flush()
    return client
