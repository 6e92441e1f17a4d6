"""Spans, diagnostics, the table of every diagnostic code, and rendering (text and JSON)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

__all__ = [
    "CODES",
    "CompileError",
    "Diagnostic",
    "Diagnostics",
    "DslError",
    "Severity",
    "Span",
    "render",
    "render_all",
    "to_json",
]


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A source range: 1-based line and column (in characters); ``end_column`` is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def join(self, other: Span) -> Span:
        """The smallest span covering ``self`` and ``other`` (same file)."""
        start = min((self.line, self.column), (other.line, other.column))
        end = max((self.end_line, self.end_column), (other.end_line, other.end_column))
        return Span(self.file, start[0], start[1], end[0], end[1])


class Severity(StrEnum):
    """Severity of a compiler diagnostic."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


CODES: Final[Mapping[str, str]] = {
    # E1xx: syntax (parse, build)
    "E101": "unexpected token",
    "E102": "unexpected end of input",
    "E103": "`=` used instead of `==`",
    "E104": "`&&`, `||` or `!` used instead of `and`, `or`, `not`",
    "E105": "unterminated string",
    "E106": "unexpected character",
    "E107": "invalid literal",
    "E108": "missing required clause",
    "E109": "clause given more than once",
    "E110": "unknown clause",
    # E2xx: names (resolve)
    "E201": "unknown field",
    "E202": "unknown table",
    "E203": "unknown built-in function",
    "E204": "duplicate rule id",
    "E205": "invalid category",
    "E206": "invalid severity",
    "E207": "invalid scope",
    "E208": "field not available in this scope",
    "E209": "unknown rule in relation",
    "E210": "duplicate table name",
    "E211": "invalid table declaration",
    "E212": "invalid pack header",
    "E213": "unknown table column",
    # E3xx: types and consistency (check)
    "E301": "type mismatch",
    "E302": "comparing a date with a code",
    "E303": "set of mixed types",
    "E304": "aggregate over a scalar",
    "E305": "wrong number of arguments",
    "E306": "effective range ends before it starts",
    "E307": "table key does not match the table",
    "E308": "condition is not boolean",
    # E4xx: internal
    "E401": "internal compiler error",
    # W5xx: lints
    "W501": "rule can never fire",
    "W502": "rule shadowed by an identical rule",
    "W503": "unused table",
    "W504": "overlapping decision rows",
    "W505": "decision table has gaps",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding of the compiler.  ``code`` is a key of :data:`CODES`."""

    code: str
    severity: Severity
    message: str
    span: Span
    hint: str | None = None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The JSON (data) form, as returned by the API."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "hint": self.hint,
        }


@dataclass(slots=True)
class Diagnostics:
    """The sink stages append to.  Stages keep going after an error."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(
        self,
        code: str,
        message: str,
        span: Span,
        hint: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        """Record an error."""
        self._add(Diagnostic(code, Severity.ERROR, message, span, hint, notes))

    def warning(
        self,
        code: str,
        message: str,
        span: Span,
        hint: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        """Record a warning (a lint)."""
        self._add(Diagnostic(code, Severity.WARNING, message, span, hint, notes))

    def _add(self, diag: Diagnostic) -> None:
        assert diag.code in CODES, diag.code
        self.items.append(diag)

    @property
    def has_errors(self) -> bool:
        """Whether any error was recorded."""
        return any(d.severity is Severity.ERROR for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        """Diagnostics in source order (stable for equal positions)."""
        return sorted(self.items, key=lambda d: (d.span.file, d.span.line, d.span.column))

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class DslError(Exception):
    """Base of the exceptions ``dsl`` raises."""


class CompileError(DslError):
    """Compilation failed; ``diagnostics`` holds every diagnostic found (errors and warnings)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        first = errors[0] if errors else None
        summary = f"{len(errors)} error(s)"
        if first is not None:
            s = first.span
            summary += f"; first: {s.file}:{s.line}:{s.column}: {first.code} {first.message}"
        super().__init__(summary)


def render(diag: Diagnostic, source: str | None) -> str:
    """The text form: ``file:line:col: severity[CODE]: message`` plus a caret block."""
    s = diag.span
    out = [f"{s.file}:{s.line}:{s.column}: {diag.severity}[{diag.code}]: {diag.message}"]
    lines = source.splitlines() if source is not None else []
    if 1 <= s.line <= len(lines):
        text = lines[s.line - 1]
        width = len(str(s.line))
        pad = " " * width
        end = s.end_column if s.end_line == s.line else len(text) + 1
        length = max(1, end - s.column)
        caret = " " * (s.column - 1) + "^" + "~" * (length - 1)
        out.append(f"{pad} |")
        out.append(f"{s.line} | {text}")
        out.append(f"{pad} | {caret}" + (f" {diag.hint}" if diag.hint else ""))
        out.extend(f"{pad} = {note}" for note in diag.notes)
        out.append(f"{pad} = docs: docs/errors/{diag.code}.md")
    else:
        if diag.hint:
            out.append(f"  = {diag.hint}")
        out.extend(f"  = {note}" for note in diag.notes)
    return "\n".join(out)


def render_all(diags: list[Diagnostic], sources: Mapping[str, str]) -> str:
    """Render several diagnostics, looking up each one's source by file name."""
    return "\n".join(render(d, sources.get(d.span.file)) for d in diags)


def to_json(diags: list[Diagnostic]) -> list[dict[str, object]]:
    """The JSON form of several diagnostics."""
    return [d.to_json() for d in diags]
