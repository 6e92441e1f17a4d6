"""Fixtures shared by the engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest

import dsl.compile


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Pack directories compiled from rule text (the calls to ``dsl.compile.compile_pack``)."""
    calls: list[Path] = []
    real = dsl.compile.compile_pack

    def counting(
        directory: str | Path, options: dsl.compile.CompileOptions | None = None
    ) -> object:
        calls.append(Path(directory))
        return real(directory, options)

    monkeypatch.setattr(dsl.compile, "compile_pack", counting)
    return calls
