"""Claims read lazily from a scanned piece: the object reader's values, decoded only when asked for.

Why: on a large 837P the kernels flag about a third of the claims, and reading those with the
object reader (~40 µs a claim) was the largest cost left of ``claimscrub scrub`` (ADR 0008).  An
edit reads a handful of values (the envelope's control numbers and payer, the subject line's code,
a date in a message); building every attribute of every flagged claim was no cheaper than the
reader.  The classes here are subclasses of the model's classes whose attributes are properties
over the scan's spans and numbers, decoded on access with the reader's own value functions (so an
amount reads ``12.50`` where the file says ``12.50``).

Only the attributes behind the fields a scanned batch lays out (``engine.x12_columns.SUPPORTED``)
are provided.  Any other attribute (names, member ids, addresses, other providers ...) was never
set and raises ``AttributeError``: a caller that reads more than it declared fails loudly instead
of seeing a wrong value.  ``api.scrub_fast`` builds edits from these claims only for rule branches
whose edits read supported fields (``engine.materialize.EditTemplate.reads``), and
``tests/claims/test_columnar.py`` compares every supported field of every scanned claim with the
object reader's claim, value and text.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from claims.fastbuild import fast_constructor
from claims.model import (
    Claim,
    ClaimKind,
    Diagnosis,
    DiagnosisRole,
    Party,
    Person,
    Provider,
    ProviderRole,
    ServiceLine,
    SourceLocation,
)
from claims.x12 import _colscan as cs
from claims.x12._values import amount
from claims.x12.columnar import PieceScan

__all__ = ["scan_claim", "scan_claims"]

_Table = npt.NDArray[np.int64]
_new_source = fast_constructor(SourceLocation)
_EPOCH: Final = date(1970, 1, 1).toordinal()
_ROLES: Final = (
    DiagnosisRole.PRINCIPAL,
    DiagnosisRole.OTHER,
    DiagnosisRole.ADMITTING,
    DiagnosisRole.REASON_FOR_VISIT,
    DiagnosisRole.EXTERNAL_CAUSE,
)


def _day(days: int) -> date | None:
    return None if days == cs.MISS else date.fromordinal(days + _EPOCH)


# Property factories: one Python call per attribute read (``_v`` is the object's table row as a
# list, ``_p`` its piece); each read decodes again (most are read once per edit).


def _text(col: int) -> Any:
    def get(self: Any) -> str:
        v = self._v
        lo, hi = v[col], v[col + 1]
        return self._p.raw[lo:hi].decode("ascii") if 0 <= lo < hi else ""

    return property(get)


def _amount(col: int) -> Any:
    def get(self: Any) -> Decimal:
        v = self._v
        lo, hi = v[col], v[col + 1]
        return amount(self._p.raw[lo:hi].decode("ascii") if 0 <= lo < hi else "")

    return property(get)


def _date(col: int) -> Any:
    def get(self: Any) -> date | None:
        return _day(self._v[col])

    return property(get)


class _Piece:
    """What every scanned object of one piece shares: the text and its decoded control numbers."""

    __slots__ = ("before", "controls", "hls", "payers", "raw", "scan", "totals")

    def __init__(self, scan: PieceScan) -> None:
        self.scan = scan
        base = scan.buf.base  # the piece's bytes when the scan was made from them: no copy
        self.raw = base if isinstance(base, bytes) else scan.buf.tobytes()  # ~5x cheaper slices
        self.before = scan.seg[:, cs.SEG_BEFORE]
        self.controls: dict[int, str] = {}
        self.hls: dict[int, list[int]] = {}  # HL rows as lists: claims of one HL share them
        self.payers: dict[int, Party] = {}
        #: ends of the last line's modifiers, pointers and authorisations
        self.totals = {
            cs.L_MOD: scan.mods.shape[0],
            cs.L_PTR: scan.ptrs.shape[0],
            cs.L_AUTH: scan.auths.shape[0],
        }

    def text(self, lo: int, hi: int) -> str:
        return self.raw[lo:hi].decode("ascii") if 0 <= lo < hi else ""

    def control(self, t: int) -> str:
        got = self.controls.get(t)
        if got is None:
            got = self.controls[t] = self.text(*self.scan.control_span(t))
        return got

    def segment_number(self, k: int) -> int:
        return int(self.before[k]) + 1

    def hl(self, h: int) -> list[int]:
        got = self.hls.get(h)
        if got is None:
            got = self.hls[h] = self.scan.hl[h].tolist()
        return got

    def payer(self, h: int) -> Party:
        got = self.payers.get(h)
        if got is None:
            v = self.hl(h)
            got = self.payers[h] = _ScanParty(self.text(v[cs.HL_C], v[cs.HL_C + 1]))
        return got


class _ScanLine(ServiceLine):
    """A 2400 loop of a scanned claim (SV1 and DTP*472); ``_v`` is its row of the line table."""

    __slots__ = ("_control", "_next", "_p", "_v")
    _p: _Piece
    _v: list[int]
    _next: list[int] | None
    _control: str

    def __init__(self, piece: _Piece, v: list[int], nxt: list[int] | None, control: str) -> None:
        object.__setattr__(self, "_p", piece)
        object.__setattr__(self, "_v", v)
        object.__setattr__(self, "_next", nxt)
        object.__setattr__(self, "_control", control)

    def _children(self, col: int) -> range:
        nxt = self._next
        return range(self._v[col], self._p.totals[col] if nxt is None else nxt[col])

    def _spans(self, table: _Table, col: int) -> tuple[str, ...]:
        text = self._p.text
        return tuple(text(*table[r].tolist()) for r in self._children(col))

    number = property(lambda self: self._v[cs.LN_NUMBER])
    charge = _amount(cs.LS_CHARGE)
    units = _amount(cs.LS_UNITS)
    procedure_code = _text(cs.LS_CODE)
    procedure_qualifier = _text(cs.LS_QUAL)
    unit_type = _text(cs.LS_UNIT_TYPE)
    place_of_service = _text(cs.LS_POS)
    description = _text(cs.LS_DESC)
    service_date = _date(cs.LN_DATE)
    service_date_end = _date(cs.LN_DATE_END)
    emergency = property(lambda self: self._v[cs.LN_EMERGENCY] != 0)
    revenue_code = ""  # class attributes: the same on every scanned line
    ndc = ""
    ndc_quantity = None
    ndc_unit = ""
    modifiers = property(lambda self: self._spans(self._p.scan.mods, cs.L_MOD))
    prior_authorizations = property(lambda self: self._spans(self._p.scan.auths, cs.L_AUTH))

    @property
    def diagnosis_pointers(self) -> tuple[int, ...]:
        ptrs = self._p.scan.ptrs
        return tuple(int(ptrs[r]) for r in self._children(cs.L_PTR))

    @property
    def source(self) -> SourceLocation:
        number = self._p.segment_number(self._v[cs.L_SEG])
        return _new_source("2400", "SV1", number, self._control)


class _Row:
    """``__init__`` of a scanned object that is one table row (``_v``) of a piece (``_p``)."""

    __slots__ = ()

    def __init__(self, piece: _Piece, v: list[int]) -> None:
        object.__setattr__(self, "_p", piece)
        object.__setattr__(self, "_v", v)


class _ScanDiagnosis(_Row, Diagnosis):
    """One HI composite read as a diagnosis; ``_v`` is its row of the diagnosis table."""

    __slots__ = ("_p", "_v")
    _p: _Piece
    _v: list[int]

    code = _text(cs.DX_CODE)
    poa = _text(cs.DX_POA)
    role = property(lambda self: _ROLES[self._v[cs.DX_ROLE]])
    icd9 = property(lambda self: self._v[cs.DX_ICD9] != 0)


class _ScanPerson(_Row, Person):
    """The subscriber or patient HL: only sex and birth date (never names or ids: PHI)."""

    __slots__ = ("_p", "_v")
    _p: _Piece
    _v: list[int]

    sex = _text(cs.HL_D)
    birth_date = _date(cs.HL_BIRTH)


class _ScanParty(Party):
    """The payer: its id (NM1*PR NM109) only."""

    __slots__ = ("_id",)
    _id: str

    def __init__(self, identifier: str) -> None:
        object.__setattr__(self, "_id", identifier)

    identifier = property(lambda self: self._id)


class _ScanBilling(Provider):
    """The billing provider (2010AA): its role and NPI only."""

    __slots__ = ("_npi",)
    _npi: str

    def __init__(self, npi: str) -> None:
        object.__setattr__(self, "_npi", npi)

    role = property(lambda self: ProviderRole.BILLING)
    npi = property(lambda self: self._npi)


class _ScanClaim(Claim):
    """A scanned 837P claim; ``_v`` is its row of the claim table, ``_next`` the next row."""

    __slots__ = ("_first", "_lines", "_next", "_p", "_v")
    _p: _Piece
    _v: list[int]
    _next: list[int] | None
    _first: date | None
    _lines: tuple[ServiceLine, ...] | None

    def __init__(self, piece: _Piece, v: list[int], nxt: list[int] | None, first: int) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "_first", _day(first))
        setattr_(self, "_p", piece)
        setattr_(self, "_v", v)
        setattr_(self, "_next", nxt)
        setattr_(self, "_lines", None)
        # What every envelope shows, and the diagnoses (two thirds of the edits are about one),
        # go into the model's own slots, read at slot speed.
        setattr_(self, "kind", ClaimKind.PROFESSIONAL)
        setattr_(self, "control_number", piece.control(v[cs.C_ST]))
        setattr_(self, "patient_control_number", piece.text(v[cs.CS_PCN], v[cs.CS_PCN + 1]))
        setattr_(self, "payer", piece.payer(v[cs.C_S]))
        n_dx, rows = self._children(cs.C_DX, piece.scan.dx)
        setattr_(self, "diagnoses", tuple(_ScanDiagnosis(piece, r) for r in rows[:n_dx]))

    def _hl(self, which: int) -> list[int]:
        return self._p.hl(self._v[which])

    def _hl_text(self, which: int, col: int) -> str:
        hl = self._hl(which)
        return self._p.text(hl[col], hl[col + 1])

    def _children(self, col: int, table: _Table) -> tuple[int, list[list[int]]]:
        """(how many rows of ``table`` are the claim's, those rows and the next one as lists)."""
        nxt = self._next
        lo, hi = self._v[col], table.shape[0] if nxt is None else nxt[col]
        return hi - lo, table[lo : hi + 1].tolist()

    total_charge = _amount(cs.CS_TOTAL)
    facility_code = _text(cs.CS_FAC)
    frequency_code = _text(cs.CS_FREQ)
    delay_reason_code = _text(cs.CS_DELAY)
    prior_authorization = _text(cs.CS_AUTH)
    referral_number = _text(cs.CS_REFERRAL)
    original_reference_number = _text(cs.CS_ORIG)
    onset_date = _date(cs.CN_ONSET)
    statement_from = _date(cs.CN_FROM)
    statement_to = _date(cs.CN_TO)
    admission_date = _date(cs.CN_ADMIT)
    discharge_date = _date(cs.CN_DISCHARGE)
    first_service_date = property(lambda self: self._first)  # the batch's, without the lines
    admission_type_code = ""  # class attributes: the same on every scanned claim
    admission_source_code = ""
    patient_status_code = ""
    condition_codes = ()
    occurrence_codes = ()
    occurrence_spans = ()
    value_codes = ()
    claim_filing_code = property(lambda self: self._hl_text(cs.C_S, cs.HL_B))
    subscriber = property(lambda self: _ScanPerson(self._p, self._hl(cs.C_S)))
    providers = property(lambda self: (_ScanBilling(self._hl_text(cs.C_B, cs.HL_A)),))

    @property
    def payment_responsibility(self) -> str:
        hl = self._hl(cs.C_S)
        return "P" if hl[cs.HL_A] < 0 else self._p.text(hl[cs.HL_A], hl[cs.HL_A + 1])

    @property
    def patient(self) -> Person | None:
        return None if self._v[cs.C_P] < 0 else _ScanPerson(self._p, self._hl(cs.C_P))

    @property
    def lines(self) -> tuple[ServiceLine, ...]:
        got: tuple[ServiceLine, ...] | None = self._lines
        if got is None:
            p, control = self._p, self.control_number
            n, rows = self._children(cs.C_LINE, p.scan.line)
            got = tuple(
                _ScanLine(p, rows[i], rows[i + 1] if i + 1 < len(rows) else None, control)
                for i in range(n)
            )
            object.__setattr__(self, "_lines", got)
        return got

    @property
    def source(self) -> SourceLocation:
        number = self._p.segment_number(self._v[cs.C_LO])
        return _new_source("2300", "CLM", number, self.control_number)


def scan_claims(scan: PieceScan) -> _Piece:
    """The shared state of the scanned claims of ``scan`` (pass it to :func:`scan_claim`)."""
    return _Piece(scan)


def scan_claim(piece: _Piece, row: int, first_date: int) -> Claim:
    """Claim row ``row`` (a usable row) of the piece, decoded lazily (module docstring).

    ``first_date`` is the claim's first date of service as the scanned batch lays it out
    (``ClaimBatch.first_date``, day number or MISS): ``Claim.first_service_date`` would build
    every line to find it.
    """
    clm = piece.scan.clm
    both = clm[row : row + 2].tolist()
    return _ScanClaim(piece, both[0], both[1] if len(both) > 1 else None, first_date)
