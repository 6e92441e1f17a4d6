"""The WSGI application factory: ``create_app(Settings(...))``.

Production: ``gunicorn 'api.app:create_app()' -w 2 -b 127.0.0.1:8080`` (see ``docs/api.md``); each
worker builds the app, so each compiles the production packs once at start (``warm_packs``).

Every response carries ``X-Request-Id`` (the caller's, when it sends a sane one, else a new one) and
every request logs one JSON line: method, path, status, duration, client id, request id; never a
body, a query string or a header value.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy.exc import SQLAlchemyError

from api import errors, routes
from api.auth import AuthService
from api.routes.runtime import PackRuntime
from api.settings import Settings
from store.db import make_engine, make_sessionmaker
from store.scrubs import ScrubHistoryWriter

__all__ = ["JsonLogFormatter", "create_app"]

log = logging.getLogger("api")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_FIELDS = ("method", "path", "status", "duration_ms", "client_id", "exception", "packs")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and known extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
        }
        for key in _FIELDS:
            if hasattr(record, key):
                out[key] = getattr(record, key)
        return json.dumps(out, default=str)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = g.get("request_id", "") if has_request_context() else ""
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test capture, gunicorn redirection)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _configure_logging() -> None:
    if any(isinstance(h, _StderrHandler) for h in log.handlers):
        return
    handler = _StderrHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(_RequestIdFilter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _before() -> None:
    g.started = time.perf_counter()
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def _after(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    duration = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    log.info(
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration, 2),
            "client_id": g.get("client_id", ""),
        },
    )
    return response


def _history_error(exc: BaseException) -> None:
    # The class only: a failed INSERT's message would quote its parameters.
    log.warning("scrub history write failed", extra={"exception": type(exc).__name__})


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI app.  Tests pass ``Settings(database_url=..., clock=...)``."""
    settings = settings or Settings.from_env()
    _configure_logging()
    app = Flask("api")
    app.config.from_mapping(settings.flask_config())
    app.json.sort_keys = False  # type: ignore[attr-defined]
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    app.extensions["claimscrub.settings"] = settings
    app.extensions["claimscrub.engine"] = engine
    app.extensions["claimscrub.auth"] = AuthService(settings, sessions)
    runtime = PackRuntime(settings, sessions)
    app.extensions["claimscrub.packs"] = runtime
    app.extensions["claimscrub.history"] = (
        ScrubHistoryWriter(
            sessions,
            interval=settings.history_flush_interval,
            batch_size=settings.history_batch_size,
            max_pending=settings.history_max_pending,
            on_error=_history_error,
        )
        if settings.history_flush_interval > 0
        else None  # written in the request
    )
    app.before_request(_before)
    app.after_request(_after)
    errors.register_error_handlers(app)
    routes.register(app)
    if settings.warm_packs:
        try:
            loaded = runtime.warm()
        except SQLAlchemyError as exc:  # the store is not ready yet: packs load on first use
            log.warning("packs not loaded", extra={"exception": type(exc).__name__})
        else:
            log.info("packs loaded", extra={"packs": loaded})
    return app
