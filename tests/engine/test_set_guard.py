"""Guards of kinds 10 / 11: set memberships the task lister decides (engine.compiled._set_guard)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claims.model import Claim, ClaimKind, Diagnosis, DiagnosisRole, ServiceLine
from dsl.compile import compile_source
from engine import kernels as K
from engine.batch import Interner
from engine.compiled import compile_pack
from engine.pack import PackData
from tests.engine.test_guards import _evaluated, _kernel_equals_twin, _program_ops

# a set above the scan size (bisected), with the codes the claims use spread through it
BIG = ", ".join(f'"Q{i:02d}"' for i in range(K.SMALL_SET + 4)) + ', "I10"'
RULES = f"""
pack sets {{ version "1" }}
rule S-1 "needs a supporting diagnosis" {{ category custom severity error scope line
  when line.procedure_code in {{"99213", "99214"}}
    and not any(d in claim.diagnoses: d.code in {{"I10", "E119"}})
  message "s1" }}
rule S-2 "no modifier 25, charge not 5" {{ category custom severity error scope line
  when not "25" in line.modifiers and line.charge != 5 message "s2" }}
rule S-3 "modifier 59" {{ category custom severity error scope line
  when "59" in line.modifiers message "s3" }}
rule S-4 "condition code on a secondary diagnosis" {{ category custom severity error
  scope diagnosis
  when dx.code != "I10" and not "X1" in claim.condition_codes message "s4" }}
rule S-5 "a panel with a diagnosis of the big set" {{ category custom severity error scope line
  when line.procedure_code == "80053" and any(d in claim.diagnoses: d.code in {{{BIG}}})
  message "s5" }}
rule S-6 "twice negated condition code" {{ category custom severity error scope line
  when not not "A1" in claim.condition_codes message "s6" }}
rule S-7 "an office visit on a claim with a panel" {{ category custom severity error scope line
  when line.procedure_code == "99213" and any(l in claim.lines: l.procedure_code in {{"80053"}})
  message "s7" }}
rule S-8 "a modifier 25 line on a claim without a big-set diagnosis" {{ category custom
  severity error scope line
  when "25" in line.modifiers and not any(d in claim.diagnoses: d.code in {{{BIG}}})
    and line.units > 1
  message "s8" }}
rule S-9 "a principal diagnosis on a claim without an office visit" {{ category custom
  severity error scope diagnosis
  when dx.role == "principal" and not any(l in claim.lines: l.procedure_code in {{"99213"}})
  message "s9" }}
rule S-10 "a hypertension or screening diagnosis" {{ category custom severity error scope claim
  when any(d in claim.diagnoses: d.code in {{"I10", "Z00"}}) message "s10" }}
"""
# S-4, S-9, S-10: diagnosis and claim rules take no set guard (their memberships are interpreted,
# small sets scanned); S-8: ``line.units > 1`` (an order comparison) is the better guard, the two
# sets are interpreted
KINDS = [11, 10, 11, 1, 11, 11, 11, 1, 1, 0]


def _claims() -> list[Claim]:
    """Claims with 0-4 lines and diagnoses; modifiers none / 25 / 59 / both; condition codes."""
    mods = ((), ("25",), ("59",), ("25", "59"), ("59", "25", "76"))
    codes = ("99213", "99214", "80053", "85025")
    dxs = ("I10", "E119", "Q03", "Q19", "J069", "I10", "Z00")
    conds = ((), ("X1",), ("A1", "X1"), ("B2",))
    out = []
    for c in range(90):
        lines = tuple(
            ServiceLine(
                j + 1,
                Decimal(5 if (c + j) % 4 == 0 else 40),
                Decimal(1 + (c + j) % 3),
                codes[(c * 3 + j) % len(codes)],
                modifiers=mods[(c + 2 * j) % len(mods)],
                service_date=date(2025, 3, 1 + c % 28),
            )
            for j in range(c % 5)
        )
        dx = tuple(
            Diagnosis(
                dxs[(c * 2 + k) % len(dxs)],
                DiagnosisRole.PRINCIPAL if k == 0 else DiagnosisRole.OTHER,
            )
            for k in range((c // 5) % 5)
        )
        out.append(
            Claim(
                ClaimKind.PROFESSIONAL,
                str(c),
                f"P{c}",
                sum((x.charge for x in lines), Decimal(0)),
                "11",
                "1",
                diagnoses=dx,
                lines=lines,
                condition_codes=conds[(c // 3) % len(conds)],
            )
        )
    return out


def test_set_guard_kinds_and_programs() -> None:
    """The line-rule shapes compile to kinds 10 / 11; the guard's conjunct is not emitted.

    Kind 11 leaves the program a constant (the lister decides the task); kind 10 leaves the other
    conjunct; an order comparison outranks a set guard (S-8 keeps both memberships interpreted);
    a diagnosis rule's membership stays in its program.
    """
    pack = PackData.load(compile_source(RULES, file="sets.rules"))
    interner = Interner()
    cp = compile_pack(pack, interner)
    assert not cp.fallback_rules
    guards = cp.X[8].reshape(-1, 6)
    assert guards[:, 0].tolist() == KINDS
    fields = {f.name: f.id for f in pack.rules.fields}
    assert guards[0, 1:3].tolist() == [0, 1] and guards[0, 4:].tolist() == [1, fields["dx.code"]]
    mod25 = interner.intern("25")
    assert guards[1].tolist() == [10, 1, 1, mod25, fields["line.modifiers"], 0]
    assert guards[5].tolist()[:3] == [11, 1, 0]  # not not: no negation
    assert guards[6, 4] == 0  # over the claim's lines

    def ops(r: int) -> list[int]:
        return _program_ops(cp, r)

    assert ops(0) == [K.OP_CONST, K.OP_HALT]
    assert ops(1) == [K.OP_CMP_FC, K.OP_HALT]
    assert ops(3) == [K.OP_CONST, K.OP_CONTAINS, K.OP_NOT, K.OP_HALT]
    assert guards[4, 1:4].tolist() == [0, 0, 2]  # the big set (bisected)
    assert K.OP_CONTAINS in ops(7) and K.OP_AGG_ANY_IN in ops(7)
    assert ops(8) == [K.OP_AGG_ANY_IN, K.OP_NOT, K.OP_HALT]
    assert ops(9) == [K.OP_AGG_ANY_IN, K.OP_HALT]


def test_set_guard_matches_reference_and_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every rule fires somewhere and nowhere else than in the reference evaluator.

    Kernel rows equal the twin's in phase blocks of 4 with line-mask windows of 2 (S-2 and S-3
    are unindexed line rules, left undecided by the masks).
    """
    pack = PackData.load(compile_source(RULES, file="sets.rules"))
    claims = _claims()
    cp, interner, batch, got = _evaluated(pack, claims)
    assert {e.rule_id for e in got} == {r.id for r in pack.rules.rules}
    # not every task fires: the guards reject some
    per_rule = {r.id: sum(1 for e in got if e.rule_id == r.id) for r in pack.rules.rules}
    visits = sum(1 for c in claims for x in c.lines if x.procedure_code in ("99213", "99214"))
    assert 0 < per_rule["S-1"] < visits
    _kernel_equals_twin(cp, batch, interner, monkeypatch, block=4, mask_block=2)
