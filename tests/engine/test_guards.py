"""Rule guards (necessary conditions checked while listing kernel tasks) keep results exact."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack
from engine.evaluate import evaluate, finding_rows, findings
from engine.pack import PackData

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import engine_workload as W


def test_workload_guards_match_reference(tmp_path: Path) -> None:
    claims = W.make_claims(700, seed=5)
    # PTP pairs taken from the claims themselves, so many pairs hit (indicator 0 and 1 both)
    pairs = sorted(
        {
            (int(a.procedure_code), int(b.procedure_code))
            for c in claims
            for a in c.lines
            for b in c.lines
            if a is not b and (int(a.procedure_code) + int(b.procedure_code)) % 3 != 0
        }
    )
    body = "\n".join(
        f"{a}\t{b}\t\t20200101\t*\t{(a + b) % 2}\tMisuse of column two code" for a, b in pairs
    )
    (tmp_path / "ptp.txt").write_text("preamble\n" + body + "\n")
    W.write_mue(tmp_path / "mue.csv", 10_000)
    pack = PackData.load(W.build_rules(200), tmp_path)
    interner = Interner()
    cp = compile_pack(pack, interner)
    guards = cp.X[8].reshape(-1, 6)
    assert guards[0, 0] == 2  # the PTP pair rule: membership filter
    assert guards[1, 0] == 1 and guards[1, 3] == 2 * 10**4  # MUE: units > smallest limit (2)
    assert not cp.fallback_rules
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    got = evaluate([cp], batch)
    assert got == reference.evaluate([pack], claims)
    assert any(e.rule_id == pack.rules.rules[0].id for e in got)
    rows = finding_rows(cp, 0, batch)
    listed = findings(cp, 0, batch)
    assert rows.tolist() == [[f.claim, f.pack, f.rule, f.branch, f.item, f.other] for f in listed]
    assert rows.dtype == np.int64
