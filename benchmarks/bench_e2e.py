"""End-to-end throughput: ``claimscrub scrub FILE.837 --format jsonl -o OUT`` in a subprocess.

Small by default (2,000 service lines: a smoke test); ``CLAIMSCRUB_BENCH_FULL=1`` generates a
1,000,000-line 837P (200,000 claims of 5 lines) and scrubs it with every bundled pack.  Printed (run
with ``-s``): lines/s over the child's CPU time and over wall time, peak RSS of the child
(measured from a small launcher process), the share of claims with edits and edits per claim.

Goal (issue 4, item 4): >= 300,000 lines/s end to end on 2 cores, peak memory independent of the
file size.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from claimgen import professional_claim
from timing import run_measured

from claims.model import (
    Claim,
    ServiceLine,
)
from claims.x12 import WriteOptions, write_x12

FULL = os.environ.get("CLAIMSCRUB_BENCH_FULL") == "1"
N_LINES = 1_000_000 if FULL else 2_000
LINES_PER_CLAIM = 5
WRITE_CHUNK = 5_000  # claims per interchange: the file is several interchanges, as in real feeds

# Office visits, labs, an ECG, a drug: common professional codes; a few claims get an odd one.
CODES = ("99213", "99214", "87070", "85025", "93000", "36415", "80053", "J1100", "99203", "71046")
ODD = ("A0425", "A0429", "97110")  # ambulance mileage / transport, therapy: pack rules fire
DX = ("E119", "I10", "E785", "Z0000", "J069", "M545", "R509", "K219", "E1165", "F329")


def make_claims(first: int, n_claims: int) -> list[Claim]:
    """Claims ``first .. first + n_claims - 1``: mostly clean, about a fifth with a defect."""
    out = []
    for i in range(first, first + n_claims):
        defect = i % 23  # 0..22: a few kinds of defect on a few claims each
        lines = tuple(
            ServiceLine(
                number=j + 1,
                charge=Decimal(10 + (i * 7 + j * 13) % 490),
                units=Decimal(1 + j % 3) + (40 if defect == 1 and j == 0 else 0),
                procedure_code=ODD[i % len(ODD)] if defect == 2 and j == 1 else CODES[(i + j) % 10],
                modifiers=("25",) if j == 0 and i % 3 == 0 else (),
                service_date=date(2024, 1 + i % 12, 1 + (i + j) % 28),
                diagnosis_pointers=(1, 2) if j % 2 else (1,),
            )
            for j in range(LINES_PER_CLAIM)
        )
        total = sum((ln.charge for ln in lines), Decimal(0)) + (5 if defect == 3 else 0)
        out.append(
            professional_claim(
                i,
                lines,
                control_number=f"{1 + i // WRITE_CHUNK:04d}",
                diagnoses=(DX[i % len(DX)], "E11" if defect == 4 else DX[(i + 3) % len(DX)]),
                total=total,
            )
        )
    return out


def write_file(path: Path, n_lines: int) -> None:
    """An 837P of ``n_lines`` service lines, one interchange per WRITE_CHUNK claims."""
    n_claims = n_lines // LINES_PER_CLAIM
    opts = WriteOptions(timestamp=datetime(2024, 1, 1))
    with path.open("wb") as f:
        for start in range(0, n_claims, WRITE_CHUNK):
            f.write(write_x12(make_claims(start, min(WRITE_CHUNK, n_claims - start)), opts))
            f.write(b"\n")


@pytest.fixture(scope="module")
def x12_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("e2e") / "claims.837"
    t0 = time.perf_counter()
    write_file(path, N_LINES)
    size = path.stat().st_size / 1e6
    print(f"\ngenerated {N_LINES:,} lines ({size:.1f} MB) in {time.perf_counter() - t0:.1f}s")
    return path


def _scrub(src: Path, out: Path, jobs: int = 1) -> tuple[float, float, int]:
    """(CPU seconds of the process tree, wall seconds, largest peak RSS of one process in KiB).

    Measured from a small launcher process (``timing.run_measured``): a child forked from this
    test process would report this process's resident size as its peak.  With ``jobs`` > 1 the
    workers are waited for by the command, so CPU is the tree's and the RSS the largest process.
    """
    exe = Path(sys.executable).with_name("claimscrub")
    cmd = [str(exe), "scrub", str(src), "--format", "jsonl", "-o", str(out), "--fail-on", "never"]
    cmd += ["--jobs", str(jobs)]
    wall, cpu, rss, _ = run_measured(cmd)
    return cpu, wall, rss


@pytest.mark.parametrize("jobs", [1, 2])
def test_e2e_scrub(
    x12_file: Path, tmp_path: Path, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ingests in the same run, alternating: columnar (default) and objects (the baseline)."""
    outs = {"columnar": tmp_path / "columnar.jsonl", "objects": tmp_path / "objects.jsonl"}
    runs: dict[str, list[tuple[float, float, int]]] = {"columnar": [], "objects": []}
    for _ in range(2 if FULL else 1):
        for ingest, out in outs.items():
            monkeypatch.setenv("CLAIMSCRUB_COLUMNAR", "on" if ingest == "columnar" else "off")
            runs[ingest].append(_scrub(x12_file, out, jobs))
    assert outs["columnar"].read_bytes() == outs["objects"].read_bytes()
    n_claims = n_edited = n_edits = 0
    with outs["columnar"].open(encoding="utf-8") as f:
        for row in f:
            env: dict[str, Any] = json.loads(row)
            n_claims += 1
            n_edited += env["status"] == "EDITS"
            n_edits += len(env["errors"])
    assert n_claims == N_LINES // LINES_PER_CLAIM
    print(
        f"\ne2e scrub --jobs {jobs}: {N_LINES:,} lines, {n_claims:,} claims, "
        f"{n_edited / n_claims:.1%} with edits "
        f"({n_edits / max(n_edited, 1):.1f} edits per edited claim); outputs identical"
    )
    best: dict[str, tuple[float, float]] = {}
    for ingest, rs in runs.items():
        cpu = min(r[0] for r in rs)
        wall = min(r[1] for r in rs)
        rss = max(r[2] for r in rs)
        best[ingest] = (cpu, wall)
        print(
            f"  {ingest:8}: {N_LINES / cpu:,.0f} lines/s CPU ({cpu:.2f}s, includes startup), "
            f"{N_LINES / wall:,.0f} lines/s wall ({wall:.2f}s), peak RSS {rss / 1024:.0f} MB"
        )
    cpu_ratio = best["objects"][0] / best["columnar"][0]
    wall_ratio = best["objects"][1] / best["columnar"][1]
    print(f"  columnar vs objects: x{cpu_ratio:.2f} CPU, x{wall_ratio:.2f} wall")
