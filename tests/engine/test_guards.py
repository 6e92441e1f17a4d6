"""Rule guards (necessary conditions checked while listing kernel tasks) keep results exact."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from claims.model import Claim
from dsl.ir import BuiltinId, Call, CmpOp, Compare, Not, Scope, ValueType
from engine import compiled, reference
from engine import kernels as K
from engine.batch import ClaimBatch, Interner
from engine.compiled import CompiledPack, compile_pack
from engine.edits import Edit
from engine.evaluate import _batch_arrays, evaluate, finding_rows, findings
from engine.pack import PackData
from tests.engine.irbuild import SPAN, fref

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import engine_workload as W


def _pair_kind(bypass: bool, monkeypatch: pytest.MonkeyPatch) -> int:
    """The PTP rule's guard kind: 12 (decided whole by the lister), or 2 with the bypass off."""
    if not bypass:
        monkeypatch.setattr(compiled, "_pair_bypass", lambda *args: None)
    return 12 if bypass else 2


@pytest.mark.parametrize("bypass", [True, False])
def test_workload_guards_match_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bypass: bool
) -> None:
    kind = _pair_kind(bypass, monkeypatch)
    claims = W.make_claims(700, seed=5)
    # PTP pairs taken from the claims themselves, so many pairs hit (indicator 0 and 1 both)
    _write_claim_ptp(tmp_path / "ptp.txt", claims, lambda a, b: (a + b) % 3 != 0)
    W.write_mue(tmp_path / "mue.csv", 10_000)
    pack = PackData.load(W.build_rules(200), tmp_path)
    interner = Interner()
    cp = compile_pack(pack, interner)
    guards = cp.X[8].reshape(-1, 6)
    assert guards[0, 0] == kind  # the PTP pair rule: the table has the pair (lister, exact)
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


@pytest.mark.parametrize("bypass", [True, False])
def test_pair_guard_exact_and_phase_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bypass: bool
) -> None:
    """Pair rules listed by the exact table lookup, run in phase blocks: pair rows last per claim.

    The kernel runs each block of claims in two phases (pair rules, then the others) and copies
    each claim's pair rows after its other rows; the twin with blocks of 3 claims (several
    blocks, a partial last one, inactive claims) gives the rows of the compiled kernel (one
    block), also when ``out`` is too small.
    """
    kind = _pair_kind(bypass, monkeypatch)
    claims = W.make_claims(300, seed=8)
    # some pairs only effective before the claims' dates (the lister must check the window)
    _write_claim_ptp(
        tmp_path / "ptp.txt",
        claims,
        lambda a, b: (a * 7 + b) % 4 != 0,
        ended=lambda a, b: (a + b) % 5 == 0,
    )
    W.write_mue(tmp_path / "mue.csv", 10_000)
    pack = PackData.load(W.build_rules(60), tmp_path)
    interner = Interner()
    cp = compile_pack(pack, interner)
    assert cp.X[8][0] == kind
    ops = _program_ops(cp, 0)
    assert K.OP_TABLE_HAS not in ops  # has(..) checked by the lister
    # kind 12: the lister decides the modifier bypass as well
    assert (K.OP_TABLE_GET in ops) == (not bypass)
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
    # per claim: the pair rule's rows come last
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
    # indexed by the table's codes only: listed for every line, decided by line_masks where
    # the code has one undated row (99213; J0001's row has no value: never holds), left to the
    # lister for the codes with dated rows (80053, A0002)
    assert cp.X[2].tolist() == [0, 1, 2, 3, 4] and cp.X[5].shape[0] == 0
    _kernel_equals_twin(cp, batch, interner, monkeypatch, block=7, mask_block=2)
    gv = K.guard_intervals(cp.X[8], cp.P[4].shape[0])
    B = _batch_arrays(batch)
    n = batch.n_lines
    keep = np.empty(n, dtype=np.int64)
    und = np.empty(n, dtype=np.int64)
    K.line_masks(
        cp.X[2], 0, n, B[1], cp.X[8], gv, B[7], B[8], cp.P[4], cp.P[5], True, cp.T, keep, und
    )
    lines = [ln for cl in claims for ln in cl.lines]
    for ln, k, u in zip(lines, keep.tolist(), und.tolist(), strict=True):
        dated = ln.procedure_code in ("80053", "A0002")
        assert (u != 0) == dated, (ln, k, u)  # M-4's ``!=`` passes any present value
        if ln.procedure_code == "99213":  # limit 2; bits: the guards of M-1 .. M-5
            units = int(ln.units)
            want = [units > 2, units >= 2, units == 2, units != 2, units < 2]
            assert k == sum(int(w) << q for q, w in enumerate(want)), (ln, k)
        elif not dated:
            assert k == 0


