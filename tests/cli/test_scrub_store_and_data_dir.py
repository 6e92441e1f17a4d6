"""``claimscrub scrub --database`` (store versions, pins) and ``--data-dir`` (real CMS files)."""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from api.cli import main
from claims.model import Claim, ClaimKind, Diagnosis, DiagnosisRole, ServiceLine
from claims.optum import claim_to_json
from knowledge_packs import BUNDLED_DIR


def _ptp_claim(tmp_path: Path) -> Path:
    """Two lines billing a synthetic column-1/column-2 pair (X0010 + X0012, indicator 0)."""
    lines = tuple(
        ServiceLine(i + 1, Decimal("50.00"), Decimal(1), code, service_date=date(2025, 2, 3))
        for i, code in enumerate(["X0010", "X0012"])
    )
    claim = Claim(
        kind=ClaimKind.PROFESSIONAL,
        control_number="555",
        patient_control_number="PCN555",
        total_charge=Decimal("100.00"),
        facility_code="11",
        frequency_code="1",
        diagnoses=(Diagnosis("M545", DiagnosisRole.PRINCIPAL),),
        lines=lines,
    )
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(claim_to_json(claim)))
    return path


def _rules(out: str) -> set[str]:
    [env] = json.loads(out)
    return {e["ruleId"] for e in env["errors"] if e["pack"] == "medicare"}


def test_scrub_uses_store_versions_and_pins(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert runner.invoke(main, ["store", "--database", url, "init"]).exit_code == 0
    claim = str(_ptp_claim(tmp_path))
    base = ["scrub", claim, "--database", url, "--format", "json", "--fail-on", "never"]
    res = runner.invoke(main, base)
    assert res.exit_code == 0, res.output
    [env] = json.loads(res.stdout)
    assert {(e["pack"], e["packVersion"]) for e in env["errors"]} >= {("medicare", "0.1.0")}
    res = runner.invoke(main, [*base, "--packs", "medicare@0.1.0"])
    assert _rules(res.stdout) == {"MCR-0001"}
    res = runner.invoke(main, [*base, "--packs", "medicare@7.7.7"])
    assert res.exit_code == 2 and "no version '7.7.7'" in res.output


def test_pinning_without_a_store_is_a_usage_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main, ["scrub", str(_ptp_claim(tmp_path)), "--packs", "medicare@0.1.0"]
    )
    assert res.exit_code == 2 and "needs --database" in res.output


def test_data_dir_file_replaces_the_bundled_synthetic_table(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CLAIMSCRUB_DATA_DIR", raising=False)
    claim = str(_ptp_claim(tmp_path))
    args = ["scrub", claim, "--packs", "medicare", "--format", "json", "--fail-on", "never"]
    runner = CliRunner()
    assert _rules(runner.invoke(main, args).stdout) == {"MCR-0001"}
    # A "real quarterly file" in the data directory without the X0010/X0012 pair: no PTP edit.
    data = tmp_path / "data" / "medicare"
    data.mkdir(parents=True)
    bundled = (BUNDLED_DIR / "medicare" / "tables" / "ncci_ptp_practitioner.txt").read_text()
    kept = [ln for ln in bundled.splitlines() if not ln.startswith("X0010\tX0012")]
    (data / "ncci_ptp_practitioner.txt").write_text("\n".join(kept) + "\n")
    res = runner.invoke(main, [*args, "--data-dir", str(tmp_path / "data")])
    assert res.exit_code == 0, res.output
    assert _rules(res.stdout) == set()
    # the data directory applied to that invocation only: nothing leaks into the next one
    assert "CLAIMSCRUB_DATA_DIR" not in os.environ
    assert _rules(runner.invoke(main, args).stdout) == {"MCR-0001"}


def test_ptp_edit_explains_both_lines_and_the_pair_row(tmp_path: Path) -> None:
    args = ["scrub", str(_ptp_claim(tmp_path)), "--packs", "medicare", "--format", "json"]
    res = CliRunner().invoke(main, [*args, "--explain", "--fail-on", "never"])
    [env] = json.loads(res.stdout)
    [edit] = [e for e in env["errors"] if e["ruleId"] == "MCR-0001"]
    why = edit["explanation"]
    assert (why["line.procedure_code"], why["other.procedure_code"]) == ("X0010", "X0012")
    assert "line.modifiers" in why and "other.modifiers" in why
    [row] = why["rows"]
    assert row["column_1"] == "X0010" and row["column_2"] == "X0012"
    assert row["modifier_indicator"] == "0" and row["effective_from"] == "2020-01-01"
    assert "effective_until" not in row  # deletion date '*': still in force


def test_scrub_record_writes_the_scrub_history(tmp_path: Path) -> None:
    """--record: each claim in the store's history, with its pack versions and edit identifiers."""
    from store import make_engine, make_sessionmaker
    from store.scrubs import scrubs_for_claim

    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert runner.invoke(main, ["store", "--database", url, "init"]).exit_code == 0
    claim = str(_ptp_claim(tmp_path))
    args = ["scrub", claim, "--database", url, "--format", "jsonl", "--fail-on", "never"]
    res = runner.invoke(main, [*args, "--record"])
    assert res.exit_code == 0, res.output
    env = json.loads(res.stdout)
    with make_sessionmaker(make_engine(url)).begin() as session:
        [rec] = scrubs_for_claim(session, "555")
        assert rec.status == env["status"] == "EDITS"
        assert [e["ruleId"] for e in rec.edits] == [e["ruleId"] for e in env["errors"]]
        assert all(
            set(e) == {"ruleId", "pack", "packVersion", "severity", "lines", "field"}
            for e in rec.edits
        )
        assert len(rec.versions) >= 6  # every pack of the production environment
        assert "PCN555" not in json.dumps(rec.edits) and "555" not in rec.claim_key
    assert runner.invoke(main, args).exit_code == 0  # without --record: nothing more recorded
    with make_sessionmaker(make_engine(url)).begin() as session:
        assert len(scrubs_for_claim(session, "555")) == 1
    res = runner.invoke(main, ["scrub", claim, "--record"])
    assert res.exit_code == 2 and "give --database" in res.output
    res = runner.invoke(main, [*args, "--record", "--jobs", "2"])
    assert res.exit_code == 2 and "one process" in res.output
