"""``claimscrub test``: run knowledge packs' test cases, for CI.

PACKS are pack directories or store versions (``PACK@VERSION``, from ``--database URL`` or
``$CLAIMSCRUB_DATABASE_URL``).  ``--junit PATH`` writes JUnit XML, ``--json PATH`` a JSON report; a
rule coverage table (see ``api.reports.coverage`` for "firing" and "silent" cases) is printed, and
``--require-coverage`` (or ``require_coverage = true`` in a pack's ``pack.toml``) fails the run when
a rule lacks either.

Exit codes: 0 every case of every pack passed (and coverage held where required); 1 a case failed,
no case ran at all, or required coverage is missing; 2 a usage error or a pack that could not be
tested (bad ``pack.toml`` or case file, rules that do not compile, unknown store version).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

import click

from api.packrefs import PackRef, PackRefError, PackRefs
from api.packtest import CaseResult, PackReport, PackTestError, discover_packs, run_pack
from api.reports.coverage import RuleCoverage, format_coverage_table, rule_coverage
from api.reports.junit import BrokenPack, JUnitPack, case_failure_text, junit_xml
from dsl import CompileError
from dsl.diagnostics import render_all
from knowledge_packs import BUNDLED_DIR

__all__ = ["test_command"]


def _echo_failure(result: CaseResult) -> None:
    click.echo(f"FAIL {result.pack}: {result.case} ({result.file})")
    for line in case_failure_text(result).splitlines():
        click.echo(f"  {line}")


def _error_text(pack_dir: Path, exc: PackTestError | CompileError) -> str:
    text = f"{pack_dir}: {exc}"
    if exc.diagnostics:
        sources: dict[str, str] = {}
        for d in exc.diagnostics:
            path = Path(d.span.file)
            if d.span.file not in sources and path.is_file():
                sources[d.span.file] = path.read_text(encoding="utf-8")
        text += "\n" + render_all(list(exc.diagnostics), sources)
    return text


def _requires_coverage(report: PackReport) -> bool:
    from api.packtest import load_manifest

    try:
        return load_manifest(report.directory).require_coverage
    except PackTestError:
        return False


def _case_json(r: CaseResult) -> dict[str, Any]:
    return {
        "name": r.case,
        "file": r.file,
        "passed": r.passed,
        "expected": [str(e) for e in r.expected],
        "actual": [str(e) for e in r.actual],
        "missing": [str(e) for e in r.missing],
        "unexpected": [str(e) for e in r.unexpected],
        "error": r.error,
    }


def _pack_json(
    ref: str, report: PackReport, coverage: list[RuleCoverage], required: bool
) -> dict[str, Any]:
    return {
        "ref": ref,
        "pack": report.pack,
        "version": report.version,
        "passed": report.passed,
        "cases": [_case_json(r) for r in report.results],
        "coverageRequired": required,
        "coverage": [c.to_json() for c in coverage],
        "uncovered": [c.rule for c in coverage if not c.covered],
    }


@click.command("test")
@click.argument("packs", nargs=-1, metavar="[PACK_DIR | PACK@VERSION]...")
@click.option("--verbose", "-v", is_flag=True, help="Also list the cases that passed.")
@click.option(
    "--evaluator",
    type=click.Choice(["numba", "reference"]),
    default="numba",
    show_default=True,
    help="Which evaluator scrubs the cases.",
)
@click.option(
    "--database",
    metavar="URL",
    envvar="CLAIMSCRUB_DATABASE_URL",
    help="Store holding PACK@VERSION arguments (default: $CLAIMSCRUB_DATABASE_URL, else SQLite).",
)
@click.option(
    "--junit",
    "junit_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a JUnit XML report here.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a JSON report here.",
)
@click.option(
    "--require-coverage",
    is_flag=True,
    help="Fail when a rule has no case that fires it or no silent case naming it.",
)
@click.option("--no-coverage-table", is_flag=True, help="Do not print the rule coverage table.")
def test_command(
    packs: tuple[str, ...],
    verbose: bool,
    evaluator: Literal["numba", "reference"],
    database: str | None,
    junit_path: Path | None,
    json_path: Path | None,
    require_coverage: bool,
    no_coverage_table: bool,
) -> None:
    """Run the test cases (cases/*.yaml) of the knowledge packs in PACKS.

    PACKS are pack directories or store versions PACK@VERSION; with none, runs every bundled pack.
    Exit codes: 0 all cases passed, 1 a case failed, no case ran or required coverage is missing,
    2 a pack could not be tested (bad argument, pack.toml or case file, rules that do not compile).
    """
    args = list(packs) or [str(p) for p in discover_packs(BUNDLED_DIR)]
    runs: list[tuple[str, PackReport, list[RuleCoverage], bool, float]] = []
    broken: list[BrokenPack] = []
    with PackRefs(database) as refs:
        for arg in args:
            start = time.perf_counter()
            try:
                ref: PackRef = refs.resolve(arg)
                report = run_pack(ref.directory, evaluator=evaluator)
            except PackRefError as exc:
                broken.append(BrokenPack(arg, str(exc)))
                click.echo(f"ERROR {exc}", err=True)
                continue
            except (PackTestError, CompileError) as exc:
                text = _error_text(Path(arg), exc)
                broken.append(BrokenPack(arg, text))
                click.echo(f"ERROR {text}", err=True)
                continue
            elapsed = time.perf_counter() - start
            required = require_coverage or _requires_coverage(report)
            runs.append((arg, report, rule_coverage(report), required, elapsed))
            for result in report.results:
                if not result.passed:
                    _echo_failure(result)
                elif verbose:
                    click.echo(f"ok   {result.pack}: {result.case}")
            click.echo(
                f"{report.pack} {report.version}: {len(report.results) - len(report.failures)}"
                f"/{len(report.results)} cases passed; {len(report.fired)}/{len(report.rule_ids)}"
                " rules fired in some case"
            )
    all_coverage = [c for run in runs for c in run[2]]
    if all_coverage and not no_coverage_table:
        click.echo("")
        click.echo(format_coverage_table(all_coverage))
        click.echo("")
    uncovered = [c for run in runs if run[3] for c in run[2] if not c.covered]
    total = sum(len(run[1].results) for run in runs)
    failed = sum(len(run[1].failures) for run in runs)
    click.echo(
        f"{total - failed} passed, {failed} failed, {total} cases in {len(runs)} pack(s)"
        + (f"; {len(broken)} pack(s) could not be tested" if broken else "")
        + (f"; {len(uncovered)} rule(s) lack required coverage" if uncovered else "")
    )
    for c in uncovered:
        click.echo(f"UNCOVERED {c.pack}: {c.rule} has no {' and no '.join(c.lacks)}")
    if broken:
        exit_code = 2
    elif failed or total == 0 or uncovered:
        exit_code = 1
    else:
        exit_code = 0
    if junit_path is not None:
        junit_packs = [
            JUnitPack(report, coverage if required else None, elapsed, {"ref": arg})
            for arg, report, coverage, required, elapsed in runs
        ]
        junit_path.write_bytes(junit_xml(junit_packs, broken))
    if json_path is not None:
        doc = {
            "packs": [_pack_json(arg, rep, cov, req) for arg, rep, cov, req, _ in runs],
            "errors": [{"ref": b.ref, "message": b.message} for b in broken],
            "summary": {
                "cases": total,
                "passed": total - failed,
                "failed": failed,
                "broken": len(broken),
                "uncovered": [f"{c.pack}:{c.rule}" for c in uncovered],
            },
            "exitCode": exit_code,
        }
        json_path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if exit_code:
        raise SystemExit(exit_code)
