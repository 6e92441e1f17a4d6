"""Malformed input: every error has a code and a location, and one broken claim spares the rest."""

from __future__ import annotations

import io
import time
import tracemalloc

import pytest

from claims.model import Claim
from claims.x12 import CODES, X12Error, read_x12
from tests.claims.test_x12_reader import BODY, ISA, make_837


def _read(data: bytes | str) -> list[Claim | X12Error]:
    raw = data.encode() if isinstance(data, str) else data
    return list(read_x12(io.BytesIO(raw)))


def _errors(items: list[Claim | X12Error]) -> list[X12Error]:
    return [i for i in items if isinstance(i, X12Error)]


def _claim_ids(items: list[Claim | X12Error]) -> list[str]:
    return [i.patient_control_number for i in items if isinstance(i, Claim)]


def _replace(old: str, new: str | None) -> list[str]:
    """BODY with one segment replaced (or removed when ``new`` is None)."""
    index = BODY.index(old)
    return BODY[:index] + ([] if new is None else [new]) + BODY[index + 1 :]


def test_every_code_is_documented_once() -> None:
    assert all(code.startswith("X12-E0") and len(code) == 8 for code in CODES)


def test_empty_input() -> None:
    for data in (b"", b"  \r\n\t "):
        (err,) = _read(data)
        assert isinstance(err, X12Error)
        assert (err.code, err.segment_number, err.byte_offset) == ("X12-E001", None, len(data))


def test_missing_isa() -> None:
    (err,) = _read(make_837().split("~", 1)[1])  # starts at GS
    assert isinstance(err, X12Error)
    assert (err.code, err.byte_offset) == ("X12-E002", 0)
    assert str(err).startswith("<stdin>:byte 0: error[X12-E002]: expected 'ISA'")


def test_wrong_isa_width() -> None:
    (err,) = _read(make_837().replace("*SENDER         *", "*SENDER        *", 1))
    assert isinstance(err, X12Error)
    assert (err.code, err.segment_id) == ("X12-E003", "ISA")
    assert "ISA06" in err.message


def test_truncated_inside_a_claim_drops_only_that_claim() -> None:
    text = make_837()
    cut = text.index("CLM*A2") + 20
    items = _read(text[:cut])
    assert _claim_ids(items) == ["A1"]
    (err,) = _errors(items)
    assert err.code == "X12-E005"
    assert "'0001' has no SE" in err.message
    assert err.segment_number == 20 and err.loop == "2300"


def test_truncated_after_se() -> None:
    text = make_837()
    items = _read(text[: text.index("GE*")])
    assert _claim_ids(items) == ["A1", "A2"]
    (err,) = _errors(items)
    assert err.code == "X12-E005" and "has no GE" in err.message


def test_se_count_wrong_is_reported_and_claims_kept() -> None:
    items = _read(make_837(se_count=24))
    assert _claim_ids(items) == ["A1", "A2"]
    (err,) = _errors(items)
    assert (err.code, err.segment_number, err.segment_id, err.element) == ("X12-E014", 25, "SE", 1)
    assert err.control_number == "0001"


@pytest.mark.parametrize(
    ("old", "new", "code", "segment_id", "element"),
    [
        ("SE*25*0001", "SE*25*0009", "X12-E015", "SE", 2),
        ("GE*1*1", "GE*1*7", "X12-E013", "GE", 2),
        ("GE*1*1", "GE*3*1", "X12-E012", "GE", 1),
        ("IEA*1*000000001", "IEA*1*000000002", "X12-E011", "IEA", 2),
        ("IEA*1*000000001", "IEA*2*000000001", "X12-E010", "IEA", 1),
    ],
)
def test_control_numbers_and_counts(
    old: str, new: str, code: str, segment_id: str, element: int
) -> None:
    items = _read(make_837().replace(old, new))
    assert _claim_ids(items) == ["A1", "A2"]
    (err,) = _errors(items)
    assert (err.code, err.segment_id, err.element) == (code, segment_id, element)
    if segment_id != "SE":
        assert err.segment_number is None  # envelope segments are outside the transaction set


def test_lx_with_no_clm_recovers_at_the_next_clm() -> None:
    body = _replace("HI*ABK:E119", None)
    body = [s for s in body if s != "CLM*A1*100***11:B:1*Y*A*Y*Y"]
    items = _read(make_837(body))
    assert _claim_ids(items) == ["A2"]
    (err,) = _errors(items)
    assert (err.code, err.segment_number, err.segment_id, err.loop) == (
        "X12-E020",
        12,
        "LX",
        "2400",
    )


