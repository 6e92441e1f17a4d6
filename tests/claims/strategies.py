"""Hypothesis strategies for domain claims that both X12 and the Optum JSON shape can carry.

The strategies stay inside what each claim kind can express in *both* formats, so that
model -> X12 -> model and model -> JSON -> model are exact round trips.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from claims.model import (
    Claim,
    ClaimKind,
    CodeAmount,
    CodeDate,
    CodeSpan,
    Diagnosis,
    DiagnosisRole,
    Party,
    Person,
    Procedure,
    Provider,
    ProviderRole,
    ServiceLine,
)

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
_ALNUM = _UPPER + _DIGITS

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))
birth_dates = st.dates(min_value=date(1920, 1, 1), max_value=date(2025, 12, 31))


def _text(alphabet: str, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


names = _text(_UPPER, 1, 12)
money = st.integers(min_value=1, max_value=9_999_999).map(lambda cents: Decimal(cents) / 100)
units = st.sampled_from(
    [Decimal(1), Decimal(2), Decimal(3), Decimal("1.5"), Decimal(10), Decimal(30)]
)
npis = _text(_DIGITS, 10, 10)
taxonomies = st.builds(lambda d, s: d + s, _text(_DIGITS, 3, 3), _text(_ALNUM, 7, 7))
icd10_codes = st.builds(
    lambda a, d, rest: a + d + rest,
    st.sampled_from(_UPPER),
    _text(_DIGITS, 2, 2),
    _text(_ALNUM, 0, 4),
)
hcpcs_codes = st.one_of(
    _text(_DIGITS, 5, 5),
    st.builds(lambda a, d: a + d, st.sampled_from("AEGJKLQ"), _text(_DIGITS, 4, 4)),
)
modifiers = st.lists(_text(_ALNUM, 2, 2), max_size=4).map(tuple)
revenue_codes = st.builds(lambda d: "0" + d, _text(_DIGITS, 3, 3))

people = st.builds(
    Person,
    last_name=names,
    first_name=names,
    member_id=_text(_ALNUM, 2, 15),
    birth_date=birth_dates,
    sex=st.sampled_from(["M", "F", "U"]),
)
parties = st.builds(Party, name=names, identifier=_text(_ALNUM, 2, 15))
named_parties = st.builds(Party, name=names)


def _provider(role: ProviderRole) -> st.SearchStrategy[Provider]:
    person = st.builds(
        Provider,
        role=st.just(role),
        npi=npis,
        taxonomy=taxonomies | st.just(""),
        entity_type=st.just("1"),
        last_name=names,
        first_name=names,
    )
    org = st.builds(
        Provider,
        role=st.just(role),
        npi=npis,
        taxonomy=taxonomies | st.just(""),
        entity_type=st.just("2"),
        last_name=names,
    )
    return person | org


def _billing() -> st.SearchStrategy[Provider]:
    return st.builds(
        Provider,
        role=st.just(ProviderRole.BILLING),
        npi=npis,
        taxonomy=taxonomies,
        entity_type=st.just("2"),
        last_name=names,
        tax_id=_text(_DIGITS, 9, 9),
    )


_OPTIONAL_ROLES = {
    ClaimKind.PROFESSIONAL: (ProviderRole.RENDERING, ProviderRole.REFERRING),
    # in ProviderRole order, the order both readers produce
    ClaimKind.INSTITUTIONAL: (
        ProviderRole.REFERRING,
        ProviderRole.ATTENDING,
        ProviderRole.OPERATING,
    ),
}


@st.composite
def _providers(draw: st.DrawFn, kind: ClaimKind) -> tuple[Provider, ...]:
    out = [draw(_billing())]
    for role in _OPTIONAL_ROLES[kind]:
        if draw(st.booleans()):
            provider = draw(_provider(role))
            if role is ProviderRole.OPERATING:  # Optum's operatingPhysician carries no taxonomy
                provider = replace(provider, taxonomy="")
            out.append(provider)
    return tuple(out)


@st.composite
def _professional_line(draw: st.DrawFn, number: int, n_dx: int) -> ServiceLine:
    start = draw(dates)
    return ServiceLine(
        number=number,
        charge=draw(money),
        units=draw(units),
        procedure_code=draw(hcpcs_codes),
        procedure_qualifier="HC",
        modifiers=draw(modifiers),
        unit_type=draw(st.sampled_from(["UN", "MJ"])),
        service_date=start,
        service_date_end=draw(
            st.none() | st.integers(1, 30).map(lambda d: start + timedelta(days=d))
        ),
        place_of_service=draw(st.sampled_from(["", "11", "22", "23"])),
        diagnosis_pointers=tuple(
            draw(st.lists(st.integers(1, n_dx), min_size=1, max_size=min(4, n_dx), unique=True))
        ),
        emergency=draw(st.booleans()),
        prior_authorizations=tuple(draw(st.lists(_text(_ALNUM, 1, 15), max_size=2))),
    )


@st.composite
def _institutional_line(draw: st.DrawFn, number: int) -> ServiceLine:
    has_code = draw(st.booleans())
    return ServiceLine(
        number=number,
        charge=draw(money),
        units=draw(units),
        revenue_code=draw(revenue_codes),
        procedure_code=draw(hcpcs_codes) if has_code else "",
        procedure_qualifier="HC" if has_code else "",
        modifiers=draw(modifiers) if has_code else (),
        unit_type=draw(st.sampled_from(["UN", "DA"])),
        service_date=draw(st.none() | dates),
    )


def _person_and_relationship() -> st.SearchStrategy[tuple[Person | None, str]]:
    self_ = st.just((None, "18"))
    other = st.tuples(people, st.sampled_from(["01", "19", "20", "21", "39", "53", "G8"]))
    return self_ | other  # type: ignore[return-value]


@st.composite
def professional_claims(draw: st.DrawFn) -> Claim:
    """Professional (837P) claims: POS, ABK/ABF diagnoses, HCPCS lines with pointers."""
    dx = [Diagnosis(draw(icd10_codes), DiagnosisRole.PRINCIPAL)]
    dx += [Diagnosis(c, DiagnosisRole.OTHER) for c in draw(st.lists(icd10_codes, max_size=7))]
    n_lines = draw(st.integers(1, 6))
    lines = tuple(draw(_professional_line(i + 1, len(dx))) for i in range(n_lines))
    patient, rel = draw(_person_and_relationship())
    return Claim(
        kind=ClaimKind.PROFESSIONAL,
        control_number=draw(_text(_DIGITS, 4, 9)),
        patient_control_number=draw(_text(_ALNUM, 1, 20)),
        total_charge=sum((ln.charge for ln in lines), Decimal(0)),
        facility_code=draw(st.sampled_from(["11", "12", "21", "22", "23", "81"])),
        frequency_code=draw(st.sampled_from(["1", "7", "8"])),
        claim_filing_code=draw(st.sampled_from(["CI", "MB", "MC", "BL", "HM"])),
        payer=draw(parties),
        submitter=draw(named_parties),  # Optum's professional JSON has no id here
        receiver=draw(named_parties),
        subscriber=draw(people),
        payment_responsibility=draw(st.sampled_from(["P", "S", "T"])),
        patient=patient,
        relationship_code=rel,
        providers=draw(_providers(ClaimKind.PROFESSIONAL)),
        diagnoses=tuple(dx),
        prior_authorization=draw(st.just("") | _text(_ALNUM, 1, 15)),
        referral_number=draw(st.just("") | _text(_ALNUM, 1, 15)),
        lines=lines,
    )


@st.composite
def institutional_claims(draw: st.DrawFn) -> Claim:
    """Institutional (837I) claims: type of bill, UB-04 codes, PCS procedures, revenue lines."""
    poa = st.sampled_from(["", "Y", "N", "U", "W"])
    dx = [Diagnosis(draw(icd10_codes), DiagnosisRole.PRINCIPAL, poa=draw(poa))]
    if draw(st.booleans()):
        dx.append(Diagnosis(draw(icd10_codes), DiagnosisRole.ADMITTING))
    dx += [
        Diagnosis(c, DiagnosisRole.REASON_FOR_VISIT)
        for c in draw(st.lists(icd10_codes, max_size=2))
    ]
    dx += [
        Diagnosis(draw(icd10_codes), DiagnosisRole.EXTERNAL_CAUSE, poa=draw(poa))
        for _ in range(draw(st.integers(0, 2)))
    ]
    dx += [
        Diagnosis(draw(icd10_codes), DiagnosisRole.OTHER, poa=draw(poa))
        for _ in range(draw(st.integers(0, 6)))
    ]
    pcs = _text(_ALNUM, 7, 7)
    procs = [Procedure(draw(pcs), draw(dates), principal=True)] if draw(st.booleans()) else []
    if procs:
        procs += [Procedure(draw(pcs), draw(dates)) for _ in range(draw(st.integers(0, 3)))]
    start = draw(dates)
    end = start + timedelta(days=draw(st.integers(0, 40)))
    n_lines = draw(st.integers(1, 6))
    lines = tuple(draw(_institutional_line(i + 1)) for i in range(n_lines))
    patient, rel = draw(_person_and_relationship())
    if patient is not None:  # Optum's institutional dependent carries no member id
        patient = replace(patient, member_id="")
    return Claim(
        kind=ClaimKind.INSTITUTIONAL,
        control_number=draw(_text(_DIGITS, 4, 9)),
        patient_control_number=draw(_text(_ALNUM, 1, 20)),
        total_charge=sum((ln.charge for ln in lines), Decimal(0)),
        facility_code=draw(st.sampled_from(["11", "12", "13", "14", "21", "71", "85"])),
        frequency_code=draw(st.sampled_from(["1", "2", "3", "4", "7", "8"])),
        claim_filing_code=draw(st.sampled_from(["CI", "MA", "MC", "BL"])),
        payer=draw(parties),
        submitter=draw(parties),
        receiver=draw(parties),
        subscriber=draw(people),
        payment_responsibility=draw(st.sampled_from(["P", "S"])),
        patient=patient,
        relationship_code=rel,
        providers=draw(_providers(ClaimKind.INSTITUTIONAL)),
        diagnoses=tuple(dx),
        procedures=tuple(procs),
        statement_from=start,
        statement_to=end,
        admission_date=draw(st.none() | st.just(start)),
        admission_type_code=draw(st.sampled_from(["1", "2", "3", "4", "5", "9"])),
        admission_source_code=draw(st.sampled_from(["", "1", "2", "4", "7"])),
        patient_status_code=draw(st.sampled_from(["01", "02", "03", "20", "30"])),
        condition_codes=tuple(draw(st.lists(_text(_ALNUM, 2, 2), max_size=4))),
        occurrence_codes=tuple(
            CodeDate(c, d)
            for c, d in draw(st.lists(st.tuples(_text(_DIGITS, 2, 2), dates), max_size=3))
        ),
        occurrence_spans=tuple(
            CodeSpan(c, d, d + timedelta(days=n))
            for c, d, n in draw(
                st.lists(st.tuples(_text(_DIGITS, 2, 2), dates, st.integers(0, 30)), max_size=2)
            )
        ),
        value_codes=tuple(
            CodeAmount(c, a)
            for c, a in draw(st.lists(st.tuples(_text(_ALNUM, 2, 2), money), max_size=3))
        ),
        prior_authorization=draw(st.just("") | _text(_ALNUM, 1, 15)),
        lines=lines,
    )


def claims() -> st.SearchStrategy[Claim]:
    """Claims of either kind."""
    return professional_claims() | institutional_claims()
