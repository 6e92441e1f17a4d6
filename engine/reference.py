"""The reference evaluator: walks the IR in plain Python, one claim at a time.  It is the oracle.

Semantics (see :mod:`dsl.ir`), with the choices the IR leaves open:

* Missing values: ``None``, ``""`` and empty collections.  Comparisons, set and table membership and
  boolean built-ins with a missing operand are false; arithmetic and value built-ins are missing.
  A condition holds only when it evaluates to ``True`` (a missing BOOL from a table is not true).
* ``sum`` skips elements whose value is missing and is 0 over no elements; ``count`` is a number.
* Effective dates: the claim's first date of service (or ``as_of``) must lie in the rule's window
  and in
  the row's and table's windows; a claim without any date only sees open windows.
* ``patient.age`` is whole years from the birth date to the claim's first date of service.
* ``add_days`` truncates its number toward zero; a date outside the calendar is missing.
* ``icd10cm_valid`` / ``icd10cm_billable``: format check (a letter, a digit, an alphanumeric, then
  up to
  four alphanumerics, no dot) plus membership in the pack's ICD-10-CM data when it has any.
  **Without
  ICD-10-CM data every syntactically valid code is treated as valid and billable.**
* Literal-set ranges of codes include the sub-codes of the upper bound: ``x`` is in ``lo..hi`` when
  ``lo <= x`` and (``x <= hi`` or ``x`` starts with ``hi``).
* ``value_amount(code)`` is the amount of the claim's first value code ``code`` (missing if none).
* ``processing_date()`` is the ``processing_date`` argument of :func:`evaluate` (the date the claims
  are scrubbed), the same for every claim; missing when it is ``None``.  Never the clock.
* Relations: suppression is decided on the edits as fired, before any suppression; ``excludes``
  suppresses the rule with the higher index.  Subjects are the claim, a line, a diagnosis or an
  ordered pair of lines.
* A pack applies to a claim when its header's ``claim_kinds`` include the claim's kind (or are
  empty).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from claims.model import Claim, Diagnosis, ServiceLine
from dsl.ir import (
    SLOT_CLAIM,
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
    Const,
    Contains,
    ElementRef,
    Expr,
    FieldRef,
    FieldRoot,
    InSet,
    IsPresent,
    Not,
    Or,
    RelationKind,
    Rule,
    Scope,
    TableGet,
    TableHas,
    ValueType,
)
from engine.edits import Edit, edit_location, optum_path, span_text
from engine.icd10cm import code_set_on
from engine.pack import PackData
from engine.values import (
    Value,
    add_days,
    age_on,
    field_value,
    is_missing,
    is_phi,
    render_money,
    render_value,
    window_contains,
)

__all__ = [
    "Finding",
    "HasPackData",
    "evaluate",
    "finish",
    "icd10cm_format",
    "npi_valid",
    "pack_applies",
    "rule_findings",
    "value_amount",
]


class HasPackData(Protocol):
    """A PackData or a compiled pack that holds one."""

    @property
    def data(self) -> PackData:
        """The pack's data."""
        ...


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """A firing branch on a subject, before relations: the common output of both evaluators.

    ``item`` is the line or diagnosis position (-1 in claim scope); ``other`` the second line of a
    pair (-1 otherwise).
    """

    claim: int
    pack: int
    rule: int
    branch: int
    item: int = -1
    other: int = -1


def npi_valid(code: str) -> bool:
    """10 digits whose last is the Luhn check digit of ``"80840" + first nine``."""
    if len(code) != 10 or not code.isascii() or not code.isdigit():
        return False
    digits = "80840" + code[:9]
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10 == ord(code[9]) - 48


def value_amount(claim: Claim, code: Value) -> Decimal | None:
    """The amount of the claim's first value code ``code``; None (missing) when it has none."""
    for vc in claim.value_codes:
        if vc.code == code:
            return vc.amount
    return None


def icd10cm_format(code: str) -> bool:
    """Letter, digit, alphanumeric, then 0-4 alphanumerics (upper case, no dot)."""
    if not 3 <= len(code) <= 7 or not code.isascii():
        return False
    if not ("A" <= code[0] <= "Z") or not code[1].isdigit():
        return False
    return all(c.isdigit() or "A" <= c <= "Z" for c in code[2:])


@dataclass(slots=True)
class _Env:
    claim: Claim
    on: date | None
    pack: PackData
    slots: dict[int, object] = field(default_factory=dict)
    trace: list[tuple[int, int]] | None = None
    processing_date: date | None = None


