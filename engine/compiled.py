"""CompiledPack: a pack lowered to arrays for the generic kernels in :mod:`engine.kernels`.

Each branch condition becomes a postfix program (short-circuit ``and`` / ``or`` by jumps, aggregates
as loops) in one ``(n, 6)`` int64 code array.  Literal sets become sorted member arrays plus ranges
and prefixes; tables become key-sorted arrays (two keys packed as ``id1 << 32 | id2``) searched by
bisection.  Line and pair rules are indexed by the item line's procedure code when every firing
branch is a conjunction with ``line.procedure_code == c`` / ``in {..}`` (members only) / a table
key.

Rules using a construct the kernel does not implement (comparisons of code sets, ``contains`` on a
computed collection, aggregates over a computed source, tables with more than two keys or numeric
keys in a two-key table, values the fixed-point encoding cannot hold, ``value_amount``) are listed
in :attr:`CompiledPack.fallback_rules` and evaluated by the reference evaluator.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from dsl.ir import (
    SLOT_CLAIM,
    SLOT_ITEM,
    SLOT_OTHER,
    AggKind,
    Aggregate,
    And,
    Arith,
    Branch,
    BuiltinId,
    Call,
    CmpOp,
    Compare,
    Const,
    Constant,
    Contains,
    ElementRef,
    Expr,
    FieldInfo,
    FieldRef,
    FieldRoot,
    InSet,
    IsPresent,
    Not,
    Or,
    Rule,
    Scope,
    TableGet,
    TableHas,
    ValueType,
)
from engine import kernels as K
from engine.batch import Interner
from engine.pack import PackData
from engine.tables import LoadedTable
from engine.values import MISS, OPEN_HI, OPEN_LO, SCALE, date_to_days, encode_number

__all__ = ["CompiledPack", "compile_pack"]

I64 = npt.NDArray[np.int64]
_STR_TYPES: Final = (ValueType.CODE, ValueType.TEXT)


_SCALAR: Final = (
    ValueType.BOOL,
    ValueType.CODE,
    ValueType.TEXT,
    ValueType.NUMBER,
    ValueType.MONEY,
    ValueType.DATE,
)
_SETS: Final = (ValueType.CODE_SET, ValueType.NUMBER_SET)
"""Set-valued fields: flat values with per-object offsets in the batch (numbers fixed point)."""
_MIRROR: Final = {CmpOp.LT: CmpOp.GT, CmpOp.LE: CmpOp.GE, CmpOp.GT: CmpOp.LT, CmpOp.GE: CmpOp.LE}


# instructions whose result is always 0 or 1 (an ``and`` / ``or`` ending on one needs no
# OP_TRUTH; its jumps leave 0 or 1 too); OP_CALL of the boolean string built-ins as well
_BOOLEAN_OPS: Final = frozenset(
    (
        K.OP_NOT,
        K.OP_CMP,
        K.OP_CMP_FC,
        K.OP_INSET,
        K.OP_CONTAINS,
        K.OP_TABLE_HAS,
        K.OP_PRESENT,
        K.OP_PRESENT_COLL,
        K.OP_AGG_ANY_IN,
        K.OP_TRUTH,
    )
)


class _Unsupported(Exception):
    """The kernel cannot evaluate this construct; the rule falls back to the reference."""


def _encode_const(interner: Interner, c: Constant, *, raw_codes: bool = False) -> int:
    v = c.value
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, str):
        if not v and not raw_codes:
            return MISS
        return interner.intern(v)
    if isinstance(v, Decimal):
        enc = encode_number(v)
        if enc is None:
            raise _Unsupported("number not exact in fixed point")
        return enc
    return date_to_days(v)


def _encode_value(interner: Interner, t: ValueType, v: object) -> int:
    if v is None or v == "":
        return MISS
    return _encode_const(interner, Constant(t, v))  # type: ignore[arg-type]


@dataclass(slots=True)
class _Tables:
    ok: list[bool]
    T: tuple[Any, ...]
    first_keys: list[I64]


def _compile_tables(tables: tuple[LoadedTable, ...], interner: Interner) -> _Tables:
    row_off = [0]
    keys: list[I64] = []
    froms: list[I64] = []
    untils: list[I64] = []
    val_off: list[int] = []
    vals: list[I64] = []
    los: list[int] = []
    his: list[int] = []
    ok: list[bool] = []
    first: list[I64] = []
    n_keys: list[int] = []
    dir_at: list[int] = []
    dir_n: list[int] = []
    dirs: list[int] = []
    single: list[I64] = []
    filt_at: list[int] = []
    fw_off: list[I64] = []
    words: list[I64] = []
    hs_off: list[I64] = []
    slots: list[I64] = []
    slot_vals: list[I64] = []
    n_words = 0
    n_slots = 0
    n_vals = 0
    for lt in tables:
        t = lt.table
        try:
            enc_keys = [_encode_column(interner, col) for col in lt.keys]
            if len(enc_keys) not in (1, 2):
                raise _Unsupported("table with more than two keys")
            if len(enc_keys) == 2 and any(
                k.type not in (*_STR_TYPES, ValueType.DATE, ValueType.BOOL) for k in lt.keys
            ):
                raise _Unsupported("numeric key in a two-key table")
            valid = np.ones(lt.n_rows, dtype=np.bool_)
            for k in enc_keys:
                valid &= k != MISS
            if len(enc_keys) == 1:
                key = enc_keys[0]
            else:
                key = (enc_keys[0] << 32) | (enc_keys[1] & 0xFFFFFFFF)
            enc_vals = [_encode_column(interner, col) for col in lt.values]
            table_ok = True
        except _Unsupported:
            table_ok = False
            valid = np.zeros(lt.n_rows, dtype=np.bool_)
            key = np.zeros(lt.n_rows, dtype=np.int64)
            enc_keys = [key]
            enc_vals = [np.zeros(lt.n_rows, dtype=np.int64) for _ in lt.values]
        idx = np.flatnonzero(valid)
        order = idx[np.argsort(key[idx], kind="stable")]
        keys.append(key[order])
        froms.append(lt.row_from[order])
        untils.append(lt.row_until[order])
        val_off.append(n_vals)
        for v in enc_vals:
            vals.append(v[order])
            n_vals += order.shape[0]
        row_off.append(row_off[-1] + order.shape[0])
        # directory: rows of each first-key id (interned codes are small non-negative ints)
        filt_at.append(-1)
        if table_ok and order.shape[0] and lt.keys[0].type in _STR_TYPES:
            k1 = keys[-1] >> 32 if len(enc_keys) == 2 else keys[-1]
            n_dir = int(k1[-1]) + 1
            dir_at.append(len(dirs))
            dir_n.append(n_dir)
            starts = np.searchsorted(k1, np.arange(n_dir + 1, dtype=np.int64))
            dirs.extend(starts.tolist())
            single.append(
                _single_rows(starts, froms[-1], untils[-1])
                if len(enc_keys) == 1
                else np.full(n_dir + 1, -1, dtype=np.int64)
            )
            # membership prefilter of pair tables: per first key a block of words
            if len(enc_keys) == 2:
                filt_at[-1] = 1
                fo, fw = _pair_filter(k1, keys[-1] & 0xFFFFFFFF, np.diff(starts), n_words)
                n_words += fw.shape[0]
                words.append(fw)
                v0 = vals[-len(enc_vals)] if enc_vals else np.full_like(keys[-1], MISS)
                ho, hs, hv = _pair_hash(keys[-1], froms[-1], untils[-1], v0, n_dir, n_slots)
                n_slots += hs.shape[0] // 2
                slots.append(hs)
                slot_vals.append(hv)
            else:
                fo = np.zeros(n_dir + 1, dtype=np.int64)
                ho = np.zeros(n_dir + 1, dtype=np.int64) + n_slots
            fw_off.append(fo)
            hs_off.append(ho)
        else:
            dir_at.append(-1)
            dir_n.append(0)
        n_keys.append(len(enc_keys))
        los.append(OPEN_LO if t.effective_from is None else date_to_days(t.effective_from))
        his.append(OPEN_HI if t.effective_until is None else date_to_days(t.effective_until))
        ok.append(table_ok)
        first.append(np.unique(enc_keys[0][order]) if table_ok else np.zeros(0, dtype=np.int64))
    cat = _cat
    return _Tables(
        ok,
        (
            np.asarray(row_off, dtype=np.int64),
            cat(keys),
            cat(froms),
            cat(untils),
            np.asarray(val_off, dtype=np.int64),
            cat(vals),
            np.asarray(los, dtype=np.int64),
            np.asarray(his, dtype=np.int64),
            np.asarray(n_keys, dtype=np.int64),
            np.asarray(dir_at, dtype=np.int64),
            np.asarray(dir_n, dtype=np.int64),
            np.asarray(dirs, dtype=np.int64),
            np.asarray(filt_at, dtype=np.int64),
            _cat(fw_off),
            _cat(words) if words else np.zeros(1, dtype=np.int64),
            _cat(hs_off),
            _cat(slots) if slots else np.full(2, -1, dtype=np.int64),
            _cat(single) if single else np.full(1, -1, dtype=np.int64),
            _cat(slot_vals) if slot_vals else np.full(1, MISS, dtype=np.int64),
        ),
        first,
    )


def _single_rows(starts: I64, froms: I64, untils: I64) -> I64:
    """Per directory entry of a one-key table: its key's only undated row, else -1.

    The row is relative to the table's first row, and set when it is the key's only row and in
    force on every date (no row dates); aligned with the directory (``T[11]``, ``T[17]``).

    Why: most limit tables (MUE, fee schedules) hold one undated row per code, and the lister's
    ``field op table[key]`` guard (kinds 5 / 7) then reads the value with one load instead of a
    search of the key's rows and a check of their dates (``run_pack``: MUE rule alone ~24 ->
    ~13 ns/line on the issue-4 workload).
    """
    n = np.diff(starts)
    out = np.full(starts.shape[0], -1, dtype=np.int64)
    one = np.flatnonzero(n == 1)
    rows = starts[one]
    open_ = (froms[rows] == OPEN_LO) & (untils[rows] == OPEN_HI)
    out[one[open_]] = rows[open_]
    return out


FILTER_BITS: Final = 16
"""Filter bits per table row (three of them set per row): about 0.5 % false positives."""


def _pair_filter(k1: I64, k2: I64, counts: I64, base: int) -> tuple[I64, I64]:
    """Per-first-key membership filter of a pair table (see :func:`engine.kernels.pair_maybe`).

    ``k1``/``k2`` are the rows' keys (sorted by ``k1``), ``counts[k]`` the rows of first key
    ``k``.  Returns word offsets aligned with the directory (``off[k] .. off[k + 1]``: the block
    of ``k``, a power of two words, empty when ``k`` has no rows; ``base`` added) and the words
    (int64).  A row sets three bits of one word of its first key's block, chosen by the hash of its
    second key.
    """
    need = (counts * FILTER_BITS + 63) // 64
    nw = np.where(counts > 0, 1 << np.ceil(np.log2(np.maximum(need, 1))).astype(np.int64), 0)
    off = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(nw, out=off[1:])
    words = np.zeros(int(off[-1]), dtype=np.int64)
    with np.errstate(over="ignore"):
        h = k2 * np.int64(K.HASH_MUL)
    at = off[k1] + ((h >> 32) & (nw[k1] - 1))
    one = np.int64(1)
    bits = (one << ((h >> 58) & 63)) | (one << ((h >> 52) & 63)) | (one << ((h >> 46) & 63))
    np.bitwise_or.at(words, at, bits)
    return off + base, words


_I32_MIN: Final = -(2**31)
_I32_MAX: Final = 2**31 - 1


def _pair_hash(
    keys: I64, froms: I64, untils: I64, v0: I64, n_dir: int, base: int
) -> tuple[I64, I64, I64]:
    """Per-first-key exact hash of a pair table (see :func:`engine.kernels.pair_find`).

    ``keys`` are the table's packed keys (sorted), ``froms`` / ``untils`` its rows' dates, ``v0``
    its first value column.  Returns slot offsets aligned with the directory (``base`` added), the
    slots, two int64 words each, and per slot its row's first value (``T[18]``: the pair lister
    loads it beside the slot, where reading the value array after the slot was a second memory
    miss per pair, ~5 ns/line of the NCCI rule on the issue-4 workload).
    Each distinct key gets one slot (its first row) in the block of its first key: ``n + n // 2 +
    1`` slots for ``n`` keys (load <= 2/3), linear probing from the multiply-shift hash of the
    second key.  Placed in rounds: every unplaced key whose slot is free is placed (one per slot),
    the others move on one slot; a key only passes occupied slots, so probing finds it.
    """
    n = keys.shape[0]
    first = np.ones(n, dtype=np.bool_)
    first[1:] = keys[1:] != keys[:-1]
    rows = np.flatnonzero(first)
    k1 = keys[rows] >> 32
    k2 = keys[rows] & 0xFFFFFFFF
    nd = np.bincount(k1, minlength=n_dir).astype(np.int64)
    ns = np.where(nd > 0, nd + nd // 2 + 1, 0)
    off = np.zeros(n_dir + 1, dtype=np.int64)
    np.cumsum(ns, out=off[1:])
    with np.errstate(over="ignore"):
        h = k2 * np.int64(K.HASH_MUL)
    size = ns[k1]
    probe = (((h >> 32) & 0xFFFFFFFF) * size) >> 32
    start = off[k1]
    at = np.empty(rows.shape[0], dtype=np.int64)
    owner = np.full(int(off[-1]), -1, dtype=np.int64)  # the key placed in each slot
    pend = np.arange(rows.shape[0])
    while pend.shape[0]:
        pos = start[pend] + probe[pend]
        free = pend[owner[pos] < 0]
        fpos = start[free] + probe[free]
        owner[fpos] = free  # one of the keys aiming at a free slot gets it
        won = owner[pos] == pend
        at[pend[won]] = pos[won]
        pend = pend[~won]
        probe[pend] += 1
        probe[pend] %= size[pend]
    fr, un = froms[rows], untils[rows]
    # int32 dates (OPEN_LO / OPEN_HI as the int32 extremes); a row whose dates do not fit gets an
    # empty window, so the kernel checks its int64 dates
    exact = ((fr == OPEN_LO) | ((fr > _I32_MIN) & (fr < _I32_MAX))) & (
        (un == OPEN_HI) | ((un > _I32_MIN) & (un < _I32_MAX))
    )
    fr32 = np.where(exact, np.where(fr == OPEN_LO, _I32_MIN, fr), _I32_MAX)
    un32 = np.where(exact, np.where(un == OPEN_HI, _I32_MAX, un), _I32_MIN)
    out = np.full(2 * int(off[-1]), -1, dtype=np.int64)
    with np.errstate(over="ignore"):
        out[2 * at] = (k2 << 32) | rows
        out[2 * at + 1] = (fr32 << 32) | (un32 & 0xFFFFFFFF)
    vals = np.full(int(off[-1]), MISS, dtype=np.int64)
    vals[at] = v0[rows]
    return off + base, out, vals


def _cat(arrays: list[I64]) -> I64:
    return np.concatenate(arrays).astype(np.int64) if arrays else np.zeros(0, dtype=np.int64)


def _encode_column(interner: Interner, col: Any) -> I64:
    vocab = np.fromiter(
        (_encode_value(interner, col.type, v) for v in col.vocab),
        dtype=np.int64,
        count=len(col.vocab),
    )
    return vocab[col.ids] if len(vocab) else np.zeros(0, dtype=np.int64)


class _Emitter:
    def __init__(self, pack: PackData, interner: Interner, tables: _Tables) -> None:
        self.pack = pack
        self.interner = interner
        self.tables = tables
        self.code: list[list[int]] = []
        self.fields: set[int] = set()
        self.set_slots: dict[int, int] = {}
        self.known: set[int] = set()
        """ids of atoms true on every task of the rule being emitted (the rule index checked
        them, see :func:`_index`): not emitted as operands of an ``and``"""

    def emit(self, op: int, a: int = 0, b: int = 0, c: int = 0, d: int = 0, e: int = 0) -> int:
        self.code.append([op, a, b, c, d, e])
        return len(self.code) - 1

    def field(self, ref: FieldRef) -> FieldInfo:
        info = self.pack.rules.fields[ref.field]
        self.fields.add(info.id)
        return info

    def expr(self, e: Expr) -> None:
        if isinstance(e, Const):
            self.emit(
                K.OP_CONST, _encode_const(self.interner, self.pack.rules.constants[e.constant])
            )
        elif isinstance(e, FieldRef):
            info = self.field(e)
            if info.type not in (
                ValueType.BOOL,
                *_STR_TYPES,
                ValueType.NUMBER,
                ValueType.MONEY,
                ValueType.DATE,
            ):
                raise _Unsupported("collection used as a value")
            self.emit(K.OP_FIELD, info.id, e.slot)
        elif isinstance(e, ElementRef):
            if e.slot not in self.set_slots:
                raise _Unsupported("element of an unknown source")
            self.emit(K.OP_ELEM, e.slot)
        elif isinstance(e, Not):
            self.expr(e.operand)
            last = self.code[-1]
            if isinstance(e.operand, Call) and last[0] == K.OP_CALL and last[1] <= 2:
                last[2] ^= 1  # a boolean string built-in negates its own result
            else:
                self.emit(K.OP_NOT)
        elif isinstance(e, And | Or):
            ops = e.operands
            if isinstance(e, And) and self.known:
                ops = tuple(o for o in ops if id(o) not in self.known)
                if not ops:
                    self.emit(K.OP_CONST, 1)
                    return
            jumps = []
            for o in ops[:-1]:
                self.expr(o)
                jumps.append(self.emit(K.OP_JF if isinstance(e, And) else K.OP_JT))
            self.expr(ops[-1])
            last = self.code[-1]
            if last[0] not in _BOOLEAN_OPS and not (last[0] == K.OP_CALL and last[1] <= 2):
                self.emit(K.OP_TRUTH)  # not needed after an instruction that pushes 0 or 1
            for j in jumps:
                self.code[j][1] = len(self.code)
        elif isinstance(e, Compare):
            t = e.left.type
            if t in _STR_TYPES:
                kind = 1
            elif t is ValueType.BOOL:
                kind = 2
            elif t in (ValueType.NUMBER, ValueType.MONEY, ValueType.DATE):
                kind = 0
            else:
                raise _Unsupported("comparison of collections")
            fused = self._fused_compare(e, kind)
            if fused is not None:
                self.emit(K.OP_CMP_FC, *fused)
                return
            self.expr(e.left)
            self.expr(e.right)
            self.emit(K.OP_CMP, int(e.op), kind)
        elif isinstance(e, Arith):
            self.expr(e.left)
            self.expr(e.right)
            self.emit(K.OP_ARITH, int(e.op))
        elif isinstance(e, InSet):
            self.expr(e.operand)
            self.emit(K.OP_INSET, e.set)
        elif isinstance(e, Contains):
            coll = e.collection
            if not isinstance(coll, FieldRef) or coll.type not in _SETS:
                raise _Unsupported("contains on a computed collection")
            self._set_field(coll)
            self.expr(e.element)
            self.emit(K.OP_CONTAINS, coll.field, coll.slot)
        elif isinstance(e, TableHas | TableGet):
            if not self.tables.ok[e.table]:
                raise _Unsupported("table layout")
            for k in e.keys:
                self.expr(k)
            if isinstance(e, TableHas):
                self.emit(K.OP_TABLE_HAS, e.table, len(e.keys))
            else:
                self.emit(K.OP_TABLE_GET, e.table, len(e.keys), e.column)
        elif isinstance(e, IsPresent):
            op = e.operand
            if isinstance(op, FieldRef) and op.type in (ValueType.LINES, ValueType.DIAGNOSES):
                self.emit(K.OP_PRESENT_COLL, 0 if op.type is ValueType.LINES else 1)
            elif isinstance(op, FieldRef) and op.type in _SETS:
                self._set_field(op)
                self.emit(K.OP_PRESENT_COLL, 2, op.field, op.slot)
            elif op.type in (*_SETS, ValueType.LINES, ValueType.DIAGNOSES):
                raise _Unsupported("presence of a computed collection")
            else:
                self.expr(op)
                self.emit(K.OP_PRESENT)
        elif isinstance(e, Call):
            if e.builtin is BuiltinId.VALUE_AMOUNT:
                raise _Unsupported("value_amount reads value-code records")
            for arg in e.args:
                self.expr(arg)
            self.emit(K.OP_CALL, int(e.builtin))
        else:
            self._aggregate(e)

    def _fused_compare(self, e: Compare, kind: int) -> tuple[int, int, int, int, int] | None:
        """``field op constant`` (either order) as one instruction: field, slot, value, op, kind."""
        op = e.op
        if isinstance(e.left, FieldRef) and isinstance(e.right, Const):
            ref, const = e.left, e.right
        elif isinstance(e.right, FieldRef) and isinstance(e.left, Const):
            ref, const = e.right, e.left
            op = _MIRROR.get(op, op)
        else:
            return None
        info = self.field(ref)
        if info.type not in _SCALAR:
            raise _Unsupported("collection used as a value")
        value = _encode_const(self.interner, self.pack.rules.constants[const.constant])
        return info.id, ref.slot, value, int(op), kind

    def _fused_aggregate(self, e: Aggregate, kind: int) -> bool:
        """Emit aggregate ``e`` as one instruction if it has a fused shape; False if not.

        The shapes: ``sum(x.f for x in lines/diagnoses)`` and ``any(x.code in {members} ..)``
        (no loop of interpreted instructions).
        """
        root = FieldRoot.LINE if kind == 0 else FieldRoot.DIAGNOSIS

        def own(x: Expr) -> FieldInfo | None:
            if not isinstance(x, FieldRef) or x.slot != e.slot:
                return None
            info = self.pack.rules.fields[x.field]
            return info if info.root is root and info.type in _SCALAR else None

        if e.kind is AggKind.SUM and e.predicate is None and e.value is not None:
            info = own(e.value)
            if info is not None:
                self.fields.add(info.id)
                self.emit(K.OP_AGG_SUM_FIELD, info.id, kind)
                return True
        if e.kind is AggKind.ANY and isinstance(e.predicate, InSet):
            info = own(e.predicate.operand)
            ls = self.pack.rules.literal_sets[e.predicate.set]
            if info is not None and not ls.ranges and not ls.prefixes:
                self.fields.add(info.id)
                self.emit(K.OP_AGG_ANY_IN, e.predicate.set, kind, info.id)
                return True
        return False

    def _set_field(self, ref: FieldRef) -> None:
        info = self.field(ref)
        if info.root is FieldRoot.DIAGNOSIS:
            raise _Unsupported("diagnosis-level code set")

    def _aggregate(self, e: Aggregate) -> None:
        src = e.source
        if not isinstance(src, FieldRef):
            raise _Unsupported("aggregate over a computed source")
        if src.type is ValueType.LINES:
            kind, fid, sslot = 0, 0, 0
        elif src.type is ValueType.DIAGNOSES:
            kind, fid, sslot = 1, 0, 0
        elif src.type in _SETS:
            self._set_field(src)
            kind, fid, sslot = 2, src.field, src.slot
            self.set_slots[e.slot] = src.field
        else:
            raise _Unsupported("aggregate source")
        if e.kind is AggKind.COUNT and e.predicate is None:
            self.emit(K.OP_AGG_COUNT, kind, fid, sslot)  # the source's size: no loop
            return
        if kind < 2 and self._fused_aggregate(e, kind):
            return
        self.emit(K.OP_AGG_START, int(e.kind), e.slot, kind, fid, sslot)
        loop = self.emit(K.OP_AGG_NEXT, e.slot, 0)
        if e.predicate is None:
            self.emit(K.OP_CONST, 1)
        else:
            self.expr(e.predicate)
        if e.kind is AggKind.SUM:
            if e.value is None:
                self.emit(K.OP_CONST, 0)
            else:
                self.expr(e.value)
        step = self.emit(K.OP_AGG_STEP, int(e.kind), loop, 0)
        end = len(self.code)
        self.code[loop][2] = end
        self.code[step][3] = end


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, And):
        return [x for o in e.operands for x in _conjuncts(o)]
    return [e]


def _table_codes(pack: PackData, tables: _Tables, guard: list[int]) -> set[int] | None:
    """The codes a kind 5 / 7 guard's table holds when its key is the line's procedure code."""
    info = pack.rules.fields[guard[2]]
    if info.root is not FieldRoot.LINE or info.attribute != ("procedure_code",):
        return None
    got = set(tables.first_keys[guard[5] & 0xFFFFFFFF].tolist())
    got.discard(MISS)
    return got


def _is_item_code(pack: PackData, e: Expr) -> bool:
    if not isinstance(e, FieldRef) or e.slot != SLOT_ITEM:
        return False
    info = pack.rules.fields[e.field]
    return info.root is FieldRoot.LINE and info.attribute == ("procedure_code",)


def _index(
    pack: PackData, rule: Rule, interner: Interner, tables: _Tables
) -> tuple[set[int] | None, Expr | None]:
    """Procedure-code ids on which the rule can fire (None: any line), and an exact conjunct.

    The conjunct (else None) is the one of the only firing branch the ids come from when it holds
    exactly on them: ``line.procedure_code in {members}`` or ``== c``.  The kernel lists the rule
    only for lines with those codes, so that conjunct is true on every task and is not emitted
    (:attr:`_Emitter.known`).
    """
    out: set[int] = set()
    n_fires = sum(1 for br in rule.branches if br.fires)
    exact_atom: Expr | None = None
    for br in rule.branches:
        if not br.fires:
            continue
        best: set[int] | None = None
        best_atom: Expr | None = None
        for atom in _conjuncts(br.condition):
            got: set[int] | None = None
            exact = False
            if isinstance(atom, InSet) and _is_item_code(pack, atom.operand):
                ls = pack.rules.literal_sets[atom.set]
                if not ls.ranges and not ls.prefixes:
                    consts = pack.rules.constants
                    got = {_encode_const(interner, consts[m]) for m in ls.members}
                    exact = True
            elif isinstance(atom, Compare) and atom.op is CmpOp.EQ:
                for x, y in ((atom.left, atom.right), (atom.right, atom.left)):
                    if _is_item_code(pack, x) and isinstance(y, Const):
                        got = {_encode_const(interner, pack.rules.constants[y.constant])}
                        exact = True
            elif (
                isinstance(atom, TableHas)
                and tables.ok[atom.table]
                and _is_item_code(pack, atom.keys[0])
            ):
                got = set(tables.first_keys[atom.table].tolist())
            if got is None and isinstance(atom, Compare):
                got = _table_get_keys(pack, atom, tables)
            if got is not None and (best is None or len(got) < len(best)):
                best = got
                best_atom = atom if exact else None
        if best is None:
            return None, None
        out |= best
        if n_fires == 1 and MISS not in best:
            exact_atom = best_atom
    out.discard(MISS)
    return out, exact_atom


def _table_get_keys(pack: PackData, atom: Compare, tables: _Tables) -> set[int] | None:
    """First keys of a table read by ``x op table[line.procedure_code, ..]``, else None.

    A comparison with a missing operand is false, so the atom only holds on those codes.
    """
    for side in (atom.left, atom.right):
        if (
            isinstance(side, TableGet)
            and tables.ok[side.table]
            and _is_item_code(pack, side.keys[0])
        ):
            return set(tables.first_keys[side.table].tolist())
    return None


_GUARD_RANK: Final = {CmpOp.EQ: 0, CmpOp.LT: 1, CmpOp.LE: 1, CmpOp.GT: 1, CmpOp.GE: 1, CmpOp.NE: 2}
_CALL_RANK: Final = 1.5
"""Rank of a guard of kind 8 (:func:`_call_guard`): after ``field op constant`` / ``field op
table[key]`` with ``==`` or an order (a column read and an interval or one row; usually the
more selective), before ``!=`` (nearly always true: the call would then run in the interpreter
on nearly every task)."""
_BOUND_SLOTS: Final = {
    Scope.CLAIM: (SLOT_CLAIM,),
    Scope.DIAGNOSIS: (SLOT_CLAIM, SLOT_ITEM),
    Scope.LINE: (SLOT_CLAIM, SLOT_ITEM),
    Scope.LINE_PAIR: (SLOT_CLAIM, SLOT_ITEM, SLOT_OTHER),
}


def _guard(em: _Emitter, rule: Rule, known: Expr | None = None) -> tuple[list[int], Expr | None]:
    """A necessary condition of the rule's only firing branch the task lister checks inline.

    ``[kind, a, b, c, d, e]``: kind 0 none; 1 ``field a of slot b`` compared (op d, kind e) with
    constant c (a conjunct ``field op constant``, or ``field op table[..]`` with c the smallest /
    largest value of the table column); 2 table a has the pair (field b of the item line, field d
    of the other line) on the claim's date (a conjunct ``table.has(x, y)`` of a pair rule: the
    lister checks it exactly, filter then hash, so :func:`_build` does not emit it).  When it
    fails, no firing branch can hold, so the task is skipped (exceptions before it cannot matter).
    Kind 3 is kind 1 that is also sufficient: the rule has one branch and its condition is the
    guard's ``field op constant`` and ``known`` (the conjunct the rule index checks, see
    :func:`_index`), so a task that passes the guard fires without running the interpreter.
    Kind 4 (pair rules): ``line.f == other.f``, field a (:func:`_same_field_pair`).  Kind 5 (line
    rules): ``field op table[key]`` with one key, checked exactly by the lister
    (:func:`_table_get_guard`); kind 7 is kind 5 that is also sufficient (as 3 is to 1).  Kind 8
    (claim, diagnosis and line rules): ``[not] npi_valid(x)`` / ``icd10cm_valid(x, date)`` /
    ``icd10cm_billable(x, date)`` of fields, checked exactly by the lister with the interpreter's
    memo (:func:`_call_guard`); kind 9 is kind 8 that is also sufficient.  Kind 10 (line
    rules): ``[not] any(x in claim.lines / claim.diagnoses: x.f in {members})``
    or ``[not] constant in set field``, checked exactly by the lister (:func:`_set_guard`); kind
    11 is kind 10 that is also sufficient.

    Also returns the conjunct a guard of kind 1, 3, 5, 7, 8, 9, 10 or 11 is (None: a table bound
    or no guard): every task runs only after its guard held, so :func:`_build` does not emit it
    either.
    """
    fires = [br for br in rule.branches if br.fires]
    if len(fires) != 1:
        return _shared_pair_guard(em, rule, fires), None
    slots = _BOUND_SLOTS[rule.scope]
    cond = fires[0].condition
    try:
        guard, atom = _guard_atoms(em, cond, slots, rule.scope)
    except _Unsupported:
        return [0] * 6, None
    rest = [a for a in _conjuncts(cond) if a is not known]
    if guard[0] in (1, 5, 8, 10) and len(rule.branches) == 1 and len(rest) == 1 and rest[0] is atom:
        guard[0] += 1 if guard[0] >= 8 else 2
    return guard, (atom if guard[0] in (1, 3, 5, 7, 8, 9, 10, 11) else None)


def _shared_pair_guard(em: _Emitter, rule: Rule, fires: list[Branch]) -> list[int]:
    """Guard kind 2 for a pair rule with several firing branches, else no guard.

    Why: the NCCI rule written as a ``decide`` table (the bundled Medicare pack's MCR-0001: fire on
    indicator "0", or on "1" without a modifier) has two firing branches, so it had no guard and
    every ordered pair of a claim's lines ran in the interpreter, quadratic in the lines.  When
    every firing branch has a conjunct ``table.has(x, y)`` or ``table[x, y].column == constant``
    (a present code: the comparison is false when the row is missing) for the same table and
    keys, no branch can fire without the row, so the lister may list only the pairs whose row it
    finds.  The programs are unchanged: each branch still checks its own conjuncts (the lister's
    row seeds the interpreter's table memo).
    """
    if rule.scope is not Scope.LINE_PAIR or not fires:
        return [0] * 6
    found: list[list[int]] = []
    for br in fires:
        got = None
        for atom in _conjuncts(br.condition):
            keys: tuple[Expr, ...] | None = None
            table = -1
            if isinstance(atom, TableHas):
                keys, table = atom.keys, atom.table
            elif isinstance(atom, Compare) and atom.op is CmpOp.EQ:
                for x, y in ((atom.left, atom.right), (atom.right, atom.left)):
                    const = em.pack.rules.constants[y.constant] if isinstance(y, Const) else None
                    if (
                        isinstance(x, TableGet)
                        and const is not None
                        and const.type in _STR_TYPES  # codes: encoding cannot fail
                        and _encode_const(em.interner, const) != MISS
                    ):
                        keys, table = x.keys, x.table
            if keys is None:
                continue
            got = _pair_table_guard(em, table, keys, rule.scope)
            if got is not None:
                for k in keys:
                    assert isinstance(k, FieldRef)
                    em.field(k)  # the lister reads the key fields
                break
        if got is None or (found and got != found[0]):
            return [0] * 6
        found.append(got)
    return found[0]


def _pair_table_guard(
    em: _Emitter, table: int, keys: tuple[Expr, ...], scope: Scope
) -> list[int] | None:
    """Guard kind 2 when ``table`` (a pair table with a filter) is keyed by (line, other) fields.

    The keys are code or text fields of the item line and of the other line, in that order.
    """
    if len(keys) != 2 or not em.tables.ok[table] or em.tables.T[12][table] < 0:
        return None
    k1, k2 = keys
    if not (
        isinstance(k1, FieldRef)
        and isinstance(k2, FieldRef)
        and scope is Scope.LINE_PAIR
        and (k1.slot, k2.slot) == (SLOT_ITEM, SLOT_OTHER)
        and all(
            em.pack.rules.fields[k.field].root is FieldRoot.LINE
            and em.pack.rules.fields[k.field].type in _STR_TYPES
            for k in (k1, k2)
        )
    ):
        return None
    return [2, table, k1.field, k1.slot, k2.field, k2.slot]


def _pair_atom(em: _Emitter, rule: Rule) -> int:
    """``id`` of the ``table.has`` conjunct a guard of kind 2 checks (its key fields are needed)."""
    fires = [br for br in rule.branches if br.fires]
    _, atom = _guard_atoms(em, fires[0].condition, _BOUND_SLOTS[rule.scope], rule.scope)
    assert isinstance(atom, TableHas)
    for k in atom.keys:
        assert isinstance(k, FieldRef)
        em.field(k)
    return id(atom)


def _pair_bypass(
    em: _Emitter, rule: Rule, has_id: int, known: Expr | None
) -> tuple[list[int], int] | None:
    """Guard kind 12 for a pair rule the pair lister decides whole (the NCCI PTP shape), else None.

    Why: the PTP edit is ``table.has(line, other) and (table[line, other].indicator != "1" or not
    "59" in other.modifiers)``.  Interpreted, its tasks ran after the block's listing, when the
    row's value and the lines' modifiers had left the cache: ~200 ns a task, ~10 of ~44 ns/line
    of the pair rule on the issue-4 workload.  The lister decides it while the claim is at hand.

    The rule has one branch; its condition is the kind-2 ``table.has`` conjunct, the index's
    ``known`` conjunct, and at most one more: a term or an ``or`` of two terms, one of each kind:

    * ``table[same keys].column ==/!= constant`` (a code column; false when either is missing);
    * ``[not] constant in line.f`` for a code-set field of the item or other line.

    Returns ``([n_terms, column, op (0 ==, 1 !=, -1 none), constant, field (-1 none), slot,
    constant, neg], id of the conjunct)``; no terms (``n_terms`` 0): the row found fires.
    """
    fires = [br for br in rule.branches if br.fires]
    if len(rule.branches) != 1 or len(fires) != 1:
        return None
    rest = [a for a in _conjuncts(fires[0].condition) if id(a) != has_id and a is not known]
    has = next(a for a in _conjuncts(fires[0].condition) if id(a) == has_id)
    assert isinstance(has, TableHas)
    if not rest:
        return [0, 0, -1, 0, -1, 0, 0, 0], has_id
    if len(rest) != 1:
        return None
    terms = list(rest[0].operands) if isinstance(rest[0], Or) else [rest[0]]
    out = [len(terms), 0, -1, 0, -1, 0, 0, 0]
    fields = em.pack.rules.fields
    consts = em.pack.rules.constants
    for term in terms:
        if isinstance(term, Compare) and term.op in (CmpOp.EQ, CmpOp.NE) and out[2] < 0:
            for x, y in ((term.left, term.right), (term.right, term.left)):
                if (
                    isinstance(x, TableGet)
                    and isinstance(y, Const)
                    and x.table == has.table
                    and _same_refs(x.keys, has.keys)
                    and x.type in _STR_TYPES
                    and consts[y.constant].type in _STR_TYPES
                ):
                    out[1] = x.column
                    out[2] = 0 if term.op is CmpOp.EQ else 1
                    out[3] = _encode_const(em.interner, consts[y.constant])
                    break
            else:
                return None
            continue
        neg = 0
        inner = term
        while isinstance(inner, Not):
            neg ^= 1
            inner = inner.operand
        coll = inner.collection if isinstance(inner, Contains) else None
        if not (
            isinstance(inner, Contains)
            and isinstance(inner.element, Const)
            and isinstance(coll, FieldRef)
            and coll.type is ValueType.CODE_SET
            and coll.slot in (SLOT_ITEM, SLOT_OTHER)
            and fields[coll.field].root is FieldRoot.LINE
            and consts[inner.element.constant].type in _STR_TYPES
            and out[4] < 0
        ):
            return None
        em.field(coll)
        out[4] = coll.field
        out[5] = coll.slot
        out[6] = _encode_const(em.interner, consts[inner.element.constant])
        out[7] = neg
    return out, id(rest[0])


def _same_refs(a: tuple[Expr, ...], b: tuple[Expr, ...]) -> bool:
    """The same field references (field and slot), position by position."""
    return len(a) == len(b) and all(
        isinstance(x, FieldRef)
        and isinstance(y, FieldRef)
        and (x.field, x.slot) == (y.field, y.slot)
        for x, y in zip(a, b, strict=True)
    )


def _same_field_pair(em: _Emitter, atom: Expr) -> int | None:
    """The field id of a pair rule's ``line.f == other.f`` (a line scalar), else None.

    Guard kind 4: the pair lister lists only other lines whose column value equals the line's
    (both present): interned ids, fixed-point numbers and day numbers are equal exactly when the
    values are, and a comparison with a missing value is false.  The conjunct stays in the
    program (the interpreter checks it again).
    """
    if not (
        isinstance(atom, Compare)
        and atom.op is CmpOp.EQ
        and isinstance(atom.left, FieldRef)
        and isinstance(atom.right, FieldRef)
        and atom.left.field == atom.right.field
        and {atom.left.slot, atom.right.slot} == {SLOT_ITEM, SLOT_OTHER}
    ):
        return None
    info = em.pack.rules.fields[atom.left.field]
    scalar = (*_STR_TYPES, ValueType.NUMBER, ValueType.MONEY, ValueType.DATE)
    if info.root is not FieldRoot.LINE or info.type not in scalar:
        return None
    em.field(atom.left)
    return info.id


def _guard_atoms(
    em: _Emitter, cond: Expr, slots: tuple[int, ...], scope: Scope
) -> tuple[list[int], Expr | None]:
    """The guard (see :func:`_guard`) and the conjunct it is (None for a table bound)."""
    best: tuple[float, list[int]] | None = None
    best_atom: Expr | None = None
    for atom in _conjuncts(cond):
        got: tuple[float, list[int]] | None = None
        this: Expr | None = atom
        same = _same_field_pair(em, atom) if scope is Scope.LINE_PAIR else None
        if same is not None:
            got = (_GUARD_RANK[CmpOp.EQ], [4, same, 0, 0, 0, 0])
        elif isinstance(atom, Compare) and any(
            _is_item_code(em.pack, x) for x in (atom.left, atom.right)
        ):
            continue  # the procedure-code index already checks it
        if isinstance(atom, TableHas):
            pair = _pair_table_guard(em, atom.table, atom.keys, scope)
            if pair is not None:
                got = (-1, pair)
        elif isinstance(atom, Compare) and atom.left.type in (*_STR_TYPES, ValueType.BOOL):
            fused = em._fused_compare(atom, 1 if atom.left.type in _STR_TYPES else 2)
            if fused is not None and fused[1] in slots:
                got = (_GUARD_RANK[atom.op], [1, *fused])
        elif isinstance(atom, Compare) and atom.left.type in (
            ValueType.NUMBER,
            ValueType.MONEY,
            ValueType.DATE,
        ):
            fused = em._fused_compare(atom, 0)
            exact = fused is not None
            lookup = None if exact or scope is not Scope.LINE else _table_get_guard(em, atom)
            if lookup is not None:
                got = (_GUARD_RANK[CmpOp(lookup[4])], lookup)
            else:
                if fused is None:
                    fused = _table_bound(em, atom)
                if fused is not None and fused[1] in slots:
                    got = (_GUARD_RANK[CmpOp(fused[3])], [1, *fused])
                    if not exact:
                        this = None
        elif scope is not Scope.LINE_PAIR:
            call = _call_guard(em, atom, scope)
            if call is None and scope is Scope.LINE:
                call = _set_guard(em, atom)
            if call is not None:
                got = (_CALL_RANK, call)
        if got is not None and (best is None or got[0] < best[0]):
            best = got
            best_atom = this
    return ([0] * 6, None) if best is None else (best[1], best_atom)


_CALL_GUARD: Final = (BuiltinId.NPI_VALID, BuiltinId.ICD10CM_VALID, BuiltinId.ICD10CM_BILLABLE)


def _call_guard(em: _Emitter, atom: Expr, scope: Scope) -> list[int] | None:
    """Guard kind 8 for ``[not] builtin(field[, date field])`` (a string built-in), else None.

    ``[8, a, b, c, d, 0]``: built-in ``a`` (``BuiltinId`` 0 ``npi_valid``, 1 ``icd10cm_valid``,
    2 ``icd10cm_billable``) of field ``c`` (a code or text) and, for 1 and 2, date field ``d``
    (0 for 0), negated when ``b`` is 1 (``not``, any number of times).  Both fields are claim
    scalars or scalars of the item (the rule's line or diagnosis).  The lister decides it as
    ``OP_CALL`` does: false when an argument is missing (then the negation), the result memoised
    per interned string (and ICD-10-CM release) in the same memo.  Not for pair rules.
    """
    neg = 0
    call = atom
    while isinstance(call, Not):
        neg ^= 1
        call = call.operand
    if not isinstance(call, Call) or call.builtin not in _CALL_GUARD:
        return None
    item = FieldRoot.LINE if scope is Scope.LINE else FieldRoot.DIAGNOSIS
    fields = em.pack.rules.fields
    want = (_STR_TYPES, (ValueType.DATE,))
    for arg, types in zip(call.args, want, strict=False):
        if not isinstance(arg, FieldRef):
            return None
        info = fields[arg.field]
        if info.type not in types:
            return None
        claim_col = arg.slot == SLOT_CLAIM and info.root not in (
            FieldRoot.LINE,
            FieldRoot.DIAGNOSIS,
        )
        item_col = scope is not Scope.CLAIM and arg.slot == SLOT_ITEM and info.root is item
        if not claim_col and not item_col:
            return None
    ids = [em.field(arg).id for arg in call.args if isinstance(arg, FieldRef)]
    return [8, int(call.builtin), neg, ids[0], ids[1] if len(ids) > 1 else 0, 0]


def _set_guard(em: _Emitter, atom: Expr) -> list[int] | None:
    """Guard kind 10 for a line rule's set membership the lister decides, else None.

    Why: "the procedure needs a supporting diagnosis" (``not any(d in claim.diagnoses: d.code in
    {...})``) and "the procedure needs a modifier" (``not "25" in line.modifiers``) are the most
    common edits of a procedure-indexed pack; run by the interpreter they cost a dispatch per
    instruction on every candidate, decided by the lister one loop.

    ``[10, 0, neg, s, src, f]``: some line (``src`` 0) / diagnosis (1) of the claim has scalar
    field ``f`` in literal set ``s`` (members only, as ``OP_AGG_ANY_IN``); ``[10, 1, neg, k, f,
    0]``: constant ``k`` (interned, ``MISS`` for the empty code: never contained) is in code-set
    field ``f``, a claim-level set or the item line's.  ``neg`` 1: ``not`` (any number of
    times).  Both are 0 / 1, never missing, as in the interpreter.  Only for line rules: the
    same block written out in the claim and diagnosis listers made them ~25 % slower (a larger
    loop body), for shapes that are rare there.
    """
    neg = 0
    inner = atom
    while isinstance(inner, Not):
        neg ^= 1
        inner = inner.operand
    fields = em.pack.rules.fields
    if (
        isinstance(inner, Aggregate)
        and inner.kind is AggKind.ANY
        and isinstance(inner.predicate, InSet)
        and isinstance(inner.source, FieldRef)
        and inner.source.type in (ValueType.LINES, ValueType.DIAGNOSES)
    ):
        src = 0 if inner.source.type is ValueType.LINES else 1
        ref = inner.predicate.operand
        ls = em.pack.rules.literal_sets[inner.predicate.set]
        if not isinstance(ref, FieldRef) or ref.slot != inner.slot or ls.ranges or ls.prefixes:
            return None
        info = fields[ref.field]
        root = FieldRoot.LINE if src == 0 else FieldRoot.DIAGNOSIS
        if info.root is not root or info.type not in _SCALAR:
            return None
        em.field(ref)
        return [10, 0, neg, inner.predicate.set, src, info.id]
    if (
        isinstance(inner, Contains)
        and isinstance(inner.element, Const)
        and isinstance(inner.collection, FieldRef)
        and inner.collection.type is ValueType.CODE_SET
    ):
        coll = inner.collection
        info = fields[coll.field]
        claim_set = coll.slot == SLOT_CLAIM and info.root not in (
            FieldRoot.LINE,
            FieldRoot.DIAGNOSIS,
        )
        line_set = coll.slot == SLOT_ITEM and info.root is FieldRoot.LINE
        const = em.pack.rules.constants[inner.element.constant]
        if not (claim_set or line_set) or const.type not in _STR_TYPES:
            return None
        em.field(coll)
        return [10, 1, neg, _encode_const(em.interner, const), info.id, 0]
    return None


def _table_get_guard(em: _Emitter, atom: Compare) -> list[int] | None:
    """Guard kind 5 for a line rule's ``field op table[key]`` (one key), else None.

    ``[5, a, b, c, d, e]``: field ``a`` compared (op ``d``, integers) with value column
    ``e >> 32`` of table ``e & 0xFFFFFFFF`` at the row of key field ``b`` effective on the claim's
    date (``OP_TABLE_GET`` semantics: no key, no row or a missing value make it false), ``c``
    the smallest (``>``, ``>=``) / largest (``<``, ``<=``) value of the column (``MISS`` when the
    column has none: never holds) for a first interval check.  Both fields are claim or item-line
    scalars (the lister reads them), the key a string.  The lister checks it exactly.
    """
    got = _field_vs_table(atom)
    if got is None:
        return None
    ref, tg, op = got
    if len(tg.keys) != 1 or not isinstance(tg.keys[0], FieldRef) or not em.tables.ok[tg.table]:
        return None
    key = tg.keys[0]
    fields = em.pack.rules.fields
    info, kinfo = fields[ref.field], fields[key.field]
    if (
        info.type not in (ValueType.NUMBER, ValueType.MONEY, ValueType.DATE)
        or kinfo.type not in _STR_TYPES
        or int(em.tables.T[8][tg.table]) != 1
        or int(em.tables.T[12][tg.table]) >= 0
    ):
        return None
    for f, x in ((ref, info), (key, kinfo)):
        claim_col = f.slot == SLOT_CLAIM and x.root not in (FieldRoot.LINE, FieldRoot.DIAGNOSIS)
        if not claim_col and (f.slot, x.root) != (SLOT_ITEM, FieldRoot.LINE):
            return None
    bound = _column_bound(em, tg, op)
    em.field(ref)
    em.field(key)
    return [5, info.id, kinfo.id, bound, int(op), tg.table | (tg.column << 32)]


def _table_bound(em: _Emitter, atom: Compare) -> tuple[int, int, int, int, int] | None:
    """``field op table[..]``: ``field op' min/max`` of the table column (``op'`` implied)."""
    got = _field_vs_table(atom)
    if got is None:
        return None
    ref, tg, op = got
    if op not in (CmpOp.LT, CmpOp.LE, CmpOp.GT, CmpOp.GE) or not em.tables.ok[tg.table]:
        return None
    info = em.pack.rules.fields[ref.field]
    if info.type not in (ValueType.NUMBER, ValueType.MONEY, ValueType.DATE):
        return None
    bound = _column_bound(em, tg, op)
    if bound == MISS:
        return None
    return info.id, ref.slot, bound, int(op), 0


def _field_vs_table(atom: Compare) -> tuple[FieldRef, TableGet, CmpOp] | None:
    """``field op table[..]`` in either order: (field, table read, op with the field first)."""
    if isinstance(atom.left, FieldRef) and isinstance(atom.right, TableGet):
        return atom.left, atom.right, atom.op
    if isinstance(atom.right, FieldRef) and isinstance(atom.left, TableGet):
        return atom.right, atom.left, _MIRROR.get(atom.op, atom.op)
    return None


def _column_bound(em: _Emitter, tg: TableGet, op: CmpOp) -> int:
    """The smallest (``>``, ``>=``) or largest (other ops) value of ``tg``'s column; MISS if none.

    ``field op table[..]`` can only hold where ``field op bound`` does: a first interval check.
    """
    row_off, val_off, vals = em.tables.T[0], em.tables.T[4], em.tables.T[5]
    n_rows = int(row_off[tg.table + 1] - row_off[tg.table])
    start = int(val_off[tg.table]) + tg.column * n_rows
    col = vals[start : start + n_rows]
    col = col[col != MISS]
    if not col.shape[0]:
        return MISS
    return int(col.min()) if op in (CmpOp.GT, CmpOp.GE) else int(col.max())


def _csr(cands: Mapping[int, set[int]], n_ids: int) -> tuple[I64, I64]:
    counts = np.zeros(n_ids + 1, dtype=np.int64)
    for ids in cands.values():
        for i in ids:
            counts[i + 1] += 1
    off = np.cumsum(counts)
    rules = np.zeros(int(off[-1]), dtype=np.int64)
    fill = off[:-1].copy()
    for r in sorted(cands):
        for i in cands[r]:
            rules[fill[i]] = r
            fill[i] += 1
    return off.astype(np.int64), rules


@dataclass(frozen=True, slots=True, eq=False)
class CompiledPack:
    """A pack lowered to kernel arrays (see :mod:`engine.kernels` for the tuple layouts)."""

    data: PackData
    interner: Interner
    P: tuple[Any, ...]
    X: tuple[I64, ...]
    L: tuple[I64, ...]
    T: tuple[Any, ...]
    I: tuple[I64, ...]  # noqa: E741
    fields_needed: tuple[FieldInfo, ...]
    fallback_rules: tuple[int, ...]
    kernel_rules: tuple[int, ...]
    stack_size: int

    @property
    def name(self) -> str:
        """Pack name."""
        return self.data.name

    @property
    def version(self) -> str:
        """Pack version."""
        return self.data.version


def _literal_sets(pack: PackData, interner: Interner) -> tuple[tuple[I64, ...], set[int]]:
    consts = pack.rules.constants
    mem_off, rng_off, pre_off = [0], [0], [0]
    mem: list[int] = []
    lo: list[int] = []
    hi: list[int] = []
    pre: list[int] = []
    str_order: list[int] = []
    bad: set[int] = set()
    for i, ls in enumerate(pack.rules.literal_sets):
        try:
            ms = sorted({_encode_const(interner, consts[m], raw_codes=True) for m in ls.members})
            rs = [
                (
                    _encode_const(interner, consts[a], raw_codes=True),
                    _encode_const(interner, consts[b], raw_codes=True),
                )
                for a, b in ls.ranges
            ]
        except _Unsupported:
            bad.add(i)
            ms, rs = [], []
        is_str = ls.element_type in _STR_TYPES
        ps = [interner.intern(str(consts[p].value)) for p in ls.prefixes] if is_str else []
        mem += ms
        lo += [a for a, _ in rs]
        hi += [b for _, b in rs]
        pre += ps
        mem_off.append(len(mem))
        rng_off.append(len(lo))
        pre_off.append(len(pre))
        str_order.append(1 if is_str else 0)

    def arr(x: list[int]) -> I64:
        return np.asarray(x, dtype=np.int64)

    return (
        arr(mem_off),
        arr(mem),
        arr(rng_off),
        arr(lo),
        arr(hi),
        arr(pre_off),
        arr(pre),
        arr(str_order),
    ), bad


def _uses_sets(e: Expr) -> set[int]:
    from engine.reference import _children

    out = {e.set} if isinstance(e, InSet) else set()
    for ch in _children(e):
        out |= _uses_sets(ch)
    return out


def _build(pack: PackData, interner: Interner) -> CompiledPack:
    tables = _compile_tables(pack.tables, interner)
    L, bad_sets = _literal_sets(pack, interner)
    em = _Emitter(pack, interner, tables)
    br_pc: list[int] = []
    br_fires: list[int] = []
    rb_off = [0]
    fallback: list[int] = []
    kernel: list[int] = []
    by_scope: dict[Scope, list[int]] = {s: [] for s in Scope}
    cand_line: dict[int, set[int]] = {}
    cand_pair: dict[int, set[int]] = {}
    max_len = 8
    guards: list[int] = []
    pair_bypass = [0] * (8 * len(pack.rules.rules))  # guard kind 12, see _pair_bypass
    for rule in pack.rules.rules:
        start = len(em.code)
        pcs: list[int] = []
        cands: set[int] | None = None
        known: Expr | None = None
        guard = [0] * 6
        try:
            if rule.scope in (Scope.LINE, Scope.LINE_PAIR):
                cands, known = _index(pack, rule, interner, tables)
            guard, guard_atom = _guard(em, rule, known)
            if guard[0] in (5, 7) and cands == _table_codes(pack, tables, guard):
                # ``x op table[line.procedure_code]`` indexed by the table's codes: the guard
                # rejects every line the index would, so the rule is listed for every line and
                # ``kernels.line_masks`` decides it per window of lines, out of the per-line
                # loop over the rules a code indexes
                cands = None
            fire_known = {id(known)} if known is not None else set()
            if guard_atom is not None:
                fire_known.add(id(guard_atom))
            if guard[0] == 2 and sum(1 for br in rule.branches if br.fires) == 1:
                # the lister finds the pair's row (exact, on the claim's date): the conjunct
                # ``table.has(..)`` is true on every task; the lister reads the key fields
                has_id = _pair_atom(em, rule)
                fire_known.add(has_id)
                bypass = _pair_bypass(em, rule, has_id, known)
                if bypass is not None:
                    # guard kind 12: the lister decides the rest as well (the task fires)
                    guard[0] = 12
                    pair_bypass[8 * rule.index : 8 * rule.index + 8] = bypass[0]
                    fire_known.add(bypass[1])
            for br in rule.branches:
                if _uses_sets(br.condition) & bad_sets:
                    raise _Unsupported("literal set not exact in fixed point")
                pcs.append(len(em.code))
                em.set_slots = {}
                em.known = fire_known if br.fires else set()
                if id(br.condition) in em.known:
                    em.emit(K.OP_CONST, 1)
                else:
                    em.expr(br.condition)
                em.emit(K.OP_HALT)
                em.known = set()
        except _Unsupported:
            del em.code[start:]
            fallback.append(rule.index)
            pcs = []
        for pc, br in zip(pcs, rule.branches, strict=False):
            br_pc.append(pc)
            br_fires.append(1 if br.fires else 0)
        rb_off.append(len(br_pc))
        guards.extend([0] * 6)
        max_len = max(max_len, len(em.code) - start + 2)
        if not pcs or not any(br.fires for br in rule.branches):
            continue
        kernel.append(rule.index)
        guards[6 * rule.index : 6 * rule.index + 6] = guard
        if cands is None:
            by_scope[rule.scope].append(rule.index)
        elif rule.scope is Scope.LINE:
            cand_line[rule.index] = cands
        else:
            cand_pair[rule.index] = cands
    n_ids = len(interner)
    if not em.code:
        em.emit(K.OP_HALT)
    code = np.asarray(em.code, dtype=np.int64).reshape(-1, 6)
    rlo = [
        OPEN_LO if r.effective_from is None else date_to_days(r.effective_from)
        for r in pack.rules.rules
    ]
    rhi = [
        OPEN_HI if r.effective_until is None else date_to_days(r.effective_until)
        for r in pack.rules.rules
    ]

    def arr(x: list[int]) -> I64:
        return np.asarray(x, dtype=np.int64)

    line_off, line_rules = _csr(cand_line, n_ids)
    pair_off, pair_rules = _csr(cand_pair, n_ids)
    icd = _icd_arrays(pack, interner)
    for fid in list(em.fields):
        if pack.rules.fields[fid].type in (ValueType.LINES, ValueType.DIAGNOSES):
            em.fields.discard(fid)
    return CompiledPack(
        data=pack,
        interner=interner,
        P=(code, arr(br_pc), arr(br_fires), arr(rb_off), arr(rlo), arr(rhi)),
        X=(
            arr(by_scope[Scope.CLAIM]),
            arr(by_scope[Scope.DIAGNOSIS]),
            arr(by_scope[Scope.LINE]),
            arr(by_scope[Scope.LINE_PAIR]),
            line_off,
            line_rules,
            pair_off,
            pair_rules,
            arr(guards),
            arr(pair_bypass),
        ),
        L=L,
        T=tables.T,
        I=icd,
        fields_needed=tuple(pack.rules.fields[f] for f in sorted(em.fields)),
        fallback_rules=tuple(fallback),
        kernel_rules=tuple(kernel),
        stack_size=max_len,
    )


_CACHE: dict[tuple[str, int], CompiledPack] = {}
_CACHE_LOCK = threading.Lock()


# ICD-10-CM arrays by (interner, code sets): every pack loaded with the default releases holds the
# same code-set objects (``engine.icd10cm`` caches them), so their ~200,000 ids are computed once
# per interner, not once per pack.  The interner is append-only, so the ids stay right; the
# kernels only read the id arrays; ``env`` (written per call) is copied for each pack.  An entry
# holds its interner and code sets (no id reused while cached), as ``_CACHE`` holds its packs.
_ICD_CACHE: dict[tuple[int, ...], tuple[Interner, tuple[Any, ...], tuple[I64, I64, I64]]] = {}


def _same(a: object, b: object) -> bool:
    return a is b


def _icd_arrays(pack: PackData, interner: Interner) -> tuple[I64, I64, I64]:
    """ICD-10-CM releases for the kernel: ``(valid ids, billable ids, env)``.

    Each release's sorted interned ids are concatenated.  ``env`` is ``[has data, processing date
    (set per call), n releases, start day of each release, n + 1 offsets into valid, n + 1 offsets
    into billable]``; the kernel takes the last release that starts on or before the date given
    to the built-in, else the first (``engine.icd10cm.code_set_on``).
    """
    sets = pack.icd_sets
    key = (id(interner), *map(id, sets))
    hit = _ICD_CACHE.get(key) if sets else None
    if hit is not None and hit[0] is interner and all(map(_same, hit[1], sets)):
        valid, billable, env = hit[2]
        return valid, billable, env.copy()
    valid_parts: list[I64] = []
    billable_parts: list[I64] = []
    for code_set in sets:
        codes = code_set.codes
        # releases share ~99% of their codes: the first interns them, the others look them up
        ids = interner.intern_many(list(codes))
        ids[ids == 0] = MISS  # as Interner.encode does for the empty string
        billable = np.fromiter(codes.values(), dtype=np.bool_, count=len(codes))
        valid_parts.append(np.sort(ids))
        billable_parts.append(np.sort(ids[billable]))
    voff = np.cumsum([0, *(len(v) for v in valid_parts)])
    boff = np.cumsum([0, *(len(b) for b in billable_parts)])
    starts = [date_to_days(max(s.starts, date(1, 1, 1))) for s in sets]
    env = np.asarray([1 if sets else 0, MISS, len(sets), *starts, *voff, *boff], dtype=np.int64)

    def cat(parts: list[I64]) -> I64:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    out = (cat(valid_parts), cat(billable_parts), env)
    if sets:
        if len(_ICD_CACHE) >= 8:
            _ICD_CACHE.clear()
        _ICD_CACHE[key] = (interner, sets, (out[0], out[1], env.copy()))
    return out


def compile_pack(pack: PackData, interner: Interner) -> CompiledPack:
    """The compiled form of ``pack`` for ``interner``, cached by the pack's content hash."""
    key = (pack.hash, id(interner))
    if pack.hash:
        with _CACHE_LOCK:
            hit = _CACHE.get(key)
        if hit is not None and hit.interner is interner:
            return hit
    out = _build(pack, interner)
    if pack.hash:
        with _CACHE_LOCK:
            if len(_CACHE) > 64:
                _CACHE.clear()
            _CACHE[key] = out
    return out


_ = (SLOT_CLAIM, SLOT_OTHER, SCALE)
