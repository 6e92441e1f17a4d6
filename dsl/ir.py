"""The dsl → engine contract: compiled rules as frozen, typed, integer-indexed data.

This module is an API boundary.  ``engine/`` imports it (and nothing else from ``dsl``); it only
grows additively.  Conventions:

* Every name the source used is resolved at compile time: claim fields to ``FieldInfo.id``
  (stable ids from :mod:`dsl.schema`, the same in every compile), tables to ``Table.index``,
  built-ins to a :class:`BuiltinId`, literal values to an index into
  :attr:`CompiledRules.constants` (interned: each distinct typed value appears once), literal sets
  to an index into :attr:`CompiledRules.literal_sets`.  The engine never looks up a string.
* Every node keeps the :class:`~dsl.diagnostics.Span` of the source it came from, so an edit can
  point at the condition that fired.
* Every expression node carries its static :class:`ValueType`.

Evaluation model (what both the Numba engine and the reference evaluator implement):

* A rule is evaluated once per *subject* chosen by its :class:`Scope`: the claim, each service line,
  each diagnosis, or each ordered pair ``(line, other)`` of two distinct lines of one claim.
* Field references name a *slot*: :data:`SLOT_CLAIM` (claim-level fields: claim, patient,
  providers), :data:`SLOT_ITEM` (the current line or diagnosis), :data:`SLOT_OTHER` (the second
  line of a pair), or a slot ``>= SLOT_FIRST_BINDER`` bound by an enclosing :class:`Aggregate`.
* Values may be *missing* (an empty code, a ``None`` date, a table key that is absent).  Any
  comparison, membership or arithmetic with a missing operand is false / missing; only
  :class:`IsPresent` observes missingness.  ``not`` of a false comparison is true.
* A rule has one or more :class:`Branch` es, tried in order; the first whose condition holds
  decides.  If its ``fires`` is true, the rule produces an edit with that branch's message.  A
  plain ``when`` rule has exactly one firing branch; a decision table has one branch per row.
* A rule applies to a claim when the claim's first date of service lies in
  ``[effective_from, effective_until]`` (both inclusive, ``None`` = open).
* ``processing_date()`` (:attr:`BuiltinId.PROCESSING_DATE`) is the date the claim is being
  scrubbed (processed / received).  It is an argument of evaluation, the same for every claim of
  one call, and never read from the clock; when the caller passes none it is missing.
* Relations (no numeric salience): if rule A ``supersedes`` rule B, an edit of A on a subject
  suppresses B's edit on the same subject (same line / diagnosis / claim).  ``A excludes B`` says
  the two are alternatives that never both report on one subject; when both fire, A's edit is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import IntEnum, StrEnum

from dsl.diagnostics import Span

__all__ = [
    "SLOT_CLAIM",
    "SLOT_FIRST_BINDER",
    "SLOT_ITEM",
    "SLOT_OTHER",
    "AggKind",
    "Aggregate",
    "And",
    "Arith",
    "ArithOp",
    "Branch",
    "BuiltinId",
    "BuiltinInfo",
    "Call",
    "Category",
    "CmpOp",
    "Compare",
    "CompiledRules",
    "Const",
    "Constant",
    "Contains",
    "EditSeverity",
    "ElementRef",
    "Expr",
    "FieldInfo",
    "FieldRef",
    "FieldRoot",
    "InSet",
    "IsPresent",
    "LiteralSet",
    "Not",
    "Or",
    "PackHeader",
    "Reads",
    "Relation",
    "RelationKind",
    "Rule",
    "Scope",
    "SourceFormat",
    "Table",
    "TableColumn",
    "TableGet",
    "TableHas",
    "TableKind",
    "Template",
    "ValueType",
]

SLOT_CLAIM = 0
"""Slot of claim-level fields (claim, patient, subscriber, claim-level providers)."""
SLOT_ITEM = 1
"""Slot of the rule's subject in line, diagnosis and pair scope (the first line of a pair)."""
SLOT_OTHER = 2
"""Slot of the second line of a pair (``other.`` in the source)."""
SLOT_FIRST_BINDER = 3
"""Aggregates bind their element to slots from here up (innermost aggregate = highest slot)."""


