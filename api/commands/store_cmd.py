"""``claimscrub store``: create the pack store, import/export packs, draft, publish, roll back.

The database is ``--database URL``, else ``$CLAIMSCRUB_DATABASE_URL``, else a SQLite file in the
user's data directory.  Errors print one clear message on stderr; exit codes: 1 a store error
(unknown pack, invalid input), 3 a conflict with another writer, 4 a publish refused by validation.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from knowledge_packs import BUNDLED_DIR
from store import clients as store_clients
from store import service
from store.content import read_pack_dir
from store.db import default_database_url, make_engine, make_sessionmaker, upgrade
from store.errors import ConflictError, PublishRefusedError, StoreError
from store.models import PackVersion
from store.service import Actor

__all__ = ["store_group"]

ENVIRONMENTS = ("staging", "production")


class _StoreFailure(click.ClickException):
    """A store error shown as ``Error: ...`` and exit code 1, never a traceback."""

    exit_code = 1


class _Conflict(_StoreFailure):
    exit_code = 3


class _Refused(_StoreFailure):
    exit_code = 4


@dataclass
class _Context:
    database: str
    actor: Actor
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.database)
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction; store errors become clean messages and exit codes."""
        try:
            with make_sessionmaker(self.engine).begin() as session:
                yield session
        except PublishRefusedError as exc:
            raise _Refused(str(exc)) from exc
        except ConflictError as exc:
            raise _Conflict(f"conflict: {exc}") from exc
        except StoreError as exc:
            raise _StoreFailure(str(exc)) from exc
        except (OperationalError, ProgrammingError) as exc:
            where = self.engine.url.render_as_string(hide_password=True)
            hint = (
                "; create it with `claimscrub store init`"
                if "no such table" in str(exc) or "does not exist" in str(exc)
                else ""
            )
            raise _StoreFailure(f"store at {where}: {exc.orig}{hint}") from exc


def _ctx() -> _Context:
    obj = click.get_current_context().find_object(_Context)
    assert obj is not None
    return obj


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _describe(v: PackVersion) -> str:
    return f"{v.label} ({v.status}, revision {v.revision}, sha256 {v.content_hash[:12]})"


@click.group("store")
@click.option(
    "--database",
    metavar="URL",
    help="SQLAlchemy URL of the store (default: $CLAIMSCRUB_DATABASE_URL, else a SQLite file).",
)
@click.option(
    "--actor",
    metavar="NAME",
    envvar="CLAIMSCRUB_ACTOR",
    help="Name recorded in the audit log (default: $CLAIMSCRUB_ACTOR or the login name).",
)
@click.pass_context
def store_group(ctx: click.Context, database: str | None, actor: str | None) -> None:
    """Manage the pack store: versions, drafts, publishing, environments and API clients."""
    from api.store_cases import install  # late: loads the engine only for store commands

    install()  # publish runs the pack's cases, as `claimscrub test` does
    ctx.obj = _Context(database or default_database_url(), Actor(actor or getpass.getuser()))


@store_group.command("init")
@click.option(
    "--empty", is_flag=True, help="Create the schema only; do not seed the bundled packs."
)
def init_command(empty: bool) -> None:
    """Create or upgrade the schema; publish the bundled packs and put them in production."""
    ctx = _ctx()
    try:
        upgrade(ctx.engine)
    except OperationalError as exc:
        raise _StoreFailure(f"cannot migrate the store: {exc.orig}") from exc
    click.echo(f"store ready at {ctx.engine.url.render_as_string(hide_password=True)}")
    if empty:
        return
    pack_dirs = sorted(p for p in BUNDLED_DIR.iterdir() if (p / "pack.toml").is_file())
    with ctx.session() as s:
        for directory in pack_dirs:
            content = read_pack_dir(directory)
            known = s.scalars(
                select(PackVersion).where(PackVersion.content_hash == content.sha256)
            ).first()
            if known is not None:
                click.echo(f"{known.label}: already in the store")
                continue
            draft = service.import_content(s, content, by=ctx.actor)
            v = service.publish(s, draft.pack.name, by=ctx.actor, note="bundled pack (store init)")
            service.promote(s, v.pack.name, v.version, "production", by=ctx.actor)
            click.echo(f"{v.label}: published and in production")


