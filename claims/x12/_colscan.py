"""One compiled pass over a piece of an 837P: segment table, claim structure and claim columns.

Why: the object reader (``claims.x12.reader``) costs about 1 µs per segment in Python, half of
``claimscrub scrub``'s time, and most claims of a large file come back clean.  This pass reads the
same bytes in Numba and reports, for every claim whose segments it fully understands, the element
spans and parsed numbers the rule columns need (``claims.x12.columnar`` turns them into a
``ClaimBatch``).  Claims it does not fully understand are left to the object reader, which stays the
reference and the only producer of errors (ADR 0008).

The acceptance rules are a strict subset of what the reader takes without an error and with the
same meaning: an accepted claim is one the reader would build without any error, and whose values
here equal the reader's.  Anything unusual (a segment the reader would report, a value that does
not parse, a composite separator switch, a byte above 0x7F, an 837I) is not accepted; in a claim
that rejects the claim, anywhere else the whole transaction set.  ``tests/claims/
test_columnar.py`` checks the columns against ``ClaimBatch.build`` over the reader's claims.

Layouts (all int64; a span is two columns ``lo, hi`` of byte offsets into the piece, ``lo = -1``
when the element was never given):

* segments: ``seg[k] = (lo, hi, id, counted before)``; ``counted before`` is the reader's segment
  number just before segment ``k`` inside a transaction set (blank pieces are not counted);
* transaction sets ``st[t] = (ST segment, SE segment or -1, ok)``;
* HL ranges ``hl[h] = (first segment, end segment, level, st, span A, span B, span C, span D,
  birth days)``: billing A = NM1*85 NPI; subscriber A = SBR01, B = SBR09, C = payer id (NM1*PR
  NM109), D = sex, birth = DMG02; patient D = sex, birth = DMG02, A = PAT01;
* claims ``clm[c] = (first segment, end segment, ok, st, billing hl, subscriber hl, patient hl,
  line start, dx start, spans CS_*, numbers CN_*, CLM02 span)``;
* lines ``line[l] = (spans LS_*, numbers LN_*, modifier start, pointer start, auth start,
  SV102 span, SV104 span, SV1 segment)``;
  modifiers and prior authorisations are spans, pointers whole numbers;
* diagnoses ``dx[d] = (code span, POA span, role, icd9)``.
"""

from __future__ import annotations

from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

