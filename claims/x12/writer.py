"""Claims → 005010 837P/837I interchanges.

One interchange per call.  Claims are grouped by kind into one functional group each (837P first,
in input order within a kind); consecutive claims with the same ``control_number``, submitter and
receiver share a transaction set, and inside it consecutive claims with the same billing provider
and subscriber context share their HL parents.  Counts (SE01, GE01, IEA01) and control numbers are
computed, never taken from the caller.

What ``read_x12(write_x12(claims))`` gives back: equal claims, with two normalisations.  The
billing and pay-to providers come first in ``Claim.providers`` (they live in the 2000A loop), and
an institutional line without a procedure code reads back with ``procedure_qualifier == ""``.

Why the writer refuses some claims (``ValueError``) instead of writing them: X12 has no escape
mechanism, so a ``*``, ``:``, ``^`` or ``~`` inside a name would silently corrupt the file, and a
fifth modifier or a second billing provider has no place in an 837.  Failing loudly is better than
a file that reads back differently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from typing import Final

from claims.model import Claim, ClaimKind, Person, Provider, ProviderRole, ServiceLine
from claims.x12._values import format_amount as _amt
from claims.x12._values import format_d8 as _d8

__all__ = ["WriteOptions", "write_x12"]

_VERSION: Final = {ClaimKind.PROFESSIONAL: "005010X222A1", ClaimKind.INSTITUTIONAL: "005010X223A2"}
_ENTITY: Final = {
    ProviderRole.REFERRING: "DN",
    ProviderRole.RENDERING: "82",
    ProviderRole.SERVICE_FACILITY: "77",
    ProviderRole.SUPERVISING: "DQ",
    ProviderRole.ORDERING: "DK",
    ProviderRole.PURCHASED_SERVICE: "QB",
    ProviderRole.ATTENDING: "71",
    ProviderRole.OPERATING: "72",
    ProviderRole.OTHER_OPERATING: "ZZ",
}
_PRV_CODE: Final = {
    ProviderRole.ATTENDING: "AT",
    ProviderRole.OPERATING: "OP",
    ProviderRole.REFERRING: "RF",
    ProviderRole.SUPERVISING: "SU",
}
_DX_QUALIFIER: Final = {
    ("principal", False): "ABK",
    ("principal", True): "BK",
    ("other", False): "ABF",
    ("other", True): "BF",
    ("admitting", False): "ABJ",
    ("admitting", True): "BJ",
    ("reason_for_visit", False): "APR",
    ("reason_for_visit", True): "PR",
    ("external_cause", False): "ABN",
    ("external_cause", True): "BN",
}
_DELIMITERS: Final = frozenset("*:^~\r\n")
_HI_MAX: Final = 12


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """Envelope values for ``write_x12``.

    Attributes:
        sender_id: ISA06/GS02 (at most 15 characters).
        receiver_id: ISA08/GS03 (at most 15 characters).
        interchange_control_number: ISA13/IEA02 (1 to 999,999,999).
        usage: ISA15, ``P`` production or ``T`` test.
        timestamp: ISA09/10, GS04/05 and BHT04/05; fix it for byte-identical output.
        newline: put a line feed after each terminator, for people reading the file.
        claims_per_transaction: split point for claims without a control number (the IGs
            recommend at most 5000 claims per transaction set).
    """

    sender_id: str = "CLAIMSCRUB"
    receiver_id: str = "RECEIVER"
    interchange_control_number: int = 1
    usage: str = "P"
    timestamp: datetime | None = None
    newline: bool = False
    claims_per_transaction: int = 5000


def _t(value: str, what: str) -> str:
    """A caller's text, refused if it holds a delimiter (X12 has no escapes)."""
    if value.isalnum() or not value or _DELIMITERS.isdisjoint(value):
        return value
    raise ValueError(f"{what} {value!r} contains an X12 delimiter (one of * : ^ ~ or a newline)")


