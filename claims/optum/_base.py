"""Shared pieces of the Optum JSON models: the base model, scalar field types and their writers.

Scalar types are ``PlainValidator`` functions so that every message is ours: fixed text that never
quotes the input (the input may be a birth date or a member id; see ``claims.optum.errors``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, PlainValidator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from claims.model import Diagnosis, DiagnosisRole

__all__ = [
    "DX_QUALIFIERS",
    "HI_GROUP_SIZE",
    "Address",
    "Amount",
    "Code",
    "IcdCode",
    "LineNumber",
    "ListCode",
    "OptumDate",
    "OptumDateHour",
    "OptumModel",
    "Pointer",
    "Quantity",
    "YesNo",
    "accepted_keys",
    "chunks",
    "dx_qualifier",
    "error",
    "flatten",
    "fmt_date",
    "fmt_decimal",
    "names",
]

#: Codes per HI segment; Optum's ``...List`` properties are lists of HI segments.
HI_GROUP_SIZE = 12


class OptumModel(BaseModel):
    """Base of every Optum request object.

    Properties we read are declared (camelCase through the alias generator) and validated.
    Properties Optum documents but the domain has no place for are listed in ``UNMODELLED``: they
    are dropped before validation, so they are accepted without being checked.  Any other name is
    an error at its own path (``extra="forbid"``), which is how a typo such as
    ``claimChargeAmout`` is caught instead of silently losing the charge.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        hide_input_in_errors=True,  # str(ValidationError) must never print a member id
    )

    UNMODELLED: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _drop_unmodelled(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and cls.UNMODELLED:
            return {k: v for k, v in data.items() if k not in cls.UNMODELLED}
        return data


def names(text: str) -> frozenset[str]:
    """``names("a b")``: a compact way to list the many property names we accept unread."""
    return frozenset(text.split())


def error(kind: str, message: str) -> PydanticCustomError:
    """A validation error with our own fixed ``message`` (never quoting the input)."""
    return PydanticCustomError(kind, message)


_CODE = re.compile(r"[0-9A-Z]*")


def _code(value: object) -> str:
    """Strip and upper-case a code, then insist on letters and digits only."""
    if not isinstance(value, str):
        raise error("code_type", "must be a string")
    code = value.strip().upper()
    if not _CODE.fullmatch(code):
        raise error("code_format", "must contain only letters and digits")
    return code


def _list_code(value: object) -> str:
    code = _code(value)
    if not code:
        raise error("code_empty", "must not be empty")
    return code


def _icd_code(value: object) -> str:
    """ICD codes are often written with a dot (``E11.9``); the domain keeps them without."""
    if isinstance(value, str):
        value = value.replace(".", "")
    return _list_code(value)


_DECIMAL = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


def _decimal(value: object, what: str) -> Decimal:
    """Read an amount exactly: from a string, an int, or a JSON number already read as Decimal.

    A Python float (from a caller's dict) is read through ``repr``, its shortest round-tripping
    text, so ``100.1`` becomes ``Decimal("100.1")`` and not the binary float's 50 digits.
    """
    if isinstance(value, bool):
        raise error(f"{what}_type", f"must be a {what} string such as '100.00'")
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value.strip()):
            raise error(f"{what}_format", f"must be a decimal {what} such as '100.00'")
        return Decimal(value.strip())
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise error(f"{what}_format", f"must be a finite decimal {what}")
        return value
    raise error(f"{what}_type", f"must be a {what} string such as '100.00'")


def _amount(value: object) -> Decimal:
    return _decimal(value, "amount")


def _quantity(value: object) -> Decimal:
    return _decimal(value, "quantity")


_DATE = re.compile(r"\d{8}")


def _date_prefix(value: object, *, with_hour: bool) -> date:
    if not isinstance(value, str):
        raise error("date_type", "must be a date string in YYYYMMDD form")
    text = value.strip()
    if with_hour and len(text) == 12 and text.isdigit():  # CCYYMMDDHHMM (DTP D8 or DT)
        hour, minute = int(text[8:10]), int(text[10:12])
        if hour > 23 or minute > 59:
            raise error("date_value", "is not a valid time of day (HHMM)")
        text = text[:8]
    if not _DATE.fullmatch(text):
        form = "YYYYMMDD or YYYYMMDDHHMM" if with_hour else "YYYYMMDD"
        raise error("date_format", f"must be a date in {form} form")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as exc:  # "month must be in 1..12", "day is out of range for month"
        raise error("date_value", f"is not a real calendar date: {exc}") from None


