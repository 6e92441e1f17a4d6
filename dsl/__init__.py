"""The rule language: text → diagnostics → IR.  See docs/dsl.md."""

from dsl.compile import CompileOptions, compile_pack, compile_source
from dsl.diagnostics import CompileError, Diagnostic, Span
from dsl.ir import CompiledRules

__all__ = [
    "CompileError",
    "CompileOptions",
    "CompiledRules",
    "Diagnostic",
    "Span",
    "compile_pack",
    "compile_source",
]
