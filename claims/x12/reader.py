"""Stage 2: segments → claims, for 005010X222A1/A2 (837P) and 005010X223A2/A3 (837I).

``_Reader`` adds the 837 loops to the envelope pass of ``claims.x12._envelope``: the HL hierarchy
(20 billing provider, 22 subscriber, 23 patient) whose context every claim below it shares, the
2300 claim, its 2310 providers and 2400 lines.  A claim is frozen when the next CLM, HL or SE
shows that it is complete, so memory holds one claim at a time.

Error policy (callers get claims and ``X12Error`` values interleaved, in file order):

* A data error inside a claim (bad date or amount, empty required element, unknown HI qualifier,
  bytes that are not UTF-8, LX without SV1/SV2) spoils that claim: the error is yielded, the claim
  is not.  A spoiled claim is never half-delivered.
* A data error in an HL context (say a bad subscriber birth date) spoils every claim under it; each
  is reported as X12-E029 at its own CLM, so no claim disappears silently.
* A notice that loses no modelled data (an unknown segment, skipped; an SE/GE/IEA count or control
  number mismatch) is yielded and the claims are yielded too.
* Reading resumes at the next CLM, HL or ST.  Only framing errors (X12-E001…E004, E007) stop it.

Only the primary subscriber (2000B) is read.  Other-subscriber loops (2320/2330x, entered by an SBR
after the CLM) are skipped as a block, so their ``NM1*IL`` can never overwrite the subscriber.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import fields
from decimal import Decimal
from typing import Any, BinaryIO, Final

from claims.fastbuild import fast_constructor
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
    SourceLocation,
)
from claims.x12._drafts import (
    L_CHARGE,
    L_CODE,
    L_DATE,
    L_DATE_END,
    L_DESCRIPTION,
    L_EMERGENCY,
    L_MODIFIERS,
    L_NDC,
    L_NDC_QTY,
    L_NDC_UNIT,
    L_NUMBER,
    L_POINTERS,
    L_POS,
    L_PRIOR_AUTH,
    L_PROVIDERS,
    L_QUALIFIER,
    L_REVENUE,
    L_SOURCE,
    L_UNIT_TYPE,
    L_UNITS,
    LINE_TEMPLATE,
    ClaimDraft,
    PersonDraft,
    ProviderDraft,
)
from claims.x12._envelope import EnvelopeReader, Handler
from claims.x12._values import AMOUNT_CACHE, DATE_CACHE, BadValue, amount, d8, dt, pointers, rd8
from claims.x12.errors import X12Error
from claims.x12.tokenizer import Chunk, tokenize

__all__ = ["looks_like_x12", "read_x12"]

# Where in the transaction set the reader is; decides what NM1, REF, DTP ... mean there.
HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM, OTHER_SUB, LINE, ORPHAN = range(8)

_ROLES: Final = {
    "DN": ProviderRole.REFERRING,
    "P3": ProviderRole.REFERRING,  # primary care provider, read as the referring one
    "82": ProviderRole.RENDERING,
    "77": ProviderRole.SERVICE_FACILITY,
    "DQ": ProviderRole.SUPERVISING,
    "DK": ProviderRole.ORDERING,
    "QB": ProviderRole.PURCHASED_SERVICE,
    "71": ProviderRole.ATTENDING,
    "72": ProviderRole.OPERATING,
    "ZZ": ProviderRole.OTHER_OPERATING,
}
# Loop names by kind and entity code, for locations.  PW/45 are ambulance pick-up/drop-off points.
_LOOPS_2310: Final = {
    ClaimKind.PROFESSIONAL: {
        "DN": "2310A",
        "P3": "2310A",
        "82": "2310B",
        "77": "2310C",
        "DQ": "2310D",
        "PW": "2310E",
        "45": "2310F",
    },
    ClaimKind.INSTITUTIONAL: {
        "71": "2310A",
        "72": "2310B",
        "ZZ": "2310C",
        "82": "2310D",
        "77": "2310E",
        "DN": "2310F",
    },
}
_LOOPS_2420: Final = {
    ClaimKind.PROFESSIONAL: {
        "82": "2420A",
        "QB": "2420B",
        "77": "2420C",
        "DQ": "2420D",
        "DK": "2420E",
        "DN": "2420F",
        "P3": "2420F",
        "PW": "2420G",
        "45": "2420H",
    },
    ClaimKind.INSTITUTIONAL: {"72": "2420A", "ZZ": "2420B", "82": "2420C", "DN": "2420D"},
}
_LOOPS_2330: Final = {"IL": "2330A", "PR": "2330B", "DN": "2330C", "82": "2330D", "77": "2330E"}

# HI qualifiers: ICD-10 ones start with A/B, the ICD-9 ones (pre-October 2015) do not.
_DX: Final = {
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
_PROC: Final = {  # qualifier -> (principal, icd9); CAH is the HIPAA ABC principal procedure
    "BBR": (True, False),
    "BR": (True, True),
    "CAH": (True, False),
    "BBQ": (False, False),
    "BQ": (False, True),
}
#: HI qualifiers with no place in the model (DRG, treatment codes, ...): read and ignored.
_HI_IGNORED: Final = frozenset({"DR", "TC", "BP", "BO"})

# Segments the model has no field for, with the areas where the 837s allow them.
_C, _L, _O = CLAIM, LINE, OTHER_SUB
_IGNORED: Final[dict[str, frozenset[int]]] = {
    "BHT": frozenset({HEADER}),
    "PER": frozenset({HEADER, BILLING, SUBSCRIBER, PATIENT, _C, _L, _O}),
    "CUR": frozenset({BILLING}),
    **{sid: frozenset({_C, _L}) for sid in ("PWK", "CN1", "K3", "NTE", "CR1", "CRC", "HCP", "QTY")},
    **{sid: frozenset({_L}) for sid in ("CR3", "CR4", "CR5", "MEA", "PS1", "HSD", "SV5", "FRM")},
    "CR2": frozenset({_C}),
    "AMT": frozenset({_C, _L, _O}),
    "CAS": frozenset({_L, _O}),
    **{sid: frozenset({_O}) for sid in ("OI", "MOA", "MIA")},
}
_PARTY_AREAS: Final = frozenset({BILLING, SUBSCRIBER, PATIENT, _C, _L, _O, ORPHAN})

# Constructors that skip the frozen-dataclass __setattr__ dance (see claims.fastbuild).
_new_line = fast_constructor(ServiceLine)
_new_source = fast_constructor(SourceLocation)
_new_claim = fast_constructor(Claim)
_new_diagnosis = fast_constructor(Diagnosis)
_DX_CACHE_MAX: Final = 4096
_CLAIM_FIELDS: Final = (
    "kind",
    "control_number",
    "patient_control_number",
    "total_charge",
    "facility_code",
    "frequency_code",
    "claim_filing_code",
    "payer",
    "submitter",
    "receiver",
    "subscriber",
    "payment_responsibility",
    "patient",
    "relationship_code",
    "providers",
    "diagnoses",
    "procedures",
    "statement_from",
    "statement_to",
    "admission_date",
    "discharge_date",
    "onset_date",
    "admission_type_code",
    "admission_source_code",
    "patient_status_code",
    "condition_codes",
    "occurrence_codes",
    "occurrence_spans",
    "value_codes",
    "prior_authorization",
    "referral_number",
    "original_reference_number",
    "related_causes",
    "auto_accident_state",
    "delay_reason_code",
    "lines",
    "source",
)
if tuple(f.name for f in fields(Claim)) != _CLAIM_FIELDS:  # pragma: no cover
    raise RuntimeError("claims.model.Claim changed its fields; update _Reader._build")
_SV1_CACHE_MAX: Final = 4096


def _amount_at(els: list[str], i: int) -> Decimal:
    """A required R element, located."""
    text = els[i]
    if not text:
        raise BadValue("X12-E024", f"{els[0]}{i:02d} is empty", i)
    try:
        return amount(text)
    except BadValue as exc:
        exc.element = i
        raise


def _part(parts: list[str], i: int) -> str:
    return parts[i] if len(parts) > i else ""


def _fill_person(person: PersonDraft, els: list[str]) -> None:
    person.last_name, person.first_name, person.middle_name = els[3], els[4], els[5]
    person.member_id = els[9]


def _check_date(fmt: str, value: str) -> None:
    """Validate a date the model does not keep, so a malformed one is still reported."""
    if fmt == "D8":
        d8(value)
    elif fmt == "RD8":
        rd8(value)
    elif fmt == "DT":
        dt(value)


class _Reader(EnvelopeReader):
    """The 837 state machine.  Private: the public surface is ``read_x12``."""

    def __init__(self, file: str) -> None:
        content: dict[str, Handler] = {
            "HL": self._hl,
            "PRV": self._prv,
            "NM1": self._nm1,
            "N3": self._n3,
            "N4": self._n4,
            "DMG": self._dmg,
            "REF": self._ref,
            "SBR": self._sbr,
            "PAT": self._pat,
            "CLM": self._clm,
            "DTP": self._dtp,
            "CL1": self._cl1,
            "HI": self._hi,
            "LX": self._lx,
            "SV1": self._sv1,
            "SV2": self._sv2,
            "LIN": self._lin,
            "CTP": self._ctp,
            "SVD": self._svd,
            "LQ": self._lq,
            **dict.fromkeys(_IGNORED, self._ignored),
        }
        super().__init__(file, content)
        self.dx_cache: dict[str, Diagnosis] = {}
        self.dx_cache_sep = ""
        # SV101 (qualifier, code, modifiers, description) and SV107 pointers by their text, for
        # the inlined SV1 of read_segments; filled by _sv1, valid while csep is sv1_sep.
        self.proc_cache: dict[str, tuple[str, str, tuple[str, ...], str]] = {}
        self.ptr_cache: dict[str, tuple[int, ...]] = {}
        self.sv1_sep = ""
        # The handlers that read_segments inlines, as stored in the dispatch table (compared by
        # identity: the table holds them only inside an 837 transaction set).
        self.lx_handler = content["LX"]
        self.sv1_handler = content["SV1"]
        self.dtp_handler = content["DTP"]
        self.start_transaction()

    # ---- hooks --------------------------------------------------------------------------------

    def start_transaction(self) -> None:
        self.area = HEADER
        self.target: object = None
        self.claim: ClaimDraft | None = None
        self.submitter = self.receiver = Party()
        self.billing_seen = False
        self._reset_billing()

    def drop_claim(self) -> None:
        self.claim = None

    def spoil(self) -> None:
        if self.claim is not None:
            self.claim.broken = True
        elif self.area == PATIENT:
            self.patient_broken = True
        elif self.area == SUBSCRIBER:
            self.subscriber_broken = True
        elif self.area == BILLING:
            self.billing_broken = True

    def _reset_billing(self) -> None:
        self.billing: ProviderDraft | None = None
        self.pay_to: ProviderDraft | None = None
        self.billing_taxonomy = ""
        self.billing_built: tuple[Provider, ...] | None = None
        self.billing_broken = False
        self._reset_subscriber(None)

    def _reset_subscriber(self, draft: PersonDraft | None) -> None:
        self.subscriber = draft
        self.payer = Party()
        self.sbr01, self.sbr02, self.sbr09 = "P", "", ""
        self.subscriber_built: Person | None = None
        self.subscriber_broken = False
        self._reset_patient(None)

    def _reset_patient(self, draft: PersonDraft | None) -> None:
        self.patient = draft
        self.pat01 = ""
        self.patient_built: Person | None = None
        self.patient_broken = False

    def _misplaced(self, sid: str) -> None:
        if self.area != ORPHAN:
            msg = f"segment {sid} is not expected in loop {self.loop}; skipped"
            self.junk_segment(sid, "X12-E023", msg)

    def _ignored(self, els: list[str]) -> None:
        if self.area not in _IGNORED[els[0]]:
            self._misplaced(els[0])

    # ---- hierarchy and parties ----------------------------------------------------------------

    def _hl(self, els: list[str]) -> None:
        self.junk = 0
        self.finish_claim()
        els += [""] * (5 - len(els))
        level, self.target = els[3], None
        if level == "20":
            self.area, self.loop, self.billing_seen = BILLING, "2000A", True
            self._reset_billing()
        elif level == "22":
            self.area, self.loop = SUBSCRIBER, "2000B"
            self._reset_subscriber(PersonDraft())
            if not self.billing_seen:
                raise BadValue("X12-E025", "subscriber HL with no billing provider HL before it", 3)
        elif level == "23":
            self.area, self.loop = PATIENT, "2000C"
            no_subscriber = self.subscriber is None
            self._reset_patient(PersonDraft())
            if no_subscriber:
                raise BadValue("X12-E025", "patient HL with no subscriber HL before it", 3)
        else:
            self.area, self.loop = PATIENT, "2000C"
            self._reset_patient(PersonDraft())
            raise BadValue("X12-E025", f"HL03 {level!r} is not 20, 22 or 23", 3)

    def _prv(self, els: list[str]) -> None:
        els += [""] * (4 - len(els))
        target = self.target
        if isinstance(target, ProviderDraft):
            target.taxonomy = els[3]
            self.billing_built = None
        elif self.area == BILLING:
            self.billing_taxonomy = els[3]  # 2000A PRV comes before the 2010AA NM1
        elif self.area not in (CLAIM, LINE, OTHER_SUB):
            self._misplaced("PRV")

    def _nm1(self, els: list[str]) -> None:
        if len(els) < 10:
            els += [""] * (10 - len(els))
        code, area = els[1], self.area
        self.target = None
        if area in (CLAIM, LINE):
            assert self.claim is not None
            loops = _LOOPS_2310 if area == CLAIM else _LOOPS_2420
            self.loop = loops[self.kind].get(code, self.loop[:4])
            role = _ROLES.get(code)
            if role is None:
                return
            draft = self.target = ProviderDraft(role, els)
            if area == CLAIM:
                self.claim.providers.append(draft)
                return
            line = self.claim.line
            assert line is not None
            if line[L_PROVIDERS] is None:
                line[L_PROVIDERS] = []
            line[L_PROVIDERS].append(draft)
        elif area == OTHER_SUB:
            self.loop = _LOOPS_2330.get(code, "2330")
        elif area == HEADER:
            if code == "41":
                self.loop, self.submitter = "1000A", Party(els[3], els[9])
            elif code == "40":
                self.loop, self.receiver = "1000B", Party(els[3], els[9])
        elif area == BILLING:
            self.billing_built = None
            if code == "85":
                self.loop = "2010AA"
                self.billing = self.target = ProviderDraft(ProviderRole.BILLING, els)
            elif code == "87":
                self.loop = "2010AB"
                self.pay_to = self.target = ProviderDraft(ProviderRole.PAY_TO, els)
            else:
                self.loop = "2010AC"
        elif area == SUBSCRIBER:
            self.subscriber_built = None
            if code == "IL" and self.subscriber is not None:
                self.loop, self.target = "2010BA", self.subscriber
                _fill_person(self.subscriber, els)
            elif code == "PR":
                self.loop, self.payer = "2010BB", Party(els[3], els[9])
        elif area == PATIENT and code == "QC" and self.patient is not None:
            self.loop, self.target = "2010CA", self.patient
            _fill_person(self.patient, els)
            self.patient_built = None

    def _n3(self, els: list[str]) -> None:
        if isinstance(self.target, PersonDraft):
            self.target.address_line = els[1] if len(els) > 1 else ""
        elif self.area not in _PARTY_AREAS:
            self._misplaced("N3")

    def _n4(self, els: list[str]) -> None:
        target = self.target
        if isinstance(target, PersonDraft):
            els += [""] * (4 - len(els))
            target.city, target.state, target.postal_code = els[1], els[2], els[3]
        elif self.area not in _PARTY_AREAS:
            self._misplaced("N4")

    def _dmg(self, els: list[str]) -> None:
        target = self.target
        if not isinstance(target, PersonDraft):
            if self.area not in (OTHER_SUB, ORPHAN):
                self._misplaced("DMG")
            return
        els += [""] * (4 - len(els))
        if els[2]:
            try:
                target.birth_date = d8(els[2])
            except BadValue as exc:
                exc.element = 2
                raise
        target.sex = els[3]

    def _ref(self, els: list[str]) -> None:
        els += [""] * (3 - len(els))
        qualifier, value, target = els[1], els[2], self.target
        if isinstance(target, ProviderDraft):
            if qualifier == "EI" or qualifier == "SY":
                target.tax_id = value
                self.billing_built = None
        elif self.area == CLAIM:
            claim = self.claim
            assert claim is not None
            if qualifier == "G1":
                claim.prior_auth = value
            elif qualifier == "9F":
                claim.referral = value
            elif qualifier == "F8":
                claim.original_ref = value
        elif self.area == LINE and qualifier == "G1" and self.kind is ClaimKind.PROFESSIONAL:
            claim = self.claim
            line = None if claim is None else claim.line
            if line is not None:  # 2400 REF*G1: prior authorization of this service
                line[L_PRIOR_AUTH] = (*line[L_PRIOR_AUTH], value)
        elif self.area not in _PARTY_AREAS:
            self._misplaced("REF")

    def _sbr(self, els: list[str]) -> None:
        area = self.area
        if area == SUBSCRIBER:
            els += [""] * (10 - len(els))
            self.sbr01, self.sbr02, self.sbr09 = els[1], els[2], els[9]
            self.subscriber_built = None
        elif area in (CLAIM, OTHER_SUB):
            self.area, self.loop, self.target = OTHER_SUB, "2320", None
        else:
            self._misplaced("SBR")

    def _pat(self, els: list[str]) -> None:
        if self.area == PATIENT:
            self.pat01 = els[1] if len(els) > 1 else ""
        elif self.area != SUBSCRIBER:  # 837P 2000B PAT: death date/weight, not modelled
            self._misplaced("PAT")

    # ---- claim --------------------------------------------------------------------------------

    def _clm(self, els: list[str]) -> None:
        self.junk = 0
        self.finish_claim()
        els += [""] * (21 - len(els))
        self.target, self.loop = None, "2300"
        if self.subscriber is None:
            self.area = ORPHAN
            raise BadValue("X12-E025", "CLM with no subscriber HL before it")
        claim = self.claim = ClaimDraft(self.seg_no, self.chunk, self.pos)
        self.area = CLAIM
        if not els[1]:
            raise BadValue("X12-E024", "CLM01 (patient control number) is empty", 1)
        claim.patient_control_number = els[1]
        claim.total_charge = _amount_at(els, 2)
        clm05, csep = els[5], self.csep
        if csep not in clm05 and len(clm05) > 2 and not clm05[2].isalnum():
            # ISA16 says one component separator and the claims use another (two of the
            # reference samples do this); CLM05 is always a composite, so trust what it uses.
            csep = self.csep = clm05[2]
        parts = clm05.split(csep)
        if not parts[0]:
            raise BadValue("X12-E024", "CLM05-1 (facility code / place of service) is empty", 5)
        claim.facility_code, claim.frequency_code = parts[0], _part(parts, 2)
        if els[11]:
            causes = els[11].split(csep)
            claim.related_causes = tuple(c for c in causes[:3] if c)
            claim.auto_state = _part(causes, 3)
        claim.delay_reason = els[20]

    def _dtp(self, els: list[str]) -> None:
        if len(els) < 4:
            els += [""] * (4 - len(els))
        qualifier, fmt, value, area = els[1], els[2], els[3], self.area
        try:
            if area == LINE:
                claim = self.claim
                line = None if claim is None else claim.line
                if line is None:  # LINE implies an open line; keep mypy and odd inputs honest
                    return
                if qualifier != "472":
                    _check_date(fmt, value)
                elif fmt == "D8":
                    when = DATE_CACHE.get(value)
                    line[L_DATE] = d8(value) if when is None else when
                    line[L_DATE_END] = None
                elif fmt == "RD8":
                    line[L_DATE], line[L_DATE_END] = rd8(value)
                else:
                    raise BadValue("X12-E026", f"DTP02 {fmt!r} is not D8 or RD8", 2)
            elif area == CLAIM:
                self._claim_date(qualifier, fmt, value)
            elif area == OTHER_SUB:
                _check_date(fmt, value)
            else:
                self._misplaced("DTP")
        except BadValue as exc:
            exc.element = exc.element or 3
            raise

    def _claim_date(self, qualifier: str, fmt: str, value: str) -> None:
        claim = self.claim
        assert claim is not None
        if qualifier == "434" and fmt == "RD8":
            claim.statement_from, claim.statement_to = rd8(value)
        elif qualifier == "434" and fmt == "D8":
            claim.statement_from = d8(value)
        elif qualifier == "435" and fmt in ("D8", "DT"):
            claim.admission_date = d8(value) if fmt == "D8" else dt(value)
        elif qualifier == "096" and fmt == "D8":  # 837I sends the discharge *hour* (TM) here
            claim.discharge_date = d8(value)
        elif qualifier == "431" and fmt == "D8":
            claim.onset_date = d8(value)
        else:
            _check_date(fmt, value)

    def _cl1(self, els: list[str]) -> None:
        if self.area != CLAIM:
            self._misplaced("CL1")
            return
        assert self.claim is not None
        els += [""] * (4 - len(els))
        claim = self.claim
        claim.admission_type, claim.admission_source, claim.patient_status = els[1], els[2], els[3]

    def _hi(self, els: list[str]) -> None:
        claim = self.claim
        if self.area != CLAIM or claim is None:
            self._misplaced("HI")
            return
        csep = self.csep
        cache = self.dx_cache
        if csep != self.dx_cache_sep:
            cache.clear()
            self.dx_cache_sep = csep
        for n in range(1, len(els)):
            text = els[n]
            if not text:
                continue
            # The same few hundred diagnosis composites recur across a file; share the objects.
            dx = cache.get(text)
            if dx is not None:
                claim.diagnoses.append(dx)
                continue
            try:
                dx = _hi_composite(claim, text.split(csep))
            except BadValue as exc:
                exc.element = n
                raise
            if dx is not None:
                if len(cache) >= _DX_CACHE_MAX:
                    cache.clear()
                cache[text] = dx

    # ---- service lines ------------------------------------------------------------------------

    def _no_claim(self, sid: str) -> None:
        if self.area != ORPHAN:  # report once per orphan run, then skip to the next CLM/HL/SE
            self.area, self.loop = ORPHAN, "2400"
            raise BadValue("X12-E020", f"{sid} with no CLM before it; skipped up to the next CLM")

    def _lx(self, els: list[str]) -> None:
        claim = self.claim
        if claim is None:
            self._no_claim("LX")
            return
        if claim.line is not None:
            self.finish_line(claim)
        line = claim.line = LINE_TEMPLATE.copy()
        line[L_SOURCE] = (self.seg_no, self.chunk, self.pos)  # replaced at SV1/SV2
        self.area = LINE
        self.loop = "2400"
        self.target = None
        number = els[1] if len(els) > 1 else ""
        if not (number.isascii() and number.isdigit()):
            raise BadValue("X12-E022", f"bad line number {number!r} in LX01", 1)
        line[L_NUMBER] = int(number)

    def _service_line(self, sid: str) -> list[Any] | None:
        """The open line for an SV1/SV2, or None when skipping segments with no claim."""
        claim = self.claim
        if claim is None:
            self._no_claim(sid)
            return None
        line = claim.line
        if line is None or line[L_CHARGE] is not None or self.area != LINE:
            raise BadValue("X12-E023", f"{sid} is not right after an LX")
        line[L_SOURCE] = (sid, self.seg_no)
        return line

    def _sv1(self, els: list[str]) -> None:
        # The hottest handler: cache lookups are inlined and the checks of _service_line are
        # repeated here rather than called (measured ~10% of the read time).
        claim = self.claim
        line = None if claim is None else claim.line
        if line is None or line[L_CHARGE] is not None or self.area != LINE:
            line = self._service_line("SV1")
            if line is None:
                return
        line[L_SOURCE] = ("SV1", self.seg_no)
        if len(els) < 10:
            els += [""] * (10 - len(els))
        csep = self.csep
        proc = els[1].split(csep)
        n = len(proc)
        if n < 2 or not proc[1]:
            raise BadValue("X12-E024", "SV101-2 (procedure code) is empty", 1)
        line[L_QUALIFIER] = proc[0]
        line[L_CODE] = proc[1]
        if n > 2:
            line[L_MODIFIERS] = tuple(filter(None, proc[2:6]))
            if n > 6:
                line[L_DESCRIPTION] = proc[6]
        charge = AMOUNT_CACHE.get(els[2])
        line[L_CHARGE] = _amount_at(els, 2) if charge is None else charge
        units = AMOUNT_CACHE.get(els[4])
        line[L_UNITS] = _amount_at(els, 4) if units is None else units
        line[L_UNIT_TYPE] = els[3]
        line[L_POS] = els[5]
        if els[7]:
            try:
                line[L_POINTERS] = pointers(els[7], csep)
            except BadValue as exc:
                exc.element = 7
                raise
        line[L_EMERGENCY] = els[9] == "Y"
        # Remember the composites for the inlined SV1 (a fresh line's modifiers and description
        # are still the template's when SV101 has none, so the entry is valid for any line).
        if csep != self.sv1_sep or max(len(self.proc_cache), len(self.ptr_cache)) >= _SV1_CACHE_MAX:
            self.proc_cache.clear()
            self.ptr_cache.clear()
            self.sv1_sep = csep
        self.proc_cache[els[1]] = (proc[0], proc[1], line[L_MODIFIERS], line[L_DESCRIPTION])
        if els[7]:
            self.ptr_cache[els[7]] = line[L_POINTERS]

    def _sv2(self, els: list[str]) -> None:
        line = self._service_line("SV2")
        if line is None:
            return
        els += [""] * (6 - len(els))
        if not els[1]:
            raise BadValue("X12-E024", "SV201 (revenue code) is empty", 1)
        line[L_REVENUE] = els[1]
        if els[2]:
            proc = els[2].split(self.csep)
            line[L_QUALIFIER], line[L_CODE] = proc[0], _part(proc, 1)
            line[L_MODIFIERS] = tuple(filter(None, proc[2:6]))
            line[L_DESCRIPTION] = _part(proc, 6)
        else:
            line[L_QUALIFIER] = ""
        line[L_CHARGE] = _amount_at(els, 3)
        line[L_UNIT_TYPE] = els[4]
        line[L_UNITS] = _amount_at(els, 5)

    def _lin(self, els: list[str]) -> None:
        if self.area != LINE:
            self._misplaced("LIN")
            return
        els += [""] * (4 - len(els))
        self.loop, self.target = "2410", None
        if els[2] == "N4":
            self.claim.line[L_NDC] = els[3]  # type: ignore[union-attr,index]  # LINE implies both

    def _ctp(self, els: list[str]) -> None:
        if self.area != LINE:
            self._misplaced("CTP")
            return
        els += [""] * (6 - len(els))
        line = self.claim.line  # type: ignore[union-attr]  # LINE implies both
        assert line is not None
        if els[4]:
            line[L_NDC_QTY] = _amount_at(els, 4)
        line[L_NDC_UNIT] = els[5].split(self.csep)[0]

    def _svd(self, els: list[str]) -> None:
        if self.area == LINE:
            self.loop, self.target = "2430", None
        else:
            self._misplaced("SVD")

    def _lq(self, els: list[str]) -> None:
        if self.area == LINE:
            self.loop, self.target = "2440", None
        else:
            self._misplaced("LQ")

    # ---- driver -------------------------------------------------------------------------------

    def read_segments(self, chunk: Chunk, start: int, stop: int) -> None:
        """``EnvelopeReader.read_segments`` with the 2400 loop's LX, SV1 and DTP*472 inlined.

        Those three are 300,000 of the 380,000 segments on the 100k-line benchmark, so the call
        into a handler, its prologue and the per-segment ``self.seg_no``/``self.pos`` stores are
        most of the driver's cost: inlining them (with the SV101/SV107 composite caches that
        ``_sv1`` fills) measured 0.52 s → 0.44 s.  Each inlined branch does only the common, valid
        case and changes nothing before it knows that it can finish; anything else falls through
        to the segment's handler, which stays the reference (and the only place that raises).
        ``seg_no`` is kept in a local and written back to ``self`` before any handler runs.
        """
        esep = self.esep
        bad = chunk.bad_utf8
        table = self.table
        lx, sv1, dtp = self.lx_handler, self.sv1_handler, self.dtp_handler
        dates, amounts = DATE_CACHE, AMOUNT_CACHE
        proc_cache, ptr_cache = self.proc_cache, self.ptr_cache
        seg_no = self.seg_no
        for i, seg in enumerate(chunk.segments[start:stop], start):
            els = seg.split(esep)
            seg_no += 1
            try:
                if bad and i in bad:
                    self.seg_no, self.pos = seg_no, i
                    self.bad_utf8(bad[i])
                handler = table[els[0]]
                if handler is sv1:
                    claim = self.claim
                    line = None if claim is None else claim.line
                    if line is not None and line[L_CHARGE] is None and self.area == LINE:
                        if len(els) < 10:
                            els += [""] * (10 - len(els))
                        charge, units, ptr_text = amounts.get(els[2]), amounts.get(els[4]), els[7]
                        if self.csep == self.sv1_sep:
                            proc = proc_cache.get(els[1])
                            ptrs = ptr_cache.get(ptr_text)
                        else:
                            proc = ptrs = None
                        if (
                            proc is not None
                            and charge is not None
                            and units is not None
                            and (ptrs is not None or not ptr_text)
                        ):
                            line[L_SOURCE] = ("SV1", seg_no)
                            qualifier, code, modifiers, description = proc
                            line[L_QUALIFIER] = qualifier
                            line[L_CODE] = code
                            line[L_MODIFIERS] = modifiers
                            line[L_DESCRIPTION] = description
                            line[L_CHARGE] = charge
                            line[L_UNITS] = units
                            line[L_UNIT_TYPE] = els[3]
                            line[L_POS] = els[5]
                            if ptr_text:
                                line[L_POINTERS] = ptrs
                            line[L_EMERGENCY] = els[9] == "Y"
                            continue
                elif handler is dtp:
                    if self.area == LINE and len(els) > 3 and els[1] == "472" and els[2] == "D8":
                        claim = self.claim
                        line = None if claim is None else claim.line
                        when = dates.get(els[3])
                        if line is not None and when is not None:
                            line[L_DATE] = when
                            line[L_DATE_END] = None
                            continue
                elif handler is lx:
                    claim = self.claim
                    number = els[1] if len(els) > 1 else ""
                    if claim is not None and number.isascii() and number.isdigit():
                        line = claim.line
                        if line is not None:
                            source = line[L_SOURCE]
                            if claim.broken or line[L_CHARGE] is None or line[L_PROVIDERS]:
                                self.finish_line(claim)
                            else:  # finish_line's common case
                                line[L_SOURCE] = _new_source("2400", *source, self.st_ctrl)
                                line[L_PROVIDERS] = ()
                                claim.lines.append(_new_line(*line))
                        line = claim.line = LINE_TEMPLATE.copy()
                        line[L_NUMBER] = int(number)
                        line[L_SOURCE] = (seg_no, chunk, i)  # replaced at SV1/SV2
                        self.area, self.loop, self.target = LINE, "2400", None
                        continue
                self.seg_no, self.pos = seg_no, i
                handler(els)
                seg_no = self.seg_no
            except BadValue as exc:
                self.bad_value(els[0], exc)
                seg_no = self.seg_no
        self.seg_no = seg_no

    # ---- freezing -----------------------------------------------------------------------------

    def finish_line(self, claim: ClaimDraft) -> None:
        """Freeze the claim's open line into a ServiceLine."""
        line = claim.line
        assert line is not None
        claim.line = None
        if claim.broken:
            return
        source = line[L_SOURCE]
        if line[L_CHARGE] is None:
            claim.broken = True
            number, chunk, index = source
            msg = f"LX*{line[L_NUMBER]} is not followed by SV1/SV2"
            self.emit("X12-E028", msg, at=(number, "LX", "2400", chunk, index))
            return
        line[L_SOURCE] = _new_source("2400", source[0], source[1], self.st_ctrl)
        drafts = line[L_PROVIDERS]
        line[L_PROVIDERS] = () if drafts is None else _built(drafts)
        claim.lines.append(_new_line(*line))

    def finish_claim(self) -> None:
        """Freeze the claim being read (with its HL context) and emit it, or its error."""
        claim = self.claim
        if claim is None:
            return
        if claim.line is not None:
            self.finish_line(claim)
        self.claim = None
        if claim.broken:
            return
        at = (claim.segment_number, "CLM", "2300", claim.chunk, claim.index)
        where = f"claim {claim.patient_control_number!r}"
        if not claim.lines:
            self.emit("X12-E024", f"{where} has no service line (LX)", at=at)
            return
        if self.billing_broken or self.subscriber_broken or self.patient_broken:
            msg = f"{where} dropped: its billing/subscriber/patient loop has an error (see above)"
            self.emit("X12-E029", msg, at=at)
            return
        self.out.append(self._build(claim))

    def _build(self, claim: ClaimDraft) -> Claim:
        if self.billing_built is None:
            drafts = [d for d in (self.billing, self.pay_to) if d is not None]
            if self.billing is not None and not self.billing.taxonomy:
                self.billing.taxonomy = self.billing_taxonomy
            self.billing_built = _built(drafts)
        if self.subscriber_built is None:
            assert self.subscriber is not None
            self.subscriber_built = self.subscriber.build()
        patient = None
        if self.patient is not None:
            if self.patient_built is None:
                self.patient_built = self.patient.build()
            patient = self.patient_built
        # Positional, in _CLAIM_FIELDS order (checked at import): 37 keywords cost 1.2 µs more
        # per claim (~25 ms per 20,000 claims) than positions.
        return _new_claim(
            self.kind,  # kind
            self.st_ctrl,  # control_number
            claim.patient_control_number,  # patient_control_number
            claim.total_charge,  # total_charge
            claim.facility_code,  # facility_code
            claim.frequency_code,  # frequency_code
            self.sbr09,  # claim_filing_code
            self.payer,  # payer
            self.submitter,  # submitter
            self.receiver,  # receiver
            self.subscriber_built,  # subscriber
            self.sbr01,  # payment_responsibility
            patient,  # patient
            self.pat01 if patient is not None else (self.sbr02 or "18"),  # relationship_code
            self.billing_built + _built(claim.providers),  # providers
            tuple(claim.diagnoses),  # diagnoses
            tuple(claim.procedures),  # procedures
            claim.statement_from,  # statement_from
            claim.statement_to,  # statement_to
            claim.admission_date,  # admission_date
            claim.discharge_date,  # discharge_date
            claim.onset_date,  # onset_date
            claim.admission_type,  # admission_type_code
            claim.admission_source,  # admission_source_code
            claim.patient_status,  # patient_status_code
            tuple(claim.conditions),  # condition_codes
            tuple(claim.occurrences),  # occurrence_codes
            tuple(claim.spans),  # occurrence_spans
            tuple(claim.values),  # value_codes
            claim.prior_auth,  # prior_authorization
            claim.referral,  # referral_number
            claim.original_ref,  # original_reference_number
            claim.related_causes,  # related_causes
            claim.auto_state,  # auto_accident_state
            claim.delay_reason,  # delay_reason_code
            tuple(claim.lines),  # lines
            _new_source("2300", "CLM", claim.segment_number, self.st_ctrl),  # source
        )