def _seg(*elements: str) -> str:
    """Join elements, dropping trailing empty ones (X12 forbids trailing separators)."""
    n = len(elements)
    while n > 1 and not elements[n - 1]:
        n -= 1
    return "*".join(elements[:n])


def _comp(*parts: str) -> str:
    n = len(parts)
    while n > 1 and not parts[n - 1]:
        n -= 1
    return ":".join(parts[:n])


def _date_element(start: date, end: date | None) -> tuple[str, str]:
    if end is None:
        return "D8", _d8(start)
    return "RD8", f"{_d8(start)}-{_d8(end)}"


class _Writer:
    """Appends segments to ``out``; private, driven by ``write_x12``."""

    def __init__(self, options: WriteOptions, stamp: datetime) -> None:
        self.options = options
        self.out: list[str] = []
        self.date8 = stamp.strftime("%Y%m%d")
        self.time4 = stamp.strftime("%H%M")
        self.hl = 0

    def transaction(self, kind: ClaimKind, control: str, claims: list[Claim]) -> None:
        out = self.out
        start = len(out)
        first = claims[0]
        out.append(_seg("ST", "837", control, _VERSION[kind]))
        out.append(_seg("BHT", "0019", "00", control, self.date8, self.time4, "CH"))
        sub, rec = first.submitter, first.receiver
        out.append(
            _seg(
                "NM1",
                "41",
                "2",
                _t(sub.name, "submitter"),
                "",
                "",
                "",
                "",
                "46",
                _t(sub.identifier, "submitter id"),
            )
        )
        out.append(
            _seg(
                "NM1",
                "40",
                "2",
                _t(rec.name, "receiver"),
                "",
                "",
                "",
                "",
                "46",
                _t(rec.identifier, "receiver id"),
            )
        )
        self.hl = 0
        billing_key: object = None
        subscriber_key: object = None
        hl_billing = hl_subscriber = 0
        for claim in claims:
            billing, pay_to, others = _split_providers(claim)
            key = (billing, pay_to)
            if key != billing_key:
                billing_key, subscriber_key = key, None
                hl_billing = self._billing(billing, pay_to)
            skey = (
                claim.subscriber,
                claim.payer,
                claim.payment_responsibility,
                claim.claim_filing_code,
                claim.relationship_code,
                claim.patient,
            )
            if skey != subscriber_key:
                subscriber_key = skey
                hl_subscriber = self._subscriber(claim, hl_billing)
                if claim.patient is not None:
                    self._patient(claim, claim.patient, hl_subscriber)
            self._claim(claim, others)
        out.append(_seg("SE", str(len(out) - start + 1), control))

    def _billing(self, billing: Provider | None, pay_to: Provider | None) -> int:
        self.hl += 1
        out = self.out
        out.append(_seg("HL", str(self.hl), "", "20", "1"))
        if billing is not None:
            if billing.taxonomy:
                out.append(_seg("PRV", "BI", "PXC", _t(billing.taxonomy, "taxonomy")))
            self._nm1("85", billing)
            if billing.tax_id:
                out.append(_seg("REF", "EI", _t(billing.tax_id, "tax id")))
        else:
            out.append(_seg("NM1", "85", "2"))
        if pay_to is not None:
            self._provider("87", pay_to, "PT")
        return self.hl

    def _subscriber(self, claim: Claim, parent: int) -> int:
        self.hl += 1
        out = self.out
        has_patient = claim.patient is not None
        out.append(_seg("HL", str(self.hl), str(parent), "22", "1" if has_patient else "0"))
        relationship = "" if has_patient else _t(claim.relationship_code, "relationship")
        out.append(
            _seg(
                "SBR",
                _t(claim.payment_responsibility, "SBR01"),
                relationship,
                "",
                "",
                "",
                "",
                "",
                "",
                _t(claim.claim_filing_code, "filing code"),
            )
        )
        self._person("IL", claim.subscriber)
        payer = claim.payer
        out.append(
            _seg(
                "NM1",
                "PR",
                "2",
                _t(payer.name, "payer"),
                "",
                "",
                "",
                "",
                "PI",
                _t(payer.identifier, "payer id"),
            )
        )
        return self.hl

    def _patient(self, claim: Claim, patient: Person, parent: int) -> None:
        self.hl += 1
        self.out.append(_seg("HL", str(self.hl), str(parent), "23", "0"))
        self.out.append(_seg("PAT", _t(claim.relationship_code, "relationship")))
        self._person("QC", patient)

    def _person(self, entity: str, p: Person) -> None:
        out = self.out
        qualifier = "MI" if p.member_id else ""
        out.append(
            _seg(
                "NM1",
                entity,
                "1",
                _t(p.last_name, "last name"),
                _t(p.first_name, "first name"),
                _t(p.middle_name, "middle name"),
                "",
                "",
                qualifier,
                _t(p.member_id, "member id"),
            )
        )
        if p.address_line:
            out.append(_seg("N3", _t(p.address_line, "address")))
        if p.city or p.state or p.postal_code:
            out.append(
                _seg(
                    "N4", _t(p.city, "city"), _t(p.state, "state"), _t(p.postal_code, "postal code")
                )
            )
        if p.birth_date is not None or p.sex:
            born = _d8(p.birth_date) if p.birth_date is not None else ""
            out.append(_seg("DMG", "D8", born, _t(p.sex, "sex")))

    def _nm1(self, entity: str, p: Provider) -> None:
        self.out.append(
            _seg(
                "NM1",
                entity,
                _t(p.entity_type, "entity type"),
                _t(p.last_name, "provider name"),
                _t(p.first_name, "first name"),
                "",
                "",
                "",
                "XX" if p.npi else "",
                _t(p.npi, "NPI"),
            )
        )

    def _provider(self, entity: str, p: Provider, prv_code: str) -> None:
        self._nm1(entity, p)
        if p.taxonomy:
            self.out.append(_seg("PRV", prv_code, "PXC", _t(p.taxonomy, "taxonomy")))
        if p.tax_id:
            self.out.append(_seg("REF", "EI", _t(p.tax_id, "tax id")))

    def _claim(self, c: Claim, providers: list[Provider]) -> None:
        out = self.out
        professional = c.kind is ClaimKind.PROFESSIONAL
        clm05 = _comp(
            _t(c.facility_code, "facility code"),
            "B" if professional else "A",
            _t(c.frequency_code, "frequency code"),
        )
        clm11 = ""
        if c.related_causes or c.auto_accident_state:
            causes = [_t(x, "related cause") for x in c.related_causes] + ["", "", ""]
            clm11 = _comp(*causes[:3], _t(c.auto_accident_state, "accident state"))
        out.append(
            _seg(
                "CLM",
                _t(c.patient_control_number, "CLM01"),
                _amt(c.total_charge),
                "",
                "",
                clm05,
                "Y" if professional else "",
                "A",
                "Y",
                "Y",
                "",
                clm11,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                _t(c.delay_reason_code, "delay reason"),
            )
        )
        if c.onset_date is not None:
            out.append(_seg("DTP", "431", "D8", _d8(c.onset_date)))
        if c.discharge_date is not None:
            out.append(_seg("DTP", "096", "D8", _d8(c.discharge_date)))
        if c.statement_from is not None:
            out.append(_seg("DTP", "434", *_date_element(c.statement_from, c.statement_to)))
        if c.admission_date is not None:
            out.append(_seg("DTP", "435", "D8", _d8(c.admission_date)))
        if c.admission_type_code or c.admission_source_code or c.patient_status_code:
            out.append(
                _seg(
                    "CL1",
                    _t(c.admission_type_code, "admission type"),
                    _t(c.admission_source_code, "admission source"),
                    _t(c.patient_status_code, "patient status"),
                )
            )
        for qualifier, value in (
            ("9F", c.referral_number),
            ("G1", c.prior_authorization),
            ("F8", c.original_reference_number),
        ):
            if value:
                out.append(_seg("REF", qualifier, _t(value, f"REF*{qualifier}")))
        self._hi(c, professional)
        for p in providers:
            self._provider(_ENTITY[p.role], p, _PRV_CODE.get(p.role, "PE"))
        for line in c.lines:
            self._line(line, professional)

    def _hi(self, c: Claim, professional: bool) -> None:
        runs: list[tuple[object, list[str]]] = []

        def add(group: object, composite: str) -> None:
            if runs and runs[-1][0] == group and len(runs[-1][1]) < _HI_MAX:
                runs[-1][1].append(composite)
            else:
                runs.append((group, [composite]))

        for dx in c.diagnoses:
            qualifier = _DX_QUALIFIER[(dx.role.value, dx.icd9)]
            poa = ("",) * 6 + (_t(dx.poa, "POA"),) if dx.poa else ()
            # 837P puts all diagnoses in one HI (pointers count across it); 837I one per role.
            add("dx" if professional else dx.role, _comp(qualifier, _t(dx.code, "dx"), *poa))
        for proc in c.procedures:
            qualifier = (
                ("BR" if proc.principal else "BQ")
                if proc.icd9
                else ("BBR" if proc.principal else "BBQ")
            )
            when = ("D8", _d8(proc.date)) if proc.date is not None else ()
            add(qualifier, _comp(qualifier, _t(proc.code, "procedure"), *when))
        for span in c.occurrence_spans:
            add(
                "BI",
                _comp("BI", _t(span.code, "span"), "RD8", f"{_d8(span.start)}-{_d8(span.end)}"),
            )
        for occ in c.occurrence_codes:
            add("BH", _comp("BH", _t(occ.code, "occurrence"), "D8", _d8(occ.date)))
        for value in c.value_codes:
            add("BE", _comp("BE", _t(value.code, "value code"), "", "", _amt(value.amount)))
        for code in c.condition_codes:
            add("BG", _comp("BG", _t(code, "condition code")))
        self.out.extend(_seg("HI", *composites) for _, composites in runs)

    def _line(self, ln: ServiceLine, professional: bool) -> None:
        out = self.out
        out.append(f"LX*{ln.number}")
        if len(ln.modifiers) > 4:
            raise ValueError(f"line {ln.number} has {len(ln.modifiers)} modifiers; X12 holds 4")
        proc = ""
        if ln.procedure_code:
            mods = [_t(m, "modifier") for m in ln.modifiers]
            if ln.description:
                mods += [""] * (4 - len(mods)) + [_t(ln.description, "description")]
            proc = _comp(
                _t(ln.procedure_qualifier, "qualifier"), _t(ln.procedure_code, "code"), *mods
            )
        if professional:
            pointers = ":".join(map(str, ln.diagnosis_pointers))
            out.append(
                _seg(
                    "SV1",
                    proc,
                    _amt(ln.charge),
                    _t(ln.unit_type, "unit type"),
                    _amt(ln.units),
                    _t(ln.place_of_service, "place of service"),
                    "",
                    pointers,
                    "",
                    "Y" if ln.emergency else "",
                )
            )
        else:
            out.append(
                _seg(
                    "SV2",
                    _t(ln.revenue_code, "revenue code"),
                    proc,
                    _amt(ln.charge),
                    _t(ln.unit_type, "unit type"),
                    _amt(ln.units),
                )
            )
        if ln.service_date is not None:
            out.append(_seg("DTP", "472", *_date_element(ln.service_date, ln.service_date_end)))
        if ln.prior_authorizations and not professional:
            raise ValueError(f"line {ln.number}: an 837I line has no prior authorization (REF*G1)")
        if len(ln.prior_authorizations) > 5:
            raise ValueError(f"line {ln.number}: more than 5 prior authorizations (REF*G1)")
        for auth in ln.prior_authorizations:  # 2400 REF*G1, after DTP (TR3 segment order)
            out.append(_seg("REF", "G1", _t(auth, "prior authorization")))
        if ln.ndc:
            out.append(_seg("LIN", "", "N4", _t(ln.ndc, "NDC")))
            if ln.ndc_quantity is not None or ln.ndc_unit:
                quantity = _amt(ln.ndc_quantity) if ln.ndc_quantity is not None else ""
                out.append(_seg("CTP", "", "", "", quantity, _t(ln.ndc_unit, "NDC unit")))
        for p in ln.providers:
            if p.role not in _ENTITY:
                raise ValueError(f"line {ln.number}: a {p.role.value} provider has no 2420 loop")
            self._provider(_ENTITY[p.role], p, _PRV_CODE.get(p.role, "PE"))