def _cmp(op: CmpOp, a: object, b: object) -> bool:
    x: object = a
    y: object = b
    if op is CmpOp.EQ:
        return x == y
    if op is CmpOp.NE:
        return x != y
    if isinstance(x, bool) or isinstance(y, bool):
        return False  # booleans are not ordered
    try:
        if op is CmpOp.LT:
            return bool(x < y)  # type: ignore[operator]
        if op is CmpOp.LE:
            return bool(x <= y)  # type: ignore[operator]
        if op is CmpOp.GT:
            return bool(x > y)  # type: ignore[operator]
        return bool(x >= y)  # type: ignore[operator]
    except TypeError:
        return False


def _in_set(env: _Env, value: Value, set_index: int) -> bool:
    if is_missing(value):
        return False
    ls = env.pack.rules.literal_sets[set_index]
    consts = env.pack.rules.constants
    for m in ls.members:
        if consts[m].value == value:
            return True
    for lo, hi in ls.ranges:
        low, high = consts[lo].value, consts[hi].value
        if not _cmp(CmpOp.LE, low, value):
            continue
        if _cmp(CmpOp.LE, value, high):
            return True
        if isinstance(value, str) and isinstance(high, str) and value.startswith(high):
            return True  # a range includes the sub-codes of its upper bound
    if isinstance(value, str):
        for p in ls.prefixes:
            prefix = consts[p].value
            if isinstance(prefix, str) and value.startswith(prefix):
                return True
    return False


def _table_row(env: _Env, table: int, keys: tuple[Expr, ...]) -> int:
    values = tuple(ev(k, env) for k in keys)
    if any(is_missing(v) for v in values):
        return -1
    loaded = env.pack.tables[table]
    for row in loaded.rows_for(values):
        if loaded.row_effective(row, env.on):
            if env.trace is not None:
                env.trace.append((table, row))
            return row
    return -1


def _call(e: Call, env: _Env) -> Value:
    b = e.builtin
    if b is BuiltinId.PROCESSING_DATE:
        return env.processing_date
    args = [ev(a, env) for a in e.args]
    if any(is_missing(a) for a in args):
        return False if e.type is ValueType.BOOL else None
    if b is BuiltinId.VALUE_AMOUNT:
        return value_amount(env.claim, args[0])
    if b is BuiltinId.NPI_VALID:
        return isinstance(args[0], str) and npi_valid(args[0])
    if b in (BuiltinId.ICD10CM_VALID, BuiltinId.ICD10CM_BILLABLE):
        code = args[0]
        if not isinstance(code, str) or not icd10cm_format(code):
            return False
        sets = env.pack.icd_sets
        if not sets:
            return True
        on = args[1]
        assert isinstance(on, date)
        data = code_set_on(sets, on).codes  # the release in force on that date
        if b is BuiltinId.ICD10CM_VALID:
            return code in data
        return data.get(code, False)
    if b is BuiltinId.DAYS_BETWEEN:
        a0, a1 = args
        assert isinstance(a0, date) and isinstance(a1, date)
        return Decimal((a1 - a0).days)
    if b is BuiltinId.AGE_ON:
        a0, a1 = args
        assert isinstance(a0, date) and isinstance(a1, date)
        return Decimal(age_on(a0, a1))
    if b is BuiltinId.LENGTH:
        s = args[0]
        assert isinstance(s, str)
        return Decimal(len(s))
    a0, a1 = args
    assert isinstance(a0, date) and isinstance(a1, Decimal)
    return add_days(a0, a1)


def _aggregate(e: Aggregate, env: _Env) -> Value:
    source = ev(e.source, env)
    elements = source if isinstance(source, tuple) else ()
    count = 0
    total = Decimal(0)
    saved = env.slots.get(e.slot)
    try:
        for element in elements:
            if isinstance(element, str) and not element:
                continue
            env.slots[e.slot] = element
            ok = e.predicate is None or ev(e.predicate, env) is True
            if e.kind is AggKind.ANY and ok:
                return True
            if e.kind is AggKind.ALL and not ok:
                return False
            if ok:
                count += 1
                if e.kind is AggKind.SUM and e.value is not None:
                    v = ev(e.value, env)
                    if isinstance(v, Decimal):
                        total += v
    finally:
        if saved is None:
            env.slots.pop(e.slot, None)
        else:
            env.slots[e.slot] = saved
    if e.kind is AggKind.ANY:
        return False
    if e.kind is AggKind.ALL:
        return True
    return Decimal(count) if e.kind is AggKind.COUNT else total


