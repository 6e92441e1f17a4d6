"""Generic Numba kernels: a stack machine over the bytecode of :mod:`engine.compiled`.

The kernels take arrays (grouped in tuples) only and are compiled once per process (``cache=True``
keeps them on disk across processes): loading or publishing a pack never triggers JIT compilation.
Every kernel's plain-Python twin is ``kernel.py_func``.  Only :mod:`engine.evaluate` calls them.

Array groups (all int64 unless noted):

* ``B`` batch: ``claim_cols, line_cols, dx_cols, claim_set_off, claim_set_vals, line_set_off,
  line_set_vals, field_group, field_col, line_off, dx_off``
* ``S`` strings: ``bytes (uint8), offsets`` of the interner
* ``L`` literal sets: ``mem_off, mem, rng_off, rng_lo, rng_hi, pre_off, pre, str_order``
* ``T`` tables: ``row_off, keys, row_from, row_until, val_off, vals, lo, hi, n_keys, dir_at,
  dir_n, dir_off`` (``dir_off[dir_at[t] + k] ..`` are the rows of table ``t`` whose first key is
  the interned id ``k < dir_n[t]``; ``dir_at[t] == -1``: no directory, bisect all rows), then
  ``filt_at, fw_off, fw``: for two-key tables (``filt_at[t] >= 0``) a membership filter per first
  key that rejects most absent pairs with one memory access (:func:`pair_maybe`): the words
  ``fw[fw_off[dir_at[t] + k] .. fw_off[dir_at[t] + k + 1]]`` (a power of two of them, none when
  ``k`` has no rows), so the probes of one line (one first key) stay in one small block; then
  ``hs_off, hs``: for the same tables an exact hash per first key whose slots hold a key's first
  row and that row's dates (:func:`pair_find`), so a pair that passes the filter costs one slot;
  then ``dsingle``, aligned with ``dir_off``: for one-key tables the key's row (relative to the
  table's first) when it is the key's only row and has no row dates, else -1
  (``engine.compiled._single_rows``)
* ``I`` ICD-10-CM and per-call scalars: ``valid ids (sorted), billable ids (sorted), env`` where
  ``env`` (length 2) is ``[has ICD-10-CM data (0/1), processing date (day number or MISS)]``; the
  compiled pack holds ``env`` with a missing date, :mod:`engine.evaluate` passes a copy with the
  call's processing date (a value, not a new specialisation)
* ``P`` program: ``code (n, 6) int64, branch_pc, branch_fires, rule_branch_off, rule_lo, rule_hi``
* ``X`` rule index: ``claim_rules, dx_rules, line_always, pair_always, cand_off, cand_rules,
  pair_cand_off, pair_cand_rules, guards`` (``guards[6 r: 6 r + 6]``: rule ``r``'s necessary
  condition checked while listing its tasks, see :func:`engine.compiled._guard`; kind 2: the
  lister finds the pair's table row (filter, then the exact hash) and seeds the interpreter's
  table memo with it; kind 3: also sufficient, the task fires without running the interpreter;
  kind 4: a pair rule's ``line.f == other.f``, only other lines with an equal column value;
  kinds 5 / 7: a line rule's ``field op table[key]`` (one key): the lister finds the row as
  ``OP_TABLE_GET`` does and compares, kind 7 is also sufficient; kinds 8 / 9: ``[not]`` a
  string built-in (``npi_valid``, ``icd10cm_valid``, ``icd10cm_billable``) of claim / item
  fields, decided by the lister for claim, diagnosis and line tasks with ``OP_CALL``'s memo,
  kind 9 is also sufficient; kinds 10 / 11: ``[not]`` a claim's line / diagnosis field in a
  literal set, or a constant in a code set, decided by the lister, kind 11 is also sufficient)

Guards of the odd kinds below 8 (1, 3, 5, 7) are checked as intervals first
(:func:`guard_intervals`, once per call; for kinds 5 / 7 against the column's smallest / largest
value).

Hot paths are written out in :func:`run_pack` (no helper taking arrays: an inlined Numba helper
binds and reference counts every array argument on every call); the string built-ins are memoised
per interned string for the duration of a call.  The pair tasks of a block of claims are listed by
:func:`list_pairs`, called once per block (candidates through the filter, then the exact lookup;
one loop over a short claim's ordered line pairs from a template for the PTP shape).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from engine.prefetch import prefetch
from engine.values import DATE_MAX, DATE_MIN, MISS, OPEN_HI, OPEN_LO, SCALE

__all__ = [
    "civil_from_days",
    "guard_intervals",
    "icd_format",
    "in_literal_set",
    "line_masks",
    "npi_check",
    "pair_find",
    "pair_maybe",
    "run_pack",
    "str_cmp",
    "str_starts_with",
    "table_find",
]

# opcodes (rows of ``code``: op, a, b, c, d, e)
OP_HALT = 0
OP_CONST = 1  # push a
OP_FIELD = 2  # push field a of the object in slot b
OP_ELEM = 3  # push the code-set element bound to slot a
OP_NOT = 4
OP_JF = 5  # if top is not true: top = 0, jump a; else pop
OP_JT = 6  # if top is true: jump a; else pop
OP_CMP = 7  # a = CmpOp, b = 0 integer / 1 string order / 2 boolean
OP_ARITH = 8  # a = ArithOp
OP_INSET = 9  # a = literal set
OP_CONTAINS = 10  # element on stack in code-set field a of slot b
OP_TABLE_HAS = 11  # a = table, b = number of keys
OP_TABLE_GET = 12  # a = table, b = number of keys, c = value column
OP_PRESENT = 13  # top is not missing
OP_PRESENT_COLL = 14  # a = source kind (0 lines, 1 diagnoses, 2 code set), b = field, c = slot
OP_CALL = 15  # a = BuiltinId; b = 1: negate the result (``not`` of the boolean built-ins 0-2)
OP_AGG_START = 16  # a = AggKind, b = slot, c = source kind, d = field, e = source slot
OP_AGG_NEXT = 17  # a = slot, b = exit
OP_AGG_STEP = 18  # a = AggKind, b = loop (the AGG_NEXT), c = exit
OP_TRUTH = 19  # top = 1 if top is true else 0
OP_CMP_FC = 20  # push field a of slot b compared (op d, kind e) with constant c
OP_AGG_SUM_FIELD = 21  # push the sum of field a over the claim's lines (b = 0) / diagnoses (1)
OP_AGG_ANY_IN = 22  # push: field c of some line (b = 0) / diagnosis (1) is a member of set a
OP_AGG_COUNT = 23  # push the size of: lines (a = 0), diagnoses (1), set field b of slot c (2)

_MUL_SAFE = 3_037_000_499  # |a|, |b| below this: a * b fits in int64
HASH_MUL = -7_046_029_254_386_353_131  # 0x9E3779B97F4A7C15 as int64 (Fibonacci hashing)
_I32_MIN = -(2**31)  # slot dates (see pair_find): OPEN_LO as a row start
_I32_MAX = 2**31 - 1  # OPEN_HI as a row end
_I64_MAX = 2**63 - 1
PHASE_BLOCK = 1 << 18  # claims per block of run_pack's two phases (pair rules, then the others)


@njit(cache=True, nogil=True)
def str_cmp(sbytes: Any, soff: Any, a: int, b: int) -> int:
    """-1, 0, 1 as interned string ``a`` sorts before, equal to, after ``b`` (UTF-8 byte order)."""
    i, ie = soff[a], soff[a + 1]
    j, je = soff[b], soff[b + 1]
    while i < ie and j < je:
        x, y = sbytes[i], sbytes[j]
        if x != y:
            return -1 if x < y else 1
        i += 1
        j += 1
    la, lb = ie - soff[a], je - soff[b]
    if la == lb:
        return 0
    return -1 if la < lb else 1


@njit(cache=True, nogil=True)
def str_starts_with(sbytes: Any, soff: Any, a: int, p: int) -> bool:
    """Interned string ``a`` starts with interned string ``p``."""
    n = soff[p + 1] - soff[p]
    if soff[a + 1] - soff[a] < n:
        return False
    for k in range(n):  # noqa: SIM110 (a plain loop compiles to the tightest Numba code)
        if sbytes[soff[a] + k] != sbytes[soff[p] + k]:
            return False
    return True


@njit(cache=True, nogil=True)
def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day number since 1970-01-01 (proleptic Gregorian)."""
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d


@njit(cache=True, nogil=True)
def npi_check(sbytes: Any, soff: Any, x: int) -> bool:
    """10 ASCII digits with the Luhn check digit over ``80840`` + the first nine."""
    if x == MISS or soff[x + 1] - soff[x] != 10:
        return False
    base = soff[x]
    for k in range(10):
        ch = sbytes[base + k]
        if ch < 48 or ch > 57:
            return False
    # the prefix 80840 contributes 24 to the Luhn sum (positions fixed because the total is 15)
    total = 24
    for k in range(9):
        dgt = sbytes[base + 8 - k] - 48
        if k % 2 == 0:
            dgt *= 2
            if dgt > 9:
                dgt -= 9
        total += dgt
    return bool((10 - total % 10) % 10 == sbytes[base + 9] - 48)


@njit(cache=True, nogil=True)
def icd_format(sbytes: Any, soff: Any, x: int) -> bool:
    """Letter, digit, then 1-5 upper-case alphanumerics (3-7 characters, ASCII)."""
    n = soff[x + 1] - soff[x]
    if n < 3 or n > 7:
        return False
    base = soff[x]
    c0 = sbytes[base]
    if c0 < 65 or c0 > 90:
        return False
    c1 = sbytes[base + 1]
    if c1 < 48 or c1 > 57:
        return False
    for k in range(2, n):
        ch = sbytes[base + k]
        if not ((48 <= ch <= 57) or (65 <= ch <= 90)):
            return False
    return True


@njit(cache=True, nogil=True)
def _call_memo(S: Any, I: Any, memo: Any, mi: int, a: int, x: int, rel: int) -> int:  # noqa: E741
    """String built-in ``a`` of interned string ``x`` computed into memo byte ``memo[mi]``.

    ``a``: 0 ``npi_valid``, 1 ``icd10cm_valid``, 2 ``icd10cm_billable`` (the date given is
    present); bits 1/2 ICD-10-CM valid known/true, 4/8 billable, 16/32 NPI check digit.  With
    several ICD-10-CM releases (``I``'s ``env``, see :mod:`engine.compiled`) ``memo`` is the
    per (string, release) memo and ``rel`` the release in force on the date, else the per-string
    memo (``mi == x``).  Returns the byte.  ``run_pack`` reads the memo inline and calls this on
    a miss (``OP_CALL`` and the lister's guards of kinds 8 / 9).
    """
    sbytes, soff = S
    icd_valid, icd_billable, env = I
    m = np.int64(memo[mi])
    if a == 0:
        m |= 48 if npi_check(sbytes, soff, x) else 16
    else:
        cb = 1 if a == 1 else 4
        good = icd_format(sbytes, soff, x)
        arr = icd_valid if a == 1 else icd_billable
        n_rel = env[2] if env.shape[0] > 2 else 0
        if good and n_rel > 1:
            rbase = 3 + n_rel if a == 1 else 4 + 2 * n_rel
            good = _sorted_has(arr, env[rbase + rel], env[rbase + rel + 1], x)
        elif good and env[0] != 0:
            good = _sorted_has(arr, 0, arr.shape[0], x)
        m |= 3 * cb if good else cb
    memo[mi] = m
    return int(m)


