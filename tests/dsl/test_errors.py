"""Error files: cases separated by `---`, expectations `#! CODE text` on the offending line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsl.compile import analyze
from dsl.diagnostics import CODES, render

ERRORS = Path(__file__).parent / "errors"
EXPECT = re.compile(r"#!\s*([EW]\d{3})\s*(.*)$")


def _cases() -> list[tuple[str, int, str]]:
    cases = []
    for path in sorted(ERRORS.glob("*.rules")):
        lines = path.read_text().split("\n")
        start = 0
        for i, line in enumerate([*lines, "---"]):
            if line.strip() == "---":
                chunk = "\n" * start + "\n".join(lines[start:i])
                cases.append((path.name, start + 1, chunk))
                start = i + 1
    return cases


CASES = _cases()


@pytest.mark.parametrize(
    ("name", "first_line", "text"), CASES, ids=[f"{n}:{line}" for n, line, _ in CASES]
)
def test_error_case(name: str, first_line: int, text: str) -> None:
    expected = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        m = EXPECT.search(line)
        if m:
            expected.append((lineno, m.group(1), m.group(2).strip()))
    result = analyze([(name, text)])
    got = [(d.span.line, d.code, d.message) for d in result.diagnostics]
    shown = "\n".join(render(d, text) for d in result.diagnostics)
    assert sorted((ln, c) for ln, c, _ in got) == sorted((ln, c) for ln, c, _ in expected), shown
    for ln, code, fragment in expected:
        messages = [msg for gl, gc, msg in got if gl == ln and gc == code]
        assert any(fragment in msg for msg in messages), (fragment, messages, shown)


def test_every_code_is_triggered_by_an_error_file() -> None:
    text = "\n".join(p.read_text() for p in ERRORS.glob("*.rules"))
    triggered = set(re.findall(r"#!\s*([EW]\d{3})", text))
    assert set(CODES) - {"E401"} <= triggered  # E401 = compiler bug; see test_internal_error


def test_every_code_has_a_page() -> None:
    pages = {p.stem for p in (Path(__file__).parents[2] / "docs" / "errors").glob("*.md")}
    assert pages == set(CODES)


def test_internal_error_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    from dsl import lower

    def boom(self: object, meta: object) -> object:
        raise lower._InternalError("boom")

    monkeypatch.setattr(lower._Lowerer, "rule", boom)
    src = (
        'rule X "t" {\n category custom\n severity error\n scope claim\n'
        ' when true\n message "m"\n}\n'
    )
    result = analyze([("x.rules", src)])
    assert [d.code for d in result.diagnostics] == ["E401"]
