"""The ``scrub`` and ``convert`` commands end to end: files in, envelopes and exit codes out."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from claims.model import Claim, ClaimKind, Diagnosis, DiagnosisRole, Person, ServiceLine
from claims.optum import claim_to_json
from claims.x12 import read_x12, write_x12

PACK = """\
pack tiny {
  version "0.1.0"
  title "Tiny test pack"
  kinds professional
}

rule TINY-0001 "Modifier 50 with more than one unit" {
  category modifier-conflict
  severity error
  scope line
  when "50" in line.modifiers and line.units > 1
  message "Line {line.number}: modifier 50 with {line.units} units."
  action "Please Correct and Resubmit"
}

rule TINY-0002 "Charge over 1000" {
  category charges
  severity warning
  scope claim
  when claim.total_charge > 1000
  message "Total charge {claim.total_charge} is unusually high."
}
"""


def _claim(control: str, *, units: str = "1", charge: str = "100.00") -> Claim:
    line = ServiceLine(
        1,
        Decimal(charge),
        Decimal(units),
        "27447",
        modifiers=("50",),
        diagnosis_pointers=(1,),
        service_date=date(2025, 3, 1),
    )
    return Claim(
        kind=ClaimKind.PROFESSIONAL,
        control_number=control,
        patient_control_number=f"PCN{control}",
        total_charge=Decimal(charge),
        facility_code="11",
        frequency_code="1",
        subscriber=Person(last_name="TEST", first_name="PATIENT", member_id="SECRETID9"),
        diagnoses=(Diagnosis("M1711", DiagnosisRole.PRINCIPAL),),
        lines=(line,),
    )


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    d = tmp_path / "tiny"
    (d / "rules").mkdir(parents=True)
    (d / "rules" / "tiny.rules").write_text(PACK)
    (d / "pack.toml").write_text(
        'name = "tiny"\nversion = "0.1.0"\ntitle = "Tiny test pack"\nkinds = ["professional"]\n'
    )
    return d


@pytest.fixture
def claims_dir(tmp_path: Path) -> Path:
    d = tmp_path / "claims"
    d.mkdir()
    # X12 with one clean and one bad claim; JSON with one claim over the charge threshold.
    (d / "batch.dat").write_bytes(write_x12([_claim("1001"), _claim("1002", units="2")]))
    (d / "one.out").write_text(json.dumps(claim_to_json(_claim("2001", charge="1500.00"))))
    return d


def _scrub(*args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(main, ["scrub", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_scrub_reports_edits_per_claim_from_x12_and_json(pack_dir: Path, claims_dir: Path) -> None:
    code, out, _ = _scrub(
        str(claims_dir), "--packs-dir", str(pack_dir), "--packs", "tiny", "--format", "json"
    )
    envelopes = json.loads(out)
    by_control = {e["controlNumber"]: e for e in envelopes}
    assert set(by_control) == {"1001", "1002", "2001"}
    assert by_control["1001"]["status"] == "SUCCESS"
    bad = by_control["1002"]
    assert bad["status"] == "EDITS"
    [edit] = bad["errors"]
    assert edit["ruleId"] == "TINY-0001"
    assert edit["lines"] == [1]
    assert edit["location"] == "2400 SV1"  # the claim came from X12: the edit says where
    assert edit["pack"] == "tiny" and edit["packVersion"] == "0.1.0"
    assert edit["category"] == "modifier-conflict" and edit["severity"] == "error"
    assert "modifier 50 with 2 units" in edit["description"]
    assert [e["ruleId"] for e in by_control["2001"]["errors"]] == ["TINY-0002"]
    assert code == 1  # an error-severity edit fired; default --fail-on error


def test_fail_on_thresholds(pack_dir: Path, claims_dir: Path) -> None:
    json_only = str(claims_dir / "one.out")  # only a warning fires here
    base = [json_only, "--packs-dir", str(pack_dir), "--packs", "tiny"]
    assert _scrub(*base)[0] == 0
    assert _scrub(*base, "--fail-on", "warning")[0] == 1
    assert _scrub(str(claims_dir), *base[1:], "--fail-on", "never")[0] == 0


def test_jsonl_csv_and_table_formats(pack_dir: Path, claims_dir: Path) -> None:
    base = [str(claims_dir), "--packs-dir", str(pack_dir), "--packs", "tiny", "--fail-on", "never"]
    _, out, _ = _scrub(*base, "--format", "jsonl")
    assert len(out.splitlines()) == 3
    _, out, _ = _scrub(*base, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["ruleId"] for r in rows} == {"", "TINY-0001", "TINY-0002"}
    _, out, _ = _scrub(*base, "--format", "table")
    assert "TINY-0001" in out and "EDITS" in out


def test_reference_evaluator_gives_the_same_edits(pack_dir: Path, claims_dir: Path) -> None:
    base = [str(claims_dir), "--packs-dir", str(pack_dir), "--packs", "tiny", "--format", "jsonl"]
    assert _scrub(*base)[1] == _scrub(*base, "--evaluator", "reference")[1]


def test_no_phi_in_the_report(pack_dir: Path, claims_dir: Path) -> None:
    _, out, _ = _scrub(str(claims_dir), "--packs-dir", str(pack_dir), "--format", "json")
    assert "SECRETID9" not in out and "PATIENT" not in out


def test_output_file(pack_dir: Path, claims_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    _scrub(str(claims_dir), "--packs-dir", str(pack_dir), "-o", str(target), "--format", "json")
    assert len(json.loads(target.read_text())) == 3


def test_unknown_pack_is_a_usage_error(pack_dir: Path, claims_dir: Path) -> None:
    code, _, err = _scrub(str(claims_dir), "--packs-dir", str(pack_dir), "--packs", "nosuch")
    assert code == 2 and "unknown pack(s): nosuch" in err


def test_broken_pack_prints_located_diagnostics(pack_dir: Path, claims_dir: Path) -> None:
    rules = pack_dir / "rules" / "tiny.rules"
    rules.write_text(PACK.replace("line.modifiers", "line.modifers"))
    code, _, err = _scrub(str(claims_dir), "--packs-dir", str(pack_dir))
    assert code == 2
    assert "tiny.rules:11:" in err and "E201" in err


def test_unreadable_input_gives_errors_envelope_and_exit_2(tmp_path: Path, pack_dir: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("hello, not a claim")
    code, out, _ = _scrub(str(bad), "--packs-dir", str(pack_dir), "--format", "json")
    [env] = json.loads(out)
    assert code == 2
    assert env["status"] == "ERRORS"
    assert env["errors"][0]["code"] == "IN-E003"
    assert env["errors"][0]["category"] == "structure"


def test_scrub_with_no_files_scrubs_the_bundled_samples() -> None:
    code, out, _ = _scrub("--format", "json", "--fail-on", "never")
    envelopes = json.loads(out)
    assert code == 0
    assert {e["status"] for e in envelopes} == {"SUCCESS", "EDITS"}


def test_convert_x12_to_json_and_jsonl(claims_dir: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["convert", str(claims_dir / "batch.dat"), "--to", "json"])
    docs = json.loads(res.stdout)
    assert res.exit_code == 0
    assert [d["controlNumber"] for d in docs] == ["1001", "1002"]
    res = runner.invoke(main, ["convert", str(claims_dir), "--to", "jsonl"])
    assert len(res.stdout.splitlines()) == 3


def test_convert_json_back_to_the_same_claims(claims_dir: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["convert", str(claims_dir / "batch.dat")])
    original = [c for c in read_x12(claims_dir / "batch.dat") if isinstance(c, Claim)]
    from claims.optum import parse_claims_json

    assert parse_claims_json(res.stdout) == original


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "IN-E002"), (b"garbage", "IN-E003"), (b"ISA*00*short~", "X12-E003")],
)
def test_convert_bad_input_exit_2_located_no_traceback(
    tmp_path: Path, content: bytes, code: str
) -> None:
    f = tmp_path / "in.x12"
    f.write_bytes(content)
    res = CliRunner().invoke(main, ["convert", str(f)])
    assert res.exit_code == 2
    assert code in res.stderr and "Traceback" not in res.stderr
    assert str(f) in res.stderr


def test_two_gigabyte_garbage_file_fails_fast_in_bounded_memory(tmp_path: Path) -> None:
    import tracemalloc

    f = tmp_path / "huge.x12"
    with f.open("wb") as fh:  # sparse: costs no disk
        fh.write(b"ISA*00*" + b"\x00garbage" * 1000)
        fh.truncate(2 * 1024**3)
    tracemalloc.start()
    res = CliRunner().invoke(main, ["convert", str(f)])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert res.exit_code == 2 and "X12-E0" in res.stderr
    assert peak < 64 * 1024**2
