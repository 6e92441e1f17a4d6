"""``claimscrub scrub --record``: the batch's scrubs go into the store's scrub history.

Why: the HTTP API records every scrub (a keyed hash of the control number, the pack versions and
the edits' identifiers, never patient data); a claims team scrubbing a nightly file with the CLI
wants the same audit trail.  One transaction per chunk of claims, through the store's multi-row
insert (``store.scrubs.record_scrubs``), so a failed batch loses at most its open chunk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from claims.model import Claim
from engine.edits import Edit

if TYPE_CHECKING:  # store (SQLAlchemy) is imported only when history is written
    from store.scrubs import ScrubEntry

__all__ = ["HistoryRecorder", "edit_summary", "history_entries"]


def edit_summary(edits: Sequence[Edit]) -> list[dict[str, Any]]:
    """What the history keeps of each edit: identifiers only (no values, no messages)."""
    return [
        {
            "ruleId": e.rule_id,
            "pack": e.pack,
            "packVersion": e.pack_version,
            "severity": e.severity,
            "lines": list(e.lines),
            "field": e.field,
        }
        for e in edits
    ]


def history_entries(
    claims: Sequence[Claim],
    results: Sequence[Sequence[Edit]],
    version_ids: tuple[int, ...],
    *,
    client_pk: int | None = None,
) -> list[ScrubEntry]:
    """One history entry per scrubbed claim (the API's and the CLI's), stamped now."""
    from store.scrubs import ScrubEntry

    at = datetime.now(UTC)
    return [
        ScrubEntry(
            control_number=claim.control_number,
            version_ids=version_ids,
            edits=edit_summary(edits),
            status="EDITS" if edits else "SUCCESS",
            client_pk=client_pk,
            at=at,
        )
        for claim, edits in zip(claims, results, strict=True)
    ]


class HistoryRecorder:
    """Writes scrubbed claims to the scrub history of the store at ``database``."""

    def __init__(self, database: str, packs: Iterable[tuple[str, str]]) -> None:
        from store import make_engine, make_sessionmaker
        from store.service import get_version

        self._engine = make_engine(database)
        self._sessions = make_sessionmaker(self._engine)
        with self._sessions.begin() as session:
            self.version_ids = tuple(get_version(session, n, v).id for n, v in sorted(packs))
        self.recorded = 0

    def record(self, claims: Sequence[Claim], results: Sequence[Sequence[Edit]]) -> None:
        """Record one chunk of scrubbed claims in one transaction."""
        from store.scrubs import record_scrubs

        entries = history_entries(claims, results, self.version_ids)
        with self._sessions.begin() as session:
            record_scrubs(session, entries)
        self.recorded += len(entries)

    def close(self) -> None:
        """Release the store's connections."""
        self._engine.dispose()
