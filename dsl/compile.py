"""The pipeline as one visible table, and the facades ``compile_source`` / ``compile_pack``."""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsl import ast, build, check, lower, resolve, syntax
from dsl.diagnostics import CompileError, Diagnostic, Diagnostics, Severity, Span
from dsl.ir import CompiledRules
from dsl.schema import DEFAULT_SCHEMA, ClaimSchema

__all__ = [
    "STAGES",
    "CompileOptions",
    "Result",
    "Stage",
    "analyze",
    "compile_pack",
    "compile_source",
    "pack_sources",
]

Source = tuple[str, str]  # (file name, text)


@dataclass(frozen=True, slots=True)
class CompileOptions:
    """Knobs of a compilation."""

    schema: ClaimSchema = DEFAULT_SCHEMA
    warnings_as_errors: bool = False
    stop_after: str | None = None  # a Stage.name: return after that stage (for dumps)


@dataclass(frozen=True, slots=True)
class Stage:
    """One pass: ``run(previous output, diagnostics, options) -> output``."""

    name: str
    run: Callable[[Any, Diagnostics, CompileOptions], Any]
    needs_clean: bool = False  # only runs when no error has been reported so far


def _parse(
    sources: Sequence[Source], diags: Diagnostics, _: CompileOptions
) -> list[syntax.ParseResult]:
    return [syntax.run(text, file, diags) for file, text in sources]


def _build(parsed: list[syntax.ParseResult], diags: Diagnostics, _: CompileOptions) -> ast.File:
    files = [build.run(p, diags) for p in parsed]
    if len(files) == 1:
        return files[0]
    items = tuple(it for f in files for it in f.items)
    comments = tuple(c for f in files for c in f.comments)
    span = files[0].span if files else Span("<empty>", 1, 1, 1, 1)
    return ast.File(span, items, comments)


def _resolve(file: ast.File, diags: Diagnostics, opts: CompileOptions) -> resolve.Resolution:
    return resolve.run(file, diags, opts.schema)


def _check(res: resolve.Resolution, diags: Diagnostics, _: CompileOptions) -> check.Checked:
    return check.run(res, diags)


def _lower(checked: check.Checked, diags: Diagnostics, _: CompileOptions) -> CompiledRules | None:
    return lower.run(checked, diags)


STAGES: tuple[Stage, ...] = (
    Stage("parse", _parse),  # text → Lark trees (E101-E106)
    Stage("build", _build),  # trees → AST, clause structure (E107-E110)
    Stage("resolve", _resolve),  # names → fields, tables, built-ins, rules (E2xx)
    Stage("check", _check),  # types, arity, ranges (E3xx); lints (W5xx)
    Stage("lower", _lower, needs_clean=True),  # AST → IR (E401 if the compiler is wrong)
)


@dataclass(slots=True)
class Result:
    """What a compilation produced: the IR (None on error), diagnostics, stage outputs."""

    rules: CompiledRules | None
    diagnostics: list[Diagnostic]
    sources: dict[str, str]
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No error diagnostics."""
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


def analyze(sources: Sequence[Source], options: CompileOptions | None = None) -> Result:
    """Run the stages over ``sources``; never raises on bad input."""
    return _analyze(sources, options, keep_outputs=True)


def _analyze(
    sources: Sequence[Source], options: CompileOptions | None, *, keep_outputs: bool
) -> Result:
    """``analyze``; with ``keep_outputs=False`` only the IR is kept (``Result.outputs`` is empty).

    The stages allocate hundreds of thousands of small, long-lived objects (AST, resolution,
    checked tree), which makes the cyclic GC rescan everything again and again: measured
    5.6 s -> 2.7 s for the 5,000-rule benchmark pack with the collector paused.  Re-enabling it
    with all of them alive costs one more scan of every object allocated meanwhile (~0.2 s on
    that pack), so without ``keep_outputs`` the intermediate outputs (acyclic, freed by reference
    counting) are dropped while the collector is still paused: the scan then only sees the IR.
    """
    opts = options or CompileOptions()
    diags = Diagnostics()
    value: Any = list(sources)
    outputs: dict[str, Any] = {}
    lowered: CompiledRules | None = None
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for stage in STAGES:
            if stage.needs_clean and diags.has_errors:
                value = None
                break
            value = stage.run(value, diags, opts)
            if keep_outputs:
                outputs[stage.name] = value
            if stage.name == "lower":
                lowered = value
            if opts.stop_after == stage.name:
                break
        value = None
    finally:
        if gc_was_enabled:
            gc.enable()
    items = diags.sorted()
    if opts.warnings_as_errors:
        items = [
            Diagnostic(d.code, Severity.ERROR, d.message, d.span, d.hint, d.notes)
            if d.severity is Severity.WARNING
            else d
            for d in items
        ]
    rules = lowered if not any(d.severity is Severity.ERROR for d in items) else None
    return Result(rules, items, dict(sources), outputs)


def compile_source(
    text: str, *, file: str = "<string>", options: CompileOptions | None = None
) -> CompiledRules:
    """Compile rule source to IR.  Raise :class:`CompileError` carrying every diagnostic found."""
    result = _analyze([(file, text)], options, keep_outputs=False)
    if result.rules is None:
        raise CompileError(result.diagnostics)
    return result.rules


def pack_sources(directory: str | Path) -> list[Source]:
    """The ``rules/*.rules`` files of a pack directory, in name order."""
    root = Path(directory)
    files = sorted((root / "rules").glob("*.rules")) if (root / "rules").is_dir() else []
    if not files:
        files = sorted(root.glob("*.rules"))
    return [(str(p), p.read_text(encoding="utf-8")) for p in files]


def analyze_pack(directory: str | Path, options: CompileOptions | None = None) -> Result:
    """Analyze every rule file of a pack together; also checks that table sources exist."""
    root = Path(directory)
    sources = pack_sources(root)
    if not sources:
        span = Span(str(root), 1, 1, 1, 1)
        message = f"no rule files in pack directory {root}"
        diag = Diagnostic("E212", Severity.ERROR, message, span, "put rules in rules/*.rules")
        return Result(None, [diag], {})
    result = analyze(sources, options)
    res = result.outputs.get("resolve")
    if isinstance(res, resolve.Resolution):
        extra = Diagnostics()
        for table in res.tables:
            if table.source_path and not (root / table.source_path).is_file():
                extra.error(
                    "E211",
                    f"table {table.name!r}: source file {table.source_path!r} not found",
                    table.span,
                )
        if extra.items:
            result.diagnostics.extend(extra.items)
            result.rules = None
    return result


def compile_pack(directory: str | Path, options: CompileOptions | None = None) -> CompiledRules:
    """Compile a pack directory (``rules/*.rules``, ``tables/*``).  Raise :class:`CompileError`."""
    result = analyze_pack(directory, options)
    if result.rules is None:
        raise CompileError(result.diagnostics)
    return result.rules
