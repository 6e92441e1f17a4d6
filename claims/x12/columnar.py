"""Columnar ingest of a piece of an 837P, and a sparse object read of the claims that need objects.

Why: most claims of a large file come back clean, and for those the object reader's ~1 µs per
segment buys nothing: ``claims.x12._colscan`` reads the piece in one compiled pass into claim
columns, the rules run on the columns, and only the claims that need objects (a rule fired, or the
scan did not accept the claim) are read by the object reader.  ADR 0008 has the design.

The sparse read is exact because the reader's state before a claim depends only on the envelope,
the transaction-set header and the HL loops above the claim: :func:`read_sparse` feeds the reader
every segment except the claims it may skip and the HL loops no fed claim needs, presetting the
reader's segment counter at each jump so that numbers and locations are those of a full read.  A
claim or HL loop is only ever skipped when the scan accepted it (it would give no error and no
state a later segment reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from claims.model import Claim
from claims.x12 import _colscan as cs
from claims.x12._envelope import _Fatal
from claims.x12.errors import X12Error
from claims.x12.split import SEGMENTS_PER_CHUNK, Piece, PieceReader, piece_chunks
from claims.x12.tokenizer import Chunk

__all__ = ["PieceScan", "SparseEvent", "read_sparse", "scan_piece"]

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
BoolArr = npt.NDArray[np.bool_]

#: An event of :func:`read_sparse`: the index of a skipped (clean) claim row, or what the reader
#: gave with the claim row it came from (-1: not from a claim's own segments), in file order.
SparseEvent = int | tuple[int, Claim | X12Error]

_BLANKS: Final = frozenset(b" \t\r\n")


@dataclass(frozen=True, slots=True, eq=False)
class PieceScan:
    """The tables of :mod:`claims.x12._colscan` for one piece (see its layouts).

    ``usable[c]``: claim row ``c`` was accepted and so was its transaction set; only usable claims
    are laid out as columns, the others are read by the object reader.
    """

    buf: U8
    seg: I64
    st: I64
    hl: I64
    clm: I64
    line: I64
    mods: I64
    ptrs: I64
    auths: I64
    dx: I64
    usable: BoolArr
    esep: int

    def text(self, lo: int, hi: int) -> str:
        """The text of a span (empty when ``lo`` is -1); scanned spans are ASCII."""
        if lo < 0 or hi <= lo:
            return ""
        return self.buf[lo:hi].tobytes().decode("ascii")

    def control_span(self, t: int) -> tuple[int, int]:
        """The span of ST02 of transaction set ``t`` (the reader's ``st_ctrl``); (-1, -1): none."""
        seg = int(self.st[t, cs.ST_SEG])
        lo, hi = int(self.seg[seg, cs.SEG_LO]), int(self.seg[seg, cs.SEG_HI])
        data = self.buf[lo:hi].tobytes()
        first = data.find(bytes((self.esep,)))  # after ST; ST02 follows the one after ST01
        second = data.find(bytes((self.esep,)), first + 1) if first >= 0 else -1
        if second < 0:
            return -1, -1
        third = data.find(bytes((self.esep,)), second + 1)
        return lo + second + 1, lo + (third if third >= 0 else len(data))

    def clean_values(self, row: int) -> tuple[str, str, str]:
        """(control number, patient control number, payer id) of claim row ``row``."""
        c = self.clm[row]
        sub = self.hl[int(c[cs.C_S])]
        return (
            self.text(*self.control_span(int(c[cs.C_ST]))),
            self.text(int(c[cs.CS_PCN]), int(c[cs.CS_PCN + 1])),
            self.text(int(sub[cs.HL_C]), int(sub[cs.HL_C + 1])),
        )


def _delimiter(text: str) -> int | None:
    raw = text.encode("latin-1", "replace")
    if len(raw) != 1 or raw[0] >= 128 or raw[0] in _BLANKS or raw.isalnum():
        return None
    return raw[0]


def scan_piece(data: bytes, piece: Piece) -> PieceScan | None:
    """Scan ``data`` (``split.piece_bytes``); None when the delimiters rule the scan out."""
    d = piece.delimiters
    term, esep, csep = _delimiter(d.segment), _delimiter(d.element), _delimiter(d.component)
    if term is None or esep is None or csep is None or len({term, esep, csep}) < 3:
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    n_seg, _ = cs.count_segments(buf, term)
    seg = np.empty((n_seg, 4), dtype=np.int64)
    n_st, n_hl, n_clm, n_lx, n_hi = cs.segment_table(buf, term, esep, seg)
    n_ref = int(np.count_nonzero(seg[:, cs.SEG_ID] == cs.S_REF))
    st = np.empty((n_st, 3), dtype=np.int64)
    hl = np.empty((n_hl, cs.HL_WIDTH), dtype=np.int64)
    clm = np.empty((n_clm, cs.CLM_WIDTH), dtype=np.int64)
    line = np.empty((n_lx, cs.LINE_WIDTH), dtype=np.int64)
    mods = np.empty((4 * n_lx, 2), dtype=np.int64)
    ptrs = np.empty(12 * n_lx, dtype=np.int64)
    auths = np.empty((n_ref, 2), dtype=np.int64)
    dx = np.empty((n_hi, cs.DX_WIDTH), dtype=np.int64)
    gs_prof = piece.context is not None and "X222" in piece.context.gs_version
    counts = cs.walk(buf, esep, csep, gs_prof, seg, st, hl, clm, line, mods, ptrs, auths, dx)
    k_st, k_hl, k_clm, k_line, k_mod, k_ptr, k_auth, k_dx = counts
    st, hl, clm = st[:k_st], hl[:k_hl], clm[:k_clm]
    st_ok = (st[:, cs.ST_OK] == 1) & (st[:, cs.ST_SE] >= 0)
    usable = (clm[:, cs.C_OK] == 1) & st_ok[clm[:, cs.C_ST]] if k_clm else np.zeros(0, np.bool_)
    return PieceScan(
        buf, seg, st, hl, clm, line[:k_line], mods[:k_mod], ptrs[:k_ptr], auths[:k_auth],
        dx[:k_dx], usable, esep,
    )  # fmt: skip


def _skip_mask(scan: PieceScan, needed: BoolArr) -> BoolArr:
    """Segments the sparse read skips: unneeded usable claims, HL loops no fed claim sits under.

    Only inside accepted transaction sets; ``needed`` is per claim row (unusable rows are always
    read, whatever ``needed`` says).
    """
    n_seg = scan.seg.shape[0]
    delta = np.zeros(n_seg + 1, dtype=np.int64)
    clm = scan.clm
    st_ok = (scan.st[:, cs.ST_OK] == 1) & (scan.st[:, cs.ST_SE] >= 0)
    skip_claim = scan.usable & ~needed
    np.subtract.at(delta, clm[skip_claim, cs.C_LO], 1)
    np.add.at(delta, clm[skip_claim, cs.C_HI], 1)
    fed = ~skip_claim & st_ok[clm[:, cs.C_ST]] if clm.shape[0] else np.zeros(0, np.bool_)
    chain = np.zeros(scan.hl.shape[0], dtype=np.bool_)
    for col in (cs.C_B, cs.C_S, cs.C_P):
        ids = clm[fed, col]
        chain[ids[ids >= 0]] = True
    hl = scan.hl
    skip_hl = ~chain & st_ok[hl[:, cs.HL_ST]] if hl.shape[0] else np.zeros(0, np.bool_)
    np.subtract.at(delta, hl[skip_hl, cs.HL_LO], 1)
    np.add.at(delta, hl[skip_hl, cs.HL_HI], 1)
    return np.cumsum(delta[:-1]) < 0


def _feed(reader: PieceReader, chunks: Sequence[Chunk], lo: int, hi: int) -> None:
    """Hand segments ``lo:hi`` of the piece to the reader, chunk by chunk (as ``run`` does)."""
    while lo < hi:
        k = lo // SEGMENTS_PER_CHUNK
        base = k * SEGMENTS_PER_CHUNK
        stop = min(hi, base + SEGMENTS_PER_CHUNK)
        chunk = chunks[k]
        reader.chunk = chunk
        reader.esep = chunk.delimiters.element
        reader.read_segments(chunk, lo - base, stop - base)
        lo = stop


class _SparseChunk(Chunk):
    """A reader chunk whose segment strings exist only where the sparse read feeds the reader.

    Why: splitting a whole piece into strings (~230,000 per piece) cost more than reading the
    third of them that is fed.  Byte offsets (for errors) come from the scan's segment table:
    the offset of segment ``i`` is where its text starts after leading blanks, as ``Chunk``'s.
    """

    __slots__ = ("starts",)

    def __init__(self, piece: Piece, segments: list[str], starts: list[int]) -> None:
        super().__init__(piece.delimiters, segments, piece.start, segments)
        self.starts = starts

    def offset(self, index: int) -> int:
        return self.base_offset + self.starts[index]


def _sparse_chunks(
    piece: Piece, data: bytes, scan: PieceScan, runs: list[list[int]]
) -> list[Chunk] | None:
    """The reader's chunks with only the fed runs split into strings; None if not ASCII."""
    if not data.isascii():
        return None
    text = data.decode("ascii")
    term = piece.delimiters.segment
    n = scan.seg.shape[0]
    cuts = np.flatnonzero(scan.buf == ord(term))
    starts = np.concatenate(([0], cuts + 1)).tolist()  # raw piece k: starts[k] .. ends[k]
    ends = [*cuts.tolist(), len(data)]
    segments: list[str] = [""] * n  # a segment that is not fed is never read
    for lo, hi in runs:
        raw = text[starts[lo] : ends[hi - 1]]
        parts = raw.split(term)
        if "\n" in raw or "\r" in raw:
            parts = [p.strip(" \t\r\n") for p in parts]
        segments[lo:hi] = parts
    lows = scan.seg[:, cs.SEG_LO].tolist()
    return [
        _SparseChunk(piece, segments[k : k + SEGMENTS_PER_CHUNK], lows[k : k + SEGMENTS_PER_CHUNK])
        for k in range(0, n, SEGMENTS_PER_CHUNK)
    ]


def read_sparse(
    reader: PieceReader,
    piece: Piece,
    data: bytes,
    scan: PieceScan,
    needed: BoolArr,
) -> list[SparseEvent] | None:
    """File-order events: a skipped usable claim as its row index, else ``(row, item)``.

    ``item`` is a claim or error the reader gave and ``row`` the claim row whose segments gave it
    (-1 for items of other segments: envelopes, or a claim cut off by one).  Each fed claim range
    is read on its own and finished at its end when the next segment is a CLM, HL or SE (which
    would finish it first), so a usable row's claim is attributed to that row.

    Returns None when the reader stopped (too many unreadable segments): the caller then reads the
    piece in full, which reports that the same way a single read does.
    """
    skip = _skip_mask(scan, needed)
    n_seg = skip.shape[0]
    edges = np.flatnonzero(np.diff(np.concatenate(([True], skip, [True])).astype(np.int8)))
    runs = edges.reshape(-1, 2).tolist()  # [start, end) of each run of fed segments
    chunks = _sparse_chunks(piece, data, scan, runs) or piece_chunks(piece, data)
    clm = scan.clm
    fed_rows = np.flatnonzero(~skip[clm[:, cs.C_LO]]) if clm.shape[0] else np.zeros(0, np.int64)
    fed_lo = clm[fed_rows, cs.C_LO].tolist()
    fed_hi = clm[fed_rows, cs.C_HI].tolist()
    ids = scan.seg[:, cs.SEG_ID]
    ends = (cs.S_CLM, cs.S_HL, cs.S_SE)
    finish = [h < n_seg and int(ids[h]) in ends for h in fed_hi]
    fed = fed_rows.tolist()
    clean_rows = np.flatnonzero(scan.usable & ~needed)
    clean_at = clm[clean_rows, cs.C_LO].tolist()
    clean = clean_rows.tolist()
    before = scan.seg[:, cs.SEG_BEFORE]
    out = reader.out
    events: list[SparseEvent] = []

    def read(lo: int, hi: int, owner: int, close: bool) -> None:
        if lo < hi:
            reader.seg_no = int(before[lo])
            _feed(reader, chunks, lo, hi)
        if close:
            reader.finish_claim()
            reader.junk = 0
        events.extend((owner, item) for item in out)
        out.clear()

    j = k = 0
    try:
        for lo, hi in runs:
            while j < len(clean) and clean_at[j] < lo:
                events.append(clean[j])
                j += 1
            pos = lo
            while k < len(fed) and fed_lo[k] < hi:
                read(pos, fed_lo[k], -1, False)
                read(fed_lo[k], fed_hi[k], fed[k], finish[k])
                pos = fed_hi[k]
                k += 1
            # the next segment read would be a CLM or HL: it finishes the open claim first
            read(pos, hi, -1, hi < n_seg)
        events.extend(clean[j:])
        reader._end_of_input()
    except _Fatal:
        return None
    events.extend((-1, item) for item in out)
    out.clear()
    return events
