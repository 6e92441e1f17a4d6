"""Stage 3, resolve: names → fields, binders, tables, built-ins, rules; metadata → enums (E2xx).

The result is a :class:`Resolution`: side tables keyed by ``id(node)`` (the AST is frozen), plus the
validated pack header, tables and rule metadata that lower turns into IR.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from dsl import ast
from dsl.diagnostics import Diagnostics, Span
from dsl.ir import (
    SLOT_CLAIM,
    SLOT_FIRST_BINDER,
    SLOT_ITEM,
    SLOT_OTHER,
    BuiltinInfo,
    Category,
    EditSeverity,
    FieldInfo,
    PackHeader,
    Scope,
    SourceFormat,
    Table,
    TableColumn,
    TableKind,
    ValueType,
)
from dsl.schema import BUILTINS_BY_NAME, DEFAULT_SCHEMA, PROVIDER_ROLES, ClaimSchema
from dsl.suggest import did_you_mean

__all__ = ["FieldB", "Resolution", "RuleMeta", "TableB", "VarB", "run", "walk"]

SCOPES = {
    "claim": Scope.CLAIM,
    "line": Scope.LINE,
    "diagnosis": Scope.DIAGNOSIS,
    "pair": Scope.LINE_PAIR,
}
TABLE_KINDS = {
    "code_set": TableKind.CODE_SET,
    "pair": TableKind.PAIR,
    "attribute": TableKind.ATTRIBUTE,
    "limit": TableKind.LIMIT,
}
FORMATS = {"csv": SourceFormat.CSV, "ncci_ptp": SourceFormat.NCCI_PTP, "mue": SourceFormat.MUE}
TYPES = {
    "code": ValueType.CODE,
    "text": ValueType.TEXT,
    "number": ValueType.NUMBER,
    "money": ValueType.MONEY,
    "date": ValueType.DATE,
    "bool": ValueType.BOOL,
}
CLAIM_KINDS = ("professional", "institutional")


@dataclass(frozen=True, slots=True)
class FieldB:
    """A path bound to a claim field read from ``slot``."""

    info: FieldInfo
    slot: int


@dataclass(frozen=True, slots=True)
class VarB:
    """An aggregate's element over a code or number set (``type`` None: unknown, no errors)."""

    slot: int
    type: ValueType | None


@dataclass(frozen=True, slots=True)
class TableB:
    """A path naming a declared table."""

    table: Table


@dataclass(frozen=True, slots=True)
class _Env:
    """Name → (canonical root, slot) for record roots; name → VarB for code elements."""

    roots: dict[str, tuple[str, int]]
    vars: dict[str, VarB]
    depth: int


@dataclass(slots=True)
class RuleMeta:
    """Validated metadata of one rule."""

    decl: ast.RuleDecl
    index: int
    category: Category = Category.CUSTOM
    severity: EditSeverity = EditSeverity.ERROR
    scope: Scope = Scope.CLAIM
    effective_from: date | None = None
    effective_until: date | None = None
    effective_span: Span | None = None
    message: ast.Template | None = None
    action: str = ""
    allow_override: bool = False
    fix: str = ""
    rationale: str = ""
    references: tuple[str, ...] = ()
    supersedes: list[tuple[int, Span]] = field(default_factory=list)
    excludes: list[tuple[int, Span]] = field(default_factory=list)
    edit_field: ast.Path | None = None  # the `field` clause: what the edit points at


@dataclass(slots=True)
class Resolution:
    """Everything resolve learnt."""

    file: ast.File
    schema: ClaimSchema
    pack: PackHeader | None = None
    tables: list[Table] = field(default_factory=list)
    table_decls: list[ast.TableDecl] = field(default_factory=list)
    rules: list[RuleMeta] = field(default_factory=list)
    paths: dict[int, FieldB | VarB | TableB] = field(default_factory=dict)
    builtins: dict[int, BuiltinInfo] = field(default_factory=dict)
    binder_slots: dict[int, int] = field(default_factory=dict)  # id(Aggregate) -> slot
    used_tables: set[int] = field(default_factory=set)


