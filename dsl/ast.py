"""The abstract syntax tree: frozen dataclasses, every node has ``.span``.

Built by :mod:`dsl.build` from the Lark parse tree; read by resolve, check, lower and the formatter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from dsl.diagnostics import Span
from dsl.ir import AggKind, ArithOp, CmpOp

__all__ = [
    "Aggregate",
    "Arith",
    "BoolOp",
    "Call",
    "Cell",
    "CellKind",
    "Clause",
    "ClauseValue",
    "Columns",
    "Comment",
    "Compare",
    "DateRange",
    "Decide",
    "Expr",
    "File",
    "Item",
    "LitKind",
    "Literal",
    "Lookup",
    "Member",
    "Name",
    "Names",
    "Not",
    "PackDecl",
    "Path",
    "Presence",
    "Row",
    "RuleDecl",
    "SetItem",
    "SetLit",
    "Source",
    "Strings",
    "TableDecl",
    "Template",
    "TupleExpr",
]


@dataclass(frozen=True, slots=True)
class Name:
    """An identifier as written."""

    span: Span
    text: str


@dataclass(frozen=True, slots=True)
class Comment:
    """A ``#`` comment (kept for the formatter)."""

    span: Span
    text: str


class LitKind(Enum):
    """Kinds of literal."""

    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    BOOL = "bool"


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal; ``raw`` is the source text (for the formatter)."""

    span: Span
    kind: LitKind
    value: str | Decimal | date | bool
    raw: str


@dataclass(frozen=True, slots=True)
class Path:
    """``a.b.c``: a field, a binder, a table or a binder's field."""

    span: Span
    parts: tuple[Name, ...]

    @property
    def dotted(self) -> str:
        """The path as written."""
        return ".".join(p.text for p in self.parts)


@dataclass(frozen=True, slots=True)
class SetItem:
    """A member (``"A"``), a range (``"A".."B"``) or a prefix (``"A"*``) of a set literal."""

    span: Span
    kind: str  # "member" | "range" | "prefix"
    low: Literal
    high: Literal | None = None


@dataclass(frozen=True, slots=True)
class SetLit:
    """``{item, ...}``."""

    span: Span
    items: tuple[SetItem, ...]
    braced: bool = True  # False for a bare range after `in` ("A".."B") or `startswith`


@dataclass(frozen=True, slots=True)
class BoolOp:
    """``and`` / ``or`` of two or more operands (flattened)."""

    span: Span
    op: str  # "and" | "or"
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """``not x``."""

    span: Span
    operand: Expr


@dataclass(frozen=True, slots=True)
class Compare:
    """``left op right``."""

    span: Span
    op: CmpOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Member:
    """``x in target`` / ``x not in target`` / ``x startswith "P"`` (a prefix set)."""

    span: Span
    operand: Expr
    target: Expr
    negated: bool = False
    startswith: bool = False


@dataclass(frozen=True, slots=True)
class Presence:
    """``x is present`` / ``x is missing``."""

    span: Span
    operand: Expr
    present: bool


@dataclass(frozen=True, slots=True)
class Arith:
    """``left + right`` etc."""

    span: Span
    op: ArithOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Call:
    """``name(args)``: a built-in."""

    span: Span
    name: Name
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``kind(var in source where filter: body)``."""

    span: Span
    kind: AggKind
    var: Name
    source: Expr
    where: Expr | None
    body: Expr | None


@dataclass(frozen=True, slots=True)
class TupleExpr:
    """``(a, b)``: a key tuple for a pair-table membership."""

    span: Span
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Lookup:
    """``table[key, ...]`` or ``table[key].column``."""

    span: Span
    table: Path
    keys: tuple[Expr, ...]
    column: Name | None


Expr = (
    Literal
    | Path
    | SetLit
    | BoolOp
    | Not
    | Compare
    | Member
    | Presence
    | Arith
    | Call
    | Aggregate
    | TupleExpr
    | Lookup
)


@dataclass(frozen=True, slots=True)
class Template:
    """A message string split into text and ``{expr}`` holes."""

    span: Span
    raw: str
    parts: tuple[str | Expr, ...]


@dataclass(frozen=True, slots=True)
class Strings:
    """One or more strings."""

    span: Span
    items: tuple[Literal, ...]


@dataclass(frozen=True, slots=True)
class Names:
    """One or more names."""

    span: Span
    items: tuple[Name, ...]


@dataclass(frozen=True, slots=True)
class DateRange:
    """``from .. until`` (either side optional)."""

    span: Span
    start: Literal | None
    end: Literal | None


@dataclass(frozen=True, slots=True)
class Source:
    """``source csv "tables/x.csv"``."""

    span: Span
    format: Name
    path: Literal


@dataclass(frozen=True, slots=True)
class Columns:
    """``key a: code, b: code``."""

    span: Span
    items: tuple[tuple[Name, Name], ...]


ClauseValue = Strings | Names | DateRange | Source | Columns | Path  # Path: `field line.x`


@dataclass(frozen=True, slots=True)
class Clause:
    """``name value`` inside a pack, table or rule block."""

    span: Span
    name: Name
    value: ClauseValue


class CellKind(Enum):
    """Kinds of decision cell."""

    ANY = "_"
    EQ = "=="
    CMP = "cmp"
    IN = "in"
    NOT_IN = "not in"


@dataclass(frozen=True, slots=True)
class Cell:
    """One condition cell of a decision row."""

    span: Span
    kind: CellKind
    op: CmpOp | None = None
    value: Expr | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """``cells -> fire: "msg"`` or ``cells -> pass``."""

    span: Span
    cells: tuple[Cell, ...]
    fires: bool
    message: Template | None


@dataclass(frozen=True, slots=True)
class Decide:
    """A decision table: columns and rows, first matching row wins."""

    span: Span
    columns: tuple[Expr, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class PackDecl:
    """``pack name { ... }``."""

    span: Span
    name: Name
    clauses: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class TableDecl:
    """``table name kind { ... }``."""

    span: Span
    name: Name
    kind: Name
    clauses: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class RuleDecl:
    """``rule ID "title" { clauses, when / decide }``; ``parts`` keeps source order."""

    span: Span
    id: Name
    title: Literal | None
    clauses: tuple[Clause, ...]
    when: Expr | None
    decide: Decide | None
    templates: tuple[tuple[str, Template], ...]  # parsed string clauses with holes (message)
    order: tuple[str, ...]  # clause names in source order, "when"/"decide" included


Item = PackDecl | TableDecl | RuleDecl


@dataclass(frozen=True, slots=True)
class File:
    """One rule file."""

    span: Span
    items: tuple[Item, ...]
    comments: tuple[Comment, ...]