def ev(e: Expr, env: _Env) -> Value:
    """Evaluate ``e`` in ``env``."""
    if isinstance(e, Const):
        return env.pack.rules.constants[e.constant].value
    if isinstance(e, FieldRef):
        info = env.pack.rules.fields[e.field]
        bound = (
            env.slots.get(e.slot) if info.root in (FieldRoot.LINE, FieldRoot.DIAGNOSIS) else None
        )
        if info.root in (FieldRoot.LINE, FieldRoot.DIAGNOSIS) and not isinstance(
            bound, ServiceLine | Diagnosis
        ):
            raise ValueError(f"{info.name}: slot {e.slot} is not bound to a line or diagnosis")
        return field_value(env.claim, info, bound)  # type: ignore[arg-type]
    if isinstance(e, ElementRef):
        v = env.slots.get(e.slot)
        if e.type is ValueType.NUMBER:
            return v if isinstance(v, Decimal) else None
        return v if isinstance(v, str) else ""
    if isinstance(e, Not):
        return ev(e.operand, env) is not True
    if isinstance(e, And):
        return all(ev(o, env) is True for o in e.operands)
    if isinstance(e, Or):
        return any(ev(o, env) is True for o in e.operands)
    if isinstance(e, Compare):
        a, b = ev(e.left, env), ev(e.right, env)
        if is_missing(a) or is_missing(b):
            return False
        return _cmp(e.op, a, b)
    if isinstance(e, Arith):
        a, b = ev(e.left, env), ev(e.right, env)
        if not isinstance(a, Decimal) or not isinstance(b, Decimal):
            return None
        if e.op is ArithOp.ADD:
            return a + b
        return a - b if e.op is ArithOp.SUB else a * b
    if isinstance(e, InSet):
        return _in_set(env, ev(e.operand, env), e.set)
    if isinstance(e, Contains):
        element, collection = ev(e.element, env), ev(e.collection, env)
        if is_missing(element) or not isinstance(collection, tuple):
            return False
        return element in collection
    if isinstance(e, TableHas):
        return _table_row(env, e.table, e.keys) >= 0
    if isinstance(e, TableGet):
        row = _table_row(env, e.table, e.keys)
        if row < 0:
            return "" if e.type in (ValueType.CODE, ValueType.TEXT) else None
        return env.pack.tables[e.table].values[e.column].value(row)
    if isinstance(e, IsPresent):
        return not is_missing(ev(e.operand, env))
    if isinstance(e, Call):
        return _call(e, env)
    return _aggregate(e, env)


def pack_applies(pack: PackData, claim: Claim) -> bool:
    """Whether the pack's claim kinds include the claim's kind."""
    kinds = pack.claim_kinds
    return not kinds or str(claim.kind.value) in kinds


def claim_date(claim: Claim, as_of: date | None) -> date | None:
    """The date that selects rules and table rows."""
    return as_of if as_of is not None else claim.first_service_date


def _subjects(rule: Rule, claim: Claim) -> Iterator[tuple[int, int, dict[int, object]]]:
    if rule.scope is Scope.CLAIM:
        yield -1, -1, {}
    elif rule.scope is Scope.LINE:
        for i, ln in enumerate(claim.lines):
            yield i, -1, {SLOT_ITEM: ln}
    elif rule.scope is Scope.DIAGNOSIS:
        for i, dx in enumerate(claim.diagnoses):
            yield i, -1, {SLOT_ITEM: dx}
    else:
        for i, ln in enumerate(claim.lines):
            for j, other in enumerate(claim.lines):
                if i != j:
                    yield i, j, {SLOT_ITEM: ln, SLOT_OTHER: other}


def rule_findings(
    pack: PackData,
    pack_pos: int,
    rule: Rule,
    claim: Claim,
    claim_index: int,
    on: date | None,
    processing_date: date | None = None,
) -> Iterator[Finding]:
    """The findings of one rule on one claim (the rule's window already checked)."""
    env = _Env(claim, on, pack, processing_date=processing_date)
    for item, other, slots in _subjects(rule, claim):
        env.slots = slots
        for b, branch in enumerate(rule.branches):
            if ev(branch.condition, env) is True:
                if branch.fires:
                    yield Finding(claim_index, pack_pos, rule.index, b, item, other)
                break


def claim_findings(
    packs: Sequence[PackData],
    claim: Claim,
    claim_index: int,
    as_of: date | None,
    processing_date: date | None = None,
) -> list[Finding]:
    """Findings of every applicable rule of every applicable pack on one claim."""
    on = claim_date(claim, as_of)
    out: list[Finding] = []
    for p, pack in enumerate(packs):
        if not pack_applies(pack, claim):
            continue
        for rule in pack.rules.rules:
            if window_contains(rule.effective_from, rule.effective_until, on):
                out.extend(rule_findings(pack, p, rule, claim, claim_index, on, processing_date))
    return out


