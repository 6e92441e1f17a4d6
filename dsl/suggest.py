"""Nearest-name suggestions ("did you mean ...?"), as starlark's ``internal/spell``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean", "nearest"]


def nearest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name``, if any is close enough (difflib ratio >= 0.6)."""
    pool = list(dict.fromkeys(candidates))
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in pool}
    return lowered.get(name.lower())


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint ``did you mean 'x'?`` or None."""
    best = nearest(name, candidates)
    return f"did you mean {best!r}?" if best is not None else None
