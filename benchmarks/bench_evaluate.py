"""Evaluate throughput: Numba kernels vs the reference evaluator vs durable-rules.

Small by default (runs as a smoke test under ``--benchmark-disable``); ``CLAIMSCRUB_BENCH_FULL=1``
runs 1,000,000 service lines, ~1,000 rules, a 1,000,000-pair PTP table and a 10,000-row MUE table.
Run with ``-s`` to see the printed figures (lines/s and ratios).
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.engine.irbuild

from claims.model import (
    Claim,
    ClaimKind,
    Diagnosis,
    DiagnosisRole,
    Provider,
    ProviderRole,
    ServiceLine,
)
from dsl.ir import (
    SLOT_OTHER,
    And,
    BuiltinId,
    Call,
    CmpOp,
    Compare,
    Const,
    InSet,
    Not,
    Scope,
    SourceFormat,
    TableGet,
    TableHas,
    TableKind,
    ValueType,
)
from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack
from engine.evaluate import evaluate
from engine.pack import PackData
from engine.tables import load_tables
from tests.engine.irbuild import SPAN, Builder, fref

FULL = os.environ.get("CLAIMSCRUB_BENCH_FULL") == "1"
N_LINES = 1_000_000 if FULL else 5_000
N_PAIRS = 1_000_000 if FULL else 20_000
N_MUE = 10_000 if FULL else 2_000
N_CODES = 10_000 if FULL else 2_000
T = ValueType
B = T.BOOL


def _code(i: int) -> str:
    return f"{10000 + i:05d}"


def _write_tables(d: Path, rng: random.Random) -> None:
    pairs = set()
    while len(pairs) < N_PAIRS:
        pairs.add((rng.randrange(N_CODES), rng.randrange(N_CODES)))
    rows = [
        f"{_code(a)}\t{_code(b)}\t\t20200101\t*\t{(a + b) % 2}\tRationale" for a, b in sorted(pairs)
    ]
    (d / "ptp.txt").write_text("CPT only copyright AMA\n" + "\n".join(rows) + "\n")
    mue = [f"{_code(i)},{4 + i % 4},{1 + i % 3} Line Edit,Rationale" for i in range(N_MUE)]
    (d / "mue.csv").write_text(
        "MUE table\nHCPCS/CPT Code,MUE,MAI,Rationale\n" + "\n".join(mue) + "\n"
    )


def build_pack(d: Path, n_rules: int, rng: random.Random) -> PackData:
    b = Builder()
    ptp = b.table(
        "ptp",
        TableKind.PAIR,
        (("c1", T.CODE), ("c2", T.CODE)),
        (("modifier_indicator", T.CODE),),
        SourceFormat.NCCI_PTP,
        "ptp.txt",
    )
    mue = b.table(
        "mue",
        TableKind.LIMIT,
        (("code", T.CODE),),
        (("mue", T.NUMBER),),
        SourceFormat.MUE,
        "mue.csv",
    )
    code, units = fref("line.procedure_code"), fref("line.units")
    b.rule(
        And(SPAN, B, (TableHas(SPAN, B, ptp, (code, fref("line.procedure_code", SLOT_OTHER))),)),
        Scope.LINE_PAIR,
    )
    b.rule(Compare(SPAN, B, CmpOp.GT, units, TableGet(SPAN, T.NUMBER, mue, (code,), 0)))
    for i in range(n_rules - 2):
        k = i % 20
        if k < 17:  # indexed: code == c and units > n
            cond: Any = And(
                SPAN,
                B,
                (
                    Compare(SPAN, B, CmpOp.EQ, code, b.code(_code(rng.randrange(N_CODES)))),
                    Compare(SPAN, B, CmpOp.GT, units, b.num(rng.randrange(1, 4))),
                ),
            )
            b.rule(cond)
        elif k == 17:  # every line: a range and prefix set
            s = b.lset(ranges=((_code(i), _code(i + 5)),), prefixes=("99",))
            b.rule(
                And(
                    SPAN,
                    B,
                    (
                        InSet(SPAN, B, code, s),
                        Compare(
                            SPAN, B, CmpOp.GT, fref("line.charge"), b.const(T.MONEY, Decimal(900))
                        ),
                    ),
                )
            )
        elif k == 18:
            b.rule(
                Compare(
                    SPAN,
                    B,
                    CmpOp.GT,
                    fref("claim.total_charge"),
                    b.const(T.MONEY, Decimal(4000 + i)),
                ),
                Scope.CLAIM,
            )
        else:
            b.rule(
                Not(
                    SPAN,
                    B,
                    Call(
                        SPAN,
                        B,
                        BuiltinId.ICD10CM_VALID,
                        (fref("dx.code"), fref("claim.first_service_date")),
                    ),
                ),
                Scope.DIAGNOSIS,
            )
    rules = b.build()
    return PackData(
        rules, "bench", "1", load_tables(rules.tables, d), None, f"bench-{n_rules}-{FULL}"
    )


def make_claims(n_lines: int, rng: random.Random) -> list[Claim]:
    out = []
    i = 0
    billing = (Provider(ProviderRole.BILLING, npi="1234567893"),)
    while i < n_lines:
        n = min(rng.randint(1, 9), n_lines - i)
        d = date(2024, 1, 1) + timedelta(days=rng.randrange(300))
        lines = tuple(
            ServiceLine(
                k + 1,
                Decimal(rng.randrange(100, 100000)) / 100,
                Decimal(rng.randint(1, 5)),
                _code(rng.randrange(N_CODES)),
                service_date=d,
            )
            for k in range(n)
        )
        dx = (Diagnosis("E119", DiagnosisRole.PRINCIPAL), Diagnosis("I10", DiagnosisRole.OTHER))
        out.append(
            Claim(
                ClaimKind.PROFESSIONAL,
                str(i),
                "P",
                sum((ln.charge for ln in lines), Decimal(0)),
                "11",
                "1",
                providers=billing,
                diagnoses=dx,
                lines=lines,
            )
        )
        i += n
    return out


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    rng = random.Random(7)
    d = tmp_path_factory.mktemp("pack")
    _write_tables(d, rng)
    t0 = time.perf_counter()
    pack = build_pack(d, 1000, rng)
    print(
        f"\nload pack (1,000 rules, {N_PAIRS} PTP pairs, {N_MUE} MUE rows): {time.perf_counter() - t0:.2f}s"
    )
    interner = Interner()
    t0 = time.perf_counter()
    cp = compile_pack(pack, interner)
    print(
        f"compile pack: {time.perf_counter() - t0:.2f}s, fallback rules: {len(cp.fallback_rules)}"
    )
    claims = make_claims(N_LINES, rng)
    t0 = time.perf_counter()
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    dt = time.perf_counter() - t0
    print(f"ClaimBatch.build: {N_LINES} lines in {dt:.2f}s = {N_LINES / dt:,.0f} lines/s")
    evaluate([cp], batch)  # JIT warm (from the on-disk cache)
    return {"dir": d, "pack": pack, "cp": cp, "claims": claims, "batch": batch, "rng": rng}


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


RESULTS: dict[str, float] = {}


def test_evaluate_numba(benchmark: Any, setup: dict[str, Any]) -> None:
    cp, batch = setup["cp"], setup["batch"]
    edits = benchmark(lambda: evaluate([cp], batch))
    dt = _timed(lambda: evaluate([cp], batch))
    RESULTS["numba"] = N_LINES / dt
    print(
        f"numba evaluate: {N_LINES} lines in {dt:.2f}s = {N_LINES / dt:,.0f} lines/s, {len(edits)} edits"
    )


def test_reference_subset(setup: dict[str, Any]) -> None:
    claims = setup["claims"][: max(1, len(setup["claims"]) // (100 if FULL else 5))]
    n = sum(len(c.lines) for c in claims)
    dt = _timed(lambda: reference.evaluate([setup["pack"]], claims))
    RESULTS["reference"] = n / dt
    print(f"reference evaluate: {n} lines in {dt:.2f}s = {n / dt:,.0f} lines/s")
    if "numba" in RESULTS:
        print(f"numba / reference: {RESULTS['numba'] / RESULTS['reference']:.0f}x")


def test_durable_rules_subset(setup: dict[str, Any]) -> None:
    durable = pytest.importorskip("durable.lang")
    pack: PackData = setup["pack"]
    # the indexed kind durable-rules expresses directly: code == c and units > n (line facts)
    specs = []
    for r in pack.rules.rules:
        cond = r.branches[0].condition
        if (
            isinstance(cond, And)
            and len(cond.operands) == 2
            and isinstance(cond.operands[0], Compare)
        ):
            c0, c1 = cond.operands
            if not isinstance(c0.right, Const) or not isinstance(c1, Compare):
                continue
            if not isinstance(c1.right, Const):
                continue
            code = pack.rules.constants[c0.right.constant].value
            limit = pack.rules.constants[c1.right.constant].value
            specs.append((r.id, str(code), int(limit)))  # type: ignore[arg-type]
        if len(specs) >= 50:
            break
    hits: list[str] = []
    name = f"bench{random.randrange(1 << 30)}"
    m = durable.m
    with durable.ruleset(name):
        for rid, code, limit in specs:

            def action(c: Any, rid: str = rid) -> None:
                hits.append(rid)

            durable.when_all((m.code == code) & (m.units > limit))(action)
    claims = setup["claims"][: max(1, len(setup["claims"]) // (5000 if FULL else 50))]
    facts = [{"code": ln.procedure_code, "units": int(ln.units)} for c in claims for ln in c.lines]
    from durable.engine import MessageNotHandledException

    def run() -> None:
        for f in facts:
            try:
                durable.post(name, f)
            except MessageNotHandledException:
                pass

    dt = _timed(run)
    RESULTS["durable"] = len(facts) / dt
    print(
        f"durable-rules ({len(specs)} equality rules only): {len(facts)} lines in {dt:.2f}s = "
        f"{len(facts) / dt:,.0f} lines/s, {len(hits)} hits"
    )
    if "numba" in RESULTS:
        print(f"numba / durable-rules: {RESULTS['numba'] / RESULTS['durable']:.0f}x")


def test_scaling_10x_rules(setup: dict[str, Any]) -> None:
    pack10 = build_pack(setup["dir"], 10_000, setup["rng"])
    cp10 = compile_pack(pack10, setup["cp"].interner)
    batch = ClaimBatch.build(setup["claims"], cp10.fields_needed, cp10.interner)
    evaluate([cp10], batch)
    dt = _timed(lambda: evaluate([cp10], batch))
    print(
        f"numba evaluate, 10,000 rules: {N_LINES / dt:,.0f} lines/s"
        + (f" (1,000 rules: {RESULTS['numba']:,.0f})" if "numba" in RESULTS else "")
    )


def test_ptp_load_2m(tmp_path: Path) -> None:
    n = 2_000_000 if FULL else 50_000
    rows = [
        f"{10000 + i % 9000:05d}\t{10000 + i // 9000:05d}\t\t20200101\t*\t1\tR" for i in range(n)
    ]
    (tmp_path / "ptp.txt").write_text("CPT only copyright AMA\n" + "\n".join(rows) + "\n")
    b = Builder()
    b.table(
        "ptp",
        TableKind.PAIR,
        (("c1", T.CODE), ("c2", T.CODE)),
        (("modifier_indicator", T.CODE),),
        SourceFormat.NCCI_PTP,
        "ptp.txt",
    )
    t0 = time.perf_counter()
    (lt,) = load_tables(tuple(b.tables), tmp_path)
    print(f"PTP load: {n} rows in {time.perf_counter() - t0:.2f}s")
    assert lt.n_rows == n
