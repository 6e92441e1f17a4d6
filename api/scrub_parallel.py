"""``claimscrub scrub --jobs N``: read, scrub and serialise claims in N worker processes.

The output is byte-identical to ``--jobs 1``.  Why that holds:

* A piece of work is a whole small file (read by ``claims.sources.iter_claims``, as one process
  would) or a run of whole transaction sets of a large X12 file (``claims.x12.split``: cut only
  where a single read's envelope state is known, the reader started in that state and at the same
  byte offsets, so segment numbers, locations and errors are the same).  Files that cannot be cut
  exactly (JSON, one huge transaction set, odd envelopes) are read and scrubbed in the parent.
* Edits of a claim do not depend on the other claims of its batch, so workers scrub in their own
  batches; each envelope is serialised on its own and returned with its kind (claim or error).
* The parent regroups the envelopes exactly as ``--jobs 1`` batches them (``Regrouper``: per
  CHUNK claims, the error envelopes met while reading them first, then the claims) and writes them.

Memory: at most ``2 * jobs`` pieces in flight, each about CHUNK claims.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any, Literal

from api.scrub_fast import fast_piece, usable_for
from claims.model import Claim
from claims.sources import SourceItem, iter_claims
from claims.x12.split import Piece, PieceReader, plan_pieces, read_piece
from engine.edits import Edit
from engine.scrubber import Scrubber

__all__ = [
    "SMALL_FILE_BYTES",
    "Options",
    "PlanPrefetch",
    "Regrouper",
    "Rendered",
    "Tally",
    "columnar_enabled",
    "parallel_envelopes",
]

log = logging.getLogger("claimscrub.scrub")

#: A file smaller than this is one piece of work, read whole by a worker.
SMALL_FILE_BYTES = 8 * 1024 * 1024
_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True, slots=True)
class Options:
    """What every piece is scrubbed and serialised with."""

    packs: list[str] | None
    as_of: date | None
    explain: bool
    evaluator: Literal["numba", "reference"]
    processing_date: date
    chunk: int
    fmt: str = ""  # the output format: "jsonl" writes clean claims through the fast path

    def scrub(self, scrubber: Scrubber, claims: Sequence[Claim]) -> list[list[Edit]]:
        """``scrubber.scrub`` of ``claims`` with these options."""
        return scrubber.scrub(
            claims,
            packs=self.packs,
            as_of=self.as_of,
            explain=self.explain,
            evaluator=self.evaluator,
            processing_date=self.processing_date,
        )


@dataclass(slots=True)
class Tally:
    """What a run found, for the closing summary, and the worst severity for ``--fail-on``."""

    claims: int = 0
    edited: int = 0
    by_severity: dict[str, int] = field(default_factory=dict)
    worst: int = -1  # rank of the worst severity seen (_SEVERITY_RANK), -1 for none

    def add_claim(self, edits: Sequence[Edit]) -> None:
        """Count one scrubbed claim and its edits."""
        self.claims += 1
        if not edits:
            return
        self.edited += 1
        counts = self.by_severity
        for e in edits:
            counts[e.severity] = counts.get(e.severity, 0) + 1
            self.worst = max(self.worst, _SEVERITY_RANK.get(e.severity, 0))

    def merge(self, other: Tally) -> None:
        """Add another part's counts (a worker's piece)."""
        self.claims += other.claims
        self.edited += other.edited
        for severity, n in other.by_severity.items():
            self.by_severity[severity] = self.by_severity.get(severity, 0) + n
        self.worst = max(self.worst, other.worst)

    def summary(self, unreadable: int) -> str:
        """One line for people: ``3 claims scrubbed, 1 with edits (2 errors); 0 unreadable``."""
        ranked = sorted(self.by_severity.items(), key=lambda kv: -_SEVERITY_RANK.get(kv[0], 0))
        found = ", ".join(f"{n} {sev}{'' if n == 1 else 's'}" for sev, n in ranked)
        edits = f" ({found})" if found else ""
        return (
            f"{self.claims} claims scrubbed, {self.edited} with edits{edits}; "
            f"{unreadable} unreadable input(s)"
        )


@dataclass(slots=True)
class Rendered:
    """The serialised envelopes of a piece, in file order.

    ``kinds[i]`` is 1 for a claim and 0 for an error envelope; ``tally`` counts the claims and
    edits; ``stopped`` says the read of the file ended in this piece.
    """

    texts: list[str]
    kinds: bytearray
    tally: Tally
    stopped: bool = False


Render = Callable[[dict[str, Any]], str]
ErrorEnvelope = Callable[[SourceItem], dict[str, Any]]


def scrub_items(
    items: Iterable[SourceItem],
    scrubber: Scrubber,
    opts: Options,
    render: Render,
    error_envelope: ErrorEnvelope,
) -> Iterator[Rendered]:
    """Scrub ``items`` in batches of ``opts.chunk`` claims; serialised envelopes in item order."""
    from api.envelope import claim_response, success_jsonl

    fast_clean = opts.fmt == "jsonl"

    batch: list[Claim] = []
    order: list[SourceItem | None] = []  # None: the next claim of ``batch``

    def flush() -> Rendered:
        results = opts.scrub(scrubber, batch)
        out = Rendered([], bytearray(), Tally())
        edits_it = iter(zip(batch, results, strict=True))
        for entry in order:
            if entry is None:
                claim, edits = next(edits_it)
                if fast_clean and not edits:
                    out.texts.append(success_jsonl(claim))
                else:
                    out.texts.append(render(claim_response(claim, edits, explain=opts.explain)))
                out.kinds.append(1)
                out.tally.add_claim(edits)
            else:
                out.texts.append(render(error_envelope(entry)))
                out.kinds.append(0)
        batch.clear()
        order.clear()
        return out

    for item in items:
        if item.claim is not None:
            batch.append(item.claim)
            order.append(None)
            if len(batch) >= opts.chunk:
                yield flush()
        else:
            order.append(item)
    if order:
        yield flush()


# ---- worker side ------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(
    scrubber: Scrubber | None,
    build: Callable[[], Scrubber] | None,
    opts: Options,
    render: Render,
    error_envelope: ErrorEnvelope,
) -> None:
    """Per worker: the scrubber (inherited with fork, built once with spawn) and the options."""
    if scrubber is None:
        assert build is not None
        scrubber = build()
    _WORKER.update(scrubber=scrubber, opts=opts, render=render, error_envelope=error_envelope)
    _WORKER["columnar"] = columnar_enabled() and usable_for(
        scrubber, opts.packs, opts.fmt, opts.evaluator
    )


def columnar_enabled() -> bool:
    """``CLAIMSCRUB_COLUMNAR=off`` turns the columnar ingest off (for comparisons)."""
    return os.environ.get("CLAIMSCRUB_COLUMNAR", "").lower() not in ("off", "0", "no")


def _run_task(task: tuple[Path, Piece | None]) -> Rendered:
    """Scrub one piece of work, with the cyclic collector off meanwhile.

    Why: a piece makes ~10^5 objects that live until its envelopes are rendered (scanned claims,
    edits, texts), none in cycles; even with ``batch_gc_policy``'s thresholds the collector's
    generation-0 passes walked them ~200 times per 1,000,000 lines (0.3 s of CPU, ~7 %).
    Reference counting frees them when the piece is done; anything cyclic is collected by the
    next pass after the piece.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _scrub_task(task)
    finally:
        if enabled:
            gc.enable()