def evaluate(
    packs: Sequence[HasPackData],
    claims: Sequence[Claim],
    *,
    as_of: date | None = None,
    explain: bool = False,
    processing_date: date | None = None,
) -> list[Edit]:
    """Evaluate ``packs`` on ``claims``, one claim at a time; edits in stable order.

    ``processing_date`` is the value of ``processing_date()`` (missing when None).
    """
    data = [p.data for p in packs]
    findings: list[Finding] = []
    for ci, claim in enumerate(claims):
        findings.extend(claim_findings(data, claim, ci, as_of, processing_date))
    return finish(
        data, claims, findings, as_of=as_of, explain=explain, processing_date=processing_date
    )


# --- from findings to edits (shared by both evaluators) -----------------------------------------


def _subject_key(rule: Rule, f: Finding) -> tuple[int, int, int, int]:
    return (f.claim, int(rule.scope), f.item, f.other)


def _apply_relations(packs: Sequence[PackData], findings: list[Finding]) -> list[Finding]:
    suppressed: set[tuple[int, int, tuple[int, int, int, int]]] = set()
    fired: set[tuple[int, int, tuple[int, int, int, int]]] = set()
    for f in findings:
        fired.add((f.pack, f.rule, _subject_key(packs[f.pack].rules.rules[f.rule], f)))
    for f in findings:
        rules = packs[f.pack].rules
        key = _subject_key(rules.rules[f.rule], f)
        for rel in rules.relations:
            if rel.kind is RelationKind.SUPERSEDES and rel.target == f.rule:
                if (f.pack, rel.source, key) in fired:
                    suppressed.add((f.pack, f.rule, key))
            elif rel.kind is RelationKind.EXCLUDES and f.rule in (rel.source, rel.target):
                other = rel.target if f.rule == rel.source else rel.source
                if other < f.rule and (f.pack, other, key) in fired:
                    suppressed.add((f.pack, f.rule, key))
    if not suppressed:
        return findings
    return [
        f
        for f in findings
        if (f.pack, f.rule, _subject_key(packs[f.pack].rules.rules[f.rule], f)) not in suppressed
    ]


def _order(packs: Sequence[PackData], f: Finding) -> tuple[int, int, int, int, int, int]:
    scope = packs[f.pack].rules.rules[f.rule].scope
    line_key = f.item + 1 if scope in (Scope.LINE, Scope.LINE_PAIR) else 0
    dx_key = f.item if scope is Scope.DIAGNOSIS else -1
    return (f.claim, f.pack, line_key, f.rule, f.other, dx_key)


def finish(
    packs: Sequence[PackData],
    claims: Sequence[Claim],
    findings: list[Finding],
    *,
    as_of: date | None,
    explain: bool,
    processing_date: date | None = None,
) -> list[Edit]:
    """Apply relations, order the findings and turn them into edits."""
    kept = _apply_relations(packs, findings) if any(p.rules.relations for p in packs) else findings
    kept = sorted(set(kept), key=lambda f: _order(packs, f))
    return [
        build_edit(
            packs[f.pack],
            claims[f.claim],
            f,
            as_of=as_of,
            explain=explain,
            processing_date=processing_date,
        )
        for f in kept
    ]


def _subject_env(
    pack: PackData,
    rule: Rule,
    claim: Claim,
    f: Finding,
    on: date | None,
    processing_date: date | None = None,
) -> _Env:
    env = _Env(claim, on, pack, processing_date=processing_date)
    if rule.scope in (Scope.LINE, Scope.LINE_PAIR):
        env.slots[SLOT_ITEM] = claim.lines[f.item]
    if rule.scope is Scope.LINE_PAIR:
        env.slots[SLOT_OTHER] = claim.lines[f.other]
    if rule.scope is Scope.DIAGNOSIS:
        env.slots[SLOT_ITEM] = claim.diagnoses[f.item]
    return env


def _first_subject_field(e: Expr, subject_slot: int) -> FieldRef | None:
    if isinstance(e, FieldRef):
        return e if e.slot == subject_slot and e.type not in _SOURCES else None
    for child in _children(e):
        hit = _first_subject_field(child, subject_slot)
        if hit is not None:
            return hit
    return None


_SOURCES = (ValueType.LINES, ValueType.DIAGNOSES)


