"""``claimscrub test``: run knowledge packs' test cases, for CI.

Exit codes: 0 every case of every pack passed; 1 a case failed or no case ran at all; 2 a pack could
not be tested (bad ``pack.toml`` or case file, or rules that do not compile; the compiler's
diagnostics are printed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from api.packtest import CaseResult, PackReport, PackTestError, discover_packs, run_pack
from dsl.diagnostics import render_all
from knowledge_packs import BUNDLED_DIR

__all__ = ["test_command"]


def _edits(edits: tuple[object, ...]) -> str:
    return ", ".join(str(e) for e in edits) or "(none)"


def _echo_failure(result: CaseResult) -> None:
    click.echo(f"FAIL {result.pack}: {result.case} ({result.file})")
    if result.error:
        click.echo(f"  error:    {result.error}")
    click.echo(f"  expected: {_edits(result.expected)}")
    click.echo(f"  actual:   {_edits(result.actual)}")
    if result.missing:
        click.echo(f"  missing:  {_edits(tuple(result.missing))}")
    if result.unexpected:
        click.echo(f"  extra:    {_edits(tuple(result.unexpected))}")


def _echo_error(pack_dir: Path, exc: PackTestError) -> None:
    click.echo(f"ERROR {pack_dir}: {exc}", err=True)
    if exc.diagnostics:
        sources: dict[str, str] = {}
        for d in exc.diagnostics:
            path = Path(d.span.file)
            if d.span.file not in sources and path.is_file():
                sources[d.span.file] = path.read_text(encoding="utf-8")
        click.echo(render_all(list(exc.diagnostics), sources), err=True)


@click.command("test")
@click.argument("packs", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--verbose", "-v", is_flag=True, help="Also list the cases that passed.")
@click.option(
    "--evaluator",
    type=click.Choice(["numba", "reference"]),
    default="numba",
    show_default=True,
    help="Which evaluator scrubs the cases.",
)
def test_command(
    packs: tuple[Path, ...], verbose: bool, evaluator: Literal["numba", "reference"]
) -> None:
    """Run the test cases (cases/*.yaml) of the knowledge packs in PACKS.

    With no PACKS, runs every bundled pack.  Exit codes: 0 all cases passed, 1 a case failed or no
    case ran, 2 a pack could not be tested (bad pack.toml or case file, rules that do not compile).
    """
    dirs = list(packs) or discover_packs(BUNDLED_DIR)
    reports: list[PackReport] = []
    broken = 0
    for pack_dir in dirs:
        try:
            report = run_pack(pack_dir, evaluator=evaluator)
        except PackTestError as exc:
            _echo_error(pack_dir, exc)
            broken += 1
            continue
        reports.append(report)
        for result in report.results:
            if not result.passed:
                _echo_failure(result)
            elif verbose:
                click.echo(f"ok   {result.pack}: {result.case}")
        click.echo(
            f"{report.pack} {report.version}: {len(report.results) - len(report.failures)}"
            f"/{len(report.results)} cases passed; {len(report.fired)}/{len(report.rule_ids)}"
            " rules fired in some case"
            + (f" (never: {', '.join(report.never_fired)})" if report.never_fired else "")
        )
    total = sum(len(r.results) for r in reports)
    failed = sum(len(r.failures) for r in reports)
    click.echo(
        f"{total - failed} passed, {failed} failed, {total} cases in {len(reports)} pack(s)"
        + (f"; {broken} pack(s) could not be tested" if broken else "")
    )
    if broken:
        raise SystemExit(2)
    if failed or total == 0:
        raise SystemExit(1)