@store_group.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--version", "version", help="Version string (default: pack.toml's version).")
def import_command(directory: Path, version: str | None) -> None:
    """Import a pack DIRECTORY as a new draft."""
    ctx = _ctx()
    with ctx.session() as s:
        draft = service.import_pack(s, directory, by=ctx.actor, version=version)
        click.echo(f"imported {_describe(draft)}")


@store_group.command("export")
@click.argument("ref", metavar="PACK[@VERSION]")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(ref: str, directory: Path) -> None:
    """Write a version (default: the active one) to DIRECTORY, byte for byte."""
    ctx = _ctx()
    with ctx.session() as s:
        v = service.export_version(s, ref, directory)
        click.echo(f"exported {_describe(v)} to {directory}")


@store_group.command("draft")
@click.argument("pack")
@click.option("--from", "from_version", metavar="VERSION", help="Start from this version.")
@click.option("--version", "version", help="Version string of the draft (default: next).")
def draft_command(pack: str, from_version: str | None, version: str | None) -> None:
    """Open a draft of PACK, copied from the active version."""
    ctx = _ctx()
    with ctx.session() as s:
        d = service.create_draft(s, pack, by=ctx.actor, from_version=from_version, version=version)
        click.echo(f"draft {_describe(d)}")


@store_group.command("set-rule")
@click.argument("pack")
@click.argument("path")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--expected-revision",
    type=int,
    help="Refuse (exit 3) unless the draft is still at this revision.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the diagnostics as JSON.")
def set_rule_command(
    pack: str, path: str, file: Any, expected_revision: int | None, as_json: bool
) -> None:
    """Save FILE as PATH (``rules/x.rules``, ``tables/y.csv``, ...) in the draft of PACK.

    Rule files are compiled on save; the file is saved even with errors (exit 1), and publish
    refuses the draft until they are fixed.
    """
    ctx = _ctx()
    try:
        text = file.read().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _StoreFailure(f"{file.name}: not UTF-8 text ({exc.reason})") from exc
    with ctx.session() as s:
        result = service.set_file(
            s, pack, path, text, by=ctx.actor, expected_revision=expected_revision
        )
        issues = result.issues or ()
        if as_json:
            _echo_json(
                {
                    "pack": pack,
                    "version": result.version.version,
                    "path": result.path,
                    "revision": result.revision,
                    "compiled": result.issues is not None,
                    "diagnostics": [i.to_json() for i in issues],
                }
            )
        else:
            for issue in issues:
                click.echo(issue.render(), err=True)
            click.echo(f"saved {result.path} in {_describe(result.version)}")
    if result.has_errors:
        raise _StoreFailure(f"{path} was saved but does not compile; publish will refuse it")


@store_group.command("diff")
@click.argument("pack")
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
def diff_command(pack: str, a: str, b: str, as_json: bool) -> None:
    """Show what changed from version A to version B (``draft`` and ``active`` work too)."""
    ctx = _ctx()
    with ctx.session() as s:
        changes = service.diff_versions(s, pack, a, b)
    if as_json:
        _echo_json([c.to_json() for c in changes])
        return
    for c in changes:
        rules = ", ".join(f"{r.change} {r.rule_id}" for r in c.rules)
        click.echo(f"{c.change} {c.path}" + (f" ({rules})" if rules else ""))
        click.echo(c.diff, nl=False)
    if not changes:
        click.echo("no differences")


@store_group.command("publish")
@click.argument("pack")
@click.option("--note", required=True, help="Why this version is published (kept in the log).")
@click.option(
    "--effective-from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First date of service it applies to (default: today).",
)
@click.option("--expected-revision", type=int, help="Refuse unless the draft is at this revision.")
def publish_command(
    pack: str, note: str, effective_from: Any, expected_revision: int | None
) -> None:
    """Validate and publish the draft of PACK; it becomes the active version."""
    ctx = _ctx()
    on: date | None = None if effective_from is None else effective_from.date()
    with ctx.session() as s:
        v = service.publish(
            s, pack, by=ctx.actor, note=note, effective_from=on, expected_revision=expected_revision
        )
        click.echo(f"published {_describe(v)}, effective from {v.effective_from}")


