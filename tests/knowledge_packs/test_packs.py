"""Bundled knowledge packs: they compile, their cases pass, every rule is tested and documented."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
from click.testing import CliRunner

from api.packtest import (
    PackTestError,
    compile_checked,
    discover_packs,
    expand_claim,
    load_cases,
    load_manifest,
    run_pack,
)
from claims.optum import parse_claim_json
from claims.sources import SAMPLES_DIR
from knowledge_packs import BUNDLED_DIR

PACKS = discover_packs(BUNDLED_DIR)
DOC_SECTIONS = (
    "## Summary",
    "## Fires when",
    "## Example that fires",
    "## Example that passes",
    "## Rationale",
    "## References",
)


def _has_scrubber() -> bool:
    try:
        from engine.scrubber import Scrubber  # noqa: F401
    except ImportError:
        return False
    return True


needs_engine = pytest.mark.skipif(
    not _has_scrubber(), reason="engine.scrubber.Scrubber is not available yet"
)


def _ids(pack: Path) -> str:
    return pack.name


def test_bundled_packs_exist() -> None:
    names = {p.name for p in PACKS}
    assert {"general-professional", "general-institutional"} <= names


@pytest.mark.parametrize("pack", PACKS, ids=_ids)
def test_pack_compiles_without_warnings(pack: Path) -> None:
    manifest, rules, warnings = compile_checked(pack)
    assert manifest.name == pack.name
    assert rules.rules, "a pack defines at least one rule"
    assert not warnings, [f"{w.span.line}: {w.code} {w.message}" for w in warnings]


@pytest.mark.parametrize("pack", PACKS, ids=_ids)
def test_reference_data_files_exist(pack: Path) -> None:
    manifest = load_manifest(pack)
    for ref in manifest.reference_data:
        if ref.file is not None:
            assert (pack / ref.file).is_file(), ref.file
        if ref.valid_from and ref.valid_until:
            assert ref.valid_from <= ref.valid_until


@pytest.mark.parametrize("pack", PACKS, ids=_ids)
def test_every_rule_has_a_firing_and_a_silent_case(pack: Path) -> None:
    _m, rules, _w = compile_checked(pack)
    _base, cases = load_cases(pack)
    for rule in rules.rules:
        firing = [c.name for _f, c in cases if any(w.rule == rule.id for w in c.want)]
        silent = [
            c.name
            for _f, c in cases
            if c.name.startswith(rule.id) and all(w.rule != rule.id for w in c.want)
        ]
        assert firing, f"{rule.id} has no case where it fires"
        assert silent, f"{rule.id} has no case named after it where it stays silent"


@pytest.mark.parametrize("pack", PACKS, ids=_ids)
def test_every_rule_has_a_docs_page(pack: Path) -> None:
    _m, rules, _w = compile_checked(pack)
    ids = {r.id for r in rules.rules}
    for rid in ids:
        page = pack / "docs" / f"{rid}.md"
        assert page.is_file(), f"missing docs/{rid}.md"
        text = page.read_text(encoding="utf-8")
        assert text.startswith(f"# {rid}"), rid
        for section in DOC_SECTIONS:
            assert section in text, f"docs/{rid}.md lacks {section!r}"
    orphans = {p.stem for p in (pack / "docs").glob("*.md")} - ids
    assert not orphans, f"docs pages for rules that do not exist: {sorted(orphans)}"


@pytest.mark.parametrize("pack", PACKS, ids=_ids)
def test_case_claims_parse(pack: Path) -> None:
    manifest = load_manifest(pack)
    base, cases = load_cases(pack)
    assert base is not None
    for _f, case in cases:
        doc = case.json_claim or expand_claim(base, manifest.kinds[0], case.claim or {})
        parse_claim_json(doc, kind=manifest.kinds[0])


@needs_engine
@pytest.mark.parametrize("evaluator", ["numba", "reference"])
@pytest.mark.parametrize("pack", PACKS, ids=_ids)
def test_pack_cases_pass(pack: Path, evaluator: Literal["numba", "reference"]) -> None:
    report = run_pack(pack, evaluator=evaluator)
    assert report.results
    failures = [
        f"{r.case}: expected {[str(e) for e in r.expected]}, got {[str(e) for e in r.actual]}"
        for r in report.failures
    ]
    assert not failures, "\n".join(failures)


def test_expand_claim_recomputes_the_total_and_converts_dates() -> None:
    base, _cases = load_cases(BUNDLED_DIR / "general-professional")
    assert base is not None
    doc = expand_claim(
        base,
        "professional",
        {"lines": [{"charge": "10.50"}, {"charge": 2, "serviceDate": "2025-03-04"}]},
    )
    claim = parse_claim_json(doc, kind="professional")
    assert str(claim.total_charge) == "12.50"
    assert [ln.number for ln in claim.lines] == [1, 2]
    assert claim.lines[1].service_date is not None
    assert claim.lines[1].service_date.isoformat() == "2025-03-04"


def test_unknown_compact_key_is_an_error() -> None:
    base, _cases = load_cases(BUNDLED_DIR / "general-professional")
    assert base is not None
    with pytest.raises(PackTestError, match="procedureCod"):
        expand_claim(base, "professional", {"lines": [{"procedureCod": "99213"}]})


def test_manifest_rejects_unknown_keys(tmp_path: Path) -> None:
    (tmp_path / "pack.toml").write_text(
        'name = "x"\nversion = "1.0.0"\ntitle = "X"\nkinds = ["professional"]\nowner = "me"\n'
    )
    with pytest.raises(PackTestError, match="owner"):
        load_manifest(tmp_path)


def test_samples_parse() -> None:
    samples = sorted(SAMPLES_DIR.glob("*.json"))
    assert 3 <= len(samples) <= 6
    kinds = set()
    for path in samples:
        claim = parse_claim_json(json.loads(path.read_text(encoding="utf-8")))
        kinds.add(claim.kind.value)
        assert claim.subscriber.last_name == "PATIENT"
    assert kinds == {"professional", "institutional"}


@needs_engine
def test_samples_clean_and_with_edits() -> None:
    from engine.scrubber import Scrubber

    scrubber = Scrubber.from_directories(PACKS)
    for path in sorted(SAMPLES_DIR.glob("*.json")):
        claim = parse_claim_json(json.loads(path.read_text(encoding="utf-8")))
        edits = scrubber.scrub([claim])[0]
        if "clean" in path.stem:
            assert not edits, (path.name, [e.rule_id for e in edits])
        else:
            assert edits, path.name


# --- claimscrub test --------------------------------------------------------------------------

_TINY_RULES = """\
pack tiny {
  version "0.1.0"
  title "Tiny"
  kinds professional
}

