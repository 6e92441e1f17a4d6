"""Fused instructions, exact guards, index-checked conjuncts and the per-first-key pair filter.

Each is an exact rewrite of the interpreted form: the kernel, its plain-Python twin and the
reference evaluator agree on claims with missing values, no lines and no diagnoses.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from claims.model import (
    Claim,
    ClaimKind,
    Diagnosis,
    DiagnosisRole,
    Person,
    ServiceLine,
)
from dsl.ir import (
    SLOT_FIRST_BINDER,
    AggKind,
    Aggregate,
    And,
    CmpOp,
    Compare,
    FieldRef,
    InSet,
    Not,
    Scope,
    ValueType,
)
from engine import kernels as K
from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import _pair_hash, compile_pack
from engine.evaluate import _batch_arrays, evaluate, finding_rows
from engine.pack import PackData
from engine.values import MISS, OPEN_HI, OPEN_LO
from tests.engine.irbuild import FIELDS, SPAN, Builder, fref

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import engine_workload as W

T = ValueType
B = T.BOOL


def _binder(name: str) -> FieldRef:
    info = FIELDS[name]
    return FieldRef(SPAN, info.type, info.id, SLOT_FIRST_BINDER)


def _pack() -> tuple[PackData, dict[str, int]]:
    b = Builder()
    pc, units = fref("line.procedure_code"), fref("line.units")
    ids: dict[str, int] = {}
    lines, dxs = fref("claim.lines"), fref("claim.diagnoses")
    charge_sum = Aggregate(SPAN, T.MONEY, AggKind.SUM, SLOT_FIRST_BINDER, lines, None,
                           _binder("line.charge"))  # fmt: skip
    units_sum = Aggregate(SPAN, T.NUMBER, AggKind.SUM, SLOT_FIRST_BINDER, lines, None,
                          _binder("line.units"))  # fmt: skip
    ids["sum"] = b.rule(
        Compare(SPAN, B, CmpOp.NE, fref("claim.total_charge"), charge_sum), Scope.CLAIM
    )
    ids["sum_units"] = b.rule(Compare(SPAN, B, CmpOp.GT, units_sum, b.num(3)), Scope.CLAIM)
    dx_in = InSet(SPAN, B, _binder("dx.code"), b.lset(members=("E119", "I10", "")))
    any_dx = Aggregate(SPAN, B, AggKind.ANY, SLOT_FIRST_BINDER, dxs, dx_in, None)
    ids["any_dx"] = b.rule(
        And(SPAN, B, (InSet(SPAN, B, pc, b.lset(members=("99213", "99214"))), Not(SPAN, B, any_dx)))
    )
    line_in = InSet(SPAN, B, _binder("line.procedure_code"), b.lset(members=("J3420", "99214")))
    any_line = Aggregate(SPAN, B, AggKind.ANY, SLOT_FIRST_BINDER, lines, line_in, None)
    ids["any_line"] = b.rule(any_line, Scope.CLAIM)
    # exact guards: the rule is the indexed code and one ``field op constant``
    ids["units"] = b.rule(
        And(SPAN, B, (InSet(SPAN, B, pc, b.lset(members=("99213", "J3420"))),
                      Compare(SPAN, B, CmpOp.GT, units, b.num(2))))
    )  # fmt: skip
    ids["sex"] = b.rule(
        And(SPAN, B, (Compare(SPAN, B, CmpOp.EQ, pc, b.code("99214")),
                      Compare(SPAN, B, CmpOp.EQ, fref("patient.sex"), b.code("M"))))
    )  # fmt: skip
    ids["code_only"] = b.rule(Compare(SPAN, B, CmpOp.EQ, pc, b.code("J3420")))
    # not exact: a non-firing branch comes first
    ids["two_branches"] = b.rule(
        [
            (Compare(SPAN, B, CmpOp.GE, units, b.num(5)), False),
            (And(SPAN, B, (InSet(SPAN, B, pc, b.lset(members=("99213",))),
                           Compare(SPAN, B, CmpOp.GT, units, b.num(1)))), True),
        ]
    )  # fmt: skip
    ids["dx_role"] = b.rule(
        Compare(SPAN, B, CmpOp.EQ, fref("dx.role"), b.code("principal")), Scope.DIAGNOSIS
    )
    # ``count(x in source)`` without a condition: one instruction (lines, diagnoses, a code set)
    n_dx = Aggregate(SPAN, T.NUMBER, AggKind.COUNT, SLOT_FIRST_BINDER, dxs, None, None)
    ids["count_dx"] = b.rule(Compare(SPAN, B, CmpOp.GT, n_dx, b.num(1)), Scope.CLAIM)
    n_lines = Aggregate(SPAN, T.NUMBER, AggKind.COUNT, SLOT_FIRST_BINDER, lines, None, None)
    ids["count_lines"] = b.rule(Compare(SPAN, B, CmpOp.GE, n_lines, b.num(3)), Scope.CLAIM)
    mods = fref("line.modifiers")
    n_mods = Aggregate(SPAN, T.NUMBER, AggKind.COUNT, SLOT_FIRST_BINDER, mods, None, None)
    ids["count_mods"] = b.rule(Compare(SPAN, B, CmpOp.EQ, n_mods, b.num(1)))
    return PackData.load(b.build()), ids


def _claims() -> list[Claim]:
    base = {
        "kind": ClaimKind.PROFESSIONAL,
        "control_number": "1",
        "patient_control_number": "P",
        "facility_code": "11",
        "frequency_code": "1",
    }
    d = date(2024, 3, 1)
    man = Person("X", "Y", birth_date=date(1980, 1, 1), sex="M")
    woman = Person("X", "Y", birth_date=date(1990, 1, 1), sex="F")

    def ln(
        i: int, code: str, units: int | None, charge: str | None = "10", mods: tuple[str, ...] = ()
    ) -> ServiceLine:
        return ServiceLine(
            i,
            None if charge is None else Decimal(charge),
            None if units is None else Decimal(units),
            code,
            modifiers=mods,
            service_date=d,
        )

    dx = (Diagnosis("E119", DiagnosisRole.PRINCIPAL), Diagnosis("Z00", DiagnosisRole.OTHER))
    other_dx = (Diagnosis("R51", DiagnosisRole.PRINCIPAL),)
    out = [
        Claim(**base, total_charge=Decimal(0), lines=(), diagnoses=()),  # type: ignore[arg-type]
        Claim(
            **base,  # type: ignore[arg-type]
            total_charge=Decimal(30),
            subscriber=man,
            lines=(ln(1, "99213", 3), ln(2, "99214", 1), ln(3, "J3420", None, None)),
            diagnoses=dx,
        ),
        Claim(
            **base,  # type: ignore[arg-type]
            total_charge=Decimal(20),
            subscriber=woman,
            lines=(ln(1, "99213", 5, mods=("25",)), ln(2, "99214", 2), ln(3, "A0001", 1)),
            diagnoses=other_dx,
        ),
        Claim(
            **base,  # type: ignore[arg-type]
            total_charge=None,
            subscriber=man,
            lines=(ln(1, "99214", 1), ln(2, "99213", 2, None)),
            diagnoses=(),
        ),
    ]
    return out


def test_fused_and_exact_rules_match_twin_and_reference() -> None:
    pack, ids = _pack()
    interner = Interner()
    cp = compile_pack(pack, interner)
    assert not cp.fallback_rules
    ops = set(cp.P[0][:, 0].tolist())
    assert {K.OP_AGG_SUM_FIELD, K.OP_AGG_ANY_IN, K.OP_AGG_COUNT} <= ops
    assert K.OP_AGG_START not in ops  # every aggregate of this pack is fused
    guards = cp.X[8].reshape(-1, 6)
    assert guards[ids["units"], 0] == 3
    assert guards[ids["sex"], 0] == 3
    assert guards[ids["two_branches"], 0] == 1  # another branch: not sufficient
    assert guards[ids["dx_role"], 0] == 3
    # the indexed conjunct is not emitted: ``code_only`` is the constant true
    code, br_pc = cp.P[0], cp.P[1]
    assert code[br_pc[cp.P[3][ids["code_only"]]]].tolist()[:2] == [K.OP_CONST, 1]
    claims = _claims()
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    got = evaluate([cp], batch)
    assert got == reference.evaluate([pack], claims)
    fired = {e.rule_id for e in got}
    assert {pack.rules.rules[i].id for i in ids.values()} <= fired
    results = []
    for fn in (K.run_pack, K.run_pack.py_func):
        work = tuple(np.zeros(64, dtype=np.int64) for _ in range(4))
        out = np.zeros((1000, 5), dtype=np.int64)
        redo = np.zeros(len(claims), dtype=np.int64)
        n = fn(
            cp.P, cp.X, np.ones(len(claims), dtype=np.bool_), batch.first_date, batch.line_code,
            _batch_arrays(batch), interner.string_arrays(), cp.L, cp.T, cp.I, work, out, redo,
        )  # fmt: skip
        results.append(out[:n].tolist())
    assert results[0] == results[1]
    assert len(K.run_pack.signatures) == 1


@pytest.fixture(scope="module")
def ptp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ptp")
    W.write_ptp(d / "ptp.txt", 20_000)
    W.write_mue(d / "mue.csv", 100)
    return d


def test_pair_filter_twin(ptp: Path) -> None:
    """The per-first-key filter never rejects a pair of the table; kernel and twin agree."""
    pack = PackData.load(W.build_rules(10), ptp)
    cp = compile_pack(pack, Interner())
    row_off, keys = cp.T[0], cp.T[1]
    assert cp.T[12].tolist()[:2] == [1, -1]  # the PTP table has a filter, the MUE table none
    table = keys[row_off[0] : row_off[1]]
    k1s, k2s = (table >> 32).tolist(), (table & 0xFFFFFFFF).tolist()
    rng = np.random.default_rng(3)
    ids = np.unique(np.concatenate([table >> 32, table & 0xFFFFFFFF]))
    absent = [
        (int(a), int(b))
        for a, b in rng.choice(ids, size=(2000, 2))
        if not np.any(table == (int(a) << 32 | int(b)))
    ]
    for fn in (K.pair_maybe, K.pair_maybe.py_func):
        with np.errstate(over="ignore"):  # the twin's hash wraps like int64 in the kernel
            assert all(fn(cp.T, 0, a, b) for a, b in zip(k1s[:3000], k2s[:3000], strict=True))
            rejected = [not fn(cp.T, 0, a, b) for a, b in absent]
            assert fn(cp.T, 0, -1, k2s[0]) is False
            assert fn(cp.T, 0, 10**9, k2s[0]) is False
            assert fn(cp.T, 1, 0, 0) is True  # no filter: may hold
        assert sum(rejected) > 0.9 * len(absent)
    with np.errstate(over="ignore"):
        twin = [K.pair_maybe.py_func(cp.T, 0, a, b) for a, b in absent]
    assert twin == [K.pair_maybe(cp.T, 0, a, b) for a, b in absent]


def test_workload_kernel_matches_twin(ptp: Path) -> None:
    """The benchmark workload's shapes (guards of every kind, fused aggregates, the PTP rule)."""
    claims = W.make_claims(400, seed=9)
    pack = PackData.load(W.build_rules(300), ptp)
    interner = Interner()
    cp = compile_pack(pack, interner)
    guards = cp.X[8].reshape(-1, 6)
    assert set(guards[:, 0].tolist()) >= {0, 1, 3, 12}  # 12: the PTP rule (kind 2 decided whole)
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    assert evaluate([cp], batch) == reference.evaluate([pack], claims)
    rows = finding_rows(cp, 0, batch)
    results = []
    for fn in (K.run_pack, K.run_pack.py_func):
        work = tuple(np.zeros(cp.stack_size + 64, dtype=np.int64) for _ in range(4))
        out = np.zeros((rows.shape[0] + 10, 5), dtype=np.int64)
        redo = np.zeros(batch.n_claims, dtype=np.int64)
        with np.errstate(over="ignore"):
            n = fn(
                cp.P, cp.X, np.ones(batch.n_claims, dtype=np.bool_), batch.first_date,
                batch.line_code, _batch_arrays(batch), interner.string_arrays(), cp.L, cp.T,
                cp.I, work, out, redo,
            )  # fmt: skip
        results.append(out[:n].tolist())
    assert results[0] == results[1]
    assert len(results[0]) == rows.shape[0]


