"""The 837 reader against the real-format reference samples and hand-made edge cases."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from claims.model import Claim, ClaimKind, DiagnosisRole, ProviderRole
from claims.x12 import X12Error, looks_like_x12, read_x12

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "reference" / "x12-samples"
SAMPLE_FILES = sorted(p for p in SAMPLES.glob("*/*") if p.is_file()) if SAMPLES.is_dir() else []


def _naive_counts(raw: bytes) -> tuple[int, int, Decimal]:
    """CLM count, LX count and the sum of CLM02, by a plain split (independent of the reader)."""
    text = raw.decode("latin-1").lstrip()
    sep, term = text[3], text[105]
    claims = lines = 0
    total = Decimal(0)
    for seg in text.split(term):
        els = seg.strip().split(sep)
        if els[0] == "CLM":
            claims += 1
            total += Decimal(els[2])
        elif els[0] == "LX":
            lines += 1
    return claims, lines, total


def _read(data: bytes | str) -> list[Claim | X12Error]:
    raw = data.encode() if isinstance(data, str) else data
    return list(read_x12(io.BytesIO(raw)))


@pytest.mark.parametrize(
    "path",
    SAMPLE_FILES or [pytest.param(None, marks=pytest.mark.skip(reason=f"no samples at {SAMPLES}"))],
    ids=lambda p: p.name if isinstance(p, Path) else "absent",
)
def test_reference_sample_reads_cleanly(path: Path) -> None:
    items = list(read_x12(path))
    errors = [i for i in items if isinstance(i, X12Error)]
    claims = [i for i in items if isinstance(i, Claim)]
    assert errors == []
    n_claims, n_lines, total = _naive_counts(path.read_bytes())
    assert len(claims) == n_claims
    assert sum(len(c.lines) for c in claims) == n_lines
    assert sum((c.total_charge for c in claims), Decimal(0)) == total
    kind = ClaimKind.INSTITUTIONAL if "X223" in str(path) else ClaimKind.PROFESSIONAL
    assert {c.kind for c in claims} == {kind}


def _sample(name: str) -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"no samples at {SAMPLES}")
    return next(SAMPLES.glob(f"*/{name}"))


def test_other_subscriber_name_does_not_overwrite_the_subscriber() -> None:
    # demo.cob.example3.B: 2010BA is JACK SMITH; the 2330A NM1*IL names JANE SMITH.
    (claim,) = read_x12(_sample("demo.cob.example3.B.837"))
    assert isinstance(claim, Claim)
    assert (claim.subscriber.first_name, claim.subscriber.member_id) == ("JACK", "222334444")
    assert claim.payer.name == "GREAT PRAIRIES HEALTH"
    assert claim.payment_responsibility == "S"
    assert claim.patient is not None and claim.patient.first_name == "TED"
    assert claim.relationship_code == "19"
    assert [p.role for p in claim.providers] == [
        ProviderRole.BILLING,
        ProviderRole.RENDERING,
        ProviderRole.SERVICE_FACILITY,
    ]
    assert claim.lines[0].diagnosis_pointers == (1, 2, 3, 4)
    assert claim.source is not None and str(claim.source) == "2300 CLM"
    assert claim.lines[0].source is not None and claim.lines[0].source.segment_id == "SV1"


def test_component_separator_that_differs_from_isa16_is_followed() -> None:
    # ISA16 says ':' but the file uses '>' in CLM05, HI and SV2.
    (claim,) = read_x12(_sample("out-of-network-repriced-claim.837i"))
    assert isinstance(claim, Claim)
    assert (claim.facility_code, claim.frequency_code, claim.type_of_bill) == ("13", "1", "131")
    assert claim.diagnoses[0].code == "53081"
    assert claim.lines[0].procedure_code == "82270"
    assert claim.admission_date == date(2005, 6, 17)  # DTP*435*DT
    assert (claim.statement_from, claim.statement_to) == (date(2005, 6, 17), date(2005, 6, 17))


def test_institutional_codes() -> None:
    (claim,) = read_x12(_sample("institutional-claim.837i"))
    assert isinstance(claim, Claim)
    assert claim.kind is ClaimKind.INSTITUTIONAL
    assert (claim.admission_type_code, claim.patient_status_code) == ("3", "01")
    assert [o.code for o in claim.occurrence_codes] == ["A1", "A2", "B1", "B2"]
    assert claim.value_codes[0].amount == Decimal("15.31")
    assert claim.condition_codes == ("09",)
    assert [d.role for d in claim.diagnoses] == [
        DiagnosisRole.PRINCIPAL,
        DiagnosisRole.OTHER,
        DiagnosisRole.OTHER,
    ]
    assert claim.diagnoses[0].icd9
    assert claim.lines[1].revenue_code == "0730" and claim.lines[1].units == 3


def test_ndc_description_and_line_providers() -> None:
    claims = list(read_x12(_sample("demo.drug.example10.3.837")))
    (claim,) = claims
    assert isinstance(claim, Claim)
    line = claim.lines[3]
    assert (line.ndc, line.ndc_quantity, line.ndc_unit) == ("00338004938", Decimal(7), "UN")
    assert line.description == "Sod Chl 0.9%see NDC#"
    assert line.providers[0].role is ProviderRole.ORDERING
    assert (line.service_date, line.service_date_end) == (date(2004, 2, 1), date(2004, 2, 7))


def test_related_causes_and_emergency() -> None:
    (claim,) = read_x12(_sample("demo.autoaccident.837"))
    assert isinstance(claim, Claim)
    assert claim.related_causes == ("AA",)
    assert claim.auto_accident_state == "CA"
    assert all(line.emergency for line in claim.lines)


def test_two_claims_share_billing_provider_context() -> None:
    claims = list(read_x12(_sample("two-claims-single-provider.837i")))
    assert [type(c) for c in claims] == [Claim, Claim]
    a, b = claims
    assert isinstance(a, Claim) and isinstance(b, Claim)
    assert a.providers[0] == b.providers[0]
    assert a.subscriber.last_name == "DOE" and b.subscriber.last_name == "SMITH"
    assert a.control_number == b.control_number == "987654"


# ---- hand-made inputs -------------------------------------------------------------------------

ISA = (
    f"ISA*00*{'':10}*00*{'':10}*ZZ*{'SENDER':15}*ZZ*{'RECEIVER':15}*240101*1200*^*00501*000000001"
    "*0*P*:"
)
BODY = [
    "ST*837*0001*005010X222A1",
    "BHT*0019*00*0001*20240101*1200*CH",
    "NM1*41*2*SUBMITTER*****46*S1",
    "NM1*40*2*RECEIVER*****46*R1",
    "HL*1**20*1",
    "NM1*85*2*CLINIC*****XX*1234567893",
    "HL*2*1*22*0",
    "SBR*P*18*******CI",
    "NM1*IL*1*DOE*JANE****MI*M1",
    "DMG*D8*19700101*F",
    "NM1*PR*2*PAYER*****PI*P1",
    "CLM*A1*100***11:B:1*Y*A*Y*Y",
    "HI*ABK:E119",
    "LX*1",
    "SV1*HC:99213*60*UN*1***1",
    "DTP*472*D8*20240102",
    "LX*2",
    "SV1*HC:85025*40*UN*1***1",
    "DTP*472*D8*20240102",
    "CLM*A2*50***11:B:1*Y*A*Y*Y",
    "HI*ABK:I10",
    "LX*1",
    "SV1*HC:99212*50*UN*1***1",
    "DTP*472*D8*20240103",
]


def make_837(
    body: list[str] | None = None, *, se_count: int | None = None, terminator: str = "~"
) -> str:
    """A small 837P interchange; SE01 is computed unless given."""
    segs = list(BODY if body is None else body)
    count = len(segs) + 1 if se_count is None else se_count
    segs = [ISA, "GS*HC*SENDER*RECEIVER*20240101*1200*1*X*005010X222A1", *segs]
    segs += [f"SE*{count}*0001", "GE*1*1", "IEA*1*000000001"]
    return terminator.join(segs) + terminator


def test_hand_made_837_reads() -> None:
    items = _read(make_837())
    assert all(isinstance(i, Claim) for i in items)
    a, b = items
    assert isinstance(a, Claim) and isinstance(b, Claim)
    assert [ln.charge for ln in a.lines] == [Decimal(60), Decimal(40)]
    assert a.source is not None and a.source.segment_number == 12
    assert a.lines[1].source is not None and a.lines[1].source.segment_number == 18
    assert b.subscriber.birth_date == date(1970, 1, 1)
    assert a.relationship_code == "18" and a.patient is None


def test_crlf_after_terminators_and_no_final_terminator() -> None:
    text = make_837(terminator="~\r\n").rstrip("~\r\n")
    items = _read("\r\n  " + text)
    assert [type(i) for i in items] == [Claim, Claim]


def test_tiny_reads_give_the_same_claims() -> None:
    class Trickle(io.RawIOBase):
        """Returns at most 7 bytes per read, to put chunk edges everywhere."""

        def __init__(self, data: bytes) -> None:
            self.data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            return self.data.read(min(size, 7) if size >= 0 else 7)

    data = make_837().encode()
    assert list(read_x12(Trickle(data))) == _read(data)  # type: ignore[arg-type]


def test_interchanges_with_different_delimiters() -> None:
    first = make_837()
    second = first.replace("*", "|").replace("~", "!\n").replace(":", ">").replace("^", "}")
    items = _read(first + "\n" + second)
    assert [type(i) for i in items] == [Claim] * 4
    assert items[:2] == items[2:]


def test_several_transaction_sets_in_one_group() -> None:
    st2 = [s.replace("0001", "0002") for s in BODY]
    se1 = f"SE*{len(BODY) + 1}*0001"
    text = make_837([*BODY, se1, *st2], se_count=len(BODY) + 1)
    text = text.replace("SE*25*0001~GE*1*1", "SE*25*0002~GE*2*1")
    items = _read(text)
    assert [type(i) for i in items] == [Claim] * 4
    assert [c.control_number for c in items if isinstance(c, Claim)] == ["0001"] * 2 + ["0002"] * 2


def test_looks_like_x12() -> None:
    assert looks_like_x12(b"\xef\xbb\xbf\r\nISA*00*")
    assert not looks_like_x12(b"ISAAC")
    assert not looks_like_x12(b'{"claims": []}')
    assert not looks_like_x12(b"")


def test_line_prior_authorizations_2400_ref_g1() -> None:
    """837P 2400 REF*G1 belongs to its line; the claim's own stays 2300 REF*G1; 2420 REFs do not."""
    body = list(BODY)
    body.insert(body.index("CLM*A1*100***11:B:1*Y*A*Y*Y") + 1, "REF*G1*CLAIMPA")
    first_dtp = body.index("DTP*472*D8*20240102")
    body[first_dtp + 1 : first_dtp + 1] = ["REF*6R*LINE1", "REF*G1*PA1", "REF*G1*PA2"]
    second_dtp = body.index("DTP*472*D8*20240102", first_dtp + 1)
    body[second_dtp + 1 : second_dtp + 1] = [
        "NM1*82*1*DOC*JOHN****XX*1234567893",
        "REF*G1*NOT-A-LINE-PA",  # inside the 2420A rendering provider loop
    ]
    items = _read(make_837(body))
    a, b = items
    assert isinstance(a, Claim) and isinstance(b, Claim)
    assert a.prior_authorization == "CLAIMPA"
    assert [ln.prior_authorizations for ln in a.lines] == [("PA1", "PA2"), ()]
    assert all(ln.prior_authorizations == () for ln in b.lines)
