"""Each kernel against its plain-Python twin (``py_func``), on edge-case batches."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

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
    BuiltinId,
    Call,
    CmpOp,
    Compare,
    InSet,
    Scope,
    SourceFormat,
    TableGet,
    TableHas,
    TableKind,
    ValueType,
)
from engine import kernels as K
from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack
from engine.evaluate import _batch_arrays, evaluate
from engine.pack import PackData
from engine.values import MISS, date_to_days
from tests.engine.irbuild import SPAN, Builder, fref
from tests.engine.test_tables import FIXTURES

T = ValueType
B = T.BOOL
BOUNDARY = date(2024, 1, 1)


def _pack() -> PackData:
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
    code = fref("line.procedure_code")
    b.rule(TableHas(SPAN, B, ptp, (code, fref("line.procedure_code", SLOT_OTHER))), Scope.LINE_PAIR)
    b.rule(
        Compare(SPAN, B, CmpOp.GT, fref("line.units"), TableGet(SPAN, T.NUMBER, mue, (code,), 0))
    )
    b.rule(
        InSet(SPAN, B, code, b.lset(("Z0004",), (("A0000", "A9999"),), ("G",))),
        eff=(BOUNDARY, None),
    )
    b.rule(Call(SPAN, B, BuiltinId.NPI_VALID, (fref("billing.npi"),)), Scope.CLAIM)
    b.rule(
        Call(
            SPAN, B, BuiltinId.ICD10CM_BILLABLE, (fref("dx.code"), fref("claim.first_service_date"))
        ),
        Scope.DIAGNOSIS,
    )
    return PackData.load(b.build(), FIXTURES)


def _line(i: int, code: str, d: date, units: int = 1) -> ServiceLine:
    return ServiceLine(i, Decimal("10.50"), Decimal(units), code, service_date=d)


def _claims() -> list[Claim]:
    billing = (Provider(ProviderRole.BILLING, npi="1234567893"),)
    dx = (Diagnosis("E119", DiagnosisRole.PRINCIPAL), Diagnosis("E11.9", DiagnosisRole.OTHER))
    base = {
        "kind": ClaimKind.PROFESSIONAL,
        "control_number": "1",
        "patient_control_number": "P",
        "total_charge": Decimal(1),
        "facility_code": "11",
        "frequency_code": "1",
    }
    codes = ["Z0001", "Z0002", "Z0003", "Z0004", "QQQQQ", "A1234", "G0001"]
    many = tuple(_line(i + 1, codes[i % len(codes)], BOUNDARY, units=1 + i % 6) for i in range(999))
    out = [
        Claim(**base, lines=(), diagnoses=dx, providers=billing),  # type: ignore[arg-type]
        Claim(**base, lines=many, diagnoses=dx),  # type: ignore[arg-type]
        Claim(
            **base,
            lines=(_line(1, "NOPE1", BOUNDARY), _line(2, "NOPE2", BOUNDARY)),  # type: ignore[arg-type]
            providers=billing,
        ),
    ]
    for d in (BOUNDARY - timedelta(days=1), BOUNDARY, date(2023, 12, 31), date(2019, 12, 31)):
        lines = (_line(1, "Z0001", d, 5), _line(2, "Z0002", d, 9), _line(3, "Z0004", d))
        out.append(Claim(**base, lines=lines, diagnoses=dx))  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("n_claims", [0, 1, 3, 7])
def test_run_pack_matches_twin_and_reference(n_claims: int) -> None:
    pack = _pack()
    interner = Interner()
    cp = compile_pack(pack, interner)
    claims = _claims()[:n_claims]
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    S = interner.string_arrays()
    results = []
    for fn in (K.run_pack, K.run_pack.py_func):
        work = tuple(np.zeros(64, dtype=np.int64) for _ in range(4))
        out = np.zeros((100_000, 5), dtype=np.int64)
        redo = np.zeros(n_claims, dtype=np.int64)
        active = np.ones(n_claims, dtype=np.bool_)
        with np.errstate(over="ignore"):  # the twin's hash wraps like int64 in the kernel
            n = _run(fn, cp, batch, S, active, work, out, redo)
        results.append(out[:n].tolist())
    assert results[0] == results[1]
    assert evaluate([cp], batch) == reference.evaluate([pack], claims)
    if n_claims == 7:
        assert results[0]  # the edge cases do fire


def _run(
    fn: Any,
    cp: Any,
    batch: ClaimBatch,
    S: Any,
    active: Any,
    work: Any,
    out: Any,
    redo: Any,
) -> int:
    return int(
        fn(
            cp.P,
            cp.X,
            active,
            batch.first_date,
            batch.line_code,
            _batch_arrays(batch),
            S,
            cp.L,
            cp.T,
            cp.I,
            work,
            out,
            redo,
        )
    )


def test_string_kernels() -> None:
    it = Interner()
    ids = [it.intern(s) for s in ("", "A", "AB", "B", "Z0001", "1234567893", "1234567890", "E119")]
    S = it.string_arrays()
    for fn in (K.str_cmp, K.str_cmp.py_func):
        for a in ids:
            for b in ids:
                sa, sb = it.string(a), it.string(b)
                assert fn(S[0], S[1], a, b) == (sa > sb) - (sa < sb)
    for fn in (K.str_starts_with, K.str_starts_with.py_func):
        assert fn(S[0], S[1], ids[2], ids[1])
        assert not fn(S[0], S[1], ids[1], ids[2])
    for fn in (K.npi_check, K.npi_check.py_func):
        assert fn(S[0], S[1], ids[5]) == reference.npi_valid("1234567893")
        assert not fn(S[0], S[1], ids[6])
        assert not fn(S[0], S[1], MISS)
    for fn in (K.icd_format, K.icd_format.py_func):
        for i in ids:
            assert fn(S[0], S[1], i) == reference.icd10cm_format(it.string(i))


def test_civil_from_days() -> None:
    for d in (
        date(1, 1, 1),
        date(1969, 12, 31),
        date(1970, 1, 1),
        date(2000, 2, 29),
        date(9999, 12, 31),
    ):
        for fn in (K.civil_from_days, K.civil_from_days.py_func):
            assert fn(date_to_days(d)) == (d.year, d.month, d.day)


def test_table_find_boundaries() -> None:
    pack = _pack()
    cp = compile_pack(pack, Interner())
    it = cp.interner
    key = (it.intern("Z0001") << 32) | it.intern("Z0003")
    for fn in (K.table_find, K.table_find.py_func):
        assert fn(cp.T, 0, key, date_to_days(date(2023, 1, 1))) >= 0
        assert fn(cp.T, 0, key, date_to_days(date(2022, 12, 31))) == -1
        assert fn(cp.T, 0, key, date_to_days(date(2024, 1, 1))) == -1
        assert fn(cp.T, 0, key, MISS) == -1
        assert fn(cp.T, 1, it.intern("ABSENT"), 0) == -1


def test_in_literal_set_twin() -> None:
    pack = _pack()
    cp = compile_pack(pack, Interner())
    it = cp.interner
    S = it.string_arrays()
    for code in ("Z0004", "A0000", "A5", "A9999", "B", "G", "GX", "F9"):
        i = it.intern(code)
        S = it.string_arrays()
        want = code == "Z0004" or "A0000" <= code <= "A9999" or code.startswith("G")
        for fn in (K.in_literal_set, K.in_literal_set.py_func):
            assert fn(cp.L, S, 0, i) == want


def _range_pack() -> PackData:
    b = Builder()
    s = b.lset((), (("O00", "O9A"), ("A0000", "A9999"), ("M", "M")), ())
    b.rule(InSet(SPAN, B, fref("dx.code"), s), Scope.DIAGNOSIS)
    return PackData.load(b.build(), FIXTURES)


RANGE_BOUNDARIES = {
    "O00": True,  # the lower bound
    "O0": False,  # below the lower bound (a prefix of it sorts first)
    "N99": False,
    "O00A": True,
    "O9": True,  # sorts before the upper bound
    "O99": True,
    "O9A": True,  # the upper bound
    "O9A2": True,  # sub-codes of the upper bound
    "O9A211": True,
    "O9AZZZZ": True,
    "O9B": False,  # past the upper bound, not a sub-code
    "O9B0": False,
    "P00": False,
    "A9999": True,
    "A99991": True,
    "A9999Z": True,
    "AA": False,
    "M": True,  # a one-code range
    "M1": True,  # its sub-codes
    "MA": True,
    "N": False,
    "L99": False,
}


def test_code_range_includes_sub_codes_of_upper_bound() -> None:
    """Kernel, its twin and the reference agree at the range boundaries."""
    pack = _range_pack()
    cp = compile_pack(pack, Interner())
    it = cp.interner
    ls = pack.rules.literal_sets[0]
    for code, want in RANGE_BOUNDARIES.items():
        i = it.intern(code)
        S = it.string_arrays()
        env = reference._Env(_claims()[0], None, pack)
        assert reference._in_set(env, code, 0) is want, code
        for fn in (K.in_literal_set, K.in_literal_set.py_func):
            assert fn(cp.L, S, 0, i) == want, (fn, code)
        assert ls.ranges


def test_code_range_run_pack_matches_reference() -> None:
    pack = _range_pack()
    interner = Interner()
    cp = compile_pack(pack, interner)
    assert not cp.fallback_rules
    base = _claims()[0]
    dx = tuple(Diagnosis(c, DiagnosisRole.OTHER) for c in RANGE_BOUNDARIES)
    claim = Claim(**{**_claim_kwargs(base), "diagnoses": dx})  # type: ignore[arg-type]
    batch = ClaimBatch.build([claim], cp.fields_needed, interner)
    edits = evaluate([cp], batch)
    assert edits == reference.evaluate([pack], [claim])
    assert [e.diagnosis for e in edits] == [c for c, w in RANGE_BOUNDARIES.items() if w]


def _claim_kwargs(c: Claim) -> dict[str, Any]:
    return {f: getattr(c, f) for f in Claim.__dataclass_fields__}


# --- processing_date(): a per-call scalar, not a specialisation ---------------------------------


def _processing_pack() -> PackData:
    b = Builder()
    pd = Call(SPAN, T.DATE, BuiltinId.PROCESSING_DATE, ())
    svc = fref("line.service_date")
    b.rule(Compare(SPAN, B, CmpOp.GT, svc, pd), message=("after ", pd))  # future date of service
    late = Call(SPAN, T.NUMBER, BuiltinId.DAYS_BETWEEN, (svc, pd))
    b.rule(Compare(SPAN, B, CmpOp.GT, late, b.num(365)), message=("late ", late))  # timely filing
    b.rule(Compare(SPAN, B, CmpOp.EQ, pd, pd), Scope.CLAIM)  # true exactly when a date is given
    return PackData.load(b.build())


PROCESSING = [None, BOUNDARY - timedelta(days=1), BOUNDARY, BOUNDARY + timedelta(days=366)]


@pytest.mark.parametrize("processing", PROCESSING)
def test_processing_date_kernel_matches_twin_and_reference(processing: date | None) -> None:
    pack = _processing_pack()
    interner = Interner()
    cp = compile_pack(pack, interner)
    assert not cp.fallback_rules  # the kernel evaluates processing_date() itself
    assert cp.I[2].tolist()[:3] == [0, MISS, 0]  # no ICD data, no date, no releases
    claims = _claims()
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    S = interner.string_arrays()
    env = cp.I[2].copy()
    env[1] = MISS if processing is None else date_to_days(processing)
    results = []
    for fn in (K.run_pack, K.run_pack.py_func):
        work = tuple(np.zeros(64, dtype=np.int64) for _ in range(4))
        out = np.zeros((100_000, 5), dtype=np.int64)
        redo = np.zeros(len(claims), dtype=np.int64)
        active = np.ones(len(claims), dtype=np.bool_)
        n = fn(
            cp.P, cp.X, active, batch.first_date, batch.line_code, _batch_arrays(batch), S,
            cp.L, cp.T, (cp.I[0], cp.I[1], env), work, out, redo,
        )  # fmt: skip
        results.append(out[:n].tolist())
    assert results[0] == results[1]
    fast = evaluate([cp], batch, processing_date=processing)
    assert fast == reference.evaluate([pack], claims, processing_date=processing)
    fired = {e.rule_id for e in fast}
    if processing is None:
        assert not fast  # missing: every comparison with it is false
    else:
        assert "T-0002" in fired  # the claim rule: processing_date() == processing_date()
        days = [ln.service_date for c in claims for ln in c.lines if ln.service_date]
        assert ("T-0000" in fired) == (processing < max(days))
        assert ("T-0001" in fired) == any((processing - d).days > 365 for d in days)
        assert all(processing.isoformat() in e.message for e in fast if e.rule_id == "T-0000")
    assert len(K.run_pack.signatures) == 1  # a new date never compiles the kernel again


def test_guard_intervals_twin() -> None:
    """Guard intervals decide ``x op c`` exactly as the comparison (kernel and twin)."""
    big, small = 2**63 - 1, MISS + 1
    consts = [MISS, small, small + 1, -5, 0, 1, 7, big - 1, big]
    xs = [MISS, small, small + 1, -6, -5, -4, 0, 1, 2, 6, 7, 8, big - 1, big]
    rows = [
        (1 if n % 2 else 3, 0, 0, c, op, kind)
        for n, (c, op, kind) in enumerate(
            (c, op, kind) for c in consts for op in range(6) for kind in range(3)
        )
    ]
    rows.append((2, 0, 0, 0, 0, 0))  # kind 2 (a table filter): no interval
    G = np.asarray(rows, dtype=np.int64).reshape(-1)
    for fn in (K.guard_intervals, K.guard_intervals.py_func):
        gv = fn(G, len(rows))
        assert gv[-1].tolist() == [0, 0, 0]
        for r, (_, _, _, c, op, kind) in enumerate(rows[:-1]):
            lo, hi, use = gv[r].tolist()
            assert use == (0 if op == 1 or (kind == 1 and op >= 2) else 1), (c, op, kind)
            if use:
                for x in xs:
                    want = K._cmp_scalar.py_func(op, kind, x, c)
                    assert (lo <= x <= hi) == (want == 1), (x, c, op, kind)


def test_prefetch_is_a_hint() -> None:
    """``prefetch`` compiles to the LLVM intrinsic inside a kernel and changes no result.

    Compiled, a gather with a prefetch a few elements ahead (past the end too: a hint never
    faults) returns what it returns without; from Python it is a no-op.
    """
    from numba import njit

    from engine.prefetch import prefetch

    @njit
    def gather(a: Any, idx: Any) -> int:
        s = 0
        for j in range(idx.shape[0]):
            prefetch(a, idx[min(j + 4, idx.shape[0] - 1)] + 64)
            s += a[idx[j]]
        return s

    a = np.arange(1000, dtype=np.int64) * 3
    idx = np.array([5, 999, 0, 17, 500, 3], dtype=np.int64)
    assert gather(a, idx) == int(a[idx].sum())
    assert gather.py_func(a, idx) == int(a[idx].sum())
    ir = gather.inspect_llvm(gather.signatures[0])
    assert "llvm.prefetch" in ir
