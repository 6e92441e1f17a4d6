"""Cut an 837 file into pieces of whole transaction sets that can be read independently.

Why: ``claimscrub scrub --jobs N`` reads and scrubs the pieces of one large file in N processes.
Each piece must give exactly the claims and errors that a single read of the whole file gives for
its segments, so ``plan_pieces`` only cuts files whose structure it can follow cheaply and exactly
(``bytes.find`` and one regular expression over the mapped file, no per-segment Python):

* one set of delimiters (every ISA well-formed and equal to the first), no segment longer than
  ``MAX_SEGMENT_BYTES`` (so the tokenizer never stops the read), no space or tab at a segment's
  edges (so stripping blanks gives the same segments however the file is chunked);
* clean nesting ``(ISA (GS (ST … SE)* GE)* IEA)+``.  Counts and control numbers may be wrong: they
  are checked by the reader of the piece that holds the SE/GE/IEA, with the envelope context
  (``Context``) the parent found for the piece's first ST.

Anything else returns None and the caller reads the file in one pass.  A cut is made only before
an ST, where a single read is outside any transaction set with a known context; ``read_piece``
starts a reader in that state.  A read that stops early (too many unreadable segments) marks the
reader ``stopped``: later pieces of the file must then be discarded, as a single read never gets
to them.
"""

from __future__ import annotations

import gc
import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from claims.model import Claim
from claims.x12._envelope import _Fatal
from claims.x12._planscan import GE, GS, ISA, SE, ST, scan
from claims.x12.errors import X12Error
from claims.x12.reader import _Reader
from claims.x12.tokenizer import (
    ISA_LENGTH,
    MAX_SEGMENT_BYTES,
    Chunk,
    Delimiters,
    _chunk,
    _decode,
    _delimiters,
    _isa_problem,
)

__all__ = [
    "SEGMENTS_PER_CHUNK",
    "Context",
    "Piece",
    "PieceReader",
    "piece_bytes",
    "piece_chunks",
    "plan_pieces",
    "read_piece",
]

_BOM: Final = b"\xef\xbb\xbf"
_BLANK: Final = b" \t\r\n"
#: Segments per ``Chunk`` handed to the reader (about what a 1 MiB tokenizer chunk holds).
SEGMENTS_PER_CHUNK: Final = 20_000


@dataclass(frozen=True, slots=True)
class Context:
    """The envelope state of a single read just before a piece's first ST."""

    isa_ctrl: str
    gs_ctrl: str
    gs_version: str
    gs_count: int
    st_count: int


@dataclass(frozen=True, slots=True)
class Piece:
    """Bytes ``start:end`` of the file; ``context`` is None for the first piece (from the ISA)."""

    start: int
    end: int
    context: Context | None
    final: bool
    delimiters: Delimiters
    strip: bool


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def plan_pieces(path: Path, claims_per_piece: int) -> list[Piece] | None:
    """Pieces of about ``claims_per_piece`` claims, or None when the file cannot be cut exactly."""
    with path.open("rb") as fh:
        try:
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty file
            return None
        try:
            return _plan(data, claims_per_piece)
        finally:
            try:
                data.close()
            except BufferError:
                # The call that compiles the scan kernel leaves a reference cycle holding a view
                # of the map; collect it, then close.
                gc.collect()
                data.close()


def _plan(data: mmap.mmap | bytes, claims_per_piece: int) -> list[Piece] | None:
    size = len(data)
    head = data[: 64 * 1024].lstrip(_BLANK)
    if head.startswith(_BOM):
        head = head[len(_BOM) :].lstrip(_BLANK)
    if not head.startswith(b"ISA") or _isa_problem(head[:ISA_LENGTH]) is not None:
        return None
    isa_at = data.find(head[:ISA_LENGTH])
    delims = _delimiters(head[:ISA_LENGTH])
    term = delims.segment.encode("latin-1")
    esep = delims.element.encode("latin-1")
    if len(term) != 1 or len(esep) != 1:
        return None
    # No segment longer than the tokenizer allows: every window after a terminator holds one.
    pos = isa_at
    while size - pos > MAX_SEGMENT_BYTES:
        k = data.rfind(term, pos, pos + MAX_SEGMENT_BYTES + 1)
        if k < 0:
            return None
        pos = k + 1
    events, isa_tags, _, has_newline, blank_edge, blank_crlf = scan(data, term, esep)
    # No space or tab at the edge of a segment (stripping would depend on the chunking).
    if blank_edge or (has_newline and blank_crlf):
        return None
    tail = data[data.rfind(term) + 1 :]
    if b" " in tail or b"\t" in tail:
        return None
    # Every ISA the tokenizer would look at (ISA + a non-alphanumeric byte) must be a plain one.
    for tag_at, nxt_byte in isa_tags.tolist():
        nxt = bytes((nxt_byte,))
        if nxt == esep:
            isa = data[tag_at : tag_at + ISA_LENGTH]
            if _isa_problem(isa) is not None or _delimiters(isa) != delims:
                return None
        elif not (nxt.isascii() and nxt.isalnum()):
            return None
    return _walk(data, events, isa_at, term, delims, has_newline, claims_per_piece)