def _hi_composite(claim: ClaimDraft, parts: list[str]) -> Diagnosis | None:
    """Add one HI composite to the claim; return it if it is a (cacheable) diagnosis."""
    qualifier, code = parts[0], _part(parts, 1)
    if not code:
        raise BadValue("X12-E024", f"HI composite {qualifier!r} has no code")
    dx = _DX.get(qualifier)
    if dx is not None:
        diagnosis = _new_diagnosis(code, dx[0], _part(parts, 8), dx[1])
        claim.diagnoses.append(diagnosis)
        return diagnosis
    if qualifier in _PROC:
        principal, icd9 = _PROC[qualifier]
        when = d8(parts[3]) if _part(parts, 3) else None
        claim.procedures.append(Procedure(code, when, principal, icd9))
    elif qualifier == "BH":
        claim.occurrences.append(CodeDate(code, d8(_part(parts, 3))))
    elif qualifier == "BI":
        claim.spans.append(CodeSpan(code, *rd8(_part(parts, 3))))
    elif qualifier == "BE":
        claim.values.append(CodeAmount(code, amount(_part(parts, 4))))
    elif qualifier == "BG":
        claim.conditions.append(code)
    elif qualifier not in _HI_IGNORED:
        raise BadValue("X12-E026", f"unknown HI qualifier {qualifier!r}")
    return None


