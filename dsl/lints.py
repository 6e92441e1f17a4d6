"""Lints (W5xx), run at the end of the check stage.

Dead rules, shadowed rules, unused tables, and decision-table overlaps and gaps.  Lints are
conservative: they only warn when they can prove it.
"""

from __future__ import annotations

from decimal import Decimal

from dsl import ast
from dsl.check import Checked
from dsl.diagnostics import Diagnostics
from dsl.fmt import format_expr
from dsl.ir import CmpOp
from dsl.resolve import FieldB, RuleMeta

__all__ = ["run"]

_Value = str | Decimal | bool | object
_Key = tuple[int, int]  # (field id, slot)


def _field_key(e: ast.Expr, checked: Checked) -> _Key | None:
    b = checked.res.paths.get(id(e)) if isinstance(e, ast.Path) else None
    return (b.info.id, b.slot) if isinstance(b, FieldB) else None


def _literal(e: ast.Expr | None) -> _Value | None:
    return e.value if isinstance(e, ast.Literal) else None


def _set_members(t: ast.Expr) -> set[object] | None:
    if isinstance(t, ast.SetLit) and all(i.kind == "member" for i in t.items):
        return {i.low.value for i in t.items}
    return None


class _Bounds:
    """What a conjunction of simple tests says about one field."""

    def __init__(self) -> None:
        self.eq: set[object] | None = None  # allowed values (None: any)
        self.ne: set[object] = set()
        self.low: tuple[object, bool] | None = None  # (value, inclusive)
        self.high: tuple[object, bool] | None = None

    def allow(self, values: set[object]) -> None:
        self.eq = values if self.eq is None else self.eq & values

    def bound(self, op: CmpOp, v: object) -> None:
        if op in (CmpOp.GT, CmpOp.GE):
            cand = (v, op is CmpOp.GE)
            if self.low is None or _gt(cand, self.low):
                self.low = cand
        elif op in (CmpOp.LT, CmpOp.LE):
            cand = (v, op is CmpOp.LE)
            if self.high is None or _gt(self.high, cand):
                self.high = cand

    def empty(self) -> bool:
        if self.eq is not None:
            left = {v for v in self.eq if v not in self.ne and self._in_bounds(v)}
            return not left
        if self.low is not None and self.high is not None:
            try:
                lo, li = self.low
                hi, hi_inc = self.high
                return bool(lo > hi or (lo == hi and not (li and hi_inc)))  # type: ignore[operator]
            except TypeError:
                return False
        return False

    def _in_bounds(self, v: object) -> bool:
        try:
            if self.low is not None:
                lo, inc = self.low
                if v < lo or (v == lo and not inc):  # type: ignore[operator]
                    return False
            if self.high is not None:
                hi, inc = self.high
                if v > hi or (v == hi and not inc):  # type: ignore[operator]
                    return False
        except TypeError:
            return True
        return True


def _gt(a: tuple[object, bool], b: tuple[object, bool]) -> bool:
    try:
        return bool(a[0] > b[0] or (a[0] == b[0] and not a[1] and b[1]))  # type: ignore[operator]
    except TypeError:
        return False


def never_fires(expr: ast.Expr, checked: Checked) -> bool:
    """Whether the conjunction ``expr`` is provably unsatisfiable (simple literal tests only)."""
    if isinstance(expr, ast.Literal) and expr.value is False:
        return True
    conj = expr.operands if isinstance(expr, ast.BoolOp) and expr.op == "and" else (expr,)
    bounds: dict[_Key, _Bounds] = {}
    for c in conj:
        if isinstance(c, ast.Literal) and c.value is False:
            return True
        if isinstance(c, ast.Compare):
            key, v, op = _field_key(c.left, checked), _literal(c.right), c.op
            if key is None:
                key, v = _field_key(c.right, checked), _literal(c.left)
                op = {
                    CmpOp.LT: CmpOp.GT,
                    CmpOp.GT: CmpOp.LT,
                    CmpOp.LE: CmpOp.GE,
                    CmpOp.GE: CmpOp.LE,
                }.get(op, op)
            if key is None or v is None:
                continue
            b = bounds.setdefault(key, _Bounds())
            if op is CmpOp.EQ:
                b.allow({v})
            elif op is CmpOp.NE:
                b.ne.add(v)
            else:
                b.bound(op, v)
        elif isinstance(c, ast.Member) and not c.startswith:
            key = _field_key(c.operand, checked)
            members = _set_members(c.target)
            if key is None or members is None:
                continue
            b = bounds.setdefault(key, _Bounds())
            if c.negated:
                b.ne |= members
            else:
                b.allow(members)
    return any(b.empty() for b in bounds.values())


