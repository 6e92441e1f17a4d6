"""``claimscrub test`` as a CI tool: JUnit and JSON reports, rule coverage, store versions."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.commands.test_cmd import test_command as cmd
from api.packtest import run_pack
from api.reports.coverage import case_names_rule, format_coverage_table, rule_coverage
from store import Actor, import_pack, make_engine, make_sessionmaker, publish, upgrade
from store.validation import ValidationReport
from tests.ci.conftest import GI, GP, copy_pack, replace_in


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cmd, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.output


def test_bundled_packs_pass_with_full_coverage(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    code, out = invoke(str(GP), str(GI), "--require-coverage", "--junit", str(junit))
    assert code == 0, out
    assert "GP-0010" in out and "MISSING" not in out
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["general-professional", "general-institutional"]
    report = run_pack(GP)
    gp = suites[0]
    # one testcase per case plus the coverage testcase
    assert int(gp.get("tests", "0")) == len(report.results) + 1 == len(gp.findall("testcase"))
    assert gp.get("failures") == "0"
    assert int(root.get("tests", "0")) == sum(int(s.get("tests", "0")) for s in suites)
    assert all(tc.get("classname") == "general-professional" for tc in gp.findall("testcase"))
    assert gp.findall("testcase")[0].get("name") == report.results[0].case


def test_failing_case_and_uncovered_rule(tmp_path: Path) -> None:
    pack = copy_pack(GP, tmp_path / "gp")
    charges = pack / "cases" / "charges.yaml"
    # 1 failing case: GP-0009 fires but the case now expects nothing
    replace_in(charges, "want: [{rule: GP-0009}]", "want: []")
    # GP-0010 loses its only silent case
    replace_in(charges, '"GP-0010 silent: one cent is a positive charge"', '"one cent"')
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    code, out = invoke(str(pack), "--junit", str(junit), "--json", str(report))
    assert code == 1
    assert "FAIL general-professional: GP-0009 fires" in out
    assert "expected: (none)" in out and "actual:   GP-0009" in out
    # without --require-coverage the gap is reported but does not fail on its own
    assert "MISSING silent case" in out
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "1"
    (suite,) = root.findall("testsuite")
    failures = [tc for tc in suite.findall("testcase") if tc.find("failure") is not None]
    assert len(failures) == 1
    failure = failures[0].find("failure")
    assert failure is not None
    assert "GP-0009" in failure.get("message", "")
    assert "expected: (none)" in (failure.text or "")
    assert "(rule coverage)" not in {tc.get("name") for tc in suite.findall("testcase")}
    doc = json.loads(report.read_text())
    assert doc["exitCode"] == 1 and doc["summary"]["failed"] == 1
    assert doc["packs"][0]["uncovered"] == ["GP-0009", "GP-0010"]  # GP-0009's only firing case


def test_require_coverage_fails_a_passing_pack_with_a_gap(tmp_path: Path) -> None:
    pack = copy_pack(GP, tmp_path / "gp")
    replace_in(
        pack / "cases" / "charges.yaml",
        '"GP-0010 silent: one cent is a positive charge"',
        '"one cent is a positive charge"',
    )
    assert invoke(str(pack))[0] == 0
    junit = tmp_path / "junit.xml"
    code, out = invoke(str(pack), "--require-coverage", "--junit", str(junit))
    assert code == 1
    assert "UNCOVERED general-professional: GP-0010 has no silent case" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    cov = [tc for tc in suite.findall("testcase") if tc.get("name") == "(rule coverage)"]
    assert len(cov) == 1 and cov[0].find("failure") is not None


def test_pack_toml_flag_requires_coverage(tmp_path: Path) -> None:
    pack = copy_pack(GP, tmp_path / "gp")
    replace_in(
        pack / "pack.toml", "[[reference_data]]", "require_coverage = true\n\n[[reference_data]]"
    )
    assert invoke(str(pack))[0] == 0
    replace_in(pack / "cases" / "charges.yaml", "GP-0010 fires: zero", "zero", 1)
    replace_in(pack / "cases" / "charges.yaml", "GP-0010 fires: negative", "negative", 1)
    # still fires in some case (the renamed ones): only firing cases need no name
    assert invoke(str(pack))[0] == 0
    replace_in(pack / "cases" / "charges.yaml", "GP-0010 silent", "silent")
    code, out = invoke(str(pack))
    assert code == 1 and "GP-0010 has no silent case" in out


def test_uncompilable_pack_and_bad_argument_exit_2(tmp_path: Path) -> None:
    pack = copy_pack(GP, tmp_path / "gp")
    (pack / "rules" / "charges.rules").write_text('rule GP-0009 "x" {\n  when = =\n')
    junit = tmp_path / "junit.xml"
    code, _ = invoke(str(pack), str(GI), "--junit", str(junit))
    assert code == 2
    root = ET.parse(junit).getroot()
    assert root.get("errors") == "1"
    assert invoke(str(tmp_path / "nope"))[0] == 2
    assert invoke("nosuchpack@1.0.0", "--database", f"sqlite:///{tmp_path / 'x.db'}")[0] == 2


def test_no_case_at_all_exits_1(tmp_path: Path) -> None:
    pack = copy_pack(GP, tmp_path / "gp")
    for f in (pack / "cases").glob("*.yaml"):
        if not f.name.startswith("_"):
            f.unlink()
    code, out = invoke(str(pack))
    assert code == 1 and "0 cases" in out


def test_store_version_argument(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine).begin() as session:
        import_pack(session, GP, by=Actor("ci"))
        publish(
            session,
            "general-professional",
            by=Actor("ci"),
            note="test",
            validate=lambda _c: ValidationReport(),
        )
    engine.dispose()
    junit = tmp_path / "junit.xml"
    code, out = invoke("general-professional@1.1.0", "--database", url, "--junit", str(junit))
    assert code == 0, out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "general-professional"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["ref"] == "general-professional@1.1.0"


@pytest.mark.parametrize(
    ("name", "rule", "hit"),
    [
        ("GP-0010 silent: x", "GP-0010", True),
        ("GP-00101 silent", "GP-0010", False),
        ("XGP-0010", "GP-0010", False),
        ("(GP-0010) boundary", "GP-0010", True),
        ("clean base claim", "GP-0010", False),
    ],
)
def test_case_names_rule(name: str, rule: str, hit: bool) -> None:
    assert case_names_rule(name, rule) is hit


def test_coverage_table_lists_every_rule() -> None:
    rows = rule_coverage(run_pack(GP))
    table = format_coverage_table(rows)
    assert len(table.splitlines()) == len(rows) + 2
    assert all(r.covered for r in rows)