def _built(drafts: list[ProviderDraft]) -> tuple[Provider, ...]:
    # A plain loop: 0.58 → 0.38 µs per one-draft call against two nested generators (2 per claim).
    if not drafts:
        return ()
    built = []
    for draft in drafts:
        provider = draft.build()
        if provider is not None:
            built.append(provider)
    return tuple(built)


def read_x12(
    source: str | os.PathLike[str] | BinaryIO, *, name: str | None = None
) -> Iterator[Claim | X12Error]:
    """Stream the claims of an 837P/837I input, with located errors, in file order.

    Args:
        source: a path, or a binary stream (read in 1 MiB chunks, never seeked or loaded whole).
        name: the file name used in error locations; defaults to the path, the stream's ``name``,
            or ``<stdin>``.

    Yields:
        ``Claim`` for each claim read without error, ``X12Error`` for each problem.  A claim with a
        data error is reported and not yielded (see the module docstring for the policy).
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        return _read_path(path, name or path)
    label = name or getattr(source, "name", None)
    return _Reader(label if isinstance(label, str) else "<stdin>").run(
        tokenize(source, label if isinstance(label, str) else "<stdin>")
    )


def _read_path(path: str, label: str) -> Iterator[Claim | X12Error]:
    with open(path, "rb") as stream:
        yield from _Reader(label).run(tokenize(stream, label))


def looks_like_x12(head: bytes) -> bool:
    """Whether the first bytes of an input are an X12 interchange (``ISA`` + a separator)."""
    head = head.lstrip(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    return len(head) >= 4 and head.startswith(b"ISA") and not head[3:4].isalnum()