def walk(expr: ast.Expr | ast.Template | None) -> Iterator[ast.Expr]:
    """Every expression node under ``expr`` (pre-order)."""
    if expr is None:
        return
    if isinstance(expr, ast.Template):
        for part in expr.parts:
            if not isinstance(part, str):
                yield from walk(part)
        return
    yield expr
    match expr:
        case ast.BoolOp(operands=ops) | ast.TupleExpr(items=ops):
            for x in ops:
                yield from walk(x)
        case ast.Not(operand=x) | ast.Presence(operand=x):
            yield from walk(x)
        case ast.Compare(left=a, right=b) | ast.Arith(left=a, right=b):
            yield from walk(a)
            yield from walk(b)
        case ast.Member(operand=a, target=b):
            yield from walk(a)
            yield from walk(b)
        case ast.Call(args=args):
            for x in args:
                yield from walk(x)
        case ast.Aggregate(source=s, where=w, body=b):
            yield from walk(s)
            yield from walk(w)
            yield from walk(b)
        case ast.Lookup(table=t, keys=keys):
            yield from walk(t)
            for x in keys:
                yield from walk(x)
        case _:
            pass


def _one_name(cl: ast.Clause) -> ast.Name | None:
    return cl.value.items[0] if isinstance(cl.value, ast.Names) and cl.value.items else None


def _one_string(cl: ast.Clause) -> str:
    if isinstance(cl.value, ast.Strings) and cl.value.items:
        v = cl.value.items[0].value
        return v if isinstance(v, str) else ""
    return ""


