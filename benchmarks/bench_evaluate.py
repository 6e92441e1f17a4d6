"""Evaluate throughput: Numba kernels vs the reference evaluator (durable-rules: bench_durable.py).

Small by default (a smoke test under ``--benchmark-disable``); ``CLAIMSCRUB_BENCH_FULL=1`` runs
1,000,000 service lines against the 1,000-rule pack of :mod:`engine_workload` (1,000,000-pair NCCI
PTP table, 10,000-row MUE table).  Run with ``-s`` to see the figures.  Times are CPU time
(``time.process_time``), best of N, because the benchmark machine is shared.

Figures printed: ``ClaimBatch.build`` lines/s; kernel lines/s (conditions → findings) and evaluate
lines/s (findings → :class:`~engine.edits.Edit` objects too); the reference evaluator on a subset
and its ratio (the durable-rules peer runs the same rules in ``bench_durable.py``); 10× rules and
10× lines scaling; the PTP loader on a 2,000,000-row file; cold start of a fresh process to its
first scrubbed claim, with the compiled-pack cache missing (the first start) and hitting.
"""

from __future__ import annotations

import gc
import os
import pickle
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.engine.irbuild
sys.path.insert(0, str(Path(__file__).resolve().parent))  # engine_workload

import engine_workload as W
from timing import cpu_best, run_measured

from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack
from engine.evaluate import _batch_arrays, _kernel_rows, evaluate, finding_rows, findings
from engine.kernels import run_pack
from engine.pack import PackData
from engine.tables import load_tables

FULL = os.environ.get("CLAIMSCRUB_BENCH_FULL") == "1"
N_LINES = 1_000_000 if FULL else 5_000
N_PAIRS = 1_000_000 if FULL else 20_000
N_MUE = 10_000 if FULL else 2_000
N_RULES = 1_000
RESULTS: dict[str, float] = {}


def _report(key: str, value: float, text: str) -> None:
    RESULTS[key] = value
    print(text)


def _pack(d: Path, n_rules: int) -> PackData:
    return PackData.load(W.build_rules(n_rules), d)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    d = tmp_path_factory.mktemp("pack")
    W.write_ptp(d / "ptp.txt", N_PAIRS)
    W.write_mue(d / "mue.csv", N_MUE)
    t0 = time.process_time()
    pack = _pack(d, N_RULES)
    print(
        f"\nload pack ({N_RULES} rules, {N_PAIRS:,} PTP pairs, {N_MUE:,} MUE rows): "
        f"{time.process_time() - t0:.2f}s"
    )
    interner = Interner()
    t0 = time.process_time()
    cp = compile_pack(pack, interner)
    print(
        f"compile pack: {time.process_time() - t0:.2f}s, fallback rules: {len(cp.fallback_rules)}"
    )
    print(
        "rule index: claim {} / diagnosis {} / unindexed line {} / unindexed pair {} / "
        "indexed line {} / indexed pair {}".format(
            *(len(x) for x in cp.X[:4]),
            len(set(cp.X[5].tolist())),
            len(set(cp.X[7].tolist())),
        )
    )
    claims = W.make_claims(N_LINES)
    dt = cpu_best(lambda: ClaimBatch.build(claims, cp.fields_needed, interner), 2)
    _report(
        "build", N_LINES / dt, f"ClaimBatch.build: {N_LINES:,} lines: {N_LINES / dt:,.0f} lines/s"
    )
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    evaluate([cp], batch)  # JIT warm (from the on-disk cache)
    # The fixture's million claim objects (and the pack) out of the collector's sight: otherwise a
    # full collection, triggered by the ~466,000 findings a run allocates, walks them all, and
    # `findings` measured 0.41 s in one run and 2.18 s in the next (a CLI run streams its claims
    # and holds no such heap)
    gc.collect()
    gc.freeze()
    yield {"dir": d, "pack": pack, "cp": cp, "claims": claims, "batch": batch}
    gc.unfreeze()


def _kernel_only(cp: Any, batch: ClaimBatch) -> Callable[[], Any]:
    """One ``run_pack`` call over the whole batch, its arguments and buffers made beforehand."""
    n = batch.n_claims
    active = ~batch.inexact
    B = _batch_arrays(batch)
    S = batch.interner.string_arrays()
    work = tuple(np.zeros(max(64, cp.stack_size), dtype=np.int64) for _ in range(4))
    out = np.empty((batch.n_lines + n, 5), dtype=np.int64)
    redo = np.zeros(n, dtype=np.int64)

    def run() -> Any:
        return run_pack(
            cp.P, cp.X, active, batch.first_date, batch.line_code, B, S, cp.L, cp.T, cp.I,
            work, out, redo,
        )  # fmt: skip

    run()
    return run