class ValueType(IntEnum):
    """Static type of an expression or field."""

    BOOL = 0
    CODE = 1  # an upper-case code string (CPT, ICD-10, POS, modifier, ...), compared exactly
    TEXT = 2  # free text (names); only equality
    NUMBER = 3  # Decimal
    MONEY = 4  # Decimal, two places
    DATE = 5  # datetime.date
    CODE_SET = 6  # set of codes (line.modifiers, claim.condition_codes)
    LINES = 7  # the claim's service lines (aggregate source)
    DIAGNOSES = 8  # the claim's diagnoses (aggregate source)
    NUMBER_SET = 9  # a collection of numbers (line.diagnosis_pointers); elements are NUMBER


class Scope(IntEnum):
    """What a rule is evaluated for."""

    CLAIM = 0
    LINE = 1
    DIAGNOSIS = 2
    LINE_PAIR = 3  # ordered pairs (i, j), i != j, of lines of one claim


class FieldRoot(IntEnum):
    """Where a field lives in :class:`claims.model.Claim`."""

    CLAIM = 0
    PATIENT = 1  # Claim.member (patient, else subscriber)
    SUBSCRIBER = 2
    PROVIDER = 3  # Claim.provider(role); FieldInfo.provider_role says which
    LINE = 4  # ServiceLine
    DIAGNOSIS = 5  # Diagnosis


class Category(StrEnum):
    """The fixed edit-category vocabulary (DESIGN.md "Edit categories")."""

    STRUCTURE = "structure"
    INVALID_DIAGNOSIS = "invalid-diagnosis"
    INVALID_PROCEDURE = "invalid-procedure"
    INVALID_MODIFIER = "invalid-modifier"
    INVALID_PLACE_OF_SERVICE = "invalid-place-of-service"
    INVALID_REVENUE_CODE = "invalid-revenue-code"
    INVALID_TYPE_OF_BILL = "invalid-type-of-bill"
    INVALID_CODE = "invalid-code"
    AGE_CONFLICT = "age-conflict"
    SEX_CONFLICT = "sex-conflict"
    PRINCIPAL_DIAGNOSIS = "principal-diagnosis"
    NCCI_PTP = "ncci-ptp"
    MUE = "mue"
    ADD_ON_CODE = "add-on-code"
    MODIFIER_CONFLICT = "modifier-conflict"
    DIAGNOSIS_POINTER = "diagnosis-pointer"
    PROVIDER = "provider"
    DATES = "dates"
    CHARGES = "charges"
    DUPLICATE = "duplicate"
    TIMELY_FILING = "timely-filing"
    PRIOR_AUTHORIZATION = "prior-authorization"
    FREQUENCY = "frequency"
    COVERAGE = "coverage"
    CUSTOM = "custom"


class EditSeverity(StrEnum):
    """Severity of the edit a rule produces (not of a compiler diagnostic)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class CmpOp(IntEnum):
    """Comparison operators.  Ordering comparisons apply to numbers, money, dates and codes."""

    EQ = 0
    NE = 1
    LT = 2
    LE = 3
    GT = 4
    GE = 5


class ArithOp(IntEnum):
    """Arithmetic on numbers and money."""

    ADD = 0
    SUB = 1
    MUL = 2


class AggKind(IntEnum):
    """Aggregates over a collection (lines, diagnoses, a code set or a number set)."""

    ANY = 0  # bool: some element satisfies the predicate (false on an empty collection)
    ALL = 1  # bool: every element satisfies it (true on an empty collection)
    COUNT = 2  # number: elements satisfying the predicate (all elements if no predicate)
    SUM = 3  # number/money: sum of ``value`` over elements satisfying the predicate


class BuiltinId(IntEnum):
    """Built-in functions: signatures in :attr:`CompiledRules.builtins`; the engine implements."""

    NPI_VALID = 0  # npi_valid(code) -> bool: 10 digits and Luhn check digit with prefix 80840
    ICD10CM_VALID = 1  # icd10cm_valid(code, date) -> bool: code exists in the code set on date
    ICD10CM_BILLABLE = 2  # icd10cm_billable(code, date) -> bool: valid and billable (leaf) on date
    DAYS_BETWEEN = 3  # days_between(date, date) -> number: second minus first, in days
    AGE_ON = 4  # age_on(birth date, date) -> number: whole years
    LENGTH = 5  # length(code|text) -> number of characters
    ADD_DAYS = 6  # add_days(date, number) -> date
    VALUE_AMOUNT = 7  # value_amount(code) -> money: amount of the claim's first value code ``code``
    PROCESSING_DATE = 8  # processing_date() -> date: the date the claim is scrubbed (an argument
    # of evaluation, never the clock); missing when the caller gives none


class TableKind(IntEnum):
    """What a declared table holds."""

    CODE_SET = 0  # one key column; membership only
    PAIR = 1  # two key columns (e.g. NCCI PTP column 1 / column 2), optional value columns
    ATTRIBUTE = 2  # one key column -> value columns (per-code attributes)
    LIMIT = 3  # one key column -> one numeric value column (e.g. MUE)


class SourceFormat(IntEnum):
    """File layout a table is loaded from."""

    CSV = 0  # a CSV file inside the pack, header row names the columns
    NCCI_PTP = 1  # CMS NCCI procedure-to-procedure edit text file (tab separated)
    MUE = 2  # CMS MUE CSV (HCPCS, MUE value, MAI, rationale)


class RelationKind(IntEnum):
    """Explicit relations between rules (instead of numeric salience)."""

    SUPERSEDES = 0
    EXCLUDES = 1


# --- pack-level data -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field of the claim vocabulary (see :mod:`dsl.schema`).

    ``attribute`` is the attribute path inside the root object (e.g. ``("procedure_code",)`` on a
    ServiceLine, ``("member", "birth_date")`` is expressed as root PATIENT + ``("birth_date",)``).
    ``derived`` fields are computed (``patient.age``, ``claim.type_of_bill``).
    """

    id: int
    name: str  # "line.procedure_code" (the root as written for the claim subject)
    root: FieldRoot
    attribute: tuple[str, ...]
    type: ValueType
    derived: bool = False
    provider_role: str = ""  # claims.model.ProviderRole value when root is PROVIDER
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Constant:
    """An interned literal: str for CODE/TEXT, Decimal for NUMBER/MONEY, date, or bool."""

    type: ValueType
    value: str | Decimal | date | bool


