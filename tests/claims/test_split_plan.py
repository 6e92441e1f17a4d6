"""The compiled planner (``claims.x12._planscan``) cuts exactly where the regular-expression planner
it replaced did.  The oracle below is that planner, kept here as the specification."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claims.x12 import WriteOptions, write_x12
from claims.x12.split import _BLANK, _BOM, Context, Piece, _plan, _text
from claims.x12.tokenizer import (
    ISA_LENGTH,
    MAX_SEGMENT_BYTES,
    Delimiters,
    _delimiters,
    _isa_problem,
)
from tests.cli.test_scrub_jobs import _claims


def oracle(data: bytes, claims_per_piece: int) -> list[Piece] | None:
    """The planner as it was written with ``re`` (2026-11-25)."""
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
    pos = isa_at
    while size - pos > MAX_SEGMENT_BYTES:
        k = data.rfind(term, pos, pos + MAX_SEGMENT_BYTES + 1)
        if k < 0:
            return None
        pos = k + 1
    has_newline = data.find(b"\n") >= 0 or data.find(b"\r") >= 0
    for blank in (b" ", b"\t"):
        if data.find(blank + term) >= 0 or data.find(term + blank) >= 0:
            return None
    tail = data[data.rfind(term) + 1 :]
    if b" " in tail or b"\t" in tail:
        return None
    t, e = re.escape(term), re.escape(esep)
    if has_newline and re.search(rb"[ \t][\r\n]+" + t + rb"|" + t + rb"[\r\n]+[ \t]", data):
        return None
    for m in re.finditer(t + rb"[\r\n]*ISA(.)", data, re.DOTALL):
        nxt = m.group(1)
        if nxt == esep:
            isa = data[m.start(1) - 3 : m.start(1) - 3 + ISA_LENGTH]
            if _isa_problem(isa) is not None or _delimiters(isa) != delims:
                return None
        elif not (nxt.isascii() and nxt.isalnum()):
            return None
    pattern = re.compile(
        t + rb"[\r\n]*(ISA|IEA|GS|GE|ST|SE|CLM)(?=" + e + rb"|[\r\n]*(?:" + t + rb"|\Z))"
    )
    return _oracle_walk(data, pattern, isa_at, term, delims, has_newline, claims_per_piece)


def _oracle_walk(
    data: bytes,
    pattern: re.Pattern[bytes],
    isa_at: int,
    term: bytes,
    delims: Delimiters,
    strip: bool,
    claims_per_piece: int,
) -> list[Piece] | None:
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
    for m in pattern.finditer(data, isa_at):
        sid = m.group(1)
        if sid == b"CLM":
            claims += 1
        elif sid == b"ST":
            if not in_gs or in_st:
                return None
            if claims >= claims_per_piece:
                starts.append(
                    (m.start() + 1, Context(isa_ctrl, gs_ctrl, gs_version, gs_count, st_count))
                )
                claims = 0
            in_st = True
        elif sid == b"SE":
            if not in_st:
                return None
            in_st, st_count = False, st_count + 1
        elif sid == b"GS":
            if not in_isa or in_gs:
                return None
            els = elements(m.start(1), 9)
            in_gs, st_count, gs_ctrl, gs_version = True, 0, els[6], els[8]
        elif sid == b"GE":
            if not in_gs or in_st:
                return None
            in_gs, gs_count = False, gs_count + 1
        elif sid == b"ISA":
            if in_isa:
                return None
            in_isa, gs_count, isa_ctrl = True, 0, elements(m.start(1), 17)[13]
        else:
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


def _file(n_claims: int = 12, per_interchange: int = 4, sep: bytes = b"\n") -> bytes:
    opts = WriteOptions(timestamp=datetime(2025, 1, 1))
    parts = [
        write_x12(_claims(s, min(per_interchange, n_claims - s)), opts)
        for s in range(0, n_claims, per_interchange)
    ]
    return sep.join(parts)


def _same(data: bytes, per_piece: int = 2) -> list[Piece] | None:
    got = _plan(data, per_piece)
    assert got == oracle(data, per_piece)
    return got


def test_plain_files_are_cut_identically() -> None:
    for sep in (b"", b"\n", b"\r\n", b"\n\n"):
        pieces = _same(_file(sep=sep))
        assert pieces is not None and len(pieces) > 2


def test_newline_terminated_segments() -> None:
    data = _file(sep=b"").replace(b"~", b"\n")
    data = data.replace(data[105:106], b"\n")  # the ISA's own terminator byte
    _same(data)
    _same(data.replace(b"\nST*", b"\n\nST*"))
    assert _same(b"\n" + data) is not None  # a terminator before the first ISA is not an event


def test_each_reason_to_refuse_matches() -> None:
    base = _file()
    variants = [
        base.replace(b"~CLM*", b" ~CLM*", 1),
        base.replace(b"~CLM*", b"~ CLM*", 1),
        base.replace(b"~CLM*", b"~\n\tCLM*", 1),
        base.replace(b"~SE*", b"\t\r\n~SE*", 1),
        base.replace(b"~SE*", b"~XSE*", 1),
        base.replace(b"~ST*", b"~ST~", 1),
        base.replace(b"~GE*", b"~", 1),
        base.replace(b"~IEA*", b"~ISA*", 1),
        base.replace(b"~ISA*", b"~ISAX*", 1),
        base.replace(b"~ISA*", b"~ISA~", 1),
        base + b" ",
        _BOM + b"\n" + base,
        base[: len(base) // 2],
        base.replace(b"~SE*", b"~SE", 1),
        base.replace(b"~CLM*", b"~CLM\n~", 1),
    ]
    for v in variants:
        _same(v)


def test_bundled_sample() -> None:
    from claims.sources import SAMPLES_DIR

    _same((SAMPLES_DIR / "mixed-batch.837").read_bytes(), 1)


def test_reference_samples(x12_samples_dir: Path) -> None:
    for path in sorted(x12_samples_dir.rglob("*")):
        if path.is_file():
            _same(path.read_bytes(), 1)


TOKENS = [
    b"~",
    b"\n",
    b"\r",
    b" ",
    b"\t",
    b"*",
    b"ISA",
    b"IEA",
    b"GS",
    b"GE",
    b"ST",
    b"SE",
    b"CLM",
    b"X",
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(TOKENS), st.booleans()), max_size=6
    ),
    st.sampled_from([b"", b"\n", b"\r\n"]),
    st.integers(min_value=1, max_value=5),
)
def test_damaged_files_agree(
    edits: list[tuple[int, bytes, bool]], sep: bytes, per_piece: int
) -> None:
    data = bytearray(_file(n_claims=6, per_interchange=3, sep=sep))
    for at, token, insert in edits:
        k = at % (len(data) + 1)
        if insert:
            data[k:k] = token
        else:
            del data[k : k + len(token)]
    _same(bytes(data), per_piece)


def test_event_arrays_that_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """More envelope events than the first pass made room for: counted, then a second pass."""
    from claims.x12 import _planscan

    data = _file(n_claims=12, per_interchange=3)
    want = _same(data)
    monkeypatch.setattr(_planscan, "_MIN_ROWS", 1)  # a 4 KB file: room for one row
    assert len(data) >> 12 <= 1
    assert _same(data) == want
    monkeypatch.setattr(_planscan, "_MIN_ROWS", 10_000)
    assert _same(data) == want
