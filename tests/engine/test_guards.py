"""Rule guards (necessary conditions checked while listing kernel tasks) keep results exact."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from engine import kernels as K
from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import CompiledPack, compile_pack
from engine.evaluate import _batch_arrays, evaluate, finding_rows, findings
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
    assert guards[0, 0] == 2  # the PTP pair rule: the table has the pair (lister, exact)
    # MUE: units > mue[code] decided by the lister (kind 7), after units > smallest limit (2)
    assert guards[1, 0] == 7 and guards[1, 3] == 2 * 10**4
    assert not cp.fallback_rules
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    got = evaluate([cp], batch)
    assert got == reference.evaluate([pack], claims)
    assert any(e.rule_id == pack.rules.rules[0].id for e in got)
    rows = finding_rows(cp, 0, batch)
    listed = findings(cp, 0, batch)
    assert rows.tolist() == [[f.claim, f.pack, f.rule, f.branch, f.item, f.other] for f in listed]
    assert rows.dtype == np.int64


def test_pair_guard_exact_and_phase_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pair rules listed by the exact table lookup, run in phase blocks: the one-pass order.

    The kernel runs each block of claims in two phases (pair rules, then the others) and copies
    each claim's pair rows after its other rows; the twin with blocks of 3 claims (several
    blocks, a partial last one, inactive claims) gives the rows of the compiled kernel (one
    block), also when ``out`` is too small.
    """
    claims = W.make_claims(300, seed=8)
    pairs = sorted(
        {
            (int(a.procedure_code), int(b.procedure_code))
            for c in claims
            for a in c.lines
            for b in c.lines
            if a is not b and (int(a.procedure_code) * 7 + int(b.procedure_code)) % 4 != 0
        }
    )
    # some pairs only effective before the claims' dates (the lister must check the window)
    body = "\n".join(
        f"{a}\t{b}\t\t20200101\t{'20210101' if (a + b) % 5 == 0 else '*'}\t{(a + b) % 2}\tMisuse"
        for a, b in pairs
    )
    (tmp_path / "ptp.txt").write_text("preamble\n" + body + "\n")
    W.write_mue(tmp_path / "mue.csv", 10_000)
    pack = PackData.load(W.build_rules(60), tmp_path)
    interner = Interner()
    cp = compile_pack(pack, interner)
    assert cp.X[8][0] == 2
    code, br_pc, rb_off = cp.P[0], cp.P[1], cp.P[3]
    end = br_pc[rb_off[1]] if rb_off[1] < br_pc.shape[0] else code.shape[0]
    ops = code[br_pc[rb_off[0]] : end, 0].tolist()
    assert K.OP_TABLE_HAS not in ops and K.OP_TABLE_GET in ops  # has(..) checked by the lister
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    assert evaluate([cp], batch) == reference.evaluate([pack], claims)
    active = np.ones(batch.n_claims, dtype=np.bool_)
    active[1::5] = False
    results = []
    for fn, block in ((K.run_pack, None), (K.run_pack.py_func, 3)):
        if block is not None:
            monkeypatch.setattr(K, "PHASE_BLOCK", block)
        for cap in (2000, 40):
            work = tuple(np.zeros(cp.stack_size + 64, dtype=np.int64) for _ in range(4))
            out = np.zeros((cap, 5), dtype=np.int64)
            redo = np.zeros(batch.n_claims, dtype=np.int64)
            with np.errstate(over="ignore"):
                n = fn(
                    cp.P, cp.X, active, batch.first_date, batch.line_code, _batch_arrays(batch),
                    interner.string_arrays(), cp.L, cp.T, cp.I, work, out, redo,
                )  # fmt: skip
            results.append((n, out[: min(n, cap)].tolist()))
    assert results[0] == results[2] and results[1] == results[3]
    assert results[0][0] > 40 and results[1][1] == results[0][1][:40]
    pair_rows = [row for row in results[0][1] if row[1] == 0]
    assert pair_rows and all(active[row[0]] for row in pair_rows)
    # per claim: the pair rule's rows come last (the one-pass order)
    for a, b in zip(results[0][1], results[0][1][1:], strict=False):
        assert a[0] < b[0] or not (a[1] == 0 and b[1] != 0)


