"""Every ```rules block in docs/dsl.md compiles (blocks are compiled together, as one pack)."""

from __future__ import annotations

import re
from pathlib import Path

from dsl.compile import analyze
from dsl.diagnostics import Severity, render_all
from dsl.fmt import format

DOC = Path(__file__).parents[2] / "docs" / "dsl.md"
BLOCKS = re.findall(r"```rules\n(.*?)```", DOC.read_text(), flags=re.S)


def test_doc_has_examples() -> None:
    assert len(BLOCKS) >= 8


def test_every_example_compiles_without_errors() -> None:
    sources = [(f"dsl.md#{i}", text) for i, text in enumerate(BLOCKS)]
    result = analyze(sources)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert not errors, render_all(errors, result.sources)


def test_every_example_is_in_canonical_format() -> None:
    for text in BLOCKS:
        assert format(text) == text
