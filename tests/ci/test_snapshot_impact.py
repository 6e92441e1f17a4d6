"""``claimscrub snapshot`` and ``claimscrub impact`` on a generated corpus with known edits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.commands.impact_cmd import impact_command
from api.commands.snapshot_cmd import snapshot_command
from api.reports.snapshot import COLUMNS, MAGIC
from tests.ci.conftest import GP, copy_pack, replace_in

# GP-0010 fires on charges <= 0: -5.00 and 0.00 in batch.json, 0.00 in batch.837.
GP0010_NOW = 3
# with `<= 50` it also fires on 10, 30 (JSON) and 20, 45 (X12)
GP0010_AT_50 = 7


def run(cmd: object, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cmd, list(args))  # type: ignore[arg-type]
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def threshold_pack(tmp_path: Path, new: str) -> Path:
    pack = copy_pack(GP, tmp_path / f"gp-{abs(hash(new))}")
    replace_in(pack / "rules" / "charges.rules", "when line.charge <= 0", f"when line.charge {new}")
    return pack


def test_snapshot_records_and_checks(tmp_path: Path, corpus: Path) -> None:
    snap = tmp_path / "snap" / "edits.snap"
    snap.parent.mkdir()
    code, out = run(snapshot_command, str(GP), "--claims", str(corpus), "--out", str(snap))
    assert code == 0, out
    lines = snap.read_text().splitlines()
    assert lines[0] == MAGIC and f"# columns: {COLUMNS}" in lines
    assert "# claims-read: 9" in lines
    edits = [ln for ln in lines if not ln.startswith("#")]
    assert edits == sorted(edits)
    gp10 = [ln for ln in edits if "|GP-0010|" in ln]
    assert len(gp10) == GP0010_NOW
    assert any(
        ln.startswith("batch.837|000000101|GP-0010|general-professional@1.1.0|1|") for ln in gp10
    )
    assert all("PATIENT" not in ln and "TEST000001" not in ln for ln in edits)  # no PHI
    # check from another working directory: paths are relative to the snapshot file
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert run(snapshot_command, "--check", str(snap))[0] == 0
    finally:
        os.chdir(cwd)


def test_snapshot_check_fails_with_a_diff(tmp_path: Path, corpus: Path) -> None:
    pack = copy_pack(GP, tmp_path / "gp")
    snap = tmp_path / "edits.snap"
    assert run(snapshot_command, str(pack), "--claims", str(corpus), "--out", str(snap))[0] == 0
    replace_in(pack / "rules" / "charges.rules", "when line.charge <= 0", "when line.charge <= 50")
    code, out = run(snapshot_command, "--check", str(snap))
    assert code == 1
    added = [ln for ln in out.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    assert len(added) == GP0010_AT_50 - GP0010_NOW
    assert all("|GP-0010|" in ln for ln in added)
    assert "--- " in out and "+++ " in out


def test_snapshot_usage_errors(tmp_path: Path, corpus: Path) -> None:
    assert run(snapshot_command, str(GP))[0] == 2
    assert run(snapshot_command, str(GP), "--claims", str(corpus))[0] == 2
    bogus = tmp_path / "x.snap"
    bogus.write_text("hello\n")
    assert run(snapshot_command, "--check", str(bogus))[0] == 2
    out = tmp_path / "o.snap"
    assert run(snapshot_command, "nope@1.0.0", "--claims", str(corpus), "--out", str(out))[0] == 2
    bad = tmp_path / "bad.json"
    bad.write_text("not claims")
    assert run(snapshot_command, str(GP), "--claims", str(bad), "--out", str(out))[0] == 2


def test_impact_counts_a_threshold_change_exactly(tmp_path: Path, corpus: Path) -> None:
    new = threshold_pack(tmp_path, "<= 50")
    code, out = run(impact_command, str(GP), str(new), "--claims", str(corpus), "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["claims"] == 9
    assert doc["total"]["added"] == GP0010_AT_50 - GP0010_NOW
    assert doc["total"]["removed"] == 0 and doc["total"]["changed"] == 0
    (rule,) = [r for r in doc["rules"] if r["rule"] == "GP-0010"]
    assert (rule["before"], rule["after"], rule["added"]) == (GP0010_NOW, GP0010_AT_50, 4)
    assert set(rule["examples"]["added"]) == {"000000003", "000000004", "000000102", "000000103"}
    (cat,) = [c for c in doc["categories"] if c["category"] == "charges"]
    assert cat["added"] == 4
    # the gate
    args = [str(GP), str(new), "--claims", str(corpus)]
    assert run(impact_command, *args, "--fail-if-added", "4")[0] == 0
    code, out = run(impact_command, *args, "--fail-if-added", "3")
    assert code == 1 and "impact gate failed" in out
    assert run(impact_command, *args, "--fail-if-removed", "0")[0] == 0


def test_impact_removed_and_changed(tmp_path: Path, corpus: Path) -> None:
    stricter = threshold_pack(tmp_path, "< 0")  # 0.00 no longer fires: 2 removed
    args = ["--claims", str(corpus), "--format", "json"]
    doc = json.loads(run(impact_command, str(GP), str(stricter), *args)[1])
    assert (doc["total"]["added"], doc["total"]["removed"]) == (0, 2)
    code, _ = run(impact_command, str(GP), str(stricter), *args, "--fail-if-removed", "1")
    assert code == 1
    reworded = copy_pack(GP, tmp_path / "reworded")
    replace_in(
        reworded / "rules" / "charges.rules",
        "severity error\n  scope line",
        "severity warning\n  scope line",
    )
    doc = json.loads(run(impact_command, str(GP), str(reworded), *args)[1])
    assert doc["total"]["changed"] == GP0010_NOW
    assert (doc["total"]["added"], doc["total"]["removed"]) == (0, 0)


def test_impact_table_and_html(tmp_path: Path, corpus: Path) -> None:
    new = threshold_pack(tmp_path, "<= 50")
    code, out = run(impact_command, str(GP), str(new), "--claims", str(corpus))
    assert code == 0
    assert "4 added, 0 removed, 0 changed" in out and "GP-0010" in out
    html_path = tmp_path / "impact.html"
    code, _ = run(
        impact_command,
        str(GP),
        str(new),
        "--claims",
        str(corpus),
        "--format",
        "html",
        "--output",
        str(html_path),
    )
    assert code == 0
    text = html_path.read_text()
    assert "<svg" in text and 'id="rules"' in text and "<script>" in text
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text and "src=" not in text and "<link" not in text


CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_impact_html_renders_in_headless_chromium(tmp_path: Path, corpus: Path) -> None:
    new = threshold_pack(tmp_path, "<= 50")
    html_path = tmp_path / "impact.html"
    run(
        impact_command,
        str(GP),
        str(new),
        "--claims",
        str(corpus),
        "--format",
        "html",
        "--output",
        str(html_path),
    )
    assert CHROMIUM is not None
    profile = tmp_path / "chromium-profile"
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            html_path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'data-sort-ready="true"' in dom  # the inline script ran
    assert dom.count('data-sortable="ready"') == 2
    assert (
        'id="category-chart"' in dom
        and 'class="bar-after" data-category="charges" data-value="7"' in dom
    )
    assert 'id="categories"' in dom and 'id="rules"' in dom and ">GP-0010<" in dom
    # A screenshot for humans: CI keeps it as an artifact (CLAIMSCRUB_ARTIFACTS, default tmp).
    artifacts = Path(os.environ.get("CLAIMSCRUB_ARTIFACTS", str(tmp_path)))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "impact-report.png"
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--window-size=1200,900",
            f"--screenshot={shot}",
            html_path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_snapshot_lists_every_unreadable_claim(tmp_path: Path, corpus: Path) -> None:
    """Two bad files: one run reports both (located), and no snapshot is written."""
    (corpus / "bad1.json").write_text("not claims")
    (corpus / "bad2.837").write_bytes(b"ISA*garbage~")
    out = tmp_path / "o.snap"
    code, text = run(snapshot_command, str(GP), "--claims", str(corpus), "--out", str(out))
    assert code == 2
    assert "2 unreadable input(s)" in text
    assert "bad1.json:" in text and "bad2.837:" in text
    assert not out.exists()
