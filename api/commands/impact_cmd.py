"""``claimscrub impact OLD NEW --claims PATH``: what a pack change does to the edits on a corpus.

OLD and NEW are pack directories or store versions (``PACK@VERSION``).  Both run over the corpus;
the report (``api.reports.impact``) counts edits added, removed and changed per rule and per
category, with example claims by control number.  ``--format table|json|html``, ``--output PATH``.

Exit codes: 0 within the gates; 1 more edits added than ``--fail-if-added N`` or removed than
``--fail-if-removed N``; 2 a usage error, a pack that does not compile, an unknown store version or
unreadable claims.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Literal

import click

from api.commands.snapshot_cmd import run_corpus_many
from api.reports.html import impact_html
from api.reports.impact import compare_runs, format_impact_table

__all__ = ["impact_command"]


@click.command("impact")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option(
    "--claims",
    "claims",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Claim files or directories (X12 837 or Optum JSON; repeatable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "html"]),
    default="table",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here instead of stdout.",
)
@click.option("--fail-if-added", type=click.IntRange(min=0), help="Exit 1 if more edits are added.")
@click.option(
    "--fail-if-removed", type=click.IntRange(min=0), help="Exit 1 if more edits are removed."
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
    help="Select rules and table rows as of this date instead of each claim's service date.",
)
@click.option(
    "--evaluator", type=click.Choice(["numba", "reference"]), default="numba", show_default=True
)
def impact_command(
    old: str,
    new: str,
    claims: tuple[Path, ...],
    fmt: Literal["table", "json", "html"],
    output: Path | None,
    fail_if_added: int | None,
    fail_if_removed: int | None,
    database: str | None,
    as_of: Any,
    evaluator: Literal["numba", "reference"],
) -> None:
    """Compare the edits of pack OLD and pack NEW on the claims under --claims.

    Exit codes: 0 within the gates, 1 --fail-if-added / --fail-if-removed exceeded, 2 bad input.
    """
    on: date | None = None if as_of is None else as_of.date()
    kw: dict[str, Any] = {"database": database, "as_of": on, "evaluator": evaluator}
    old_run, new_run = run_corpus_many([[old], [new]], list(claims), **kw)
    report = compare_runs(old, old_run, new, new_run)
    if fmt == "json":
        text = json.dumps(report.to_json(), indent=2) + "\n"
    elif fmt == "html":
        text = impact_html(report)
    else:
        text = format_impact_table(report) + "\n"
    if output is not None:
        output.write_text(text, encoding="utf-8")
        click.echo(
            f"wrote {output}: {report.added} added, {report.removed} removed, "
            f"{report.changed} changed",
            err=True,
        )
    else:
        click.echo(text, nl=False)
    failed = []
    if fail_if_added is not None and report.added > fail_if_added:
        failed.append(f"{report.added} edit(s) added (more than {fail_if_added})")
    if fail_if_removed is not None and report.removed > fail_if_removed:
        failed.append(f"{report.removed} edit(s) removed (more than {fail_if_removed})")
    if failed:
        click.echo("impact gate failed: " + "; ".join(failed), err=True)
        raise SystemExit(1)
