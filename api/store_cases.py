"""The store's publish gate runs a pack's cases with the runner of ``claimscrub test``.

Why here and not in ``store/``: the runner needs the engine and the JSON boundary, and the store
must not import them (it only knows SQLAlchemy).  The store exposes a hook; the CLI and the Flask
app install this runner into it at start-up with :func:`install`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from api.packtest import PackTestError, run_pack
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
    return ValidationReport(issues, ("cases",))


def install() -> None:
    """Make the store's default validator run pack cases on publish."""
    register_case_runner(run_cases)