def _ptp_dir(d: Path) -> Path:
    """A PTP file with a key in three rows (date windows), deleted rows and open rows."""
    rows = [
        ("10001", "10002", "20200101", "20210101", "0"),
        ("10001", "10002", "20210101", "20220101", "1"),
        ("10001", "10002", "20230101", "*", "0"),
        ("10001", "10003", "19960101", "*", "1"),
        ("10002", "10001", "20200101", "20200102", "9"),
        ("10004", "10001", "20200101", "*", "0"),
    ] + [("10005", f"{10100 + k}", "20200101", "*", str(k % 2)) for k in range(40)]
    body = "\n".join(f"{a}\t{b}\t\t{f}\t{u}\t{m}\tMisuse" for a, b, f, u, m in rows)
    (d / "ptp.txt").write_text("CPT codes and descriptions only are copyright AMA\n" + body + "\n")
    W.write_mue(d / "mue.csv", 10)
    return d


def _pair_find_agrees(tt: tuple[np.ndarray, ...], pairs: list[tuple[int, int]]) -> int:
    """pair_find (kernel and twin) equals table_find on every pair and day; the rows found."""
    days = [MISS, -719162, 0, 18262, 18628, 18993, 19000, 19358, 19500, 2932896]
    found = 0
    with np.errstate(over="ignore"):  # the twin's hash wraps like int64 in the kernel
        for a, b in pairs:
            for d in days:
                want = K.table_find(tt, 0, (a << 32) | (b & 0xFFFFFFFF), d)
                assert K.pair_find(tt, 0, a, b, d) == want, (a, b, d)
                assert K.pair_find.py_func(tt, 0, a, b, d) == want, (a, b, d)
                found += want >= 0
    return found


