"""The store's publish gate runs a pack's cases with the runner of ``claimscrub test``.

When the pack's ``pack.toml`` sets ``require_coverage = true``, publish is also refused while a rule
lacks a firing or a silent case (``api.reports.coverage``), as ``claimscrub test`` would fail.

Why here and not in ``store/``: the runner needs the engine and the JSON boundary, and the store
must not import them (it only knows SQLAlchemy).  The store exposes a hook; the CLI and the Flask
app install this runner into it at start-up with :func:`install`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from api.packtest import PackTestError, load_manifest, run_pack
from api.reports.coverage import rule_coverage
from dsl import CompileError
from store.content import PackContent, write_pack_dir
from store.validation import Issue, ValidationReport, register_case_runner

__all__ = ["install", "run_cases"]


def run_cases(content: PackContent) -> ValidationReport:
    """Run every case of a pack version; each failing case is an error issue naming the case."""
    if not any(path.startswith("cases/") for path in content):
        return ValidationReport((), ("cases",))
    with tempfile.TemporaryDirectory(prefix="claimscrub-cases-") as tmp:
        root = Path(tmp) / "pack"
        write_pack_dir(content, root)
        try:
            report = run_pack(root)
            required = load_manifest(root).require_coverage
        except CompileError:
            return ValidationReport((), ("cases",))  # the compile check reports these itself
        except PackTestError as exc:
            issue = Issue(code="CASES", severity="error", message=str(exc), file="cases/")
            return ValidationReport((issue,), ("cases",))
    issues = tuple(
        Issue(
            code="CASE-FAILED",
            severity="error",
            message=(
                f"case {r.case!r} failed: expected {[str(e) for e in r.expected]}, "
                f"got {[str(e) for e in r.actual]}" + (f" ({r.error})" if r.error else "")
            ),
            file=r.file,
        )
        for r in report.failures
    )
    if not report.results:
        issues += (Issue(code="CASES", severity="error", message="no case ran", file="cases/"),)
    if not required:
        return ValidationReport(issues, ("cases",))
    issues += tuple(
        Issue(
            code="COVERAGE",
            severity="error",
            message=(
                f"rule {c.rule} has no {' and no '.join(c.lacks)} (pack.toml: require_coverage)"
            ),
            file="cases/",
        )
        for c in rule_coverage(report)
        if not c.covered
    )
    return ValidationReport(issues, ("cases", "coverage"))


def install() -> None:
    """Make the store's default validator run pack cases on publish."""
    register_case_runner(run_cases)
