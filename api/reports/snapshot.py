r"""Snapshot files: the edits some pack versions produce on a claim corpus, stable and diffable.

Format (UTF-8 text, ``\n`` line ends)::

    # claimscrub snapshot 1
    # pack: knowledge_packs/general-professional
    # pack: medicare@0.1.0
    # claims: tests/corpus
    # as-of: 2025-01-31                      (only when given)
    # claims-read: 120
    # columns: file|controlNumber|ruleId|pack@version|lines|field|value
    claims.837|000000017|GP-0010|general-professional@1.0.0|2|serviceLines[1]...|0.00

One edit a line, sorted.  ``file`` is relative to the ``claims`` path; ``lines`` are 1-based line
positions joined by commas; ``value`` is the engine's edit value, which is empty for protected
health information.  Backslash, ``|`` and line breaks in a cell are escaped as ``\\``, ``\|`` and
``\n``.  Pack directories and the claims path are recorded relative to the snapshot file's
directory, so a check works from any working directory; store references are kept as written.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date

from api.reports.corpus import CorpusEdit, CorpusRun

__all__ = [
    "COLUMNS",
    "MAGIC",
    "SnapshotError",
    "SnapshotHeader",
    "edit_line",
    "parse_header",
    "snapshot_diff",
    "snapshot_text",
]

MAGIC = "# claimscrub snapshot 1"
COLUMNS = "file|controlNumber|ruleId|pack@version|lines|field|value"


class SnapshotError(Exception):
    """A snapshot file that cannot be read."""


@dataclass(frozen=True, slots=True)
class SnapshotHeader:
    """What a snapshot was recorded from (paths as written in the file)."""

    packs: tuple[str, ...]
    claims: tuple[str, ...]
    as_of: date | None = None


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "\\r").replace("\n", "\\n")


def edit_line(item: CorpusEdit) -> str:
    """One edit as ``file|controlNumber|ruleId|pack@version|lines|field|value``."""
    e = item.edit
    cells = (
        item.file,
        item.control_number,
        e.rule_id,
        f"{e.pack}@{e.pack_version}",
        ",".join(str(n) for n in e.lines),
        e.field,
        e.value,
    )
    return "|".join(_cell(c) for c in cells)


def snapshot_text(header: SnapshotHeader, run: CorpusRun) -> str:
    """The snapshot file's text."""
    lines = [MAGIC]
    lines.extend(f"# pack: {p}" for p in header.packs)
    lines.extend(f"# claims: {c}" for c in header.claims)
    if header.as_of is not None:
        lines.append(f"# as-of: {header.as_of.isoformat()}")
    lines.append(f"# claims-read: {run.claims}")
    lines.append(f"# columns: {COLUMNS}")
    lines.extend(sorted(edit_line(e) for e in run.edits))
    return "\n".join(lines) + "\n"


def parse_header(text: str) -> SnapshotHeader:
    """The header of a snapshot file; raise :class:`SnapshotError` when it is not one."""
    lines = text.splitlines()
    if not lines or lines[0] != MAGIC:
        raise SnapshotError(f"not a claimscrub snapshot (the first line is not {MAGIC!r})")
    packs: list[str] = []
    claims: list[str] = []
    as_of: date | None = None
    for line in lines[1:]:
        if not line.startswith("# "):
            break
        key, _, value = line[2:].partition(": ")
        if key == "pack":
            packs.append(value)
        elif key == "claims":
            claims.append(value)
        elif key == "as-of":
            try:
                as_of = date.fromisoformat(value)
            except ValueError as exc:
                raise SnapshotError(f"bad as-of date {value!r}") from exc
    if not packs or not claims:
        raise SnapshotError("the snapshot names no pack or no claims path")
    return SnapshotHeader(tuple(packs), tuple(claims), as_of)


def snapshot_diff(
    recorded: str, current: str, name: str = "snapshot", context: int = 0
) -> list[str]:
    r"""A unified diff (lines with ``\n``) from the recorded snapshot to the current run."""
    return list(
        difflib.unified_diff(
            recorded.splitlines(keepends=True),
            current.splitlines(keepends=True),
            fromfile=f"{name} (recorded)",
            tofile=f"{name} (now)",
            n=context,
        )
    )