def test_evaluate_numba(benchmark: Any, setup: dict[str, Any]) -> None:
    cp, batch = setup["cp"], setup["batch"]
    edits = benchmark(lambda: evaluate([cp], batch))
    found = findings(cp, 0, batch)
    dt = cpu_best(lambda: findings(cp, 0, batch))
    _report(
        "kernel",
        N_LINES / dt,
        f"numba kernel (findings): {N_LINES:,} lines in {dt:.3f}s = {N_LINES / dt:,.0f} lines/s, "
        f"{len(found):,} findings ({len(found) / N_LINES:.3f} per line)",
    )
    rows = finding_rows(cp, 0, batch)
    assert rows.shape[0] == len(found)
    dt = cpu_best(lambda: finding_rows(cp, 0, batch))
    _report(
        "rows",
        N_LINES / dt,
        f"numba kernel (finding rows, no Python objects): {N_LINES / dt:,.0f} lines/s",
    )
    dt = cpu_best(_kernel_only(cp, batch), 5)
    _report(
        "run_pack",
        N_LINES / dt,
        f"run_pack alone (kernel only, buffers allocated before): {N_LINES / dt:,.0f} lines/s, "
        f"{dt / N_LINES * 1e9:.0f} ns/line",
    )
    dt = cpu_best(lambda: evaluate([cp], batch), 2)
    _report(
        "numba",
        N_LINES / dt,
        f"numba evaluate (with Edit objects): {N_LINES / dt:,.0f} lines/s, {len(edits):,} edits",
    )


