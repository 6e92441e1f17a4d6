"""Parsed large tables are cached per file and declaration; a changed file is parsed again."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import engine.tables as T
from dsl.compile import compile_source

RULES = """
pack c { version "1" }
table ptp pair {
  source ncci_ptp "ptp.txt"
  key column_1: code, column_2: code
  value modifier_indicator: code
}
rule R "r" { category ncci-ptp severity error scope pair
  when (line.procedure_code, other.procedure_code) in ptp message "m" }
"""


def _ptp(path: Path, n: int, indicator: str = "1") -> None:
    rows = "".join(
        f"{10000 + i:05d}\t{20000 + i:05d}\t*\t20200101\t*\t{indicator}\tMisuse\n" for i in range(n)
    )
    path.write_text(rows, encoding="latin-1")


def _table(pack: Path) -> T.LoadedTable:
    rules = compile_source(RULES, file="c.rules")
    (table,) = rules.tables
    return T.load_table(table, pack)


def _same(a: T.LoadedTable, b: T.LoadedTable) -> bool:
    return (
        all(
            np.array_equal(x.ids, y.ids) and x.vocab == y.vocab
            for x, y in zip(a.keys + a.values, b.keys + b.values, strict=True)
        )
        and np.array_equal(a.row_from, b.row_from)
        and np.array_equal(a.row_until, b.row_until)
    )


def test_second_load_comes_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(T.CACHE_ENV, str(tmp_path / "cache"))
    _ptp(tmp_path / "ptp.txt", 40_000)  # ~1.6 MB: above CACHE_MIN_BYTES
    first = _table(tmp_path)
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 1

    def no_parse(*_: object) -> T.LoadedTable:
        raise AssertionError("parsed again")

    monkeypatch.setattr(T, "_read_ptp", no_parse)
    second = _table(tmp_path)
    assert _same(first, second) and second.n_rows == 40_000
    # a changed file misses the cache (size and modification time are in the key)
    monkeypatch.undo()
    monkeypatch.setenv(T.CACHE_ENV, str(tmp_path / "cache"))
    _ptp(tmp_path / "ptp.txt", 40_001, indicator="0")
    os.utime(tmp_path / "ptp.txt", ns=(1, 1))
    third = _table(tmp_path)
    assert third.n_rows == 40_001 and third.values[0].vocab == ("0",)


def test_cache_off_small_files_and_broken_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ptp(tmp_path / "ptp.txt", 40_000)
    monkeypatch.setenv(T.CACHE_ENV, "off")
    assert T.cache_dir() is None
    _table(tmp_path)
    monkeypatch.setenv(T.CACHE_ENV, str(tmp_path / "cache"))
    (tmp_path / "small").mkdir()
    _ptp(tmp_path / "small" / "ptp.txt", 10)
    _table(tmp_path / "small")
    assert not (tmp_path / "cache").exists()  # small tables are not cached
    good = _table(tmp_path)
    (entry,) = (tmp_path / "cache").glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    assert _same(_table(tmp_path), good)  # a broken entry is parsed again and rewritten