MISS: Final = -(2**63)
SCALE: Final = 10_000
_LIMIT: Final = (2**62 // SCALE) * SCALE

# ---- segment ids ---------------------------------------------------------------------------
S_BLANK, S_OTHER, S_ISA, S_GS, S_ST, S_SE, S_GE, S_IEA = range(8)
S_BHT, S_NM1, S_PER, S_HL, S_PRV, S_N3, S_N4, S_REF, S_CUR = range(8, 17)
S_SBR, S_DMG, S_PAT, S_CLM, S_DTP, S_HI, S_LX, S_SV1 = range(17, 25)
S_IGN_CL, S_IGN_L, S_CR2, S_AMT, S_CAS = range(25, 30)

# ---- column positions ----------------------------------------------------------------------
# seg
SEG_LO, SEG_HI, SEG_ID, SEG_BEFORE = range(4)
# st
ST_SEG, ST_SE, ST_OK = range(3)
# hl
HL_LO, HL_HI, HL_LEVEL, HL_ST, HL_A, HL_B, HL_C, HL_D, HL_BIRTH = 0, 1, 2, 3, 4, 6, 8, 10, 12
HL_WIDTH: Final = 13
# clm (spans take two columns)
C_LO, C_HI, C_OK, C_ST, C_B, C_S, C_P, C_LINE, C_DX = range(9)
CS_PCN, CS_FAC, CS_FREQ, CS_DELAY, CS_AUTH, CS_REFERRAL, CS_ORIG = 9, 11, 13, 15, 17, 19, 21
CN_TOTAL, CN_ONSET, CN_FROM, CN_TO, CN_ADMIT, CN_DISCHARGE = range(23, 29)
CS_TOTAL = 29  # the CLM02 text, for values shown as written (``claims.x12.scanclaims``)
CLM_WIDTH: Final = 31
# line
LS_CODE, LS_QUAL, LS_UNIT_TYPE, LS_POS, LS_DESC = 0, 2, 4, 6, 8
LN_NUMBER, LN_CHARGE, LN_UNITS, LN_DATE, LN_DATE_END, LN_EMERGENCY = range(10, 16)
L_MOD, L_PTR, L_AUTH = 16, 17, 18
LS_CHARGE, LS_UNITS, L_SEG = 19, 21, 23  # SV102 / SV104 texts, the SV1 segment's index
LINE_WIDTH: Final = 24
# dx
DX_CODE, DX_POA, DX_ROLE, DX_ICD9 = 0, 2, 4, 5
DX_WIDTH: Final = 6

#: HI qualifiers read as diagnoses, in claims.x12.reader._DX order: role index, icd9.
DX_QUALIFIERS: Final = ("ABK", "BK", "ABF", "BF", "ABJ", "BJ", "APR", "PR", "ABN", "BN")

_MAX_ELEMENTS: Final = 64


@nb.njit(cache=True, nogil=True)
def _seg_id(buf: U8, lo: int, hi: int, esep: int) -> int:  # pragma: no cover
    """The segment's id code (``S_*``); ``S_OTHER`` for ids this pass does not accept."""
    if lo >= hi:
        return S_BLANK
    e = lo
    while e < hi and buf[e] != esep:
        e += 1
    n = e - lo
    a = buf[lo]
    b = buf[lo + 1] if n > 1 else 0
    c = buf[lo + 2] if n > 2 else 0
    if n == 2:
        if a == 71 and b == 83:
            return S_GS
        if a == 83 and b == 84:
            return S_ST
        if a == 83 and b == 69:
            return S_SE
        if a == 71 and b == 69:
            return S_GE
        if a == 72 and b == 76:
            return S_HL
        if a == 78 and b == 51:
            return S_N3
        if a == 78 and b == 52:
            return S_N4
        if a == 72 and b == 73:
            return S_HI
        if a == 76 and b == 88:
            return S_LX
        if a == 75 and b == 51:  # K3
            return S_IGN_CL
        return S_OTHER
    if n != 3:
        return S_OTHER
    if a == 73 and b == 83 and c == 65:
        return S_ISA
    if a == 73 and b == 69 and c == 65:
        return S_IEA
    if a == 66 and b == 72 and c == 84:
        return S_BHT
    if a == 78 and b == 77 and c == 49:
        return S_NM1
    if a == 80 and b == 69 and c == 82:
        return S_PER
    if a == 80 and b == 82 and c == 86:
        return S_PRV
    if a == 82 and b == 69 and c == 70:
        return S_REF
    if a == 67 and b == 85 and c == 82:
        return S_CUR
    if a == 83 and b == 66 and c == 82:
        return S_SBR
    if a == 68 and b == 77 and c == 71:
        return S_DMG
    if a == 80 and b == 65 and c == 84:
        return S_PAT
    if a == 67 and b == 76 and c == 77:
        return S_CLM
    if a == 68 and b == 84 and c == 80:
        return S_DTP
    if a == 83 and b == 86 and c == 49:
        return S_SV1
    if a == 65 and b == 77 and c == 84:
        return S_AMT
    if a == 67 and b == 65 and c == 83:
        return S_CAS
    if a == 67 and b == 82 and c == 50:
        return S_CR2
    # claim or line: PWK CN1 NTE CR1 CRC HCP QTY; line only: CR3 CR4 CR5 MEA PS1 HSD SV5 FRM
    if (
        (a == 80 and b == 87 and c == 75)
        or (a == 67 and b == 78 and c == 49)
        or (a == 78 and b == 84 and c == 69)
        or (a == 67 and b == 82 and c == 49)
        or (a == 67 and b == 82 and c == 67)
        or (a == 72 and b == 67 and c == 80)
        or (a == 81 and b == 84 and c == 89)
    ):
        return S_IGN_CL
    if (
        (a == 67 and b == 82 and (c == 51 or c == 52 or c == 53))
        or (a == 77 and b == 69 and c == 65)
        or (a == 80 and b == 83 and c == 49)
        or (a == 72 and b == 83 and c == 68)
        or (a == 83 and b == 86 and c == 53)
        or (a == 70 and b == 82 and c == 77)
    ):
        return S_IGN_L
    return S_OTHER


@nb.njit(cache=True, nogil=True)
def _split(buf: U8, lo: int, hi: int, sep: int, st: I64, en: I64) -> int:  # pragma: no cover
    """Element (or component) spans of ``buf[lo:hi]``; more than ``_MAX_ELEMENTS`` returns -1."""
    n = 0
    a = lo
    for p in range(lo, hi):
        if buf[p] == sep:
            if n >= _MAX_ELEMENTS - 1:
                return -1
            st[n] = a
            en[n] = p
            n += 1
            a = p + 1
    st[n] = a
    en[n] = hi
    return n + 1


@nb.njit(cache=True, nogil=True)
def _eq(buf: U8, a: int, b: int, text: bytes) -> bool:  # pragma: no cover
    if b - a != len(text):
        return False
    for i in range(b - a):  # noqa: SIM110 (a generator does not compile in nopython mode)
        if buf[a + i] != text[i]:
            return False
    return True


@nb.njit(cache=True, nogil=True)
def _has(buf: U8, a: int, b: int, text: bytes) -> bool:  # pragma: no cover
    """Whether ``text`` occurs in ``buf[a:b]``."""
    m = len(text)
    for p in range(a, b - m + 1):
        ok = True
        for i in range(m):
            if buf[p + i] != text[i]:
                ok = False
                break
        if ok:
            return True
    return False


@nb.njit(cache=True, nogil=True)
def _days(y: int, m: int, d: int) -> int:  # pragma: no cover
    """Days since 1970-01-01 of a valid proleptic Gregorian date (``date.toordinal`` based)."""
    y2 = y - 1 if m <= 2 else y
    era = (y2 if y2 >= 0 else y2 - 399) // 400
    yoe = y2 - era * 400
    mp = m + 9 if m <= 2 else m - 3
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@nb.njit(cache=True, nogil=True)
def _d8(buf: U8, a: int, b: int) -> int:  # pragma: no cover
    """A CCYYMMDD date as days, or MISS when ``claims.x12._values.d8`` would reject it."""
    if b - a != 8:
        return MISS
    y = 0
    m = 0
    d = 0
    for i in range(8):
        x = buf[a + i]
        if x < 48 or x > 57:
            return MISS
        if i < 4:
            y = y * 10 + (x - 48)
        elif i < 6:
            m = m * 10 + (x - 48)
        else:
            d = d * 10 + (x - 48)
    if y < 1 or m < 1 or m > 12 or d < 1:
        return MISS
    dim = 31
    if m == 4 or m == 6 or m == 9 or m == 11:
        dim = 30
    elif m == 2:
        leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
        dim = 29 if leap else 28
    if d > dim:
        return MISS
    return _days(y, m, d)


@nb.njit(cache=True, nogil=True)
def _rd8(buf: U8, a: int, b: int) -> tuple[int, int]:  # pragma: no cover
    """(first, last) days of CCYYMMDD-CCYYMMDD, or (MISS, MISS) when ``rd8`` would reject it."""
    for p in range(a, b):
        if buf[p] == 45:  # the first '-' (str.partition)
            x = _d8(buf, a, p)
            y = _d8(buf, p + 1, b)
            if x == MISS or y == MISS or y < x:
                return MISS, MISS
            return x, y
    return MISS, MISS


@nb.njit(cache=True, nogil=True)
def _dt(buf: U8, a: int, b: int) -> int:  # pragma: no cover
    """The date of CCYYMMDDHHMM, or MISS when ``claims.x12._values.dt`` would reject it."""
    if b - a != 12:
        return MISS
    for p in range(a + 8, b):
        if buf[p] < 48 or buf[p] > 57:
            return MISS
    return _d8(buf, a, a + 8)


@nb.njit(cache=True, nogil=True)
def _date_ok(buf: U8, fmt_a: int, fmt_b: int, a: int, b: int) -> bool:  # pragma: no cover
    """``reader._check_date``: D8, RD8 and DT values must parse; other formats are not checked."""
    if _eq(buf, fmt_a, fmt_b, b"D8"):
        return _d8(buf, a, b) != MISS
    if _eq(buf, fmt_a, fmt_b, b"RD8"):
        return _rd8(buf, a, b)[0] != MISS
    if _eq(buf, fmt_a, fmt_b, b"DT"):
        return _dt(buf, a, b) != MISS
    return True


@nb.njit(cache=True, nogil=True)
def _amount(buf: U8, a: int, b: int) -> int:  # pragma: no cover
    """An R amount in fixed point (x SCALE), or MISS when it does not parse or is not exact.

    Exactly ``engine.values.encode_number(claims.x12._values.amount(text))`` where that is an
    int; MISS where ``amount`` raises or the encoding is None (the claim is then left to the
    object reader).  At most 15 integer digits, so no Decimal context rounding is involved.
    """
    p = a
    neg = False
    if p < b and buf[p] == 45:
        neg = True
        p += 1
    whole = 0
    frac = 0
    n_whole = 0
    n_frac = 0
    dot = False
    any_digit = False
    while p < b:
        x = buf[p]
        if x == 46:
            if dot:
                return MISS
            dot = True
        elif 48 <= x <= 57:
            any_digit = True
            if dot:
                if n_frac < 4:
                    frac = frac * 10 + (x - 48)
                elif x != 48:
                    return MISS  # finer than the fixed point: not exact
                n_frac += 1
            else:
                if n_whole > 0 or x != 48:
                    n_whole += 1
                    if n_whole > 15:
                        return MISS
                whole = whole * 10 + (x - 48)
        else:
            return MISS
        p += 1
    if not any_digit:
        return MISS
    while n_frac < 4:
        frac *= 10
        n_frac += 1
    v = whole * SCALE + frac
    if v >= _LIMIT:
        return MISS
    return -v if neg else v


@nb.njit(cache=True, nogil=True)
def _pointer(buf: U8, a: int, b: int) -> int:  # pragma: no cover
    """One SV107 pointer (``1`` or ``1.00``) as an int >= 1, or -1 when ``pointers`` rejects it."""
    p = a
    whole = 0
    n = 0
    while p < b and buf[p] != 46:
        x = buf[p]
        if x < 48 or x > 57:
            return -1
        whole = whole * 10 + (x - 48)
        n += 1
        if n > 9:
            return -1
        p += 1
    if n == 0 or whole < 1:
        return -1
    p += 1
    while p < b:  # str.strip("0") of the fraction must leave nothing
        if buf[p] != 48:
            return -1
        p += 1
    return whole


@nb.njit(cache=True, nogil=True)
def count_segments(buf: U8, term: int) -> tuple[int, int]:  # pragma: no cover
    """(segments, terminators): the piece splits into ``terminators + 1`` pieces."""
    t = 0
    for p in range(buf.shape[0]):
        if buf[p] == term:
            t += 1
    return t + 1, t


@nb.njit(cache=True, nogil=True)
def segment_table(
    buf: U8, term: int, esep: int, seg: I64
) -> tuple[int, int, int, int, int]:  # pragma: no cover
    """Fill ``seg`` (lo, hi, id, high byte) with blanks stripped; counts of ST, HL, CLM, LX, HI.

    ``seg`` has one row per piece of the split on ``term`` (``str.split`` semantics).
    """
    n = buf.shape[0]
    k = 0
    a = 0
    n_st = n_hl = n_clm = n_lx = n_hi = 0
    high = 0  # a byte above 0x7F in the current segment
    for p in range(n + 1):
        if p < n and buf[p] >= 128:
            high = 1
        if p == n or buf[p] == term:
            lo = a
            hi = p
            while lo < hi and (buf[lo] == 32 or buf[lo] == 9 or buf[lo] == 13 or buf[lo] == 10):
                lo += 1
            while hi > lo and (
                buf[hi - 1] == 32 or buf[hi - 1] == 9 or buf[hi - 1] == 13 or buf[hi - 1] == 10
            ):
                hi -= 1
            sid = _seg_id(buf, lo, hi, esep)
            seg[k, 0] = lo
            seg[k, 1] = hi
            seg[k, 2] = sid
            seg[k, 3] = high  # read (then replaced by the segment count) in walk
            high = 0
            if sid == S_ST:
                n_st += 1
            elif sid == S_HL:
                n_hl += 1
            elif sid == S_CLM:
                n_clm += 1
            elif sid == S_LX:
                n_lx += 1
            elif sid == S_HI:
                for q in range(lo, hi):
                    if buf[q] == esep:
                        n_hi += 1
            k += 1
            a = p + 1
    return n_st, n_hl, n_clm, n_lx, n_hi


# ---- the walk ------------------------------------------------------------------------------
_HEADER, _BILLING, _SUBSCRIBER, _PATIENT, _CLAIM, _LINE, _OUT = range(7)
_T_NONE, _T_PERSON, _T_PROVIDER = range(3)


@nb.njit(cache=True, nogil=True)
def _role(buf: U8, a: int, b: int) -> bool:  # pragma: no cover
    """Whether NM101 names a provider role of ``claims.x12.reader._ROLES``."""
    if b - a != 2:
        return False
    x = buf[a]
    y = buf[a + 1]
    return bool(
        (x == 68 and y == 78)  # DN
        or (x == 80 and y == 51)  # P3
        or (x == 56 and y == 50)  # 82
        or (x == 55 and y == 55)  # 77
        or (x == 68 and y == 81)  # DQ
        or (x == 68 and y == 75)  # DK
        or (x == 81 and y == 66)  # QB
        or (x == 55 and y == 49)  # 71
        or (x == 55 and y == 50)  # 72
        or (x == 90 and y == 90)  # ZZ
    )


@nb.njit(cache=True, nogil=True)
def _dx_role(buf: U8, a: int, b: int) -> int:  # pragma: no cover
    """Index of an HI qualifier in ``DX_QUALIFIERS``, or -1."""
    if _eq(buf, a, b, b"ABK"):
        return 0
    if _eq(buf, a, b, b"BK"):
        return 1
    if _eq(buf, a, b, b"ABF"):
        return 2
    if _eq(buf, a, b, b"BF"):
        return 3
    if _eq(buf, a, b, b"ABJ"):
        return 4
    if _eq(buf, a, b, b"BJ"):
        return 5
    if _eq(buf, a, b, b"APR"):
        return 6
    if _eq(buf, a, b, b"PR"):
        return 7
    if _eq(buf, a, b, b"ABN"):
        return 8
    if _eq(buf, a, b, b"BN"):
        return 9
    return -1


@nb.njit(cache=True, nogil=True)
def _el(st: I64, en: I64, n: int, i: int) -> tuple[int, int]:  # pragma: no cover
    """Span of element ``i`` (the reader pads missing elements with "")."""
    if i < n:
        return st[i], en[i]
    return -1, -1


@nb.njit(cache=True, nogil=True)
def walk(
    buf: U8,
    esep: int,
    csep0: int,
    gs_prof0: bool,
    seg: I64,
    st_t: I64,
    hl_t: I64,
    clm_t: I64,
    line_t: I64,
    mods: I64,
    ptrs: I64,
    auths: I64,
    dx_t: I64,
) -> tuple[int, int, int, int, int, int, int, int]:  # pragma: no cover
    """Walk the segment table; fill the tables; return their row counts.

    Returns (st, hl, clm, line, mods, ptrs, auths, dx).  Tables are preallocated from
    :func:`segment_table`'s counts (modifiers 4 and pointers 12 per line, authorisations one per
    REF, diagnoses one per HI element).
    """
    n_seg = seg.shape[0]
    es = np.empty(_MAX_ELEMENTS, dtype=np.int64)
    ee = np.empty(_MAX_ELEMENTS, dtype=np.int64)
    cs = np.empty(_MAX_ELEMENTS, dtype=np.int64)
    ce = np.empty(_MAX_ELEMENTS, dtype=np.int64)
    csep = csep0
    gs_prof = gs_prof0
    n_st = n_hl = n_clm = n_line = n_mod = n_ptr = n_auth = n_dx = 0
    area = _OUT
    t = -1  # open transaction set
    h = -1  # open HL range (until its first CLM or the next HL)
    c = -1  # open claim
    ln = -1  # open line
    cur_b = cur_s = cur_p = -1
    billing_seen = False
    target = _T_NONE
    expect_sv1 = False
    count = 0
    c_ok = True
    mods_start = ptrs_start = auths_start = 0
    for k in range(n_seg):
        lo = seg[k, 0]
        hi = seg[k, 1]
        sid = seg[k, 2]
        high = seg[k, 3] == 1
        seg[k, 3] = count
        if sid == S_BLANK:
            continue
        count += 1
        ends_claim = sid in (S_CLM, S_HL, S_SE) or (sid <= S_IEA and sid >= S_ISA)
        if c >= 0 and ends_claim:
            # freeze the open claim
            if ln >= 0 and expect_sv1:
                c_ok = False
            if clm_t[c, C_LINE] == n_line:
                c_ok = False
            clm_t[c, C_HI] = k
            if not c_ok:
                clm_t[c, C_OK] = 0
                n_line = clm_t[c, C_LINE]
                n_dx = clm_t[c, C_DX]
                n_mod = mods_start
                n_ptr = ptrs_start
                n_auth = auths_start
            else:
                clm_t[c, C_OK] = 1
            c = -1
            ln = -1
        if h >= 0 and ends_claim and hl_t[h, HL_HI] < 0:
            hl_t[h, HL_HI] = k
        n = _split(buf, lo, hi, esep, es, ee)
        # ---- envelope ------------------------------------------------------------------
        if sid in (S_ISA, S_GS, S_GE, S_IEA, S_ST):
            if t >= 0:
                st_t[t, ST_OK] = 0  # an envelope segment inside a transaction set
                t = -1
            area = _OUT
            if sid == S_ISA:
                csep = csep0
            elif sid == S_GS:
                a8, b8 = _el(es, ee, n, 8)
                gs_prof = a8 >= 0 and _has(buf, a8, b8, b"X222")
            elif sid == S_ST:
                t = n_st
                n_st += 1
                st_t[t, ST_SEG] = k
                st_t[t, ST_SE] = -1
                a1, b1 = _el(es, ee, n, 1)
                a3, b3 = _el(es, ee, n, 3)
                prof = _has(buf, a3, b3, b"X222") if a3 >= 0 and b3 > a3 else gs_prof
                ok = n > 0 and a1 >= 0 and _eq(buf, a1, b1, b"837") and prof and not high
                st_t[t, ST_OK] = 1 if ok else 0
                area = _HEADER
                count = 1
                h = -1
                cur_b = cur_s = cur_p = -1
                billing_seen = False
                target = _T_NONE
            continue
        if t < 0:
            continue  # outside a transaction set: always read by the object reader
        if sid == S_SE:
            st_t[t, ST_SE] = k
            t = -1
            area = _OUT
            h = -1
            continue
        st_ok = st_t[t, ST_OK] == 1
        if n < 0:
            # more elements than this pass splits: let the object reader have it
            if c >= 0:
                c_ok = False
            else:
                st_t[t, ST_OK] = 0
            continue
        if high:
            if c >= 0:
                c_ok = False
            else:
                st_t[t, ST_OK] = 0
            continue
        if sid == S_HL:
            a3, b3 = _el(es, ee, n, 3)
            h = n_hl
            n_hl += 1
            for j in range(HL_WIDTH):
                hl_t[h, j] = -1
            hl_t[h, HL_LO] = k
            hl_t[h, HL_ST] = t
            hl_t[h, HL_BIRTH] = MISS
            target = _T_NONE
            if a3 >= 0 and _eq(buf, a3, b3, b"20"):
                hl_t[h, HL_LEVEL] = 20
                area = _BILLING
                billing_seen = True
                cur_b = h
                cur_s = cur_p = -1
            elif a3 >= 0 and _eq(buf, a3, b3, b"22"):
                hl_t[h, HL_LEVEL] = 22
                area = _SUBSCRIBER
                if not billing_seen:
                    st_t[t, ST_OK] = 0
                cur_s = h
                cur_p = -1
            elif a3 >= 0 and _eq(buf, a3, b3, b"23"):
                hl_t[h, HL_LEVEL] = 23
                area = _PATIENT
                if cur_s < 0:
                    st_t[t, ST_OK] = 0
                cur_p = h
            else:
                st_t[t, ST_OK] = 0
                area = _PATIENT
            continue
        if sid == S_CLM:
            c = n_clm
            n_clm += 1
            for j in range(CLM_WIDTH):
                clm_t[c, j] = -1
            for j in range(CN_TOTAL, CN_DISCHARGE + 1):
                clm_t[c, j] = MISS
            clm_t[c, C_LO] = k
            clm_t[c, C_ST] = t
            clm_t[c, C_B] = cur_b
            clm_t[c, C_S] = cur_s
            clm_t[c, C_P] = cur_p
            clm_t[c, C_LINE] = n_line
            clm_t[c, C_DX] = n_dx
            mods_start = n_mod
            ptrs_start = n_ptr
            auths_start = n_auth
            c_ok = st_ok and cur_s >= 0
            ln = -1
            expect_sv1 = False
            area = _CLAIM
            target = _T_NONE
            a1, b1 = _el(es, ee, n, 1)
            if a1 < 0 or b1 <= a1:
                c_ok = False
            else:
                clm_t[c, CS_PCN] = a1
                clm_t[c, CS_PCN + 1] = b1
            a2, b2 = _el(es, ee, n, 2)
            total = _amount(buf, a2, b2) if a2 >= 0 else MISS
            if total == MISS:
                c_ok = False
            clm_t[c, CN_TOTAL] = total
            clm_t[c, CS_TOTAL] = a2
            clm_t[c, CS_TOTAL + 1] = b2
            a5, b5 = _el(es, ee, n, 5)
            if a5 < 0:
                a5 = b5 = hi
            has_csep = False
            for p in range(a5, b5):
                if buf[p] == csep:
                    has_csep = True
                    break
            if not has_csep and b5 - a5 > 2:
                x = buf[a5 + 2]
                alnum = (48 <= x <= 57) or (65 <= x <= 90) or (97 <= x <= 122)
                if not alnum:
                    csep = x  # the reader switches too, reading this (fed) claim
                    c_ok = False
            m = _split(buf, a5, b5, csep, cs, ce)
            if m < 1 or ce[0] <= cs[0]:
                c_ok = False
            else:
                clm_t[c, CS_FAC] = cs[0]
                clm_t[c, CS_FAC + 1] = ce[0]
                if m > 2:
                    clm_t[c, CS_FREQ] = cs[2]
                    clm_t[c, CS_FREQ + 1] = ce[2]
            a20, b20 = _el(es, ee, n, 20)
            clm_t[c, CS_DELAY] = a20
            clm_t[c, CS_DELAY + 1] = b20
            continue
        if area == _HEADER:
            if sid != S_BHT and sid != S_NM1 and sid != S_PER:
                st_t[t, ST_OK] = 0
            continue
        if area == _BILLING:
            if sid == S_NM1:
                a1, b1 = _el(es, ee, n, 1)
                if a1 >= 0 and _eq(buf, a1, b1, b"85"):
                    target = _T_PROVIDER
                    a8, b8 = _el(es, ee, n, 8)
                    a9, b9 = _el(es, ee, n, 9)
                    if a8 >= 0 and _eq(buf, a8, b8, b"XX") and a9 >= 0:
                        hl_t[h, HL_A] = a9
                        hl_t[h, HL_A + 1] = b9
                    else:
                        hl_t[h, HL_A] = -1
                        hl_t[h, HL_A + 1] = -1
                elif a1 >= 0 and _eq(buf, a1, b1, b"87"):
                    target = _T_PROVIDER
                else:
                    target = _T_NONE
            elif sid not in (S_PRV, S_N3, S_N4, S_REF, S_PER, S_CUR):
                st_t[t, ST_OK] = 0
            continue
        if area in (_SUBSCRIBER, _PATIENT):
            if sid == S_NM1:
                a1, b1 = _el(es, ee, n, 1)
                target = _T_NONE
                if area == _SUBSCRIBER and a1 >= 0 and _eq(buf, a1, b1, b"IL"):
                    target = _T_PERSON
                elif area == _SUBSCRIBER and a1 >= 0 and _eq(buf, a1, b1, b"PR"):
                    a9, b9 = _el(es, ee, n, 9)
                    hl_t[h, HL_C] = a9 if a9 >= 0 else hi
                    hl_t[h, HL_C + 1] = b9 if a9 >= 0 else hi
                elif area == _PATIENT and a1 >= 0 and _eq(buf, a1, b1, b"QC"):
                    target = _T_PERSON
            elif sid == S_DMG:
                if target != _T_PERSON:
                    st_t[t, ST_OK] = 0
                    continue
                a2, b2 = _el(es, ee, n, 2)
                if a2 >= 0 and b2 > a2:
                    d = _d8(buf, a2, b2)
                    if d == MISS:
                        st_t[t, ST_OK] = 0
                    hl_t[h, HL_BIRTH] = d
                a3, b3 = _el(es, ee, n, 3)
                hl_t[h, HL_D] = a3 if a3 >= 0 else hi
                hl_t[h, HL_D + 1] = b3 if a3 >= 0 else hi
            elif sid == S_SBR and area == _SUBSCRIBER:
                a1, b1 = _el(es, ee, n, 1)
                a9, b9 = _el(es, ee, n, 9)
                hl_t[h, HL_A] = a1 if a1 >= 0 else hi
                hl_t[h, HL_A + 1] = b1 if a1 >= 0 else hi
                hl_t[h, HL_B] = a9 if a9 >= 0 else hi
                hl_t[h, HL_B + 1] = b9 if a9 >= 0 else hi
            elif sid == S_PAT:
                if area == _PATIENT:
                    a1, b1 = _el(es, ee, n, 1)
                    hl_t[h, HL_A] = a1 if a1 >= 0 else hi
                    hl_t[h, HL_A + 1] = b1 if a1 >= 0 else hi
            elif sid not in (S_N3, S_N4, S_REF, S_PER):
                st_t[t, ST_OK] = 0
            continue
        # ---- claim and line ------------------------------------------------------------
        if c < 0:
            st_t[t, ST_OK] = 0
            continue
        if sid == S_LX:
            if ln >= 0 and expect_sv1:
                c_ok = False
            a1, b1 = _el(es, ee, n, 1)
            number = 0
            if a1 < 0 or b1 <= a1 or b1 - a1 > 9:
                c_ok = False
            else:
                for p in range(a1, b1):
                    x = buf[p]
                    if x < 48 or x > 57:
                        c_ok = False
                        break
                    number = number * 10 + (x - 48)
            if n_line >= line_t.shape[0]:
                c_ok = False
                continue
            ln = n_line
            n_line += 1
            for j in range(LINE_WIDTH):
                line_t[ln, j] = -1
            line_t[ln, LN_NUMBER] = number
            line_t[ln, LN_CHARGE] = MISS
            line_t[ln, LN_UNITS] = MISS
            line_t[ln, LN_DATE] = MISS
            line_t[ln, LN_DATE_END] = MISS
            line_t[ln, LN_EMERGENCY] = 0
            line_t[ln, L_MOD] = n_mod
            line_t[ln, L_PTR] = n_ptr
            line_t[ln, L_AUTH] = n_auth
            area = _LINE
            target = _T_NONE
            expect_sv1 = True
            continue
        if area == _LINE and expect_sv1:
            expect_sv1 = False
            if sid != S_SV1:
                c_ok = False
                continue
            a1, b1 = _el(es, ee, n, 1)
            if a1 < 0:
                a1 = b1 = hi
            m = _split(buf, a1, b1, csep, cs, ce)
            if m < 2 or ce[1] <= cs[1]:
                c_ok = False
                continue
            line_t[ln, LS_QUAL] = cs[0]
            line_t[ln, LS_QUAL + 1] = ce[0]
            line_t[ln, LS_CODE] = cs[1]
            line_t[ln, LS_CODE + 1] = ce[1]
            for j in range(2, min(m, 6)):
                if ce[j] > cs[j]:
                    mods[n_mod, 0] = cs[j]
                    mods[n_mod, 1] = ce[j]
                    n_mod += 1
            if m > 6:
                line_t[ln, LS_DESC] = cs[6]
                line_t[ln, LS_DESC + 1] = ce[6]
            a2, b2 = _el(es, ee, n, 2)
            a4, b4 = _el(es, ee, n, 4)
            charge = _amount(buf, a2, b2) if a2 >= 0 else MISS
            units = _amount(buf, a4, b4) if a4 >= 0 else MISS
            if charge == MISS or units == MISS:
                c_ok = False
            line_t[ln, LN_CHARGE] = charge
            line_t[ln, LN_UNITS] = units
            line_t[ln, LS_CHARGE] = a2
            line_t[ln, LS_CHARGE + 1] = b2
            line_t[ln, LS_UNITS] = a4
            line_t[ln, LS_UNITS + 1] = b4
            line_t[ln, L_SEG] = k
            a3, b3 = _el(es, ee, n, 3)
            line_t[ln, LS_UNIT_TYPE] = a3 if a3 >= 0 else hi
            line_t[ln, LS_UNIT_TYPE + 1] = b3 if a3 >= 0 else hi
            a5, b5 = _el(es, ee, n, 5)
            line_t[ln, LS_POS] = a5 if a5 >= 0 else hi
            line_t[ln, LS_POS + 1] = b5 if a5 >= 0 else hi
            a7, b7 = _el(es, ee, n, 7)
            if a7 >= 0 and b7 > a7:
                m = _split(buf, a7, b7, csep, cs, ce)
                if m < 0:
                    c_ok = False
                for j in range(max(m, 0)):
                    if ce[j] <= cs[j]:
                        continue
                    v = _pointer(buf, cs[j], ce[j])
                    if v < 0 or n_ptr - line_t[ln, L_PTR] >= 12:
                        c_ok = False
                        break
                    ptrs[n_ptr] = v
                    n_ptr += 1
            a9, b9 = _el(es, ee, n, 9)
            line_t[ln, LN_EMERGENCY] = 1 if a9 >= 0 and _eq(buf, a9, b9, b"Y") else 0
            continue
        if sid == S_DTP:
            a1, b1 = _el(es, ee, n, 1)
            a2, b2 = _el(es, ee, n, 2)
            a3, b3 = _el(es, ee, n, 3)
            if a1 < 0:
                a1 = b1 = hi
            if a2 < 0:
                a2 = b2 = hi
            if a3 < 0:
                a3 = b3 = hi
            if area == _LINE:
                if _eq(buf, a1, b1, b"472"):
                    if _eq(buf, a2, b2, b"D8"):
                        d = _d8(buf, a3, b3)
                        if d == MISS:
                            c_ok = False
                        line_t[ln, LN_DATE] = d
                        line_t[ln, LN_DATE_END] = MISS
                    elif _eq(buf, a2, b2, b"RD8"):
                        x, y = _rd8(buf, a3, b3)
                        if x == MISS:
                            c_ok = False
                        line_t[ln, LN_DATE] = x
                        line_t[ln, LN_DATE_END] = y
                    else:
                        c_ok = False
                elif not _date_ok(buf, a2, b2, a3, b3):
                    c_ok = False
            else:
                q434 = _eq(buf, a1, b1, b"434")
                d8f = _eq(buf, a2, b2, b"D8")
                if q434 and _eq(buf, a2, b2, b"RD8"):
                    x, y = _rd8(buf, a3, b3)
                    if x == MISS:
                        c_ok = False
                    clm_t[c, CN_FROM] = x
                    clm_t[c, CN_TO] = y
                elif q434 and d8f:
                    x = _d8(buf, a3, b3)
                    if x == MISS:
                        c_ok = False
                    clm_t[c, CN_FROM] = x
                elif _eq(buf, a1, b1, b"435") and (d8f or _eq(buf, a2, b2, b"DT")):
                    x = _d8(buf, a3, b3) if d8f else _dt(buf, a3, b3)
                    if x == MISS:
                        c_ok = False
                    clm_t[c, CN_ADMIT] = x
                elif _eq(buf, a1, b1, b"096") and d8f:
                    x = _d8(buf, a3, b3)
                    if x == MISS:
                        c_ok = False
                    clm_t[c, CN_DISCHARGE] = x
                elif _eq(buf, a1, b1, b"431") and d8f:
                    x = _d8(buf, a3, b3)
                    if x == MISS:
                        c_ok = False
                    clm_t[c, CN_ONSET] = x
                elif not _date_ok(buf, a2, b2, a3, b3):
                    c_ok = False
            continue
        if sid == S_REF:
            if target == _T_PROVIDER:
                continue
            a1, b1 = _el(es, ee, n, 1)
            a2, b2 = _el(es, ee, n, 2)
            if a1 < 0:
                continue
            if a2 < 0:
                a2 = b2 = hi
            if area == _LINE:
                if _eq(buf, a1, b1, b"G1"):
                    if b2 <= a2:  # the reader keeps an empty one; the columns drop it
                        c_ok = False
                    auths[n_auth, 0] = a2
                    auths[n_auth, 1] = b2
                    n_auth += 1
            elif _eq(buf, a1, b1, b"G1"):
                clm_t[c, CS_AUTH] = a2
                clm_t[c, CS_AUTH + 1] = b2
            elif _eq(buf, a1, b1, b"9F"):
                clm_t[c, CS_REFERRAL] = a2
                clm_t[c, CS_REFERRAL + 1] = b2
            elif _eq(buf, a1, b1, b"F8"):
                clm_t[c, CS_ORIG] = a2
                clm_t[c, CS_ORIG + 1] = b2
            continue
        if sid == S_NM1:
            a1, b1 = _el(es, ee, n, 1)
            target = _T_PROVIDER if a1 >= 0 and _role(buf, a1, b1) else _T_NONE
            continue
        if sid == S_HI:
            if area != _CLAIM:
                c_ok = False
                continue
            for j in range(1, n):
                if ee[j] <= es[j]:
                    continue
                m = _split(buf, es[j], ee[j], csep, cs, ce)
                if m < 2 or ce[1] <= cs[1]:
                    c_ok = False
                    break
                role = _dx_role(buf, cs[0], ce[0])
                if role < 0:
                    c_ok = False  # procedures, occurrences, values ...: the object reader
                    break
                dx_t[n_dx, DX_CODE] = cs[1]
                dx_t[n_dx, DX_CODE + 1] = ce[1]
                if m > 8:
                    dx_t[n_dx, DX_POA] = cs[8]
                    dx_t[n_dx, DX_POA + 1] = ce[8]
                else:
                    dx_t[n_dx, DX_POA] = -1
                    dx_t[n_dx, DX_POA + 1] = -1
                dx_t[n_dx, DX_ROLE] = role // 2
                dx_t[n_dx, DX_ICD9] = role % 2
                n_dx += 1
            continue
        if sid in (S_PRV, S_N3, S_N4, S_PER):
            continue
        if sid in (S_IGN_CL, S_AMT):
            continue
        if area == _CLAIM and sid == S_CR2:
            continue
        if area == _LINE and (sid in (S_IGN_L, S_CAS)):
            continue
        c_ok = False  # SV1 out of place, SBR (other subscriber), DMG, PAT, SV2, CL1, unknown ...
    if c >= 0:  # the input ends inside a claim: the reader drops it
        clm_t[c, C_HI] = n_seg
        clm_t[c, C_OK] = 0
        n_line = clm_t[c, C_LINE]
        n_dx = clm_t[c, C_DX]
        n_mod = mods_start
        n_ptr = ptrs_start
        n_auth = auths_start
    if h >= 0 and hl_t[h, HL_HI] < 0:
        hl_t[h, HL_HI] = n_seg
    if t >= 0:
        st_t[t, ST_OK] = 0  # no SE
    return n_st, n_hl, n_clm, n_line, n_mod, n_ptr, n_auth, n_dx