def test_same_field_pair_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """``line.f == other.f`` in a pair rule is listed by equal column values (guard kind 4).

    Claims with repeated and missing procedure codes and dates; the twin (several phase blocks)
    and the compiled kernel give the same rows, and the edits equal the reference evaluator's.
    """
    from datetime import date
    from decimal import Decimal

    from claims.model import Claim, ClaimKind, ServiceLine
    from dsl.compile import compile_source

    rules = """
    pack same { version "1" }
    rule S-1 "duplicate" { category custom severity error scope pair
      when other.number < line.number and line.procedure_code == other.procedure_code
        and line.service_date == other.service_date
      message "line {line.number} repeats {other.number}" }
    rule S-2 "same units" { category custom severity error scope pair
      when line.units == other.units and line.procedure_code != other.procedure_code
      message "units" }
    rule S-3 "dates" { category custom severity error scope pair
      when line.service_date == other.service_date message "d" }
    """
    pack = PackData.load(compile_source(rules, file="same.rules"))
    codes = ("99213", "99213", "", "80053", "99213", "")
    claims = []
    for c in range(40):
        lines = tuple(
            ServiceLine(
                j + 1,
                Decimal(10),
                Decimal(1 + (c + j) % 2),
                codes[(c + j) % len(codes)],
                service_date=None if (c + j) % 7 == 0 else date(2025, 1, 1 + (c * j) % 3),
            )
            for j in range(c % 6)
        )
        claims.append(
            Claim(ClaimKind.PROFESSIONAL, "1", f"P{c}", Decimal(1), "11", "1", lines=lines)
        )
    interner = Interner()
    cp = compile_pack(pack, interner)
    guards = cp.X[8].reshape(-1, 6)
    assert guards[0, 0] == 4 and guards[1, 0] == 4 and guards[2, 0] == 4
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    got = evaluate([cp], batch)
    assert got == reference.evaluate([pack], claims)
    assert {e.rule_id for e in got} == {"S-1", "S-2", "S-3"}
    _kernel_equals_twin(cp, batch, interner, monkeypatch, block=3)


def test_table_get_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``line.f op table[key]`` (one key) is decided while listing line tasks (guard kinds 5 / 7).

    A limit table with effective windows (open, ending and starting at a boundary, a window in
    the middle), a missing limit value, codes without a row and missing codes; claims dated on
    every boundary and undated (only open rows apply).  The compiled kernel, its twin (several
    phase blocks) and the reference evaluator agree.
    """
    from datetime import date
    from decimal import Decimal

    from claims.model import Claim, ClaimKind, ServiceLine
    from dsl.compile import compile_source

    rules = """
    pack lim { version "1" }
    table mue limit {
      source csv "mue.csv"
      key hcpcs: code
      value limit: number
    }
    rule M-1 "over" { category custom severity error scope line
      when line.units > mue[line.procedure_code] message "over" }
    rule M-2 "at least, mirrored" { category custom severity error scope line
      when mue[line.procedure_code] <= line.units and line.charge > 5 message "ge" }
    rule M-3 "equal" { category custom severity error scope line
      when line.units == mue[line.procedure_code] message "eq" }
    rule M-4 "differs" { category custom severity error scope line
      when line.units != mue[line.procedure_code] message "ne" }
    rule M-5 "under" { category custom severity error scope line
      when line.units < mue[line.procedure_code] message "lt" }
    """
    (tmp_path / "mue.csv").write_text(
        "hcpcs,limit,effective_from,effective_until\n"
        "99213,2,,\n"
        "80053,1,,2024-12-31\n"
        "80053,3,2025-01-01,\n"
        "J0001,,,\n"
        "A0002,4,2025-01-03,2025-01-05\n"
        "A0002,1,2025-01-05,\n"
    )
    pack = PackData.load(compile_source(rules, file="lim.rules"), tmp_path)
    codes = ("99213", "80053", "J0001", "A0002", "11111", "")
    days = [None, *(date(2024, 12, 30 + k) if k < 2 else date(2025, 1, k - 1) for k in range(8))]
    claims = []
    for c in range(90):
        lines = tuple(
            ServiceLine(
                j + 1,
                Decimal(3 + (c + j) % 5),
                Decimal((c * 3 + j) % 6),
                codes[(c + j) % len(codes)],
                service_date=days[c % len(days)],
            )
            for j in range(1 + c % 4)
        )
        claims.append(
            Claim(ClaimKind.PROFESSIONAL, "1", f"P{c}", Decimal(1), "11", "1", lines=lines)
        )
    interner = Interner()
    cp = compile_pack(pack, interner)
    guards = cp.X[8].reshape(-1, 6)
    assert guards[:, 0].tolist() == [7, 5, 7, 7, 7]
    assert guards[0, 3] == 10**4 and guards[4, 3] == 4 * 10**4  # smallest / largest limit
    assert not cp.fallback_rules
    code, br_pc, rb_off = cp.P[0], cp.P[1], cp.P[3]
    ops = code[br_pc[rb_off[1]] : br_pc[rb_off[2]], 0].tolist()
    assert K.OP_TABLE_GET not in ops  # M-2: the lister checked the table conjunct
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    got = evaluate([cp], batch)
    assert got == reference.evaluate([pack], claims)
    assert {e.rule_id for e in got} == {"M-1", "M-2", "M-3", "M-4", "M-5"}
    _kernel_equals_twin(cp, batch, interner, monkeypatch, block=7)


def _kernel_equals_twin(
    cp: CompiledPack,
    batch: ClaimBatch,
    interner: Interner,
    monkeypatch: pytest.MonkeyPatch,
    *,
    block: int,
) -> None:
    """Finding rows equal findings; kernel rows equal its twin's in phase blocks of ``block``."""
    rows = finding_rows(cp, 0, batch)
    listed = findings(cp, 0, batch)
    assert rows.tolist() == [[f.claim, f.pack, f.rule, f.branch, f.item, f.other] for f in listed]
    results = []
    for fn, phase_block in ((K.run_pack, None), (K.run_pack.py_func, block)):
        if phase_block is not None:
            monkeypatch.setattr(K, "PHASE_BLOCK", phase_block)
        work = tuple(np.zeros(cp.stack_size + 64, dtype=np.int64) for _ in range(4))
        out = np.zeros((4000, 5), dtype=np.int64)
        redo = np.zeros(batch.n_claims, dtype=np.int64)
        active = np.ones(batch.n_claims, dtype=np.bool_)
        with np.errstate(over="ignore"):  # the twin's hashes wrap like int64 in the kernel
            n = fn(
                cp.P, cp.X, active, batch.first_date, batch.line_code, _batch_arrays(batch),
                interner.string_arrays(), cp.L, cp.T, cp.I, work, out, redo,
            )  # fmt: skip
        results.append(out[:n].tolist())
    assert results[0] == results[1] and results[0]


