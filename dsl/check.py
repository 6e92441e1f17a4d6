"""Stage 4, check: types, arity and ranges (E3xx), then lints (W5xx).

Types are computed bottom-up into ``Checked.types`` (``id(node)`` → :class:`ValueType`); a node
whose
type could not be determined maps to ``None`` and suppresses follow-on errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl import ast
from dsl.diagnostics import Diagnostics
from dsl.ir import AggKind, CmpOp, ValueType
from dsl.resolve import FieldB, Resolution, RuleMeta, TableB, VarB

__all__ = ["Checked", "run"]

T = ValueType
NUMERIC = (T.NUMBER, T.MONEY)
ORDERED = (T.NUMBER, T.MONEY, T.DATE, T.CODE)
COLLECTIONS = (T.LINES, T.DIAGNOSES, T.CODE_SET, T.NUMBER_SET)
_TYPE_NAMES = {
    T.BOOL: "bool",
    T.CODE: "code",
    T.TEXT: "text",
    T.NUMBER: "number",
    T.MONEY: "money",
    T.DATE: "date",
    T.CODE_SET: "set of codes",
    T.LINES: "lines",
    T.DIAGNOSES: "diagnoses",
    T.NUMBER_SET: "set of numbers",
}


def tname(t: ValueType | None) -> str:
    """Human name of a type."""
    return _TYPE_NAMES[t] if t is not None else "unknown"


def compatible(a: ValueType, b: ValueType) -> bool:
    """Whether values of ``a`` and ``b`` may be compared."""
    return a == b or {a, b} <= set(NUMERIC) or {a, b} <= {T.CODE, T.TEXT}


@dataclass(slots=True)
class Checked:
    """Types of every expression node, plus the resolution it extends."""

    res: Resolution
    types: dict[int, ValueType | None] = field(default_factory=dict)


class _Checker:
    def __init__(self, res: Resolution, diags: Diagnostics) -> None:
        self.res = res
        self.diags = diags
        self.types: dict[int, ValueType | None] = {}

    def mismatch(self, node: ast.Expr, want: str, got: ValueType | None) -> None:
        if got is None:
            return
        self.diags.error("E301", f"expected {want}, found {tname(got)}", node.span)

    def boolean(self, e: ast.Expr) -> None:
        t = self.expr(e)
        if t is not None and t is not T.BOOL:
            self.diags.error("E308", f"condition is {tname(t)}, not bool", e.span)

    def expr(self, e: ast.Expr) -> ValueType | None:
        t = self._expr(e)
        self.types[id(e)] = t
        return t

    def _expr(self, e: ast.Expr) -> ValueType | None:
        match e:
            case ast.Literal(kind=k):
                return {
                    ast.LitKind.STRING: T.CODE,
                    ast.LitKind.NUMBER: T.NUMBER,
                    ast.LitKind.DATE: T.DATE,
                    ast.LitKind.BOOL: T.BOOL,
                }[k]
            case ast.Path():
                b = self.res.paths.get(id(e))
                if isinstance(b, FieldB):
                    return b.info.type
                if isinstance(b, VarB):
                    return b.type
                if isinstance(b, TableB):
                    self.diags.error("E301", f"table {b.table.name!r} is not a value", e.span)
                return None
            case ast.BoolOp(operands=ops):
                for x in ops:
                    self.boolean(x)
                return T.BOOL
            case ast.Not(operand=x):
                self.boolean(x)
                return T.BOOL
            case ast.Presence(operand=x):
                self.expr(x)
                return T.BOOL
            case ast.Compare(op=op, left=a, right=b):
                self.compare(e, op, self.expr(a), self.expr(b))
                return T.BOOL
            case ast.Member():
                self.member(e.operand, e.target, e)
                return T.BOOL
            case ast.Arith(left=a, right=b):
                ta, tb = self.expr(a), self.expr(b)
                for node, t in ((a, ta), (b, tb)):
                    if t is not None and t not in NUMERIC:
                        self.mismatch(node, "a number or money", t)
                        return None
                if ta is None or tb is None:
                    return None
                return T.MONEY if T.MONEY in (ta, tb) else T.NUMBER
            case ast.Call(args=args):
                return self.call(e, args)
            case ast.Aggregate():
                return self.aggregate(e)
            case ast.TupleExpr(items=items):
                for x in items:
                    self.expr(x)
                self.diags.error("E301", "a tuple is only allowed as a pair-table key", e.span)
                return None
            case ast.Lookup():
                return self.lookup(e)
            case ast.SetLit():
                self.set_type(e)
                self.diags.error("E301", "a set is only allowed after `in`", e.span)
                return None
        return None  # pragma: no cover

    def compare(self, node: ast.Expr, op: CmpOp, a: ValueType | None, b: ValueType | None) -> None:
        if a is None or b is None:
            return
        if {a, b} == {T.DATE, T.CODE}:
            self.diags.error(
                "E302",
                "comparing a date with a code",
                node.span,
                hint="write dates without quotes: 2025-01-01",
            )
            return
        if not compatible(a, b):
            hint = None
            if a in COLLECTIONS or b in COLLECTIONS:
                hint = "count a collection with count(x in claim.lines), test it with any(...)"
            self.diags.error(
                "E301", f"cannot compare {tname(a)} with {tname(b)}", node.span, hint=hint
            )
            return
        if op not in (CmpOp.EQ, CmpOp.NE) and a not in ORDERED:
            self.diags.error("E301", f"{tname(a)} values cannot be ordered", node.span)

    def set_type(self, s: ast.SetLit) -> ValueType | None:
        kinds = {item.low.kind for item in s.items} | {
            item.high.kind for item in s.items if item.high is not None
        }
        if len(kinds) > 1:
            self.diags.error(
                "E303",
                "set mixes " + " and ".join(sorted(k.value for k in kinds)) + " values",
                s.span,
            )
            return None
        if not kinds:
            return T.CODE
        kind = kinds.pop()
        for item in s.items:
            if item.kind != "member" and kind is not ast.LitKind.STRING:
                self.diags.error("E303", "ranges and prefixes need strings", item.span)
        return {
            ast.LitKind.STRING: T.CODE,
            ast.LitKind.NUMBER: T.NUMBER,
            ast.LitKind.DATE: T.DATE,
            ast.LitKind.BOOL: T.BOOL,
        }[kind]

    def member(self, operand: ast.Expr, target: ast.Expr, node: ast.Expr) -> None:
        bound = self.res.paths.get(id(target)) if isinstance(target, ast.Path) else None
        if isinstance(bound, TableB):
            table = bound.table
            keys = operand.items if isinstance(operand, ast.TupleExpr) else (operand,)
            self.types[id(operand)] = None
            self.table_keys(table.name, table.keys, keys, node)
            return
        ta = self.expr(operand)
        if isinstance(target, ast.SetLit):
            te = self.set_type(target)
            self.types[id(target)] = te
            if ta is not None and te is not None:
                self.compare(node, CmpOp.EQ, ta, te)
            return
        tt = self.expr(target)
        if tt is None or ta is None:
            return
        if tt is T.CODE_SET:
            self.compare(node, CmpOp.EQ, ta, T.CODE)
        elif tt is T.NUMBER_SET:
            self.compare(node, CmpOp.EQ, ta, T.NUMBER)
        else:
            self.diags.error("E301", f"cannot test membership in {tname(tt)}", target.span)

    def table_keys(
        self, name: str, cols: tuple[object, ...], keys: tuple[ast.Expr, ...], node: ast.Expr
    ) -> None:
        if len(keys) != len(cols):
            self.diags.error(
                "E307", f"table {name!r} has {len(cols)} key column(s), not {len(keys)}", node.span
            )
        for k, col in zip(keys, cols, strict=False):
            tk = self.expr(k)
            want = getattr(col, "type", T.CODE)
            if tk is not None and not compatible(tk, want):
                self.diags.error(
                    "E307", f"key of table {name!r} is {tname(want)}, found {tname(tk)}", k.span
                )

    def lookup(self, e: ast.Lookup) -> ValueType | None:
        bound = self.res.paths.get(id(e.table))
        if not isinstance(bound, TableB):
            for k in e.keys:
                self.expr(k)
            return None
        table = bound.table
        self.table_keys(table.name, table.keys, e.keys, e)
        if e.column is None:
            if len(table.values) != 1:
                self.diags.error(
                    "E213",
                    f"table {table.name!r} has {len(table.values)} value columns; name one",
                    e.span,
                    hint=f"write {table.name}[...].column",
                )
                return None
            return table.values[0].type
        for col in table.values:
            if col.name == e.column.text:
                return col.type
        from dsl.suggest import did_you_mean

        self.diags.error(
            "E213",
            f"table {table.name!r} has no column {e.column.text!r}",
            e.column.span,
            hint=did_you_mean(e.column.text, [c.name for c in table.values]),
        )
        return None

    def call(self, e: ast.Call, args: tuple[ast.Expr, ...]) -> ValueType | None:
        types = [self.expr(a) for a in args]
        info = self.res.builtins.get(id(e))
        if info is None:
            return None
        if len(args) != len(info.params):
            self.diags.error(
                "E305",
                f"{info.name}() takes {len(info.params)} argument(s), not {len(args)}",
                e.span,
                hint=f"{info.name}(" + ", ".join(tname(p) for p in info.params) + ")",
            )
            return info.result
        for a, t, want in zip(args, types, info.params, strict=True):
            if t is not None and not compatible(t, want):
                if {t, want} == {T.DATE, T.CODE}:
                    self.diags.error("E302", f"{info.name}() expects a {tname(want)} here", a.span)
                else:
                    self.mismatch(a, tname(want), t)
        return info.result

    def aggregate(self, e: ast.Aggregate) -> ValueType | None:
        ts = self.expr(e.source)
        if ts is not None and ts not in COLLECTIONS:
            self.diags.error(
                "E304",
                f"{e.kind.name.lower()}() over {tname(ts)}, which is not a collection",
                e.source.span,
                hint="aggregate over claim.lines, claim.diagnoses or a set of codes or numbers",
            )
        if e.where is not None:
            self.boolean(e.where)
        if e.kind is AggKind.SUM:
            if e.body is None:
                self.diags.error("E301", "sum() needs a value: sum(x in s: x.charge)", e.span)
                return T.NUMBER
            tb = self.expr(e.body)
            if tb is not None and tb not in NUMERIC:
                self.mismatch(e.body, "a number or money", tb)
                return None
            return tb
        if e.body is not None:
            self.boolean(e.body)
        elif e.kind is not AggKind.COUNT:
            self.diags.error("E301", f"{e.kind.name.lower()}() needs a condition after `:`", e.span)
        return T.NUMBER if e.kind is AggKind.COUNT else T.BOOL

    def rule(self, meta: RuleMeta) -> None:
        decl = meta.decl
        if (
            meta.effective_from is not None
            and meta.effective_until is not None
            and meta.effective_until < meta.effective_from
            and meta.effective_span is not None
        ):
            self.diags.error(
                "E306",
                f"effective range ends ({meta.effective_until}) before it starts"
                f" ({meta.effective_from})",
                meta.effective_span,
            )
        if decl.when is not None:
            self.boolean(decl.when)
        if meta.edit_field is not None:
            t = self.expr(meta.edit_field)
            if t in (T.LINES, T.DIAGNOSES):
                self.mismatch(meta.edit_field, "a field of one claim, line or diagnosis", t)
        for _, tmpl in decl.templates:
            self.template(tmpl)
        if decl.decide is not None:
            cols = [self.expr(c) for c in decl.decide.columns]
            for row in decl.decide.rows:
                for cell, col, ct in zip(row.cells, decl.decide.columns, cols, strict=False):
                    self.cell(cell, col, ct)
                if row.message is not None:
                    self.template(row.message)

    def cell(self, cell: ast.Cell, col: ast.Expr, ct: ValueType | None) -> None:
        if cell.value is None:
            return
        if cell.kind in (ast.CellKind.IN, ast.CellKind.NOT_IN):
            self.types[id(col)] = ct
            self.member_cell(col, cell.value, cell)
            return
        tv = self.expr(cell.value)
        self.compare_cell(cell, cell.op or CmpOp.EQ, ct, tv)

    def member_cell(self, col: ast.Expr, target: ast.Expr, cell: ast.Cell) -> None:
        fake = ast.Member(cell.span, col, target)
        self.member(col, target, fake)

    def compare_cell(
        self, cell: ast.Cell, op: CmpOp, a: ValueType | None, b: ValueType | None
    ) -> None:
        fake = ast.Literal(cell.span, ast.LitKind.BOOL, True, "true")
        self.compare(fake, op, a, b)

    def template(self, tmpl: ast.Template) -> None:
        for part in tmpl.parts:
            if isinstance(part, str):
                continue
            t = self.expr(part)
            if t in COLLECTIONS:
                self.diags.error("E301", f"cannot interpolate {tname(t)}", part.span)


def run(res: Resolution, diags: Diagnostics) -> Checked:
    """Type-check every rule, then run the lints."""
    c = _Checker(res, diags)
    for meta in res.rules:
        c.rule(meta)
    checked = Checked(res, c.types)
    from dsl import lints

    lints.run(checked, diags)
    return checked
