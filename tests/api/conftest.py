"""Fixtures of the API tests: a seeded SQLite store per test, a fake clock, one client per role."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from api.commands.serve import prepare_store
from api.settings import Settings
from store import create_client, make_engine, make_sessionmaker

ROLES = ("submitter", "author", "publisher", "admin")
PACKS = ("general-institutional", "general-professional", "medicare")


class FakeClock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store with the bundled packs published and in production (made once)."""
    path = tmp_path_factory.mktemp("template") / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    prepare_store(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


@dataclass
class Api:
    """An app on its own store, its test client, the clock and a client id/secret per role."""

    app: Flask
    client: FlaskClient
    clock: FakeClock
    url: str
    creds: dict[str, tuple[str, str]] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    def token(self, role: str) -> str:
        if role not in self._tokens:
            cid, secret = self.creds[role]
            resp = self.client.post(
                "/v1/oauth/token",
                data={
                    "client_id": cid,
                    "client_secret": secret,
                    "grant_type": "client_credentials",
                },
            )
            assert resp.status_code == 200, resp.json
            self._tokens[role] = resp.json["access_token"]  # type: ignore[index]
        return self._tokens[role]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role)}"}

    def make_client(
        self, name: str, roles: list[str], packs: tuple[str, ...] = PACKS
    ) -> tuple[str, str]:
        with make_sessionmaker(make_engine(self.url)).begin() as s:
            made = create_client(s, name, roles, packs)
            return made.client.client_id, made.client_secret


def build_api(url: str, **settings: Any) -> Api:
    # History written in the request, so a test reads it right after the response; the batched
    # writer (the production default) has its own tests (test_history.py).
    settings.setdefault("history_flush_interval", 0)
    clock = FakeClock()
    app = create_app(
        Settings(database_url=url, secret_key="test-key", clock=clock, testing=True, **settings)
    )
    api = Api(app, app.test_client(), clock, url)
    for role in ROLES:
        api.creds[role] = api.make_client(f"{role}-client", [role])
    return api


@pytest.fixture
def store_url(seeded_store: Path, tmp_path: Path) -> str:
    target = tmp_path / "store.db"
    shutil.copy(seeded_store, target)
    return f"sqlite:///{target}"


@pytest.fixture
def api(store_url: str) -> Iterator[Api]:
    yield build_api(store_url)
