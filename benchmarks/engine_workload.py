"""Engine benchmark workload: a realistic 1,000-rule professional pack and generated claims.

The pack (:func:`build_pack`):

* one NCCI PTP pair rule over a ``pairs``-row PTP table in the official tab-separated layout
  (column 1 / column 2 / prior-1996 / effective / deletion / modifier indicator / rationale): a pair
  fires unless the modifier indicator is 1 and the column-2 line carries modifier 59;
* one MUE rule: ``line.units > mue[line.procedure_code]`` over a ``mue``-row MUE CSV;
* ``n_rules - 8`` procedure-code-indexed line rules of five kinds (code in a small set →
  required modifier / units limit / age range / sex / a required diagnosis);
* six unindexed rules: two line rules (non-positive charge, more than 99 units), two claim rules
  (billing NPI check digit, total charge differs from the sum of the line charges) and two
  diagnosis rules (ICD-10-CM format, principal diagnosis not a manifestation code).

Claims (:func:`make_claims`): professional, 1-9 lines, 1-4 diagnoses, procedure codes drawn from a
Zipf (s = 1) distribution over the pack's 10,000 codes (real claim code frequencies are heavily
skewed: a few E/M codes make up a large share of all lines), units mostly 1, modifier 25 on 30 % and
59 on 5 % of lines, patients of every age and both sexes.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from claims.model import (
    Claim,
    ClaimKind,
    Diagnosis,
    DiagnosisRole,
    Person,
    Provider,
    ProviderRole,
    ServiceLine,
)
from dsl.ir import (
    SLOT_FIRST_BINDER,
    SLOT_OTHER,
    AggKind,
    Aggregate,
    And,
    BuiltinId,
    Call,
    CmpOp,
    Compare,
    CompiledRules,
    Contains,
    FieldRef,
    InSet,
    Not,
    Or,
    Scope,
    SourceFormat,
    TableGet,
    TableHas,
    TableKind,
    ValueType,
)
from tests.engine.irbuild import FIELDS, SPAN, Builder, fref

T = ValueType
B = T.BOOL
N_CODES = 10_000
DX_CODES = tuple(f"{chr(65 + i % 26)}{10 + i % 90:02d}{i % 10}" for i in range(300))


def code(i: int) -> str:
    """The i-th procedure code of the workload."""
    return f"{10000 + i:05d}"


def write_ptp(path: Path, n_pairs: int, seed: int = 1) -> None:
    """``n_pairs`` distinct PTP pairs in the CMS text layout (a preamble line, then rows)."""
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, N_CODES * N_CODES, size=int(n_pairs * 1.2)))
    keys = rng.permutation(keys)[:n_pairs]
    keys.sort()
    c1, c2 = keys // N_CODES, keys % N_CODES
    mod = (c1 + c2) % 2
    body = "\n".join(
        f"{10000 + a}\t{10000 + b}\t\t20200101\t*\t{m}\tMisuse of column two code"
        for a, b, m in zip(c1.tolist(), c2.tolist(), mod.tolist(), strict=True)
    )
    path.write_text("CPT codes and descriptions only are copyright AMA\n" + body + "\n")


def write_mue(path: Path, n_rows: int) -> None:
    """An MUE CSV with a preamble and header; limits 2-5."""
    rows = [f"{code(i)},{2 + i % 4},{1 + i % 3} Line Edit,Clinical" for i in range(n_rows)]
    path.write_text("MUE table\nHCPCS/CPT Code,MUE Values,MAI,Rationale\n" + "\n".join(rows) + "\n")


def _dx_ref(name: str) -> FieldRef:
    info = FIELDS[name]
    return FieldRef(SPAN, info.type, info.id, SLOT_FIRST_BINDER)


def build_rules(n_rules: int, seed: int = 7) -> CompiledRules:
    """The pack's rules (tables ``ptp.txt`` / ``mue.csv`` relative to the pack directory)."""
    rng = np.random.default_rng(seed)
    b = Builder(claim_kinds=("professional",))
    ptp = b.table(
        "ptp",
        TableKind.PAIR,
        (("column1", T.CODE), ("column2", T.CODE)),
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
    pc, units, mods = fref("line.procedure_code"), fref("line.units"), fref("line.modifiers")
    other = fref("line.procedure_code", SLOT_OTHER)
    other_mods = fref("line.modifiers", SLOT_OTHER)
    b.rule(
        And(
            SPAN,
            B,
            (
                TableHas(SPAN, B, ptp, (pc, other)),
                Or(
                    SPAN,
                    B,
                    (
                        Compare(
                            SPAN,
                            B,
                            CmpOp.NE,
                            TableGet(SPAN, T.CODE, ptp, (pc, other), 0),
                            b.code("1"),
                        ),
                        Not(SPAN, B, Contains(SPAN, B, b.code("59"), other_mods)),
                    ),
                ),
            ),
        ),
        Scope.LINE_PAIR,
    )
    b.rule(Compare(SPAN, B, CmpOp.GT, units, TableGet(SPAN, T.NUMBER, mue, (pc,), 0)))
    # unindexed
    b.rule(Compare(SPAN, B, CmpOp.LE, fref("line.charge"), b.const(T.MONEY, Decimal(0))))
    b.rule(Compare(SPAN, B, CmpOp.GT, units, b.num(99)))
    b.rule(Not(SPAN, B, Call(SPAN, B, BuiltinId.NPI_VALID, (fref("billing.npi"),))), Scope.CLAIM)
    line = FIELDS["line.charge"]
    total = Aggregate(
        SPAN,
        T.MONEY,
        AggKind.SUM,
        SLOT_FIRST_BINDER,
        fref("claim.lines"),
        None,
        FieldRef(SPAN, line.type, line.id, SLOT_FIRST_BINDER),
    )
    b.rule(Compare(SPAN, B, CmpOp.NE, fref("claim.total_charge"), total), Scope.CLAIM)
    dx, dos = fref("dx.code"), fref("claim.first_service_date")
    b.rule(Not(SPAN, B, Call(SPAN, B, BuiltinId.ICD10CM_VALID, (dx, dos))), Scope.DIAGNOSIS)
    b.rule(
        And(
            SPAN,
            B,
            (
                Compare(SPAN, B, CmpOp.EQ, fref("dx.role"), b.code("principal")),
                InSet(SPAN, B, dx, b.lset(prefixes=("Z9",))),
            ),
        ),
        Scope.DIAGNOSIS,
    )
    age, sex = fref("patient.age"), fref("patient.sex")
    for i in range(n_rules - 8):
        members = tuple(
            code(int(x)) for x in rng.integers(0, N_CODES, size=int(rng.integers(1, 6)))
        )
        in_set = InSet(SPAN, B, pc, b.lset(members=members))
        k = i % 10
        if k == 0:  # modifier required
            cond: Any = And(SPAN, B, (in_set, Not(SPAN, B, Contains(SPAN, B, b.code("25"), mods))))
        elif k < 5:  # units limit for one code
            cond = And(
                SPAN,
                B,
                (
                    Compare(SPAN, B, CmpOp.EQ, pc, b.code(members[0])),
                    Compare(SPAN, B, CmpOp.GT, units, b.num(int(rng.integers(2, 4)))),
                ),
            )
        elif k < 7:  # age range
            cond = And(SPAN, B, (in_set, Compare(SPAN, B, CmpOp.LT, age, b.num(18))))
        elif k == 7:  # sex
            cond = And(SPAN, B, (in_set, Compare(SPAN, B, CmpOp.EQ, sex, b.code("M"))))
        else:  # a supporting diagnosis is required
            need = tuple(DX_CODES[int(x)] for x in rng.integers(0, 40, size=8))
            dx_ok = InSet(SPAN, B, _dx_ref("dx.code"), b.lset(members=need))
            any_dx = Aggregate(
                SPAN, B, AggKind.ANY, SLOT_FIRST_BINDER, fref("claim.diagnoses"), dx_ok, None
            )
            cond = And(SPAN, B, (in_set, Not(SPAN, B, any_dx)))
        b.rule(cond)
    return b.build(name="bench", version="1")


def zipf_codes(n: int, rng: np.random.Generator) -> np.ndarray:  # type: ignore[type-arg]
    """``n`` code indices, Zipf (s = 1) over :data:`N_CODES` codes in a shuffled rank order."""
    w = 1.0 / np.arange(1, N_CODES + 1)
    rank_to_code = rng.permutation(N_CODES)
    return rank_to_code[rng.choice(N_CODES, size=n, p=w / w.sum())]


def make_claims(n_lines: int, seed: int = 11, *, uniform: bool = False) -> list[Claim]:
    """Professional claims with ``n_lines`` service lines in total."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, N_CODES, size=n_lines) if uniform else zipf_codes(n_lines, rng)
    code_s = [code(int(i)) for i in codes]
    units = rng.choice([1, 1, 1, 1, 1, 1, 1, 1, 2, 3], size=n_lines).tolist()
    big = rng.random(n_lines) < 0.01
    units = [u + 3 if b_ else u for u, b_ in zip(units, big, strict=True)]
    cents = rng.integers(500, 50_000, size=n_lines).tolist()
    mod_r = rng.random(n_lines).tolist()
    charges = [Decimal(c) / 100 for c in range(0, 50_000)]
    sizes = []
    total = 0
    while total < n_lines:
        k = min(int(rng.integers(1, 10)), n_lines - total)
        sizes.append(k)
        total += k
    n = len(sizes)
    days = rng.integers(0, 300, size=n).tolist()
    births = rng.integers(0, 90 * 365, size=n).tolist()
    sexes = rng.choice(["F", "M"], size=n).tolist()
    n_dx = rng.integers(1, 5, size=n).tolist()
    dx_pick = rng.integers(0, 40, size=(n, 4)).tolist()
    billing = (Provider(ProviderRole.BILLING, npi="1234567893"),)
    base = date(2024, 1, 1)
    m25, m59, m2559 = ("25",), ("59",), ("25", "59")
    out = []
    pos = 0
    for ci, k in enumerate(sizes):
        d = base + timedelta(days=days[ci])
        lines = []
        charge_sum = 0
        for j in range(k):
            li = pos + j
            r = mod_r[li]
            mods = m2559 if r < 0.02 else m25 if r < 0.3 else m59 if r < 0.35 else ()
            charge_sum += cents[li]
            lines.append(
                ServiceLine(
                    j + 1,
                    charges[cents[li]],
                    Decimal(units[li]),
                    code_s[li],
                    modifiers=mods,
                    service_date=d,
                )
            )
        pos += k
        picks = dx_pick[ci][: n_dx[ci]]
        dxs = tuple(
            Diagnosis(DX_CODES[p], DiagnosisRole.PRINCIPAL if t == 0 else DiagnosisRole.OTHER)
            for t, p in enumerate(picks)
        )
        patient = Person("DOE", "PAT", birth_date=d - timedelta(days=births[ci] + 1), sex=sexes[ci])
        out.append(
            Claim(
                ClaimKind.PROFESSIONAL,
                str(ci),
                f"PCN{ci}",
                Decimal(charge_sum) / 100,
                "11",
                "1",
                subscriber=patient,
                providers=billing,
                diagnoses=dxs,
                lines=tuple(lines),
            )
        )
    return out
