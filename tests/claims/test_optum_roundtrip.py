"""Round trips through the Optum JSON shape: domain → JSON → domain is the identity.

``expressible`` spells out, field by field, what each Optum document has no property for.  The
property test asserts ``parse(to_json(c)) == expressible(c)``; for the strategy's claims that is
``c`` itself wherever the strategy stays inside what the document can hold.
"""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from claims.model import Claim, ClaimKind, Diagnosis, DiagnosisRole, Person, Provider, ProviderRole
from claims.optum import claim_to_json, parse_claim_json
from claims.optum.institutional import DIAGNOSIS_ORDER
from tests.claims.strategies import claims

_CLAIM_ROLES = {
    ClaimKind.PROFESSIONAL: {
        ProviderRole.BILLING,
        ProviderRole.RENDERING,
        ProviderRole.REFERRING,
        ProviderRole.SUPERVISING,
        ProviderRole.ORDERING,
        ProviderRole.SERVICE_FACILITY,
    },
    ClaimKind.INSTITUTIONAL: {
        ProviderRole.BILLING,
        ProviderRole.RENDERING,
        ProviderRole.REFERRING,
        ProviderRole.ATTENDING,
        ProviderRole.OPERATING,
        ProviderRole.OTHER_OPERATING,
        ProviderRole.SERVICE_FACILITY,
    },
}
_LINE_ROLES = {
    ClaimKind.PROFESSIONAL: {
        ProviderRole.RENDERING,
        ProviderRole.PURCHASED_SERVICE,
        ProviderRole.SERVICE_FACILITY,
        ProviderRole.SUPERVISING,
        ProviderRole.ORDERING,
        ProviderRole.REFERRING,
    },
    ClaimKind.INSTITUTIONAL: {
        ProviderRole.RENDERING,
        ProviderRole.REFERRING,
        ProviderRole.OPERATING,
        ProviderRole.OTHER_OPERATING,
    },
}
_NO_EXTRAS = {ProviderRole.OPERATING, ProviderRole.OTHER_OPERATING}


def _providers(
    providers: tuple[Provider, ...], roles: set[ProviderRole], kind: ClaimKind
) -> tuple[Provider, ...]:
    order = list(ProviderRole)
    kept: dict[ProviderRole, Provider] = {}
    for p in providers:
        if p.role in roles and p.role not in kept:
            if p.role is ProviderRole.SERVICE_FACILITY:
                p = replace(p, entity_type="2", first_name="", taxonomy="", tax_id="")
            elif kind is ClaimKind.INSTITUTIONAL and p.role in _NO_EXTRAS:
                p = replace(p, taxonomy="", tax_id="")
            if p.entity_type != "1":
                p = replace(p, entity_type="2", first_name="")
            kept[p.role] = p
    return tuple(sorted(kept.values(), key=lambda p: order.index(p.role)))


def _institutional_diagnoses(diagnoses: tuple[Diagnosis, ...]) -> tuple[Diagnosis, ...]:
    out: list[Diagnosis] = []
    for role in DIAGNOSIS_ORDER:
        group = [d for d in diagnoses if d.role is role]
        if role in (DiagnosisRole.PRINCIPAL, DiagnosisRole.ADMITTING):
            group = group[:1]
        if role in (DiagnosisRole.ADMITTING, DiagnosisRole.REASON_FOR_VISIT):
            group = [replace(d, poa="") for d in group]
        out += group
    return tuple(out)


def expressible(c: Claim) -> Claim:
    """``c`` without what its kind's Optum document cannot carry (the documented losses)."""
    kind = c.kind
    lines = tuple(
        replace(ln, providers=_providers(ln.providers, _LINE_ROLES[kind], kind)) for ln in c.lines
    )
    c = replace(
        c,
        providers=_providers(c.providers, _CLAIM_ROLES[kind], kind),
        relationship_code=c.relationship_code if c.patient is not None else "18",
        lines=lines,
    )
    if kind is ClaimKind.PROFESSIONAL:
        return replace(
            c,
            submitter=replace(c.submitter, identifier=""),
            receiver=replace(c.receiver, identifier=""),
            diagnoses=tuple(replace(d, poa="") for d in c.diagnoses),
            procedures=(),
            statement_from=None,
            statement_to=None,
            admission_type_code="",
            admission_source_code="",
            patient_status_code="",
            occurrence_codes=(),
            occurrence_spans=(),
            value_codes=(),
            lines=tuple(replace(ln, revenue_code="") for ln in c.lines),
        )
    principal = [p for p in c.procedures if p.principal][:1]
    patient: Person | None = c.patient
    return replace(
        c,
        patient=replace(patient, member_id="") if patient is not None else None,
        diagnoses=_institutional_diagnoses(c.diagnoses),
        procedures=(*principal, *(p for p in c.procedures if not p.principal)),
        onset_date=None,
        discharge_date=None,
        related_causes=(),
        lines=tuple(
            replace(ln, place_of_service="", diagnosis_pointers=(), emergency=False) for ln in lines
        ),
    )


@settings(max_examples=200, deadline=None)
@given(claims())
def test_domain_json_domain_round_trip(claim: Claim) -> None:
    text = json.dumps(claim_to_json(claim))
    assert parse_claim_json(text) == expressible(claim)
    # The strategy stays inside what both X12 and JSON can carry: the trip is exact.
    assert parse_claim_json(text) == claim


@settings(max_examples=100, deadline=None)
@given(claims(), st.sampled_from([True, False]))
def test_json_is_stable_after_one_trip(claim: Claim, explicit_kind: bool) -> None:
    once = claim_to_json(claim)
    kind = claim.kind if explicit_kind else None
    assert claim_to_json(parse_claim_json(once, kind)) == once