def _children(e: Expr) -> tuple[Expr, ...]:
    if isinstance(e, Not | IsPresent):
        return (e.operand,)
    if isinstance(e, And | Or):
        return e.operands
    if isinstance(e, Compare | Arith):
        return (e.left, e.right)
    if isinstance(e, InSet):
        return (e.operand,)
    if isinstance(e, Contains):
        return (e.element, e.collection)
    if isinstance(e, TableHas | TableGet):
        return e.keys
    if isinstance(e, Call):
        return e.args
    if isinstance(e, Aggregate):
        rest = tuple(x for x in (e.predicate, e.value) if x is not None)
        return (e.source, *rest)
    return ()


def _render(e: Expr, env: _Env) -> str:
    v = ev(e, env)
    if e.type is ValueType.MONEY and isinstance(v, Decimal):
        return render_money(v)
    return render_value(v)


def build_edit(
    pack: PackData,
    claim: Claim,
    f: Finding,
    *,
    as_of: date | None,
    explain: bool,
    processing_date: date | None = None,
) -> Edit:
    """The edit for one finding: message, field path, value, location, explanation."""
    rule = pack.rules.rules[f.rule]
    branch = rule.branches[f.branch]
    env = _subject_env(pack, rule, claim, f, claim_date(claim, as_of), processing_date)
    message = "".join(p if isinstance(p, str) else _render(p, env) for p in branch.message.parts)
    subject_slot = SLOT_CLAIM if rule.scope is Scope.CLAIM else SLOT_ITEM
    ref = (
        rule.field
        if rule.field is not None
        else _first_subject_field(branch.condition, subject_slot)
    )
    line_pos = f.item if rule.scope in (Scope.LINE, Scope.LINE_PAIR) else -1
    dx_pos = f.item if rule.scope is Scope.DIAGNOSIS else -1
    path, value = "claimInformation", ""
    if ref is not None:
        info = pack.rules.fields[ref.field]
        # a `field other.x` clause points at the pair's other line
        path_line = (
            f.other if ref.slot == SLOT_OTHER and rule.scope is Scope.LINE_PAIR else line_pos
        )
        path = optum_path(claim, info, path_line, dx_pos)
        value = "" if is_phi(info) else render_value(ev(ref, env))
    if rule.scope is Scope.LINE:
        lines: tuple[int, ...] = (f.item + 1,)
    elif rule.scope is Scope.LINE_PAIR:
        lines = (f.item + 1, f.other + 1)
    else:
        lines = ()
    return Edit(
        claim_index=f.claim,
        rule_id=rule.id,
        pack=pack.name,
        pack_version=pack.version,
        category=str(rule.category.value),
        severity=str(rule.severity.value),
        message=message,
        field=path,
        value=value,
        location=edit_location(claim, line_pos, dx_pos),
        lines=lines,
        diagnosis=claim.diagnoses[dx_pos].code if dx_pos >= 0 else "",
        action=rule.action,
        allow_override=rule.allow_override,
        rule_span=span_text(rule.span),
        explanation=_explain(pack, rule, branch.condition, env) if explain else None,
    )


def _explain(pack: PackData, rule: Rule, condition: Expr, env: _Env) -> Mapping[str, object]:
    out: dict[str, object] = {}
    for fid in rule.reads.fields:
        info = pack.rules.fields[fid]
        if info.type in _SOURCES:
            continue
        if info.root in (FieldRoot.LINE, FieldRoot.DIAGNOSIS):
            bound = env.slots.get(SLOT_ITEM)
            want = ServiceLine if info.root is FieldRoot.LINE else Diagnosis
            if isinstance(bound, want):
                out[info.name] = (
                    "" if is_phi(info) else render_value(field_value(env.claim, info, bound))
                )
            other = env.slots.get(SLOT_OTHER)
            if info.root is FieldRoot.LINE and isinstance(other, ServiceLine):
                out["other." + info.name.split(".", 1)[-1]] = render_value(
                    field_value(env.claim, info, other)
                )
            if not isinstance(bound, want):
                items = env.claim.lines if info.root is FieldRoot.LINE else env.claim.diagnoses
                out[info.name] = [render_value(field_value(env.claim, info, x)) for x in items]
        else:
            out[info.name] = "" if is_phi(info) else render_value(field_value(env.claim, info))
    env.trace = []
    ev(condition, env)
    rows = []
    for table, row in env.trace:
        loaded = pack.tables[table]
        rows.append({"table": loaded.table.name, **loaded.row_dict(row)})
    out["rows"] = rows
    return out