def _rule_key(meta: RuleMeta) -> tuple[object, ...] | None:
    decl = meta.decl
    if decl.when is None:
        return None
    return (meta.scope, meta.effective_from, meta.effective_until, _expr_key(decl.when))


def _expr_key(e: ast.Expr) -> object:
    """A structural key of ``e``, spans left out: equal exactly when ``format_expr`` texts are.

    Built from the fields the formatter prints (literals by their source text), as nested tuples
    tagged with the node class (the operator enums are ``IntEnum``s, equal across kinds): a cheap
    substitute for formatting every condition.
    """
    if isinstance(e, ast.Path):
        return (ast.Path, *[p.text for p in e.parts])
    if isinstance(e, ast.Literal):
        return (ast.Literal, e.raw)
    if isinstance(e, ast.Compare):
        return (ast.Compare, e.op, _expr_key(e.left), _expr_key(e.right))
    if isinstance(e, ast.Member):
        if e.startswith and isinstance(e.target, ast.SetLit):
            return (ast.Member, "startswith", _expr_key(e.operand), e.target.items[0].low.raw)
        return (ast.Member, e.negated, _expr_key(e.operand), _expr_key(e.target))
    if isinstance(e, ast.BoolOp):
        return (ast.BoolOp, e.op, *[_expr_key(x) for x in e.operands])
    if isinstance(e, ast.SetLit):
        items = [(i.kind, i.low.raw, i.high.raw if i.high is not None else None) for i in e.items]
        return (ast.SetLit, e.braced, *items)
    if isinstance(e, ast.Not):
        return (ast.Not, _expr_key(e.operand))
    if isinstance(e, ast.Presence):
        return (ast.Presence, e.present, _expr_key(e.operand))
    if isinstance(e, ast.Arith):
        return (ast.Arith, e.op, _expr_key(e.left), _expr_key(e.right))
    if isinstance(e, ast.Call):
        return (ast.Call, e.name.text, *[_expr_key(x) for x in e.args])
    if isinstance(e, ast.Aggregate):
        where = _expr_key(e.where) if e.where is not None else None
        body = _expr_key(e.body) if e.body is not None else None
        return (ast.Aggregate, e.kind, e.var.text, _expr_key(e.source), where, body)
    if isinstance(e, ast.TupleExpr):
        return (ast.TupleExpr, *[_expr_key(x) for x in e.items])
    if isinstance(e, ast.Lookup):
        column = e.column.text if e.column is not None else None
        return (ast.Lookup, e.table.dotted, column, *[_expr_key(k) for k in e.keys])
    raise AssertionError(e)  # pragma: no cover


def _cells_overlap(a: ast.Cell, b: ast.Cell) -> bool | None:
    """True / False when decidable, None when unknown (table look-ups, expressions)."""
    if a.kind is ast.CellKind.ANY or b.kind is ast.CellKind.ANY:
        return True
    sets: list[set[object] | None] = []
    for c in (a, b):
        if c.kind is ast.CellKind.EQ and isinstance(c.value, ast.Literal):
            sets.append({c.value.value})
        elif (
            c.kind is ast.CellKind.IN and c.value is not None and _set_members(c.value) is not None
        ):
            sets.append(_set_members(c.value) or set())
        else:
            sets.append(None)
    sa, sb = sets
    if sa is not None and sb is not None:
        return bool(sa & sb)
    intervals = [_interval(c) for c in (a, b)]
    ia, ib = intervals
    if ia is not None and ib is not None:
        bnd = _Bounds()
        for iv in (ia, ib):
            for op, v in iv:
                bnd.bound(op, v)
        return not bnd.empty()
    return None


