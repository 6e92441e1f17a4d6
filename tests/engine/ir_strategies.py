"""Hypothesis strategies over typed IR expression trees, with constants drawn from given claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from hypothesis import strategies as st

from claims.model import Claim
from dsl.ir import (
    SLOT_FIRST_BINDER,
    SLOT_ITEM,
    SLOT_OTHER,
    AggKind,
    Aggregate,
    And,
    Arith,
    ArithOp,
    BuiltinId,
    Call,
    CmpOp,
    Compare,
    Contains,
    ElementRef,
    Expr,
    FieldRoot,
    InSet,
    IsPresent,
    Not,
    Or,
    Relation,
    RelationKind,
    Scope,
    SourceFormat,
    TableGet,
    TableHas,
    TableKind,
    ValueType,
)
from engine.tables import Column, LoadedTable
from engine.values import OPEN_HI, OPEN_LO, date_to_days
from tests.engine.irbuild import FIELDS, SPAN, Builder, fref

T = ValueType
B = T.BOOL

CLAIM_FIELDS = {
    T.CODE: [
        "claim.facility_code",
        "claim.frequency_code",
        "claim.kind",
        "claim.type_of_bill",
        "claim.place_of_service",
        "patient.sex",
        "billing.npi",
        "rendering.npi",
        "attending.npi",
        "referring.taxonomy",
        "claim.claim_filing_code",
    ],
    T.TEXT: ["claim.prior_authorization", "patient.last_name", "subscriber.member_id"],
    T.MONEY: ["claim.total_charge"],
    T.NUMBER: ["patient.age"],
    T.DATE: [
        "claim.statement_from",
        "claim.statement_to",
        "claim.admission_date",
        "claim.first_service_date",
        "patient.birth_date",
    ],
    T.BOOL: [],
    T.CODE_SET: [
        "claim.condition_codes",
        "claim.related_causes",
        "claim.value_codes",
        "claim.occurrence_codes",
        "claim.occurrence_spans",
    ],
    T.NUMBER_SET: [],
}
LINE_FIELDS = {
    T.CODE: ["line.procedure_code", "line.revenue_code", "line.place_of_service", "line.unit_type"],
    T.TEXT: ["line.description"],
    T.MONEY: ["line.charge"],
    T.NUMBER: ["line.units", "line.number", "line.ndc_quantity"],
    T.DATE: ["line.service_date", "line.service_date_end"],
    T.BOOL: ["line.emergency"],
    T.CODE_SET: ["line.modifiers"],
    T.NUMBER_SET: ["line.diagnosis_pointers"],
}
DX_FIELDS = {
    T.CODE: ["dx.code", "dx.role", "dx.poa"],
    T.TEXT: [],
    T.MONEY: [],
    T.NUMBER: [],
    T.DATE: [],
    T.BOOL: ["dx.icd9"],
    T.CODE_SET: [],
    T.NUMBER_SET: [],
}


@dataclass(frozen=True)
class Pools:
    codes: list[str]
    dates: list[date]
    numbers: list[Decimal]
    proc: list[str]


def pools(claims: list[Claim]) -> Pools:
    codes = ["", "99213", "11", "A", "Z99"]
    dates = [date(2024, 1, 1)]
    nums = [Decimal(0), Decimal(1), Decimal("1.5"), Decimal(100), Decimal("-2")]
    proc = ["99213"]
    for c in claims:
        codes += [c.facility_code, c.frequency_code, str(c.kind.value), c.type_of_bill]
        nums.append(c.total_charge)
        for ln in c.lines:
            codes += [ln.procedure_code, ln.revenue_code, *ln.modifiers]
            proc.append(ln.procedure_code)
            nums += [ln.charge, ln.units]
            if ln.service_date:
                dates += [ln.service_date, ln.service_date + timedelta(days=1)]
        for d in c.diagnoses:
            codes += [d.code, d.code[:3]]
        for vc in c.value_codes:
            codes.append(vc.code)
        if c.statement_from:
            dates.append(c.statement_from)
        if c.member.birth_date:
            dates.append(c.member.birth_date)
    return Pools(codes, dates, nums, [p for p in proc if p] or ["99213"])


class Gen:
    """Draws typed expressions; ``slots`` maps bound slots to 'line' / 'dx' / 'code' / 'num'."""

    def __init__(self, draw: st.DrawFn, b: Builder, p: Pools, n_tables: int) -> None:
        self.draw = draw
        self.b = b
        self.p = p
        self.n_tables = n_tables

    def const(self, t: ValueType) -> Expr:
        d = self.draw
        if t in (T.CODE, T.TEXT):
            return self.b.const(t, d(st.sampled_from(self.p.codes)))
        if t in (T.NUMBER, T.MONEY):
            return self.b.const(t, d(st.sampled_from(self.p.numbers)))
        if t is T.DATE:
            return self.b.const(t, d(st.sampled_from(self.p.dates)))
        return self.b.const(t, d(st.booleans()))

    def field(self, t: ValueType, slots: dict[int, str]) -> Expr | None:
        options: list[tuple[str, int]] = [(n, 0) for n in CLAIM_FIELDS.get(t, [])]
        for s, kind in slots.items():
            table = {"line": LINE_FIELDS, "dx": DX_FIELDS}.get(kind)
            if table:
                options += [(n, s) for n in table.get(t, [])]
        if not options:
            return None
        name, slot = self.draw(st.sampled_from(options))
        return fref(name, slot)

    def ncci(self) -> Expr:
        """The NCCI PTP shape and its variants (guard kind 12, ``engine.compiled._pair_bypass``).

        ``(line.procedure_code, other.procedure_code) in ptp`` and none, one or two of: the row's
        modifier indicator ``==`` / ``!=`` a constant (the missing code too), ``[not] constant in
        line.modifiers / other.modifiers``, or'ed in either order.
        """
        d = self.draw
        keys = (fref("line.procedure_code", SLOT_ITEM), fref("line.procedure_code", SLOT_OTHER))
        terms: list[Expr] = []
        for k in d(st.sampled_from(["", "v", "m", "vm", "mv", "vv"])):
            if k == "v":
                get = TableGet(SPAN, T.CODE, 1, keys, 0)
                c = self.b.const(T.CODE, d(st.sampled_from(["0", "1", "9", ""])))
                op = d(st.sampled_from([CmpOp.EQ, CmpOp.NE]))
                terms.append(Compare(SPAN, B, op, *((get, c) if d(st.booleans()) else (c, get))))
            else:
                slot = d(st.sampled_from([SLOT_ITEM, SLOT_OTHER]))
                m: Expr = Contains(SPAN, B, self.const(T.CODE), fref("line.modifiers", slot))
                for _ in range(d(st.integers(0, 2))):
                    m = Not(SPAN, B, m)
                terms.append(m)
        has = TableHas(SPAN, B, 1, keys)
        if not terms:
            return has
        return And(SPAN, B, (has, terms[0] if len(terms) == 1 else Or(SPAN, B, tuple(terms))))

    def expr(self, t: ValueType, slots: dict[int, str], depth: int) -> Expr:
        d = self.draw
        leaf = depth <= 0 or d(st.integers(0, 3)) == 0
        if leaf:
            if t in (T.CODE, T.NUMBER):
                want = "code" if t is T.CODE else "num"
                elems = [s for s, k in slots.items() if k == want]
                if elems and d(st.booleans()):
                    return ElementRef(SPAN, t, d(st.sampled_from(elems)))
            if t is T.MONEY and d(st.integers(0, 3)) == 0:
                code = self.const(T.CODE)
                return Call(SPAN, T.MONEY, BuiltinId.VALUE_AMOUNT, (code,))
            if t is T.DATE and d(st.integers(0, 3)) == 0:
                return Call(SPAN, T.DATE, BuiltinId.PROCESSING_DATE, ())
            if t is not B or d(st.booleans()):
                f = self.field(t, slots)
                if f is not None and d(st.integers(0, 2)) > 0:
                    return f
            if t is not B:
                return self.const(t)
        if t is B:
            return self.boolean(slots, depth)
        if t in (T.NUMBER, T.MONEY):
            k = d(st.integers(0, 5))
            if k == 0:
                return Arith(
                    SPAN,
                    t,
                    d(st.sampled_from(list(ArithOp))),
                    self.expr(t, slots, depth - 1),
                    self.expr(T.NUMBER, slots, depth - 1),
                )
            if k == 1 and t is T.NUMBER:
                b_id = d(
                    st.sampled_from([BuiltinId.DAYS_BETWEEN, BuiltinId.AGE_ON, BuiltinId.LENGTH])
                )
                if b_id is BuiltinId.LENGTH:
                    return Call(SPAN, T.NUMBER, b_id, (self.expr(T.CODE, slots, depth - 1),))
                return Call(
                    SPAN,
                    T.NUMBER,
                    b_id,
                    (self.expr(T.DATE, slots, depth - 1), self.expr(T.DATE, slots, depth - 1)),
                )
            if k == 2:
                return self.aggregate(t, slots, depth)
            if k == 3 and self.n_tables:
                return TableGet(SPAN, T.NUMBER, 2, (self.expr(T.CODE, slots, depth - 1),), 0)
            if k == 4 and t is T.MONEY:
                code = self.expr(T.CODE, slots, depth - 1)
                return Call(SPAN, T.MONEY, BuiltinId.VALUE_AMOUNT, (code,))
            f = self.field(t, slots)
            return f if f is not None else self.const(t)
        if t is T.DATE and d(st.booleans()):
            return Call(
                SPAN,
                T.DATE,
                BuiltinId.ADD_DAYS,
                (self.expr(T.DATE, slots, depth - 1), self.expr(T.NUMBER, slots, depth - 1)),
            )
        if t is T.CODE and self.n_tables and d(st.integers(0, 3)) == 0:
            return TableGet(
                SPAN,
                T.CODE,
                1,
                (self.expr(T.CODE, slots, depth - 1), self.expr(T.CODE, slots, depth - 1)),
                0,
            )
        f = self.field(t, slots)
        return f if f is not None else self.const(t)

    def aggregate(self, t: ValueType, slots: dict[int, str], depth: int) -> Expr:
        d = self.draw
        slot = max([SLOT_FIRST_BINDER - 1, *slots]) + 1
        line_slots = [s for s, k in slots.items() if k == "line"]
        src_kind = d(st.sampled_from(["line", "dx", "code", "num"]))
        if src_kind == "num" and not line_slots:
            src_kind = "code"
        if src_kind == "num":
            src: Expr = fref("line.diagnosis_pointers", d(st.sampled_from(line_slots)))
        elif src_kind == "line":
            src = fref("claim.lines", 0)
        elif src_kind == "dx":
            src = fref("claim.diagnoses", 0)
        else:
            if line_slots and d(st.booleans()):
                src = fref("line.modifiers", d(st.sampled_from(line_slots)))
            else:
                src = fref(d(st.sampled_from(CLAIM_FIELDS[T.CODE_SET])), 0)
        inner = {**slots, slot: src_kind}
        pred = None if d(st.integers(0, 3)) == 0 else self.expr(B, inner, depth - 1)
        if t is B:
            kind = d(st.sampled_from([AggKind.ANY, AggKind.ALL]))
            return Aggregate(SPAN, B, kind, slot, src, pred, None)
        if src_kind == "num" and t is T.NUMBER and d(st.booleans()):
            value = ElementRef(SPAN, T.NUMBER, slot)
            return Aggregate(SPAN, T.NUMBER, AggKind.SUM, slot, src, pred, value)
        if d(st.booleans()) or src_kind != "line":
            return Aggregate(SPAN, T.NUMBER, AggKind.COUNT, slot, src, pred, None)
        value = self.expr(d(st.sampled_from([T.MONEY, T.NUMBER])), inner, depth - 1)
        return Aggregate(SPAN, t, AggKind.SUM, slot, src, pred, value)

    def boolean(self, slots: dict[int, str], depth: int) -> Expr:
        d = self.draw
        k = d(st.integers(0, 11))
        sub = depth - 1
        if k == 0:
            t = d(st.sampled_from([T.CODE, T.NUMBER, T.MONEY, T.DATE, T.TEXT, T.BOOL]))
            ops = list(CmpOp) if t not in (T.TEXT, T.BOOL) else [CmpOp.EQ, CmpOp.NE]
            other = T.NUMBER if t is T.MONEY and d(st.booleans()) else t
            return Compare(
                SPAN,
                B,
                d(st.sampled_from(ops)),
                self.expr(t, slots, sub),
                self.expr(other, slots, sub),
            )
        if k in (1, 2):
            n = d(st.integers(2, 3))
            ops = tuple(self.expr(B, slots, sub) for _ in range(n))
            return And(SPAN, B, ops) if k == 1 else Or(SPAN, B, ops)
        if k == 3:
            return Not(SPAN, B, self.expr(B, slots, sub))
        if k == 4:
            codes = self.p.codes
            members = tuple(d(st.lists(st.sampled_from(codes), max_size=4)))
            ranges = tuple(
                d(st.lists(st.tuples(st.sampled_from(codes), st.sampled_from(codes)), max_size=2))
            )
            prefixes = tuple(d(st.lists(st.sampled_from([c[:2] for c in codes]), max_size=2)))
            s = self.b.lset(members, ranges, prefixes)
            return InSet(SPAN, B, self.expr(T.CODE, slots, sub), s)
        if k == 5:
            line_slots = [s for s, kind in slots.items() if kind == "line"]
            if line_slots and d(st.integers(0, 2)) == 0:
                pointers = fref("line.diagnosis_pointers", d(st.sampled_from(line_slots)))
                return Contains(SPAN, B, self.expr(T.NUMBER, slots, sub), pointers)
            coll = (
                fref("line.modifiers", d(st.sampled_from(line_slots)))
                if line_slots and d(st.booleans())
                else fref(d(st.sampled_from(CLAIM_FIELDS[T.CODE_SET])), 0)
            )
            return Contains(SPAN, B, self.expr(T.CODE, slots, sub), coll)
        if k == 6 and self.n_tables:
            which = d(st.integers(0, 2))
            if which == 1:
                keys: tuple[Expr, ...] = (
                    self.expr(T.CODE, slots, sub),
                    self.expr(T.CODE, slots, sub),
                )
            else:
                keys = (self.expr(T.CODE, slots, sub),)
            return TableHas(SPAN, B, which, keys)
        if k == 7:
            t = d(st.sampled_from([T.CODE, T.DATE, T.NUMBER, T.TEXT, T.CODE_SET, T.NUMBER_SET]))
            if t in (T.CODE_SET, T.NUMBER_SET):
                f = self.field(t, slots) or fref("claim.condition_codes", 0)
                return IsPresent(SPAN, B, f)
            return IsPresent(SPAN, B, self.expr(t, slots, sub))
        if k == 8:
            b_id = d(
                st.sampled_from(
                    [BuiltinId.NPI_VALID, BuiltinId.ICD10CM_VALID, BuiltinId.ICD10CM_BILLABLE]
                )
            )
            if b_id is BuiltinId.NPI_VALID:
                return Call(SPAN, B, b_id, (self.expr(T.CODE, slots, sub),))
            return Call(
                SPAN, B, b_id, (self.expr(T.CODE, slots, sub), self.expr(T.DATE, slots, sub))
            )
        if k == 9:
            return self.aggregate(B, slots, depth)
        if k == 10:
            f = self.field(B, slots)
            if f is not None:
                return f
        return Compare(SPAN, B, CmpOp.EQ, self.expr(T.CODE, slots, sub), self.const(T.CODE))


def _column(t: ValueType, values: list[object]) -> Column:
    vocab: dict[object, int] = {}
    ids = np.asarray([vocab.setdefault(v, len(vocab)) for v in values], dtype=np.int32)
    return Column(t, ids, tuple(vocab))  # type: ignore[arg-type]


@st.composite
def tables(draw: st.DrawFn, b: Builder, p: Pools) -> tuple[LoadedTable, ...]:
    """A code set (T0), a pair table with a code value (T1), a limit table (T2), dated rows."""
    b.table("codes", TableKind.CODE_SET, (("code", T.CODE),), (), SourceFormat.CSV, "c.csv")
    b.table(
        "ptp",
        TableKind.PAIR,
        (("c1", T.CODE), ("c2", T.CODE)),
        (("modifier_indicator", T.CODE),),
        SourceFormat.NCCI_PTP,
        "p.txt",
        draw(st.sampled_from([(None, None), (date(2010, 1, 1), None)])),
    )
    b.table(
        "mue", TableKind.LIMIT, (("code", T.CODE),), (("mue", T.NUMBER),), SourceFormat.MUE, "m.csv"
    )
    codes = st.sampled_from(p.proc + p.codes)
    windows = st.sampled_from(
        [(OPEN_LO, OPEN_HI)]
        + [(date_to_days(x), date_to_days(x) + k) for x in p.dates[:4] for k in (0, 30)]
        + [(OPEN_LO, date_to_days(p.dates[0]))]
    )

    def rows(n_keys: int) -> list[tuple[tuple[str, ...], tuple[int, int]]]:
        return draw(st.lists(st.tuples(st.tuples(*[codes] * n_keys), windows), max_size=8))

    out = []
    for i, n_keys in enumerate((1, 2, 1)):
        rs = rows(n_keys)
        keys = tuple(_column(T.CODE, [r[0][k] for r in rs]) for k in range(n_keys))
        values: tuple[Column, ...] = ()
        if i == 1:
            values = (_column(T.CODE, [draw(st.sampled_from(["0", "1", "9", ""])) for _ in rs]),)
        if i == 2:
            values = (
                _column(
                    T.NUMBER,
                    [
                        draw(st.sampled_from([Decimal(1), Decimal(2), Decimal("1.5"), None]))
                        for _ in rs
                    ],
                ),
            )
        out.append(
            LoadedTable(
                b.tables[i],
                keys,
                values,
                np.asarray([r[1][0] for r in rs], dtype=np.int64),
                np.asarray([r[1][1] for r in rs], dtype=np.int64),
            )
        )
    return tuple(out)


SCOPE_SLOTS = {
    Scope.CLAIM: {},
    Scope.LINE: {SLOT_ITEM: "line"},
    Scope.DIAGNOSIS: {SLOT_ITEM: "dx"},
    Scope.LINE_PAIR: {SLOT_ITEM: "line", SLOT_OTHER: "line"},
}


@st.composite
def rule_pack(
    draw: st.DrawFn, claims: list[Claim], n_rules: int = 5
) -> tuple[Builder, tuple[LoadedTable, ...]]:
    b = Builder()
    p = pools(claims)
    loaded = draw(tables(b, p))
    g = Gen(draw, b, p, len(loaded))
    for _ in range(draw(st.integers(1, n_rules))):
        scope = draw(st.sampled_from(list(Scope)))
        slots = dict(SCOPE_SLOTS[scope])
        n_br = draw(st.integers(1, 2))
        branches = [(g.expr(B, slots, 3), draw(st.booleans()) if i else True) for i in range(n_br)]
        if scope is Scope.LINE_PAIR and draw(st.booleans()):
            branches = [(g.ncci(), True)]
        eff = draw(st.sampled_from([(None, None), (p.dates[0], None), (None, p.dates[-1])]))
        reads = tuple(
            sorted(
                {
                    FIELDS[n].id
                    for n in (
                        "line.procedure_code",
                        "claim.total_charge",
                        "dx.code",
                        "patient.birth_date",
                    )
                }
            )
        )
        b.rule(
            branches,
            scope,
            eff=eff,
            reads=reads,
            message=(
                "code ",
                fref("claim.facility_code", 0),
                " total ",
                fref("claim.total_charge", 0),
            ),
        )
    n = len(b.rules)
    if n > 1:
        for _ in range(draw(st.integers(0, 2))):
            a, c = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
            if a != c:
                b.relations.append(Relation(draw(st.sampled_from(list(RelationKind))), a, c, SPAN))
    return b, loaded


_ = FieldRoot
