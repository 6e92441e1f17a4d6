"""Publishing from the CLI runs the pack's cases (api.store_cases) and refuses a failing one."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from api.cli import main
from store.content import with_header_version


def test_header_version_bump_changes_only_the_pack_block() -> None:
    text = 'pack p {\n  version "1.0"\n  title "T"\n}\nrule R "x" {\n  version "9"\n}\n'
    bumped = with_header_version(text, "1.1")
    assert bumped == text.replace('"1.0"', '"1.1"', 1)
    assert with_header_version("rule R {}", "2") == "rule R {}"


def test_publish_refuses_a_draft_whose_case_fails_then_accepts_the_fix(tmp_path: Path) -> None:
    db = ["store", "--database", f"sqlite:///{tmp_path / 'store.db'}"]
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        res = runner.invoke(main, [*db, *args])
        return res.exit_code, res.output

    assert run("init")[0] == 0
    assert run("draft", "medicare")[0] == 0
    out = tmp_path / "export"
    assert run("export", "medicare@0.1.1", str(out))[0] == 0
    assert 'version "0.1.1"' in (out / "rules" / "pack.rules").read_text()  # header follows
    good = (out / "cases" / "mue.yaml").read_text()
    broken = tmp_path / "mue.yaml"
    broken.write_text(good.replace("want: []", "want: [{rule: MCR-0002, lines: [1]}]", 1))
    assert run("set-rule", "medicare", "cases/mue.yaml", str(broken))[0] == 0
    code, output = run("publish", "medicare", "--note", "broken")
    assert code == 4
    assert "CASE-FAILED" in output and "MCR-0002" in output
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(good)
    assert run("set-rule", "medicare", "cases/mue.yaml", str(fixed))[0] == 0
    code, output = run("publish", "medicare", "--note", "fixed")
    assert code == 0, output