def _interval(c: ast.Cell) -> list[tuple[CmpOp, object]] | None:
    if c.kind is ast.CellKind.CMP and isinstance(c.value, ast.Literal) and c.op is not None:
        return [(c.op, c.value.value)]
    if c.kind is ast.CellKind.EQ and isinstance(c.value, ast.Literal):
        return [(CmpOp.GE, c.value.value), (CmpOp.LE, c.value.value)]
    return None


def _numeric_cover(rows: tuple[ast.Row, ...]) -> str | None:
    """For a one-column table of numeric tests, a description of an uncovered value, else None."""
    points: set[Decimal] = set()
    ivs: list[list[tuple[CmpOp, object]]] = []
    for r in rows:
        iv = _interval(r.cells[0])
        if iv is None:
            return None
        ivs.append(iv)
        for _, v in iv:
            if not isinstance(v, Decimal):
                return None
            points.add(v)
    probes: list[Decimal] = []
    ordered = sorted(points)
    for i, p in enumerate(ordered):
        probes.append(p)
        probes.append(p - 1 if i == 0 else (ordered[i - 1] + p) / 2)
    probes.append(ordered[-1] + 1 if ordered else Decimal(0))
    for x in sorted(set(probes)):
        if not any(_satisfies(x, iv) for iv in ivs):
            return str(x)
    return ""


def _satisfies(x: Decimal, iv: list[tuple[CmpOp, object]]) -> bool:
    for op, v in iv:
        assert isinstance(v, Decimal)
        ok = {
            CmpOp.GE: x >= v,
            CmpOp.GT: x > v,
            CmpOp.LE: x <= v,
            CmpOp.LT: x < v,
            CmpOp.EQ: x == v,
            CmpOp.NE: x != v,
        }[op]
        if not ok:
            return False
    return True


def _decide_lints(decide: ast.Decide, diags: Diagnostics) -> None:
    rows = decide.rows
    for j, rj in enumerate(rows):
        if all(c.kind is ast.CellKind.ANY for c in rj.cells):
            continue
        for i in range(j):
            ri = rows[i]
            if len(ri.cells) != len(rj.cells):
                continue
            verdicts = [_cells_overlap(a, b) for a, b in zip(ri.cells, rj.cells, strict=True)]
            if all(v is True for v in verdicts):
                diags.warning(
                    "W504",
                    f"row {j + 1} overlaps row {i + 1}; the first matching row wins",
                    rj.span,
                    hint="make the rows disjoint or merge them",
                )
                break
    if any(all(c.kind is ast.CellKind.ANY for c in r.cells) for r in rows):
        return
    if len(decide.columns) == 1 and rows:
        gap = _numeric_cover(rows)
        if gap == "":
            return
        if gap is not None:
            diags.warning(
                "W505",
                f"no row matches {format_expr(decide.columns[0])} = {gap}",
                decide.span,
                hint="add a row for the gap or a catch-all `_ -> pass`",
            )
            return
    diags.warning(
        "W505",
        "decision table may not cover every case (no catch-all row)",
        decide.span,
        hint="end the table with a catch-all row: `_ -> pass`",
    )


def run(checked: Checked, diags: Diagnostics) -> None:
    """Append lint warnings."""
    seen: dict[tuple[object, ...], RuleMeta] = {}
    for meta in checked.res.rules:
        decl = meta.decl
        if decl.when is not None and never_fires(decl.when, checked):
            diags.warning(
                "W501",
                f"rule {decl.id.text} can never fire: its conditions contradict each other",
                decl.when.span,
            )
        key = _rule_key(meta)
        if key is not None:
            if key in seen:
                first = seen[key].decl.id
                diags.warning(
                    "W502",
                    f"rule {decl.id.text} is shadowed by the identical rule {first.text}",
                    decl.id.span,
                    notes=(f"{first.text} is at line {first.span.line}",),
                )
            else:
                seen[key] = meta
        if decl.decide is not None:
            _decide_lints(decl.decide, diags)
    for table, tdecl in zip(checked.res.tables, checked.res.table_decls, strict=True):
        if table.index not in checked.res.used_tables:
            diags.warning("W503", f"table {table.name!r} is never used", tdecl.name.span)
