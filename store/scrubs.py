"""Scrub history: which pack versions scrubbed which claim, when, with which edits.

The claim is identified by HMAC-SHA256 of its control number under a random store-wide key, so the
history can be searched by control number but holds no claim identifier in clear (and no patient
name or member id at all).

Two ways to write it:

* :func:`record_scrub` / :func:`record_scrubs` in the caller's transaction.
* :class:`ScrubHistoryWriter`, what the HTTP API uses: a request hands its :class:`ScrubEntry`
  values to a bounded in-process queue and returns; a background thread writes the queue in one
  transaction per batch, at least every ``interval`` seconds (100 ms by default) or as soon as
  ``batch_size`` entries wait.  A commit per scrub (with its fsync and the store's write lock, which
  every worker queues for on SQLite) cost more than the scrub itself.

  What that costs in durability: entries are in memory until their batch commits, so a process that
  dies without exiting (SIGKILL, OOM kill, power loss) loses at most the entries of the last
  ``interval`` plus what a failing store kept queued.  A normal exit (gunicorn's SIGTERM / SIGQUIT
  / SIGHUP, ``sys.exit``, interpreter shutdown) drains the queue first (``atexit``).  When the store
  fails, the entries stay queued and the writer retries; when ``max_pending`` entries wait,
  :meth:`ScrubHistoryWriter.submit` blocks up to ``submit_timeout`` and then raises
  :class:`HistoryBacklogError`, so no scrub result is returned without its history entry at least
  queued.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from store.models import (
    ApiClient,
    PackVersion,
    ScrubRecord,
    ScrubRecordVersion,
    StoreSetting,
    utcnow,
)

__all__ = [
    "HistoryBacklogError",
    "ScrubEntry",
    "ScrubHistoryWriter",
    "claim_key",
    "record_scrub",
    "record_scrubs",
    "scrubs_for_claim",
]

_KEY_SETTING = "claim_key_hmac"
log = logging.getLogger(__name__)


def _hmac_key(session: Session) -> bytes:
    row = session.get(StoreSetting, _KEY_SETTING)
    if row is None:
        try:
            # A savepoint: two first scrubs may race to create the key; the loser reads the
            # winner's.
            with session.begin_nested():
                session.add(StoreSetting(key=_KEY_SETTING, value=secrets.token_hex(32)))
        except IntegrityError:
            pass
        row = session.get(StoreSetting, _KEY_SETTING, populate_existing=True)
        assert row is not None
    return bytes.fromhex(row.value)


def _keyed(key: bytes, control_number: str) -> str:
    return hmac.new(key, control_number.encode("utf-8"), hashlib.sha256).hexdigest()


def claim_key(session: Session, control_number: str) -> str:
    """The keyed hash that stands for a claim's control number in the history."""
    return _keyed(_hmac_key(session), control_number)


def record_scrub(
    session: Session,
    control_number: str,
    versions: Sequence[PackVersion],
    edits: list[dict[str, Any]],
    *,
    status: str,
    client: ApiClient | None = None,
) -> ScrubRecord:
    """Record one scrub; ``edits`` is the JSON list of edits returned (no patient data)."""
    record = ScrubRecord(
        claim_key=claim_key(session, control_number),
        client_pk=None if client is None else client.id,
        status=status,
        edits=edits,
        versions=[
            ScrubRecordVersion(version_id=v.id) for v in {v.id: v for v in versions}.values()
        ],
    )
    session.add(record)
    session.flush()
    return record


@dataclass(frozen=True, slots=True)
class ScrubEntry:
    """One scrub to record, by ids only (what :func:`record_scrubs` and the writer take).

    ``edits`` is the identifiers-only summary of the edits (no values, no messages); ``at`` is when
    the scrub ran (not when the entry is written).
    """

    control_number: str
    version_ids: tuple[int, ...]
    edits: list[dict[str, Any]]
    status: str
    client_pk: int | None = None
    at: datetime = field(default_factory=utcnow)


def record_scrubs(
    session: Session, entries: Sequence[ScrubEntry], *, key: bytes | None = None
) -> None:
    """Insert ``entries`` in the session's transaction: two multi-row INSERTs, no ORM objects.

    ``key`` is the store's claim-key HMAC key when the caller already holds it (it never changes).
    """
    if not entries:
        return
    key = key if key is not None else _hmac_key(session)
    rows = [
        {
            "at": e.at,
            "claim_key": _keyed(key, e.control_number),
            "client_pk": e.client_pk,
            "status": e.status,
            "edits": e.edits,
        }
        for e in entries
    ]
    ids = session.scalars(
        insert(ScrubRecord).returning(ScrubRecord.id, sort_by_parameter_order=True), rows
    ).all()
    links = [
        {"scrub_id": scrub_id, "version_id": v}
        for scrub_id, e in zip(ids, entries, strict=True)
        for v in dict.fromkeys(e.version_ids)
    ]
    if links:
        session.execute(insert(ScrubRecordVersion), links)


def scrubs_for_claim(session: Session, control_number: str) -> list[ScrubRecord]:
    """Every recorded scrub of the claim with this control number, oldest first."""
    key = claim_key(session, control_number)
    return list(
        session.scalars(
            select(ScrubRecord).where(ScrubRecord.claim_key == key).order_by(ScrubRecord.id)
        )
    )


class HistoryBacklogError(RuntimeError):
    """The history queue stayed full (the store does not keep up or does not answer)."""


_LIVE: weakref.WeakSet[ScrubHistoryWriter] = weakref.WeakSet()


