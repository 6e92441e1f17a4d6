"""Value semantics shared by both evaluators: field access, missingness, dates, fixed point.

Both evaluators read claim fields through :func:`field_value` (the reference directly, the Numba
path when it builds a :class:`~engine.batch.ClaimBatch`), so the two agree on what a field *is*.

Encoding used by the Numba path (every value is one ``int64``):

* missing is :data:`MISS` (``-2**63``) for every type;
* codes and text are ids from an :class:`~engine.batch.Interner` (the empty string is missing);
* numbers and money are fixed point with :data:`SCALE` (``10**4``): exact for up to four decimal
  places; a value that does not fit marks its claim for the reference evaluator;
* dates are days since 1970-01-01;
* booleans are 0 / 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from typing import Final

from claims.model import Claim, Diagnosis, ProviderRole, ServiceLine
from dsl.ir import FieldInfo, FieldRoot, ValueType

__all__ = [
    "DATE_MAX",
    "DATE_MIN",
    "MISS",
    "OPEN_HI",
    "OPEN_LO",
    "PHI_ATTRIBUTES",
    "SCALE",
    "Value",
    "age_on",
    "date_to_days",
    "days_to_date",
    "encode_number",
    "field_accessor",
    "field_value",
    "is_missing",
    "is_phi",
    "render_value",
    "window_contains",
]

Value = str | Decimal | date | bool | None | tuple[object, ...]
"""A reference-evaluator value: str for codes/text, Decimal, date, bool, tuples for collections."""

MISS: Final = -(2**63)
SCALE: Final = 10_000
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
DATE_MIN: Final = date.min.toordinal() - _EPOCH_ORDINAL
DATE_MAX: Final = date.max.toordinal() - _EPOCH_ORDINAL
OPEN_LO: Final = -(2**62)
"""Lower bound of an open effective window (``effective_from`` is None)."""
OPEN_HI: Final = 2**62
"""Upper bound of an open effective window (``effective_until`` is None)."""
_LIMIT: Final = 2**62 // SCALE

PHI_ATTRIBUTES: Final = frozenset(
    {
        "last_name",
        "first_name",
        "middle_name",
        "member_id",
        "birth_date",
        "address_line",
        "city",
        "postal_code",
        "patient_control_number",
        "tax_id",
    }
)
"""Attributes whose values never appear in an edit's ``value`` (names, member ids, birth dates)."""


def is_phi(info: FieldInfo) -> bool:
    """True when ``info`` names protected health information."""
    if info.root is FieldRoot.PROVIDER and info.attribute[-1] != "tax_id":
        return False  # provider names and NPIs are public (NPPES)
    return info.attribute[-1] in PHI_ATTRIBUTES


def date_to_days(d: date) -> int:
    """Days since 1970-01-01."""
    return d.toordinal() - _EPOCH_ORDINAL


def days_to_date(days: int) -> date:
    """Inverse of :func:`date_to_days`."""
    return date.fromordinal(days + _EPOCH_ORDINAL)


def encode_number(value: Decimal) -> int | None:
    """``value * SCALE`` as an int, or None when that is not exact or too large."""
    scaled = value * SCALE
    if scaled != scaled.to_integral_value():
        return None
    out = int(scaled)
    return out if -_LIMIT * SCALE < out < _LIMIT * SCALE else None


def window_contains(lo: date | None, hi: date | None, on: date | None) -> bool:
    """Effective-window test: ``on`` in ``[lo, hi]``; a missing date only matches an open window."""
    if on is None:
        return lo is None and hi is None
    return (lo is None or lo <= on) and (hi is None or on <= hi)


def is_missing(value: Value) -> bool:
    """Missing: None, the empty string, an empty collection (booleans are never missing)."""
    if value is None:
        return True
    if isinstance(value, str | tuple):
        return len(value) == 0
    return False