def _scrub_task(task: tuple[Path, Piece | None]) -> Rendered:
    path, piece = task
    scrubber: Scrubber = _WORKER["scrubber"]
    opts: Options = _WORKER["opts"]
    name = str(path)
    if piece is not None and _WORKER.get("columnar"):
        render, error_envelope = _WORKER["render"], _WORKER["error_envelope"]
        try:
            got = fast_piece(path, piece, scrubber, opts, render, error_envelope)
        except Exception as exc:  # a defect of the fast path must not cost the user the run
            # Only the exception type and the byte range: messages could quote claim values.
            log.warning(
                "columnar ingest failed on bytes %d-%d (%s); read with the object reader",
                piece.start,
                piece.end,
                type(exc).__name__,
            )
            got = None
        if got is not None:
            texts, kinds, edits_of = got
            fast = Rendered(texts, kinds, Tally())
            for edits in edits_of:
                fast.tally.add_claim(edits)
            return fast
    reader: PieceReader | None = None
    items: Iterable[SourceItem]
    if piece is None:
        items = iter_claims(path)
    else:
        reader = PieceReader(name, piece)
        items = (
            SourceItem(name, claim=x) if isinstance(x, Claim) else SourceItem(name, error=x)
            for x in read_piece(reader, path)
        )
    out = Rendered([], bytearray(), Tally())
    for part in scrub_items(items, scrubber, opts, _WORKER["render"], _WORKER["error_envelope"]):
        out.texts.extend(part.texts)
        out.kinds.extend(part.kinds)
        out.tally.merge(part.tally)
    out.stopped = reader is not None and reader.stopped
    return out


# ---- parent side ------------------------------------------------------------------------------


class Regrouper:
    """Write serialised envelopes in the order ``--jobs 1`` writes them.

    ``--jobs 1`` reads claims in batches of ``chunk`` (across files) and writes each batch's error
    envelopes before its claim envelopes; this replays that from envelopes in file order.
    """

    def __init__(
        self,
        write: Callable[[Sequence[str]], None],
        chunk: int,
        progress: Callable[[int], None],
    ):
        """``write`` takes a run of serialised envelopes (``_Writer.write_texts``)."""
        self.write, self.chunk, self.progress = write, chunk, progress
        self.claims: list[str] = []
        self.errors: list[str] = []
        self.scrubbed = self.input_errors = 0
        self.tally = Tally()

    def add(self, part: Rendered) -> None:
        """Take the envelopes of the next piece (in input order)."""
        self.tally.merge(part.tally)
        texts = part.texts
        if part.kinds.find(0) < 0:
            # claims only (the common case): move them over a batch at a time
            at = 0
            while at < len(texts):
                take = self.chunk - len(self.claims)
                self.claims.extend(texts[at : at + take])
                at += take
                if len(self.claims) >= self.chunk:
                    self.flush()
            return
        for text, kind in zip(texts, part.kinds, strict=True):
            if kind:
                self.claims.append(text)
                if len(self.claims) >= self.chunk:
                    self.flush()
            else:
                self.errors.append(text)

    def flush(self) -> None:
        """Write the batch read so far: its error envelopes, then its claims."""
        if not (self.claims or self.errors):
            return
        if self.errors:
            self.write(self.errors)
        self.write(self.claims)
        self.input_errors += len(self.errors)
        self.scrubbed += len(self.claims)
        self.claims, self.errors = [], []
        self.progress(self.scrubbed)


