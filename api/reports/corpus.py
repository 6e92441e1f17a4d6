"""Scrub a claim corpus (X12 and JSON files, directories walked) with a set of pack directories.

Shared by ``claimscrub snapshot`` and ``claimscrub impact``.  Each edit is kept with where its claim
came from: the file (relative to the corpus argument, so reports do not depend on the checkout
path), the claim's ordinal in that file and its control number.  Never patient data: the edit's
``value`` is already empty for protected fields (``engine.edits``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from claims.model import Claim
from claims.sources import iter_claims, walk_paths
from engine.edits import Edit

__all__ = [
    "CorpusEdit",
    "CorpusError",
    "CorpusRun",
    "corpus_files",
    "scrub_corpus",
    "scrub_corpus_many",
]

CHUNK = 5_000
#: How many unreadable claims a CorpusError lists (the count is always given).
MAX_REPORTED = 20


class CorpusError(Exception):
    """The corpus could not be read (a missing path, unreadable files or claims).

    Every unreadable claim is read past and listed (up to ``MAX_REPORTED``), so one run shows all
    of them; no report is produced from a partly read corpus, since its edits would be
    incomparable with a snapshot of the whole corpus.
    """


@dataclass(frozen=True, slots=True)
class CorpusEdit:
    """One edit on one claim of the corpus."""

    file: str
    index: int  # 0-based position of the claim in its file
    control_number: str
    edit: Edit


@dataclass(frozen=True, slots=True)
class CorpusRun:
    """Every edit the packs produced on the corpus, and how many claims were read."""

    edits: tuple[CorpusEdit, ...]
    claims: int


def _label(path: Path, root: Path) -> str:
    if root.is_dir():
        return Path(os.path.relpath(path, root)).as_posix()
    return path.name


def corpus_files(paths: Sequence[Path]) -> list[tuple[str, Path]]:
    """``(label, path)`` of each file under ``paths``; :class:`CorpusError` if a path is missing."""
    out: list[tuple[str, Path]] = []
    for root in paths:
        if not root.exists():
            raise CorpusError(f"{root}: no such file or directory")
        out.extend((_label(f, root), f) for f in walk_paths([root]))
    return out


def scrub_corpus(
    pack_dirs: Sequence[Path],
    claims: Sequence[Path],
    *,
    as_of: date | None = None,
    evaluator: Literal["numba", "reference"] = "numba",
) -> CorpusRun:
    """Scrub every claim under ``claims`` with the packs; raises :class:`CorpusError` on bad input.

    Compile errors of the packs propagate as ``dsl.CompileError``.
    """
    return scrub_corpus_many([pack_dirs], claims, as_of=as_of, evaluator=evaluator)[0]


def scrub_corpus_many(
    pack_sets: Sequence[Sequence[Path]],
    claims: Sequence[Path],
    *,
    as_of: date | None = None,
    evaluator: Literal["numba", "reference"] = "numba",
) -> list[CorpusRun]:
    """One :class:`CorpusRun` per set of pack directories, reading the corpus only once.

    Why: ``impact`` compares two versions over the same claims; reading (and parsing) the corpus
    once and scrubbing each chunk with both versions halves the I/O and parsing cost.
    """
    from engine.scrubber import Scrubber

    scrubbers = [Scrubber.from_directories(list(dirs)) for dirs in pack_sets]
    outs: list[list[CorpusEdit]] = [[] for _ in scrubbers]
    pending: list[tuple[str, int, Claim]] = []
    count = 0

    def flush() -> None:
        chunk = [c for _, _, c in pending]
        for scrubber, out in zip(scrubbers, outs, strict=True):
            results = scrubber.scrub(chunk, as_of=as_of, evaluator=evaluator)
            for (label, index, claim), edits in zip(pending, results, strict=True):
                out.extend(CorpusEdit(label, index, claim.control_number, e) for e in edits)
        pending.clear()

    unreadable: list[str] = []
    for label, path in corpus_files(claims):
        for index, item in enumerate(iter_claims(path)):
            if item.claim is None:
                # read on: the author fixes every bad claim from one report, not one per run
                unreadable.append(f"{label}: {item.error}")
                continue
            pending.append((label, index, item.claim))
            count += 1
            if len(pending) >= CHUNK:
                flush()
    if unreadable:
        shown = "\n  ".join(unreadable[:MAX_REPORTED])
        more = len(unreadable) - MAX_REPORTED
        tail = f"\n  ... and {more} more" if more > 0 else ""
        raise CorpusError(f"{len(unreadable)} unreadable input(s) in the corpus:\n  {shown}{tail}")
    if pending:
        flush()
    return [CorpusRun(tuple(out), count) for out in outs]