def _date(value: object) -> date:
    return _date_prefix(value, with_hour=False)


def _date_and_hour(value: object) -> date:
    return _date_prefix(value, with_hour=True)


def _positive_int(value: object) -> int:
    """Line numbers and diagnosis pointers: Optum sends them as strings of digits."""
    if isinstance(value, bool):
        raise error("number_type", "must be a whole number such as '1'")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise error("number_type", "must be a whole number such as '1'")
    if value < 1:
        raise error("number_value", "must be 1 or more")
    return value


def _yes_no(value: object) -> bool:
    if value == "Y":
        return True
    if value in ("N", ""):
        return False
    raise error("indicator", "must be 'Y' (or 'N')")


#: A code kept as the claim carries it: upper case, letters and digits, possibly empty.
Code = Annotated[str, PlainValidator(_code)]
#: A code inside a list (modifier, condition code...): as ``Code`` but never empty.
ListCode = Annotated[str, PlainValidator(_list_code)]
#: An ICD-9/ICD-10 code: as ``ListCode`` after removing dots.
IcdCode = Annotated[str, PlainValidator(_icd_code)]
Amount = Annotated[Decimal, PlainValidator(_amount)]
Quantity = Annotated[Decimal, PlainValidator(_quantity)]
OptumDate = Annotated[date, PlainValidator(_date)]
#: ``admissionDateAndHour``: a date with an optional HHMM; the domain keeps the date only.
OptumDateHour = Annotated[date, PlainValidator(_date_and_hour)]
LineNumber = Annotated[int, PlainValidator(_positive_int)]
Pointer = Annotated[int, PlainValidator(_positive_int)]
YesNo = Annotated[bool, PlainValidator(_yes_no)]


class Address(OptumModel):
    """``Address`` (the same in both documents).  Only the first line goes to the domain."""

    UNMODELLED = frozenset({"address2", "countryCode", "countrySubDivisionCode"})

    address1: str
    city: str
    state: str | None = None
    postal_code: str | None = None


def fmt_decimal(value: Decimal) -> str:
    """Write an amount as Optum does (a string), keeping exactly the digits the claim has."""
    return format(value, "f")


def fmt_date(value: date) -> str:
    """``YYYYMMDD``; ``strftime`` does not zero-pad years before 1000 on every platform."""
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


T = TypeVar("T")


def chunks(items: Sequence[T], size: int = HI_GROUP_SIZE) -> Iterator[list[T]]:
    """Split ``items`` into HI-segment-sized groups for Optum's list-of-lists properties."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def flatten(groups: Iterable[Iterable[T]] | None) -> list[T]:
    """Undo ``chunks``: Optum's grouping into HI segments means nothing to the domain."""
    return [item for group in groups or () for item in group]


#: HI qualifiers: ``A``-prefixed ones are ICD-10-CM, the bare ones ICD-9-CM.
DX_QUALIFIERS: Mapping[str, tuple[DiagnosisRole, bool]] = {
    "ABK": (DiagnosisRole.PRINCIPAL, False),
    "BK": (DiagnosisRole.PRINCIPAL, True),
    "ABF": (DiagnosisRole.OTHER, False),
    "BF": (DiagnosisRole.OTHER, True),
    "ABJ": (DiagnosisRole.ADMITTING, False),
    "BJ": (DiagnosisRole.ADMITTING, True),
    "APR": (DiagnosisRole.REASON_FOR_VISIT, False),
    "PR": (DiagnosisRole.REASON_FOR_VISIT, True),
    "ABN": (DiagnosisRole.EXTERNAL_CAUSE, False),
    "BN": (DiagnosisRole.EXTERNAL_CAUSE, True),
}
_DX_QUALIFIER_OF = {v: k for k, v in DX_QUALIFIERS.items()}


def dx_qualifier(diagnosis: Diagnosis) -> str:
    """The HI qualifier for a diagnosis: its role and ICD revision."""
    return _DX_QUALIFIER_OF[diagnosis.role, diagnosis.icd9]


def accepted_keys(model: type[OptumModel]) -> frozenset[str]:
    """Every property name ``model`` accepts: the declared (validated) and the unmodelled ones."""
    declared = {f.alias or name for name, f in model.model_fields.items()}
    return frozenset(declared) | model.UNMODELLED
