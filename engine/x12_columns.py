"""A ``ClaimBatch`` straight from a scanned 837P piece (``claims.x12.columnar``), no claim objects.

Why: building ``Claim`` objects and then walking them again into columns is most of the time of a
large scrub (ADR 0008).  This module lays the scan's spans and numbers out in exactly the encoding
``ClaimBatch.build`` gives the same claims read by the object reader (interned codes with MISS for
the empty string, fixed-point numbers, day numbers), for the fields in :data:`SUPPORTED`; a pack
that reads any other field keeps the object path (:func:`supports`).  ``tests/claims/
test_columnar.py`` compares every supported column with ``ClaimBatch.build``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from claims.model import DiagnosisRole
from claims.x12 import _colscan as cs
from claims.x12.columnar import PieceScan
from dsl.ir import FieldInfo
from engine.batch import (
    GROUP_CLAIM,
    GROUP_CLAIM_SET,
    GROUP_DX,
    GROUP_LINE,
    GROUP_LINE_SET,
    ClaimBatch,
    Interner,
)
from engine.values import MISS, SCALE

__all__ = ["SUPPORTED", "scan_batch", "supports"]

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

_ROLE_NAMES: Final = (
    DiagnosisRole.PRINCIPAL.value,
    DiagnosisRole.OTHER.value,
    DiagnosisRole.ADMITTING.value,
    DiagnosisRole.REASON_FOR_VISIT.value,
    DiagnosisRole.EXTERNAL_CAUSE.value,
)


@nb.njit(cache=True, nogil=True)
def _dedupe(buf: U8, lo: I64, hi: I64) -> tuple[I64, I64]:  # pragma: no cover
    """(group of each span, first span of each group): spans grouped by equal bytes.

    An open-addressing table keyed by an FNV-1a hash of the bytes; a hit is confirmed by comparing
    the bytes, so the grouping is exact.  Groups are numbered in first-seen order.
    """
    n = lo.shape[0]
    size = 1
    while size < 2 * n + 2:
        size *= 2
    mask = size - 1
    slot_group = np.full(size, -1, dtype=np.int64)
    group = np.empty(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    n_groups = 0
    prime = np.uint64(1099511628211)
    for i in range(n):
        a = lo[i]
        b = hi[i]
        h = np.uint64(14695981039346656037)
        for p in range(a, b):
            h = (h ^ np.uint64(buf[p])) * prime
        s = np.int64(h & np.uint64(mask))
        while True:
            g = slot_group[s]
            if g < 0:
                slot_group[s] = n_groups
                first[n_groups] = i
                group[i] = n_groups
                n_groups += 1
                break
            r = first[g]
            same = hi[r] - lo[r] == b - a
            if same:
                for k in range(b - a):
                    if buf[lo[r] + k] != buf[a + k]:
                        same = False
                        break
            if same:
                group[i] = g
                break
            s = (s + 1) & mask
    return group, first[:n_groups]


def _intern_spans(scan: PieceScan, lo: I64, hi: I64, interner: Interner) -> I64:
    """Interned ids of the spans' text; MISS for an absent or empty span (as ``encode``)."""
    out = np.full(lo.shape[0], MISS, dtype=np.int64)
    idx = np.flatnonzero((lo >= 0) & (hi > lo))
    if idx.shape[0] == 0:
        return out
    a = np.ascontiguousarray(lo[idx])
    b = np.ascontiguousarray(hi[idx])
    group, first = _dedupe(scan.buf, a, b)
    data = scan.buf
    spans = zip(a[first].tolist(), b[first].tolist(), strict=True)
    ids = interner.intern_many([data[x:y].tobytes().decode("ascii") for x, y in spans])
    out[idx] = ids[group]
    return out


def _owner_mask(
    starts: I64, total: int, keep: npt.NDArray[np.bool_]
) -> tuple[I64, npt.NDArray[np.bool_]]:
    """(counts of the kept owners, mask of the kept children) for children ``starts[i]:...``."""
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    if starts.shape[0]:
        ends[-1] = total
    counts = ends - starts
    mask = np.repeat(keep, counts)
    return counts[keep], mask


