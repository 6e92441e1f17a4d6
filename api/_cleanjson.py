"""The ``--format jsonl`` line of every clean scanned claim of a piece, in one compiled pass.

Why: on a large file ~70% of the claims are clean, and building their line in Python (three
``json.dumps`` or quote checks, an f-string) was ~3 µs a claim, ~8% of the columnar path.  Here the
bytes of all the lines are written at once; a value ``json.dumps`` would escape (a quote, a
backslash, a control or non-ASCII byte) marks its row for the Python path instead, so the text is
always ``success_jsonl``'s (``tests/api/test_scrub_fast.py`` compares them).
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

__all__ = ["clean_lines"]

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

_PARTS: Final = (
    b'{"status":"SUCCESS","controlNumber":"',
    b'","claimReference":{"patientControlNumber":"',
    b'","claimType":"PROF","payerID":"',
    b'"},"errors":[]}\n',
)
_TEMPLATE: Final = np.frombuffer(b"".join(_PARTS), dtype=np.uint8)
_CUTS: Final = np.cumsum([0, *(len(p) for p in _PARTS)]).astype(np.int64)


@nb.njit(cache=True, nogil=True)
def _plain(buf: U8, lo: int, hi: int) -> bool:  # pragma: no cover
    """Whether ``json.dumps`` leaves the span as it is (printable ASCII, no quote or backslash)."""
    for p in range(lo, hi):
        x = buf[p]
        if x < 32 or x > 126 or x == 34 or x == 92:
            return False
    return True


@nb.njit(cache=True, nogil=True)
def _fill(
    buf: U8, spans: I64, template: U8, cuts: I64, out: U8, ends: I64
) -> int:  # pragma: no cover
    """Write each row's line; ``ends[i]`` its end offset, -1 when the row needs Python."""
    at = 0
    for i in range(spans.shape[0]):
        ok = True
        for v in range(3):
            lo = spans[i, 2 * v]
            hi = spans[i, 2 * v + 1]
            if lo >= 0 and not _plain(buf, lo, hi):
                ok = False
        if not ok:
            ends[i] = -1
            continue
        for v in range(4):
            for k in range(cuts[v], cuts[v + 1]):
                out[at] = template[k]
                at += 1
            if v < 3:
                lo = spans[i, 2 * v]
                hi = spans[i, 2 * v + 1]
                for p in range(lo, hi):  # an absent value (lo = -1) has hi = -1: empty
                    out[at] = buf[p]
                    at += 1
        ends[i] = at
    return at


def clean_lines(buf: U8, spans: I64) -> list[str | None]:
    """The line of each row of ``spans``; None where the Python path must write it.

    ``spans`` rows are the control number, PCN and payer id as ``lo, hi`` pairs (-1 when empty).
    """
    n = spans.shape[0]
    if n == 0:
        return []
    width = int(np.maximum(spans[:, 1::2] - spans[:, 0::2], 0).sum(axis=1).max())
    out = np.empty(n * (width + _TEMPLATE.shape[0]), dtype=np.uint8)
    ends = np.empty(n, dtype=np.int64)
    total = _fill(buf, spans, _TEMPLATE, _CUTS, out, ends)
    text = out[:total].tobytes().decode("ascii")
    lines = text.splitlines(keepends=True)
    got: list[str | None] = [None] * n
    k = 0
    for i, e in enumerate(ends.tolist()):
        if e >= 0:
            got[i] = lines[k]
            k += 1
    return got