def age_on(birth: date, on: date) -> int:
    """Whole years from ``birth`` to ``on`` (negative when ``on`` is before ``birth``)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def add_days(d: date, n: Decimal) -> date | None:
    """``d`` plus ``int(n)`` days (truncated toward zero); None outside the calendar."""
    try:
        return d + timedelta(days=int(n))
    except (OverflowError, ValueError):
        return None


def _normalize(raw: object) -> Value:
    if isinstance(raw, Enum):
        return str(raw.value)
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, str | Decimal | date) or raw is None:
        return raw
    if isinstance(raw, tuple):
        return raw
    raise TypeError(f"unsupported field value type {type(raw).__name__}")


def _root_object(claim: Claim, info: FieldInfo) -> object | None:
    root = info.root
    if root is FieldRoot.CLAIM:
        return claim
    if root is FieldRoot.PATIENT:
        return claim.member
    if root is FieldRoot.SUBSCRIBER:
        return claim.subscriber
    if root is FieldRoot.PROVIDER:
        return claim.provider(ProviderRole(info.provider_role))
    raise ValueError(f"field {info.name} needs a bound line or diagnosis")


def field_value(
    claim: Claim, info: FieldInfo, bound: ServiceLine | Diagnosis | None = None
) -> Value:
    """The value of field ``info`` on ``claim`` (line and diagnosis fields on ``bound``).

    Derived fields: ``patient.age`` is :func:`age_on` (birth date, first date of service); any other
    derived field is the attribute (a property) of the root object, e.g. ``Claim.type_of_bill``.
    """
    obj: object | None
    line_or_dx = info.root in (FieldRoot.LINE, FieldRoot.DIAGNOSIS)
    obj = bound if line_or_dx else _root_object(claim, info)
    if obj is None:
        return _missing_of(info.type)
    if info.derived and info.attribute == ("age",):
        birth = getattr(obj, "birth_date", None)
        dos = claim.first_service_date
        if birth is None or dos is None:
            return None
        return Decimal(age_on(birth, dos))
    for attr in info.attribute:
        obj = getattr(obj, attr)
        if obj is None:
            return _missing_of(info.type)
    if info.type is ValueType.CODE_SET and isinstance(obj, tuple):
        # value / occurrence code records read as their codes
        return tuple(x if isinstance(x, str) else str(getattr(x, "code", "")) for x in obj)
    if info.type is ValueType.NUMBER_SET and isinstance(obj, tuple):
        return tuple(Decimal(x) for x in obj)
    return _normalize(obj)


Accessor = Callable[[Claim, object], Value]
"""``(claim, bound line or diagnosis or None) -> value``, as :func:`field_value`."""
_LINE_OR_DX = (FieldRoot.LINE, FieldRoot.DIAGNOSIS)
_SETS = (ValueType.CODE_SET, ValueType.NUMBER_SET, ValueType.LINES, ValueType.DIAGNOSES)


def _generic(info: FieldInfo) -> Accessor:
    def get(claim: Claim, bound: object) -> Value:
        return field_value(claim, info, bound)  # type: ignore[arg-type]

    return get


def field_accessor(info: FieldInfo) -> Accessor:
    """A closure equal to ``field_value(claim, info, bound)``, specialised for ``info``."""
    age = info.derived and info.attribute == ("age",)
    if age or info.type in _SETS or len(info.attribute) != 1:
        return _generic(info)
    miss = _missing_of(info.type)
    attr = info.attribute[0]
    root = info.root

    def norm(v: object) -> Value:
        if v is None:
            return miss
        t = type(v)
        if t is str or t is Decimal or t is date:
            return v  # type: ignore[return-value]
        return _normalize(v)

    if root in _LINE_OR_DX:

        def on_bound(claim: Claim, bound: object) -> Value:
            if bound is None:
                return miss
            return norm(getattr(bound, attr))

        return on_bound
    if root is FieldRoot.CLAIM:

        def on_claim(claim: Claim, bound: object) -> Value:
            return norm(getattr(claim, attr))

        return on_claim
    if root is FieldRoot.PATIENT:

        def on_member(claim: Claim, bound: object) -> Value:
            p = claim.patient
            return norm(getattr(p if p is not None else claim.subscriber, attr))

        return on_member
    if root is FieldRoot.SUBSCRIBER:

        def on_subscriber(claim: Claim, bound: object) -> Value:
            return norm(getattr(claim.subscriber, attr))

        return on_subscriber
    if root is FieldRoot.PROVIDER:
        role = ProviderRole(info.provider_role)

        def on_provider(claim: Claim, bound: object) -> Value:
            for p in claim.providers:
                if p.role is role:
                    return norm(getattr(p, attr))
            return miss

        return on_provider
    return _generic(info)


def _missing_of(t: ValueType) -> Value:
    if t in (ValueType.CODE, ValueType.TEXT):
        return ""
    if t in (ValueType.CODE_SET, ValueType.NUMBER_SET, ValueType.LINES, ValueType.DIAGNOSES):
        return ()
    if t is ValueType.BOOL:
        return False
    return None


def render_value(value: Value) -> str:
    """Message rendering: missing as "", money/numbers as is, dates ISO, booleans lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return ",".join(render_value(v) for v in value if isinstance(v, str | Decimal))
    return value


def render_money(value: Decimal) -> str:
    """Money with two places."""
    return str(value.quantize(Decimal("0.01")))


def codes_of(values: Sequence[str]) -> tuple[str, ...]:
    """A code set as a tuple of non-empty codes."""
    return tuple(v for v in values if v)