def test_bad_date_spoils_one_claim() -> None:
    items = _read(make_837(_replace("DTP*472*D8*20240102", "DTP*472*D8*20241399")))
    assert _claim_ids(items) == ["A2"]
    (err,) = _errors(items)
    assert (err.code, err.segment_number, err.segment_id, err.element) == ("X12-E021", 16, "DTP", 3)
    assert str(err) == (
        "<stdin>:segment 16 (2400 DTP): error[X12-E021]: bad date '20241399' (no such day) in DTP03"
    )
    assert err.byte_offset == make_837().index("DTP*472*D8*20240102")


def test_bad_amount() -> None:
    items = _read(make_837(_replace("SV1*HC:99212*50*UN*1***1", "SV1*HC:99212*5O*UN*1***1")))
    assert _claim_ids(items) == ["A1"]
    (err,) = _errors(items)
    assert (err.code, err.segment_id, err.element, err.segment_number) == ("X12-E022", "SV1", 2, 23)


def test_unknown_segment_is_skipped_and_reported() -> None:
    index = BODY.index("HI*ABK:E119") + 1
    items = _read(make_837([*BODY[:index], "ZZZ*1", *BODY[index:]]))
    assert _claim_ids(items) == ["A1", "A2"]
    (err,) = _errors(items)
    assert (err.code, err.segment_number, err.segment_id, err.loop) == (
        "X12-E023",
        14,
        "ZZZ",
        "2300",
    )


def test_non_utf8_in_a_claim() -> None:
    index = BODY.index("HI*ABK:E119")
    body = [*BODY[:index], "REF*D9*\udcff", *BODY[index:]]
    data = make_837(body).encode("utf-8", "surrogateescape")
    items = _read(data)
    assert _claim_ids(items) == ["A2"]
    (err,) = _errors(items)
    assert (err.code, err.segment_number, err.segment_id) == ("X12-E006", 13, "REF")
    assert err.byte_offset == data.index(b"REF*D9")


def test_non_utf8_in_the_subscriber_drops_its_claims_with_a_reason() -> None:
    data = make_837().encode().replace(b"DOE*JANE", b"DO\xc3E*JANE")
    items = _read(data)
    assert _claim_ids(items) == []
    assert [e.code for e in _errors(items)] == ["X12-E006", "X12-E029", "X12-E029"]
    assert [e.segment_number for e in _errors(items)] == [9, 12, 20]


def test_bad_hl_level() -> None:
    items = _read(make_837(_replace("HL*2*1*22*0", "HL*2*1*99*0")))
    errors = _errors(items)
    assert errors[0].code == "X12-E025" and errors[0].element == 3
    assert _claim_ids(items) == []


def test_lx_without_service_segment() -> None:
    items = _read(make_837(_replace("SV1*HC:99213*60*UN*1***1", None)))
    assert _claim_ids(items) == ["A2"]
    (err,) = _errors(items)
    assert (err.code, err.segment_id, err.segment_number) == ("X12-E028", "LX", 14)


def test_unsupported_transaction_is_skipped() -> None:
    items = _read(make_837().replace("ST*837*0001*005010X222A1", "ST*835*0001*005010X221A1"))
    assert _claim_ids(items) == []
    (err,) = _errors(items)
    assert err.code == "X12-E017"


class _Garbage(io.RawIOBase):
    """A generator-backed file: ``prefix`` then ``size`` bytes made only as they are read.

    ``noise`` gives pseudo-random bytes (so ``~`` turns up every few hundred bytes); otherwise
    the filler is one letter repeated, which has no segment terminator at all.
    """

    def __init__(self, size: int, prefix: bytes = b"", *, noise: bool = True) -> None:
        self.pending = prefix
        self.remaining = size
        self.served = 0
        block = bytes((i * 2654435761 >> 13) & 0xFF for i in range(4096)) if noise else b"A" * 4096
        self.block = block

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), len(self.pending) + self.remaining)
        data = self.pending[:n]
        self.pending = self.pending[len(data) :]
        self.remaining -= n - len(data)
        while len(data) < n:
            data += self.block[: n - len(data)]
        buffer[:n] = data
        self.served += n
        return n


@pytest.mark.parametrize(
    ("prefix", "noise", "code"),
    [
        (b"", True, "X12-E002"),  # not X12 at all
        (ISA.encode() + b"~", True, "X12-E007"),  # an ISA, then noise with '~' in it
        (ISA.encode() + b"~GS*", False, "X12-E004"),  # an ISA, then no terminator ever
    ],
)
def test_garbage_fails_fast_in_bounded_memory(prefix: bytes, noise: bool, code: str) -> None:
    stream = _Garbage(50 * 1024 * 1024, prefix, noise=noise)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        items = list(read_x12(io.BufferedReader(stream, 1 << 16)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    last = items[-1]
    assert isinstance(last, X12Error) and last.code == code
    assert stream.served < 4 * 1024 * 1024  # stopped long before the 50 MB end
    assert peak < 16 * 1024 * 1024
    assert time.perf_counter() - started < 10
