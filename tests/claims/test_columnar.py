"""Columnar ingest vs the object reader: same columns, same claims and errors, in the same order.

For every piece of a file (cut by ``claims.x12.split``):

1. the sparse read with every claim needed gives exactly the full read's claims and errors;
2. with a random subset needed, the skipped rows stand for exactly the full read's claims at their
   place (so nothing the full read reports is ever skipped);
3. every column ``engine.x12_columns`` lays out for the usable rows equals ``ClaimBatch.build``'s
   column for the reader's claims;
4. every supported field of every usable row's lazily scanned claim (``claims.x12.scanclaims``)
   equals the reader's claim's, value, type and text (``12.50`` stays ``12.50``), and so do the
   envelope's values and the sources edits are located by.

Inputs: Hypothesis-written 837P/837I files (with and without newlines), the same files damaged byte
by byte, odd-but-valid variants, the bundled sample and the reference samples (when present).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.model import Claim
from claims.x12 import WriteOptions, write_x12
from claims.x12 import _colscan as cs
from claims.x12.columnar import PieceScan, read_sparse, scan_piece
from claims.x12.scanclaims import scan_claim, scan_claims
from claims.x12.split import Piece, PieceReader, _plan, piece_bytes, read_piece
from dsl.ir import FieldInfo
from dsl.schema import DEFAULT_SCHEMA
from engine.batch import (
    GROUP_CLAIM,
    GROUP_CLAIM_SET,
    GROUP_DX,
    GROUP_LINE,
    GROUP_LINE_SET,
    ClaimBatch,
    Interner,
)
from engine.values import field_value
from engine.x12_columns import SUPPORTED, scan_batch
from tests.claims.strategies import claims as any_claims
from tests.claims.strategies import professional_claims

# CLAIMSCRUB_DIFF_EXAMPLES=5000 for a deep run, as the evaluators' differential test.
SCALE_EXAMPLES = int(os.environ.get("CLAIMSCRUB_DIFF_EXAMPLES", "300")) / 300
USABLE: list[int] = []  # usable rows per generated file (the deep run prints a summary)


def _n(examples: int) -> int:
    return max(1, int(examples * SCALE_EXAMPLES))


FIELDS: list[FieldInfo] = [f for f in DEFAULT_SCHEMA.fields if f.name in SUPPORTED]
FIELDS = [f for f in FIELDS if f.name not in ("claim.lines", "claim.diagnoses")]
assert len(FIELDS) == len(SUPPORTED) - 2


def _column(batch: ClaimBatch, fid: int) -> tuple[np.ndarray, ...]:  # type: ignore[type-arg]
    g, c = int(batch.field_group[fid]), int(batch.field_col[fid])
    if g == GROUP_CLAIM:
        return (batch.claim_cols[c],)
    if g == GROUP_LINE:
        return (batch.line_cols[c],)
    if g == GROUP_DX:
        return (batch.dx_cols[c],)
    if g == GROUP_CLAIM_SET:
        off = batch.claim_set_off[c]
        return off - off[0], batch.claim_set_vals[off[0] : off[-1]]
    assert g == GROUP_LINE_SET
    off = batch.line_set_off[c]
    return off - off[0], batch.line_set_vals[off[0] : off[-1]]


def _key(scan: PieceScan, row: int) -> tuple[str, int]:
    """(transaction set control number, CLM segment number): a claim's source in the reader."""
    control = scan.text(*scan.control_span(int(scan.clm[row, cs.C_ST])))
    clm_seg = int(scan.clm[row, cs.C_LO])
    return control, int(scan.seg[clm_seg, cs.SEG_BEFORE]) + 1