def test_pair_hash_twin(ptp: Path, tmp_path: Path) -> None:
    """The exact per-first-key hash finds the row table_find finds (duplicate keys, windows)."""
    for d in (ptp, _ptp_dir(tmp_path)):
        cp = compile_pack(PackData.load(W.build_rules(10), d), Interner())
        tt = cp.T
        table = tt[1][tt[0][0] : tt[0][1]]
        ids = np.unique(np.concatenate([table >> 32, table & 0xFFFFFFFF])).tolist()
        rng = np.random.default_rng(5)
        present = [(int(k >> 32), int(k & 0xFFFFFFFF)) for k in table[:400]]
        absent = [(int(a), int(b)) for a, b in rng.choice(ids, size=(300, 2))]
        odd = [(-1, ids[0]), (10**6, ids[0]), (ids[0], -1), (ids[0], 2**32 + ids[0])]
        assert _pair_find_agrees(tt, present + absent + odd) > 0
        # slots hold each distinct key once, load <= 2/3
        n_keys = np.unique(table).shape[0]
        assert np.count_nonzero(tt[16][::2] != -1) == n_keys
        assert tt[16].shape[0] // 2 >= 1.5 * n_keys
    # row dates that do not fit the slots' int32 (or are inverted open ends): the int64 dates
    # decide, the slots never claim a row is effective when it is not
    keys = table
    n = keys.shape[0]
    froms, untils = tt[2].copy(), tt[3].copy()
    lo, hi = int(tt[0][0]), int(tt[0][1])
    froms[lo:hi:3] = OPEN_HI
    untils[lo + 1 : hi : 3] = OPEN_LO
    froms[lo + 2 : hi : 5] = -(2**40)
    untils[lo + 2 : hi : 7] = 2**40
    n_dir = int(tt[10][0])
    v0 = tt[5][tt[4][0] : tt[4][0] + n]
    off, slots, vals = _pair_hash(keys, froms[lo:hi], untils[lo:hi], v0, n_dir, 0)
    rel = slots[::2] & 0xFFFFFFFF
    full = slots[::2] != -1
    assert np.array_equal(vals[full], v0[rel[full]]) and np.all(vals[~full] == MISS)
    hs_off = tt[15].copy()
    da = int(tt[9][0])
    hs_off[da : da + n_dir + 1] = off
    T2 = (*tt[:2], froms, untils, *tt[4:15], hs_off, slots)
    assert n == hi - lo
    pairs = [(int(k >> 32), int(k & 0xFFFFFFFF)) for k in keys]
    _pair_find_agrees(T2, pairs)
