"""Hand-built IR for engine tests: a tiny builder of CompiledRules (no parser needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dsl.diagnostics import Span
from dsl.ir import (
    SLOT_CLAIM,
    SLOT_ITEM,
    Branch,
    Category,
    CompiledRules,
    Const,
    Constant,
    EditSeverity,
    Expr,
    FieldRef,
    LiteralSet,
    PackHeader,
    Reads,
    Relation,
    Rule,
    Scope,
    SourceFormat,
    Table,
    TableColumn,
    TableKind,
    Template,
    ValueType,
)
from dsl.schema import BUILTINS, DEFAULT_SCHEMA

SPAN = Span("test.rules", 1, 1, 1, 2)
FIELDS = {f.name: f for f in DEFAULT_SCHEMA.fields}


def fref(name: str, slot: int | None = None) -> FieldRef:
    info = FIELDS[name]
    if slot is None:
        slot = SLOT_ITEM if name.startswith(("line.", "dx.")) else SLOT_CLAIM
    return FieldRef(SPAN, info.type, info.id, slot)


@dataclass
class Builder:
    """Collects constants, sets, tables and rules; ``build()`` returns CompiledRules."""

    constants: list[Constant] = field(default_factory=list)
    sets: list[LiteralSet] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    claim_kinds: tuple[str, ...] = ("professional", "institutional")

    def const_index(self, t: ValueType, v: str | Decimal | date | bool) -> int:
        c = Constant(t, v)
        if c not in self.constants:
            self.constants.append(c)
        return self.constants.index(c)

    def const(self, t: ValueType, v: str | Decimal | date | bool) -> Const:
        return Const(SPAN, t, self.const_index(t, v))

    def code(self, v: str) -> Const:
        return self.const(ValueType.CODE, v)

    def num(self, v: int | str) -> Const:
        return self.const(ValueType.NUMBER, Decimal(v))

    def lset(
        self,
        members: tuple[str, ...] = (),
        ranges: tuple[tuple[str, str], ...] = (),
        prefixes: tuple[str, ...] = (),
        t: ValueType = ValueType.CODE,
    ) -> int:
        ls = LiteralSet(
            tuple(self.const_index(t, m) for m in members),
            tuple((self.const_index(t, a), self.const_index(t, b)) for a, b in ranges),
            tuple(self.const_index(t, p) for p in prefixes),
            t,
            SPAN,
        )
        self.sets.append(ls)
        return len(self.sets) - 1

    def table(
        self,
        name: str,
        kind: TableKind,
        keys: tuple[tuple[str, ValueType], ...],
        values: tuple[tuple[str, ValueType], ...],
        fmt: SourceFormat,
        path: str,
        eff: tuple[date | None, date | None] = (None, None),
    ) -> int:
        self.tables.append(
            Table(
                len(self.tables),
                name,
                kind,
                tuple(TableColumn(n, t) for n, t in keys),
                tuple(TableColumn(n, t) for n, t in values),
                fmt,
                path,
                eff[0],
                eff[1],
                SPAN,
            )
        )
        return len(self.tables) - 1

    def rule(
        self,
        cond: Expr | list[tuple[Expr, bool]],
        scope: Scope = Scope.LINE,
        *,
        message: tuple[str | Expr, ...] = ("edit",),
        eff: tuple[date | None, date | None] = (None, None),
        category: Category = Category.CUSTOM,
        reads: tuple[int, ...] = (),
    ) -> int:
        branches_in = cond if isinstance(cond, list) else [(cond, True)]
        branches = tuple(
            Branch(c, fires, Template(message, SPAN), SPAN) for c, fires in branches_in
        )
        index = len(self.rules)
        self.rules.append(
            Rule(
                index,
                f"T-{index:04d}",
                f"rule {index}",
                category,
                EditSeverity.ERROR,
                scope,
                eff[0],
                eff[1],
                branches,
                "Please Correct and Resubmit",
                False,
                "",
                "",
                (),
                Reads(tuple(sorted(reads)), ()),
                Span("test.rules", index + 1, 1, index + 1, 5),
            )
        )
        return index

    def build(self, name: str = "test-pack", version: str = "1.0") -> CompiledRules:
        return CompiledRules(
            PackHeader(name, version, "Test", self.claim_kinds, (), SPAN),
            DEFAULT_SCHEMA.fields,
            tuple(self.constants),
            tuple(self.sets),
            tuple(self.tables),
            BUILTINS,
            tuple(self.rules),
            tuple(self.relations),
        )
