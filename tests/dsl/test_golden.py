"""Golden tests: tests/dsl/golden/*.rules compiled and dumped must equal *.ir.txt."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl.compile import compile_source
from dsl.dump import dump_ir

GOLDEN = Path(__file__).parent / "golden"
SOURCES = sorted(GOLDEN.glob("*.rules"))


@pytest.mark.parametrize("path", SOURCES, ids=[p.stem for p in SOURCES])
def test_golden_ir(path: Path, update_goldens: bool) -> None:
    rules = compile_source(path.read_text(), file=path.name)
    got = dump_ir(rules)
    expected_path = path.with_suffix(".ir.txt")
    if update_goldens or not expected_path.exists():
        expected_path.write_text(got)
        if not update_goldens:
            pytest.fail(f"wrote missing golden {expected_path.name}; re-run")
        return
    assert got == expected_path.read_text()
