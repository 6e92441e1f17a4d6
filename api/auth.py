"""Bearer tokens, roles and client lockout.

* Tokens are ``itsdangerous`` signatures of ``{sub, roles, iat, exp}``; expiry is checked against
  the injected clock (``Settings.clock``), so tests move time instead of sleeping.  The key is
  ``Settings.secret_key``, else a random key kept in the store (``store_setting``), so every worker
  and every server on one store accept each other's tokens.
* Roles are independent grants, not a ladder (ADR 0007): ``submitter`` scrubs claims, ``author``
  edits drafts, ``publisher`` publishes, rolls back and promotes, ``admin`` manages clients.  A
  client needing two gets two.  A request's roles are the token's roles that the client still holds
  in the store (re-read at most every ``pack_refresh_interval`` seconds, ahead of time by a
  background thread like the pack pointers, see ``api.routes.runtime``), and a revoked client's
  tokens stop working within that interval.
* A verified token is remembered (keyed by the token string) until it expires, so the signature
  and its JSON are checked once per token and process, not once per request; expiry against the
  clock and the client's state (revocation, roles) are still checked on every request.
* Lockout: ``lockout_attempts`` failed secrets for one client id within ``lockout_window`` seconds
  lock it for ``lockout_seconds``.  Failures and the lock are audit events (``auth-failure``,
  ``auth-lockout``, client ``api:<client_id>``), so the count is shared by every worker.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.errors import ApiError
from api.settings import Settings
from store.clients import verify_client
from store.models import ROLES, ApiClient, AuditEvent, StoreSetting

__all__ = [
    "ROLES",
    "AuthService",
    "ClientInfo",
    "Principal",
    "current_auth",
    "current_principal",
    "require",
]

_KEY_SETTING = "api_token_key"
_TOKEN_CACHE_SIZE = 10_000  # verified tokens remembered per process
_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """What a request needs to know about its client (read from the store, cached briefly)."""

    pk: int
    client_id: str
    name: str
    roles: frozenset[str]
    packs: tuple[str, ...]
    revoked: bool


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    client: ClientInfo
    roles: frozenset[str]

    @property
    def client_id(self) -> str:
        """The public client id."""
        return self.client.client_id


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class AuthService:
    """Token issue and check, client lookups and lockout, over one store."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self._serializer: URLSafeSerializer | None = None
        self._lock = threading.Lock()
        self._clients: dict[str, tuple[float, ClientInfo | None]] = {}
        # token → (sub, roles, exp) of a token whose signature was verified
        self._tokens: dict[str, tuple[str, frozenset[str], int]] = {}
        self._reading: set[str] = set()  # client ids being re-read in the background

    # -- tokens ------------------------------------------------------------------------------

    def _signer(self) -> URLSafeSerializer:
        with self._lock:
            if self._serializer is None:
                key = self.settings.secret_key or self._store_key()
                self._serializer = URLSafeSerializer(key, salt="claimscrub-bearer-v1")
            return self._serializer

    def _store_key(self) -> str:
        with self.sessions.begin() as session:
            row = session.get(StoreSetting, _KEY_SETTING)
            if row is None:
                try:
                    with session.begin_nested():
                        session.add(StoreSetting(key=_KEY_SETTING, value=secrets.token_hex(32)))
                except IntegrityError:
                    pass
                row = session.get(StoreSetting, _KEY_SETTING, populate_existing=True)
                assert row is not None
            return row.value

    def issue(self, client: ApiClient) -> dict[str, Any]:
        """The token response body for a verified client."""
        now = int(self.settings.clock())
        roles = sorted(r.role for r in client.roles)
        token = self._signer().dumps(
            {
                "sub": client.client_id,
                "roles": roles,
                "iat": now,
                "exp": now + self.settings.token_ttl,
            }
        )
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.settings.token_ttl,
        }

    def _verified(self, token: str) -> tuple[str, frozenset[str], int]:
        """(sub, roles, exp) of a token with a valid signature (cached); ApiError 401 otherwise."""
        found = self._tokens.get(token)
        if found is not None:
            return found
        try:
            claims = self._signer().loads(token)
        except BadSignature:
            raise _unauthorized("invalid_token", "the bearer token is not valid") from None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
            raise _unauthorized("invalid_token", "the bearer token is not valid")
        found = (
            str(claims.get("sub", "")),
            frozenset(str(r) for r in claims.get("roles", ()) if isinstance(r, str)),
            claims["exp"],
        )
        if claims["exp"] > self.settings.clock():  # only live tokens are remembered
            with self._lock:
                if len(self._tokens) >= _TOKEN_CACHE_SIZE:
                    self._evict_tokens()
                self._tokens[token] = found
        return found

    def _evict_tokens(self) -> None:
        # Called with the lock held: drop expired tokens, or everything if none has expired.
        now = self.settings.clock()
        for key in [k for k, v in self._tokens.items() if v[2] <= now]:
            del self._tokens[key]
        if len(self._tokens) >= _TOKEN_CACHE_SIZE:
            self._tokens.clear()

    def principal(self, token: str) -> Principal:
        """The caller a bearer token names; ApiError 401 if invalid, expired or revoked."""
        sub, granted, exp = self._verified(token)
        if exp <= self.settings.clock():
            self._tokens.pop(token, None)
            raise _unauthorized("invalid_token", "the bearer token has expired")
        info = self.client(sub)
        if info is None or info.revoked:
            raise _unauthorized("invalid_token", "the client is unknown or revoked")
        return Principal(info, granted & info.roles)

    # -- clients -----------------------------------------------------------------------------

    def client(self, client_id: str) -> ClientInfo | None:
        """The client's roles, packs and state, re-read at most every refresh interval."""
        now = self.settings.clock()
        cached = self._clients.get(client_id)
        if cached is not None:
            age = now - cached[0]
            interval = self.settings.pack_refresh_interval
            if age < interval:
                if age >= interval * self.settings.refresh_ahead:
                    self._read_ahead(client_id, now)
                return cached[1]
        return self._read_client(client_id, now)

    def _read_ahead(self, client_id: str, now: float) -> None:
        """Re-read a client in a background thread (one at a time per client)."""
        with self._lock:
            if client_id in self._reading:
                return
            self._reading.add(client_id)

        def run() -> None:
            try:
                self._read_client(client_id, now)
            except Exception:  # best effort: a request past the interval reads (and reports)
                pass
            finally:
                with self._lock:
                    self._reading.discard(client_id)

        threading.Thread(target=run, name="claimscrub-client", daemon=True).start()

    def _read_client(self, client_id: str, now: float) -> ClientInfo | None:
        with self.sessions() as session:
            row = session.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).first()
            info = (
                None
                if row is None
                else ClientInfo(
                    pk=row.id,
                    client_id=row.client_id,
                    name=row.name,
                    roles=frozenset(r.role for r in row.roles),
                    packs=tuple(sorted(p.pack.name for p in row.packs)),
                    revoked=row.revoked_at is not None,
                )
            )
        with self._lock:
            if len(self._clients) > 10_000:
                self._clients.clear()
            previous = self._clients.get(client_id)
            if previous is None or previous[0] <= now:
                self._clients[client_id] = (now, info)
        return info

    # -- client credentials and lockout --------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.settings.clock(), UTC)

    def _events(self, session: Session, client_id: str) -> list[AuditEvent]:
        limit = 2 * self.settings.lockout_attempts + 2
        return list(
            session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.pack_id.is_(None),
                    AuditEvent.client == f"api:{client_id}",
                    AuditEvent.action.in_(("auth-failure", "auth-lockout")),
                )
                .order_by(AuditEvent.id.desc())
                .limit(limit)
            )
        )

    def locked_until(self, session: Session, client_id: str) -> datetime | None:
        """When the client's lock ends, if it is locked now."""
        now = self._now()
        lock = timedelta(seconds=self.settings.lockout_seconds)
        for e in self._events(session, client_id):
            if e.action == "auth-lockout" and _aware(e.at) + lock > now:
                return _aware(e.at) + lock
        return None

    def _record_failure(self, session: Session, client: ApiClient) -> bool:
        """Audit a failed secret; lock the client (and audit that) at the threshold."""
        now = self._now()
        session.add(
            AuditEvent(
                at=now,
                actor=client.name,
                client=f"api:{client.client_id}",
                action="auth-failure",
                pack_id=None,
                detail={"reason": "bad client secret"},
            )
        )
        session.flush()
        window_start = now - timedelta(seconds=self.settings.lockout_window)
        lock = timedelta(seconds=self.settings.lockout_seconds)
        events = self._events(session, client.client_id)
        for e in events:
            if e.action == "auth-lockout":  # a lock that has ended restarts the count
                window_start = max(window_start, _aware(e.at) + lock)
                break
        failures = sum(
            1 for e in events if e.action == "auth-failure" and _aware(e.at) > window_start
        )
        if failures >= self.settings.lockout_attempts:
            session.add(
                AuditEvent(
                    at=now,
                    actor=client.name,
                    client=f"api:{client.client_id}",
                    action="auth-lockout",
                    pack_id=None,
                    detail={
                        "failures": failures,
                        "window_seconds": self.settings.lockout_window,
                        "locked_seconds": self.settings.lockout_seconds,
                    },
                )
            )
            return True
        return False

    def authenticate(self, client_id: str, secret: str) -> ApiClient | None:
        """The client for these credentials; None if wrong.  Raises LockedError when locked."""
        with self.sessions.begin() as session:
            row = session.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).first()
            if row is not None and self.locked_until(session, client_id) is not None:
                raise LockedError(client_id)
            client = verify_client(session, client_id, secret)
            if client is not None:
                # Roles are loaded before the session closes.
                _ = [r.role for r in client.roles]
                return client
            if row is not None and row.revoked_at is None:
                self._record_failure(session, row)
        return None