class _Resolver:
    def __init__(self, file: ast.File, schema: ClaimSchema, diags: Diagnostics) -> None:
        self.res = Resolution(file, schema)
        self.schema = schema
        self.diags = diags
        self.tables_by_name: dict[str, Table] = {}

    # -- declarations
    def pack(self, decl: ast.PackDecl) -> None:
        if self.res.pack is not None:
            self.diags.error("E212", "more than one pack header", decl.name.span)
            return
        version = title = ""
        kinds: tuple[str, ...] = CLAIM_KINDS
        depends: tuple[str, ...] = ()
        for cl in decl.clauses:
            key = cl.name.text
            if key == "version":
                version = _one_string(cl)
            elif key == "title":
                title = _one_string(cl)
            elif key == "kinds" and isinstance(cl.value, ast.Names):
                kinds = tuple(n.text for n in cl.value.items)
                for n in cl.value.items:
                    if n.text not in CLAIM_KINDS:
                        self.diags.error(
                            "E212",
                            f"unknown claim kind {n.text!r}",
                            n.span,
                            hint=did_you_mean(n.text, CLAIM_KINDS),
                        )
            elif key == "depends_on" and isinstance(cl.value, ast.Names):
                depends = tuple(n.text for n in cl.value.items)
        if not version:
            self.diags.error("E212", f"pack {decl.name.text} has no version", decl.name.span)
        self.res.pack = PackHeader(decl.name.text, version, title, kinds, depends, decl.span)

    def table(self, decl: ast.TableDecl) -> None:
        name = decl.name.text
        if name in self.tables_by_name:
            self.diags.error("E210", f"table {name!r} is declared twice", decl.name.span)
            return
        kind = TABLE_KINDS.get(decl.kind.text)
        if kind is None:
            self.diags.error(
                "E211",
                f"unknown table kind {decl.kind.text!r}",
                decl.kind.span,
                hint=did_you_mean(decl.kind.text, TABLE_KINDS),
                notes=("table kinds: " + ", ".join(TABLE_KINDS),),
            )
            kind = TableKind.CODE_SET
        keys: tuple[TableColumn, ...] = ()
        values: tuple[TableColumn, ...] = ()
        fmt, path = SourceFormat.CSV, ""
        start: date | None = None
        end: date | None = None
        for cl in decl.clauses:
            v = cl.value
            if isinstance(v, ast.Columns):
                cols = tuple(self._column(n, t) for n, t in v.items)
                if cl.name.text == "key":
                    keys = cols
                else:
                    values = cols
            elif isinstance(v, ast.Source):
                fmt_ = FORMATS.get(v.format.text)
                if fmt_ is None:
                    self.diags.error(
                        "E211",
                        f"unknown source format {v.format.text!r}",
                        v.format.span,
                        hint=did_you_mean(v.format.text, FORMATS),
                    )
                else:
                    fmt = fmt_
                path = str(v.path.value)
            elif isinstance(v, ast.DateRange):
                start, end = self._range(v)
        if not path:
            self.diags.error("E211", f"table {name!r} has no source", decl.name.span)
        want = {TableKind.PAIR: 2}.get(kind, 1)
        if not keys:
            keys = tuple(TableColumn(f"key{i + 1}", ValueType.CODE) for i in range(want))
        if len(keys) != want:
            self.diags.error(
                "E211",
                f"a {decl.kind.text} table has {want} key column(s), not {len(keys)}",
                decl.span,
            )
        if kind is TableKind.CODE_SET and values:
            self.diags.error("E211", "a code_set table has no value columns", decl.span)
        if kind is TableKind.LIMIT and (
            len(values) != 1 or values[0].type not in (ValueType.NUMBER, ValueType.MONEY)
        ):
            self.diags.error("E211", "a limit table has exactly one number value column", decl.span)
        table = Table(
            len(self.res.tables), name, kind, keys, values, fmt, path, start, end, decl.span
        )
        self.res.tables.append(table)
        self.res.table_decls.append(decl)
        self.tables_by_name[name] = table

    def _column(self, name: ast.Name, typ: ast.Name) -> TableColumn:
        t = TYPES.get(typ.text)
        if t is None:
            self.diags.error(
                "E211",
                f"unknown column type {typ.text!r}",
                typ.span,
                hint=did_you_mean(typ.text, TYPES),
            )
            t = ValueType.CODE
        return TableColumn(name.text, t)

    def _range(self, v: ast.DateRange) -> tuple[date | None, date | None]:
        a = v.start.value if v.start is not None else None
        b = v.end.value if v.end is not None else None
        return (a if isinstance(a, date) else None, b if isinstance(b, date) else None)

    def rule_meta(self, decl: ast.RuleDecl, ids: dict[str, int]) -> RuleMeta:
        meta = RuleMeta(decl, len(self.res.rules))
        refs: list[str] = []
        for cl in decl.clauses:
            key = cl.name.text
            n = _one_name(cl)
            if key == "category" and n is not None:
                try:
                    meta.category = Category(n.text)
                except ValueError:
                    self.diags.error(
                        "E205",
                        f"invalid category {n.text!r}",
                        n.span,
                        hint=did_you_mean(n.text, [c.value for c in Category]),
                    )
            elif key == "severity" and n is not None:
                try:
                    meta.severity = EditSeverity(n.text)
                except ValueError:
                    self.diags.error(
                        "E206",
                        f"invalid severity {n.text!r}",
                        n.span,
                        hint=did_you_mean(n.text, [s.value for s in EditSeverity]),
                        notes=("severities: error, warning, info",),
                    )
            elif key == "scope" and n is not None:
                if n.text in SCOPES:
                    meta.scope = SCOPES[n.text]
                else:
                    self.diags.error(
                        "E207",
                        f"invalid scope {n.text!r}",
                        n.span,
                        hint=did_you_mean(n.text, SCOPES),
                        notes=("scopes: claim, line, diagnosis, pair",),
                    )
            elif key == "effective" and isinstance(cl.value, ast.DateRange):
                meta.effective_from, meta.effective_until = self._range(cl.value)
                meta.effective_span = cl.value.span
            elif key == "action":
                meta.action = _one_string(cl)
            elif key == "override" and n is not None:
                if n.text not in ("yes", "no"):
                    self.diags.error("E107", "override is `yes` or `no`", n.span)
                meta.allow_override = n.text == "yes"
            elif key == "field" and isinstance(cl.value, ast.Path):
                meta.edit_field = cl.value
            elif key == "fix":
                meta.fix = _one_string(cl)
            elif key == "rationale":
                meta.rationale = _one_string(cl)
            elif key == "reference" and isinstance(cl.value, ast.Strings):
                refs.extend(str(s.value) for s in cl.value.items)
            elif key in ("supersedes", "excludes") and isinstance(cl.value, ast.Names):
                target = meta.supersedes if key == "supersedes" else meta.excludes
                for other in cl.value.items:
                    if other.text not in ids:
                        self.diags.error(
                            "E209",
                            f"unknown rule {other.text!r} in `{key}`",
                            other.span,
                            hint=did_you_mean(other.text, ids),
                        )
                    else:
                        target.append((ids[other.text], other.span))
        meta.references = tuple(refs)
        for name, tmpl in decl.templates:
            if name == "message":
                meta.message = tmpl
        return meta

    # -- expressions
    def base_env(self, scope: Scope) -> _Env:
        roots = {"claim": ("claim", SLOT_CLAIM), "patient": ("patient", SLOT_CLAIM)}
        roots["subscriber"] = ("subscriber", SLOT_CLAIM)
        for role in PROVIDER_ROLES:
            roots[role] = (role, SLOT_CLAIM)
        if scope in (Scope.LINE, Scope.LINE_PAIR):
            roots["line"] = ("line", SLOT_ITEM)
        if scope is Scope.LINE_PAIR:
            roots["other"] = ("line", SLOT_OTHER)
        if scope is Scope.DIAGNOSIS:
            roots["dx"] = ("dx", SLOT_ITEM)
        return _Env(roots, {}, 0)

    def expr(self, e: ast.Expr | None, env: _Env, *, table_ok: bool = False) -> None:
        if e is None:
            return
        match e:
            case ast.Path():
                self.path(e, env, table_ok=table_ok)
            case ast.Member(operand=a, target=b):
                self.expr(a, env)
                self.expr(b, env, table_ok=True)
            case ast.Lookup(table=t, keys=keys):
                self.path(t, env, table_ok=True, table_only=True)
                for k in keys:
                    self.expr(k, env)
            case ast.Call(name=n, args=args):
                info = BUILTINS_BY_NAME.get(n.text)
                if info is None:
                    self.diags.error(
                        "E203",
                        f"unknown built-in function {n.text!r}",
                        n.span,
                        hint=did_you_mean(n.text, BUILTINS_BY_NAME),
                        notes=("built-ins: " + ", ".join(BUILTINS_BY_NAME),),
                    )
                else:
                    self.res.builtins[id(e)] = info
                for x in args:
                    self.expr(x, env)
            case ast.Aggregate(var=var, source=src, where=w, body=b):
                self.expr(src, env)
                slot = SLOT_FIRST_BINDER + env.depth
                self.res.binder_slots[id(e)] = slot
                roots = dict(env.roots)
                vars_ = dict(env.vars)
                roots.pop(var.text, None)
                vars_.pop(var.text, None)
                bound = self.res.paths.get(id(src)) if isinstance(src, ast.Path) else None
                src_type = bound.info.type if isinstance(bound, FieldB) else None
                if src_type is ValueType.LINES:
                    roots[var.text] = ("line", slot)
                elif src_type is ValueType.DIAGNOSES:
                    roots[var.text] = ("dx", slot)
                else:
                    elem = (
                        {
                            ValueType.CODE_SET: ValueType.CODE,
                            ValueType.NUMBER_SET: ValueType.NUMBER,
                        }.get(src_type)
                        if src_type is not None
                        else None
                    )
                    vars_[var.text] = VarB(slot, elem)
                inner = _Env(roots, vars_, env.depth + 1)
                self.expr(w, inner)
                self.expr(b, inner)
            case _:
                for child in _children(e):
                    self.expr(child, env)

    def path(
        self, p: ast.Path, env: _Env, *, table_ok: bool = False, table_only: bool = False
    ) -> None:
        head = p.parts[0]
        if len(p.parts) == 1:
            if not table_only and head.text in env.vars:
                self.res.paths[id(p)] = env.vars[head.text]
                return
            table = self.tables_by_name.get(head.text)
            if table is not None and (table_ok or table_only):
                self.res.paths[id(p)] = TableB(table)
                self.res.used_tables.add(table.index)
                return
            if table_ok or table_only:
                self.diags.error(
                    "E202",
                    f"unknown table {head.text!r}",
                    p.span,
                    hint=did_you_mean(head.text, self.tables_by_name),
                    notes=(("tables: " + ", ".join(self.tables_by_name)),)
                    if self.tables_by_name
                    else (),
                )
                return
            names = list(env.vars) + list(env.roots)
            self.diags.error(
                "E201",
                f"unknown name {head.text!r}",
                p.span,
                hint=did_you_mean(head.text, names),
                notes=("a field is written root.field, e.g. line.procedure_code",),
            )
            return
        if table_only:
            self.diags.error("E202", f"{p.dotted!r} is not a table", p.span)
            return
        if head.text not in env.roots:
            all_roots = [*self.schema.roots(), "other"]
            if head.text in all_roots:
                self.diags.error(
                    "E208",
                    f"{head.text!r} is not available in this rule's scope",
                    head.span,
                    hint="`line`/`other` need scope line or pair; `dx` needs scope diagnosis",
                )
            else:
                self.diags.error(
                    "E201",
                    f"unknown name {head.text!r}",
                    head.span,
                    hint=did_you_mean(head.text, list(env.roots) + list(env.vars)),
                )
            return
        root, slot = env.roots[head.text]
        attr = p.parts[1]
        info = self.schema.lookup(root, attr.text)
        if info is None or len(p.parts) > 2:
            bad = attr if info is None else p.parts[2]
            fields = self.schema.attributes(root)
            self.diags.error(
                "E201",
                f"unknown field {bad.text!r} on {head.text}",
                bad.span,
                hint=did_you_mean(bad.text, fields),
                notes=(f"fields on {head.text}: " + ", ".join(fields),),
            )
            return
        self.res.paths[id(p)] = FieldB(info, slot)