@dataclass(frozen=True, slots=True)
class LiteralSet:
    """A literal set of codes: exact members, inclusive ranges ``lo..hi`` and prefixes.

    All entries are indices into :attr:`CompiledRules.constants`.  A code is in the set if it
    equals a member, lies in a range, or starts with a prefix.  A code ``x`` lies in the range
    ``lo..hi`` when ``lo <= x`` and (``x <= hi`` or ``x`` starts with ``hi``), in plain string
    order: the range includes the sub-codes of its upper bound (``"O00".."O9A"`` holds ``O9A211``).
    Ranges of numbers and dates are plain inclusive intervals.
    """

    members: tuple[int, ...]
    ranges: tuple[tuple[int, int], ...]
    prefixes: tuple[int, ...]
    element_type: ValueType
    span: Span


@dataclass(frozen=True, slots=True)
class TableColumn:
    """A declared key or value column: its name in the source file and its type."""

    name: str
    type: ValueType


@dataclass(frozen=True, slots=True)
class Table:
    """A declared table.  Loading rows is the pack loader's job (:mod:`dsl.tables` reads CSV)."""

    index: int
    name: str
    kind: TableKind
    keys: tuple[TableColumn, ...]
    values: tuple[TableColumn, ...]
    source_format: SourceFormat
    source_path: str  # relative to the pack directory
    effective_from: date | None
    effective_until: date | None
    span: Span


@dataclass(frozen=True, slots=True)
class BuiltinInfo:
    """A built-in's signature."""

    id: BuiltinId
    name: str
    params: tuple[ValueType, ...]
    result: ValueType


@dataclass(frozen=True, slots=True)
class PackHeader:
    """The pack header of a rule file or pack."""

    name: str
    version: str
    title: str
    claim_kinds: tuple[str, ...]  # claims.model.ClaimKind values
    depends_on: tuple[str, ...]
    span: Span


# --- expressions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Const:
    """A literal: ``constant`` indexes :attr:`CompiledRules.constants`."""

    span: Span
    type: ValueType
    constant: int


@dataclass(frozen=True, slots=True)
class FieldRef:
    """The value of field ``field`` (a :attr:`FieldInfo.id`) of the object bound to ``slot``."""

    span: Span
    type: ValueType
    field: int
    slot: int


@dataclass(frozen=True, slots=True)
class ElementRef:
    """The element bound to ``slot`` by an aggregate over a CODE_SET (a code) or a NUMBER_SET."""

    span: Span
    type: ValueType
    slot: int


@dataclass(frozen=True, slots=True)
class Not:
    """Boolean negation."""

    span: Span
    type: ValueType
    operand: Expr


