"""engine.refdata: ICD-10-CM, HCPCS, timely filing, code ranges, the data directory."""

from __future__ import annotations

import itertools
import time
from datetime import date
from pathlib import Path

import pytest

from engine import refdata
from engine.refdata import RefDataError

DATA = Path(__file__).parent / "data"
HCPCS_FIXTURE = DATA / "HCPC2025_JAN_ANWEB_SYNTHETIC.txt"

# --- data directory ------------------------------------------------------------------------------


def test_data_dir_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(refdata.DATA_DIR_ENV, raising=False)
    assert refdata.data_dir() is None
    monkeypatch.setenv(refdata.DATA_DIR_ENV, "  ")
    assert refdata.data_dir() is None


def test_data_dir_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(refdata.DATA_DIR_ENV, str(tmp_path))
    assert refdata.data_dir() == tmp_path


def test_data_dir_not_a_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(refdata.DATA_DIR_ENV, str(tmp_path / "nope"))
    with pytest.raises(RefDataError, match="not a directory"):
        refdata.data_dir()


def test_resolve_table_source_prefers_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pack = tmp_path / "packs" / "medicare"
    (pack / "tables").mkdir(parents=True)
    (pack / "tables" / "ptp.txt").write_text("fixture")
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.delenv(refdata.DATA_DIR_ENV, raising=False)
    assert refdata.resolve_table_source(pack, "tables/ptp.txt") == pack / "tables" / "ptp.txt"
    monkeypatch.setenv(refdata.DATA_DIR_ENV, str(data))
    assert refdata.resolve_table_source(pack, "tables/ptp.txt") == pack / "tables" / "ptp.txt"
    (data / "ptp.txt").write_text("real")
    assert refdata.resolve_table_source(pack, "tables/ptp.txt") == data / "ptp.txt"
    (data / "medicare").mkdir()
    (data / "medicare" / "ptp.txt").write_text("real, this pack's")
    assert refdata.resolve_table_source(pack, "tables/ptp.txt") == data / "medicare" / "ptp.txt"
    # an explicit directory wins over the environment
    other = tmp_path / "other"
    other.mkdir()
    got = refdata.resolve_table_source(pack, "tables/ptp.txt", directory=other)
    assert got == pack / "tables" / "ptp.txt"


# --- ICD-10-CM -----------------------------------------------------------------------------------


def test_icd10cm_package_map() -> None:
    codes = refdata.load_icd10cm()
    assert len(codes) > 90_000
    assert 70_000 < sum(codes.values()) < 80_000  # billable codes of one fiscal year
    assert codes["A000"] is True
    assert codes["A00"] is False  # a category with subcategories: valid, not billable
    assert codes["S0000XA"] is True  # seventh character extensions are listed
    assert codes["S0000"] is False
    assert codes["Z3A10"] is True
    assert "A00-A09" not in codes  # blocks are not codes
    assert "A00.0" not in codes  # no dots
    assert all(refdata.icd10cm_format(c) for c in list(codes)[:1000])


def test_icd10cm_cached_and_fast() -> None:
    first = refdata.load_icd10cm()
    t = time.perf_counter()
    again = refdata.load_icd10cm()
    assert again is first
    assert time.perf_counter() - t < 0.01
    with pytest.raises(TypeError):
        first["X999"] = True  # type: ignore[index]


def test_icd10cm_release() -> None:
    rel = refdata.icd10cm_release()
    assert rel.source.startswith("simple-icd-10-cm")
    assert rel.file.is_file()
    assert rel.valid_from is not None and rel.valid_until is not None
    assert rel.valid_from <= rel.valid_until
    assert rel.fiscal_year == rel.valid_until.year


def test_icd10cm_code_list_leaves() -> None:
    got = refdata.load_icd10cm_code_list(
        ["1", "A00-A09", "A00", "A00.0 Cholera x", "A001", "B99", "", "b991 lower"]
    )
    assert got == {"A00": False, "A000": True, "A001": True, "B99": False, "B991": True}


def test_icd10cm_order_file(tmp_path: Path) -> None:
    path = tmp_path / "icd10cm_order_2099.txt"
    rows = [
        ("00001", "A00", "0", "Short header", "Long header"),
        ("00002", "A000", "1", "Short leaf", "Long leaf"),
        ("00003", "A001", "1", "Short leaf 2", "Long leaf 2"),
    ]
    path.write_text(
        "".join(f"{n} {c:<7} {h} {s:<60} {lng}\n" for n, c, h, s, lng in rows), encoding="utf-8"
    )
    assert refdata.load_icd10cm_order_file(path) == {"A00": False, "A000": True, "A001": True}
    assert dict(refdata.load_icd10cm(path)) == {"A00": False, "A000": True, "A001": True}
    bad = tmp_path / "bad.txt"
    bad.write_text("00001 A00     0 ok\nnot a record\n")
    with pytest.raises(RefDataError, match=r"bad.txt:2"):
        refdata.load_icd10cm_order_file(bad)


def test_icd10cm_plain_code_file(tmp_path: Path) -> None:
    path = tmp_path / "icd10cm_codes_2099.txt"
    path.write_text("A000    Cholera\nA001    Cholera 2\n")
    assert dict(refdata.load_icd10cm(path)) == {"A000": True, "A001": True}


@pytest.mark.parametrize(
    ("code", "ok"),
    [("A000", True), ("S0000XA", True), ("Z3A", True), ("A0", False), ("1000", False)],
)
def test_icd10cm_format(code: str, ok: bool) -> None:
    assert refdata.icd10cm_format(code) is ok