@njit(cache=True, nogil=True)
def _sorted_has(arr: Any, lo: int, hi: int, x: int) -> bool:
    end = hi
    while lo < hi:
        mid = (lo + hi) >> 1
        if arr[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return bool(lo < end and arr[lo] == x)


@njit(cache=True, nogil=True)
def in_literal_set(L: Any, S: Any, s: int, x: int) -> bool:
    """Code/value ``x`` (not missing) is a member, in a range or has a prefix of set ``s``.

    A code range ``lo..hi`` holds ``x`` when ``lo <= x`` and (``x <= hi`` or ``x`` starts with
    ``hi``): the sub-codes of the upper bound are inside.
    """
    mem_off, mem, rng_off, rng_lo, rng_hi, pre_off, pre, str_order = L
    sbytes, soff = S
    hi = mem_off[s + 1]
    lo = mem_off[s]
    if lo < hi:
        a, b = lo, hi
        while a < b:
            mid = (a + b) >> 1
            if mem[mid] < x:
                a = mid + 1
            else:
                b = mid
        if a < hi and mem[a] == x:
            return True
    # run_pack runs a written-out copy of this member search and range/prefix check (the
    # range tests check both against the reference through evaluate)
    return _in_ranges(sbytes, soff, rng_off, rng_lo, rng_hi, pre_off, pre, str_order, s, x)


@njit(cache=True, nogil=True, inline="always")
def _find(
    row_off: Any,
    keys: Any,
    row_from: Any,
    row_until: Any,
    tlo: Any,
    thi: Any,
    tnk: Any,
    dir_at: Any,
    dir_n: Any,
    dir_off: Any,
    t: int,
    key: int,
    d: int,
) -> int:
    """:func:`table_find` on unpacked arrays (the directory narrows the search to one first key)."""
    a, b = row_off[t], row_off[t + 1]
    da = dir_at[t]
    if da >= 0:
        k1 = (key >> 32) if tnk[t] == 2 else key
        if k1 < 0 or k1 >= dir_n[t]:
            return -1
        base = a
        a = base + dir_off[da + k1]
        b = base + dir_off[da + k1 + 1]
    end = b
    while a < b:
        mid = (a + b) >> 1
        if keys[mid] < key:
            a = mid + 1
        else:
            b = mid
    i = a
    lo, hi = tlo[t], thi[t]
    while i < end and keys[i] == key:
        if d == MISS:
            if (
                row_from[i] == OPEN_LO
                and row_until[i] == OPEN_HI
                and lo == OPEN_LO
                and hi == OPEN_HI
            ):
                return int(i)
        elif lo <= d <= hi and row_from[i] <= d <= row_until[i]:
            return int(i)
        i += 1
    return -1


@njit(cache=True, nogil=True)
def pair_maybe(T: Any, t: int, k1: int, k2: int) -> bool:
    """False when the pair ``(k1, k2)`` (interned ids) is certainly not a key of table ``t``.

    The filter block of first key ``k1``: the word chosen by the hash of ``k2`` must have all
    three of ``k2``'s bits set.  ``run_pack`` writes this out (listing pair tasks, ``table.has``).
    """
    dir_at, dir_n = T[9], T[10]
    fw_off, fw = T[13], T[14]
    if T[12][t] < 0:
        return True
    if k1 < 0 or k1 >= dir_n[t]:
        return False
    w0 = fw_off[dir_at[t] + k1]
    nw = fw_off[dir_at[t] + k1 + 1] - w0
    if nw == 0:
        return False
    h = (k2 & 0xFFFFFFFF) * HASH_MUL
    w = fw[w0 + ((h >> 32) & (nw - 1))]
    hb = (w >> ((h >> 58) & 63)) & (w >> ((h >> 52) & 63))
    return bool(hb & (w >> ((h >> 46) & 63)) & 1 != 0)


@njit(cache=True, nogil=True, inline="always")
def _hash_slot(kl: int, ns: int) -> int:
    """The first slot probed for second key ``kl`` (low 32 bits) in a hash block of ``ns`` slots.

    Scalars only, so inlining copies no array; ``engine.compiled._pair_hash`` places rows by the
    same formula (vectorised).
    """
    return (((kl * HASH_MUL) >> 32) & 0xFFFFFFFF) * ns >> 32


@njit(cache=True, nogil=True)
def pair_find(T: Any, t: int, k1: int, k2: int, d: int) -> int:
    """:func:`table_find` for a two-key table with a filter (``filt_at[t] >= 0``) by its exact hash.

    ``hs[2 s], hs[2 s + 1]`` for the slots ``s`` of first key ``k1`` (``hs_off[dir_at[t] + k1] ..
    hs_off[dir_at[t] + k1 + 1]``, none when ``k1`` has no rows; linear probing from the slot picked
    by the hash of ``k2``): ``k2 << 32 | row`` (the key's first row, table-local; -1: empty) and
    the row's dates as ``from << 32 | until`` in int32 (``OPEN_LO`` / ``OPEN_HI`` as the int32
    minimum / maximum; a row whose dates do not fit holds an empty window).  When the slot's
    dates do not make the row effective, the key's rows are checked in order on the int64 dates.
    ``run_pack`` writes this out (``table.has`` / ``table[..]`` after the filter).
    """
    row_off, tkeys, row_from, row_until = T[0], T[1], T[2], T[3]
    tlo, thi, dir_at, dir_n = T[6], T[7], T[9], T[10]
    hs_off, hs = T[15], T[16]
    if k1 < 0 or k1 >= dir_n[t]:
        return -1
    s0 = hs_off[dir_at[t] + k1]
    ns = hs_off[dir_at[t] + k1 + 1] - s0
    if ns == 0:
        return -1
    key = (k1 << 32) | (k2 & 0xFFFFFFFF)
    kl = k2 & 0xFFFFFFFF
    pos = _hash_slot(kl, ns)
    flo, fhi = tlo[t], thi[t]
    while True:
        w = hs[2 * (s0 + pos)]
        if w == -1:
            return -1
        if (w >> 32) & 0xFFFFFFFF == kl:
            i = row_off[t] + (w & 0xFFFFFFFF)
            wd = hs[2 * (s0 + pos) + 1]
            fr = wd >> 32
            un = wd & 0xFFFFFFFF
            if un >= 0x80000000:
                un -= 0x100000000
            if d == MISS:
                if fr == _I32_MIN and un == _I32_MAX and flo == OPEN_LO and fhi == OPEN_HI:
                    return int(i)
            elif flo <= d <= fhi and fr <= d <= un:
                return int(i)
            end = row_off[t + 1]
            while i < end and tkeys[i] == key:
                if d == MISS:
                    if (
                        row_from[i] == OPEN_LO
                        and row_until[i] == OPEN_HI
                        and flo == OPEN_LO
                        and fhi == OPEN_HI
                    ):
                        return int(i)
                elif flo <= d <= fhi and row_from[i] <= d <= row_until[i]:
                    return int(i)
                i += 1
            return -1
        pos += 1
        if pos == ns:
            pos = 0


@njit(cache=True, nogil=True)
def table_find(T: Any, t: int, key: int, d: int) -> int:
    """The first row (in file order) of table ``t`` with ``key`` effective on day ``d``, or -1."""
    row_off, keys, row_from, row_until, _val_off, _vals, tlo, thi, tnk, dir_at, dir_n, dir_off = T[
        :12
    ]
    return _find(
        row_off, keys, row_from, row_until, tlo, thi, tnk, dir_at, dir_n, dir_off, t, key, d
    )


@njit(cache=True, nogil=True, inline="always")
def _in_ranges(
    sbytes: Any,
    soff: Any,
    rng_off: Any,
    rng_lo: Any,
    rng_hi: Any,
    pre_off: Any,
    pre: Any,
    str_order: Any,
    s: int,
    x: int,
) -> bool:
    """``x`` lies in a range or has a prefix of literal set ``s`` (members are checked before)."""
    for k in range(rng_off[s], rng_off[s + 1]):
        if str_order[s] == 1:
            if str_cmp(sbytes, soff, rng_lo[k], x) <= 0 and (
                str_cmp(sbytes, soff, x, rng_hi[k]) <= 0
                or str_starts_with(sbytes, soff, x, rng_hi[k])
            ):
                return True
        elif rng_lo[k] != MISS and rng_hi[k] != MISS and rng_lo[k] <= x <= rng_hi[k]:
            return True
    if str_order[s] == 1:
        for k in range(pre_off[s], pre_off[s + 1]):
            if str_starts_with(sbytes, soff, x, pre[k]):
                return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _order_result(op: int, c: int) -> int:
    if op == 2:
        return 1 if c < 0 else 0
    if op == 3:
        return 1 if c <= 0 else 0
    if op == 4:
        return 1 if c > 0 else 0
    return 1 if c >= 0 else 0


@njit(cache=True, nogil=True, inline="always")
def _cmp_scalar(op: int, kind: int, x: int, y: int) -> int:
    """``x op y`` (CmpOp; kind 0 number, 1 string, 2 boolean): 1 true, 0 false, 2 undecided.

    2: strings compared by order, the caller runs :func:`str_cmp`.  A missing operand is false.
    """
    if x == MISS or y == MISS:
        return 0
    if op == 0:
        return 1 if x == y else 0
    if op == 1:
        return 1 if x != y else 0
    if kind == 2:
        return 0
    if kind == 1:
        return 2
    return _order_result(op, -1 if x < y else (1 if x > y else 0))


@njit(cache=True, nogil=True, inline="always")
def _effective(lo: int, hi: int, d: int) -> bool:
    if d == MISS:
        return lo == OPEN_LO and hi == OPEN_HI
    return lo <= d <= hi


@njit(cache=True, nogil=True)
def guard_intervals(G: Any, n_rules: int) -> Any:
    """Guards of kinds 1 and 3 (``field op constant``) as intervals, one row per rule (9: none).

    ``[lo, hi, 1]``: the guard holds iff ``lo <= x <= hi`` (a missing ``x`` is below every
    interval, an empty interval never holds); ``[.., .., 0]``: run the comparison (``!=``, string
    order, or no guard of these kinds).  Same results as :func:`_cmp_scalar` (and
    :func:`str_cmp` for the string order); ``run_pack`` computes them once per call.  Kinds 5 /
    7 (``field op table[key]``): ``field op bound`` (the column's smallest / largest value), for
    ``==`` / ``!=`` any present value; the lister then compares with the row's value.
    """
    gv = np.zeros((n_rules, 3), dtype=np.int64)
    for r in range(n_rules):
        if G[6 * r] & 1 == 1 and G[6 * r] < 8:
            gc = G[6 * r + 3]
            gop = G[6 * r + 4]
            gkind = G[6 * r + 5] if G[6 * r] < 5 else 0
            glo = MISS + 1
            ghi = _I64_MAX
            gq = 1
            if G[6 * r] >= 5 and gop <= 1:
                pass  # kinds 5 / 7, == or !=: x present (the lister compares exactly)
            elif gop == 1 or (gkind == 1 and gop >= 2):
                gq = 0
            elif gc == MISS or (gkind == 2 and gop >= 2) or (gop == 4 and gc == _I64_MAX):
                glo = 1  # never holds
                ghi = 0
            elif gop == 0:
                glo = gc
                ghi = gc
            elif gop == 2:
                ghi = gc - 1
            elif gop == 3:
                ghi = gc
            elif gop == 4:
                glo = gc + 1
            else:
                glo = gc
            gv[r, 0] = glo
            gv[r, 1] = ghi
            gv[r, 2] = gq
    return gv


MASK_BLOCK = 4096  # claims per window of run_pack's unindexed line-rule masks (:func:`line_masks`)


@njit(cache=True, nogil=True)
def line_masks(
    rules: Any,
    s0: int,
    s1: int,
    line_cols: Any,
    G: Any,
    gv: Any,
    fgroup: Any,
    fcol: Any,
    rlo: Any,
    rhi: Any,
    all_open: bool,
    T: Any,
    keep: Any,
    undecided: Any,
) -> None:
    """Which unindexed line rules (``rules``, at most 63) each line ``s0 .. s1`` keeps.

    Bit ``q`` of ``keep[s - s0]``: rule ``rules[q]`` may apply to line ``s``; of
    ``undecided[s - s0]``: the lister still has to check its date and guard (the listing of
    :func:`run_pack` as before).  Decided here, one tight loop per rule over the window's lines:
    an undated rule whose guard is of kind 1 / 3 as an interval (``field in [lo, hi]``, see
    :func:`guard_intervals`) of a line field, or of kind 5 / 7 of line fields over a one-key
    table with no dates of its own, for the keys with one undated row (``T[17]``; other keys
    stay undecided).  Any other rule: kept, undecided.

    Why: the per-line loop over the unindexed rules, then the rules indexed by the line's code,
    has a trip count that varies line by line (a mispredicted exit each), and most lines keep
    none of the unindexed rules; with the masks the lister loops over the indexed rules only,
    unless a bit is set.
    """
    row_off, val_off, tvals, tlo, thi = T[0], T[4], T[5], T[6], T[7]
    dir_at, dir_n, dsingle = T[9], T[10], T[17]
    n_s = s1 - s0
    for j in range(n_s):
        keep[j] = 0
        undecided[j] = 0
    for q in range(rules.shape[0]):
        r = rules[q]
        bit = np.int64(1) << np.int64(q)
        gb = 6 * r
        gk = G[gb]
        open_r = all_open or (rlo[r] == OPEN_LO and rhi[r] == OPEN_HI)
        a = G[gb + 1]
        fast = open_r and (gk == 1 or gk == 3 or gk == 5 or gk == 7)
        fast = fast and gv[r, 2] == 1 and fgroup[a] == 1
        if fast and gk >= 5:
            ta = G[gb + 5] & 0xFFFFFFFF
            fast = (
                fgroup[G[gb + 2]] == 1
                and dir_at[ta] >= 0
                and tlo[ta] == OPEN_LO
                and thi[ta] == OPEN_HI
            )
        if not fast:
            for j in range(n_s):
                keep[j] |= bit
                undecided[j] |= bit
            continue
        col = fcol[a]
        lo, hi = gv[r, 0], gv[r, 1]
        if gk < 5:
            for j in range(n_s):
                x = line_cols[col, s0 + j]
                if lo <= x <= hi:
                    keep[j] |= bit
            continue
        # x op table[key] (kinds 5 / 7): the key's only undated row; an interval miss or an
        # absent key never holds, any other key is left to the lister
        kcol = fcol[G[gb + 2]]
        ta = G[gb + 5] & 0xFFFFFFFF
        da = dir_at[ta]
        nd = dir_n[ta]
        vbase = val_off[ta] + (G[gb + 5] >> 32) * (row_off[ta + 1] - row_off[ta])
        gop = G[gb + 4]
        for j in range(n_s):
            x = line_cols[col, s0 + j]
            if x < lo or x > hi:
                continue
            key = line_cols[kcol, s0 + j]
            if key < 0 or key >= nd:  # also MISS: no row
                continue
            ds = dsingle[da + key]
            if ds < 0:
                keep[j] |= bit
                undecided[j] |= bit
                continue
            y = tvals[vbase + ds]
            if y == MISS:
                continue
            if _cmp_scalar(gop, 0, x, y) == 1:  # scalars only: inlining copies no array
                keep[j] |= bit


SMALL_SET = 16  # literal sets of up to this many members are scanned, not bisected
PAIR_TEMPLATE_MAX = 16  # claims of up to this many lines list their pairs from a template


@njit(cache=True, nogil=True)
def list_pairs(
    X: Any,
    rlo: Any,
    rhi: Any,
    all_open: bool,
    active: Any,
    dates: Any,
    line_code: Any,
    line_cols: Any,
    lset_off: Any,
    lset_vals: Any,
    fcol: Any,
    line_off: Any,
    T: Any,
    c0: int,
    c1: int,
    cs: int,
    nt0: int,
    poff: Any,
    tasks: Any,
) -> tuple[int, int]:
    """List the pair-rule tasks of claims ``c0 .. c1`` (phase 0 of a block of :func:`run_pack`).

    Rows ``(rule, item line, other line, table row or -1, packed key)`` in ``tasks``, in the order
    one claim's listing gives them (per line, per rule, per other line); the rows of claim ``c``
    are ``poff[c - c0] .. poff[c - c0 + 1]``.  Starts at claim ``cs`` with ``nt0`` rows listed
    (``cs == c0``, ``nt0 == 0`` for a new block).  Returns ``(c, nt)``: ``c == c1`` when done,
    else the claim whose rows might not fit in ``tasks`` (none of them written): grow ``tasks``
    to at least ``nt`` rows, keeping the first ``nt0`` ... see below, and call again from ``c``.
    Here ``nt`` is the rows listed before ``c`` plus the most ``c`` may need.

    No array is allocated or grown in the loop over claims: an array variable assigned in a loop
    costs atomic reference counting on every step (measured: ~9 ns per array per claim).

    Per claim, candidates first, then the exact table lookup of those that need one (guard kind
    2: the membership filter let them through; about 1 % of the pairs on the issue-4 workload).
    When the pack has one pair rule and it has a guard of kind 2 (the NCCI PTP shape), a claim of
    at most :data:`PAIR_TEMPLATE_MAX` lines is probed in one loop over its ordered line pairs
    taken from a template (the per-line filter block and hash computed first): the nested loops
    per line and rule cost a mispredicted exit per line, ~30 ns per line on that workload.
    """
    pair_always = X[3]
    pcand_off, pcand_rules, G, PB = X[6], X[7], X[8], X[9]
    row_off, tkeys, row_from, row_until, val_off, tvals = T[0], T[1], T[2], T[3], T[4], T[5]
    tlo, thi = T[6], T[7]
    dir_at, dir_n, fw_off, fw = T[9], T[10], T[13], T[14]
    hs_off, hs, hv = T[15], T[16], T[18]
    n_pcand = pcand_off.shape[0] - 1
    n_pair_always = pair_always.shape[0]
    # the one pair rule with a guard of kind 2, else -1 (every claim takes the general loops)
    one = -1
    if n_pair_always == 1 and pcand_rules.shape[0] == 0:
        one = pair_always[0]
    elif n_pair_always == 0 and pcand_rules.shape[0] > 0:
        one = pcand_rules[0]
        for q in range(pcand_rules.shape[0]):
            if pcand_rules[q] != one:
                one = -1
                break
    if one >= 0 and G[6 * one] != 2 and G[6 * one] != 12:
        one = -1
    # templates: the ordered pairs (a, b), a != b, of n lines at tpl_off[n] .. tpl_off[n + 1]
    tpl_off = np.zeros(PAIR_TEMPLATE_MAX + 2, dtype=np.int64)
    for n in range(PAIR_TEMPLATE_MAX + 1):
        tpl_off[n + 1] = tpl_off[n] + n * (n - 1)
    tpl_a = np.empty(tpl_off[PAIR_TEMPLATE_MAX + 1], dtype=np.int64)
    tpl_b = np.empty(tpl_off[PAIR_TEMPLATE_MAX + 1], dtype=np.int64)
    for n in range(PAIR_TEMPLATE_MAX + 1):
        t = tpl_off[n]
        for ia in range(n):
            for ib in range(n):
                if ia != ib:
                    tpl_a[t] = ia
                    tpl_b[t] = ib
                    t += 1
    # per claim, the most tasks it can give (one per ordered pair of lines and pair rule of the
    # line), and the largest claim: the per-claim buffers are sized once, before the loop
    pneed = np.zeros(c1 - cs, dtype=np.int64)
    max_n = 2
    max_need = 0
    for c in range(cs, c1):
        l0, l1 = line_off[c], line_off[c + 1]
        if not active[c] or l1 - l0 < 2:
            continue
        max_n = max(max_n, l1 - l0)
        if one >= 0:
            pneed[c - cs] = (l1 - l0) * (l1 - l0 - 1)
        else:
            for i in range(l0, l1):
                k = line_code[i]
                p = n_pair_always
                if 0 <= k < n_pcand:
                    p += pcand_off[k + 1] - pcand_off[k]
                pneed[c - cs] += p * (l1 - l0 - 1)
        max_need = max(max_need, pneed[c - cs])
    # per line of a claim: the filter probe of its pair key (word bits, bit mask; 0: missing),
    # and, on the template path, its own key's filter block (start, words; 0 words: no pairs)
    phw = np.empty(max_n, dtype=np.int64)
    pmk = np.empty(max_n, dtype=np.int64)
    pw0 = np.empty(max_n, dtype=np.int64)
    pnw = np.empty(max_n, dtype=np.int64)
    # a claim's candidates: rule, line, other line, 1 when the exact lookup decides
    cand = np.empty((max_need, 4), dtype=np.int64)
    nt = nt0
    for c in range(cs, c1):
        poff[c - c0] = nt
        if not active[c]:
            continue
        l0, l1 = line_off[c], line_off[c + 1]
        if l1 - l0 < 2:
            continue
        d = dates[c]
        need = pneed[c - cs]
        if nt + need > tasks.shape[0]:
            return c, nt + need
        nc = 0
        if one >= 0 and l1 - l0 <= PAIR_TEMPLATE_MAX:
            r = one
            if not all_open and not _effective(rlo[r], rhi[r], d):
                continue
            gb = 6 * r
            ta = G[gb + 1]
            pc1 = fcol[G[gb + 2]]
            pc2 = fcol[G[gb + 4]]
            fa = dir_at[ta]
            fn = dir_n[ta]
            if G[gb] == 12 and PB[8 * r + 4] >= 0:
                # the claim's values of the set field the bypass may read (its lines' modifiers,
                # contiguous, mostly one cache line): loaded while the claim's pairs are probed
                # (the offsets, read claim after claim, stream); list_pairs ~2 ns/line faster
                prefetch(lset_vals, lset_off[fcol[PB[8 * r + 4]], l0])
            any_first = 0  # some line's key is a first key of the table
            for q in range(l1 - l0):
                # the line's own key: its filter block (whether the rule applies to the line,
                # by the code index, is asked only of the pairs the filter lets through)
                pk1 = line_cols[pc1, l0 + q]
                if 0 <= pk1 < fn:  # also MISS
                    pw0[q] = fw_off[fa + pk1]
                    pnw[q] = fw_off[fa + pk1 + 1] - pw0[q]
                else:
                    pw0[q] = 0
                    pnw[q] = 0
                any_first |= pnw[q]
                # the line as the other line: the word and bits its key picks
                pk2 = line_cols[pc2, l0 + q]
                h = (pk2 & 0xFFFFFFFF) * HASH_MUL
                phw[q] = (h >> 32) & 0x7FFFFFFF
                pmk[q] = (
                    0
                    if pk2 == MISS
                    else (1 << ((h >> 58) & 63)) | (1 << ((h >> 52) & 63)) | (1 << ((h >> 46) & 63))
                )
            n = l1 - l0
            if any_first == 0:
                # no line's key starts a pair (a small table, as the bundled packs' PTP): no
                # probe of the claim's ordered pairs
                n = 0
            for t in range(tpl_off[n], tpl_off[n + 1]):
                ia = tpl_a[t]
                ib = tpl_b[t]
                nw = pnw[ia]
                mk = pmk[ib]
                w = fw[pw0[ia] + (phw[ib] & (nw - 1))] if nw > 0 else 0
                if w & mk == mk and mk != 0:
                    k = line_code[l0 + ia]
                    if n_pair_always == 0 and not (
                        0 <= k < n_pcand and pcand_off[k + 1] > pcand_off[k]
                    ):
                        continue  # the rule is not indexed by the line's code
                    cand[nc, 0] = r
                    cand[nc, 1] = l0 + ia
                    cand[nc, 2] = l0 + ib
                    cand[nc, 3] = 1
                    nc += 1
                    # the exact lookup's hash slot (below, after this loop): its load starts now
                    ppk1 = line_cols[pc1, l0 + ia]
                    ppk2 = line_cols[pc2, l0 + ib] & 0xFFFFFFFF
                    ps0 = hs_off[fa + ppk1]
                    pns = hs_off[fa + ppk1 + 1] - ps0
                    ps = ps0 + _hash_slot(ppk2, pns)
                    prefetch(hs, 2 * ps)
                    if G[gb] == 12:
                        prefetch(hv, ps)  # the row's first value, for the bypass below
        else:
            p_col = -1  # the column phw / pmk hold for this claim
            for i in range(l0, l1):
                k = line_code[i]
                n_pc = pcand_off[k + 1] - pcand_off[k] if 0 <= k < n_pcand else 0
                for q in range(n_pair_always + n_pc):
                    if q < n_pair_always:
                        r = pair_always[q]
                    else:
                        r = pcand_rules[pcand_off[k] + q - n_pair_always]
                    if not all_open and not _effective(rlo[r], rhi[r], d):
                        continue
                    gb = 6 * r
                    if G[gb] != 2 and G[gb] != 12:
                        # guard kind 4 (engine.compiled._same_field_pair): only the other lines
                        # whose column value equals this line's, both present
                        eq = fcol[G[gb + 1]] if G[gb] == 4 else -1
                        xi = line_cols[eq, i] if eq >= 0 else 0
                        if xi == MISS:
                            continue
                        for j in range(l0, l1):
                            if j != i and (eq < 0 or line_cols[eq, j] == xi):
                                cand[nc, 0] = r
                                cand[nc, 1] = i
                                cand[nc, 2] = j
                                cand[nc, 3] = 0
                                nc += 1
                        continue
                    # guard kind 2 (engine.compiled._guard): table ``ta`` has the pair (item
                    # key, other key) effective on the claim's date; the compiled program does
                    # not check it again.  The membership filter here (the probe of each other
                    # line computed once per claim), the exact lookup below
                    ta = G[gb + 1]
                    pk1 = line_cols[fcol[G[gb + 2]], i]
                    if pk1 < 0 or pk1 >= dir_n[ta]:  # also MISS
                        continue
                    w0 = fw_off[dir_at[ta] + pk1]
                    nw = fw_off[dir_at[ta] + pk1 + 1] - w0
                    if nw == 0:
                        continue
                    pc2 = fcol[G[gb + 4]]
                    if pc2 != p_col:
                        p_col = pc2
                        for j in range(l0, l1):
                            pk2 = line_cols[pc2, j]
                            if pk2 == MISS:
                                phw[j - l0] = 0
                                pmk[j - l0] = 0
                            else:
                                h = (pk2 & 0xFFFFFFFF) * HASH_MUL
                                phw[j - l0] = (h >> 32) & 0x7FFFFFFF
                                pmk[j - l0] = (
                                    (1 << ((h >> 58) & 63))
                                    | (1 << ((h >> 52) & 63))
                                    | (1 << ((h >> 46) & 63))
                                )
                    for j in range(l0, l1):
                        mk = pmk[j - l0]
                        w = fw[w0 + (phw[j - l0] & (nw - 1))]
                        if w & mk != mk or mk == 0 or j == i:
                            continue
                        cand[nc, 0] = r
                        cand[nc, 1] = i
                        cand[nc, 2] = j
                        cand[nc, 3] = 1
                        nc += 1
        # the candidates in order: the exact lookup (:func:`pair_find` written out, no helper
        # copying arrays) for those the filter let through; the row found seeds the
        # interpreter's table memo
        for q in range(nc):
            r = cand[q, 0]
            i = cand[q, 1]
            j = cand[q, 2]
            if cand[q, 3] == 0:
                tasks[nt, 0] = r
                tasks[nt, 1] = i
                tasks[nt, 2] = j
                tasks[nt, 3] = -1
                nt += 1
                continue
            gb = 6 * r
            ta = G[gb + 1]
            pk1 = line_cols[fcol[G[gb + 2]], i]
            pk2 = line_cols[fcol[G[gb + 4]], j]
            s0 = hs_off[dir_at[ta] + pk1]
            ns = hs_off[dir_at[ta] + pk1 + 1] - s0
            key = (pk1 << 32) | (pk2 & 0xFFFFFFFF)
            kl = pk2 & 0xFFFFFFFF
            pos = _hash_slot(kl, ns)
            row = -1
            vslot = -1  # the slot whose row was found (its first value is hv[vslot])
            flo, fhi = tlo[ta], thi[ta]
            while ns > 0:
                w = hs[2 * (s0 + pos)]
                if w == -1:
                    break
                if (w >> 32) & 0xFFFFFFFF == kl:
                    fi = row_off[ta] + (w & 0xFFFFFFFF)
                    wd = hs[2 * (s0 + pos) + 1]
                    fr = wd >> 32
                    un = wd & 0xFFFFFFFF
                    if un >= 0x80000000:
                        un -= 0x100000000
                    if d == MISS:
                        if fr == _I32_MIN and un == _I32_MAX and flo == OPEN_LO and fhi == OPEN_HI:
                            row = fi
                            vslot = s0 + pos
                            break
                    elif flo <= d <= fhi and fr <= d <= un:
                        row = fi
                        vslot = s0 + pos
                        break
                    # not effective by the slot's dates: the key's rows in order
                    fend = row_off[ta + 1]
                    while fi < fend and tkeys[fi] == key:
                        if d == MISS:
                            if (
                                row_from[fi] == OPEN_LO
                                and row_until[fi] == OPEN_HI
                                and flo == OPEN_LO
                                and fhi == OPEN_HI
                            ):
                                row = fi
                                break
                        elif flo <= d <= fhi and row_from[fi] <= d <= row_until[fi]:
                            row = fi
                            break
                        fi += 1
                    break
                pos += 1
                if pos == ns:
                    pos = 0
            if row < 0:
                continue
            if G[gb] == 12:
                # guard kind 12 (engine.compiled._pair_bypass): the rest of the condition, a
                # value of the row compared with a constant, or a constant in a code set of
                # either line (the NCCI modifier-indicator bypass), decided here: only firing
                # pairs become tasks
                pb = 8 * r
                fire = PB[pb] == 0
                if PB[pb + 2] >= 0:
                    if PB[pb + 1] == 0 and vslot >= 0:
                        v = hv[vslot]
                    else:
                        v = tvals[
                            val_off[ta]
                            + PB[pb + 1] * (row_off[ta + 1] - row_off[ta])
                            + row
                            - row_off[ta]
                        ]
                    y = PB[pb + 3]
                    if v != MISS and y != MISS:
                        fire = (v == y) if PB[pb + 2] == 0 else (v != y)
                if not fire and PB[pb + 4] >= 0:
                    col = fcol[PB[pb + 4]]
                    obj = i if PB[pb + 5] == 1 else j
                    m = PB[pb + 6]
                    hit = 0
                    if m != MISS:
                        for qs in range(lset_off[col, obj], lset_off[col, obj + 1]):
                            hit |= lset_vals[qs] == m
                    fire = hit != PB[pb + 7]
                if not fire:
                    continue
            tasks[nt, 0] = r
            tasks[nt, 1] = i
            tasks[nt, 2] = j
            tasks[nt, 3] = row
            tasks[nt, 4] = key
            nt += 1
    poff[c1 - c0] = nt
    return c1, nt


@njit(cache=True, nogil=True)
def run_pack(
    P: Any,
    X: Any,
    active: Any,
    dates: Any,
    line_code: Any,
    B: Any,
    S: Any,
    L: Any,
    T: Any,
    I: Any,  # noqa: E741
    work: Any,
    out: Any,
    redo: Any,
) -> int:
    """Evaluate a pack's kernel rules on every active claim; findings go to ``out`` rows.

    A row is ``(claim, rule, branch (local index), item, other)`` with item/other the local line or
    diagnosis positions (-1 when unused).  Returns the number of findings (if larger than
    ``out.shape[0]`` only the first rows were written: call again with a larger ``out``).
    ``redo[c]`` is set when claim ``c`` needs the reference evaluator.

    One call evaluates the whole batch: per claim the (rule, subject) tasks are listed first (claim
    rules, diagnosis rules per diagnosis, per line the unindexed line rules and the rules indexed by
    the line's procedure code, then pair rules per other line), then one inlined interpreter loop
    runs them, so no array is passed to a function per task.  Claims go in blocks of
    :data:`PHASE_BLOCK`, each in two phases: the pair rules of every claim of the block (their rows
    kept aside), then the other rules, each claim's pair rows copied after its own rows.  The pair
    rules' random table probes and the other rules' arrays then do not evict each other claim by
    claim (one pass: ~20 % slower on the issue-4 workload).

    Rows come claim by claim, each claim's pair rows last.  Within a claim, the line tasks whose
    guard is the whole condition (kinds 3 / 7 / 9 / 11) write their rows while listed, before the
    rows of the interpreted tasks; ``evaluate`` orders edits itself (``_ordered``).
    """
    code, br_pc, br_fires, rb_off, rlo, rhi = P
    claim_rules, dx_rules, line_always, pair_always = X[0], X[1], X[2], X[3]
    cand_off, cand_rules, pcand_rules, G = X[4], X[5], X[7], X[8]
    claim_cols, line_cols, dx_cols, cset_off, cset_vals, lset_off, lset_vals, fgroup, fcol = B[:9]
    line_off, dx_off = B[9], B[10]
    sbytes, soff = S
    mem_off, mem, rng_off, rng_lo, rng_hi, pre_off, pre, str_order = L
    row_off, tkeys, row_from, row_until, val_off, tvals, tlo, thi = T[:8]
    dir_at, dir_n, dir_off, filt_at, fw_off, fw = T[9:15]
    hs_off, hs = T[15], T[16]
    env = I[2]  # ICD-10-CM releases: the code arrays are read by _call_memo
    pdate = env[1] if env.shape[0] > 1 else MISS
    n_rel = env[2] if env.shape[0] > 2 else 0  # ICD-10-CM releases (see compiled._icd_arrays)
    stack, sidx, send, sstore = work
    n_cand = cand_off.shape[0] - 1
    # the most rules indexed by one code: a bound on a claim's line tasks without a loop
    max_cand = 0
    for k in range(n_cand):
        max_cand = max(max_cand, cand_off[k + 1] - cand_off[k])
    n_claim_rules = claim_rules.shape[0]
    n_dx_rules = dx_rules.shape[0]
    n_line_always = line_always.shape[0]
    n_pair_always = pair_always.shape[0]
    has_pairs = n_pair_always > 0 or pcand_rules.shape[0] > 0  # else phase 0 has nothing to do
    tasks = np.empty((1024, 5), dtype=np.int64)
    # a block's pair tasks (list_pairs) and each claim's first row in them
    ptask = np.empty((1024, 5), dtype=np.int64)
    poff = np.zeros(min(PHASE_BLOCK, active.shape[0]) + 1, dtype=np.int64)
    all_open = True  # no rule has an effective window: skip the per-task date check
    for r in range(rlo.shape[0]):
        if rlo[r] != OPEN_LO or rhi[r] != OPEN_HI:
            all_open = False
    gv = guard_intervals(G, rlo.shape[0])  # guards of kinds 1 and 3 as intervals
    smemo = np.zeros(soff.shape[0], dtype=np.uint8)  # per interned string, see OP_CALL
    # per (interned string, ICD-10-CM release) when there are several releases
    rmemo = np.zeros(soff.shape[0] * n_rel if n_rel > 1 else 1, dtype=np.uint8)
    # the unindexed line rules each line of a window of MASK_BLOCK claims keeps (line_masks),
    # sized for the largest window before the loop
    use_lm = 0 < n_line_always <= 63
    lw_max = 1
    for b0 in range(0, active.shape[0] if use_lm else 0, PHASE_BLOCK):
        b1 = min(b0 + PHASE_BLOCK, active.shape[0])
        for w0 in range(b0, b1, MASK_BLOCK):
            lw_max = max(lw_max, line_off[min(w0 + MASK_BLOCK, b1)] - line_off[w0])
    lkeep = np.empty(lw_max, dtype=np.int64)
    lund = np.empty(lw_max, dtype=np.int64)
    mb_end = 0
    lw0 = 0
    n = 0
    # claims in blocks of PHASE_BLOCK, each block in two phases: 0 the pair rules of its claims
    # (rows kept in ``pbuf``), 1 the other rules, each claim's pair rows copied after its own
    # rows.  The pair rules' table probes and the other rules' arrays
    # then do not evict each other's cache lines claim by claim.
    n_claims = active.shape[0]
    pbuf = np.empty((1024, 5), dtype=np.int64)  # at least a block's pair tasks
    pstart = np.zeros(min(PHASE_BLOCK, n_claims) + 1, dtype=np.int64)  # a block's pair rows
    npb = 0
    # the block (first claim, size), phase and claim of each step, advanced without a division
    blk0 = 0
    bsz = min(PHASE_BLOCK, n_claims)
    ph = 0
    c = -1
    step = 0
    lp_c = 0  # the block's claim list_pairs goes on from (blk0 + bsz: listed) and rows so far
    lp_nt = 0
    # The buffers (tasks, ptask, pbuf) are never assigned inside the loop over claims: an array
    # variable assigned in a loop costs atomic reference counting on every step (measured ~9 ns
    # per array per step).  When one is too small the step stops before it has written anything
    # (``resume``), the outer loop grows it, and the same step runs again.
    resume = False
    grow_t = 0
    grow_p = 0
    grow_b = 0
    while True:
        if grow_t > 0:
            tasks = np.empty((grow_t, 5), dtype=np.int64)
            grow_t = 0
        if grow_p > 0:
            grown = np.empty((grow_p, 5), dtype=np.int64)
            grown[:lp_nt] = ptask[:lp_nt]
            ptask = grown
            grow_p = 0
        if grow_b > 0:
            pbuf = np.empty((grow_b, 5), dtype=np.int64)  # grown before any row of the block
            grow_b = 0
        while resume or step < 2 * n_claims:
            if resume:
                resume = False  # the same step again, its buffer grown
            else:
                step += 1
                c += 1
                if c == blk0 + bsz:
                    if ph == 0:
                        ph = 1
                        c = blk0
                    else:
                        ph = 0
                        blk0 += bsz
                        bsz = min(PHASE_BLOCK, n_claims - blk0)
                        lp_c = blk0
                        lp_nt = 0
            if ph == 0:
                if c == blk0:
                    npb = 0
                    if has_pairs and lp_c < blk0 + bsz:
                        lp_c, got = list_pairs(
                            X, rlo, rhi, all_open, active, dates, line_code, line_cols,
                            lset_off, lset_vals, fcol, line_off, T, blk0, blk0 + bsz, lp_c, lp_nt,
                            poff, ptask,
                        )  # fmt: skip
                        if lp_c < blk0 + bsz:  # ptask is full: keep its rows, grow, go on
                            lp_nt = poff[lp_c - blk0]
                            grow_p = max(2 * ptask.shape[0], got)
                            resume = True
                            break
                        lp_nt = got
                    if lp_nt > pbuf.shape[0]:
                        grow_b = max(2 * pbuf.shape[0], lp_nt)
                        resume = True
                        break
                pstart[c - blk0] = npb
                pstart[c - blk0 + 1] = npb
            elif use_lm and c >= mb_end:
                # the next window of claims: its lines' masks, one pass per unindexed line rule
                mb_end = min(c + MASK_BLOCK, blk0 + bsz)
                lw0 = line_off[c]
                line_masks(
                    line_always, lw0, line_off[mb_end], line_cols, G, gv, fgroup, fcol, rlo, rhi,
                    all_open, T, lkeep, lund,
                )  # fmt: skip
            if not active[c]:
                continue
            l0, l1 = line_off[c], line_off[c + 1]
            if ph == 0 and (not has_pairs or poff[c - blk0 + 1] == poff[c - blk0]):
                continue  # no pair task (most claims): no pair row
            d = dates[c]
            x0, x1 = dx_off[c], dx_off[c + 1]
            # -- list the tasks: (rule, item (global line / diagnosis index or -1), other) --
            need = 0
            if ph == 1:
                need = (
                    n_claim_rules + n_dx_rules * (x1 - x0) + (n_line_always + max_cand) * (l1 - l0)
                )
                if need > tasks.shape[0]:
                    # the bound would grow the buffer: the exact count (a loop over the lines)
                    need = n_claim_rules + n_dx_rules * (x1 - x0) + n_line_always * (l1 - l0)
                    for i in range(l0, l1):
                        k = line_code[i]
                        if 0 <= k < n_cand:
                            need += cand_off[k + 1] - cand_off[k]
            else:
                need = poff[c - blk0 + 1] - poff[c - blk0]
            if need > tasks.shape[0]:
                grow_t = 2 * need
                resume = True
                break
            nt = 0
            for q in range(n_claim_rules if ph == 1 else 0):
                r = claim_rules[q]
                if all_open or _effective(rlo[r], rhi[r], d):
                    gb = 6 * r
                    if G[gb] >= 8:
                        # guard kinds 8 / 9 (engine.compiled._call_guard): [not] a string built-in
                        # of claim fields, decided here as OP_CALL does (same memo); the other
                        # kinds of claim tasks are checked in the run loop
                        a = G[gb + 3]
                        x = claim_cols[fcol[a], c]
                        cok = 0
                        if x != MISS:
                            ca = G[gb + 1]
                            if ca == 0:
                                cm = smemo[x]
                                if cm & 16 == 0:
                                    cm = _call_memo(S, I, smemo, x, 0, x, 0)
                                cok = (cm >> 5) & 1
                            else:
                                a = G[gb + 4]
                                dt = claim_cols[fcol[a], c]
                                if dt != MISS:
                                    cb = 1 if ca == 1 else 4
                                    if n_rel > 1:
                                        rel = 0
                                        for rk in range(n_rel):
                                            if env[3 + rk] <= dt:
                                                rel = rk
                                        mi = x * n_rel + rel
                                        cm = rmemo[mi]
                                        if cm & cb == 0:
                                            cm = _call_memo(S, I, rmemo, mi, ca, x, rel)
                                    else:
                                        cm = smemo[x]
                                        if cm & cb == 0:
                                            cm = _call_memo(S, I, smemo, x, ca, x, 0)
                                    cok = 1 if cm & (2 * cb) != 0 else 0
                        if cok == G[gb + 2]:  # the negated result (b = 1) is false
                            continue
                    tasks[nt, 0] = r
                    tasks[nt, 1] = -1
                    tasks[nt, 2] = -1
                    tasks[nt, 3] = -1
                    nt += 1
            n_claim_tasks = nt
            # diagnosis and line rules: a failing guard of kind 1 (engine.compiled._guard) drops the
            # task here (the interpreter loop checks guards again, for claim and pair tasks)
            for q in range(n_dx_rules if ph == 1 else 0):
                r = dx_rules[q]
                if all_open or _effective(rlo[r], rhi[r], d):
                    gb = 6 * r
                    for k in range(x0, x1):
                        if G[gb] >= 8:
                            # guard kinds 8 / 9: as for claim tasks, of claim or diagnosis fields
                            a = G[gb + 3]
                            x = claim_cols[fcol[a], c] if fgroup[a] == 0 else dx_cols[fcol[a], k]
                            cok = 0
                            if x != MISS:
                                ca = G[gb + 1]
                                if ca == 0:
                                    cm = smemo[x]
                                    if cm & 16 == 0:
                                        cm = _call_memo(S, I, smemo, x, 0, x, 0)
                                    cok = (cm >> 5) & 1
                                else:
                                    a = G[gb + 4]
                                    col = fcol[a]
                                    dt = claim_cols[col, c] if fgroup[a] == 0 else dx_cols[col, k]
                                    if dt != MISS:
                                        cb = 1 if ca == 1 else 4
                                        if n_rel > 1:
                                            rel = 0
                                            for rk in range(n_rel):
                                                if env[3 + rk] <= dt:
                                                    rel = rk
                                            mi = x * n_rel + rel
                                            cm = rmemo[mi]
                                            if cm & cb == 0:
                                                cm = _call_memo(S, I, rmemo, mi, ca, x, rel)
                                        else:
                                            cm = smemo[x]
                                            if cm & cb == 0:
                                                cm = _call_memo(S, I, smemo, x, ca, x, 0)
                                        cok = 1 if cm & (2 * cb) != 0 else 0
                            if cok == G[gb + 2]:
                                continue
                        elif G[gb] & 1 == 1:
                            a = G[gb + 1]
                            col = fcol[a]
                            x = claim_cols[col, c] if fgroup[a] == 0 else dx_cols[col, k]
                            if gv[r, 2] == 1:
                                if x < gv[r, 0] or x > gv[r, 1]:
                                    continue
                            else:
                                res = _cmp_scalar(G[gb + 4], G[gb + 5], x, G[gb + 3])
                                if res == 2:
                                    res = _order_result(
                                        G[gb + 4], str_cmp(sbytes, soff, x, G[gb + 3])
                                    )
                                if res == 0:
                                    continue
                        tasks[nt, 0] = r
                        tasks[nt, 1] = k
                        tasks[nt, 2] = -1
                        tasks[nt, 3] = -1
                        nt += 1
            n_dx_tasks = nt
            if ph == 0:
                # the pair tasks :func:`list_pairs` listed for the block
                for q in range(poff[c - blk0], poff[c - blk0 + 1]):
                    for e in range(5):
                        tasks[nt, e] = ptask[q, e]
                    nt += 1
            for i in range(l0, l1 if ph == 1 else l0):
                # the unindexed rules the line's masks keep (none: the indexed rules only, so
                # the loop's trip count is the same for most lines), then the indexed rules
                m = lkeep[i - lw0] if use_lm else -1
                u = lund[i - lw0] if use_lm else -1
                k = line_code[i]
                n_lc = cand_off[k + 1] - cand_off[k] if 0 <= k < n_cand else 0
                for q in range(0 if m != 0 else n_line_always, n_line_always + n_lc):
                    if q < n_line_always:
                        r = line_always[q]
                        if use_lm:
                            if (m >> q) & 1 == 0:
                                continue
                            if (u >> q) & 1 == 0:  # decided by line_masks: keep it
                                tasks[nt, 0] = r
                                tasks[nt, 1] = i
                                tasks[nt, 2] = -1
                                tasks[nt, 3] = -1
                                nt += 1
                                continue
                    else:
                        r = cand_rules[cand_off[k] + q - n_line_always]
                    if not all_open and not _effective(rlo[r], rhi[r], d):
                        continue
                    gb = 6 * r
                    if G[gb] & 1 == 1 and G[gb] < 8:  # the common kinds first
                        a = G[gb + 1]
                        col = fcol[a]
                        x = claim_cols[col, c] if fgroup[a] == 0 else line_cols[col, i]
                        if gv[r, 2] == 1:
                            if x < gv[r, 0] or x > gv[r, 1]:
                                continue
                        else:
                            res = _cmp_scalar(G[gb + 4], G[gb + 5], x, G[gb + 3])
                            if res == 2:
                                res = _order_result(G[gb + 4], str_cmp(sbytes, soff, x, G[gb + 3]))
                            if res == 0:
                                continue
                        if G[gb] >= 5:
                            # guard kinds 5 / 7 (engine.compiled._table_get_guard): x op
                            # table[key] exactly, the row found as OP_TABLE_GET does
                            # (:func:`_find` written out)
                            a = G[gb + 2]
                            key = (
                                claim_cols[fcol[a], c] if fgroup[a] == 0 else line_cols[fcol[a], i]
                            )
                            ta = G[gb + 5] & 0xFFFFFFFF
                            y = MISS
                            if key != MISS:
                                fa, fb = row_off[ta], row_off[ta + 1]
                                da = dir_at[ta]
                                if da >= 0:
                                    if key < 0 or key >= dir_n[ta]:
                                        fb = fa
                                    else:
                                        fb = fa + dir_off[da + key + 1]
                                        fa = fa + dir_off[da + key]
                                fend = fb
                                while fa < fb:
                                    mid = (fa + fb) >> 1
                                    if tkeys[mid] < key:
                                        fa = mid + 1
                                    else:
                                        fb = mid
                                flo, fhi = tlo[ta], thi[ta]
                                while fa < fend and tkeys[fa] == key:
                                    if d == MISS:
                                        if (
                                            row_from[fa] == OPEN_LO
                                            and row_until[fa] == OPEN_HI
                                            and flo == OPEN_LO
                                            and fhi == OPEN_HI
                                        ):
                                            break
                                    elif flo <= d <= fhi and row_from[fa] <= d <= row_until[fa]:
                                        break
                                    fa += 1
                                if fa < fend and tkeys[fa] == key:
                                    n_rows = row_off[ta + 1] - row_off[ta]
                                    vc = G[gb + 5] >> 32
                                    y = tvals[val_off[ta] + vc * n_rows + fa - row_off[ta]]
                            if y == MISS:  # x is present (the interval check)
                                continue
                            if _cmp_scalar(G[gb + 4], 0, x, y) != 1:  # both present here
                                continue
                    elif G[gb] >= 10:
                        # guard kinds 10 / 11 (engine.compiled._set_guard): [not] a field of the
                        # claim's lines / diagnoses in a literal set, or a constant in a code set
                        sg = 0
                        a = G[gb + 3]
                        if G[gb + 1] == 0:
                            col = fcol[G[gb + 5]]
                            on_lines = G[gb + 4] == 0
                            sa, sz = (l0, l1) if on_lines else (x0, x1)
                            lo = mem_off[a]
                            hi = mem_off[a + 1]
                            for qs in range(sa, sz):
                                x = line_cols[col, qs] if on_lines else dx_cols[col, qs]
                                if hi - lo <= SMALL_SET:
                                    for j in range(lo, hi):
                                        sg |= mem[j] == x
                                elif x != MISS:
                                    ea = lo
                                    eb = hi
                                    while ea < eb:
                                        mid = (ea + eb) >> 1
                                        if mem[mid] < x:
                                            ea = mid + 1
                                        else:
                                            eb = mid
                                    if ea < hi and mem[ea] == x:
                                        sg = 1
                        elif a != MISS:
                            col = fcol[G[gb + 4]]
                            if fgroup[G[gb + 4]] == 3:
                                for qs in range(cset_off[col, c], cset_off[col, c + 1]):
                                    sg |= cset_vals[qs] == a
                            else:
                                for qs in range(lset_off[col, i], lset_off[col, i + 1]):
                                    sg |= lset_vals[qs] == a
                        if sg == G[gb + 2]:  # the value is sg, negated when b = 1: false here
                            continue
                    elif G[gb] >= 8:
                        # guard kinds 8 / 9: as for claim tasks, of claim or line fields
                        a = G[gb + 3]
                        x = claim_cols[fcol[a], c] if fgroup[a] == 0 else line_cols[fcol[a], i]
                        cok = 0
                        if x != MISS:
                            ca = G[gb + 1]
                            if ca == 0:
                                cm = smemo[x]
                                if cm & 16 == 0:
                                    cm = _call_memo(S, I, smemo, x, 0, x, 0)
                                cok = (cm >> 5) & 1
                            else:
                                a = G[gb + 4]
                                dt = (
                                    claim_cols[fcol[a], c]
                                    if fgroup[a] == 0
                                    else line_cols[fcol[a], i]
                                )
                                if dt != MISS:
                                    cb = 1 if ca == 1 else 4
                                    if n_rel > 1:
                                        rel = 0
                                        for rk in range(n_rel):
                                            if env[3 + rk] <= dt:
                                                rel = rk
                                        mi = x * n_rel + rel
                                        cm = rmemo[mi]
                                        if cm & cb == 0:
                                            cm = _call_memo(S, I, rmemo, mi, ca, x, rel)
                                    else:
                                        cm = smemo[x]
                                        if cm & cb == 0:
                                            cm = _call_memo(S, I, smemo, x, ca, x, 0)
                                    cok = 1 if cm & (2 * cb) != 0 else 0
                        if cok == G[gb + 2]:
                            continue
                    gk = G[gb]
                    if gk == 3 or gk == 7 or gk == 9 or gk == 11:
                        # the guard is the whole condition: the row now, no task (the run loop
                        # would only copy it; ~0.75 such rows per line at 10,000 rules)
                        if br_fires[rb_off[r]] != 0:
                            if n < out.shape[0]:
                                out[n, 0] = c
                                out[n, 1] = r
                                out[n, 2] = 0
                                out[n, 3] = i - l0
                                out[n, 4] = -1
                            n += 1
                        continue
                    tasks[nt, 0] = r
                    tasks[nt, 1] = i
                    tasks[nt, 2] = -1
                    tasks[nt, 3] = -1
                    nt += 1
            # -- run them --
            flag = 0
            memo_t = -1
            memo_key = 0
            memo_row = -1
            sidx[0] = c
            for t in range(nt):
                r = tasks[t, 0]
                sidx[1] = tasks[t, 1]
                sidx[2] = tasks[t, 2]
                if tasks[t, 3] >= 0:  # the lister found the pair's row (guard kind 2)
                    memo_t = G[6 * r + 1]
                    memo_key = tasks[t, 4]
                    memo_row = tasks[t, 3]
                # the rule's guard (kinds 1 and 3, see engine.compiled._guard), written out: an
                # inlined helper would copy (and reference count) its array arguments on every call;
                # the lister checked it already for diagnosis and line tasks
                gb = 6 * r
                gk = G[gb]
                if (gk == 1 or gk == 3) and (t < n_claim_tasks or sidx[2] >= 0):
                    a = G[gb + 1]
                    g = fgroup[a]
                    col = fcol[a]
                    if g == 0:
                        x = claim_cols[col, c]
                    elif g == 1:
                        x = line_cols[col, sidx[G[gb + 2]]]
                    else:
                        x = dx_cols[col, sidx[G[gb + 2]]]
                    if gv[r, 2] == 1:
                        if x < gv[r, 0] or x > gv[r, 1]:
                            continue
                    else:
                        res = _cmp_scalar(G[gb + 4], G[gb + 5], x, G[gb + 3])
                        if res == 2:
                            res = _order_result(G[gb + 4], str_cmp(sbytes, soff, x, G[gb + 3]))
                        if res == 0:
                            continue
                hit = -1
                b_lo = rb_off[r]
                b_hi = rb_off[r + 1]
                if gk == 3 or gk == 7 or gk == 9 or gk >= 11:  # the guard is the whole condition
                    hit = b_lo
                    b_hi = b_lo
                for b in range(b_lo, b_hi):
                    pc = br_pc[b]
                    sp = -1
                    while True:
                        op = code[pc, 0]
                        a = code[pc, 1]
                        if op == OP_CMP_FC:
                            g = fgroup[a]
                            col = fcol[a]
                            if g == 0:
                                x = claim_cols[col, c]
                            elif g == 1:
                                x = line_cols[col, sidx[code[pc, 2]]]
                            else:
                                x = dx_cols[col, sidx[code[pc, 2]]]
                            y = code[pc, 3]
                            cop = code[pc, 4]
                            kind = code[pc, 5]
                            sp += 1
                            if x == MISS or y == MISS:
                                stack[sp] = 0
                            elif cop == 0:
                                stack[sp] = 1 if x == y else 0
                            elif cop == 1:
                                stack[sp] = 1 if x != y else 0
                            elif kind == 2:
                                stack[sp] = 0
                            elif kind == 1:
                                stack[sp] = _order_result(cop, str_cmp(sbytes, soff, x, y))
                            else:
                                stack[sp] = _order_result(cop, -1 if x < y else (1 if x > y else 0))
                        elif op == OP_JF:
                            if stack[sp] != 1:
                                stack[sp] = 0
                                pc = a
                                continue
                            sp -= 1
                        elif op == OP_HALT:
                            break
                        elif op == OP_FIELD:
                            g = fgroup[a]
                            col = fcol[a]
                            sp += 1
                            if g == 0:
                                stack[sp] = claim_cols[col, c]
                            elif g == 1:
                                stack[sp] = line_cols[col, sidx[code[pc, 2]]]
                            else:
                                stack[sp] = dx_cols[col, sidx[code[pc, 2]]]
                        elif op == OP_CONST:
                            sp += 1
                            stack[sp] = a
                        elif op == OP_TRUTH:
                            stack[sp] = 1 if stack[sp] == 1 else 0
                        elif op == OP_NOT:
                            stack[sp] = 0 if stack[sp] == 1 else 1
                        elif op == OP_JT:
                            if stack[sp] == 1:
                                pc = a
                                continue
                            sp -= 1
                        elif op == OP_INSET:
                            x = stack[sp]
                            hit_set = 0
                            if x != MISS:
                                lo = mem_off[a]
                                hi = mem_off[a + 1]
                                ea = lo
                                eb = hi
                                while ea < eb:
                                    mid = (ea + eb) >> 1
                                    if mem[mid] < x:
                                        ea = mid + 1
                                    else:
                                        eb = mid
                                found = ea < hi and mem[ea] == x
                                if not found and (
                                    rng_off[a + 1] > rng_off[a] or pre_off[a + 1] > pre_off[a]
                                ):
                                    # :func:`_in_ranges` written out (an inlined helper copies and
                                    # reference counts its eight array arguments on every call)
                                    if str_order[a] == 1:
                                        xs = soff[x]
                                        xn = soff[x + 1] - xs
                                        for k in range(rng_off[a], rng_off[a + 1]):
                                            # rng_lo[k] <= x (UTF-8 byte order)
                                            ps = soff[rng_lo[k]]
                                            pn = soff[rng_lo[k] + 1] - ps
                                            cmp = 0
                                            for q in range(min(pn, xn)):
                                                if sbytes[ps + q] != sbytes[xs + q]:
                                                    cmp = (
                                                        -1 if sbytes[ps + q] < sbytes[xs + q] else 1
                                                    )
                                                    break
                                            if cmp == 0 and pn != xn:
                                                cmp = -1 if pn < xn else 1
                                            if cmp > 0:
                                                continue
                                            # x <= rng_hi[k], or x starts with rng_hi[k]
                                            ps = soff[rng_hi[k]]
                                            pn = soff[rng_hi[k] + 1] - ps
                                            cmp = 0
                                            for q in range(min(pn, xn)):
                                                if sbytes[xs + q] != sbytes[ps + q]:
                                                    cmp = (
                                                        -1 if sbytes[xs + q] < sbytes[ps + q] else 1
                                                    )
                                                    break
                                            # equal on min(pn, xn) bytes: x <= hi or x
                                            # starts with hi
                                            if cmp <= 0:
                                                found = True
                                                break
                                        if not found:
                                            for k in range(pre_off[a], pre_off[a + 1]):
                                                ps = soff[pre[k]]
                                                pn = soff[pre[k] + 1] - ps
                                                if pn > xn:
                                                    continue
                                                same = True
                                                for q in range(pn):
                                                    if sbytes[xs + q] != sbytes[ps + q]:
                                                        same = False
                                                        break
                                                if same:
                                                    found = True
                                                    break
                                    else:
                                        for k in range(rng_off[a], rng_off[a + 1]):
                                            if (
                                                rng_lo[k] != MISS
                                                and rng_hi[k] != MISS
                                                and rng_lo[k] <= x <= rng_hi[k]
                                            ):
                                                found = True
                                                break
                                hit_set = 1 if found else 0
                            stack[sp] = hit_set
                        elif op == OP_CMP:
                            y = stack[sp]
                            sp -= 1
                            x = stack[sp]
                            kind = code[pc, 2]
                            if x == MISS or y == MISS:
                                stack[sp] = 0
                            elif a == 0:
                                stack[sp] = 1 if x == y else 0
                            elif a == 1:
                                stack[sp] = 1 if x != y else 0
                            elif kind == 2:
                                stack[sp] = 0
                            elif kind == 1:
                                stack[sp] = _order_result(a, str_cmp(sbytes, soff, x, y))
                            else:
                                stack[sp] = _order_result(a, -1 if x < y else (1 if x > y else 0))
                        elif op in (OP_TABLE_HAS, OP_TABLE_GET):
                            nk = code[pc, 2]
                            if nk == 1:
                                k1 = stack[sp]
                                k2 = 0
                                key = k1
                                ok = k1 != MISS
                            else:
                                k2 = stack[sp]
                                sp -= 1
                                k1 = stack[sp]
                                ok = k1 != MISS and k2 != MISS
                                key = (k1 << 32) | (k2 & 0xFFFFFFFF)
                            row = -1
                            if ok:
                                if a == memo_t and key == memo_key:
                                    row = memo_row
                                else:
                                    maybe = True
                                    if filt_at[a] >= 0:
                                        if k1 < 0 or k1 >= dir_n[a]:
                                            maybe = False
                                        else:
                                            w0 = fw_off[dir_at[a] + k1]
                                            nw = fw_off[dir_at[a] + k1 + 1] - w0
                                            if nw == 0:
                                                maybe = False
                                            else:
                                                h = (k2 & 0xFFFFFFFF) * HASH_MUL
                                                w = fw[w0 + ((h >> 32) & (nw - 1))]
                                                hb = (w >> ((h >> 58) & 63)) & (
                                                    w >> ((h >> 52) & 63)
                                                )
                                                hb &= w >> ((h >> 46) & 63)
                                                maybe = hb & 1 != 0
                                    if maybe and filt_at[a] >= 0:
                                        # :func:`pair_find` written out: the exact hash block of
                                        # first key k1 gives the row and its dates in one slot
                                        row = -1
                                        fa = row_off[a]
                                        s0 = hs_off[dir_at[a] + k1]
                                        ns = hs_off[dir_at[a] + k1 + 1] - s0
                                        kl = k2 & 0xFFFFFFFF
                                        pos = _hash_slot(kl, ns)
                                        while True:
                                            w = hs[2 * (s0 + pos)]
                                            if w == -1:
                                                break
                                            if (w >> 32) & 0xFFFFFFFF == kl:
                                                fi = fa + (w & 0xFFFFFFFF)
                                                wd = hs[2 * (s0 + pos) + 1]
                                                fr = wd >> 32
                                                un = wd & 0xFFFFFFFF
                                                if un >= 0x80000000:
                                                    un -= 0x100000000
                                                flo, fhi = tlo[a], thi[a]
                                                if d == MISS:
                                                    if (
                                                        fr == _I32_MIN
                                                        and un == _I32_MAX
                                                        and flo == OPEN_LO
                                                        and fhi == OPEN_HI
                                                    ):
                                                        row = fi
                                                        break
                                                elif flo <= d <= fhi and fr <= d <= un:
                                                    row = fi
                                                    break
                                                # not effective by the slot's dates: the key's rows
                                                # in order (the first one again: its slot dates may
                                                # be inexact)
                                                fend = row_off[a + 1]
                                                while fi < fend and tkeys[fi] == key:
                                                    if d == MISS:
                                                        if (
                                                            row_from[fi] == OPEN_LO
                                                            and row_until[fi] == OPEN_HI
                                                            and flo == OPEN_LO
                                                            and fhi == OPEN_HI
                                                        ):
                                                            row = fi
                                                            break
                                                    elif (
                                                        flo <= d <= fhi
                                                        and row_from[fi] <= d <= row_until[fi]
                                                    ):
                                                        row = fi
                                                        break
                                                    fi += 1
                                                break
                                            pos += 1
                                            if pos == ns:
                                                pos = 0
                                    elif maybe:
                                        # :func:`_find` written out (an inlined helper copies and
                                        # reference counts its array arguments on every call)
                                        fa, fb = row_off[a], row_off[a + 1]
                                        da = dir_at[a]
                                        if da >= 0:
                                            if k1 < 0 or k1 >= dir_n[a]:
                                                fb = fa
                                            else:
                                                fb = fa + dir_off[da + k1 + 1]
                                                fa = fa + dir_off[da + k1]
                                        fend = fb
                                        while fa < fb:
                                            mid = (fa + fb) >> 1
                                            if tkeys[mid] < key:
                                                fa = mid + 1
                                            else:
                                                fb = mid
                                        flo, fhi = tlo[a], thi[a]
                                        while fa < fend and tkeys[fa] == key:
                                            if d == MISS:
                                                if (
                                                    row_from[fa] == OPEN_LO
                                                    and row_until[fa] == OPEN_HI
                                                    and flo == OPEN_LO
                                                    and fhi == OPEN_HI
                                                ):
                                                    row = fa
                                                    break
                                            elif (
                                                flo <= d <= fhi
                                                and row_from[fa] <= d <= row_until[fa]
                                            ):
                                                row = fa
                                                break
                                            fa += 1
                                    memo_t = a
                                    memo_key = key
                                    memo_row = row
                            if op == OP_TABLE_HAS:
                                stack[sp] = 1 if row >= 0 else 0
                            elif row < 0:
                                stack[sp] = MISS
                            else:
                                n_rows = row_off[a + 1] - row_off[a]
                                stack[sp] = tvals[
                                    val_off[a] + code[pc, 3] * n_rows + row - row_off[a]
                                ]
                        elif op == OP_ELEM:
                            sp += 1
                            if sstore[a] == 3:
                                stack[sp] = cset_vals[sidx[a]]
                            else:
                                stack[sp] = lset_vals[sidx[a]]
                        elif op == OP_ARITH:
                            y = stack[sp]
                            sp -= 1
                            x = stack[sp]
                            if x == MISS or y == MISS:
                                stack[sp] = MISS
                            elif a == 0:
                                stack[sp] = x + y
                            elif a == 1:
                                stack[sp] = x - y
                            elif -_MUL_SAFE < x < _MUL_SAFE and -_MUL_SAFE < y < _MUL_SAFE:
                                prod = x * y
                                if prod % SCALE != 0:
                                    flag = 1
                                stack[sp] = prod // SCALE
                            else:
                                flag = 1
                                stack[sp] = MISS
                        elif op == OP_CONTAINS:
                            x = stack[sp]
                            hit_c = 0
                            if x != MISS:
                                g = fgroup[a]
                                col = fcol[a]
                                if g == 3:
                                    for q in range(cset_off[col, c], cset_off[col, c + 1]):
                                        if cset_vals[q] == x:
                                            hit_c = 1
                                            break
                                else:
                                    obj = sidx[code[pc, 2]]
                                    for q in range(lset_off[col, obj], lset_off[col, obj + 1]):
                                        if lset_vals[q] == x:
                                            hit_c = 1
                                            break
                            stack[sp] = hit_c
                        elif op == OP_PRESENT:
                            stack[sp] = 1 if stack[sp] != MISS else 0
                        elif op == OP_PRESENT_COLL:
                            sp += 1
                            if a == 0:
                                stack[sp] = 1 if l1 > l0 else 0
                            elif a == 1:
                                stack[sp] = 1 if x1 > x0 else 0
                            else:
                                f = code[pc, 2]
                                g = fgroup[f]
                                col = fcol[f]
                                if g == 3:
                                    stack[sp] = 1 if cset_off[col, c + 1] > cset_off[col, c] else 0
                                else:
                                    obj = sidx[code[pc, 3]]
                                    stack[sp] = (
                                        1 if lset_off[col, obj + 1] > lset_off[col, obj] else 0
                                    )
                        elif op == OP_CALL and a <= 2:
                            # the string built-ins (NPI check digit, ICD-10-CM validity) memoised
                            # per interned string in ``smemo``: bits 1/2 ICD-10-CM valid known/true,
                            # 4/8 billable, 16/32 NPI check digit; the memo read written out (an
                            # inlined helper copies, i.e. reference counts, its array arguments), a
                            # miss computed by :func:`_call_memo` (as for guards of kinds 8 / 9)
                            ok = 0
                            if a == 0:
                                x = stack[sp]
                                if x != MISS:
                                    m = smemo[x]
                                    if m & 16 == 0:
                                        m = _call_memo(S, I, smemo, x, 0, x, 0)
                                    ok = 1 if m & 32 != 0 else 0
                            else:
                                dt = stack[sp]
                                x = stack[sp - 1]
                                sp -= 1
                                if x != MISS and dt != MISS and n_rel > 1:
                                    # several releases: the date picks one; memoised per (string,
                                    # release) in ``rmemo`` (bits as in ``smemo``)
                                    rel = 0
                                    for rk in range(n_rel):
                                        if env[3 + rk] <= dt:
                                            rel = rk
                                    mi = x * n_rel + rel
                                    m = rmemo[mi]
                                    cb = 1 if a == 1 else 4
                                    if m & cb == 0:
                                        m = _call_memo(S, I, rmemo, mi, a, x, rel)
                                    ok = 1 if m & (2 * cb) != 0 else 0
                                elif x != MISS and dt != MISS:
                                    m = smemo[x]
                                    cb = 1 if a == 1 else 4
                                    if m & cb == 0:
                                        m = _call_memo(S, I, smemo, x, a, x, 0)
                                    ok = 1 if m & (2 * cb) != 0 else 0
                            stack[sp] = ok if code[pc, 2] == 0 else 1 - ok
                        elif op == OP_CALL:
                            # the other built-ins written out, for the same reason
                            if a == 8:
                                sp += 1
                                stack[sp] = pdate
                            elif a == 5:
                                x = stack[sp]
                                if x != MISS:
                                    cnt = 0
                                    for q in range(soff[x], soff[x + 1]):
                                        if (sbytes[q] & 0xC0) != 0x80:
                                            cnt += 1
                                    stack[sp] = cnt * SCALE
                            else:
                                y = stack[sp]
                                sp -= 1
                                x = stack[sp]
                                if x == MISS or y == MISS:
                                    stack[sp] = MISS
                                elif a == 3:
                                    stack[sp] = (y - x) * SCALE
                                elif a == 4:
                                    by, bm, bd = civil_from_days(x)
                                    oy, om, od = civil_from_days(y)
                                    age = oy - by
                                    if om < bm or (om == bm and od < bd):
                                        age -= 1
                                    stack[sp] = age * SCALE
                                else:
                                    q = (y if y >= 0 else -y) // SCALE
                                    if y < 0:
                                        q = -q
                                    r2 = x + q
                                    stack[sp] = r2 if DATE_MIN <= r2 <= DATE_MAX else MISS
                        elif op == OP_AGG_SUM_FIELD:
                            col = fcol[a]
                            tot = 0
                            if code[pc, 2] == 0:
                                for q in range(l0, l1):
                                    v = line_cols[col, q]
                                    if v != MISS:
                                        tot += v
                            else:
                                for q in range(x0, x1):
                                    v = dx_cols[col, q]
                                    if v != MISS:
                                        tot += v
                            sp += 1
                            stack[sp] = tot
                        elif op == OP_AGG_ANY_IN:
                            col = fcol[code[pc, 3]]
                            on_lines = code[pc, 2] == 0
                            start, end = (l0, l1) if on_lines else (x0, x1)
                            lo = mem_off[a]
                            hi = mem_off[a + 1]
                            hit_any = 0
                            if hi - lo <= SMALL_SET:
                                # a small set: every member against every item, no branch on
                                # the data (a bisection mispredicts about once per step); MISS
                                # is never a member
                                for q in range(start, end):
                                    x = line_cols[col, q] if on_lines else dx_cols[col, q]
                                    for j in range(lo, hi):
                                        hit_any |= mem[j] == x
                            else:
                                for q in range(start, end):
                                    x = line_cols[col, q] if on_lines else dx_cols[col, q]
                                    if x == MISS:
                                        continue
                                    ea = lo
                                    eb = hi
                                    while ea < eb:
                                        mid = (ea + eb) >> 1
                                        if mem[mid] < x:
                                            ea = mid + 1
                                        else:
                                            eb = mid
                                    if ea < hi and mem[ea] == x:
                                        hit_any = 1
                                        break
                            sp += 1
                            stack[sp] = hit_any
                        elif op == OP_AGG_COUNT:
                            # ``count(x in source)`` without a condition: the source's size, no loop
                            if a == 0:
                                cnt = l1 - l0
                            elif a == 1:
                                cnt = x1 - x0
                            else:
                                f = code[pc, 2]
                                col = fcol[f]
                                if fgroup[f] == 3:
                                    cnt = cset_off[col, c + 1] - cset_off[col, c]
                                else:
                                    obj = sidx[code[pc, 3]]
                                    cnt = lset_off[col, obj + 1] - lset_off[col, obj]
                            sp += 1
                            stack[sp] = cnt * SCALE
                        elif op == OP_AGG_START:
                            slot = code[pc, 2]
                            src = code[pc, 3]
                            if src == 0:
                                start, end = l0, l1
                            elif src == 1:
                                start, end = x0, x1
                            else:
                                f = code[pc, 4]
                                g = fgroup[f]
                                col = fcol[f]
                                sstore[slot] = g
                                if g == 3:
                                    start, end = cset_off[col, c], cset_off[col, c + 1]
                                else:
                                    obj = sidx[code[pc, 5]]
                                    start, end = lset_off[col, obj], lset_off[col, obj + 1]
                            sidx[slot] = start - 1
                            send[slot] = end
                            sp += 1
                            stack[sp] = 1 if a == 1 else 0
                        elif op == OP_AGG_NEXT:
                            sidx[a] += 1
                            if sidx[a] >= send[a]:
                                pc = code[pc, 2]
                                continue
                        elif op == OP_AGG_STEP:
                            v = 0
                            if a == 3:
                                v = stack[sp]
                                sp -= 1
                            ok = stack[sp] == 1
                            sp -= 1
                            if a == 0:
                                if ok:
                                    stack[sp] = 1
                                    pc = code[pc, 3]
                                    continue
                            elif a == 1:
                                if not ok:
                                    stack[sp] = 0
                                    pc = code[pc, 3]
                                    continue
                            elif a == 2:
                                if ok:
                                    stack[sp] += SCALE
                            elif ok and v != MISS:
                                stack[sp] += v
                            pc = code[pc, 2]
                            continue
                        pc += 1
                    if stack[0] == 1:
                        hit = b
                        break
                if hit >= 0 and br_fires[hit] != 0:
                    o3 = -1
                    o4 = -1
                    if t >= n_dx_tasks:
                        o3 = tasks[t, 1] - l0
                        o4 = tasks[t, 2] - l0 if tasks[t, 2] >= 0 else -1
                    elif t >= n_claim_tasks:
                        o3 = tasks[t, 1] - x0
                    if ph == 0:
                        pbuf[npb, 0] = c
                        pbuf[npb, 1] = r
                        pbuf[npb, 2] = hit - rb_off[r]
                        pbuf[npb, 3] = o3
                        pbuf[npb, 4] = o4
                        npb += 1
                    else:
                        if n < out.shape[0]:
                            out[n, 0] = c
                            out[n, 1] = r
                            out[n, 2] = hit - rb_off[r]
                            out[n, 3] = o3
                            out[n, 4] = o4
                        n += 1
            if ph == 0:
                pstart[c - blk0 + 1] = npb
            else:  # the claim's pair rows (phase 0) after its other rows
                for q in range(pstart[c - blk0], pstart[c - blk0 + 1]):
                    if n < out.shape[0]:
                        for e in range(5):
                            out[n, e] = pbuf[q, e]
                    n += 1
            if flag != 0:
                redo[c] = 1
        if not resume:
            break
    return n