def _evaluated(
    pack: PackData, claims: list[Claim]
) -> tuple[CompiledPack, Interner, ClaimBatch, list[Edit]]:
    """The pack compiled, the claims' batch, and its edits, asserted equal to the reference's."""
    interner = Interner()
    cp = compile_pack(pack, interner)
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    got = evaluate([cp], batch)
    assert got == reference.evaluate([pack], claims)
    return cp, interner, batch, got


def _program_ops(cp: CompiledPack, r: int) -> list[int]:
    """The opcodes of rule ``r``'s program (all its branches), in order."""
    code, br_pc, rb_off = cp.P[0], cp.P[1], cp.P[3]
    end = br_pc[rb_off[r + 1]] if rb_off[r + 1] < br_pc.shape[0] else code.shape[0]
    return code[br_pc[rb_off[r]] : end, 0].tolist()


def _kernel_equals_twin(
    cp: CompiledPack,
    batch: ClaimBatch,
    interner: Interner,
    monkeypatch: pytest.MonkeyPatch,
    *,
    block: int,
    mask_block: int | None = None,
) -> None:
    """Finding rows equal findings; kernel rows equal its twin's in phase blocks of ``block``.

    With ``mask_block``, the twin also takes windows of that many claims for its line masks.
    """
    rows = finding_rows(cp, 0, batch)
    listed = findings(cp, 0, batch)
    assert rows.tolist() == [[f.claim, f.pack, f.rule, f.branch, f.item, f.other] for f in listed]
    results = []
    for fn, phase_block in ((K.run_pack, None), (K.run_pack.py_func, block)):
        if phase_block is not None:
            monkeypatch.setattr(K, "PHASE_BLOCK", phase_block)
            if mask_block is not None:
                monkeypatch.setattr(K, "MASK_BLOCK", mask_block)
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


CALL_RULES = """
pack calls { version "1" }
rule N-1 "billing NPI" { category custom severity error scope claim
  when not npi_valid(billing.npi) message "npi" }
rule N-2 "a valid rendering NPI and a large charge" { category custom severity error scope claim
  when npi_valid(rendering.npi) and claim.total_charge > 100 message "n2" }
rule N-3 "a valid rendering NPI, charge not 100" { category custom severity error scope claim
  when claim.total_charge != 100 and npi_valid(rendering.npi) message "n3" }
rule D-1 "invalid on the date of service" { category custom severity error scope diagnosis
  when not icd10cm_valid(dx.code, claim.first_service_date) message "d1" }
rule D-2 "billable secondary" { category custom severity error scope diagnosis
  when icd10cm_billable(dx.code, claim.statement_from) and dx.role != "principal" message "d2" }
rule D-3 "principal not billable" { category custom severity error scope diagnosis
  when dx.role == "principal" and not icd10cm_billable(dx.code, claim.first_service_date)
  message "d3" }
rule D-4 "twice negated" { category custom severity error scope diagnosis
  when not not icd10cm_valid(dx.code, claim.first_service_date) message "d4" }
rule L-1 "indexed, description not billable" { category custom severity error scope line
  when line.procedure_code == "99213" and not icd10cm_billable(line.description, line.service_date)
  message "l1" }
rule L-2 "line NDC as an NPI" { category custom severity error scope line
  when not npi_valid(line.ndc) message "l2" }
rule L-3 "description valid, charge not 5" { category custom severity error scope line
  when icd10cm_valid(line.description, line.service_date) and line.charge != 5 message "l3" }
rule L-4 "claim code on the line's date" { category custom severity error scope line
  when not icd10cm_valid(claim.prior_authorization, line.service_date) message "l4" }
rule O-1 "a call in an or" { category custom severity error scope claim
  when not npi_valid(billing.npi) or claim.total_charge > 1000 message "o1" }
rule P-1 "pair" { category custom severity error scope pair
  when other.number < line.number and not icd10cm_valid(line.description, other.service_date)
  message "p1" }
"""
CALL_KINDS = [9, 1, 8, 9, 8, 1, 9, 9, 9, 8, 9, 0, 0]


