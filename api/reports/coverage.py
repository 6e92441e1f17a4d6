"""Rule coverage of a pack's test cases: does every rule have a case that fires it and a silent one?

Definitions (also in ``docs/ci.md``), over the cases of one pack run:

* A case **fires** rule R when the case passed and R is among the edits it produced.
* A case is **silent** for rule R when the case passed, R is not among the edits it produced, and
  the case is *about* R: its name contains R's id as a whole word (the packs' convention is
  ``"GP-0010 silent: one cent is a positive charge"``).  A case that merely happens not to trigger
  R proves nothing about R's boundary, so it does not count.
* A rule is **covered** when at least one case fires it and at least one case is silent for it.

Failing cases count for nothing: their edits are not what the author meant.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from api.packtest import CaseResult, PackReport

__all__ = ["RuleCoverage", "case_names_rule", "format_coverage_table", "rule_coverage"]


@dataclass(frozen=True, slots=True)
class RuleCoverage:
    """How one rule is covered: the names of the cases firing it and silent for it."""

    pack: str
    rule: str
    firing: tuple[str, ...]
    silent: tuple[str, ...]

    @property
    def covered(self) -> bool:
        """At least one firing case and one silent case."""
        return bool(self.firing) and bool(self.silent)

    @property
    def lacks(self) -> list[str]:
        """What is missing: ``"firing case"``, ``"silent case"`` (empty when covered)."""
        out = []
        if not self.firing:
            out.append("firing case")
        if not self.silent:
            out.append("silent case")
        return out

    def to_json(self) -> dict[str, object]:
        """JSON form."""
        return {
            "rule": self.rule,
            "firingCases": list(self.firing),
            "silentCases": list(self.silent),
            "covered": self.covered,
        }


def case_names_rule(case_name: str, rule_id: str) -> bool:
    """Whether a case's name mentions ``rule_id`` as a whole word (``GP-0001`` not ``GP-00010``)."""
    return re.search(rf"(?<![\w-]){re.escape(rule_id)}(?![\w-])", case_name) is not None


def _fires(result: CaseResult, rule_id: str) -> bool:
    return any(e.rule == rule_id for e in result.actual)


def rule_coverage(report: PackReport) -> list[RuleCoverage]:
    """The coverage of every rule of the pack, in the pack's rule order."""
    passed = [r for r in report.results if r.passed]
    out = []
    for rid in report.rule_ids:
        firing = tuple(r.case for r in passed if _fires(r, rid))
        silent = tuple(
            r.case for r in passed if not _fires(r, rid) and case_names_rule(r.case, rid)
        )
        out.append(RuleCoverage(report.pack, rid, firing, silent))
    return out


def format_coverage_table(rows: Sequence[RuleCoverage]) -> str:
    """A plain-text table: pack, rule, number of firing and silent cases, status."""
    header = ("pack", "rule", "firing", "silent", "status")
    body = [
        (
            r.pack,
            r.rule,
            str(len(r.firing)),
            str(len(r.silent)),
            "ok" if r.covered else "MISSING " + " and ".join(r.lacks),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in (header, *body)) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *body)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
