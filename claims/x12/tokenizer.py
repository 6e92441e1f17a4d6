"""Stage 1: bytes → segments, in bounded memory.

The input is read in fixed-size chunks; each chunk is cut at its last segment terminator, split with
one ``bytes``/``str`` call and handed on as a ``Chunk`` of segment strings, and the unterminated
tail is carried into the next read.  Nothing ever holds more than one chunk plus one segment, so a
multi-gigabyte file streams in a few megabytes.

Why the delimiters come from fixed byte positions: the ISA is the one fixed-width segment in X12
(106 bytes with its terminator), and its bytes 3, 104 and 105 *define* the element separator, the
component separator and the segment terminator.  A new ISA may change them, so every later ISA is
checked and, if it differs, the chunk is cut there and the delimiters are read again.

Garbage fails fast: the first non-blank bytes must be ``ISA`` and no segment may exceed
``MAX_SEGMENT_BYTES``, so a 2 GB file of noise costs one read, not 2 GB of memory.

Bytes that are not UTF-8 are decoded as Latin-1 (so the structure can still be followed and the
segment counted) and the segment's index is recorded in ``Chunk.bad_utf8`` for the reader to report
as X12-E006.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Final

from claims.x12.errors import X12Error

__all__ = ["CHUNK_BYTES", "ISA_LENGTH", "MAX_SEGMENT_BYTES", "Chunk", "Delimiters", "tokenize"]

CHUNK_BYTES: Final = 1 << 20
#: No real 837 segment comes near this (the longest, HI with 12 composites, is under 1 KiB).
MAX_SEGMENT_BYTES: Final = 64 * 1024
#: The ISA segment including its terminator.
ISA_LENGTH: Final = 106
_ISA_WIDTHS: Final = (3, 2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_BLANK: Final = b" \t\r\n"
_BLANK_STR: Final = " \t\r\n"
_BOM: Final = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The four separators one interchange uses (from its ISA)."""

    element: str
    component: str
    repetition: str
    segment: str


@dataclass(slots=True)
class Chunk:
    """A run of complete segments that share one set of delimiters.

    ``segments`` are decoded and stripped of the CR/LF that some senders put after terminators
    (an all-blank piece becomes ``""``).  ``raw`` keeps the unstripped pieces so that ``offset``
    can find a segment's byte position, which is only needed when reporting an error.
    """

    delimiters: Delimiters
    segments: list[str]
    base_offset: int
    raw: list[str]
    raw_bytes: list[bytes] | None = None
    bad_utf8: dict[int, int] = field(default_factory=dict)

    def offset(self, index: int) -> int:
        """The byte offset of segment ``index`` in the input (O(index); errors only)."""
        pieces: list[bytes] | list[str] = self.raw_bytes if self.raw_bytes is not None else self.raw
        before = sum(len(p) for p in pieces[:index]) + index * len(self.delimiters.segment)
        piece = self.raw[index]
        lead = len(piece) - len(piece.lstrip(_BLANK_STR))
        return self.base_offset + before + lead


def _isa_problem(isa: bytes) -> str | None:
    """Why ``isa`` (106 bytes from ``ISA``) is not a well-formed ISA, or None."""
    if len(isa) < ISA_LENGTH:
        return f"ISA is {len(isa)} bytes long; it must be {ISA_LENGTH} including the terminator"
    sep = isa[3:4]
    if sep.isalnum() or sep in _BLANK:
        return f"ISA element separator {sep!r} (byte 3) is not a punctuation character"
    parts = isa[:105].split(sep)
    if len(parts) != len(_ISA_WIDTHS):
        return f"ISA has {len(parts) - 1} elements at fixed width; it must have 16"
    for i, (part, width) in enumerate(zip(parts, _ISA_WIDTHS, strict=True)):
        if len(part) != width:
            return f"ISA{i:02d} is {len(part)} characters wide; it must be {width}"
    comp, term = isa[104:105], isa[105:106]
    if term.isalnum() or term in (sep, comp) or comp.isalnum() or comp == sep:
        return f"ISA delimiters {sep!r}, {comp!r}, {term!r} are not distinct punctuation"
    return None


def _delimiters(isa: bytes) -> Delimiters:
    text = isa.decode("latin-1")
    return Delimiters(element=text[3], component=text[104], repetition=text[82], segment=text[105])


def _fatal(code: str, message: str, offset: int, file: str, segment_id: str = "") -> X12Error:
    return X12Error(code, message, segment_id=segment_id, byte_offset=offset, file=file)


def _decode(
    complete: bytes, term: bytes, tstr: str
) -> tuple[list[str], list[bytes] | None, dict[int, int]]:
    """Split and decode one run of complete segments; the fast path is one ASCII decode."""
    if complete.isascii():
        return complete.decode("ascii").split(tstr), None, {}
    pieces = complete.split(term)
    raw: list[str] = []
    bad: dict[int, int] = {}
    for j, piece in enumerate(pieces):
        try:
            raw.append(piece.decode("utf-8"))
        except UnicodeDecodeError as exc:
            bad[j] = exc.start
            raw.append(piece.decode("latin-1"))
    return raw, pieces, bad


