"""The ambulance, dialysis and prior-authorization packs: compile, pass, tested, documented."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal

import pytest

from api.packtest import compile_checked, load_cases, run_pack
from engine.refdata import expand_code_ranges
from knowledge_packs import BUNDLED_DIR

NEW_PACKS = ("ambulance", "dialysis", "prior-authorization")
EXPECTED_RULES = {
    "ambulance": {f"AMB-{i:04d}" for i in range(1, 8)},
    "dialysis": {f"DIA-{i:04d}" for i in range(1, 8)},
    "prior-authorization": {"PA-0001"},
}
DOC_SECTIONS = (
    "## Summary",
    "## Fires when",
    "## Example that fires",
    "## Example that passes",
    "## Rationale",
    "## References",
)


def _dir(name: str) -> Path:
    return BUNDLED_DIR / name


@pytest.mark.parametrize("name", NEW_PACKS)
def test_compiles_without_warnings(name: str) -> None:
    manifest, rules, warnings = compile_checked(_dir(name))
    assert manifest.name == name
    assert {r.id for r in rules.rules} == EXPECTED_RULES[name]
    assert not warnings, [f"{w.span.line}: {w.code} {w.message}" for w in warnings]


@pytest.mark.parametrize("evaluator", ["numba", "reference"])
@pytest.mark.parametrize("name", NEW_PACKS)
def test_cases_pass(name: str, evaluator: Literal["numba", "reference"]) -> None:
    report = run_pack(_dir(name), evaluator=evaluator)
    failures = [
        f"{r.case}: expected {[str(e) for e in r.expected]}, got {[str(e) for e in r.actual]}"
        f" {r.error}"
        for r in report.failures
    ]
    assert not failures, "\n".join(failures)
    assert not report.never_fired


@pytest.mark.parametrize("name", NEW_PACKS)
def test_every_rule_fires_and_stays_silent_and_is_documented(name: str) -> None:
    pack = _dir(name)
    _m, rules, _w = compile_checked(pack)
    _base, cases = load_cases(pack)
    for rule in rules.rules:
        firing = [c for _f, c in cases if any(w.rule == rule.id for w in c.want)]
        silent = [
            c
            for _f, c in cases
            if c.name.startswith(rule.id) and all(w.rule != rule.id for w in c.want)
        ]
        assert firing, f"{rule.id}: no firing case"
        assert silent, f"{rule.id}: no silent case"
        page = pack / "docs" / f"{rule.id}.md"
        assert page.is_file(), f"{name}: missing docs/{rule.id}.md"
        text = page.read_text(encoding="utf-8")
        assert text.startswith(f"# {rule.id}: {rule.title}")
        for section in DOC_SECTIONS:
            assert section in text, f"docs/{rule.id}.md lacks {section}"


def test_prior_authorization_has_cases_of_both_kinds() -> None:
    _base, cases = load_cases(_dir("prior-authorization"))
    kinds = {c.kind or "professional" for _f, c in cases if c.want}
    assert kinds == {"professional", "institutional"}


def test_prior_auth_codes_are_the_expanded_ranges() -> None:
    tables = _dir("prior-authorization") / "tables"
    with (tables / "prior_auth_ranges.csv").open(newline="", encoding="utf-8") as fh:
        expected = expand_code_ranges(csv.DictReader(fh))
    with (tables / "prior_auth_codes.csv").open(newline="", encoding="utf-8") as fh:
        actual = list(csv.DictReader(fh))
    assert actual == expected, "regenerate with engine.refdata.write_expanded_code_ranges"


def test_origin_destination_table_is_every_pair() -> None:
    letters = "DEGHIJNPRSX"
    path = _dir("ambulance") / "tables" / "origin_destination_modifiers.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["modifier"] for r in rows} == {a + b for a in letters for b in letters}
    assert all(r["modifier"] == r["origin"] + r["destination"] for r in rows)


def test_ambulance_codes_table_covers_a0425_to_a0436() -> None:
    path = _dir("ambulance") / "tables" / "ambulance_codes.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = {r["hcpcs"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {f"A{n:04d}" for n in range(425, 437)}
    assert {c for c, r in rows.items() if r["service"] == "mileage"} == {"A0425", "A0435", "A0436"}


def test_dialysis_value_code_rules_are_in_the_pack() -> None:
    """The value code edits (formerly pending/) compile into the pack; pending/ is gone."""
    pack = _dir("dialysis")
    assert not (pack / "pending").exists()
    _m, rules, _w = compile_checked(pack)
    assert {"DIA-0005", "DIA-0006", "DIA-0007"} <= {r.id for r in rules.rules}
