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

from claims.model import Diagnosis, DiagnosisRole, Person, Provider, ProviderRole

__all__ = [
    "HI_GROUP_SIZE",
    "Address",
    "Amount",
    "Code",
    "IcdCode",
    "LineNumber",
    "ListCode",
    "OptumDate",
    "OptumModel",
    "Pointer",
    "Quantity",
    "YesNo",
    "address_json",
    "chunks",
    "fmt_date",
    "fmt_decimal",
    "person_json",
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


def _error(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


_CODE = re.compile(r"[0-9A-Z]*")


def _code(value: object) -> str:
    """Strip and upper-case a code, then insist on letters and digits only."""
    if not isinstance(value, str):
        raise _error("code_type", "must be a string")
    code = value.strip().upper()
    if not _CODE.fullmatch(code):
        raise _error("code_format", "must contain only letters and digits")
    return code


def _list_code(value: object) -> str:
    code = _code(value)
    if not code:
        raise _error("code_empty", "must not be empty")
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
        raise _error(f"{what}_type", f"must be a {what} string such as '100.00'")
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value.strip()):
            raise _error(f"{what}_format", f"must be a decimal {what} such as '100.00'")
        return Decimal(value.strip())
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _error(f"{what}_format", f"must be a finite decimal {what}")
        return value
    raise _error(f"{what}_type", f"must be a {what} string such as '100.00'")


def _amount(value: object) -> Decimal:
    return _decimal(value, "amount")


def _quantity(value: object) -> Decimal:
    return _decimal(value, "quantity")


_DATE = re.compile(r"\d{8}")


def _date_prefix(value: object, *, with_hour: bool) -> date:
    if not isinstance(value, str):
        raise _error("date_type", "must be a date string in YYYYMMDD form")
    text = value.strip()
    if with_hour and len(text) == 12 and text.isdigit():  # CCYYMMDDHHMM (DTP D8 or DT)
        hour, minute = int(text[8:10]), int(text[10:12])
        if hour > 23 or minute > 59:
            raise _error("date_value", "is not a valid time of day (HHMM)")
        text = text[:8]
    if not _DATE.fullmatch(text):
        form = "YYYYMMDD or YYYYMMDDHHMM" if with_hour else "YYYYMMDD"
        raise _error("date_format", f"must be a date in {form} form")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as exc:  # "month must be in 1..12", "day is out of range for month"
        raise _error("date_value", f"is not a real calendar date: {exc}") from None


def _date(value: object) -> date:
    return _date_prefix(value, with_hour=False)


def _date_and_hour(value: object) -> date:
    return _date_prefix(value, with_hour=True)


def _positive_int(value: object) -> int:
    """Line numbers and diagnosis pointers: Optum sends them as strings of digits."""
    if isinstance(value, bool):
        raise _error("number_type", "must be a whole number such as '1'")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise _error("number_type", "must be a whole number such as '1'")
    if value < 1:
        raise _error("number_value", "must be 1 or more")
    return value


def _yes_no(value: object) -> bool:
    if value == "Y":
        return True
    if value in ("N", ""):
        return False
    raise _error("indicator", "must be 'Y' (or 'N')")


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


def address_json(person: Person) -> dict[str, str] | None:
    """The ``address`` object of a person, or None when the domain has no address parts."""
    if not (person.address_line or person.city or person.state or person.postal_code):
        return None
    out = {"address1": person.address_line, "city": person.city}
    if person.state:
        out["state"] = person.state
    if person.postal_code:
        out["postalCode"] = person.postal_code
    return out


def person_json(person: Person, *, names_required: bool) -> dict[str, Any]:
    """The name, gender, birth date and address properties shared by subscriber and dependent."""
    out: dict[str, Any] = {
        key: value
        for key, value in (
            ("firstName", person.first_name),
            ("lastName", person.last_name),
            ("middleName", person.middle_name),
        )
        if value or (names_required and key != "middleName")
    }
    if person.sex:
        out["gender"] = person.sex
    if person.birth_date is not None:
        out["dateOfBirth"] = fmt_date(person.birth_date)
    address = address_json(person)
    if address is not None:
        out["address"] = address
    return out


def address_fields(address: Address | None) -> dict[str, str]:
    """The ``Person`` keyword arguments held by an ``Address``."""
    if address is None:
        return {}
    return {
        "address_line": address.address1,
        "city": address.city,
        "state": address.state or "",
        "postal_code": address.postal_code or "",
    }


#: ``providerType`` values of the deprecated ``providers[]`` array, by domain role.
PROVIDER_TYPES: Mapping[str, ProviderRole] = {
    "BillingProvider": ProviderRole.BILLING,
    "RenderingProvider": ProviderRole.RENDERING,
    "ReferringProvider": ProviderRole.REFERRING,
    "AttendingProvider": ProviderRole.ATTENDING,
    "SupervisingProvider": ProviderRole.SUPERVISING,
    "OrderingProvider": ProviderRole.ORDERING,
}
PROVIDER_TYPE_OF: Mapping[ProviderRole, str] = {v: k for k, v in PROVIDER_TYPES.items()} | {
    ProviderRole.PURCHASED_SERVICE: "PurchasedServiceProvider",
}

_ROLE_ORDER = {role: i for i, role in enumerate(ProviderRole)}


def in_role_order(providers: Iterable[Provider]) -> tuple[Provider, ...]:
    """Providers in ``ProviderRole`` declaration order: the order JSON objects cannot carry."""
    return tuple(sorted(providers, key=lambda p: _ROLE_ORDER[p.role]))


def provider_name_json(provider: Provider) -> dict[str, str]:
    """Name properties: ``organizationName`` for entity type 2, ``lastName``/``firstName`` for 1."""
    if provider.entity_type == "1":
        out = {"lastName": provider.last_name}
        if provider.first_name:
            out["firstName"] = provider.first_name
        return out
    return {"organizationName": provider.last_name}


def provider_json(
    provider: Provider,
    *,
    provider_type: str | None,
    extras: bool = True,
) -> dict[str, str]:
    """An Optum provider object.  ``extras`` is False for objects without taxonomy and tax id."""
    out: dict[str, str] = {}
    if provider_type is not None:
        out["providerType"] = provider_type
    if provider.npi:
        out["npi"] = provider.npi
    if extras and provider.taxonomy:
        out["taxonomyCode"] = provider.taxonomy
    if extras and provider.tax_id:
        out["employerId"] = provider.tax_id
    out.update(provider_name_json(provider))
    return out


class ProviderName(OptumModel):
    """The identity every Optum provider object has: an NPI and a person's or organization's name.

    Entity type (NM102) is not a property in Optum's JSON; it follows from which name is given.
    """

    npi: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    organization_name: str | None = None

    @model_validator(mode="after")
    def _one_kind_of_name(self) -> ProviderName:
        if self.organization_name is not None and (
            self.last_name is not None or self.first_name is not None
        ):
            raise _error(
                "provider_name", "give either organizationName or lastName/firstName, not both"
            )
        return self

    def to_provider(self, role: ProviderRole, *, taxonomy: str = "", tax_id: str = "") -> Provider:
        """The domain provider in ``role``."""
        person = self.last_name is not None or self.first_name is not None
        return Provider(
            role=role,
            npi=self.npi or "",
            taxonomy=taxonomy,
            entity_type="1" if person else "2",
            last_name=(self.last_name if person else self.organization_name) or "",
            first_name=self.first_name or "",
            tax_id=tax_id,
        )


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
