"""Located X12 errors: one frozen value per problem, with the codes in one table.

Why values and not exceptions: the reader streams claims and errors interleaved, in file order, and
keeps going after a broken claim (rust-analyzer's "parsing never fails").  A caller that wants an
exception can raise on the first ``X12Error`` it sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["CODES", "X12Error"]

#: Every error code the X12 reader emits, with its one-line meaning (cel-go ``checker/errors.go``
#: style: one place, so docs and tests can enumerate them).
CODES: Final[Mapping[str, str]] = {
    # Framing: the byte stream is not a readable interchange.  E001-E004 and E007 stop the read.
    "X12-E001": "empty input",
    "X12-E002": "not X12: the input does not start with an ISA segment",
    "X12-E003": "malformed ISA segment (length or fixed positions)",
    "X12-E004": "segment longer than the maximum; the input is probably not X12",
    "X12-E005": "truncated input: an envelope (ISA/GS/ST) is not closed",
    "X12-E006": "bytes that are not UTF-8",
    "X12-E007": "too many consecutive unreadable segments; the input is probably not X12",
    "X12-E008": "invalid segment identifier",
    # Envelope: counts and control numbers of ISA/IEA, GS/GE, ST/SE.
    "X12-E010": "IEA01 does not match the number of functional groups",
    "X12-E011": "IEA02 does not match ISA13",
    "X12-E012": "GE01 does not match the number of transaction sets",
    "X12-E013": "GE02 does not match GS06",
    "X12-E014": "SE01 does not match the number of segments in the transaction set",
    "X12-E015": "SE02 does not match ST02",
    "X12-E016": "envelope segment out of place",
    "X12-E017": "unsupported transaction set or implementation (not an 005010 837P/837I)",
    # Content: one claim (or the claims under one HL) cannot be trusted.
    "X12-E020": "service line or claim segment with no CLM before it",
    "X12-E021": "bad date",
    "X12-E022": "bad amount or number",
    "X12-E023": "unknown or misplaced segment (skipped)",
    "X12-E024": "missing required element",
    "X12-E025": "bad HL hierarchy",
    "X12-E026": "bad code or composite value",
    "X12-E028": "LX not followed by SV1/SV2",
    "X12-E029": "claim dropped because its HL context has an error",
}


@dataclass(frozen=True, slots=True)
class X12Error:
    """One problem found while reading an 837, located the way a 999 acknowledgement would.

    Attributes:
        code: a key of ``CODES``, e.g. ``"X12-E021"``.
        message: what is wrong, naming the element and quoting the bad value.
        segment_number: 1-based position inside the transaction set (ST is 1); None outside one.
        segment_id: the segment's identifier (``"DTP"``), or ``""`` when there is no segment.
        loop: the 837 loop the reader was in (``"2400"``), or an envelope name (``"ISA"``).
        element: 1-based element index (3 for DTP03), or None when the whole segment is at fault.
        byte_offset: offset of the segment's first byte in the input.
        control_number: ST02 of the enclosing transaction set, or ``""``.
        file: the input's name, for the clickable ``file:segment N`` prefix.
    """

    code: str
    message: str
    segment_number: int | None = None
    segment_id: str = ""
    loop: str = ""
    element: int | None = None
    byte_offset: int = 0
    control_number: str = ""
    file: str = "<stdin>"

    def __str__(self) -> str:
        where = f"{self.loop} {self.segment_id}".strip()
        if self.segment_number is not None:
            place = f"segment {self.segment_number}"
        else:
            place = f"byte {self.byte_offset}"
        if where:
            place = f"{place} ({where})"
        return f"{self.file}:{place}: error[{self.code}]: {self.message}"