def _check_piece(path: Path, piece: Piece, seed: int) -> int:
    """Run the three checks on one piece; the number of usable rows."""
    data = piece_bytes(path, piece)
    full = list(read_piece(PieceReader(str(path), piece), path))
    scan = scan_piece(data, piece)
    if scan is None:
        return 0
    n = scan.clm.shape[0]
    everything = read_sparse(PieceReader(str(path), piece), piece, data, scan, np.ones(n, np.bool_))
    if everything is None:  # the read stopped: the caller reads the piece in full
        return 0
    assert [e[1] for e in everything if not isinstance(e, int)] == full
    assert len(everything) == len(full)
    by_key = {
        (c.control_number, c.source.segment_number): c
        for c in full
        if isinstance(c, Claim) and c.source is not None
    }
    rng = np.random.default_rng(seed)
    for frac in (0.0, 0.5):
        needed = rng.random(n) < frac
        events = read_sparse(PieceReader(str(path), piece), piece, data, scan, needed)
        assert events is not None
        replaced = [by_key[_key(scan, e)] if isinstance(e, int) else e[1] for e in events]
        assert replaced == full
        for e in events:  # a fed usable row's claim is attributed to that row
            if not isinstance(e, int) and e[0] >= 0 and scan.usable[e[0]]:
                assert isinstance(e[1], Claim)
                assert e[1] is by_key[_key(scan, e[0])] or e[1] == by_key[_key(scan, e[0])]
    rows = np.flatnonzero(scan.usable)
    if rows.shape[0]:
        claims = [by_key[_key(scan, int(r))] for r in rows]
        interner = Interner()
        want = ClaimBatch.build(claims, FIELDS, interner)
        got = scan_batch(scan, rows, FIELDS, interner)
        assert got.n_claims == want.n_claims
        np.testing.assert_array_equal(got.line_off, want.line_off)
        np.testing.assert_array_equal(got.dx_off, want.dx_off)
        np.testing.assert_array_equal(got.first_date, want.first_date)
        np.testing.assert_array_equal(got.line_code, want.line_code)
        assert not want.inexact.any()
        for f in FIELDS:
            for a, b in zip(_column(got, f.id), _column(want, f.id), strict=True):
                np.testing.assert_array_equal(a, b, err_msg=f.name)
        shared = scan_claims(scan)
        for k, (row, claim) in enumerate(zip(rows.tolist(), claims, strict=True)):
            _same_claim(scan_claim(shared, row, int(got.first_date[k])), claim)
    return int(rows.shape[0])


def _same(a: object, b: object, what: str) -> None:
    assert (type(a), a, repr(a)) == (type(b), b, repr(b)), what


def _same_claim(got: Claim, want: Claim) -> None:
    """Every supported field, the envelope's values and the sources, value for value."""
    _same(got.control_number, want.control_number, "control_number")
    _same(got.patient_control_number, want.patient_control_number, "patient_control_number")
    _same(got.payer.identifier, want.payer.identifier, "payer")
    _same(got.kind, want.kind, "kind")
    _same(got.first_service_date, want.first_service_date, "first_service_date")
    _same(got.source, want.source, "source")
    _same(len(got.lines), len(want.lines), "lines")
    _same(len(got.diagnoses), len(want.diagnoses), "diagnoses")
    for a, b in zip(got.lines, want.lines, strict=True):
        _same(a.source, b.source, "line source")
    for f in FIELDS:
        if f.name.startswith("line."):
            for a, b in zip(got.lines, want.lines, strict=True):
                _same(field_value(got, f, a), field_value(want, f, b), f.name)
        elif f.name.startswith("dx."):
            for c, d in zip(got.diagnoses, want.diagnoses, strict=True):
                _same(field_value(got, f, c), field_value(want, f, d), f.name)
        else:
            _same(field_value(got, f), field_value(want, f), f.name)