def test_reference_subset(setup: dict[str, Any]) -> None:
    claims = setup["claims"][: max(1, len(setup["claims"]) // (400 if FULL else 5))]
    n = sum(len(c.lines) for c in claims)
    dt = cpu_best(lambda: reference.evaluate([setup["pack"]], claims), 1)
    _report("reference", n / dt, f"reference evaluate: {n:,} lines: {n / dt:,.0f} lines/s")
    sub = ClaimBatch.build(claims, setup["cp"].fields_needed, setup["cp"].interner)
    assert evaluate([setup["cp"]], sub) == reference.evaluate([setup["pack"]], claims)
    if "numba" in RESULTS:
        print(
            f"numba / reference: kernel {RESULTS['kernel'] / RESULTS['reference']:,.0f}x, "
            f"evaluate {RESULTS['numba'] / RESULTS['reference']:,.0f}x"
        )


def test_scaling(setup: dict[str, Any]) -> None:
    cp, batch = setup["cp"], setup["batch"]
    base = cpu_best(lambda: findings(cp, 0, batch))
    pack10 = _pack(setup["dir"], 10 * N_RULES)
    cp10 = compile_pack(pack10, cp.interner)
    batch10 = ClaimBatch.build(setup["claims"], cp10.fields_needed, cp10.interner)
    findings(cp10, 0, batch10)
    dt10 = cpu_best(lambda: findings(cp10, 0, batch10))
    # The kernel stage as ``evaluate`` runs it: ``run_pack`` into a fresh row buffer, the rows
    # trimmed (no per-finding Python object, no copy into another layout)
    stage1 = cpu_best(lambda: _kernel_rows(cp, batch, None, None), 5)
    stage10 = cpu_best(lambda: _kernel_rows(cp10, batch10, None, None), 5)
    alone1 = cpu_best(_kernel_only(cp, batch), 5)
    alone10 = cpu_best(_kernel_only(cp10, batch10), 5)
    print(
        f"scaling (run_pack alone): {10 * N_RULES:,} rules {alone10 / N_LINES * 1e9:.0f} ns/line "
        f"vs {N_RULES:,} rules {alone1 / N_LINES * 1e9:.0f}: time x{alone10 / alone1:.2f}"
    )
    print(
        f"scaling (kernel stage of evaluate): {10 * N_RULES:,} rules "
        f"{N_LINES / stage10:,.0f} lines/s vs {N_RULES:,} rules {N_LINES / stage1:,.0f}: "
        f"time x{stage10 / stage1:.2f} (goal <= 2)"
    )
    rows1 = cpu_best(lambda: finding_rows(cp, 0, batch))
    rows10 = cpu_best(lambda: finding_rows(cp10, 0, batch10))
    print(
        f"scaling (finding rows): {10 * N_RULES:,} rules {N_LINES / rows10:,.0f} lines/s vs "
        f"{N_RULES:,} rules {N_LINES / rows1:,.0f}: time x{rows10 / rows1:.2f} (goal <= 2)"
    )
    print(
        f"scaling: {10 * N_RULES:,} rules {N_LINES / dt10:,.0f} lines/s vs {N_RULES:,} rules "
        f"{N_LINES / base:,.0f}: time x{dt10 / base:.2f} (goal <= 2)"
    )
    tenth = setup["claims"][: len(setup["claims"]) // 10]
    n_small = sum(len(c.lines) for c in tenth)
    small = ClaimBatch.build(tenth, cp.fields_needed, cp.interner)
    # Lines scaling on finding rows (kernel + int64 rows): the ``Finding`` objects of
    # ``findings()`` add Python allocation whose cost grows with the heap (GC), not rule work.
    dts = cpu_best(lambda: finding_rows(cp, 0, small), 5)
    print(
        f"scaling (finding rows): {n_small:,} lines {dts:.3f}s, {N_LINES:,} lines {rows1:.3f}s: "
        f"time x{rows1 / dts:.1f} for x{N_LINES / n_small:.1f} lines"
    )
    # Goal (issue 4): 10x indexed rules cost <= 2x time.  Reported, not asserted: a benchmark on a
    # shared machine records figures (benchmarks/RESULTS.md); it does not gate the test suite.
    # Judged on the kernel stage of ``evaluate`` (``_kernel_rows``): 10x rules give 2.4x findings,
    # and what comes after it is cost per finding, not rule evaluation: the ``Finding`` objects of
    # ``findings()`` (Python), and for ``finding_rows`` a copy of every row into a six-column
    # array (fresh pages: ~20 ns per row, measured).  Finding rows are printed above as well.
    ratio = stage10 / stage1
    verdict = "met" if ratio <= 2.0 else "NOT met"
    print(
        f"scaling goal (10x rules <= 2x time, kernel stage): {verdict} (x{ratio:.2f}; "
        f"finding rows x{rows10 / rows1:.2f})"
    )


def test_ptp_load_2m(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMSCRUB_CACHE_DIR", "off")  # the parser, not the table cache
    n = 2_000_000 if FULL else 50_000
    W.write_ptp(tmp_path / "ptp.txt", n, seed=3)
    rules = W.build_rules(8)
    dt = cpu_best(lambda: load_tables(rules.tables[:1], tmp_path), 1)
    (lt,) = load_tables(rules.tables[:1], tmp_path)
    print(f"PTP load: {n:,} rows in {dt:.2f}s")
    assert lt.n_rows == n


COLD = """
import pickle, sys, time
t0 = time.perf_counter()
sys.path[:0] = {paths!r}
from engine.pack import PackData
from engine.scrubber import Scrubber
import engine_workload as W
rules = pickle.loads(open({rules!r}, "rb").read())
t1 = time.perf_counter()
pack = PackData.load(rules, {dir!r})
t2 = time.perf_counter()
s = Scrubber([pack], warm=False, cache=True)
t3 = time.perf_counter()
edits = s.scrub(W.make_claims(3))
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""


def test_cold_start(setup: dict[str, Any], tmp_path: Path) -> None:
    """Cold start with the compiled-pack cache missing (first start with a fresh cache directory:
    compile, then write the entry) and hitting (a later start: read the entry).

    A cache directory of its own: its table cache is filled first (the PTP file parsed once, as
    any earlier start leaves it), then ``packs/`` is emptied before each miss.
    """
    rules = tmp_path / "rules.pickle"
    rules.write_bytes(pickle.dumps(setup["pack"].rules))
    root = Path(__file__).resolve().parents[1]
    script = COLD.format(
        paths=[str(root), str(Path(__file__).parent)], rules=str(rules), dir=str(setup["dir"])
    )
    cache = tmp_path / "cache"
    old = os.environ.get("CLAIMSCRUB_CACHE_DIR")
    os.environ["CLAIMSCRUB_CACHE_DIR"] = str(cache)
    try:
        run_measured([sys.executable, "-c", script])  # fills the table cache
        figures = {}
        for name, clear in (("miss", True), ("hit", False)):
            best, parts = float("inf"), ""
            for _ in range(3):
                if clear:
                    shutil.rmtree(cache / "packs", ignore_errors=True)
                # from a small launcher: forking this large test process would add its own cost
                wall, _, _, out = run_measured([sys.executable, "-c", script])
                if wall < best:
                    best, parts = wall, out
            figures[name] = (best, parts)
    finally:
        if old is None:
            del os.environ["CLAIMSCRUB_CACHE_DIR"]
        else:
            os.environ["CLAIMSCRUB_CACHE_DIR"] = old
    for name, (best, parts) in figures.items():
        imp, load, comp, scrub = (float(x) for x in parts.split())
        what = "compile + write entry" if name == "miss" else "read entry"
        RESULTS[f"cold_{name}"] = best
        print(
            f"cold start to first scrubbed claim, pack cache {name} (Numba and table caches "
            f"warm): {best:.2f}s wall (imports {imp:.2f}s, load pack {load:.2f}s, "
            f"{what} {comp:.2f}s, first scrub {scrub:.2f}s)"
        )
