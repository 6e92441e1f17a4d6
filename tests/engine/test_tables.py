"""Table loaders on small synthetic fixtures in the CMS layouts."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from dsl.ir import SourceFormat, TableKind, ValueType
from engine.tables import load_table
from tests.engine.irbuild import Builder

FIXTURES = Path(__file__).parent / "fixtures"
T = ValueType


def _ptp(path: str = "ptp.txt"):  # type: ignore[no-untyped-def]
    b = Builder()
    i = b.table(
        "ptp",
        TableKind.PAIR,
        (("c1", T.CODE), ("c2", T.CODE)),
        (("modifier_indicator", T.CODE), ("rationale", T.TEXT)),
        SourceFormat.NCCI_PTP,
        path,
    )
    return b.tables[i]


def test_ptp_skips_preamble_and_reads_dates() -> None:
    lt = load_table(_ptp(), FIXTURES)
    assert lt.n_rows == 3
    assert lt.rows_for(("Z0001", "Z0002")) == [0]
    assert lt.values[0].value(1) == "1"
    assert lt.values[1].value(2) == "Misuse of column two code"
    assert lt.row_effective(0, date(2020, 1, 1))
    assert not lt.row_effective(0, date(2019, 12, 31))
    assert lt.row_effective(1, date(2023, 12, 31))  # deletion date 2024-01-01 is exclusive
    assert not lt.row_effective(1, date(2024, 1, 1))
    assert not lt.row_effective(0, None)


def test_mue_reads_values_and_mai() -> None:
    b = Builder()
    i = b.table(
        "mue",
        TableKind.LIMIT,
        (("code", T.CODE),),
        (("mue", T.NUMBER), ("mai", T.NUMBER), ("rationale", T.TEXT)),
        SourceFormat.MUE,
        "mue.csv",
    )
    lt = load_table(b.tables[i], FIXTURES)
    assert lt.n_rows == 3
    row = lt.rows_for(("Z0002",))[0]
    assert lt.values[0].value(row) == Decimal(4)
    assert lt.values[1].value(row) == Decimal(1)
    assert lt.values[2].value(row) == "Clinical: Data"


def test_csv_with_effective_columns() -> None:
    b = Builder()
    i = b.table(
        "codes",
        TableKind.ATTRIBUTE,
        (("code", T.CODE),),
        (("description", T.TEXT),),
        SourceFormat.CSV,
        "codes.csv",
    )
    lt = load_table(b.tables[i], FIXTURES)
    assert lt.row_effective(0, None)
    assert not lt.row_effective(1, date(2023, 12, 31))
    assert lt.row_effective(1, date(2024, 1, 1))
    assert lt.row_effective(2, date(2023, 12, 31))
    assert not lt.row_effective(2, date(2024, 1, 1))


def test_large_ptp_loads(tmp_path: Path) -> None:
    n = 200_000  # the full 2,000,000-row measurement is in benchmarks/bench_evaluate.py
    lines = ["CPT only copyright AMA", "Column 1\tColumn 2\t*\tEff\tDel\tMod\tRationale"]
    lines += [
        f"{10000 + i % 5000:05d}\t{20000 + i // 5000:05d}\t\t20200101\t*\t{i % 2}\tR"
        for i in range(n)
    ]
    (tmp_path / "big.txt").write_text("\n".join(lines) + "\n")
    t0 = time.perf_counter()
    lt = load_table(_ptp("big.txt"), tmp_path)
    assert time.perf_counter() - t0 < 60
    assert lt.n_rows == n
