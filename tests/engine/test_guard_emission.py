"""Guard conjuncts not emitted and OP_TRUTH left out after 0/1 instructions keep results exact."""

from __future__ import annotations

import dataclasses
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np

from claims.model import Diagnosis, DiagnosisRole, Provider, ProviderRole
from engine import kernels as K
from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack
from engine.evaluate import _batch_arrays, evaluate
from engine.pack import PackData

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import engine_workload as W


def test_guard_conjunct_not_emitted_matches_reference_and_twin(tmp_path: Path) -> None:
    """Programs without their guard conjunct or a redundant OP_TRUTH equal the reference and twin.

    Claims with a missing or bad billing NPI, a total charge off by a cent, diagnoses missing,
    not in ICD-10-CM or repeated (the per-call memo answers the repeats), and lines without a
    service date (the ICD-10-CM date argument missing).
    """
    claims = W.make_claims(400, seed=9)
    varied = []
    for i, c in enumerate(claims):
        if i % 7 == 1:
            c = dataclasses.replace(c, providers=())
        elif i % 7 == 2:
            c = dataclasses.replace(
                c, providers=(Provider(ProviderRole.BILLING, npi="1234567890"),)
            )
        if i % 5 == 3:
            c = dataclasses.replace(c, total_charge=c.total_charge + Decimal("0.01"))
        if i % 6 == 4:
            dx = (
                *c.diagnoses,
                Diagnosis("J449", DiagnosisRole.OTHER),
                Diagnosis("Z9X", DiagnosisRole.OTHER),
            )
            c = dataclasses.replace(c, diagnoses=dx)
        elif i % 6 == 5:
            c = dataclasses.replace(c, diagnoses=())
        if i % 9 == 6:
            lines = tuple(dataclasses.replace(x, service_date=None) for x in c.lines)
            c = dataclasses.replace(c, lines=lines)
        varied.append(c)
    W.write_ptp(tmp_path / "ptp.txt", 2_000)
    W.write_mue(tmp_path / "mue.csv", 10_000)
    pack = PackData.load(W.build_rules(60), tmp_path)
    interner = Interner()
    cp = compile_pack(pack, interner)
    assert cp.X[8][6 * 7] == 1  # principal Z9: guard ``role == principal``
    code, br_pc, rb_off = cp.P[0], cp.P[1], cp.P[3]
    ops = code[br_pc[rb_off[7]] : br_pc[rb_off[8]], 0].tolist()
    # principal Z9: the guard ``role == principal`` is checked by the lister, not emitted;
    # the ``and`` ends on OP_INSET (0 or 1): no OP_TRUTH
    assert ops == [K.OP_FIELD, K.OP_INSET, K.OP_HALT]
    # modifier 25 required (the code set is the rule index): ``not contains`` is a guard of kind
    # 11 (engine.compiled._set_guard), decided by the lister; the program is a constant
    assert cp.X[8][6 * 8] == 11
    ops = code[br_pc[rb_off[8]] : br_pc[rb_off[9]], 0].tolist()
    assert ops == [K.OP_CONST, K.OP_HALT]
    batch = ClaimBatch.build(varied, cp.fields_needed, interner)
    got = evaluate([cp], batch)
    assert got == reference.evaluate([pack], varied)
    fired = {e.rule_id for e in got}
    assert {pack.rules.rules[r].id for r in (4, 5, 6)} <= fired
    results = []
    for fn in (K.run_pack, K.run_pack.py_func):
        work = tuple(np.zeros(cp.stack_size + 64, dtype=np.int64) for _ in range(4))
        out = np.zeros((4000, 5), dtype=np.int64)
        redo = np.zeros(batch.n_claims, dtype=np.int64)
        with np.errstate(over="ignore"):
            n = fn(
                cp.P, cp.X, ~batch.inexact, batch.first_date, batch.line_code,
                _batch_arrays(batch), interner.string_arrays(), cp.L, cp.T, cp.I, work, out, redo,
            )  # fmt: skip
        results.append((n, out[:n].tolist(), redo.tolist()))
    assert results[0] == results[1]