@dataclass(frozen=True, slots=True)
class And:
    """Short-circuit conjunction of two or more operands."""

    span: Span
    type: ValueType
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Short-circuit disjunction of two or more operands."""

    span: Span
    type: ValueType
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    """``left op right``; operands have one type (numbers and money compare with each other)."""

    span: Span
    type: ValueType
    op: CmpOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Arith:
    """``left op right`` on numbers / money; the result type is MONEY if either side is money."""

    span: Span
    type: ValueType
    op: ArithOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class InSet:
    """``operand in {..}``: membership of a code in :attr:`CompiledRules.literal_sets` [``set``]."""

    span: Span
    type: ValueType
    operand: Expr
    set: int


@dataclass(frozen=True, slots=True)
class Contains:
    """``element in collection``; ``collection`` is a CODE_SET- or NUMBER_SET-typed expression."""

    span: Span
    type: ValueType
    element: Expr
    collection: Expr


@dataclass(frozen=True, slots=True)
class TableHas:
    """The key tuple ``keys`` is a row of table ``table`` (effective on the claim's date)."""

    span: Span
    type: ValueType
    table: int
    keys: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class TableGet:
    """Value column ``column`` (index into :attr:`Table.values`) of the row keyed by ``keys``.

    Missing when the row is absent.
    """

    span: Span
    type: ValueType
    table: int
    keys: tuple[Expr, ...]
    column: int


@dataclass(frozen=True, slots=True)
class IsPresent:
    """True when ``operand`` is not missing (non-empty code/text/set, non-None date/number)."""

    span: Span
    type: ValueType
    operand: Expr


@dataclass(frozen=True, slots=True)
class Call:
    """A built-in call; argument types match ``CompiledRules.builtins[builtin].params``."""

    span: Span
    type: ValueType
    builtin: BuiltinId
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``kind(x in source: predicate)`` / ``sum(x in source: value where predicate)``.

    Each element of ``source`` (LINES, DIAGNOSES, CODE_SET or NUMBER_SET) is bound to ``slot`` while
    ``predicate`` (may be None = always) and ``value`` (SUM only) are evaluated.
    """

    span: Span
    type: ValueType
    kind: AggKind
    slot: int
    source: Expr
    predicate: Expr | None
    value: Expr | None


Expr = (
    Const
    | FieldRef
    | ElementRef
    | Not
    | And
    | Or
    | Compare
    | Arith
    | InSet
    | Contains
    | TableHas
    | TableGet
    | IsPresent
    | Call
    | Aggregate
)
"""Any expression node."""


# --- rules -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Template:
    """A message template: literal text and interpolated expressions, in order.

    ``parts`` holds ``str`` for literal text and an :data:`Expr` for each ``{...}`` hole; the engine
    renders a missing value as the empty string, codes and text as is, money with two places, dates
    as ISO ``YYYY-MM-DD``.
    """

    parts: tuple[str | Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Branch:
    """One outcome of a rule: if ``condition`` holds (and no earlier branch did) it decides."""

    condition: Expr
    fires: bool
    message: Template
    span: Span


@dataclass(frozen=True, slots=True)
class Reads:
    """What a rule's conditions read: field ids (sorted) and table indices (sorted).

    Lets every edit explain itself ("fired because line.procedure_code=... was in table ncci_ptp").
    """

    fields: tuple[int, ...]
    tables: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """A compiled rule."""

    index: int
    id: str  # stable rule id, e.g. "GEN-0012"
    title: str
    category: Category
    severity: EditSeverity
    scope: Scope
    effective_from: date | None
    effective_until: date | None
    branches: tuple[Branch, ...]
    action: str  # X12 889 follow-up action wording, e.g. "Please Correct and Resubmit"
    allow_override: bool
    fix: str
    rationale: str
    references: tuple[str, ...]
    reads: Reads
    span: Span
    # the `field` clause: the field the edit points at (its ``field`` and ``value``); None: the
    # first field of the subject that the firing condition reads
    field: FieldRef | None = None


@dataclass(frozen=True, slots=True)
class Relation:
    """``rules[source] <kind> rules[target]`` (indices into :attr:`CompiledRules.rules`)."""

    kind: RelationKind
    source: int
    target: int
    span: Span


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """Everything the engine needs for one compiled rule file or pack."""

    pack: PackHeader | None
    fields: tuple[FieldInfo, ...]  # the whole schema; FieldRef.field indexes it
    constants: tuple[Constant, ...]
    literal_sets: tuple[LiteralSet, ...]
    tables: tuple[Table, ...]
    builtins: tuple[BuiltinInfo, ...]  # indexed by BuiltinId
    rules: tuple[Rule, ...]
    relations: tuple[Relation, ...]