def _children(e: ast.Expr) -> list[ast.Expr]:
    match e:
        case ast.BoolOp(operands=ops) | ast.TupleExpr(items=ops):
            return list(ops)
        case ast.Not(operand=x) | ast.Presence(operand=x):
            return [x]
        case ast.Compare(left=a, right=b) | ast.Arith(left=a, right=b):
            return [a, b]
        case _:
            return []


def run(file: ast.File, diags: Diagnostics, schema: ClaimSchema = DEFAULT_SCHEMA) -> Resolution:
    """Resolve every name in ``file``."""
    r = _Resolver(file, schema, diags)
    for item in file.items:
        if isinstance(item, ast.PackDecl):
            r.pack(item)
        elif isinstance(item, ast.TableDecl):
            r.table(item)
    ids: dict[str, int] = {}
    rules = [it for it in file.items if isinstance(it, ast.RuleDecl)]
    for pos, decl in enumerate(rules):
        if decl.id.text in ids:
            first = rules[ids[decl.id.text]].id.span
            diags.error(
                "E204",
                f"duplicate rule id {decl.id.text!r}",
                decl.id.span,
                notes=(f"first defined at {first.file}:{first.line}:{first.column}",),
            )
        else:
            ids[decl.id.text] = pos
    for decl in rules:
        meta = r.rule_meta(decl, ids)
        r.res.rules.append(meta)
        env = r.base_env(meta.scope)
        r.expr(decl.when, env)
        r.expr(meta.edit_field, env)
        for name, tmpl in decl.templates:
            del name
            for part in tmpl.parts:
                if not isinstance(part, str):
                    r.expr(part, env)
        if decl.decide is not None:
            for col in decl.decide.columns:
                r.expr(col, env)
            for row in decl.decide.rows:
                for cell in row.cells:
                    r.expr(
                        cell.value,
                        env,
                        table_ok=cell.kind in (ast.CellKind.IN, ast.CellKind.NOT_IN),
                    )
                if row.message is not None:
                    for part in row.message.parts:
                        if not isinstance(part, str):
                            r.expr(part, env)
                elif row.fires and meta.message is None:
                    diags.error(
                        "E108", "a firing row needs a message (or a rule `message`)", row.span
                    )
    return r.res