def _start_method() -> str:
    method = os.environ.get("CLAIMSCRUB_START_METHOD", "")
    if method:
        return method
    return "fork" if "fork" in mp.get_all_start_methods() else "spawn"


def parallel_envelopes(
    paths: Sequence[Path],
    jobs: int,
    scrubber: Scrubber,
    build: Callable[[], Scrubber],
    opts: Options,
    render: Render,
    error_envelope: ErrorEnvelope,
    sink: Regrouper,
    prefetched: PlanPrefetch | None = None,
) -> None:
    """Scrub ``paths`` with ``jobs`` worker processes, feeding ``sink`` in input order.

    ``prefetched``: pieces being planned in a thread (:class:`PlanPrefetch` with ``opts.chunk``);
    the thread is joined before any worker is forked (a fork while it holds a lock, Numba's or
    the import lock, would leave the child waiting on that lock for ever).
    """
    plans = prefetched.join() if prefetched is not None else {}
    pool: Pool | _Inline
    if jobs <= 1:  # the columnar path in this process (``scrub --jobs 1`` on a large file)
        _init_worker(scrubber, None, opts, render, error_envelope)
        pool = _Inline()
    else:
        method = _start_method()
        ctx = mp.get_context(method)
        inherited = scrubber if method == "fork" else None
        init_args = (inherited, None if inherited else build, opts, render, error_envelope)
        pool = ctx.Pool(jobs, initializer=_init_worker, initargs=init_args)
    pending: deque[tuple[int, AsyncResult[Rendered] | _Done]] = deque()
    skip = -1  # the index of a file whose read stopped: its later pieces are discarded

    def drain(limit: int) -> None:
        nonlocal skip
        while len(pending) > limit:
            index, result = pending.popleft()
            part = result.get()
            if index == skip:
                continue
            sink.add(part)
            if part.stopped:
                skip = index

    try:
        for index, path in enumerate(paths):
            pieces = plans[path] if path in plans else _plan(path, opts.chunk)
            if pieces is None:  # read and scrub in the parent, as --jobs 1 does
                drain(0)
                for part in scrub_items(iter_claims(path), scrubber, opts, render, error_envelope):
                    sink.add(part)
                continue
            for piece in pieces:
                pending.append((index, pool.apply_async(_run_task, ((path, piece),))))
                drain(2 * jobs)
        drain(0)
        pool.close()
    finally:
        pool.terminate()
        pool.join()
    sink.flush()


@dataclass(slots=True)
class _Done:
    """A piece scrubbed in this process (``AsyncResult``'s ``get``)."""

    part: Rendered

    def get(self) -> Rendered:
        return self.part


class _Inline:
    """The pool's surface for ``jobs == 1``: each piece is scrubbed when it is submitted."""

    def apply_async(self, fn: Callable[..., Rendered], args: tuple[Any, ...]) -> _Done:
        return _Done(fn(*args))

    def close(self) -> None:
        """Nothing to close."""

    def terminate(self) -> None:
        """Nothing to stop."""

    def join(self) -> None:
        """Nothing to wait for."""


class PlanPrefetch:
    """Plan ``paths`` in a background thread while the packs compile (the scan releases the GIL).

    :meth:`join` waits for it; a path whose plan failed is left out (it is planned again, in the
    caller's thread, where the error shows as it always did).
    """

    def __init__(self, paths: Sequence[Path], chunk: int) -> None:
        self._plans: dict[Path, list[Piece | None] | None] = {}
        self._thread = threading.Thread(
            target=self._run, args=(list(paths), chunk), name="claimscrub-plan", daemon=True
        )
        self._thread.start()

    def _run(self, paths: list[Path], chunk: int) -> None:
        for path in paths:
            try:
                self._plans[path] = _plan(path, chunk)
            except Exception:
                continue

    def join(self) -> dict[Path, list[Piece | None] | None]:
        """The plans made, once the thread has finished."""
        self._thread.join()
        return dict(self._plans)


def _plan(path: Path, chunk: int) -> list[Piece | None] | None:
    """The pieces of one file (None: the whole file is one piece), or None to read it here."""
    try:
        size = path.stat().st_size
    except OSError:
        return [None]
    if size < SMALL_FILE_BYTES:
        return [None]
    try:
        pieces = plan_pieces(path, chunk)
    except OSError:
        return [None]
    return list(pieces) if pieces is not None else None
