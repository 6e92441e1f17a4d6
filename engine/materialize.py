"""Fast edit materialisation for the Numba path: each rule branch compiled once into closures.

:func:`engine.reference.build_edit` walks the IR for every edit (message holes, the subject field,
its Optum path).  Here each branch is compiled once per pack into an :class:`EditTemplate`: literal
message parts pre-joined, field holes read through precomputed accessors, the subject field's path
precomputed per root; only holes that need the evaluator (aggregates, calls, tables) run the
generic walker.  The output is identical to ``build_edit`` (the differential test compares the
Numba path, which uses this module, with the reference evaluator, which uses ``build_edit``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from claims.fastbuild import fast_constructor
from claims.model import Claim, ClaimKind, Diagnosis, ServiceLine
from dsl.ir import (
    SLOT_CLAIM,
    SLOT_ITEM,
    SLOT_OTHER,
    AggKind,
    Aggregate,
    And,
    Branch,
    BuiltinId,
    Call,
    Compare,
    Const,
    ElementRef,
    Expr,
    FieldInfo,
    FieldRef,
    FieldRoot,
    IsPresent,
    Not,
    Or,
    Rule,
    Scope,
    TableGet,
    TableHas,
    ValueType,
)
from engine.edits import Edit, edit_location, optum_path, span_text
from engine.pack import PackData
from engine.reference import (
    Finding,
    _children,
    _cmp,
    _Env,
    _first_subject_field,
    _subject_env,
    build_edit,
    claim_date,
    ev,
)
from engine.values import (
    Value,
    field_accessor,
    is_missing,
    is_phi,
    render_money,
    render_value,
)

__all__ = ["EditTemplate", "PackTemplates", "compile_expr"]

# Edits are built once per finding: the frozen dataclass __init__ costs 1.1 us, this 0.2 us.
_new_edit = fast_constructor(Edit)

Hole = Callable[[Claim, object, object, "_Lazy"], str]
"""``(claim, item, other, lazy env) -> rendered text``."""

_LINE_OR_DX = (FieldRoot.LINE, FieldRoot.DIAGNOSIS)


class _Lazy:
    """The reference environment of one edit, built on first need (generic holes only)."""

    __slots__ = ("as_of", "claim", "env", "item", "other", "pack", "processing_date", "rule")

    def __init__(
        self,
        pack: PackData,
        rule: Rule,
        claim: Claim,
        item: int,
        other: int,
        as_of: date | None,
        processing_date: date | None = None,
    ) -> None:
        self.pack, self.rule, self.claim, self.as_of = pack, rule, claim, as_of
        self.item, self.other = item, other
        self.processing_date = processing_date
        self.env: _Env | None = None

    def get(self) -> _Env:
        if self.env is None:
            on = claim_date(self.claim, self.as_of)
            f = Finding(0, 0, self.rule.index, 0, self.item, self.other)
            self.env = _subject_env(self.pack, self.rule, self.claim, f, on, self.processing_date)
        return self.env


def _render_fast(v: Value, money: bool) -> str:
    if type(v) is str:
        return v
    if money and isinstance(v, Decimal):
        return render_money(v)
    return render_value(v)


def _bound_slot(rule: Rule, ref: FieldRef, info: FieldInfo) -> int | None:
    """Which subject a field hole reads: 0 none (claim level), 1 item, 2 other; None: generic."""
    if info.root not in _LINE_OR_DX:
        return 0
    want = Scope.DIAGNOSIS if info.root is FieldRoot.DIAGNOSIS else None
    if ref.slot == SLOT_ITEM:
        if want is Scope.DIAGNOSIS:
            return 1 if rule.scope is Scope.DIAGNOSIS else None
        return 1 if rule.scope in (Scope.LINE, Scope.LINE_PAIR) else None
    if ref.slot == SLOT_OTHER and info.root is FieldRoot.LINE and rule.scope is Scope.LINE_PAIR:
        return 2
    return None


def _hole(pack: PackData, rule: Rule, e: Expr, *, plain: bool = False) -> str | Hole:
    money = e.type is ValueType.MONEY and not plain
    if isinstance(e, Const):
        v = pack.rules.constants[e.constant].value
        return _render_fast(v, money)
    if isinstance(e, FieldRef):
        info = pack.rules.fields[e.field]
        which = _bound_slot(rule, e, info)
        if which is not None:
            get = field_accessor(info)
            if which == 0:
                return lambda claim, item, other, lazy: _render_fast(get(claim, None), money)
            if which == 1:
                return lambda claim, item, other, lazy: _render_fast(get(claim, item), money)
            return lambda claim, item, other, lazy: _render_fast(get(claim, other), money)

    fn = compile_expr(pack, e)

    def generic(claim: Claim, item: object, other: object, lazy: _Lazy) -> str:
        v = fn(lazy.get())
        if not plain and money and isinstance(v, Decimal):
            return render_money(v)
        return render_value(v)

    return generic


def _message(pack: PackData, rule: Rule, branch: Branch) -> str | list[str | Hole]:
    parts: list[str | Hole] = []
    for p in branch.message.parts:
        piece = p if isinstance(p, str) else _hole(pack, rule, p)
        if isinstance(piece, str) and parts and isinstance(parts[-1], str):
            parts[-1] += piece
        else:
            parts.append(piece)
    if not parts:
        return ""
    if len(parts) == 1 and isinstance(parts[0], str):
        return parts[0]
    return parts


def _path(info: FieldInfo) -> Callable[[Claim, int, int], str] | str:
    if info.root in (FieldRoot.CLAIM, FieldRoot.SUBSCRIBER, FieldRoot.PROVIDER):
        return optum_path(Claim(ClaimKind.PROFESSIONAL, "", "", Decimal(0), "", ""), info)
    if info.root is FieldRoot.LINE:
        prof = optum_path(Claim(ClaimKind.PROFESSIONAL, "", "", Decimal(0), "", ""), info, 0)
        inst = optum_path(Claim(ClaimKind.INSTITUTIONAL, "", "", Decimal(0), "", ""), info, 0)
        head = "claimInformation.serviceLines["
        assert prof.startswith(head + "0]") and inst.startswith(head + "0]")
        prof_tail, inst_tail = prof[len(head) + 1 :], inst[len(head) + 1 :]

        def line_path(claim: Claim, line: int, dx: int) -> str:
            tail = prof_tail if claim.kind is ClaimKind.PROFESSIONAL else inst_tail
            return f"{head}{max(line, 0)}{tail}"

        return line_path

    def other_path(claim: Claim, line: int, dx: int) -> str:
        return optum_path(claim, info, line, dx)

    return other_path


Compiled = Callable[[_Env], Value]


def compile_expr(pack: PackData, e: Expr) -> Compiled:
    """A closure equal to ``ev(e, env)`` (:func:`engine.reference.ev`) without its dispatch."""
    consts = pack.rules.constants
    if isinstance(e, Const):
        value = consts[e.constant].value
        return lambda env: value
    if isinstance(e, FieldRef):
        info = pack.rules.fields[e.field]
        acc = field_accessor(info)
        if info.root not in _LINE_OR_DX:
            return lambda env: acc(env.claim, None)
        slot = e.slot

        def bound_field(env: _Env) -> Value:
            bound = env.slots.get(slot)
            if not isinstance(bound, ServiceLine | Diagnosis):
                raise ValueError(f"{info.name}: slot {slot} is not bound to a line or diagnosis")
            return acc(env.claim, bound)

        return bound_field
    if isinstance(e, ElementRef):
        eslot, number = e.slot, e.type is ValueType.NUMBER

        def element(env: _Env) -> Value:
            v = env.slots.get(eslot)
            if number:
                return v if isinstance(v, Decimal) else None
            return v if isinstance(v, str) else ""

        return element
    if isinstance(e, Not):
        op = compile_expr(pack, e.operand)
        return lambda env: op(env) is not True
    if isinstance(e, And):
        ops = [compile_expr(pack, o) for o in e.operands]
        return lambda env: all(o(env) is True for o in ops)
    if isinstance(e, Or):
        ops = [compile_expr(pack, o) for o in e.operands]
        return lambda env: any(o(env) is True for o in ops)
    if isinstance(e, Compare):
        left, right, cop = compile_expr(pack, e.left), compile_expr(pack, e.right), e.op

        def compare(env: _Env) -> Value:
            a, b = left(env), right(env)
            if is_missing(a) or is_missing(b):
                return False
            return _cmp(cop, a, b)

        return compare
    if isinstance(e, IsPresent):
        op = compile_expr(pack, e.operand)
        return lambda env: not is_missing(op(env))
    if isinstance(e, TableGet):
        keys = [compile_expr(pack, k) for k in e.keys]
        table, column = e.table, e.column
        empty: Value = "" if e.type in (ValueType.CODE, ValueType.TEXT) else None

        def table_get(env: _Env) -> Value:
            row = _row(env, table, keys)
            if row < 0:
                return empty
            return env.pack.tables[table].values[column].value(row)

        return table_get
    if isinstance(e, TableHas):
        keys = [compile_expr(pack, k) for k in e.keys]
        table = e.table
        return lambda env: _row(env, table, keys) >= 0
    if isinstance(e, Aggregate):
        return _compile_aggregate(pack, e)
    return lambda env: ev(e, env)


def _row(env: _Env, table: int, keys: list[Compiled]) -> int:
    values = tuple(k(env) for k in keys)
    if any(is_missing(v) for v in values):
        return -1
    loaded = env.pack.tables[table]
    for row in loaded.rows_for(values):
        if loaded.row_effective(row, env.on):
            if env.trace is not None:
                env.trace.append((table, row))
            return int(row)
    return -1


def _compile_aggregate(pack: PackData, e: Aggregate) -> Compiled:
    source = compile_expr(pack, e.source)
    pred = None if e.predicate is None else compile_expr(pack, e.predicate)
    val = None if e.value is None else compile_expr(pack, e.value)
    kind, slot = e.kind, e.slot
    is_any, is_all, is_sum = kind is AggKind.ANY, kind is AggKind.ALL, kind is AggKind.SUM

    def aggregate(env: _Env) -> Value:
        src = source(env)
        elements = src if isinstance(src, tuple) else ()
        count = 0
        total = Decimal(0)
        slots = env.slots
        saved = slots.get(slot)
        try:
            for element in elements:
                if isinstance(element, str) and not element:
                    continue
                slots[slot] = element
                ok = pred is None or pred(env) is True
                if is_any and ok:
                    return True
                if is_all and not ok:
                    return False
                if ok:
                    count += 1
                    if is_sum and val is not None:
                        v = val(env)
                        if isinstance(v, Decimal):
                            total += v
        finally:
            if saved is None:
                slots.pop(slot, None)
            else:
                slots[slot] = saved
        if is_any:
            return False
        if is_all:
            return True
        return Decimal(count) if kind is AggKind.COUNT else total

    return aggregate


def _fields_read(pack: PackData, e: Expr, out: set[str]) -> None:
    """Add the names of the claim fields evaluating ``e`` reads.

    ``value_amount(..)`` reads ``claim.value_codes`` (its implementation walks them).
    """
    if isinstance(e, FieldRef):
        out.add(pack.rules.fields[e.field].name)
    elif isinstance(e, Call) and e.builtin is BuiltinId.VALUE_AMOUNT:
        out.add("claim.value_codes")
    for child in _children(e):
        _fields_read(pack, child, out)


#: What building any edit reads besides its holes: the subject line or diagnosis (through the
#: claim's sources), and the date a generic hole is evaluated on (``claim_date``).
_ALWAYS_READ = frozenset({"claim.lines", "claim.diagnoses", "claim.first_service_date"})


class EditTemplate:
    """One rule branch compiled for materialising edits."""

    __slots__ = (
        "action",
        "allow_override",
        "category",
        "message",
        "pack",
        "pack_data",
        "pack_version",
        "path",
        "path_other",
        "phi",
        "reads",
        "rule",
        "rule_id",
        "scope",
        "severity",
        "span",
        "value",
    )

    def __init__(self, pack: PackData, rule: Rule, branch: Branch) -> None:
        self.pack_data, self.rule = pack, rule
        self.rule_id, self.pack, self.pack_version = rule.id, pack.name, pack.version
        self.category, self.severity = str(rule.category.value), str(rule.severity.value)
        self.action, self.allow_override = rule.action, rule.allow_override
        self.span = span_text(rule.span)
        self.scope = rule.scope
        self.message = _message(pack, rule, branch)
        subject_slot = SLOT_CLAIM if rule.scope is Scope.CLAIM else SLOT_ITEM
        ref = rule.field
        if ref is None:
            ref = _first_subject_field(branch.condition, subject_slot)
        # a `field other.x` clause points at the pair's other line
        self.path_other = (
            ref is not None and ref.slot == SLOT_OTHER and self.scope is Scope.LINE_PAIR
        )
        self.path: Callable[[Claim, int, int], str] | str = "claimInformation"
        self.value: Hole | None = None
        self.phi = True
        reads = set(_ALWAYS_READ)
        for part in branch.message.parts:
            if not isinstance(part, str):
                _fields_read(pack, part, reads)
        if ref is not None:
            _fields_read(pack, ref, reads)
        #: Names of the claim fields an edit of this branch reads (message, value, path): a
        #: claim that provides only some fields (``claims.x12.scanclaims``) can be given to
        #: :meth:`edit` when it provides these.  Explanations read more (the conditions).
        self.reads = frozenset(reads)
        if ref is not None:
            info = pack.rules.fields[ref.field]
            self.path = _path(info)
            self.phi = is_phi(info)
            if not self.phi:
                hole = _hole(pack, rule, ref, plain=True)
                assert not isinstance(hole, str)  # a field hole is never a constant
                self.value = hole

    def edit(
        self,
        claim: Claim,
        index: int,
        item_pos: int,
        other_pos: int,
        as_of: date | None,
        processing_date: date | None = None,
    ) -> Edit:
        """The edit of this branch firing on ``claim`` (subject ``item_pos``/``other_pos``)."""
        scope = self.scope
        item: object = None
        other: object = None
        line_pos = dx_pos = -1
        if scope is Scope.LINE:
            line_pos = item_pos
            item = claim.lines[item_pos]
            lines: tuple[int, ...] = (item_pos + 1,)
        elif scope is Scope.LINE_PAIR:
            line_pos = item_pos
            item = claim.lines[item_pos]
            other = claim.lines[other_pos]
            lines = (item_pos + 1, other_pos + 1)
        elif scope is Scope.DIAGNOSIS:
            dx_pos = item_pos
            item = claim.diagnoses[item_pos]
            lines = ()
        else:
            lines = ()
        lazy = _Lazy(self.pack_data, self.rule, claim, item_pos, other_pos, as_of, processing_date)
        msg = self.message
        if type(msg) is not str:
            msg = "".join(
                p if type(p) is str else p(claim, item, other, lazy)  # type: ignore[operator]
                for p in msg
            )
        path = self.path
        if type(path) is not str:
            path_line = other_pos if self.path_other else line_pos
            path = path(claim, path_line, dx_pos)  # type: ignore[operator]
        value = "" if self.value is None else self.value(claim, item, other, lazy)
        return _new_edit(
            index,
            self.rule_id,
            self.pack,
            self.pack_version,
            self.category,
            self.severity,
            msg,
            path,
            value,
            edit_location(claim, line_pos, dx_pos),
            lines,
            claim.diagnoses[dx_pos].code if dx_pos >= 0 else "",
            self.action,
            self.allow_override,
            self.span,
            None,
        )


class PackTemplates:
    """Edit templates of one pack, compiled on first use per rule branch."""

    __slots__ = ("_cache", "pack")

    def __init__(self, pack: PackData) -> None:
        self.pack = pack
        self._cache: dict[tuple[int, int], EditTemplate] = {}

    def template(self, rule: int, branch: int) -> EditTemplate:
        """The template of ``branch`` of rule ``rule``."""
        key = (rule, branch)
        t = self._cache.get(key)
        if t is None:
            r = self.pack.rules.rules[rule]
            t = self._cache[key] = EditTemplate(self.pack, r, r.branches[branch])
        return t

    def explained(
        self, claim: Claim, f: Finding, *, as_of: date | None, processing_date: date | None = None
    ) -> Edit:
        """An edit with its explanation (the generic path: explanations are rare)."""
        return build_edit(
            self.pack, claim, f, as_of=as_of, explain=True, processing_date=processing_date
        )
