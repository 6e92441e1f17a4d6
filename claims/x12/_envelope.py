"""The driver loop and the envelope pass: ISA/GS/ST … SE/GE/IEA, counts, control numbers, errors.

``EnvelopeReader`` owns everything that is the same for any X12 transaction: the per-segment loop
(split on the element separator, dispatch by identifier through a dict of bound methods), locating
and emitting errors, and checking the envelopes.  The 837 loops live in ``claims.x12.reader``,
which subclasses it and adds its handlers to the dispatch table.

Why a dispatch table swapped by state (``table``/``default``) rather than ``if`` chains: outside a
transaction set only envelope segments are legal, inside an unsupported one everything else is
skipped, inside an 837 every segment has a handler.  Swapping the table at ST/SE makes each of
those one dict lookup per segment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from claims.model import Claim, ClaimKind
from claims.x12._values import BadValue
from claims.x12.errors import X12Error
from claims.x12.tokenizer import Chunk

__all__ = ["BATCH", "MAX_JUNK", "EnvelopeReader", "Handler", "Location"]

Handler = Callable[[list[str]], None]
#: An explicit error location: segment number, segment id, loop, chunk and index in the chunk.
Location = tuple[int, str, str, Chunk | None, int]

#: Segments read between two flushes of ``out``.  Why not once per 1 MiB chunk: the ~2,000
#: claims of a chunk then all outlive several young-generation garbage collections, get promoted
#: and traversed again; flushing every 1,000 segments (~50 claims) lets them die young, which
#: measured 0.52-0.60 s → 0.44-0.46 s on the 100k-line benchmark (CPU time; 250 and 4,000 were
#: no better).  Chunks are still read 1 MiB at a time: only the hand-over is finer.
BATCH: Final = 1000
#: More unreadable segments than this with no HL/CLM/LX/ST between them means: not X12 at all.
MAX_JUNK: Final = 100


class _Fatal(Exception):
    """Too much junk: stop reading."""


class _Dispatch(dict[str, Handler]):
    """The live handler table: ``table[sid]`` falls back to ``fallback`` for unknown ids.

    Why a dict subclass swapped in place: the driver keeps it in a local variable and indexes it
    once per segment; ``__missing__`` only runs for unknown identifiers.
    """

    fallback: Handler
    source: dict[str, Handler] | None = None

    def __missing__(self, key: str) -> Handler:
        return self.fallback

    def use(self, table: dict[str, Handler], fallback: Handler) -> None:
        """Switch to another table (at ST and SE: a few dozen entries, once per transaction)."""
        if self.source is not table:
            self.clear()
            self.update(table)
            self.source = table
        self.fallback = fallback


def _kind_of(version: str) -> ClaimKind | None:
    if "X222" in version:
        return ClaimKind.PROFESSIONAL
    if "X223" in version:
        return ClaimKind.INSTITUTIONAL
    return None


class EnvelopeReader:
    """Driver and envelope checks; subclasses supply the transaction's own handlers."""

    def __init__(self, file: str, content: dict[str, Handler]) -> None:
        self.file = file
        self.out: list[Claim | X12Error] = []
        self.esep = "*"
        self.csep = ":"
        self.chunk: Chunk | None = None
        self.pos = 0
        self.seg_no = 0
        self.junk = 0
        self.in_isa = self.in_gs = self.in_st = False
        self.isa_ctrl = self.gs_ctrl = self.st_ctrl = self.gs_version = ""
        self.gs_count = self.st_count = 0
        self.kind = ClaimKind.PROFESSIONAL
        self.loop = ""
        self.env_table: dict[str, Handler] = {
            "ISA": self._isa,
            "GS": self._gs,
            "ST": self._st,
            "SE": self._se,
            "GE": self._ge,
            "IEA": self._iea,
            "": self._blank,
        }
        self.full_table: dict[str, Handler] = {**content, **self.env_table}
        self.table = _Dispatch()
        self.table.use(self.env_table, self._outside)

    # ---- hooks for the transaction-specific subclass ------------------------------------------

    def start_transaction(self) -> None:
        """Forget the previous transaction set's context (called at each supported ST)."""

    def finish_claim(self) -> None:
        """Freeze and emit the claim being read, if any (called at SE)."""

    def drop_claim(self) -> None:
        """Forget the claim being read without emitting it (its envelope was cut off)."""

    def spoil(self) -> None:
        """Mark whatever the current segment belongs to as unusable (after a data error)."""

    # ---- driver -------------------------------------------------------------------------------

    def run(self, chunks: Iterator[Chunk | X12Error]) -> Iterator[Claim | X12Error]:
        """Claims and errors in file order; ``out`` is flushed every ``BATCH`` segments."""
        out = self.out
        for chunk in chunks:
            if isinstance(chunk, X12Error):
                self.drop_claim()  # cut off mid-claim; the framing error says why
                yield from out
                yield chunk
                return
            self.chunk = chunk
            self.esep = chunk.delimiters.element
            for start in range(0, len(chunk.segments), BATCH):
                try:
                    self.read_segments(chunk, start, start + BATCH)
                except _Fatal:
                    self.drop_claim()
                    yield from out
                    return
                if out:
                    yield from out
                    out.clear()
        self._end_of_input()
        yield from out

    def read_segments(self, chunk: Chunk, start: int, stop: int) -> None:
        """Dispatch the segments ``start:stop`` of ``chunk`` to their handlers.

        The 837 reader overrides this with a copy that inlines its hottest segments; a change to
        the per-segment protocol here (counting, ``pos``, error handling) must be made there too.
        """
        esep = self.esep
        bad = chunk.bad_utf8
        table = self.table
        for i, seg in enumerate(chunk.segments[start:stop], start):
            els = seg.split(esep)
            self.seg_no += 1
            self.pos = i
            try:
                if bad and i in bad:
                    self.bad_utf8(bad[i])
                table[els[0]](els)
            except BadValue as exc:
                self.bad_value(els[0], exc)

    def bad_utf8(self, byte: int) -> None:
        """Report a segment with bytes that are not UTF-8 (it is still read, as Latin-1)."""
        self.spoil()
        self.emit("X12-E006", f"byte {byte} of the segment is not UTF-8 (read as Latin-1)")

    def bad_value(self, sid: str, exc: BadValue) -> None:
        """Report the data error a handler raised, and spoil what the segment belongs to."""
        self.spoil()
        where = f" in {sid}{exc.element:02d}" if exc.element else ""
        self.emit(exc.code, exc.message + where, exc.element)

    def emit(
        self, code: str, message: str, element: int | None = None, *, at: Location | None = None
    ) -> None:
        """Append an error located at the current segment (or at ``at``)."""
        if at is None:
            chunk, index = self.chunk, self.pos
            sid = chunk.segments[index].split(self.esep, 1)[0][:20] if chunk is not None else ""
            in_st = self.in_st or sid == "SE"
            number = self.seg_no if in_st else None
            loop = self.loop if in_st else sid
            control = self.st_ctrl if in_st else ""
        else:
            number, sid, loop, chunk, index = at
            control = self.st_ctrl
        offset = chunk.offset(index) if chunk is not None else 0
        self.out.append(
            X12Error(code, message, number, sid, loop, element, offset, control, self.file)
        )

    def junk_segment(self, sid: str, code: str, message: str) -> None:
        """Report a segment that cannot be used; stop after ``MAX_JUNK`` in a row."""
        if not (2 <= len(sid) <= 3 and sid.isascii() and sid.isalnum() and sid[0].isupper()):
            code, message = "X12-E008", f"invalid segment identifier {sid[:20]!r}"
        self.emit(code, message)
        self.junk += 1
        if self.junk > MAX_JUNK:
            self.emit("X12-E007", f"more than {MAX_JUNK} unreadable segments in a row; stopping")
            raise _Fatal

    def _end_of_input(self) -> None:
        if not (self.in_isa or self.in_gs or self.in_st):
            return
        self.drop_claim()
        if self.chunk is not None:
            self.pos = len(self.chunk.segments) - 1
        if self.in_st:
            what = f"transaction set {self.st_ctrl!r} has no SE"
        elif self.in_gs:
            what = f"functional group {self.gs_ctrl!r} has no GE"
        else:
            what = f"interchange {self.isa_ctrl!r} has no IEA"
        self.emit("X12-E005", f"the input ends early: {what}")

    # ---- envelope segments --------------------------------------------------------------------

    def _close_open(self, before: str) -> None:
        """Report and close the envelopes that ``before`` (ISA, GS, ST, GE or IEA) implies ended."""
        if self.in_st:
            self.drop_claim()
            self.emit("X12-E005", f"transaction set {self.st_ctrl!r} has no SE before {before}")
            self.in_st = False
            self.st_count += 1
            self.table.use(self.env_table, self._outside)
        if self.in_gs and before in ("ISA", "GS", "IEA"):
            self.emit("X12-E005", f"functional group {self.gs_ctrl!r} has no GE before {before}")
            self.in_gs = False
            self.gs_count += 1
        if self.in_isa and before == "ISA":
            self.emit("X12-E005", f"interchange {self.isa_ctrl!r} has no IEA before ISA")
            self.in_isa = False

    def _isa(self, els: list[str]) -> None:
        # The tokenizer has checked the fixed-width layout before handing the ISA on.
        self._close_open("ISA")
        self.junk = 0
        self.in_isa, self.isa_ctrl, self.gs_count, self.loop = True, els[13], 0, "ISA"
        assert self.chunk is not None
        self.csep = self.chunk.delimiters.component

    def _gs(self, els: list[str]) -> None:
        self._close_open("GS")
        if not self.in_isa:
            self.emit("X12-E016", "GS outside an interchange (no ISA before it)")
        els += [""] * (9 - len(els))
        self.in_gs, self.st_count, self.gs_ctrl, self.gs_version = True, 0, els[6], els[8]

    def _st(self, els: list[str]) -> None:
        self._close_open("ST")
        self.junk = 0
        els += [""] * (4 - len(els))
        self.in_st, self.seg_no, self.st_ctrl, self.loop = True, 1, els[2], "ST"
        if not self.in_gs:
            self.emit("X12-E016", "ST outside a functional group (no GS before it)")
        version = els[3] or self.gs_version
        kind = _kind_of(version)
        if els[1] != "837" or kind is None:
            self.table.use(self.env_table, self._skip)
            detail = f"ST01 {els[1]!r}, version {version!r}"
            self.emit("X12-E017", f"not an 005010 837P/837I ({detail}); transaction set skipped")
            return
        self.kind = kind
        self.start_transaction()
        self.table.use(self.full_table, self._unknown)

    def _se(self, els: list[str]) -> None:
        if not self.in_st:
            self.junk_segment("SE", "X12-E016", "SE outside a transaction set")
            return
        self.finish_claim()
        els += [""] * (3 - len(els))
        self.loop = "SE"
        if els[1] != str(self.seg_no):
            msg = f"SE01 says {els[1]!r} segments; the transaction set has {self.seg_no}"
            self.emit("X12-E014", msg, 1)
        if els[2] != self.st_ctrl:
            self.emit("X12-E015", f"SE02 {els[2]!r} does not match ST02 {self.st_ctrl!r}", 2)
        self.in_st = False
        self.st_count += 1
        self.table.use(self.env_table, self._outside)

    def _ge(self, els: list[str]) -> None:
        self._close_open("GE")
        if not self.in_gs:
            self.junk_segment("GE", "X12-E016", "GE outside a functional group")
            return
        els += [""] * (3 - len(els))
        if els[1] != str(self.st_count):
            msg = f"GE01 says {els[1]!r} transaction sets; the group has {self.st_count}"
            self.emit("X12-E012", msg, 1)
        if els[2] != self.gs_ctrl:
            self.emit("X12-E013", f"GE02 {els[2]!r} does not match GS06 {self.gs_ctrl!r}", 2)
        self.in_gs = False
        self.gs_count += 1

    def _iea(self, els: list[str]) -> None:
        self._close_open("IEA")
        if not self.in_isa:
            self.junk_segment("IEA", "X12-E016", "IEA outside an interchange")
            return
        els += [""] * (3 - len(els))
        if els[1] != str(self.gs_count):
            msg = f"IEA01 says {els[1]!r} functional groups; the interchange has {self.gs_count}"
            self.emit("X12-E010", msg, 1)
        if els[2] != self.isa_ctrl:
            self.emit("X12-E011", f"IEA02 {els[2]!r} does not match ISA13 {self.isa_ctrl!r}", 2)
        self.in_isa = False

    def _blank(self, els: list[str]) -> None:
        """An empty piece (a blank line after a terminator): not a segment, so not counted."""
        if len(els) == 1 and not els[0]:
            self.seg_no -= 1

    def _skip(self, els: list[str]) -> None:
        """Any segment of an unsupported transaction set: already reported at its ST."""

    def _outside(self, els: list[str]) -> None:
        if self.in_gs:
            where = "a transaction set"
        elif self.in_isa:
            where = "a functional group"
        else:
            where = "an interchange"
        self.junk_segment(els[0], "X12-E016", f"segment {els[0][:20]!r} outside {where}")

    def _unknown(self, els: list[str]) -> None:
        msg = f"unknown segment {els[0][:20]!r} in loop {self.loop}; skipped"
        self.junk_segment(els[0], "X12-E023", msg)
