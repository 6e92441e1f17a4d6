"""The field vocabulary of the rule language, derived from :mod:`claims.model`.

Names are the dataclass field names (``line.procedure_code`` is ``ServiceLine.procedure_code``);
``patient.age``, ``claim.type_of_bill``, ``claim.place_of_service`` and
``claim.first_service_date`` are derived.  Field ids are positions in ``DEFAULT_SCHEMA.fields``
and are stable: new fields are appended (``_APPENDED``, after every original group).

``claim.payer_id`` is ``Claim.payer.identifier`` (the payer's id: Optum ``tradingPartnerServiceId``,
X12 2010BB NM109), a code, so a per-payer table can be keyed by it.

Record collections read as code sets: ``claim.value_codes``, ``claim.occurrence_codes`` and
``claim.occurrence_spans`` are the ``.code`` of each ``CodeAmount`` / ``CodeDate`` / ``CodeSpan``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from dsl.ir import BuiltinId, BuiltinInfo, FieldInfo, FieldRoot, ValueType

__all__ = [
    "BUILTINS",
    "BUILTINS_BY_NAME",
    "DEFAULT_SCHEMA",
    "PROVIDER_ROLES",
    "ClaimSchema",
    "root_of",
]

T = ValueType
PROVIDER_ROLES: Final = (
    "billing",
    "pay_to",
    "rendering",
    "referring",
    "attending",
    "operating",
    "other_operating",
    "service_facility",
    "supervising",
    "ordering",
    "purchased_service",
)

_CLAIM: Final[tuple[tuple[str, ValueType, bool, str], ...]] = (
    ("kind", T.CODE, False, "professional or institutional"),
    ("control_number", T.TEXT, False, ""),
    ("patient_control_number", T.TEXT, False, "CLM01"),
    ("total_charge", T.MONEY, False, "CLM02"),
    ("facility_code", T.CODE, False, "CLM05-1"),
    ("frequency_code", T.CODE, False, "CLM05-3"),
    ("claim_filing_code", T.CODE, False, "SBR09"),
    ("payment_responsibility", T.CODE, False, "SBR01"),
    ("relationship_code", T.CODE, False, ""),
    ("statement_from", T.DATE, False, ""),
    ("statement_to", T.DATE, False, ""),
    ("admission_date", T.DATE, False, ""),
    ("discharge_date", T.DATE, False, ""),
    ("onset_date", T.DATE, False, ""),
    ("admission_type_code", T.CODE, False, ""),
    ("admission_source_code", T.CODE, False, ""),
    ("patient_status_code", T.CODE, False, ""),
    ("condition_codes", T.CODE_SET, False, ""),
    ("related_causes", T.CODE_SET, False, "CLM11"),
    ("prior_authorization", T.TEXT, False, "REF*G1"),
    ("referral_number", T.TEXT, False, "REF*9F"),
    ("original_reference_number", T.TEXT, False, "REF*F8"),
    ("auto_accident_state", T.CODE, False, ""),
    ("delay_reason_code", T.CODE, False, "CLM20"),
    ("place_of_service", T.CODE, True, "facility code of a professional claim"),
    ("type_of_bill", T.CODE, True, "facility code + frequency of an institutional claim"),
    ("first_service_date", T.DATE, True, "earliest line date, else statement_from"),
    ("lines", T.LINES, False, "the service lines (aggregate source)"),
    ("diagnoses", T.DIAGNOSES, False, "the diagnoses (aggregate source)"),
)
_PERSON: Final[tuple[tuple[str, ValueType], ...]] = (
    ("last_name", T.TEXT),
    ("first_name", T.TEXT),
    ("middle_name", T.TEXT),
    ("member_id", T.TEXT),
    ("birth_date", T.DATE),
    ("sex", T.CODE),
    ("address_line", T.TEXT),
    ("city", T.TEXT),
    ("state", T.CODE),
    ("postal_code", T.CODE),
)
_PROVIDER: Final[tuple[tuple[str, ValueType], ...]] = (
    ("npi", T.CODE),
    ("taxonomy", T.CODE),
    ("entity_type", T.CODE),
    ("last_name", T.TEXT),
    ("first_name", T.TEXT),
    ("tax_id", T.CODE),
)
_LINE: Final[tuple[tuple[str, ValueType], ...]] = (
    ("number", T.NUMBER),
    ("charge", T.MONEY),
    ("units", T.NUMBER),
    ("procedure_code", T.CODE),
    ("procedure_qualifier", T.CODE),
    ("modifiers", T.CODE_SET),
    ("revenue_code", T.CODE),
    ("unit_type", T.CODE),
    ("service_date", T.DATE),
    ("service_date_end", T.DATE),
    ("place_of_service", T.CODE),
    ("emergency", T.BOOL),
    ("ndc", T.CODE),
    ("ndc_quantity", T.NUMBER),
    ("ndc_unit", T.CODE),
    ("description", T.TEXT),
)
_DX: Final[tuple[tuple[str, ValueType], ...]] = (
    ("code", T.CODE),
    ("role", T.CODE),
    ("poa", T.CODE),
    ("icd9", T.BOOL),
)

_APPENDED: Final[tuple[tuple[str, FieldRoot, ValueType, str], ...]] = (
    ("line.diagnosis_pointers", FieldRoot.LINE, T.NUMBER_SET, "1-based pointers (SV107)"),
    ("claim.value_codes", FieldRoot.CLAIM, T.CODE_SET, "value codes (HI*BE), codes only"),
    ("claim.occurrence_codes", FieldRoot.CLAIM, T.CODE_SET, "occurrence codes (HI*BH)"),
    ("claim.occurrence_spans", FieldRoot.CLAIM, T.CODE_SET, "occurrence span codes (HI*BI)"),
    ("claim.payer_id", FieldRoot.CLAIM, T.CODE, "payer identifier (2010BB NM109)"),
    (
        "line.prior_authorizations",
        FieldRoot.LINE,
        T.CODE_SET,
        "the line's prior authorization numbers (837P 2400 REF*G1)",
    ),
)
_ATTRIBUTE_PATHS: Final[Mapping[str, tuple[str, ...]]] = {
    "claim.payer_id": ("payer", "identifier"),
}
"""Appended fields whose attribute path differs from their name (``Claim.payer.identifier``)."""

ROOT_PREFIX: Final[Mapping[FieldRoot, str]] = {
    FieldRoot.CLAIM: "claim",
    FieldRoot.PATIENT: "patient",
    FieldRoot.SUBSCRIBER: "subscriber",
    FieldRoot.LINE: "line",
    FieldRoot.DIAGNOSIS: "dx",
}


def _build_fields() -> tuple[FieldInfo, ...]:
    out: list[FieldInfo] = []

    def add(
        name: str,
        root: FieldRoot,
        attr: str,
        typ: ValueType,
        derived: bool = False,
        role: str = "",
        doc: str = "",
    ) -> None:
        out.append(FieldInfo(len(out), name, root, (attr,), typ, derived, role, doc))

    for attr, typ, derived, doc in _CLAIM:
        add(f"claim.{attr}", FieldRoot.CLAIM, attr, typ, derived, doc=doc)
    for attr, typ in _PERSON:
        add(f"patient.{attr}", FieldRoot.PATIENT, attr, typ)
    add("patient.age", FieldRoot.PATIENT, "age", T.NUMBER, True, doc="whole years on first DOS")
    for attr, typ in _PERSON:
        add(f"subscriber.{attr}", FieldRoot.SUBSCRIBER, attr, typ)
    for role in PROVIDER_ROLES:
        for attr, typ in _PROVIDER:
            add(f"{role}.{attr}", FieldRoot.PROVIDER, attr, typ, role=role)
    for attr, typ in _LINE:
        add(f"line.{attr}", FieldRoot.LINE, attr, typ)
    for attr, typ in _DX:
        add(f"dx.{attr}", FieldRoot.DIAGNOSIS, attr, typ)
    for name, root, typ, doc in _APPENDED:
        path = _ATTRIBUTE_PATHS.get(name, (name.split(".", 1)[1],))
        out.append(FieldInfo(len(out), name, root, path, typ, False, "", doc))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ClaimSchema:
    """The fields a rule may read, by canonical name (``line.units``)."""

    fields: tuple[FieldInfo, ...]

    def lookup(self, root: str, attr: str) -> FieldInfo | None:
        """The field ``root.attr`` (root is the canonical prefix: claim, patient, line, dx, ...)."""
        return _BY_NAME.get(f"{root}.{attr}") if self is DEFAULT_SCHEMA else self._scan(root, attr)

    def _scan(self, root: str, attr: str) -> FieldInfo | None:
        name = f"{root}.{attr}"
        return next((f for f in self.fields if f.name == name), None)

    def attributes(self, root: str) -> list[str]:
        """Attribute names under ``root`` (for did-you-mean and notes)."""
        prefix = root + "."
        return [f.name[len(prefix) :] for f in self.fields if f.name.startswith(prefix)]

    def roots(self) -> list[str]:
        """All root names."""
        return sorted({f.name.split(".", 1)[0] for f in self.fields})


DEFAULT_SCHEMA: Final = ClaimSchema(_build_fields())
_BY_NAME: Final[Mapping[str, FieldInfo]] = {f.name: f for f in DEFAULT_SCHEMA.fields}


def root_of(info: FieldInfo) -> str:
    """The canonical root prefix of a field."""
    return info.name.split(".", 1)[0]


BUILTINS: Final[tuple[BuiltinInfo, ...]] = (
    BuiltinInfo(BuiltinId.NPI_VALID, "npi_valid", (T.CODE,), T.BOOL),
    BuiltinInfo(BuiltinId.ICD10CM_VALID, "icd10cm_valid", (T.CODE, T.DATE), T.BOOL),
    BuiltinInfo(BuiltinId.ICD10CM_BILLABLE, "icd10cm_billable", (T.CODE, T.DATE), T.BOOL),
    BuiltinInfo(BuiltinId.DAYS_BETWEEN, "days_between", (T.DATE, T.DATE), T.NUMBER),
    BuiltinInfo(BuiltinId.AGE_ON, "age_on", (T.DATE, T.DATE), T.NUMBER),
    BuiltinInfo(BuiltinId.LENGTH, "length", (T.CODE,), T.NUMBER),
    BuiltinInfo(BuiltinId.ADD_DAYS, "add_days", (T.DATE, T.NUMBER), T.DATE),
    BuiltinInfo(BuiltinId.VALUE_AMOUNT, "value_amount", (T.CODE,), T.MONEY),
    BuiltinInfo(BuiltinId.PROCESSING_DATE, "processing_date", (), T.DATE),
)
BUILTINS_BY_NAME: Final[Mapping[str, BuiltinInfo]] = {b.name: b for b in BUILTINS}
assert [b.id for b in BUILTINS] == list(BuiltinId)
