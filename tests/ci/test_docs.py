"""The CI recipes in docs/ci.md and the pre-commit hooks are valid YAML naming real commands."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_pre_commit_hooks() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    ids = {h["id"]: h for h in hooks}
    assert {"claimscrub-check", "claimscrub-fmt"} <= set(ids)
    assert ids["claimscrub-fmt"]["entry"] == "claimscrub fmt --check"
    assert all(h["language"] == "python" and h["files"] == r"\.rules$" for h in hooks)


def test_ci_doc_workflow_parses() -> None:
    text = (REPO / "docs" / "ci.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    workflow = yaml.safe_load(blocks[0])
    steps = workflow["jobs"]["packs"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    for command in ("claimscrub check", "claimscrub fmt --check", "--require-coverage", "impact"):
        assert command in runs
