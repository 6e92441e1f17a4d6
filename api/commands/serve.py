"""``claimscrub serve``: the HTTP API on werkzeug's development server.

On first start against an empty store it runs the migrations and seeds the bundled packs as
published and in production, as ``claimscrub store init`` does.  For production use gunicorn:
``gunicorn 'api.app:create_app()' -w 2 -b 127.0.0.1:8080`` (``docs/api.md``).
"""

from __future__ import annotations

from dataclasses import replace

import click
from sqlalchemy import Engine, select

from knowledge_packs import BUNDLED_DIR
from store import service
from store.content import read_pack_dir
from store.db import default_database_url, make_engine, make_sessionmaker, upgrade
from store.models import Pack, PackVersion

__all__ = ["prepare_store", "serve_command"]


def prepare_store(engine: Engine, *, actor: str = "claimscrub-serve") -> list[str]:
    """Migrate ``engine`` to head; if it holds no pack, seed the bundled ones (labels returned)."""
    upgrade(engine)
    by = service.Actor(actor, "serve")
    seeded: list[str] = []
    with make_sessionmaker(engine).begin() as s:
        if s.scalars(select(Pack.id).limit(1)).first() is not None:
            return seeded
        for directory in sorted(p for p in BUNDLED_DIR.iterdir() if (p / "pack.toml").is_file()):
            content = read_pack_dir(directory)
            if s.scalars(
                select(PackVersion.id).where(PackVersion.content_hash == content.sha256)
            ).first():
                continue
            draft = service.import_content(s, content, by=by)
            v = service.publish(s, draft.pack.name, by=by, note="bundled pack (first serve)")
            service.promote(s, v.pack.name, v.version, "production", by=by)
            seeded.append(v.label)
    return seeded


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="TCP port.")
@click.option(
    "--database",
    metavar="URL",
    help="SQLAlchemy URL of the store (default: $CLAIMSCRUB_DATABASE_URL, else a SQLite file).",
)
@click.option("--threads/--no-threads", default=True, show_default=True)
def serve_command(host: str, port: int, database: str | None, threads: bool) -> None:
    """Serve the HTTP API (development server; see docs/api.md for gunicorn)."""
    from werkzeug.serving import run_simple

    from api.app import create_app
    from api.settings import Settings

    url = database or default_database_url()
    for label in prepare_store(make_engine(url)):
        click.echo(f"{label}: published and in production", err=True)
    app = create_app(replace(Settings.from_env(), database_url=url))
    run_simple(host, port, app, threaded=threads, use_reloader=False)