def _call_claims() -> list[Claim]:
    """Claims with valid / invalid / missing NPIs and ICD-10-CM codes and dates around a release.

    ``E11A`` is only in the release starting 2025-10-01, ``S301XXA`` only in the one before,
    ``E11`` is valid nowhere (a category), ``Z9X`` has the format but is no code, ``e11a`` and
    ``12`` not even the format; dates on both sides of the 2025-10-01 boundary, before every
    release, and missing (no line dates, no statement date: the first date of service too).
    """
    from datetime import date
    from decimal import Decimal

    from claims.model import (
        ClaimKind,
        Diagnosis,
        DiagnosisRole,
        Provider,
        ProviderRole,
        ServiceLine,
    )

    npis = ("1234567893", "1234567890", "", "12345", "123456789X")
    dxs = ("E11A", "S301XXA", "I10", "E11", "Z9X", "e11a", "12", "E119", "")
    days = (date(2025, 9, 30), date(2025, 10, 1), date(2019, 6, 1), None, date(2026, 2, 1))
    claims = []
    for c in range(120):
        provs = []
        if c % 6 != 5:
            provs.append(Provider(ProviderRole.BILLING, npi=npis[c % len(npis)]))
        if c % 4 != 3:
            provs.append(Provider(ProviderRole.RENDERING, npi=npis[(c // 2) % len(npis)]))
        on = days[c % len(days)]
        lines = tuple(
            ServiceLine(
                j + 1,
                Decimal(5 if (c + j) % 3 == 0 else 50),
                Decimal(1),
                ("99213", "80053")[(c + j) % 2],
                service_date=on if j != 2 else days[(c + 1) % len(days)],
                description=dxs[(c + 2 * j) % len(dxs)],
                ndc=npis[(c + j) % len(npis)],
            )
            for j in range(c % 4)
        )
        dx = tuple(
            Diagnosis(
                dxs[(c * 5 + k) % len(dxs)],
                DiagnosisRole.PRINCIPAL if k == 0 else DiagnosisRole.OTHER,
            )
            for k in range(c % 5)
        )
        claims.append(
            Claim(
                ClaimKind.PROFESSIONAL,
                str(c),
                f"P{c}",
                Decimal(100 if c % 7 == 0 else 70 * (c % 3)),
                "11",
                "1",
                providers=tuple(provs),
                diagnoses=dx,
                lines=lines,
                statement_from=days[(c // 3) % len(days)],
                prior_authorization=dxs[(c // 2) % len(dxs)],
            )
        )
    return claims


def test_call_guard_emission() -> None:
    """``[not] npi_valid / icd10cm_valid / icd10cm_billable`` of fields are guards of kind 8 / 9.

    Kind 9 when the call is the rule's whole condition (with the procedure-code index's
    conjunct), 8 when it is one conjunct of several (not emitted in the program); an exact ``==``
    or order comparison is the guard instead (kind 1), ``!=`` is not; a call inside an ``or`` is
    no guard, nor one in a pair rule.  A rule whose firing branch follows a passing one gets 8.
    """
    from dsl.compile import compile_source
    from tests.engine.irbuild import Builder

    pack = PackData.load(compile_source(CALL_RULES, file="calls.rules"))
    cp = compile_pack(pack, Interner())
    guards = cp.X[8].reshape(-1, 6)
    assert guards[:, 0].tolist() == CALL_KINDS
    assert not cp.fallback_rules
    fields = {f.name: f.id for f in pack.rules.fields}
    assert guards[0].tolist() == [9, 0, 1, fields["billing.npi"], 0, 0]
    assert guards[3].tolist() == [9, 1, 1, fields["dx.code"], fields["claim.first_service_date"], 0]
    assert guards[4].tolist() == [8, 2, 0, fields["dx.code"], fields["claim.statement_from"], 0]
    assert guards[6, 2] == 0  # not not: no negation
    assert guards[8].tolist() == [9, 0, 1, fields["line.ndc"], 0, 0]

    def ops(r: int) -> list[int]:
        return _program_ops(cp, r)

    # kind 8: the call is checked by the lister, only the other conjunct is interpreted
    assert ops(2) == [K.OP_CMP_FC, K.OP_HALT]
    assert ops(4) == [K.OP_CMP_FC, K.OP_HALT]
    assert ops(9) == [K.OP_CMP_FC, K.OP_HALT]
    assert K.OP_CALL in ops(1) and K.OP_CALL in ops(5)  # kind 1: the call is interpreted

    # a passing branch before the firing one: kind 8, not 9 (the interpreter decides the branch)
    b = Builder(claim_kinds=("professional",))
    dx, dos = fref("dx.code"), fref("claim.first_service_date")
    call = Not(SPAN, ValueType.BOOL, Call(SPAN, ValueType.BOOL, BuiltinId.ICD10CM_VALID, (dx, dos)))
    principal = Compare(SPAN, ValueType.BOOL, CmpOp.NE, fref("dx.role"), b.code("principal"))
    b.rule([(principal, False), (call, True)], Scope.DIAGNOSIS)
    b.rule([(call, True)], Scope.DIAGNOSIS)
    pack2 = PackData.load(b.build())
    interner = Interner()
    cp2 = compile_pack(pack2, interner)
    assert cp2.X[8].reshape(-1, 6)[:, 0].tolist() == [8, 9]
    claims = _call_claims()
    got = evaluate([cp2], ClaimBatch.build(claims, cp2.fields_needed, interner))
    assert got == reference.evaluate([pack2], claims)
    assert {e.rule_id for e in got} == {r.id for r in pack2.rules.rules}


@pytest.mark.parametrize("icd", ["releases", "one", "npi-only"])
def test_call_guard_matches_reference(icd: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards of kinds 8 / 9 give the reference evaluator's edits and the twin's rows.

    Several ICD-10-CM releases (the per-release memo; dates on the boundary), one release from
    an explicit mapping (the per-string memo), and a pack without ICD-10-CM built-ins (no code
    data at all); valid, invalid and missing codes, NPIs and dates.
    """
    from dsl.compile import compile_source

    rules = CALL_RULES
    if icd == "npi-only":
        keep = ("N-1", "N-2", "N-3", "L-2", "O-1")
        blocks = rules.split("\nrule ")
        rules = "\nrule ".join([blocks[0], *(x for x in blocks[1:] if x.startswith(keep))])
    mapping = {"I10": True, "E11": False, "E11A": True, "S301XXA": False} if icd == "one" else None
    pack = PackData.load(compile_source(rules, file="calls.rules"), icd10cm=mapping)
    assert len(pack.icd_sets) == {"releases": 2, "one": 1, "npi-only": 0}[icd]
    claims = _call_claims()
    interner = Interner()
    cp = compile_pack(pack, interner)
    kinds = cp.X[8].reshape(-1, 6)[:, 0].tolist()
    assert kinds == (CALL_KINDS if icd != "npi-only" else [9, 1, 8, 9, 0])
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    got = evaluate([cp], batch)
    assert got == reference.evaluate([pack], claims)
    fired = {e.rule_id for e in got}
    assert fired == {r.id for r in pack.rules.rules}
    _kernel_equals_twin(cp, batch, interner, monkeypatch, block=7)


@pytest.mark.parametrize("bypass", [True, False])
def test_pair_guard_two_columns_and_long_claims(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bypass: bool
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

    kind = _pair_kind(bypass, monkeypatch)
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
    assert guards[0, 0] == kind and guards[1, 0] == kind  # kind 12: the pair alone
    assert guards[1, 2] != guards[1, 4]  # two key columns
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    got = evaluate([cp], batch)
    assert got == reference.evaluate([pack], claims)
    fired = {(e.rule_id, e.claim_index) for e in got}
    assert ("P-1", 7) in fired and ("P-2", 7) in fired
    assert {r for r, _ in fired} == {"P-1", "P-2"}
    _kernel_equals_twin(cp, batch, interner, monkeypatch, block=4)


@pytest.mark.parametrize("bypass", [True, False])
def test_pair_template_path_equals_general_loops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bypass: bool
) -> None:
    """``list_pairs``' template path (one kind-2 pair rule, short claims) lists what the loops do.

    The compiled kernel (template path for claims of up to ``PAIR_TEMPLATE_MAX`` lines), its
    twin, and its twin with no templates (every claim through the per-line, per-rule loops) give
    the same rows and per-claim offsets, with inactive claims, undated claims, missing codes and
    pairs whose rows end before the claims' dates.
    """
    kind = _pair_kind(bypass, monkeypatch)
    claims = W.make_claims(1500, seed=12)
    _write_claim_ptp(
        tmp_path / "ptp.txt",
        claims,
        lambda a, b: (a * 3 + b) % 5 != 0,
        ended=lambda a, b: (a + b) % 7 == 0,
    )
    W.write_mue(tmp_path / "mue.csv", 100)
    # the workload's PTP rule (indexed by every column-1 code), and one indexed by a few codes
    # only (the template path then asks the code index of the pairs the filter lets through)
    some = sorted({ln.procedure_code for c in claims[:60] for ln in c.lines})
    members = ", ".join(f'"{x}"' for x in some)
    narrow = f"""
    pack narrow {{ version "1" }}
    table ptp pair {{ source ncci_ptp "ptp.txt"
      key column_1: code, column_2: code value modifier_indicator: code, rationale: text }}
    rule N-1 "some codes" {{ category custom severity error scope pair
      when line.procedure_code in {{{members}}}
        and (line.procedure_code, other.procedure_code) in ptp
      message "n" }}
    """
    from dsl.compile import compile_source

    packs = [
        PackData.load(W.build_rules(40), tmp_path),
        PackData.load(compile_source(narrow, file="narrow.rules"), tmp_path),
    ]
    counts = []
    template_max = K.PAIR_TEMPLATE_MAX
    for pack in packs:
        interner = Interner()
        cp = compile_pack(pack, interner)
        assert cp.X[8][0] == kind  # the pair rule: guard kind 2 (12: decided whole)
        batch = ClaimBatch.build(claims, cp.fields_needed, interner)
        dates = batch.first_date.copy()
        dates[::9] = K.MISS  # undated claims: only open rows apply
        active = np.ones(batch.n_claims, dtype=np.bool_)
        active[2::7] = False
        line_cols = batch.line_cols.copy()
        col = batch.field_col[cp.X[8][2]]
        line_cols[col, ::13] = K.MISS  # missing procedure codes

        args = (cp, batch, active, dates, line_cols)
        kernel = _listed_pairs(K.list_pairs, *args)
        twin = _listed_pairs(K.list_pairs.py_func, *args)
        monkeypatch.setattr(K, "PAIR_TEMPLATE_MAX", 1)
        loops = _listed_pairs(K.list_pairs.py_func, *args)
        monkeypatch.setattr(K, "PAIR_TEMPLATE_MAX", template_max)
        assert kernel == twin == loops
        assert len(kernel[0]) > 50 and any(row[3] >= 0 for row in kernel[0])
        counts.append(len(kernel[0]))
    # the narrow rule's index refused lines whose pairs the table and filter let through
    assert 0 < counts[1] < counts[0]


def _listed_pairs(
    fn: object,
    cp: CompiledPack,
    batch: ClaimBatch,
    active: np.ndarray,
    dates: np.ndarray,
    line_cols: np.ndarray,
) -> tuple[list[list[int]], list[int]]:
    """``list_pairs`` (kernel or twin) over the whole batch: its rows and per-claim offsets.

    It starts with room for 8 rows, so it stops at full buffers many times: each time the rows
    so far are kept, the buffer grown to what it asked for, and the listing goes on where it
    stopped (as ``run_pack`` does).
    """
    poff = np.zeros(batch.n_claims + 1, dtype=np.int64)
    rows = np.empty((8, 5), dtype=np.int64)
    c, nt, stops = 0, 0, 0
    while c < batch.n_claims:
        with np.errstate(over="ignore"):
            c, got = fn(  # type: ignore[operator]
                cp.X, cp.P[4], cp.P[5], True, active, dates, batch.line_code, line_cols,
                batch.line_set_off, batch.line_set_vals, batch.field_col, batch.line_off, cp.T, 0,
                batch.n_claims, c, nt, poff, rows,
            )  # fmt: skip
        if c < batch.n_claims:
            stops += 1
            nt = int(poff[c])
            assert got > rows.shape[0]
            grown = np.empty((got, 5), dtype=np.int64)
            grown[:nt] = rows[:nt]
            rows = grown
        else:
            nt = got
    assert stops > 0
    return rows[:nt].tolist(), poff.tolist()


def _write_claim_ptp(
    path: Path,
    claims: list[Claim],
    keep: Callable[[int, int], bool],
    ended: Callable[[int, int], bool] = lambda a, b: False,
) -> None:
    """A PTP file (CMS text layout) of the procedure-code pairs the claims' lines make.

    Pairs ``(a, b)`` of two lines of one claim where ``keep(a, b)``, effective from 2020-01-01 and
    deleted on 2021-01-01 where ``ended(a, b)`` (before every workload claim), modifier indicator
    ``(a + b) % 2``: many pairs hit, with both indicators.
    """
    pairs = sorted(
        {
            (int(x.procedure_code), int(y.procedure_code))
            for c in claims
            for x in c.lines
            for y in c.lines
            if x is not y and keep(int(x.procedure_code), int(y.procedure_code))
        }
    )
    body = "\n".join(
        f"{a}\t{b}\t\t20200101\t{'20210101' if ended(a, b) else '*'}\t{(a + b) % 2}\tMisuse"
        for a, b in pairs
    )
    path.write_text("preamble\n" + body + "\n")


MASK_RULES = """
pack masks { version "1" }
rule U-1 "more than two units" { category custom severity error scope line
  when line.units > 2 message "u1" }
rule U-2 "two or more units, a charge over 5" { category custom severity error scope line
  when line.units >= 2 and line.charge > 5 message "u2" }
rule U-3 "not two units" { category custom severity error scope line
  when line.units != 2 message "u3" }
rule U-4 "dated" { category custom severity error scope line
  effective 2025-01-02 ..
  when line.charge <= 10 message "u4" }
rule U-5 "a claim field" { category custom severity error scope line
  when claim.total_charge > 50 message "u5" }
rule U-6 "small charge" { category custom severity error scope line
  when line.charge <= 10 message "u6" }
rule I-1 "indexed" { category custom severity error scope line
  when line.procedure_code == "99213" and line.units > 1 message "i1" }
"""


def test_line_masks_match_the_lister(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unindexed line rules decided by ``line_masks`` give the lister's tasks, windows and all.

    ``line_masks`` decides undated rules whose guard is an interval of a line field (U-1, U-2's
    guard, U-6), on both sides of each bound and with missing values; it leaves to the lister a
    ``!=`` guard (U-3), a dated rule (U-4) and a claim field (U-5).  The kernel equals the
    reference and its twin with windows of 2 claims in phase blocks of 3.
    """
    from datetime import date
    from decimal import Decimal

    from claims.model import ClaimKind, ServiceLine
    from dsl.compile import compile_source

    pack = PackData.load(compile_source(MASK_RULES, file="masks.rules"))
    claims = []
    for c in range(60):
        lines = tuple(
            ServiceLine(
                j + 1,
                None if (c + j) % 11 == 0 else Decimal((c * 7 + j * 3) % 14),
                None if (c + j) % 13 == 0 else Decimal(1 + (c + 2 * j) % 4),
                "99213" if (c + j) % 3 == 0 else "80053",
                service_date=date(2025, 1, 1 + c % 3),
            )
            for j in range(c % 5)
        )
        total = Decimal(c * 3 % 100)
        claims.append(Claim(ClaimKind.PROFESSIONAL, "1", f"P{c}", total, "11", "1", lines=lines))
    interner = Interner()
    cp = compile_pack(pack, interner)
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    got = evaluate([cp], batch)
    assert got == reference.evaluate([pack], claims)
    assert {e.rule_id for e in got} == {"U-1", "U-2", "U-3", "U-4", "U-5", "U-6", "I-1"}
    _kernel_equals_twin(cp, batch, interner, monkeypatch, block=3, mask_block=2)
    # the masks themselves: decided rules keep exactly the lines in their interval
    G = cp.X[8]
    gv = K.guard_intervals(G, cp.P[4].shape[0])
    always = cp.X[2]
    ids = [pack.rules.rules[r].id for r in always.tolist()]
    assert ids == ["U-1", "U-2", "U-3", "U-4", "U-5", "U-6"]
    B = _batch_arrays(batch)
    n = batch.n_lines
    masks = []
    for fn in (K.line_masks, K.line_masks.py_func):
        keep = np.empty(n, dtype=np.int64)
        und = np.empty(n, dtype=np.int64)
        fn(always, 0, n, B[1], G, gv, B[7], B[8], cp.P[4], cp.P[5], False, cp.T, keep, und)
        masks.append((keep.tolist(), und.tolist()))
    assert masks[0] == masks[1]
    keep_l, und_l = masks[0]
    units = [ln.units for cl in claims for ln in cl.lines]
    charges = [ln.charge for cl in claims for ln in cl.lines]
    assert [k & 1 == 1 for k in keep_l] == [u is not None and u > 2 for u in units]
    assert [(k >> 5) & 1 == 1 for k in keep_l] == [x is not None and x <= 10 for x in charges]
    assert all(u == 0b011100 for u in und_l)  # U-3, U-4 and U-5: the lister decides
    assert any(u is None for u in units) and any(x is None for x in charges)
