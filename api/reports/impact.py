"""Impact of a pack change on a claim corpus: edits added, removed and changed, per rule/category.

Two runs over the same corpus (OLD and NEW pack versions) are compared edit by edit.  An edit is
identified by its claim (file and position in the file), rule id, service lines and diagnosis; pack
version is not part of the identity (it differs by construction).  For each identity, edits equal
in message, severity, field, value and category are *unchanged*; remaining pairs are *changed*;
what is left over on the NEW side is *added*, on the OLD side *removed*.  Example claims are given
by control number only, never by patient data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from api.reports.corpus import CorpusEdit, CorpusRun

__all__ = ["MAX_EXAMPLES", "Counts", "ImpactReport", "compare_runs", "format_impact_table"]

MAX_EXAMPLES = 5

_Key = tuple[str, int, str, tuple[int, ...], str]


@dataclass(slots=True)
class Counts:
    """Edit counts of one rule or category."""

    before: int = 0
    after: int = 0
    added: int = 0
    removed: int = 0
    changed: int = 0
    examples: dict[str, list[str]] = field(
        default_factory=lambda: {"added": [], "removed": [], "changed": []}
    )

    def note(self, kind: str, control_number: str) -> None:
        """Count one added/removed/changed edit and keep its claim as an example."""
        setattr(self, kind, getattr(self, kind) + 1)
        shown = self.examples[kind]
        if control_number not in shown and len(shown) < MAX_EXAMPLES:
            shown.append(control_number)

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "before": self.before,
            "after": self.after,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "examples": {k: list(v) for k, v in self.examples.items()},
        }


@dataclass(slots=True)
class ImpactReport:
    """The comparison of an OLD and a NEW run over one corpus."""

    old: str
    new: str
    claims: int
    rules: dict[str, Counts] = field(default_factory=dict)
    categories: dict[str, Counts] = field(default_factory=dict)
    rule_categories: dict[str, str] = field(default_factory=dict)
    total: Counts = field(default_factory=Counts)

    @property
    def added(self) -> int:
        """Edits added in total."""
        return self.total.added

    @property
    def removed(self) -> int:
        """Edits removed in total."""
        return self.total.removed

    @property
    def changed(self) -> int:
        """Edits changed in total."""
        return self.total.changed

    def to_json(self) -> dict[str, Any]:
        """JSON form (rules and categories sorted by name)."""
        return {
            "old": self.old,
            "new": self.new,
            "claims": self.claims,
            "total": self.total.to_json(),
            "rules": [
                {"rule": r, "category": self.rule_categories.get(r, ""), **c.to_json()}
                for r, c in sorted(self.rules.items())
            ],
            "categories": [
                {"category": k, **c.to_json()} for k, c in sorted(self.categories.items())
            ],
        }


def _key(item: CorpusEdit) -> _Key:
    e = item.edit
    return (item.file, item.index, e.rule_id, e.lines, e.diagnosis)


def _payload(item: CorpusEdit) -> tuple[str, str, str, str, str]:
    e = item.edit
    return (e.message, e.severity, e.field, e.value, e.category)


def _group(edits: Sequence[CorpusEdit]) -> dict[_Key, list[CorpusEdit]]:
    out: dict[_Key, list[CorpusEdit]] = defaultdict(list)
    for item in edits:
        out[_key(item)].append(item)
    return out


def compare_runs(old_ref: str, old: CorpusRun, new_ref: str, new: CorpusRun) -> ImpactReport:
    """Compare two runs over the same corpus."""
    report = ImpactReport(old_ref, new_ref, max(old.claims, new.claims))
    rules: dict[str, Counts] = defaultdict(Counts)
    cats: dict[str, Counts] = defaultdict(Counts)

    def note(kind: str, item: CorpusEdit) -> None:
        e = item.edit
        for counts in (rules[e.rule_id], cats[e.category], report.total):
            counts.note(kind, item.control_number)

    for item in old.edits:
        rules[item.edit.rule_id].before += 1
        cats[item.edit.category].before += 1
        report.total.before += 1
        report.rule_categories.setdefault(item.edit.rule_id, item.edit.category)
    for item in new.edits:
        rules[item.edit.rule_id].after += 1
        cats[item.edit.category].after += 1
        report.total.after += 1
        report.rule_categories[item.edit.rule_id] = item.edit.category
    old_groups, new_groups = _group(old.edits), _group(new.edits)
    for key in sorted(set(old_groups) | set(new_groups)):
        left = list(old_groups.get(key, ()))
        right: list[CorpusEdit] = []
        for item in new_groups.get(key, ()):
            same = next((i for i, o in enumerate(left) if _payload(o) == _payload(item)), None)
            if same is None:
                right.append(item)
            else:
                left.pop(same)
        for _old_item, new_item in zip(left, right, strict=False):
            note("changed", new_item)
        for item in right[len(left) :]:
            note("added", item)
        for item in left[len(right) :]:
            note("removed", item)
    report.rules = dict(rules)
    report.categories = dict(cats)
    return report


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)
    return out


def _examples(c: Counts) -> str:
    parts = [f"{k}: {' '.join(v)}" for k, v in c.examples.items() if v]
    return "; ".join(parts)


def format_impact_table(report: ImpactReport) -> str:
    """Plain-text tables: totals, per category, per rule (only rows that moved for rules)."""
    cols = ("before", "after", "added", "removed", "changed")

    def nums(c: Counts) -> list[str]:
        return [str(getattr(c, k)) for k in cols]

    lines = [
        f"impact of {report.new} over {report.old} on {report.claims} claim(s): "
        f"{report.added} added, {report.removed} removed, {report.changed} changed "
        f"({report.total.before} -> {report.total.after} edits)",
        "",
        "by category",
    ]
    lines += _table(
        ("category", *cols),
        [[k, *nums(c)] for k, c in sorted(report.categories.items())],
    )
    moved = {r: c for r, c in report.rules.items() if c.added or c.removed or c.changed}
    lines += ["", "by rule" + ("" if moved else " (no rule moved)")]
    if moved:
        lines += _table(
            ("rule", "category", *cols, "example claims"),
            [
                [r, report.rule_categories.get(r, ""), *nums(c), _examples(c)]
                for r, c in sorted(moved.items())
            ],
        )
    return "\n".join(lines)
