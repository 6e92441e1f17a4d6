"""Mutable drafts that the reader fills segment by segment and freezes once per claim.

Why drafts: the domain objects are frozen, and a claim's parts arrive over dozens of segments.  The
reader collects them here and builds each frozen object exactly once.  A service line is a plain
list (copied from a template, filled by index, splatted into ``ServiceLine``) because that is the
hot path: it measured about 30% faster than a slotted draft object plus keyword construction.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any, Final

from claims.fastbuild import fast_constructor
from claims.model import (
    CodeAmount,
    CodeDate,
    CodeSpan,
    Diagnosis,
    Person,
    Procedure,
    Provider,
    ProviderRole,
    ServiceLine,
)
from claims.x12.tokenizer import Chunk

__all__ = ["LINE_TEMPLATE", "ClaimDraft", "PersonDraft", "ProviderDraft"]

_new_person = fast_constructor(Person)
_new_provider = fast_constructor(Provider)

# Positions in a line draft; they must follow ServiceLine's field order (checked below).
L_NUMBER, L_CHARGE, L_UNITS, L_CODE, L_QUALIFIER, L_MODIFIERS, L_REVENUE, L_UNIT_TYPE = range(8)
L_DATE, L_DATE_END, L_POS, L_POINTERS, L_EMERGENCY, L_NDC, L_NDC_QTY, L_NDC_UNIT = range(8, 16)
L_DESCRIPTION, L_PROVIDERS, L_PRIOR_AUTH, L_SOURCE = range(16, 20)
_LINE_FIELDS: Final = (
    "number", "charge", "units", "procedure_code", "procedure_qualifier", "modifiers",
    "revenue_code", "unit_type", "service_date", "service_date_end", "place_of_service",
    "diagnosis_pointers", "emergency", "ndc", "ndc_quantity", "ndc_unit", "description",
    "providers", "prior_authorizations", "source",
)  # fmt: skip
if tuple(f.name for f in fields(ServiceLine)) != tuple(_LINE_FIELDS):  # pragma: no cover
    raise RuntimeError("claims.model.ServiceLine changed its fields; update claims/x12/_drafts.py")

#: A line with no SV1/SV2 yet: ``None`` charge marks "no service segment seen".
LINE_TEMPLATE: Final[list[Any]] = [
    0,
    None,
    None,
    "",
    "HC",
    (),
    "",
    "UN",
    None,
    None,
    "",
    (),
    False,
    "",
    None,
    "",
    "",
    None,
    (),
    None,
]


class PersonDraft:
    """A subscriber or patient being read (2010BA / 2010CA)."""

    # Class-level defaults: a draft is created per subscriber HL, and most fields stay unset.
    last_name = first_name = middle_name = member_id = ""
    sex = address_line = city = state = postal_code = ""
    birth_date: date | None = None

    def build(self) -> Person:
        """Freeze."""
        return _new_person(
            last_name=self.last_name,
            first_name=self.first_name,
            middle_name=self.middle_name,
            member_id=self.member_id,
            birth_date=self.birth_date,
            sex=self.sex,
            address_line=self.address_line,
            city=self.city,
            state=self.state,
            postal_code=self.postal_code,
        )


class ProviderDraft:
    """A provider in one role being read (2010AA/AB, 2310x, 2420x)."""

    __slots__ = ("entity_type", "first_name", "last_name", "npi", "role", "tax_id", "taxonomy")

    def __init__(self, role: ProviderRole, els: list[str]) -> None:
        self.role = role
        self.entity_type = els[2] or "2"
        self.last_name = els[3]
        self.first_name = els[4]
        self.npi = els[9] if els[8] == "XX" else ""
        self.taxonomy = ""
        self.tax_id = ""

    def build(self) -> Provider | None:
        """Freeze; None for an NM1 that names no one (``NM1*87*2``): it carries no data."""
        if not (self.last_name or self.first_name or self.npi or self.taxonomy or self.tax_id):
            return None
        return _new_provider(
            role=self.role,
            npi=self.npi,
            taxonomy=self.taxonomy,
            entity_type=self.entity_type,
            last_name=self.last_name,
            first_name=self.first_name,
            tax_id=self.tax_id,
        )


class ClaimDraft:
    """One 2300 loop being read, with its 2400 lines so far.

    Scalar fields default at class level, so a new draft only allocates its lists: most claims
    set a handful of the thirty fields, and this halves the cost of starting one.
    """

    broken = False
    patient_control_number = facility_code = frequency_code = ""
    total_charge = Decimal(0)
    auto_state = delay_reason = prior_auth = referral = original_ref = ""
    admission_type = admission_source = patient_status = ""
    related_causes: tuple[str, ...] = ()
    statement_from: date | None = None
    statement_to: date | None = None
    admission_date: date | None = None
    discharge_date: date | None = None
    onset_date: date | None = None
    line: list[Any] | None = None

    def __init__(self, segment_number: int, chunk: Chunk | None, index: int) -> None:
        self.segment_number = segment_number
        self.chunk = chunk  # where the CLM is, to locate a late error (offset computed lazily)
        self.index = index
        self.providers: list[ProviderDraft] = []
        self.diagnoses: list[Diagnosis] = []
        self.procedures: list[Procedure] = []
        self.conditions: list[str] = []
        self.occurrences: list[CodeDate] = []
        self.spans: list[CodeSpan] = []
        self.values: list[CodeAmount] = []
        self.lines: list[ServiceLine] = []
