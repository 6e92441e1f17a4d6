"""``claimscrub snapshot``: record the edits pack versions produce on a claim corpus, or check them.

``claimscrub snapshot PACKS... --claims PATH --out FILE`` records (``api.reports.snapshot``);
``claimscrub snapshot --check FILE`` re-runs what FILE recorded and prints a unified diff of the
edits that changed.  Exit codes: 0 recorded, or checked and unchanged; 1 the edits changed;
2 a usage error, a pack that does not compile, an unknown store version or unreadable claims.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any, Literal

import click

from api.packrefs import PackRefError, PackRefs, is_store_ref
from api.reports.corpus import CorpusError, CorpusRun, scrub_corpus_many
from api.reports.snapshot import (
    SnapshotError,
    SnapshotHeader,
    parse_header,
    snapshot_diff,
    snapshot_text,
)
from dsl import CompileError

__all__ = ["run_corpus", "snapshot_command"]


class _Bad(click.ClickException):
    """Bad input (exit 2), shown as ``Error: ...``."""

    exit_code = 2


def run_corpus(
    pack_args: list[str],
    claims: list[Path],
    *,
    database: str | None,
    as_of: date | None,
    evaluator: Literal["numba", "reference"],
) -> CorpusRun:
    """Resolve the pack arguments and scrub the corpus; bad input raises a click error (exit 2)."""
    return run_corpus_many(
        [pack_args], claims, database=database, as_of=as_of, evaluator=evaluator
    )[0]


def run_corpus_many(
    pack_sets: list[list[str]],
    claims: list[Path],
    *,
    database: str | None,
    as_of: date | None,
    evaluator: Literal["numba", "reference"],
) -> list[CorpusRun]:
    """:func:`run_corpus` for several pack sets over one read of the corpus."""
    try:
        with PackRefs(database) as refs:
            dirs = [[refs.resolve(a).directory for a in args] for args in pack_sets]
            return scrub_corpus_many(dirs, claims, as_of=as_of, evaluator=evaluator)
    except PackRefError as exc:
        raise _Bad(str(exc)) from exc
    except CorpusError as exc:
        raise _Bad(f"claims: {exc}") from exc
    except CompileError as exc:
        raise _Bad(f"the packs do not compile: {exc}") from exc


def _relative(path: str, base: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), base.resolve())).as_posix()


def _from_file(recorded: str, base: Path) -> str:
    return (
        recorded if is_store_ref(recorded) or Path(recorded).is_absolute() else str(base / recorded)
    )


@click.command("snapshot")
@click.argument("packs", nargs=-1, metavar="[PACK_DIR | PACK@VERSION]...")
@click.option(
    "--claims",
    "claims",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Claim files or directories (X12 837 or Optum JSON; repeatable).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the snapshot here (record mode).",
)
@click.option(
    "--check",
    "check_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Re-run the snapshot FILE records and fail with a diff when an edit changed.",
)
@click.option(
    "--database",
    metavar="URL",
    envvar="CLAIMSCRUB_DATABASE_URL",
    help="Store holding PACK@VERSION arguments (default: $CLAIMSCRUB_DATABASE_URL, else SQLite).",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Select rules and table rows as of this date (recorded in the snapshot).",
)
@click.option(
    "--evaluator", type=click.Choice(["numba", "reference"]), default="numba", show_default=True
)
def snapshot_command(
    packs: tuple[str, ...],
    claims: tuple[Path, ...],
    out: Path | None,
    check_file: Path | None,
    database: str | None,
    as_of: Any,
    evaluator: Literal["numba", "reference"],
) -> None:
    """Record (PACKS --claims PATH --out FILE) or check (--check FILE) an edit snapshot.

    Exit codes: 0 recorded or unchanged, 1 edits changed, 2 bad input.
    """
    if check_file is not None:
        if packs or claims or out or as_of is not None:
            raise click.UsageError("--check FILE takes no PACKS, --claims, --out or --as-of")
        _check(check_file, database, evaluator)
        return
    if not packs or not claims or out is None:
        raise click.UsageError("record mode needs PACKS, --claims PATH and --out FILE")
    on: date | None = None if as_of is None else as_of.date()
    run = run_corpus(list(packs), list(claims), database=database, as_of=on, evaluator=evaluator)
    base = out.parent
    header = SnapshotHeader(
        tuple(p if is_store_ref(p) else _relative(p, base) for p in packs),
        tuple(_relative(str(c), base) for c in claims),
        on,
    )
    out.write_text(snapshot_text(header, run), encoding="utf-8")
    click.echo(f"recorded {len(run.edits)} edit(s) on {run.claims} claim(s) in {out}")


def _check(file: Path, database: str | None, evaluator: Literal["numba", "reference"]) -> None:
    recorded = file.read_text(encoding="utf-8")
    try:
        header = parse_header(recorded)
    except SnapshotError as exc:
        raise _Bad(f"{file}: {exc}") from exc
    base = file.parent
    run = run_corpus(
        [_from_file(p, base) for p in header.packs],
        [Path(_from_file(c, base)) for c in header.claims],
        database=database,
        as_of=header.as_of,
        evaluator=evaluator,
    )
    current = snapshot_text(header, run)
    diff = snapshot_diff(recorded, current, str(file))
    if not diff:
        click.echo(f"{file}: {len(run.edits)} edit(s) on {run.claims} claim(s), unchanged")
        return
    click.echo("".join(diff), nl=False)
    added = sum(1 for d in diff if d.startswith("+") and not d.startswith("+++"))
    removed = sum(1 for d in diff if d.startswith("-") and not d.startswith("---"))
    click.echo(
        f"{file}: the edits changed ({added} line(s) added, {removed} removed); "
        "re-record with `claimscrub snapshot ... --out` if intended"
    )
    raise SystemExit(1)
