"""``ClaimBatch.build`` lays out exactly what ``field_value`` reads, for every field of the schema.

Why this test: the batch builder has fast paths (distinct-value caches, one ``getattr`` pass per
claim-level field, the first date of service computed once); the differential test only sees the
fields its random rules happen to read.  Here every field of the vocabulary is built and decoded.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from claims.model import Claim, Diagnosis, ServiceLine
from dsl.ir import FieldRoot, ValueType
from dsl.schema import DEFAULT_SCHEMA
from engine.batch import (
    GROUP_CLAIM,
    GROUP_CLAIM_SET,
    GROUP_DX,
    GROUP_LINE,
    GROUP_LINE_SET,
    ClaimBatch,
    Interner,
)
from engine.values import MISS, date_to_days, encode_number, field_value
from tests.claims.strategies import claims as claim_strategy

FIELDS = [f for f in DEFAULT_SCHEMA.fields if f.type not in (ValueType.LINES, ValueType.DIAGNOSES)]


def _expected(value: object, t: ValueType, interner: Interner) -> object:
    if t in (ValueType.CODE, ValueType.TEXT):
        return MISS if value == "" else interner.intern(str(value))
    if t is ValueType.DATE:
        return MISS if value is None else date_to_days(value)  # type: ignore[arg-type]
    if t is ValueType.BOOL:
        return int(bool(value))
    if t in (ValueType.NUMBER, ValueType.MONEY):
        if value is None:
            return MISS
        enc = encode_number(value)  # type: ignore[arg-type]
        return MISS if enc is None else enc
    if t is ValueType.CODE_SET:
        return [interner.intern(str(v)) for v in value if v]  # type: ignore[attr-defined]
    assert t is ValueType.NUMBER_SET
    return [encode_number(Decimal(v)) for v in value]  # type: ignore[attr-defined]


def _actual(batch: ClaimBatch, fid: int, row: int) -> object:
    g, c = int(batch.field_group[fid]), int(batch.field_col[fid])
    if g == GROUP_CLAIM:
        return int(batch.claim_cols[c, row])
    if g == GROUP_LINE:
        return int(batch.line_cols[c, row])
    if g == GROUP_DX:
        return int(batch.dx_cols[c, row])
    off, vals = (
        (batch.claim_set_off, batch.claim_set_vals)
        if g == GROUP_CLAIM_SET
        else (batch.line_set_off, batch.line_set_vals)
    )
    assert g in (GROUP_CLAIM_SET, GROUP_LINE_SET)
    return [int(v) for v in vals[off[c, row] : off[c, row + 1]]]


def _check(claims: list[Claim]) -> None:
    interner = Interner()
    fields = [
        f for f in FIELDS if f.root is not FieldRoot.DIAGNOSIS or f.type is not ValueType.CODE_SET
    ]
    batch = ClaimBatch.build(claims, fields, interner)
    lines = [(c, ln) for c in claims for ln in c.lines]
    dxs = [(c, d) for c in claims for d in c.diagnoses]
    want_inexact = [False] * len(claims)
    for info in fields:
        subjects: list[tuple[Claim, ServiceLine | Diagnosis | None]]
        if info.root is FieldRoot.LINE:
            subjects = list(lines)
        elif info.root is FieldRoot.DIAGNOSIS:
            subjects = list(dxs)
        else:
            subjects = [(c, None) for c in claims]
        for row, (claim, bound) in enumerate(subjects):
            value = field_value(claim, info, bound)
            numbers = value if info.type is ValueType.NUMBER_SET else (value,)
            if info.type in (ValueType.NUMBER, ValueType.MONEY, ValueType.NUMBER_SET) and any(
                v is not None and encode_number(Decimal(v)) is None  # type: ignore[arg-type]
                for v in numbers  # type: ignore[union-attr]
            ):
                want_inexact[claims.index(claim)] = True
            want = _expected(value, info.type, interner)
            got = _actual(batch, info.id, row)
            inexact = bool(batch.inexact[claims.index(claim)])
            if inexact and info.type in (ValueType.NUMBER, ValueType.MONEY, ValueType.NUMBER_SET):
                continue  # those claims go to the reference evaluator
            assert got == want, (info.name, row)
    assert batch.inexact.tolist() == want_inexact
    for k, claim in enumerate(claims):
        d = claim.first_service_date
        assert int(batch.first_date[k]) == (MISS if d is None else date_to_days(d))


@settings(max_examples=150, deadline=None)
@given(st.lists(claim_strategy(), min_size=0, max_size=6))
def test_every_field_column_equals_field_value(claims: list[Claim]) -> None:
    _check(claims)


def test_repeated_values_and_odd_numbers() -> None:
    """Equal values of different types (1, True, Decimal(1)) and inexact numbers stay distinct."""
    line = ServiceLine(1, Decimal("10.00"), Decimal("1"), "99213", service_date=date(2024, 1, 2))
    odd = ServiceLine(2, Decimal("0.00001"), Decimal("1E+30"), "99214", diagnosis_pointers=(1, 2))
    from claims.model import ClaimKind

    a = Claim(ClaimKind.PROFESSIONAL, "1", "A", Decimal("10.00"), "11", "1", lines=(line,))
    b = Claim(ClaimKind.PROFESSIONAL, "2", "B", Decimal("10.0"), "11", "1", lines=(line, odd))
    _check([a, b, a])
