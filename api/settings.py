"""Settings of the HTTP API: one frozen value built from the environment or by a test.

Why a dataclass and not Flask's config dict alone: every knob has a type and a default in one place,
and tests pass ``Settings(database_url=..., clock=fake_clock)`` instead of patching globals.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from store.db import default_database_url

__all__ = ["Settings"]

MB = 1024 * 1024


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``create_app`` needs.

    Attributes:
        database_url: the store (SQLAlchemy URL).
        secret_key: key that signs bearer tokens; empty means "the store's own key" (created on
            first use and shared by every worker and every server on the same store).
        token_ttl: seconds a bearer token lives (Optum: 3600).
        max_content_length: request body limit in bytes (larger → 413).
        lockout_attempts: failed token requests for one client within ``lockout_window`` seconds
            that lock the client for ``lockout_seconds``.
        pack_refresh_interval: how often (seconds, at most) a worker re-reads the store's
            production pointers to pick up newly promoted versions.
        environment: the store environment whose versions scrubs run.
        evaluator: ``numba`` or ``reference``.
        clock: seconds since the epoch; tests inject a fake one (token expiry, lockout).
        warm_packs: compile every production pack when the app is built (workers start warm).
        refresh_ahead: cached store reads (pointers, clients) older than this fraction of
            ``pack_refresh_interval`` are re-read by a background thread while requests go on
            with the cached value; 1 turns that off (requests re-read at the interval).
        history_flush_interval: seconds (at most) a scrub's history entry waits in the process
            before a background thread writes it with the others of its batch; 0 writes it in
            the request, one transaction per request (``store.scrubs.ScrubHistoryWriter``).
        history_batch_size: entries per history transaction (a full batch is written at once).
        history_max_pending: entries that may wait; beyond that a scrub waits for room, then
            fails with 503.
    """

    database_url: str = field(default_factory=default_database_url)
    secret_key: str = ""
    token_ttl: int = 3600
    max_content_length: int = 10 * MB
    lockout_attempts: int = 5
    lockout_window: int = 300
    lockout_seconds: int = 900
    pack_refresh_interval: float = 1.0
    environment: str = "production"
    evaluator: str = "numba"
    clock: Callable[[], float] = time.time
    warm_packs: bool = True
    testing: bool = False
    refresh_ahead: float = 0.5
    history_flush_interval: float = 0.1
    history_batch_size: int = 256
    history_max_pending: int = 10_000

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from ``CLAIMSCRUB_*`` environment variables (defaults otherwise)."""
        return cls(
            database_url=default_database_url(),
            secret_key=os.environ.get("CLAIMSCRUB_SECRET_KEY", ""),
            token_ttl=_env_int("CLAIMSCRUB_TOKEN_TTL", 3600),
            max_content_length=_env_int("CLAIMSCRUB_MAX_CONTENT_LENGTH", 10 * MB),
            environment=os.environ.get("CLAIMSCRUB_ENVIRONMENT", "production") or "production",
            evaluator=os.environ.get("CLAIMSCRUB_EVALUATOR", "numba") or "numba",
            history_flush_interval=_env_float("CLAIMSCRUB_HISTORY_FLUSH_INTERVAL", 0.1),
        )

    def flask_config(self) -> dict[str, Any]:
        """The Flask configuration keys these settings imply."""
        return {
            "MAX_CONTENT_LENGTH": self.max_content_length,
            "TESTING": self.testing,
            "JSON_SORT_KEYS": False,
        }