def _chunk(
    delims: Delimiters,
    raw: list[str],
    raw_bytes: list[bytes] | None,
    bad: dict[int, int],
    base: int,
    blank: bool,
) -> Chunk:
    """Wrap decoded pieces; strip CR/LF only when the run has any (most files have none)."""
    segments = [p.strip(_BLANK_STR) for p in raw] if blank else raw
    return Chunk(delims, segments, base, raw, raw_bytes, bad)


def _read_header(
    stream: BinaryIO, buf: bytes, base: int, eof: bool, first: bool, chunk_bytes: int
) -> tuple[bytes, int, bool]:
    """Drop leading blanks (and a BOM); read until ``buf`` holds a whole ISA or the input ends."""
    while True:
        stripped = buf.lstrip(_BLANK)
        if first and stripped.startswith(_BOM):
            stripped = stripped[len(_BOM) :].lstrip(_BLANK)
        base += len(buf) - len(stripped)
        buf = stripped
        if len(buf) >= ISA_LENGTH or eof:
            return buf, base, eof
        data = stream.read(chunk_bytes)
        if data:
            buf += data
        else:
            eof = True


def tokenize(
    stream: BinaryIO, file: str, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[Chunk | X12Error]:
    """Yield chunks of segments from ``stream``; a yielded ``X12Error`` ends the stream.

    Args:
        stream: a binary stream; read ``chunk_bytes`` at a time and never seeked.
        file: the input's name, for error locations.
        chunk_bytes: the read size (tests use small sizes to exercise chunk boundaries).
    """
    buf, base, eof, first = b"", 0, False, True
    while True:
        # Header state: buf must start with an ISA, whose fixed positions give the delimiters.
        buf, base, eof = _read_header(stream, buf, base, eof, first, chunk_bytes)
        if not buf:
            if first:
                yield _fatal("X12-E001", "the input is empty", base, file)
            return
        if not buf.startswith(b"ISA"):
            head = buf[:16].decode("latin-1")
            code = "X12-E002" if first else "X12-E003"
            yield _fatal(code, f"expected 'ISA' at the start, found {head!r}", base, file)
            return
        problem = _isa_problem(buf[:ISA_LENGTH])
        if problem is not None:
            yield _fatal("X12-E003", problem, base, file, "ISA")
            return
        first = False
        delims = _delimiters(buf[:ISA_LENGTH])
        tstr = delims.segment
        term = tstr.encode("latin-1")
        skip_isa = True  # the ISA at buf[0] has just been checked
        # Segment state: cut at the last terminator, split, carry the tail.
        while True:
            if not eof:
                data = stream.read(chunk_bytes)
                if data:
                    buf += data
                else:
                    eof = True
            if eof:
                complete, rest, consumed = buf, b"", len(buf)
            else:
                k = buf.rfind(term)
                if k < 0:
                    complete, rest, consumed = b"", buf, 0
                else:
                    complete, rest, consumed = buf[:k], buf[k + 1 :], k + 1
            if consumed:
                raw, raw_bytes, bad = _decode(complete, term, tstr)
                lengths: list[bytes] | list[str] = raw if raw_bytes is None else raw_bytes
                limit, restart_at = len(raw), -1
                if max(map(len, lengths)) > MAX_SEGMENT_BYTES:
                    limit = next(j for j, p in enumerate(lengths) if len(p) > MAX_SEGMENT_BYTES)
                if b"ISA" in complete:  # a cheap filter; names such as LISA also pass it
                    for j in range(1 if skip_isa else 0, limit):
                        seg = raw[j].lstrip(_BLANK_STR)
                        if not seg.startswith("ISA") or seg[3:4].isalnum():
                            continue
                        pos = sum(map(len, lengths[:j])) + j + len(raw[j]) - len(seg)
                        isa = buf[pos : pos + ISA_LENGTH]
                        if _isa_problem(isa) is None and _delimiters(isa) == delims:
                            continue
                        limit, restart_at = j, pos
                        break
                skip_isa = False
                blank = b"\n" in complete or b"\r" in complete
                if limit == len(raw):
                    yield _chunk(delims, raw, raw_bytes, bad, base, blank)
                else:
                    if limit:
                        sub_bytes = None if raw_bytes is None else raw_bytes[:limit]
                        sub_bad = {j: b for j, b in bad.items() if j < limit}
                        yield _chunk(delims, raw[:limit], sub_bytes, sub_bad, base, blank)
                    if restart_at >= 0:
                        buf, base = buf[restart_at:], base + restart_at
                        break
                    off = base + sum(map(len, lengths[:limit])) + limit
                    yield _fatal(
                        "X12-E004", f"segment longer than {MAX_SEGMENT_BYTES} bytes", off, file
                    )
                    return
            if len(rest) > MAX_SEGMENT_BYTES:
                msg = f"no segment terminator {tstr!r} in the {len(rest)} bytes at this offset"
                yield _fatal("X12-E004", msg, base + consumed, file)
                return
            if eof:
                return
            base += consumed
            buf = rest
