"""Reference data load times: a CMS NCCI PTP file through ``engine.tables`` and ICD-10-CM.

Small by default (a smoke test under ``--benchmark-disable``: 20,000 PTP rows);
``CLAIMSCRUB_BENCH_FULL=1`` generates the full 2,000,000-row PTP file.  Run with ``-s`` to see the
figures; with ``--benchmark-enable`` pytest-benchmark times the loads as well.  Goal: seconds, not
minutes, for 2,000,000 PTP rows; ICD-10-CM well under a second (cached afterwards).

The PTP file is written in the official practitioner layout: a few preamble lines (the CMS files
open with a notice and a two-line column header), then tab-separated rows ``column 1, column 2,
"*" (in existence before 1996) or blank, effective date YYYYMMDD, deletion date YYYYMMDD or "*",
modifier indicator 0/1/9, PTP edit rationale``.  Codes are synthetic (``X`` + 4 digits).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from dsl.compile import compile_source
from dsl.ir import Table
from engine import refdata
from engine.tables import LoadedTable, load_table

FULL = os.environ.get("CLAIMSCRUB_BENCH_FULL") == "1"
N_PTP = 2_000_000 if FULL else 20_000

PREAMBLE = (
    "SYNTHETIC benchmark file in the CMS NCCI PTP practitioner layout: NOT CMS data.\n"
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\t"
    "Deletion Date *=no data\tModifier 0=not allowed 1=allowed 9=not applicable\t"
    "PTP Edit Rationale\n"
    "\t\t\t\t\t\t\n"
)
RATIONALES = (
    "Standards of medical/surgical practice",
    "Mutually exclusive procedures",
    "Misuse of column two code with column one code",
    "CPT Manual or CMS manual coding instructions",
    "More extensive procedure",
)
PACK = """\
pack bench-refdata {
  version "0.0.1"
  kinds professional
}

table ncci_ptp pair {
  source ncci_ptp "ptp.txt"
  key column_1: code, column_2: code
  value modifier_indicator: code, rationale: text
}
"""


def write_ptp(path: Path, n: int, seed: int = 7) -> None:
    """``n`` distinct synthetic PTP rows in the official layout."""
    rng = random.Random(seed)
    with path.open("w", encoding="latin-1", newline="\n") as fh:
        fh.write(PREAMBLE)
        chunk: list[str] = []
        for i in range(n):
            c1, c2 = divmod(i, 200)
            col1 = f"X{c1:04d}" if c1 < 10_000 else f"X{c1:05d}"
            col2 = f"Y{c2:04d}"
            prior = "*" if rng.random() < 0.1 else ""
            eff = f"{rng.randint(1996, 2025)}{rng.choice(('0101', '0401', '0701', '1001'))}"
            dele = "*" if rng.random() < 0.8 else f"{rng.randint(2020, 2026)}0101"
            mod = rng.choice("0119")
            chunk.append(f"{col1}\t{col2}\t{prior}\t{eff}\t{dele}\t{mod}\t{rng.choice(RATIONALES)}")
            if len(chunk) == 100_000:
                fh.write("\n".join(chunk) + "\n")
                chunk.clear()
        if chunk:
            fh.write("\n".join(chunk) + "\n")


@pytest.fixture(scope="module")
def ptp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ptp")
    t0 = time.perf_counter()
    write_ptp(d / "ptp.txt", N_PTP)
    size = (d / "ptp.txt").stat().st_size / 1e6
    print(f"\nPTP file: {N_PTP:,} rows, {size:.0f} MB, written in {time.perf_counter() - t0:.2f}s")
    return d


def _table() -> Table:
    rules = compile_source(PACK, file="bench_refdata.rules")
    (table,) = rules.tables
    return table


def test_ptp_load(benchmark: Any, ptp_dir: Path) -> None:
    table = _table()
    t0 = time.perf_counter()
    loaded: LoadedTable = load_table(table, ptp_dir)
    dt = time.perf_counter() - t0
    print(f"PTP load (engine.tables.load_table): {N_PTP:,} rows in {dt:.2f}s")
    assert loaded.n_rows == N_PTP
    row = loaded.rows_for(("X0000", "Y0000"))
    assert row == [0]
    benchmark.pedantic(load_table, args=(table, ptp_dir), rounds=1, iterations=1)


def test_ptp_load_through_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, ptp_dir: Path, tmp_path: Path
) -> None:
    """A pack's bundled fixture is replaced by the same-named file of CLAIMSCRUB_DATA_DIR."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "ptp.txt").write_text(PREAMBLE)  # an empty fixture
    monkeypatch.setenv(refdata.DATA_DIR_ENV, str(ptp_dir))
    source = refdata.resolve_table_source(pack, _table().source_path)
    assert source == ptp_dir / "ptp.txt"
    loaded = load_table(_table(), source.parent)
    assert loaded.n_rows == N_PTP


def test_icd10cm_load(benchmark: Any) -> None:
    refdata._icd10cm_package_map.cache_clear()
    t0 = time.perf_counter()
    codes = refdata.load_icd10cm()
    dt = time.perf_counter() - t0
    rel = refdata.icd10cm_release()
    print(
        f"ICD-10-CM load ({rel.source}, {rel.release} release, FY{rel.fiscal_year}): "
        f"{len(codes):,} codes, {sum(codes.values()):,} billable, in {dt:.3f}s"
    )
    assert dt < 2.0
    t0 = time.perf_counter()
    refdata.load_icd10cm()
    print(f"ICD-10-CM cached call: {(time.perf_counter() - t0) * 1e6:.1f} µs")

    def cold() -> None:
        refdata._icd10cm_package_map.cache_clear()
        refdata.load_icd10cm()

    benchmark.pedantic(cold, rounds=3, iterations=1)
