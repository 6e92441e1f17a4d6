"""``claimscrub convert``: print the Optum-shaped JSON of every claim in X12 or JSON files."""

from __future__ import annotations

import json
import sys

import click

from claims.optum import claim_to_json
from claims.sources import iter_claims, walk_paths


@click.command("convert")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=True))
@click.option(
    "--to",
    "to",
    type=click.Choice(["json", "jsonl"]),
    default="json",
    show_default=True,
    help="json: one array of claims; jsonl: one JSON document per line per claim.",
)
def convert_command(files: tuple[str, ...], to: str) -> None:
    """Convert claims in FILES (X12 837P/837I or JSON, detected from content) to Optum JSON.

    Errors go to stderr with their location; the exit code is 2 if any input could not be read.
    """
    failed = False
    out = sys.stdout
    first = True
    if to == "json":
        out.write("[")
    for path in walk_paths(files):
        for item in iter_claims(path):
            if item.error is not None:
                failed = True
                msg = str(item.error)
                click.echo(msg if msg.startswith(item.file) else f"{item.file}: {msg}", err=True)
                continue
            assert item.claim is not None
            doc = claim_to_json(item.claim)
            if to == "jsonl":
                out.write(json.dumps(doc, separators=(",", ":")) + "\n")
            else:
                out.write(("\n" if first else ",\n") + json.dumps(doc, indent=2))
                first = False
    if to == "json":
        out.write("\n]\n")
    if failed:
        raise SystemExit(2)