def _check_file(data: bytes, per_piece: int = 1, seed: int = 0) -> int | None:
    """All pieces of ``data``; None when the file cannot be cut (the fast path never sees it)."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "in.837"
        path.write_bytes(data)
        pieces = _plan(data, per_piece)
        if pieces is None:
            return None
        return sum(_check_piece(path, p, seed + i) for i, p in enumerate(pieces))


def _file(claims: Sequence[Claim], per_interchange: int = 3, sep: bytes = b"\n") -> bytes:
    opts = WriteOptions(timestamp=datetime(2025, 1, 1))
    parts = [
        write_x12(claims[s : s + per_interchange], opts)
        for s in range(0, len(claims), per_interchange)
    ]
    return sep.join(parts)


@settings(max_examples=_n(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(professional_claims(), min_size=3, max_size=8),
    st.sampled_from([b"", b"\n", b"\r\n"]),
    st.integers(min_value=0, max_value=2**32),
)
def test_generated_professional_files(claims: list[Claim], sep: bytes, seed: int) -> None:
    data = _file(claims, per_interchange=2, sep=sep)
    usable = _check_file(data, seed=seed)
    assert usable is not None
    USABLE.append(usable)


@settings(max_examples=_n(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_claims(), min_size=2, max_size=6), st.integers(min_value=0, max_value=99))
def test_generated_mixed_files(claims: list[Claim], seed: int) -> None:
    _check_file(_file(claims, per_interchange=2), seed=seed)


TOKENS = [b"~", b"*", b":", b"\n", b"HL*", b"CLM*", b"LX*", b"SV1*", b"DTP*472*D8*", b"X", b"9",
          b"NM1*", b"DMG*", b"HI*", b"REF*G1*", b"SBR*", b"-", b".", b"\xc3\xa9"]  # fmt: skip


@settings(max_examples=_n(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(professional_claims(), min_size=3, max_size=5),
    st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(TOKENS), st.booleans()),
        min_size=1,
        max_size=4,
    ),
)
def test_damaged_files(claims: list[Claim], edits: list[tuple[int, bytes, bool]]) -> None:
    data = bytearray(_file(claims, per_interchange=2))
    for at, token, insert in edits:
        k = at % (len(data) + 1)
        if insert:
            data[k:k] = token
        else:
            del data[k : k + len(token)]
    _check_file(bytes(data))


def _base() -> bytes:
    from tests.cli.test_scrub_jobs import _claims

    return _file(_claims(0, 8), per_interchange=2)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"~CLM*", b"~NTE*ADD*note~CLM*"),  # an ignored segment where the reader reports it
        (b"~LX*", b"~NTE*ADD*note~LX*"),
        (b"~DTP*472*D8*", b"~DTP*472*RD8*20240101-20240103~DTP*472*D8*"),
        (b"~DTP*472*D8*", b"~DTP*472*RD8*20240103-20240101~DTP*472*D8*"),
        (b"~HI*", b"~DTP*431*D8*20240102~REF*G1*PA1~REF*F8*ORIG~HI*"),
        (b"~HI*", b"~DTP*431*D8*20240230~HI*"),
        (b"~HI*", b"~HI*BG:01~HI*"),
        (b"~HI*", b"~NM1*DN*1*DOE*JOHN****XX*1234567893~REF*G1*X~HI*"),
        (b"~SV1*HC:", b"~SV1*HC:"),
        (b"*UN*", b"*MJ*"),
        (b"*UN*1*", b"*UN*1.50000*"),
        (b"*UN*1*", b"*UN*1.00001*"),
        (b"*UN*1*", b"*UN**"),
        (b"~SBR*P*18~", b"~SBR*S*01*******MB~"),
        (b"~SBR*P*18~", b"~SBR*P~"),
        (b"~SBR*P*18~", b"~SBR*P*18~DMG*D8*19800101*F~"),
        (b"*MI*M0~", b"*MI*M0~DMG*D8*19800101*F~DMG*D8**M~"),
        (b"*MI*M0~", b"*MI*M0~DMG*D8*19800231*F~"),
        (
            b"~HL*2*1*22*0~",
            b"~HL*2*1*22*1~SBR*P*18~NM1*IL*1*A*B~HL*3*2*23*0~PAT*19~NM1*QC*1*C*D~DMG*D8*20100101*F~",
        ),
        (b"~CLM*", b"~PAT*19~CLM*"),
        (b"~SE*", b"~ZZZ*1~SE*"),
        (b"~LX*2", b"~LX*02"),
        (b"~LX*2", b"~LX*A"),
        (b"~LX*2", b"~REF*G1~LX*2"),  # an empty line authorisation: the reader keeps ""
        (b"~LX*2", b"~REF*G1*A1~REF*G1*A2~LX*2"),
        (b"*UN*1*", b"*UN*1.50*"),  # amounts shown as written by scanned claims
    ],
)
def test_variants(old: bytes, new: bytes) -> None:
    base = _base()
    assert old in base, old
    _check_file(base.replace(old, new, 1))
    _check_file(base.replace(old, new))


def test_most_generated_claims_are_usable() -> None:
    """The scan accepts the common shape (otherwise the fast path would buy nothing)."""
    from tests.cli.test_scrub_jobs import _claims

    data = _file(_claims(0, 20), per_interchange=5)
    usable = _check_file(data)
    assert usable is not None and usable >= 18


def test_bundled_sample() -> None:
    from claims.sources import SAMPLES_DIR

    data = (SAMPLES_DIR / "mixed-batch.837").read_bytes()
    _check_file(data + b"\n" + data)


def test_reference_samples(x12_samples_dir: Path) -> None:
    usable = 0
    for path in sorted(x12_samples_dir.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            usable += _check_file(data + b"\n" + data) or 0
    assert usable > 0


def test_generated_files_exercise_the_columns() -> None:
    """Run after the generated test: most generated professional claims are usable."""
    if not USABLE:
        pytest.skip("run with test_generated_professional_files")
    assert sum(USABLE) > 0
