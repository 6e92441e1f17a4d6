"""Store fixtures: a migrated, empty database on SQLite (tmp file) and PostgreSQL (own schema)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from store.db import make_engine, make_sessionmaker, upgrade
from store.service import Actor

ALICE = Actor("alice", "cli")
BOB = Actor("bob", "api:test")

PACK_TOML = 'name = "demo"\nversion = "1.0"\ntitle = "Demo pack"\nclaim_kinds = ["professional"]\n'
RULE_OK = """rule DEMO-0001 "Procedure code present" {
  category structure
  severity error
  scope line
  message "procedure code is missing"
  when line.procedure_code is missing
}
"""
RULE_TWO = """rule DEMO-0002 "Charge positive" {
  category charges
  severity error
  scope line
  message "line charge must be positive"
  when line.charge <= 0
}
"""
RULE_BROKEN = 'rule DEMO-0003 "broken" {\n  when line.procedure_code = = "99213"\n'


def write_pack(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return root


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    """A small pack with Windows line endings in a table, a doc without final newline."""
    return write_pack(
        tmp_path / "demo",
        {
            "pack.toml": PACK_TOML,
            "rules/main.rules": RULE_OK,
            "tables/codes.csv": b"code,desc\r\n99213,office visit\r\n",
            "cases/main.yaml": "cases: []\n",
            "docs/DEMO-0001.md": "# DEMO-0001\n\nFires when the code is missing.",
        },
    )


def _sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    yield engine
    engine.dispose()


def _postgres_engine(url: str) -> Iterator[Engine]:
    # Each test gets its own schema (search_path), dropped afterwards; the database itself stays.
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    # The schema goes in the URL (libpq ``options``) so that the CLI tests can use the same URL.
    scoped = sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(scoped.render_as_string(hide_password=False), pool_size=25, max_overflow=5)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bare_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database (no tables) on each backend."""
    if request.param == "sqlite":
        yield from _sqlite_engine(tmp_path)
    else:
        yield from _postgres_engine(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """A database migrated to head."""
    upgrade(bare_engine)
    return bare_engine


@pytest.fixture
def database_url(engine: Engine) -> str:
    """The URL of the migrated database (for the CLI)."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture(autouse=True)
def _no_case_runner(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Store tests exercise the store alone, with the validators they inject.

    The ``store`` CLI group installs the real pack case runner (``api.store_cases``); its demo pack
    here is not a full knowledge pack, so the runner is kept out.  tests/cli covers the real one.
    """
    import api.store_cases
    from store.validation import register_case_runner

    monkeypatch.setattr(api.store_cases, "install", lambda: None)
    old = register_case_runner(None)
    yield
    register_case_runner(old)