def _offsets(counts: I64) -> I64:
    off = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=off[1:])
    return off


class _Layout:
    """The selected claims, lines and diagnoses of a scan, and their encoders."""

    def __init__(self, scan: PieceScan, rows: I64, interner: Interner) -> None:
        self.scan = scan
        self.interner = interner
        keep = np.zeros(scan.clm.shape[0], dtype=np.bool_)
        keep[rows] = True
        line_counts, line_mask = _owner_mask(scan.clm[:, cs.C_LINE], scan.line.shape[0], keep)
        dx_counts, dx_mask = _owner_mask(scan.clm[:, cs.C_DX], scan.dx.shape[0], keep)
        self.line_off = _offsets(line_counts)
        self.dx_off = _offsets(dx_counts)
        if rows.shape[0] == scan.clm.shape[0]:  # every claim usable (the common case): no copies
            self.clm, self.line, self.dx = scan.clm, scan.line, scan.dx
        else:
            self.clm = scan.clm[rows]
            self.line = scan.line[line_mask]
            self.dx = scan.dx[dx_mask]
        self.line_mask = line_mask
        sub = self.clm[:, cs.C_S]
        pat = self.clm[:, cs.C_P]
        self.sub_hl = scan.hl[sub]
        self.member_hl = scan.hl[np.where(pat >= 0, pat, sub)]
        self.billing_hl = scan.hl[self.clm[:, cs.C_B]]
        dates = self.line[:, cs.LN_DATE]
        n = rows.shape[0]
        first = np.full(n, MISS, dtype=np.int64)
        if dates.shape[0]:
            masked = np.where(dates == MISS, np.iinfo(np.int64).max, dates)
            has = self.line_off[1:] > self.line_off[:-1]
            mins = np.minimum.reduceat(masked, self.line_off[:-1][has])
            first[has] = np.where(mins == np.iinfo(np.int64).max, MISS, mins)
        self.first_date = np.where(first == MISS, self.clm[:, cs.CN_FROM], first)

    def spans(self, table: I64, col: int) -> I64:
        return _intern_spans(self.scan, table[:, col], table[:, col + 1], self.interner)

    def const(self, n: int, text: str) -> I64:
        value = self.interner.intern(text) if text else MISS
        return np.full(n, value, dtype=np.int64)

    def child_set(self, col: int, flat: I64, total: int) -> tuple[I64, I64]:
        """(offsets, flat values) of a per-line list (``L_MOD``, ``L_PTR``, ``L_AUTH``)."""
        starts = self.scan.line[:, col]
        counts, mask = _owner_mask(starts, total, self.line_mask)
        return _offsets(counts), flat[mask]

    def control_numbers(self) -> I64:
        scan = self.scan
        spans = [scan.control_span(t) for t in range(scan.st.shape[0])]
        ids = [self.interner.intern(scan.text(lo, hi)) if hi > lo else MISS for lo, hi in spans]
        return np.asarray(ids, dtype=np.int64)[self.clm[:, cs.C_ST]]

    def age(self) -> I64:
        """``patient.age``: whole years from the member's birth date to the first service date."""
        birth = self.member_hl[:, cs.HL_BIRTH]
        on = self.first_date
        ok = (birth != MISS) & (on != MISS)
        by, bm, bd = _ymd(np.where(ok, birth, 0))
        oy, om, od = _ymd(np.where(ok, on, 0))
        earlier = (om < bm) | ((om == bm) & (od < bd))
        return np.where(ok, (oy - by - earlier) * SCALE, MISS)


