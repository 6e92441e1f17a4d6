from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from api.commands.dsl_tools import check_command, fmt_command

GOOD = (
    'rule X-1 "t" {\n  category custom\n  severity error\n  scope line\n'
    '  when line.units > 1\n  message "m"\n}\n'
)
BAD = GOOD.replace("line.units", "line.unitz")


def test_check_ok_and_error(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.rules", tmp_path / "bad.rules"
    good.write_text(GOOD)
    bad.write_text(BAD)
    runner = CliRunner()
    assert runner.invoke(check_command, [str(good)]).exit_code == 0
    result = runner.invoke(check_command, [str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:5:13: error[E201]: unknown field 'unitz' on line" in result.output
    assert "did you mean 'units'?" in result.output


def test_check_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text(BAD)
    result = CliRunner().invoke(check_command, ["--format", "json", str(bad)])
    assert result.exit_code == 1
    (diag,) = json.loads(result.output)
    assert diag["code"] == "E201"
    assert (diag["line"], diag["column"], diag["end_line"], diag["end_column"]) == (5, 13, 5, 18)
    assert diag["hint"] == "did you mean 'units'?"


def test_check_pack_directory(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "a.rules").write_text(
        'pack demo {\n  version "1"\n}\n\ntable dx code_set {\n  source csv "tables/dx.csv"\n}\n\n'
        + GOOD.replace("line.units > 1", "line.units > 1 and line.procedure_code in dx")
    )
    runner = CliRunner()
    result = runner.invoke(check_command, [str(tmp_path)])
    assert result.exit_code == 1 and "E211" in result.output  # tables/dx.csv missing
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "dx.csv").write_text("code\nA00\n")
    assert runner.invoke(check_command, [str(tmp_path)]).exit_code == 0


def test_fmt_check_and_in_place(tmp_path: Path) -> None:
    f = tmp_path / "x.rules"
    f.write_text(GOOD.replace("\n  ", "\n    "))
    runner = CliRunner()
    result = runner.invoke(fmt_command, ["--check", str(f)])
    assert result.exit_code == 1
    assert "+++" in result.output and "-    category custom" in result.output
    assert runner.invoke(fmt_command, [str(f)]).exit_code == 0
    assert f.read_text() == GOOD
    assert runner.invoke(fmt_command, ["--check", str(f)]).exit_code == 0


def test_check_directory_of_packs(tmp_path: Path) -> None:
    """``claimscrub check knowledge_packs``: every pack below is checked, errors located in each."""
    for name, text in (("one", GOOD), ("two", BAD)):
        (tmp_path / name / "rules").mkdir(parents=True)
        (tmp_path / name / "rules" / "a.rules").write_text(
            f'pack {name} {{\n  version "1"\n}}\n\n{text}'
        )
    runner = CliRunner()
    result = runner.invoke(check_command, [str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'two' / 'rules' / 'a.rules'}:9:13: error[E201]" in result.output
    (tmp_path / "two" / "rules" / "a.rules").write_text('pack two {\n  version "1"\n}\n\n' + GOOD)
    result = runner.invoke(check_command, [str(tmp_path)])
    assert result.exit_code == 0
    assert "ok: 2 path(s) checked" in result.output


def test_check_bundled_packs_directory() -> None:
    from knowledge_packs import bundled_pack_dirs

    root = bundled_pack_dirs()[0].parent
    result = CliRunner().invoke(check_command, [str(root)])
    assert result.exit_code == 0, result.output
    assert f"ok: {len(bundled_pack_dirs())} path(s) checked" in result.output
