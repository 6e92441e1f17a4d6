"""The rule language: text → diagnostics → IR.  See docs/dsl.md.

The compiler (``dsl.compile`` and the Lark parser under it) is imported on first use of one of
its names, not with the package: the engine imports ``dsl.ir`` for the IR classes, and a scrub
that loads its packs from the compiled-pack cache (``engine.packcache``) never compiles rule
text, so it should not pay ~0.2 s to import the compiler.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dsl.diagnostics import CompileError, Diagnostic, Span
from dsl.ir import CompiledRules

if TYPE_CHECKING:
    from dsl.compile import CompileOptions, compile_pack, compile_source

__all__ = [
    "CompileError",
    "CompileOptions",
    "CompiledRules",
    "Diagnostic",
    "Span",
    "compile_pack",
    "compile_source",
]

_FROM_COMPILE = frozenset({"CompileOptions", "compile_pack", "compile_source"})


def __getattr__(name: str) -> Any:
    """The compiler's names, imported on first use (PEP 562)."""
    if name in _FROM_COMPILE:
        value = getattr(importlib.import_module("dsl.compile"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dsl' has no attribute {name!r}")