def test_pair_guard_two_columns_and_long_claims(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pair lister's filter and exact hash, for one key column or two, stay exact.

    Pair rules over two PTP-layout tables: one keyed by one column on both sides, one keyed by
    two columns (procedure code of the line, revenue code of the other).  Rows in one direction
    only, in both, a code equal on both sides, codes that are only ever the second key (interned
    after every first key, so beyond the first keys' directory), claims of 0-6 lines and one of
    70 lines (beyond the lister's first buffers).  Edits equal the reference evaluator's; the
    kernel's rows equal its twin's in phase blocks.
    """
    from datetime import date
    from decimal import Decimal

    from claims.model import Claim, ClaimKind, ServiceLine
    from dsl.compile import compile_source

    a_codes = [f"{10000 + i}" for i in range(12)]
    b_codes = [f"{90000 + i}" for i in range(6)]  # only ever column 2 of `pp`
    rows = [(a_codes[i], a_codes[(i * 5 + 1) % 12]) for i in range(12)]
    rows += [(a_codes[3], a_codes[3]), (a_codes[4], a_codes[7]), (a_codes[7], a_codes[4])]
    rows += [(a_codes[i], b_codes[i % 6]) for i in range(0, 12, 2)]
    rev = [f"0{450 + i}" for i in range(5)]
    rrows = [(a_codes[i], rev[i % 5]) for i in range(0, 12, 3)]

    def ptp(pairs: list[tuple[str, str]]) -> str:
        return "preamble\n" + "".join(f"{a}\t{b}\t\t20200101\t*\t0\tx\n" for a, b in pairs)

    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "pp.txt").write_text(ptp(rows))
    (tmp_path / "tables" / "pr.txt").write_text(ptp(rrows))
    rules = """
    pack pairs { version "1" }
    table pp pair { source ncci_ptp "tables/pp.txt"
      key column_1: code, column_2: code value modifier_indicator: code, rationale: text }
    table pr pair { source ncci_ptp "tables/pr.txt"
      key column_1: code, column_2: code value modifier_indicator: code, rationale: text }
    rule P-1 "code pair" { category custom severity error scope pair
      when (line.procedure_code, other.procedure_code) in pp message "pp" }
    rule P-2 "code and revenue" { category custom severity error scope pair
      when (line.procedure_code, other.revenue_code) in pr message "pr" }
    """
    (tmp_path / "pairs.rules").write_text(rules)
    pack = PackData.load(compile_source(rules, file="pairs.rules"), tmp_path)
    every = a_codes + b_codes
    claims = []
    for c in range(60):
        n = 70 if c == 7 else c % 7
        lines = tuple(
            ServiceLine(
                j + 1,
                Decimal(10),
                Decimal(1),
                every[(c * 3 + j * 7) % len(every)] if (c + j) % 11 else "",
                revenue_code=rev[(c + j) % 5] if (c + j) % 4 else "",
                service_date=date(2025, 1, 2),
            )
            for j in range(n)
        )
        claims.append(
            Claim(ClaimKind.PROFESSIONAL, "1", f"P{c}", Decimal(1), "11", "1", lines=lines)
        )
    interner = Interner()
    cp = compile_pack(pack, interner)
    ids = interner.encode(every)
    assert ids[len(a_codes) :].min() > ids[: len(a_codes)].max()  # `pp`'s second keys come last
    guards = cp.X[8].reshape(-1, 6)
    assert guards[0, 0] == 2 and guards[1, 0] == 2
    assert guards[1, 2] != guards[1, 4]  # two key columns
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    got = evaluate([cp], batch)
    assert got == reference.evaluate([pack], claims)
    fired = {(e.rule_id, e.claim_index) for e in got}
    assert ("P-1", 7) in fired and ("P-2", 7) in fired
    assert {r for r, _ in fired} == {"P-1", "P-2"}
    _kernel_equals_twin(cp, batch, interner, monkeypatch, block=4)


def test_pair_template_path_equals_general_loops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``list_pairs``' template path (one kind-2 pair rule, short claims) lists what the loops do.

    The compiled kernel (template path for claims of up to ``PAIR_TEMPLATE_MAX`` lines), its
    twin, and its twin with no templates (every claim through the per-line, per-rule loops) give
    the same rows and per-claim offsets, with inactive claims, undated claims, missing codes and
    pairs whose rows end before the claims' dates.
    """
    claims = W.make_claims(1500, seed=12)
    pairs = sorted(
        {
            (int(a.procedure_code), int(b.procedure_code))
            for c in claims
            for a in c.lines
            for b in c.lines
            if a is not b and (int(a.procedure_code) * 3 + int(b.procedure_code)) % 5 != 0
        }
    )
    body = "\n".join(
        f"{a}\t{b}\t\t20200101\t{'20210101' if (a + b) % 7 == 0 else '*'}\t{(a + b) % 2}\tx"
        for a, b in pairs
    )
    (tmp_path / "ptp.txt").write_text("preamble\n" + body + "\n")
    W.write_mue(tmp_path / "mue.csv", 100)
    pack = PackData.load(W.build_rules(40), tmp_path)
    interner = Interner()
    cp = compile_pack(pack, interner)
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    dates = batch.first_date.copy()
    dates[::9] = K.MISS  # undated claims: only open rows apply
    active = np.ones(batch.n_claims, dtype=np.bool_)
    active[2::7] = False
    line_cols = batch.line_cols.copy()
    col = batch.field_col[cp.X[8][2]]
    line_cols[col, ::13] = K.MISS  # missing procedure codes

    def listed(fn: object) -> tuple[list[list[int]], list[int]]:
        poff = np.zeros(batch.n_claims + 1, dtype=np.int64)
        with np.errstate(over="ignore"):
            rows, n = fn(  # type: ignore[operator]
                cp.X, cp.P[4], cp.P[5], True, active, dates, batch.line_code, line_cols,
                batch.field_col, batch.line_off, cp.T, 0, batch.n_claims, poff,
                np.empty((8, 5), dtype=np.int64),
            )  # fmt: skip
        return rows[:n].tolist(), poff.tolist()

    kernel = listed(K.list_pairs)
    twin = listed(K.list_pairs.py_func)
    monkeypatch.setattr(K, "PAIR_TEMPLATE_MAX", 1)
    loops = listed(K.list_pairs.py_func)
    assert kernel == twin == loops
    assert len(kernel[0]) > 50 and any(row[3] >= 0 for row in kernel[0])