class LockedError(Exception):
    """The client is locked after repeated failures."""


def _unauthorized(error: str, detail: str) -> ApiError:
    return ApiError(
        401,
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": f'Bearer realm="claimscrub", error="{error}"'},
    )


def current_auth() -> AuthService:
    """The app's :class:`AuthService`."""
    return cast(AuthService, current_app.extensions["claimscrub.auth"])


def current_principal() -> Principal:
    """The caller of the current request (set by :func:`require`)."""
    return cast(Principal, g.principal)


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "Unauthorized",
            "a bearer token is required (POST /v1/oauth/token)",
            headers={"WWW-Authenticate": 'Bearer realm="claimscrub"'},
        )
    return token.strip()


def require(*roles: str) -> Callable[[_F], _F]:
    """Route decorator: a valid bearer token holding at least one of ``roles``."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    allowed = frozenset(roles)

    def decorate(view: _F) -> _F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_auth().principal(_bearer())
            g.principal = principal
            g.client_id = principal.client_id
            if not principal.roles & allowed:
                raise ApiError(
                    403,
                    "Forbidden",
                    f"this endpoint needs the role {' or '.join(sorted(allowed))}",
                )
            return view(*args, **kwargs)

        wrapper.required_roles = allowed  # type: ignore[attr-defined]
        return cast(_F, wrapper)

    return decorate
