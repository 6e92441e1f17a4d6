"""Engines, sessions and migrations: where the store lives and how its schema gets there.

The default database is a SQLite file in the user's data directory; ``CLAIMSCRUB_DATABASE_URL`` (or
the CLI's ``--database``) names another one, for instance ``postgresql+psycopg://...``.  The schema
is created and upgraded only by the Alembic migrations in ``store/migrations`` (never
``create_all``), so a database created today and one upgraded from the first revision are the same.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from store.models import Base

__all__ = [
    "DATABASE_URL_ENV",
    "MIGRATIONS_DIR",
    "alembic_config",
    "default_database_url",
    "make_engine",
    "make_sessionmaker",
    "schema_differences",
    "upgrade",
]

DATABASE_URL_ENV = "CLAIMSCRUB_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# How long a SQLite writer waits for another one before giving up ("database is locked").
_SQLITE_BUSY_TIMEOUT_MS = 30_000


def default_database_url() -> str:
    """``$CLAIMSCRUB_DATABASE_URL``, else a SQLite file under ``$XDG_DATA_HOME/claimscrub``."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        return url
    base = os.environ.get("XDG_DATA_HOME", "").strip()
    data_home = Path(base) if base else Path.home() / ".local" / "share"
    return f"sqlite:///{data_home / 'claimscrub' / 'store.db'}"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # BEGIN IMMEDIATE takes the write lock up front.  With a deferred BEGIN, two transactions
        # that both read and then write deadlock on the lock upgrade and one fails with "database is
        # locked" regardless of the busy timeout; taking it first makes SQLite writers simply queue.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default: :func:`default_database_url`), SQLite set up for the store.

    A SQLite file's directory is created on first use.  ``kwargs`` go to ``create_engine``.
    """
    url = url or default_database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions for the service functions: ``with factory.begin() as session:`` per unit of work."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration built in code, so that migrations work from an installed package.

    ``store/alembic.ini`` holds the same settings for the ``alembic`` command in a checkout.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d-%%(rev)s_%%(slug)s")
    if engine is not None:
        cfg.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` on ``engine`` (one transaction)."""
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def schema_differences(engine: Engine) -> list[Any]:
    """What ``alembic check`` would report: differences between the models and the database."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False}
        )
        return list(compare_metadata(context, Base.metadata))