def _ymd(days: I64) -> tuple[I64, I64, I64]:
    """(year, month, day) of day numbers (days since 1970-01-01)."""
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    year = y.astype(np.int64) + 1970
    month = (m - y.astype("datetime64[M]")).astype(np.int64) + 1
    day = (d - m.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


_Scalar = Callable[[_Layout], I64]


def _claim_span(col: int) -> _Scalar:
    return lambda L: L.spans(L.clm, col)


def _claim_num(col: int) -> _Scalar:
    return lambda L: np.ascontiguousarray(L.clm[:, col])


def _hl_span(which: str, col: int, absent: str = "") -> _Scalar:
    def get(L: _Layout) -> I64:
        table = {"sub": L.sub_hl, "member": L.member_hl, "billing": L.billing_hl}[which]
        ids = L.spans(table, col)
        if absent:
            ids[table[:, col] < 0] = L.interner.intern(absent)
        return ids

    return get


def _line_span(col: int) -> _Scalar:
    return lambda L: L.spans(L.line, col)


def _line_num(col: int, scale: int = 1) -> _Scalar:
    return lambda L: L.line[:, col] * scale


def _const(text: str, group: str = "claim") -> _Scalar:
    def get(L: _Layout) -> I64:
        n = {"claim": L.clm.shape[0], "line": L.line.shape[0], "dx": L.dx.shape[0]}[group]
        return L.const(n, text)

    return get


_CLAIM_SCALARS: Final[dict[str, _Scalar]] = {
    "claim.kind": _const("professional"),
    "claim.control_number": lambda L: L.control_numbers(),
    "claim.patient_control_number": _claim_span(cs.CS_PCN),
    "claim.total_charge": _claim_num(cs.CN_TOTAL),
    "claim.facility_code": _claim_span(cs.CS_FAC),
    "claim.place_of_service": _claim_span(cs.CS_FAC),
    "claim.type_of_bill": _const(""),
    "claim.frequency_code": _claim_span(cs.CS_FREQ),
    "claim.delay_reason_code": _claim_span(cs.CS_DELAY),
    "claim.prior_authorization": _claim_span(cs.CS_AUTH),
    "claim.referral_number": _claim_span(cs.CS_REFERRAL),
    "claim.original_reference_number": _claim_span(cs.CS_ORIG),
    "claim.onset_date": _claim_num(cs.CN_ONSET),
    "claim.statement_from": _claim_num(cs.CN_FROM),
    "claim.statement_to": _claim_num(cs.CN_TO),
    "claim.admission_date": _claim_num(cs.CN_ADMIT),
    "claim.discharge_date": _claim_num(cs.CN_DISCHARGE),
    "claim.admission_type_code": _const(""),
    "claim.admission_source_code": _const(""),
    "claim.patient_status_code": _const(""),
    "claim.first_service_date": lambda L: L.first_date,
    "claim.claim_filing_code": _hl_span("sub", cs.HL_B),
    "claim.payment_responsibility": _hl_span("sub", cs.HL_A, absent="P"),
    "claim.payer_id": _hl_span("sub", cs.HL_C),
    "patient.sex": _hl_span("member", cs.HL_D),
    "patient.birth_date": lambda L: np.ascontiguousarray(L.member_hl[:, cs.HL_BIRTH]),
    "patient.age": lambda L: L.age(),
    "subscriber.sex": _hl_span("sub", cs.HL_D),
    "subscriber.birth_date": lambda L: np.ascontiguousarray(L.sub_hl[:, cs.HL_BIRTH]),
    "billing.npi": _hl_span("billing", cs.HL_A),
}
_LINE_SCALARS: Final[dict[str, _Scalar]] = {
    "line.number": _line_num(cs.LN_NUMBER, SCALE),
    "line.charge": _line_num(cs.LN_CHARGE),
    "line.units": _line_num(cs.LN_UNITS),
    "line.procedure_code": _line_span(cs.LS_CODE),
    "line.procedure_qualifier": _line_span(cs.LS_QUAL),
    "line.revenue_code": _const("", "line"),
    "line.unit_type": _line_span(cs.LS_UNIT_TYPE),
    "line.service_date": _line_num(cs.LN_DATE),
    "line.service_date_end": _line_num(cs.LN_DATE_END),
    "line.place_of_service": _line_span(cs.LS_POS),
    "line.emergency": _line_num(cs.LN_EMERGENCY),
    "line.ndc": _const("", "line"),
    "line.ndc_quantity": lambda L: np.full(L.line.shape[0], MISS, dtype=np.int64),
    "line.ndc_unit": _const("", "line"),
    "line.description": _line_span(cs.LS_DESC),
}
_DX_SCALARS: Final[dict[str, _Scalar]] = {
    "dx.code": lambda L: L.spans(L.dx, cs.DX_CODE),
    "dx.poa": lambda L: L.spans(L.dx, cs.DX_POA),
    "dx.icd9": lambda L: np.ascontiguousarray(L.dx[:, cs.DX_ICD9]),
    "dx.role": lambda L: np.array([L.interner.intern(r) for r in _ROLE_NAMES], dtype=np.int64)[
        L.dx[:, cs.DX_ROLE]
    ],
}
_Set = Callable[[_Layout], tuple[I64, I64]]


def _line_spans_set(col: int, table: str) -> _Set:
    def get(L: _Layout) -> tuple[I64, I64]:
        spans = getattr(L.scan, table)
        off, sel = L.child_set(col, np.arange(spans.shape[0], dtype=np.int64), spans.shape[0])
        chosen = spans[sel]
        return off, _intern_spans(L.scan, chosen[:, 0], chosen[:, 1], L.interner)

    return get


def _pointers(L: _Layout) -> tuple[I64, I64]:
    off, vals = L.child_set(cs.L_PTR, L.scan.ptrs, L.scan.ptrs.shape[0])
    return off, vals * SCALE


def _empty_claim_set(L: _Layout) -> tuple[I64, I64]:
    return np.zeros(L.clm.shape[0] + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)


_LINE_SETS: Final[dict[str, _Set]] = {
    "line.modifiers": _line_spans_set(cs.L_MOD, "mods"),
    "line.prior_authorizations": _line_spans_set(cs.L_AUTH, "auths"),
    "line.diagnosis_pointers": _pointers,
}
_CLAIM_SETS: Final[dict[str, _Set]] = {
    "claim.condition_codes": _empty_claim_set,
    "claim.value_codes": _empty_claim_set,
    "claim.occurrence_codes": _empty_claim_set,
    "claim.occurrence_spans": _empty_claim_set,
}
_SOURCES: Final = ("claim.lines", "claim.diagnoses")
#: Fields a scanned batch can lay out (``lines`` and ``diagnoses`` are aggregate sources).
SUPPORTED: Final = frozenset(
    [*_CLAIM_SCALARS, *_LINE_SCALARS, *_DX_SCALARS, *_LINE_SETS, *_CLAIM_SETS, *_SOURCES]
)


def supports(fields: Iterable[FieldInfo]) -> bool:
    """Whether every field is one a scanned batch lays out."""
    return all(f.name in SUPPORTED for f in fields)


def scan_batch(
    scan: PieceScan, rows: I64, fields: Sequence[FieldInfo], interner: Interner
) -> ClaimBatch:
    """The batch of claim rows ``rows`` (usable rows of ``scan``) for ``fields``."""
    L = _Layout(scan, rows, interner)
    n = rows.shape[0]
    scalars: dict[int, tuple[int, I64]] = {}
    sets: dict[int, tuple[int, I64, I64]] = {}
    for f in fields:
        if f.name in _CLAIM_SCALARS:
            scalars[f.id] = (GROUP_CLAIM, _CLAIM_SCALARS[f.name](L))
        elif f.name in _LINE_SCALARS:
            scalars[f.id] = (GROUP_LINE, _LINE_SCALARS[f.name](L))
        elif f.name in _DX_SCALARS:
            scalars[f.id] = (GROUP_DX, _DX_SCALARS[f.name](L))
        elif f.name in _LINE_SETS:
            sets[f.id] = (GROUP_LINE_SET, *_LINE_SETS[f.name](L))
        elif f.name in _CLAIM_SETS:
            sets[f.id] = (GROUP_CLAIM_SET, *_CLAIM_SETS[f.name](L))
        elif f.name not in ("claim.lines", "claim.diagnoses"):
            raise ValueError(f"{f.name}: not laid out from a scanned piece")
    return ClaimBatch.assemble(
        interner=interner,
        n_claims=n,
        line_off=L.line_off,
        dx_off=L.dx_off,
        first_date=L.first_date,
        kinds=("professional",) * n,
        line_code=L.spans(L.line, cs.LS_CODE),
        scalars=scalars,
        sets=sets,
        field_ids=frozenset(f.id for f in fields),
    )
