"""Element values: D8/RD8/DT dates and R amounts, parsed once per distinct string.

Why caches: a batch of claims repeats the same few hundred dates, charges and unit counts, so a
dict hit (~30 ns) replaces ``date(int(..), ..)`` or ``Decimal(..)`` plus validation (~500 ns).  The
caches are bounded and simply cleared when full, which keeps memory flat on any input.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Final

__all__ = [
    "AMOUNT_CACHE",
    "DATE_CACHE",
    "BadValue",
    "amount",
    "d8",
    "dt",
    "format_amount",
    "format_d8",
    "pointers",
    "rd8",
]

_CACHE_MAX: Final = 1 << 16
#: Parsed D8 dates and R amounts by their text; the reader's hot paths look here first.
DATE_CACHE: dict[str, date] = {}
AMOUNT_CACHE: dict[str, Decimal] = {}
_POINTERS: dict[str, tuple[int, ...]] = {}


class BadValue(Exception):
    """An element value that does not parse; the reader adds the location.

    Attributes:
        code: the X12Error code (``X12-E021`` dates, ``X12-E022`` numbers).
        message: what is wrong, quoting the value.
        element: the 1-based element index, set by the handler that knows it.
    """

    def __init__(self, code: str, message: str, element: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.element = element


def d8(text: str) -> date:
    """A CCYYMMDD date."""
    value = DATE_CACHE.get(text)
    if value is not None:
        return value
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        raise BadValue("X12-E021", f"bad date {text!r} (want CCYYMMDD)")
    try:
        value = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise BadValue("X12-E021", f"bad date {text!r} (no such day)") from None
    if len(DATE_CACHE) >= _CACHE_MAX:
        DATE_CACHE.clear()
    DATE_CACHE[text] = value
    return value


def rd8(text: str) -> tuple[date, date]:
    """A CCYYMMDD-CCYYMMDD range whose end is not before its start."""
    start, sep, end = text.partition("-")
    if not sep:
        raise BadValue("X12-E021", f"bad date range {text!r} (want CCYYMMDD-CCYYMMDD)")
    first, last = d8(start), d8(end)
    if last < first:
        raise BadValue("X12-E021", f"bad date range {text!r} (ends before it starts)")
    return first, last


def dt(text: str) -> date:
    """The date part of a CCYYMMDDHHMM date-time (the time is checked for digits, then dropped)."""
    if len(text) != 12 or not (text.isascii() and text[8:].isdigit()):
        raise BadValue("X12-E021", f"bad date-time {text!r} (want CCYYMMDDHHMM)")
    return d8(text[:8])


def amount(text: str) -> Decimal:
    """An X12 ``R`` value: optional minus, digits, at most one decimal point, no exponent."""
    value = AMOUNT_CACHE.get(text)
    if value is not None:
        return value
    digits = text[1:] if text[:1] == "-" else text
    if not (digits.isascii() and digits.replace(".", "", 1).isdigit()):
        raise BadValue("X12-E022", f"bad amount {text!r}")
    value = Decimal(text)
    if len(AMOUNT_CACHE) >= _CACHE_MAX:
        AMOUNT_CACHE.clear()
    AMOUNT_CACHE[text] = value
    return value


def pointers(text: str, sep: str) -> tuple[int, ...]:
    """SV107 diagnosis pointers, e.g. ``1:2:4``.

    A pointer written as ``1.00`` is accepted as 1: some real senders (and one of the reference
    samples) format the composite as decimals, and the meaning is not in doubt.
    """
    key = text + sep
    value = _POINTERS.get(key)
    if value is not None:
        return value
    out: list[int] = []
    for part in text.split(sep):
        if not part:
            continue
        whole, _, frac = part.partition(".")
        if not (whole.isascii() and whole.isdigit()) or frac.strip("0") or int(whole) < 1:
            raise BadValue("X12-E022", f"bad diagnosis pointer {part!r}")
        out.append(int(whole))
    value = tuple(out)
    if len(_POINTERS) >= _CACHE_MAX:
        _POINTERS.clear()
    _POINTERS[key] = value
    return value


def format_d8(value: date) -> str:
    """CCYYMMDD, zero-padded for any year (``strftime`` is not, for years before 1000)."""
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def format_amount(value: Decimal) -> str:
    """A Decimal as an X12 ``R`` value: fixed point, never an exponent."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".") if len(text.partition(".")[2]) > 2 else text
    return text
