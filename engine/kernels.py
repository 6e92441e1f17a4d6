"""Generic Numba kernels: a stack machine over the bytecode of :mod:`engine.compiled`.

The kernels take arrays (grouped in tuples) only and are compiled once per process (``cache=True``
keeps them on disk across processes): loading or publishing a pack never triggers JIT compilation.
Every kernel's plain-Python twin is ``kernel.py_func``.  Only :mod:`engine.evaluate` calls them.

Array groups (all int64 unless noted):

* ``B`` batch: ``claim_cols, line_cols, dx_cols, claim_set_off, claim_set_vals, line_set_off,
  line_set_vals, field_group, field_col, line_off, dx_off``
* ``S`` strings: ``bytes (uint8), offsets`` of the interner
* ``L`` literal sets: ``mem_off, mem, rng_off, rng_lo, rng_hi, pre_off, pre, str_order``
* ``T`` tables: ``row_off, keys, row_from, row_until, val_off, vals, lo, hi``
* ``I`` ICD-10-CM: ``valid ids (sorted), billable ids (sorted), has_data (length 1)``
* ``P`` program: ``code (n, 6), branch_pc, branch_fires, rule_branch_off, rule_lo, rule_hi``
* ``X`` rule index: ``claim_rules, dx_rules, line_always, pair_always, cand_off, cand_rules,
  pair_cand_off, pair_cand_rules``
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from engine.values import DATE_MAX, DATE_MIN, MISS, OPEN_HI, OPEN_LO, SCALE

__all__ = [
    "civil_from_days",
    "eval_program",
    "icd_format",
    "in_literal_set",
    "npi_check",
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
OP_CALL = 15  # a = BuiltinId
OP_AGG_START = 16  # a = AggKind, b = slot, c = source kind, d = field, e = source slot
OP_AGG_NEXT = 17  # a = slot, b = exit
OP_AGG_STEP = 18  # a = AggKind, b = loop (the AGG_NEXT), c = exit
OP_TRUTH = 19  # top = 1 if top is true else 0

_MUL_SAFE = 3_037_000_499  # |a|, |b| below this: a * b fits in int64


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
    for k in range(n):
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
    """Code/value ``x`` (not missing) is a member, in a range or has a prefix of literal set ``s``."""
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
    for k in range(rng_off[s], rng_off[s + 1]):
        if str_order[s] == 1:
            if (
                str_cmp(sbytes, soff, rng_lo[k], x) <= 0
                and str_cmp(sbytes, soff, x, rng_hi[k]) <= 0
            ):
                return True
        elif rng_lo[k] != MISS and rng_hi[k] != MISS and rng_lo[k] <= x <= rng_hi[k]:
            return True
    if str_order[s] == 1:
        for k in range(pre_off[s], pre_off[s + 1]):
            if str_starts_with(sbytes, soff, x, pre[k]):
                return True
    return False


@njit(cache=True, nogil=True)
def table_find(T: Any, t: int, key: int, d: int) -> int:
    """The first row (in file order) of table ``t`` with ``key`` effective on day ``d``, or -1."""
    row_off, keys, row_from, row_until, _val_off, _vals, tlo, thi = T
    a, b = row_off[t], row_off[t + 1]
    while a < b:
        mid = (a + b) >> 1
        if keys[mid] < key:
            a = mid + 1
        else:
            b = mid
    end = row_off[t + 1]
    i = a
    while i < end and keys[i] == key:
        if d == MISS:
            if (
                row_from[i] == OPEN_LO
                and row_until[i] == OPEN_HI
                and tlo[t] == OPEN_LO
                and (thi[t] == OPEN_HI)
            ):
                return int(i)
        elif tlo[t] <= d <= thi[t] and row_from[i] <= d <= row_until[i]:
            return int(i)
        i += 1
    return -1


@njit(cache=True, nogil=True)
def _call(builtin: int, stack: Any, sp: int, S: Any, I: Any) -> int:  # noqa: E741
    """Apply built-in ``builtin`` to the top of the stack; returns the new stack pointer."""
    sbytes, soff = S
    if builtin == 0:
        x = stack[sp]
        stack[sp] = 1 if npi_check(sbytes, soff, x) else 0
        return sp
    if builtin == 1 or builtin == 2:
        dt = stack[sp]
        x = stack[sp - 1]
        sp -= 1
        ok = 0
        if x != MISS and dt != MISS and icd_format(sbytes, soff, x):
            valid, billable, has = I
            if has[0] == 0:
                ok = 1
            else:
                arr = valid if builtin == 1 else billable
                ok = 1 if _sorted_has(arr, 0, arr.shape[0], x) else 0
        stack[sp] = ok
        return sp
    if builtin == 5:
        x = stack[sp]
        if x != MISS:
            n = 0
            for k in range(soff[x], soff[x + 1]):
                if (sbytes[k] & 0xC0) != 0x80:
                    n += 1
            stack[sp] = n * SCALE
        return sp
    y = stack[sp]
    x = stack[sp - 1]
    sp -= 1
    if x == MISS or y == MISS:
        stack[sp] = MISS
        return sp
    if builtin == 3:
        stack[sp] = (y - x) * SCALE
    elif builtin == 4:
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
        r = x + q
        stack[sp] = r if DATE_MIN <= r <= DATE_MAX else MISS
    return sp


@njit(cache=True, nogil=True)
def _compare(op: int, kind: int, x: int, y: int, S: Any) -> int:
    if x == MISS or y == MISS:
        return 0
    if op == 0:
        return 1 if x == y else 0
    if op == 1:
        return 1 if x != y else 0
    if kind == 2:
        return 0
    if kind == 1:
        c = str_cmp(S[0], S[1], x, y)
    else:
        c = -1 if x < y else (1 if x > y else 0)
    if op == 2:
        return 1 if c < 0 else 0
    if op == 3:
        return 1 if c <= 0 else 0
    if op == 4:
        return 1 if c > 0 else 0
    return 1 if c >= 0 else 0


@njit(cache=True, nogil=True)
def eval_program(
    pc: int,
    code: Any,
    c: int,
    d: int,
    B: Any,
    S: Any,
    L: Any,
    T: Any,
    I: Any,  # noqa: E741
    stack: Any,
    sidx: Any,
    send: Any,
    sstore: Any,
    flag: Any,
) -> int:
    """Run the program at ``pc`` for claim ``c`` (day ``d``) with slots ``sidx``; the top value.

    ``flag[0]`` is set when arithmetic cannot be exact in fixed point (the caller re-evaluates the
    claim with the reference evaluator).
    """
    claim_cols, line_cols, dx_cols, cset_off, cset_vals, lset_off, lset_vals, fgroup, fcol = B[:9]
    line_off, dx_off = B[9], B[10]
    sp = -1
    sidx[0] = c
    while True:
        op = code[pc, 0]
        if op == OP_HALT:
            break
        a = code[pc, 1]
        if op == OP_CONST:
            sp += 1
            stack[sp] = a
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
        elif op == OP_ELEM:
            sp += 1
            if sstore[a] == 3:
                stack[sp] = cset_vals[sidx[a]]
            else:
                stack[sp] = lset_vals[sidx[a]]
        elif op == OP_NOT:
            stack[sp] = 0 if stack[sp] == 1 else 1
        elif op == OP_TRUTH:
            stack[sp] = 1 if stack[sp] == 1 else 0
        elif op == OP_JF:
            if stack[sp] != 1:
                stack[sp] = 0
                pc = a
                continue
            sp -= 1
        elif op == OP_JT:
            if stack[sp] == 1:
                pc = a
                continue
            sp -= 1
        elif op == OP_CMP:
            y = stack[sp]
            sp -= 1
            stack[sp] = _compare(a, code[pc, 2], stack[sp], y, S)
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
                p = x * y
                if p % SCALE != 0:
                    flag[0] = 1
                stack[sp] = p // SCALE
            else:
                flag[0] = 1
                stack[sp] = MISS
        elif op == OP_INSET:
            x = stack[sp]
            stack[sp] = 1 if x != MISS and in_literal_set(L, S, a, x) else 0
        elif op == OP_CONTAINS:
            x = stack[sp]
            hit = 0
            if x != MISS:
                g = fgroup[a]
                col = fcol[a]
                if g == 3:
                    for k in range(cset_off[col, c], cset_off[col, c + 1]):
                        if cset_vals[k] == x:
                            hit = 1
                            break
                else:
                    obj = sidx[code[pc, 2]]
                    for k in range(lset_off[col, obj], lset_off[col, obj + 1]):
                        if lset_vals[k] == x:
                            hit = 1
                            break
            stack[sp] = hit
        elif op == OP_TABLE_HAS or op == OP_TABLE_GET:
            nk = code[pc, 2]
            if nk == 1:
                k1 = stack[sp]
                key = k1
                ok = k1 != MISS
            else:
                k2 = stack[sp]
                sp -= 1
                k1 = stack[sp]
                ok = k1 != MISS and k2 != MISS
                key = (k1 << 32) | (k2 & 0xFFFFFFFF)
            row = table_find(T, a, key, d) if ok else -1
            if op == OP_TABLE_HAS:
                stack[sp] = 1 if row >= 0 else 0
            elif row < 0:
                stack[sp] = MISS
            else:
                row_off = T[0]
                n_rows = row_off[a + 1] - row_off[a]
                stack[sp] = T[5][T[4][a] + code[pc, 3] * n_rows + row - row_off[a]]
        elif op == OP_PRESENT:
            stack[sp] = 1 if stack[sp] != MISS else 0
        elif op == OP_PRESENT_COLL:
            sp += 1
            if a == 0:
                stack[sp] = 1 if line_off[c + 1] > line_off[c] else 0
            elif a == 1:
                stack[sp] = 1 if dx_off[c + 1] > dx_off[c] else 0
            else:
                f = code[pc, 2]
                g = fgroup[f]
                col = fcol[f]
                if g == 3:
                    stack[sp] = 1 if cset_off[col, c + 1] > cset_off[col, c] else 0
                else:
                    obj = sidx[code[pc, 3]]
                    stack[sp] = 1 if lset_off[col, obj + 1] > lset_off[col, obj] else 0
        elif op == OP_CALL:
            sp = _call(a, stack, sp, S, I)
        elif op == OP_AGG_START:
            slot = code[pc, 2]
            src = code[pc, 3]
            if src == 0:
                start, end = line_off[c], line_off[c + 1]
            elif src == 1:
                start, end = dx_off[c], dx_off[c + 1]
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
    return int(stack[0])


@njit(cache=True, nogil=True)
def _effective(lo: int, hi: int, d: int) -> bool:
    if d == MISS:
        return lo == OPEN_LO and hi == OPEN_HI
    return lo <= d <= hi


@njit(cache=True, nogil=True)
def _run_rule(
    r: int, c: int, d: int, P: Any, B: Any, S: Any, L: Any, T: Any, I: Any, work: Any, flag: Any
) -> int:
    """The index of the first branch of rule ``r`` whose condition holds, or -1."""
    code, br_pc, _fires, rb_off = P[0], P[1], P[2], P[3]
    stack, sidx, send, sstore = work
    for b in range(rb_off[r], rb_off[r + 1]):
        if eval_program(br_pc[b], code, c, d, B, S, L, T, I, stack, sidx, send, sstore, flag) == 1:
            return b
    return -1


@njit(cache=True, nogil=True)
def _emit(out: Any, n: int, c: int, r: int, b: int, item: int, other: int) -> int:
    if n < out.shape[0]:
        out[n, 0] = c
        out[n, 1] = r
        out[n, 2] = b
        out[n, 3] = item
        out[n, 4] = other
    return n + 1


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

    A row is ``(claim, rule, branch (global index), item, other)`` with item/other the local line or
    diagnosis positions (-1 when unused).  Returns the number of findings (if larger than
    ``out.shape[0]`` only the first rows were written: call again with a larger ``out``).
    ``redo[c]`` is set when claim ``c`` needs the reference evaluator.
    """
    br_fires, rb_off, rlo, rhi = P[2], P[3], P[4], P[5]
    claim_rules, dx_rules, line_always, pair_always = X[0], X[1], X[2], X[3]
    cand_off, cand_rules, pcand_off, pcand_rules = X[4], X[5], X[6], X[7]
    line_off, dx_off = B[9], B[10]
    sidx = work[1]
    flag = np.zeros(1, dtype=np.int64)
    n_cand = cand_off.shape[0] - 1
    n = 0
    for c in range(active.shape[0]):
        if not active[c]:
            continue
        d = dates[c]
        flag[0] = 0
        for r in claim_rules:
            if _effective(rlo[r], rhi[r], d):
                b = _run_rule(r, c, d, P, B, S, L, T, I, work, flag)
                if b >= 0 and br_fires[b]:
                    n = _emit(out, n, c, r, b - rb_off[r], -1, -1)
        for r in dx_rules:
            if _effective(rlo[r], rhi[r], d):
                for k in range(dx_off[c], dx_off[c + 1]):
                    sidx[1] = k
                    b = _run_rule(r, c, d, P, B, S, L, T, I, work, flag)
                    if b >= 0 and br_fires[b]:
                        n = _emit(out, n, c, r, b - rb_off[r], k - dx_off[c], -1)
        l0, l1 = line_off[c], line_off[c + 1]
        for i in range(l0, l1):
            code_id = line_code[i]
            has_cand = 0 <= code_id < n_cand
            for pass_ in range(2):
                if pass_ == 0:
                    rules = line_always
                elif has_cand:
                    rules = cand_rules[cand_off[code_id] : cand_off[code_id + 1]]
                else:
                    break
                for r in rules:
                    if not _effective(rlo[r], rhi[r], d):
                        continue
                    sidx[1] = i
                    b = _run_rule(r, c, d, P, B, S, L, T, I, work, flag)
                    if b >= 0 and br_fires[b]:
                        n = _emit(out, n, c, r, b - rb_off[r], i - l0, -1)
            for pass_ in range(2):
                if pass_ == 0:
                    rules = pair_always
                elif has_cand:
                    rules = pcand_rules[pcand_off[code_id] : pcand_off[code_id + 1]]
                else:
                    break
                for r in rules:
                    if not _effective(rlo[r], rhi[r], d):
                        continue
                    for j in range(l0, l1):
                        if j == i:
                            continue
                        sidx[1] = i
                        sidx[2] = j
                        b = _run_rule(r, c, d, P, B, S, L, T, I, work, flag)
                        if b >= 0 and br_fires[b]:
                            n = _emit(out, n, c, r, b - rb_off[r], i - l0, j - l0)
        if flag[0] != 0:
            redo[c] = 1
    return n