@store_group.command("rollback")
@click.argument("pack")
@click.argument("version")
@click.option("--note", help="Why (default: 'rollback to VERSION').")
def rollback_command(pack: str, version: str, note: str | None) -> None:
    """Publish VERSION's content again as a new active version; retire the one it replaces."""
    ctx = _ctx()
    with ctx.session() as s:
        v = service.rollback(s, pack, version, by=ctx.actor, note=note or f"rollback to {version}")
        click.echo(f"published {_describe(v)} with the content of {pack}@{version}")


@store_group.command("promote")
@click.argument("pack")
@click.argument("version")
@click.option("--env", "environment", type=click.Choice(ENVIRONMENTS), required=True)
def promote_command(pack: str, version: str, environment: str) -> None:
    """Point an environment at a published VERSION of PACK."""
    ctx = _ctx()
    with ctx.session() as s:
        service.promote(s, pack, version, environment, by=ctx.actor)
        click.echo(f"{environment} now runs {pack}@{version}")


@store_group.command("history")
@click.argument("pack")
@click.option("--json", "as_json", is_flag=True, help="Print versions and audit log as JSON.")
def history_command(pack: str, as_json: bool) -> None:
    """List the versions of PACK and its audit log."""
    ctx = _ctx()
    with ctx.session() as s:
        versions = service.list_versions(s, pack)
        events = service.history(s, pack)
        rows = [
            {
                "version": v.version,
                "status": str(v.status),
                "active": v.is_active,
                "effective_from": v.effective_from,
                "published_by": v.published_by,
                "published_at": v.published_at,
                "note": v.publish_note,
                "sha256": v.content_hash,
            }
            for v in versions
        ]
        log = [
            {
                "at": e.at,
                "actor": e.actor,
                "client": e.client,
                "action": e.action,
                "detail": e.detail,
            }
            for e in events
        ]
    if as_json:
        _echo_json({"pack": pack, "versions": rows, "audit": log})
        return
    for r in rows:
        mark = "*" if r["active"] else " "
        click.echo(
            f"{mark} {r['version']:<12} {r['status']:<9} from {r['effective_from'] or '-':<10} "
            f"{str(r['sha256'])[:12]}  {r['published_by'] or ''}  {r['note'] or ''}".rstrip()
        )
    click.echo("")
    for e in log:
        detail = json.dumps(e["detail"], default=str, sort_keys=True)
        click.echo(f"{e['at']}  {e['actor']} ({e['client']})  {e['action']}  {detail}")


@store_group.group("clients")
def clients_group() -> None:
    """API clients: create (prints the secret once), list, revoke."""


@clients_group.command("create")
@click.argument("name")
@click.option(
    "--roles", required=True, help="Comma-separated: submitter, author, publisher, admin."
)
@click.option("--packs", default="", help="Comma-separated packs the client subscribes to.")
def clients_create_command(name: str, roles: str, packs: str) -> None:
    """Create a client; prints {"client_id", "client_secret"} (the secret is not shown again)."""
    ctx = _ctx()
    with ctx.session() as s:
        created = store_clients.create_client(
            s,
            name,
            [r.strip() for r in roles.split(",") if r.strip()],
            [p.strip() for p in packs.split(",") if p.strip()],
        )
        _echo_json(created.to_json())


@clients_group.command("list")
def clients_list_command() -> None:
    """List clients (no secrets)."""
    ctx = _ctx()
    with ctx.session() as s:
        _echo_json(
            [
                {
                    "client_id": c.client_id,
                    "name": c.name,
                    "roles": [r.role for r in c.roles],
                    "packs": sorted(p.pack.name for p in c.packs),
                    "created_at": c.created_at,
                    "revoked_at": c.revoked_at,
                }
                for c in store_clients.list_clients(s)
            ]
        )


@clients_group.command("revoke")
@click.argument("client_id")
def clients_revoke_command(client_id: str) -> None:
    """Revoke a client: its secret stops working at once."""
    ctx = _ctx()
    with ctx.session() as s:
        c = store_clients.revoke_client(s, client_id)
        click.echo(f"revoked {c.client_id} ({c.name})")