class ScrubHistoryWriter:
    """Writes scrub history in batches from a background thread (see the module docstring).

    Thread-safe.  The thread starts on the first :meth:`submit` in a process (so a writer built
    before a fork starts its own thread in the child; entries queued before a fork belong to the
    parent, which writes them, and are dropped in the child).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        interval: float = 0.1,
        batch_size: int = 256,
        max_pending: int = 10_000,
        submit_timeout: float = 5.0,
        retry_delay: float = 1.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        if interval <= 0 or batch_size < 1 or max_pending < batch_size:
            raise ValueError("need interval > 0 and 1 <= batch_size <= max_pending")
        self.sessions = sessions
        self.interval = interval
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.submit_timeout = submit_timeout
        self.retry_delay = retry_delay
        self._on_error = on_error
        self._reset()
        _LIVE.add(self)

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._pending: deque[ScrubEntry] = deque()
        self._submitted = 0  # entries ever queued in this process
        self._done = 0  # entries written (or dropped as unwritable)
        self._flush_now = False
        self._closing = False
        self._thread: threading.Thread | None = None
        self._key: bytes | None = None
        self.batches = 0  # transactions committed
        self.failures = 0  # failed write attempts
        self.dropped = 0  # entries the store refused on their own (integrity errors)

    # -- producer side ---------------------------------------------------------------------------

    def submit(self, entries: Iterable[ScrubEntry]) -> None:
        """Queue entries; blocks while the queue is full, HistoryBacklogError after the timeout."""
        batch = list(entries)
        if not batch:
            return
        with self._cond:
            if self._closing:
                raise HistoryBacklogError("the scrub history writer is closed")
            self._start()
            deadline = time.monotonic() + self.submit_timeout
            while self._pending and len(self._pending) + len(batch) > self.max_pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HistoryBacklogError(f"{len(self._pending)} scrub history entries wait")
                self._flush_now = True
                self._cond.notify_all()
                self._cond.wait(left)
            was_empty = not self._pending
            self._pending.extend(batch)
            self._submitted += len(batch)
            if was_empty or len(self._pending) >= self.batch_size:
                self._cond.notify_all()

    @property
    def pending(self) -> int:
        """Entries queued and not written yet."""
        with self._cond:
            return len(self._pending)

    def flush(self, timeout: float | None = None) -> bool:
        """Write everything queued so far now; False if that did not finish within ``timeout``."""
        with self._cond:
            target = self._submitted
            if self._done >= target:
                return True
            if self._thread is None or not self._thread.is_alive():
                self._start()
            self._flush_now = True
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._done >= target, timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Drain the queue and stop the thread; False if entries were still pending at the end."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._cond:
            return not self._pending

    # -- writer thread ---------------------------------------------------------------------------

    def _start(self) -> None:
        # Called with the condition held.
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name="claimscrub-history", daemon=True
            )
            self._thread.start()

    def _next_batch(self) -> tuple[list[ScrubEntry], bool]:
        """Wait for a batch (or the interval, a flush, closing); peek at it without removing it."""
        with self._cond:
            while not self._pending and not self._closing:
                self._cond.wait()  # idle: no timer until something is queued
            deadline = time.monotonic() + self.interval
            while (
                not self._closing and not self._flush_now and len(self._pending) < self.batch_size
            ):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            n = min(len(self._pending), self.batch_size)
            batch = [self._pending[i] for i in range(n)]
            if len(self._pending) <= n:
                self._flush_now = False
            return batch, self._closing

    def _finish(self, n: int) -> None:
        # Only this thread removes entries, and producers append on the right, so the n oldest
        # entries are still the batch just written.
        with self._cond:
            for _ in range(n):
                self._pending.popleft()
            self._done += n
            self._cond.notify_all()

    def _write(self, batch: Sequence[ScrubEntry]) -> None:
        with self.sessions.begin() as session:
            if self._key is None:
                self._key = _hmac_key(session)
            record_scrubs(session, batch, key=self._key)

    def _write_one_by_one(self, batch: Sequence[ScrubEntry]) -> int:
        """After a failed batch: write entry by entry; drop only what the store refuses as data."""
        written = 0
        for entry in batch:
            try:
                self._write([entry])
            except IntegrityError as exc:
                self.dropped += 1
                self._report(exc)
            except SQLAlchemyError:
                break  # the store itself fails: keep this entry and the rest, retry later
            written += 1
        return written

    def _report(self, exc: BaseException) -> None:
        self.failures += 1
        if self._on_error is not None:
            self._on_error(exc)
        else:
            log.warning("scrub history write failed: %s", type(exc).__name__)

    def _run(self) -> None:
        while True:
            batch, closing = self._next_batch()
            if not batch:
                if closing:
                    return
                continue
            try:
                self._write(batch)
                done = len(batch)
            except SQLAlchemyError as exc:
                self._report(exc)
                done = self._write_one_by_one(batch) if len(batch) > 1 else 0
                if isinstance(exc, IntegrityError) and len(batch) == 1:
                    self.dropped += 1
                    done = 1
            except Exception as exc:  # a bug: keep the entries, do not spin
                self._report(exc)
                done = 0
            if done:
                self.batches += 1
                self._finish(done)
            if done < len(batch):
                if closing:
                    return  # the store fails at exit: nothing more to do
                with self._cond:
                    self._cond.wait_for(lambda: self._closing, self.retry_delay)


def _close_all() -> None:
    for writer in list(_LIVE):
        writer.close(timeout=10.0)


def _after_fork_in_child() -> None:
    for writer in list(_LIVE):
        writer._reset()


atexit.register(_close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
