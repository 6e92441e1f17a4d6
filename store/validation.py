"""Validation hooks: what must hold before a pack version may be published.

A validator is any ``Callable[[PackContent], ValidationReport]``.  The default one compiles every
``rules/*.rules`` file with ``dsl.compile.compile_source`` when that exists, and runs the pack's
test cases when a case runner has been registered with :func:`register_case_runner`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from store.content import PackContent

__all__ = [
    "CaseRunner",
    "FileCompiler",
    "Issue",
    "ValidationReport",
    "Validator",
    "compile_file",
    "compile_sources",
    "compiler_available",
    "default_validator",
    "register_case_runner",
]

IssueSeverity = Literal["error", "warning", "note"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One diagnostic: the compiler's (same fields as ``dsl.Diagnostic``) or a failed test case."""

    code: str
    severity: IssueSeverity
    message: str
    file: str
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    hint: str | None = None

    def to_json(self) -> dict[str, object]:
        """The same JSON shape as ``dsl.Diagnostic.to_json``."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "hint": self.hint,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Issue:
        """Inverse of :meth:`to_json`."""
        severity = str(data.get("severity", "error"))
        return cls(
            code=str(data.get("code", "")),
            severity=severity if severity in ("error", "warning", "note") else "error",  # type: ignore[arg-type]
            message=str(data.get("message", "")),
            file=str(data.get("file", "")),
            line=int(data.get("line", 0)),
            column=int(data.get("column", 0)),
            end_line=int(data.get("end_line", 0)),
            end_column=int(data.get("end_column", 0)),
            hint=None if data.get("hint") is None else str(data["hint"]),
        )

    def render(self) -> str:
        """``file:line:col: severity[CODE]: message``."""
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        text = f"{where}: {self.severity}[{self.code}]: {self.message}"
        return text + (f" (hint: {self.hint})" if self.hint else "")


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Every issue found; the version may be published only if there is no error."""

    issues: tuple[Issue, ...] = ()
    checks: tuple[str, ...] = ()  # what ran, e.g. ("compile", "cases")

    @property
    def ok(self) -> bool:
        """No error (warnings do not block)."""
        return not self.errors

    @property
    def errors(self) -> tuple[Issue, ...]:
        """The issues of severity error."""
        return tuple(i for i in self.issues if i.severity == "error")

    def to_json(self) -> dict[str, object]:
        """JSON form."""
        return {
            "ok": self.ok,
            "checks": list(self.checks),
            "issues": [i.to_json() for i in self.issues],
        }

    @staticmethod
    def merge(reports: Iterable[ValidationReport]) -> ValidationReport:
        """One report with the issues and checks of all."""
        issues: list[Issue] = []
        checks: list[str] = []
        for r in reports:
            issues.extend(r.issues)
            checks.extend(c for c in r.checks if c not in checks)
        return ValidationReport(tuple(issues), tuple(checks))


Validator = Callable[[PackContent], ValidationReport]
CaseRunner = Callable[[PackContent], ValidationReport]
# (path of the edited rule file, the draft's content with the edit) → that file's diagnostics, or
# None when nothing compiled it.
FileCompiler = Callable[[str, PackContent], "list[Issue] | None"]


class _DiagnosticLike(Protocol):
    def to_json(self) -> dict[str, Any]: ...


_case_runner: CaseRunner | None = None


def register_case_runner(runner: CaseRunner | None) -> CaseRunner | None:
    """Install the runner of a pack's ``cases/*.yaml`` (``None`` removes it); return the old one."""
    global _case_runner
    old, _case_runner = _case_runner, runner
    return old


def _dsl(name: str) -> Callable[..., Any] | None:
    try:
        module = importlib.import_module("dsl.compile")
    except ImportError:
        return None
    fn = getattr(module, name, None)
    return fn if callable(fn) else None


def compiler_available() -> bool:
    """Whether ``dsl.compile.compile_source`` can be imported."""
    return _dsl("compile_source") is not None


def _issue(diag: _DiagnosticLike) -> Issue:
    return Issue.from_json(diag.to_json())


def _crash(path: str, exc: Exception) -> Issue:
    # A compiler crash refuses the publish (and is shown), rather than aborting the transaction.
    return Issue("E401", "error", f"internal compiler error: {type(exc).__name__}: {exc}", path)


def compile_sources(sources: list[tuple[str, str]]) -> list[Issue] | None:
    """Diagnostics for rule files compiled together, or ``None`` without a compiler.

    Uses ``dsl.compile.analyze`` (all files as one program: tables and rule ids across files
    resolve) when present, else ``compile_source`` file by file.
    """
    analyze = _dsl("analyze")
    if analyze is not None:
        try:
            result = analyze(sources)
        except Exception as exc:
            return [_crash(sources[0][0] if sources else "rules", exc)]
        return [_issue(d) for d in getattr(result, "diagnostics", ())]
    compile_source = _dsl("compile_source")
    if compile_source is None:
        return None
    from dsl.diagnostics import CompileError

    issues: list[Issue] = []
    for path, text in sources:
        try:
            compiled = compile_source(text, file=path)
        except CompileError as exc:
            issues.extend(_issue(d) for d in exc.diagnostics)
        except Exception as exc:
            issues.append(_crash(path, exc))
        else:
            found = getattr(compiled, "diagnostics", None) or ()
            issues.extend(_issue(d) for d in found if hasattr(d, "to_json"))
    return issues


def compile_file(path: str, content: PackContent) -> list[Issue] | None:
    """The diagnostics of one rule file, compiled with the other rule files of its pack."""
    found = compile_sources([(p, content[p]) for p in content.rule_files()])
    return None if found is None else [i for i in found if i.file == path]


def default_validator(content: PackContent) -> ValidationReport:
    """Compile every rule file (when ``dsl.compile`` exists) and run the cases (when registered)."""
    reports: list[ValidationReport] = []
    manifest_issue = _check_manifest(content)
    if manifest_issue is not None:
        reports.append(ValidationReport((manifest_issue,), ("manifest",)))
    found = compile_sources([(p, content[p]) for p in content.rule_files()])
    if found is not None:
        reports.append(ValidationReport(tuple(found), ("compile",)))
    if _case_runner is not None:
        reports.append(_case_runner(content))
    return ValidationReport.merge(reports)


def _check_manifest(content: PackContent) -> Issue | None:
    from store.errors import InvalidPackError

    try:
        content.manifest()
    except InvalidPackError as exc:
        return Issue("S001", "error", str(exc), "pack.toml")
    return None
