"""Stage 5, lower: checked AST → IR (:mod:`dsl.ir`).  Runs only when no error was found so far.

Interns constants and literal sets, maps every node to its IR form with its span, turns decision
tables into ordered branches, and records what each rule reads.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dsl import ast, ir
from dsl.check import Checked
from dsl.diagnostics import Diagnostics
from dsl.ir import ValueType
from dsl.resolve import FieldB, RuleMeta, TableB, VarB
from dsl.schema import BUILTINS

__all__ = ["run"]

T = ValueType
_LIT_TYPE = {
    ast.LitKind.STRING: T.CODE,
    ast.LitKind.NUMBER: T.NUMBER,
    ast.LitKind.DATE: T.DATE,
    ast.LitKind.BOOL: T.BOOL,
}


class _InternalError(Exception):
    pass


class _Lowerer:
    def __init__(self, checked: Checked) -> None:
        self.checked = checked
        self.res = checked.res
        self.constants: list[ir.Constant] = []
        self.const_index: dict[tuple[ValueType, str | Decimal | date | bool, type], int] = {}
        self.sets: list[ir.LiteralSet] = []
        self.set_index: dict[tuple[object, ...], int] = {}
        self.fields: set[int] = set()
        self.tables: set[int] = set()

    def const(self, t: ValueType, v: str | Decimal | date | bool) -> int:
        key = (t, v, type(v))
        idx = self.const_index.get(key)
        if idx is None:
            idx = self.const_index[key] = len(self.constants)
            self.constants.append(ir.Constant(t, v))
        return idx

    def typ(self, e: ast.Expr) -> ValueType:
        t = self.checked.types.get(id(e))
        return t if t is not None else T.BOOL

    def literal_set(self, s: ast.SetLit, elem: ValueType) -> int:
        members: list[int] = []
        ranges: list[tuple[int, int]] = []
        prefixes: list[int] = []
        for item in s.items:
            lo = self.const(elem, _value(item.low))
            if item.kind == "range" and item.high is not None:
                ranges.append((lo, self.const(elem, _value(item.high))))
            elif item.kind == "prefix":
                prefixes.append(lo)
            else:
                members.append(lo)
        key = (tuple(sorted(set(members))), tuple(ranges), tuple(prefixes), elem)
        idx = self.set_index.get(key)
        if idx is None:
            idx = self.set_index[key] = len(self.sets)
            self.sets.append(ir.LiteralSet(key[0], key[1], key[2], elem, s.span))
        return idx

    def expr(self, e: ast.Expr) -> ir.Expr:
        match e:
            case ast.Literal(kind=k):
                t = _LIT_TYPE[k]
                return ir.Const(e.span, t, self.const(t, _value(e)))
            case ast.Path():
                b = self.res.paths.get(id(e))
                if isinstance(b, FieldB):
                    self.fields.add(b.info.id)
                    return ir.FieldRef(e.span, b.info.type, b.info.id, b.slot)
                if isinstance(b, VarB):
                    return ir.ElementRef(e.span, b.type or T.CODE, b.slot)
                raise _InternalError(f"unresolved path {e.dotted}")
            case ast.BoolOp(op=op, operands=ops):
                cls = ir.And if op == "and" else ir.Or
                return cls(e.span, T.BOOL, tuple(self.expr(x) for x in ops))
            case ast.Not(operand=x):
                return ir.Not(e.span, T.BOOL, self.expr(x))
            case ast.Presence(operand=x, present=p):
                node: ir.Expr = ir.IsPresent(e.span, T.BOOL, self.expr(x))
                return node if p else ir.Not(e.span, T.BOOL, node)
            case ast.Compare(op=op, left=a, right=b):
                return ir.Compare(e.span, T.BOOL, op, self.expr(a), self.expr(b))
            case ast.Member():
                node = self.member(e.operand, e.target, e)
                return ir.Not(e.span, T.BOOL, node) if e.negated else node
            case ast.Arith(op=op, left=a, right=b):
                return ir.Arith(e.span, self.typ(e), op, self.expr(a), self.expr(b))
            case ast.Call(args=args):
                info = self.res.builtins[id(e)]
                return ir.Call(e.span, info.result, info.id, tuple(self.expr(a) for a in args))
            case ast.Aggregate(kind=k, source=s, where=w, body=b):
                slot = self.res.binder_slots[id(e)]
                pred = self.expr(w) if w is not None else None
                value = None
                if k is ir.AggKind.SUM:
                    value = self.expr(b) if b is not None else None
                elif b is not None:
                    body = self.expr(b)
                    pred = body if pred is None else ir.And(e.span, T.BOOL, (pred, body))
                return ir.Aggregate(e.span, self.typ(e), k, slot, self.expr(s), pred, value)
            case ast.Lookup(table=t, keys=keys, column=c):
                b = self.res.paths.get(id(t))
                if not isinstance(b, TableB):
                    raise _InternalError("unresolved table")
                table = b.table
                self.tables.add(table.index)
                col = 0 if c is None else [v.name for v in table.values].index(c.text)
                ks = tuple(self.expr(k) for k in keys)
                return ir.TableGet(e.span, self.typ(e), table.index, ks, col)
        raise _InternalError(f"cannot lower {type(e).__name__}")

    def member(self, operand: ast.Expr, target: ast.Expr, node: ast.Expr) -> ir.Expr:
        span = node.span
        b = self.res.paths.get(id(target)) if isinstance(target, ast.Path) else None
        if isinstance(b, TableB):
            self.tables.add(b.table.index)
            keys = operand.items if isinstance(operand, ast.TupleExpr) else (operand,)
            return ir.TableHas(span, T.BOOL, b.table.index, tuple(self.expr(k) for k in keys))
        left = self.expr(operand)
        if isinstance(target, ast.SetLit):
            elem = self.checked.types.get(id(target)) or T.CODE
            return ir.InSet(span, T.BOOL, left, self.literal_set(target, elem))
        return ir.Contains(span, T.BOOL, left, self.expr(target))

    def cell(self, col: ast.Expr, cell: ast.Cell) -> ir.Expr | None:
        if cell.kind is ast.CellKind.ANY or cell.value is None:
            return None
        if cell.kind in (ast.CellKind.IN, ast.CellKind.NOT_IN):
            node = self.member(col, cell.value, ast.Literal(cell.span, ast.LitKind.BOOL, True, ""))
            return ir.Not(cell.span, T.BOOL, node) if cell.kind is ast.CellKind.NOT_IN else node
        op = cell.op or ir.CmpOp.EQ
        return ir.Compare(cell.span, T.BOOL, op, self.expr(col), self.expr(cell.value))

    def template(
        self, tmpl: ast.Template | None, fallback: ast.Expr | ast.Row | ast.RuleDecl
    ) -> ir.Template:
        if tmpl is None:
            return ir.Template((), fallback.span)
        saved = (set(self.fields), set(self.tables))
        parts = [p if isinstance(p, str) else self.expr(p) for p in tmpl.parts]
        self.fields, self.tables = saved  # templates are not conditions
        return ir.Template(tuple(parts), tmpl.span)

    def rule(self, meta: RuleMeta) -> ir.Rule:
        decl = meta.decl
        self.fields, self.tables = set(), set()
        branches: list[ir.Branch] = []
        message = meta.message
        if decl.when is not None:
            cond = self.expr(decl.when)
            branches.append(ir.Branch(cond, True, self.template(message, decl), decl.when.span))
        elif decl.decide is not None:
            for row in decl.decide.rows:
                tests = [
                    self.cell(c, cell)
                    for c, cell in zip(decl.decide.columns, row.cells, strict=True)
                ]
                parts = tuple(t for t in tests if t is not None)
                row_cond: ir.Expr
                if not parts:
                    row_cond = ir.Const(row.span, T.BOOL, self.const(T.BOOL, True))
                elif len(parts) == 1:
                    row_cond = parts[0]
                else:
                    row_cond = ir.And(row.span, T.BOOL, parts)
                msg = self.template(row.message or message, row)
                branches.append(ir.Branch(row_cond, row.fires, msg, row.span))
        field = None
        if meta.edit_field is not None:
            ref = self.expr(meta.edit_field)
            if not isinstance(ref, ir.FieldRef):
                raise _InternalError(f"`field {meta.edit_field.dotted}` is not a field")
            field = ref
        reads = ir.Reads(tuple(sorted(self.fields)), tuple(sorted(self.tables)))
        return ir.Rule(
            index=meta.index,
            id=decl.id.text,
            title=str(decl.title.value) if decl.title is not None else "",
            category=meta.category,
            severity=meta.severity,
            scope=meta.scope,
            effective_from=meta.effective_from,
            effective_until=meta.effective_until,
            branches=tuple(branches),
            action=meta.action,
            allow_override=meta.allow_override,
            fix=meta.fix,
            rationale=meta.rationale,
            references=meta.references,
            reads=reads,
            span=decl.span,
            field=field,
        )


def _value(lit: ast.Literal) -> str | Decimal | date | bool:
    return lit.value if isinstance(lit.value, str | Decimal | date | bool) else str(lit.value)


def run(checked: Checked, diags: Diagnostics) -> ir.CompiledRules | None:
    """Lower to IR; returns None if lowering hit an internal error (reported as E401)."""
    low = _Lowerer(checked)
    try:
        rules = tuple(low.rule(meta) for meta in checked.res.rules)
    except (_InternalError, KeyError, ValueError) as exc:
        span = checked.res.file.span
        diags.error("E401", f"internal compiler error while lowering: {exc}", span)
        return None
    relations: list[ir.Relation] = []
    for meta in checked.res.rules:
        for kind, targets in (
            (ir.RelationKind.SUPERSEDES, meta.supersedes),
            (ir.RelationKind.EXCLUDES, meta.excludes),
        ):
            relations.extend(ir.Relation(kind, meta.index, t, span) for t, span in targets)
    return ir.CompiledRules(
        pack=checked.res.pack,
        fields=checked.res.schema.fields,
        constants=tuple(low.constants),
        literal_sets=tuple(low.sets),
        tables=tuple(checked.res.tables),
        builtins=BUILTINS,
        rules=rules,
        relations=tuple(relations),
    )