def _walk(
    data: mmap.mmap | bytes,
    events: npt.NDArray[np.int64],
    isa_at: int,
    term: bytes,
    delims: Delimiters,
    strip: bool,
    claims_per_piece: int,
) -> list[Piece] | None:
    """Follow the envelope segments; cut before an ST once a piece holds enough claims."""
    esep = delims.element

    def elements(at: int, n: int) -> list[str]:
        end = data.find(term, at)
        els = _text(data[at : end if end >= 0 else len(data)].strip(_BLANK)).split(esep)
        return els + [""] * (n - len(els))

    in_isa, in_gs, in_st = True, False, False
    isa_ctrl = elements(isa_at, 17)[13]
    gs_ctrl = gs_version = ""
    gs_count = st_count = 0
    starts: list[tuple[int, Context | None]] = [(isa_at, None)]
    claims = 0
    for kind, at, tag_at, clms in events.tolist():
        if at < isa_at:
            continue  # a terminator before the first ISA (only blanks precede it)
        claims += clms
        if kind == ST:
            if not in_gs or in_st:
                return None
            if claims >= claims_per_piece:
                ctx = Context(isa_ctrl, gs_ctrl, gs_version, gs_count, st_count)
                starts.append((at + 1, ctx))
                claims = 0
            in_st = True
        elif kind == SE:
            if not in_st:
                return None
            in_st, st_count = False, st_count + 1
        elif kind == GS:
            if not in_isa or in_gs:
                return None
            els = elements(tag_at, 9)
            in_gs, st_count, gs_ctrl, gs_version = True, 0, els[6], els[8]
        elif kind == GE:
            if not in_gs or in_st:
                return None
            in_gs, gs_count = False, gs_count + 1
        elif kind == ISA:
            if in_isa:
                return None
            in_isa, gs_count, isa_ctrl = True, 0, elements(tag_at, 17)[13]
        else:  # IEA
            if not in_isa or in_gs:
                return None
            in_isa = False
    if in_isa or len(starts) < 2:
        return None
    ends = [s for s, _ in starts[1:]] + [len(data)]
    return [
        Piece(start, end, ctx, i == len(starts) - 1, delims, strip)
        for i, ((start, ctx), end) in enumerate(zip(starts, ends, strict=True))
    ]


class PieceReader(_Reader):
    """The 837 reader started in a piece's envelope context; ``stopped`` after a fatal error."""

    def __init__(self, file: str, piece: Piece) -> None:
        super().__init__(file)
        self.piece = piece
        self.stopped = False
        self.csep = piece.delimiters.component
        ctx = piece.context
        if ctx is not None:
            self.in_isa = self.in_gs = True
            self.isa_ctrl, self.gs_ctrl, self.gs_version = ctx.isa_ctrl, ctx.gs_ctrl, ctx.gs_version
            self.gs_count, self.st_count = ctx.gs_count, ctx.st_count

    def junk_segment(self, sid: str, code: str, message: str) -> None:
        """As the envelope reader's, remembering that the read stopped."""
        try:
            super().junk_segment(sid, code, message)
        except _Fatal:
            self.stopped = True
            raise

    def _end_of_input(self) -> None:
        if self.piece.final:
            super()._end_of_input()


def read_piece(reader: PieceReader, path: Path) -> Iterator[Claim | X12Error]:
    """The claims and errors of ``reader.piece`` of ``path``, as a single read gives them."""
    piece = reader.piece
    return reader.run(iter(piece_chunks(piece, piece_bytes(path, piece))))


def piece_bytes(path: Path, piece: Piece) -> bytes:
    """The bytes a single read splits into the piece's segments (its last terminator dropped)."""
    with path.open("rb") as fh:
        fh.seek(piece.start)
        data = fh.read(piece.end - piece.start)
    return data if piece.final else data[:-1]


def piece_chunks(piece: Piece, data: bytes) -> list[Chunk]:
    """The reader's chunks of ``data`` (:func:`piece_bytes`), ``SEGMENTS_PER_CHUNK`` each."""
    term = piece.delimiters.segment
    raw, raw_bytes, bad = _decode(data, term.encode("latin-1"), term)
    chunks = []
    base = piece.start
    for lo in range(0, len(raw), SEGMENTS_PER_CHUNK):
        hi = lo + SEGMENTS_PER_CHUNK
        sub_bytes = None if raw_bytes is None else raw_bytes[lo:hi]
        sub_bad = {j - lo: b for j, b in bad.items() if lo <= j < hi}
        # Strip only a chunk that holds a CR or LF: a cut file has no blank at a segment's edge
        # other than those (``_plan``), so stripping any other chunk would change nothing, and
        # it costs a Python call per segment.
        strip = piece.strip and _has_crlf(raw[lo:hi])
        chunks.append(_chunk(piece.delimiters, raw[lo:hi], sub_bytes, sub_bad, base, strip))
        pieces: list[bytes] | list[str] = raw_bytes[lo:hi] if raw_bytes is not None else raw[lo:hi]
        base += sum(map(len, pieces)) + len(pieces)
    return chunks


def _has_crlf(parts: list[str]) -> bool:
    joined = "".join(parts)
    return "\n" in joined or "\r" in joined