# --- HCPCS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "ok"),
    [("A0425", True), ("V5299", True), ("W0425", False), ("a0425", False), ("A042", False)],
)
def test_hcpcs_level2_format(code: str, ok: bool) -> None:
    assert refdata.hcpcs_level2_format(code) is ok


@pytest.mark.parametrize(
    ("code", "ok"), [("99213", True), ("0001F", True), ("0042T", True), ("A0425", False)]
)
def test_cpt_format(code: str, ok: bool) -> None:
    assert refdata.cpt_format(code) is ok


def test_hcpcs_layout_is_contiguous() -> None:
    fields = refdata.HCPCS_FIELDS
    assert fields[0][1] == 1
    assert fields[-1][2] == 293  # then 27 characters of filler up to 320
    for (_n, _a, end, _k), (name, start, _b, _k2) in itertools.pairwise(fields):
        # the one gap is the filler at 260 before the type of service codes
        assert start == end + 1 or (name == "types_of_service" and start == end + 2)
    for name, start, end, k in fields:
        assert (end - start + 1) % k == 0, name


def test_hcpcs_fixture() -> None:
    recs = refdata.load_hcpcs_file(HCPCS_FIXTURE)
    assert sorted(recs) == ["A9990", "E9991", "J9992", "ZZ"]
    a = recs["A9990"]
    assert not a.is_modifier
    assert a.long_description.startswith("SYNTHETIC TEST RECORD ONE")
    assert a.long_description.endswith("(RECORD IDENTIFICATION CODE 4)")
    assert a.short_description == "SYNTHETIC TEST ONE"
    assert a.pricing_indicators == ("00",)
    assert a.added_date == date(2020, 1, 1)
    assert a.termination_date is None
    e = recs["E9991"]
    assert e.pricing_indicators == ("32", "46")
    assert e.types_of_service == ("P", "R")
    assert e.fields["cross_references"] == ("E9990",)
    assert e.betos == "D1E"
    j = recs["J9992"]
    assert j.termination_date == date(2024, 12, 31)
    assert j.action_code == "D"
    assert j.effective_on(date(2024, 12, 31))
    assert not j.effective_on(date(2025, 1, 1))
    assert not j.effective_on(date(2018, 12, 31))
    z = recs["ZZ"]
    assert z.is_modifier
    assert z.long_description.endswith("CONTINUATION RECORD (ID 8)")


def test_hcpcs_bad_records(tmp_path: Path) -> None:
    orphan = tmp_path / "orphan.txt"
    orphan.write_text("A9990002004CONTINUATION WITHOUT ITS FIRST LINE\n")
    with pytest.raises(RefDataError, match=r"orphan.txt:1: continuation"):
        refdata.load_hcpcs_file(orphan)
    bad_id = tmp_path / "bad_id.txt"
    bad_id.write_text("A9990001005SOMETHING\n")
    with pytest.raises(RefDataError, match="record identification code '5'"):
        refdata.load_hcpcs_file(bad_id)
    bad_date = tmp_path / "bad_date.txt"
    line = list("A9990001003X".ljust(320))
    line[268:276] = "2025XX01"
    bad_date.write_text("".join(line) + "\n")
    with pytest.raises(RefDataError, match="bad date"):
        refdata.load_hcpcs_file(bad_date)


# --- timely filing -------------------------------------------------------------------------------


def test_timely_filing(tmp_path: Path) -> None:
    path = tmp_path / "timely_filing.csv"
    path.write_text("# payer limits\npayer_id,days,name\nMEDICARE,365,Medicare\nACME01,90,\n\n")
    assert refdata.load_timely_filing(path) == {"MEDICARE": 365, "ACME01": 90}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("payer,days\nX,1\n", "payer_id and days"),
        ("payer_id,days\nX,0\n", "positive"),
        ("payer_id,days\nX,ninety\n", "positive"),
        ("payer_id,days\n,30\n", "empty payer_id"),
    ],
)
def test_timely_filing_errors(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(RefDataError, match=match):
        refdata.load_timely_filing(path)


# --- code ranges ---------------------------------------------------------------------------------


def test_expand_code_ranges() -> None:
    rows = refdata.expand_code_ranges(
        [
            {"code_from": "K0813", "code_to": "K0815", "note": "a"},
            {"code_from": "e0193", "code_to": "", "note": "b"},
            {"code_from": "0001F", "code_to": "0003F", "note": "c"},
        ]
    )
    assert [r["hcpcs"] for r in rows] == [
        "K0813", "K0814", "K0815", "E0193", "0001F", "0002F", "0003F"
    ]  # fmt: skip
    assert rows[0] == {"hcpcs": "K0813", "note": "a"}


@pytest.mark.parametrize(
    ("lo", "hi", "match"),
    [("K0815", "K0813", "reversed"), ("K0813", "L0815", "same prefix"), ("", "", "empty")],
)
def test_expand_code_ranges_errors(lo: str, hi: str, match: str) -> None:
    with pytest.raises(RefDataError, match=match):
        refdata.expand_code_ranges([{"code_from": lo, "code_to": hi}])


def test_write_expanded_code_ranges(tmp_path: Path) -> None:
    src = tmp_path / "ranges.csv"
    src.write_text("code_from,code_to,effective_from\nA0001,A0003,2025-01-01\n")
    out = tmp_path / "codes.csv"
    assert refdata.write_expanded_code_ranges(src, out) == 3
    assert out.read_text().splitlines() == [
        "hcpcs,effective_from",
        "A0001,2025-01-01",
        "A0002,2025-01-01",
        "A0003,2025-01-01",
    ]