def _split_providers(claim: Claim) -> tuple[Provider | None, Provider | None, list[Provider]]:
    billing: list[Provider] = []
    pay_to: list[Provider] = []
    others: list[Provider] = []
    for p in claim.providers:
        (
            billing
            if p.role is ProviderRole.BILLING
            else pay_to
            if p.role is ProviderRole.PAY_TO
            else others
        ).append(p)
    if len(billing) > 1 or len(pay_to) > 1:
        raise ValueError(f"claim {claim.patient_control_number!r}: more than one billing/pay-to")
    return (billing[0] if billing else None), (pay_to[0] if pay_to else None), others


def _transactions(claims: list[Claim], per_transaction: int) -> Iterable[tuple[str, list[Claim]]]:
    """Consecutive claims that can share an ST: same control number, submitter and receiver."""
    generated = 0
    for (control, _sub, _rec), run in groupby(
        claims, key=lambda c: (c.control_number, c.submitter, c.receiver)
    ):
        group = list(run)
        valid = 4 <= len(control) <= 9 and control.isalnum()
        if valid:
            yield control, group
            continue
        for i in range(0, len(group), per_transaction):
            generated += 1
            yield f"{generated:04d}", group[i : i + per_transaction]


def write_x12(claims: Iterable[Claim], options: WriteOptions | None = None) -> bytes:
    """One 005010 interchange holding ``claims`` (837P and 837I in separate groups).

    Args:
        claims: the claims, of either kind.
        options: envelope values; defaults are fine for tests and round trips.

    Returns:
        The interchange as ASCII/UTF-8 bytes, segments terminated by ``~``.

    Raises:
        ValueError: a claim holds a delimiter character, or something an 837 cannot carry.
    """
    opts = options or WriteOptions()
    stamp = opts.timestamp or datetime.now()
    w = _Writer(opts, stamp)
    by_kind: dict[ClaimKind, list[Claim]] = {
        ClaimKind.PROFESSIONAL: [],
        ClaimKind.INSTITUTIONAL: [],
    }
    for claim in claims:
        by_kind[claim.kind].append(claim)
    sender = _t(opts.sender_id, "sender id")[:15]
    receiver = _t(opts.receiver_id, "receiver id")[:15]
    control = f"{opts.interchange_control_number:09d}"
    out = w.out
    out.append(
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:15}*ZZ*{receiver:15}*{stamp:%y%m%d}*{stamp:%H%M}"
        f"*^*00501*{control}*0*{opts.usage}*:"
    )
    groups = 0
    for kind, group in by_kind.items():
        if not group:
            continue
        groups += 1
        out.append(
            _seg("GS", "HC", sender, receiver, w.date8, w.time4, str(groups), "X", _VERSION[kind])
        )
        count = 0
        for st_control, st_claims in _transactions(group, opts.claims_per_transaction):
            w.transaction(kind, st_control, st_claims)
            count += 1
        out.append(_seg("GE", str(count), str(groups)))
    out.append(_seg("IEA", str(groups), control))
    terminator = "~\n" if opts.newline else "~"
    return (terminator.join(out) + terminator).encode("utf-8")
