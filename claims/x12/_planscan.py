r"""One compiled pass over a mapped 837 file: the facts ``claims.x12.split`` plans its cuts from.

Why Numba here: planning a 96 MB file with ``re`` and ``mmap.find`` (a regular expression over
every segment terminator, a handful of whole-file searches) took 1.2-1.7 s, all of it before the
first worker of ``scrub --jobs`` could start; this pass takes about 0.08 s.  It reports
exactly what those searches reported (``tests/claims/test_split_plan.py`` compares both on generated
and damaged files):

* ``events``: every match of ``t [\r\n]* (ISA|IEA|GS|GE|ST|SE|CLM) (?= e | [\r\n]* (t | \Z))``
  as ``re.finditer`` finds them (non-overlapping), except that CLM matches are only counted: each
  event row is ``(kind, start of the terminator, start of the tag, CLMs since the previous event)``;
* ``isa_tags``: each ``t [\r\n]* ISA`` followed by a byte, as ``(start of the tag, next byte)``;
* flags: a CR or LF anywhere; a space or tab right before or after a terminator; the same across
  CR/LF runs (``[ \t][\r\n]+t`` or ``t[\r\n]+[ \t]``).  Where the terminator is itself CR or LF
  a blank before such a run may show as the first of these flags instead of the second: the
  planner refuses the file on either, so the plans are the same.
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

__all__ = [
    "CLM",
    "GE",
    "GS",
    "IEA",
    "ISA",
    "SE",
    "ST",
    "ScanResult",
    "scan",
]

ISA: Final = 0
IEA: Final = 1
GS: Final = 2
GE: Final = 3
ST: Final = 4
SE: Final = 5
CLM: Final = 6

I64 = npt.NDArray[np.int64]
ScanResult = tuple[I64, I64, int, bool, bool, bool]
"""(events (n, 4), isa_tags (m, 2), trailing CLMs, CR/LF seen, blank at edge, blank by CR/LF)."""

_MIN_ROWS = 256  # event rows made room for in the first pass (tests lower it)
_CR: Final = 13
_LF: Final = 10
_SP: Final = 32
_TAB: Final = 9


@nb.njit(cache=True, nogil=True)
def _tag(buf: npt.NDArray[np.uint8], j: int, n: int) -> tuple[int, int]:  # pragma: no cover
    """(kind, length) of the envelope tag at ``j``, or (-1, 0)."""
    if j + 2 <= n:
        a = buf[j]
        b = buf[j + 1]
        c = buf[j + 2] if j + 3 <= n else 0
        if a == 73 and b == 83 and c == 65:  # ISA
            return ISA, 3
        if a == 73 and b == 69 and c == 65:  # IEA
            return IEA, 3
        if a == 67 and b == 76 and c == 77:  # CLM
            return CLM, 3
        if a == 71 and b == 83:  # GS
            return GS, 2
        if a == 71 and b == 69:  # GE
            return GE, 2
        if a == 83 and b == 84:  # ST
            return ST, 2
        if a == 83 and b == 69:  # SE
            return SE, 2
    return -1, 0


@nb.njit(cache=True, nogil=True)
def _events(
    buf: npt.NDArray[np.uint8],
    term: int,
    esep: int,
    events: I64,
    isas: I64,
) -> tuple[int, int, int, bool, bool]:  # pragma: no cover
    r"""Record the events and ISA tags while they fit; also ``t[\r\n]+[ \t]``.

    Returns the counts (rows past the arrays' ends are counted, not written: the caller calls
    again with arrays that fit).  Why not grow the arrays here: an array reassigned inside the
    loop costs reference counting on every iteration (3 s instead of 0.1 s on 96 MB).
    """
    n = buf.shape[0]
    n_ev = 0
    n_isa = 0
    clms = 0
    blank_edge = False
    blank_crlf = False
    resume = 0
    for i in range(n):  # a for loop: LLVM vectorises the search for the next terminator
        if buf[i] != term:
            continue
        # at every terminator: a blank right before or after it; ``[ \t][\r\n]+t`` (the walk
        # back stops at an earlier terminator: a blank before that one's run is found there, as
        # this flag or the first, and the planner refuses the file on either)
        if i > 0 and (buf[i - 1] == _SP or buf[i - 1] == _TAB):
            blank_edge = True
        if i + 1 < n and (buf[i + 1] == _SP or buf[i + 1] == _TAB):
            blank_edge = True
        k = i - 1
        while k >= 0 and buf[k] != term and (buf[k] == _CR or buf[k] == _LF):
            k -= 1
        if 0 <= k < i - 1 and (buf[k] == _SP or buf[k] == _TAB):
            blank_crlf = True
        if i < resume:
            continue
        j = i + 1
        while j < n and (buf[j] == _CR or buf[j] == _LF):
            j += 1
        if j > i + 1 and j < n and (buf[j] == _SP or buf[j] == _TAB):
            blank_crlf = True  # t[\r\n]+[ \t]
        # t [\r\n]* ISA (.)
        if j + 3 < n and buf[j] == 73 and buf[j + 1] == 83 and buf[j + 2] == 65:
            if n_isa < isas.shape[0]:
                isas[n_isa, 0] = j
                isas[n_isa, 1] = buf[j + 3]
            n_isa += 1
        kind, length = _tag(buf, j, n)
        matched = False
        if kind >= 0:
            k = j + length
            if k < n and buf[k] == esep:
                matched = True
            else:  # [\r\n]* (t | \Z), t tried first: the terminator may itself be CR or LF
                while True:
                    if k >= n or buf[k] == term:
                        matched = True
                        break
                    if buf[k] != _CR and buf[k] != _LF:
                        break
                    k += 1
        if not matched:
            continue
        if kind == CLM:
            clms += 1
        else:
            if n_ev < events.shape[0]:
                events[n_ev, 0] = kind
                events[n_ev, 1] = i
                events[n_ev, 2] = j
                events[n_ev, 3] = clms
            n_ev += 1
            clms = 0
        resume = j + length  # re.finditer resumes after the match (the tag)
    return n_ev, n_isa, clms, blank_edge, blank_crlf


def _scan(buf: npt.NDArray[np.uint8], term: int, esep: int, has_crlf: bool) -> ScanResult:
    # One pass in the common case: room for one envelope event or ISA tag per 4 KB (an 837 has a
    # handful per transaction set of up to thousands of claims); a second one if they do not fit.
    rows = max(_MIN_ROWS, buf.shape[0] >> 12)
    events = np.empty((rows, 4), dtype=np.int64)
    isas = np.empty((rows, 2), dtype=np.int64)
    n_ev, n_isa, clms, blank_edge, blank_crlf = _events(buf, term, esep, events, isas)
    if n_ev > rows or n_isa > rows:
        events = np.empty((n_ev, 4), dtype=np.int64)
        isas = np.empty((n_isa, 2), dtype=np.int64)
        _events(buf, term, esep, events, isas)
    return events[:n_ev], isas[:n_isa], clms, has_crlf, blank_edge, blank_crlf


def scan(data: object, term: bytes, esep: bytes) -> ScanResult:
    """Scan ``data`` (bytes or a mapped file) with one-byte terminator and element separator."""
    buf = np.frombuffer(data, dtype=np.uint8)  # type: ignore[call-overload]
    # a CR or LF anywhere: the C search (memchr) beats a compiled loop over every byte
    has_crlf = data.find(b"\n") >= 0 or data.find(b"\r") >= 0  # type: ignore[attr-defined]
    return _scan(buf, term[0], esep[0], has_crlf)