rule TINY-0001 "Zero charge" {
  category charges
  severity error
  scope line
  message "Line {line.number} has no charge."
  when line.charge <= 0
}
"""
_TINY_TOML = 'name = "tiny"\nversion = "0.1.0"\ntitle = "Tiny"\nkinds = ["professional"]\n'


def _tiny_pack(root: Path, *, rules: str = _TINY_RULES, want_lines: str = "[2]") -> Path:
    pack = root / "tiny"
    (pack / "rules").mkdir(parents=True)
    (pack / "cases").mkdir()
    (pack / "pack.toml").write_text(_TINY_TOML)
    (pack / "rules" / "tiny.rules").write_text(rules)
    base = (BUNDLED_DIR / "general-professional" / "cases" / "_base.yaml").read_text()
    (pack / "cases" / "_base.yaml").write_text(base)
    (pack / "cases" / "tiny.yaml").write_text(
        "cases:\n"
        '  - name: "TINY-0001 fires"\n'
        "    claim:\n"
        '      lines: [{}, {procedureCode: "36415", charge: "0"}]\n'
        f"    want: [{{rule: TINY-0001, lines: {want_lines}}}]\n"
    )
    return pack


@needs_engine
def test_cli_passes_on_the_bundled_packs() -> None:
    from api.commands.test_cmd import test_command

    result = CliRunner().invoke(test_command, [])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output


@needs_engine
def test_cli_passes_on_a_tiny_pack(tmp_path: Path) -> None:
    from api.commands.test_cmd import test_command

    pack = _tiny_pack(tmp_path)
    result = CliRunner().invoke(test_command, [str(pack)])
    assert result.exit_code == 0, result.output


@needs_engine
def test_cli_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    from api.commands.test_cmd import test_command

    pack = _tiny_pack(tmp_path, want_lines="[1]")
    result = CliRunner().invoke(test_command, [str(pack)])
    assert result.exit_code == 1, result.output
    assert "FAIL tiny: TINY-0001 fires" in result.output
    assert "expected: TINY-0001 lines 1" in result.output
    assert "actual:   TINY-0001 lines 2" in result.output


def test_cli_fails_when_no_case_runs(tmp_path: Path) -> None:
    from api.commands.test_cmd import test_command

    pack = _tiny_pack(tmp_path)
    (pack / "cases" / "tiny.yaml").write_text("cases: []\n")
    result = CliRunner().invoke(test_command, [str(pack)])
    assert result.exit_code == 1, result.output
    assert "0 cases" in result.output


def test_cli_reports_compile_errors_with_exit_2(tmp_path: Path) -> None:
    from api.commands.test_cmd import test_command

    pack = _tiny_pack(tmp_path, rules=_TINY_RULES.replace("line.charge", "line.charg"))
    result = CliRunner().invoke(test_command, [str(pack)])
    assert result.exit_code == 2, result.output
    assert "E201" in result.output
    assert "tiny.rules:" in result.output


def test_cli_reports_a_bad_manifest_with_exit_2(tmp_path: Path) -> None:
    from api.commands.test_cmd import test_command

    pack = _tiny_pack(tmp_path)
    (pack / "pack.toml").write_text(_TINY_TOML.replace('"0.1.0"', '"0.2.0"'))
    result = CliRunner().invoke(test_command, [str(pack)])
    assert result.exit_code == 2, result.output
    assert "version" in result.output


@pytest.mark.parametrize("pack", PACKS, ids=_ids)
def test_rule_files_are_canonically_formatted(pack: Path) -> None:
    from dsl.fmt import format as format_rules

    for path in sorted((pack / "rules").glob("*.rules")):
        text = path.read_text(encoding="utf-8")
        assert format_rules(text, file=str(path)) == text, f"{path.name} is not formatted"


def test_match_edits_pairs_exact_diagnoses_before_wildcards() -> None:
    from api.packtest import ExpectedEdit, match_edits

    a = ExpectedEdit(rule="R", diagnosis="A")
    b = ExpectedEdit(rule="R", diagnosis="B")
    wildcard = ExpectedEdit(rule="R")
    assert match_edits([wildcard, b], [b, a]) == ([], [])
    assert match_edits([a], [b]) == ([a], [b])
    assert match_edits([ExpectedEdit(rule="R", lines=(1,))], [ExpectedEdit(rule="R", lines=(2,))])[
        0
    ]


@needs_engine
def test_a_pack_of_both_kinds_runs_cases_of_each_kind(tmp_path: Path) -> None:
    rules = _TINY_RULES.replace("kinds professional", "kinds professional, institutional")
    pack = _tiny_pack(tmp_path, rules=rules)
    (pack / "pack.toml").write_text(
        _TINY_TOML.replace('["professional"]', '["professional", "institutional"]')
    )
    inst = (BUNDLED_DIR / "general-institutional" / "cases" / "_base.yaml").read_text()
    inst_claim = inst.split("\nclaim:\n", 1)[1]
    base = (pack / "cases" / "_base.yaml").read_text()
    (pack / "cases" / "_base.yaml").write_text(base + "institutional:\n" + inst_claim)
    (pack / "cases" / "inst.yaml").write_text(
        "cases:\n"
        '  - name: "TINY-0001 fires on an institutional line"\n'
        "    kind: institutional\n"
        "    claim:\n"
        '      lines: [{}, {revenueCode: "0250", charge: "-1"}]\n'
        "    want: [{rule: TINY-0001, lines: [2]}]\n"
    )
    report = run_pack(pack)
    assert len(report.results) == 2
    assert report.passed, [(r.case, r.error, [str(e) for e in r.actual]) for r in report.failures]
