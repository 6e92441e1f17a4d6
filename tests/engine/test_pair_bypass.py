"""Guard kind 12: pair rules the pair lister decides whole (engine.compiled._pair_bypass)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from claims.model import Claim, ClaimKind, ServiceLine
from dsl.compile import compile_source
from engine import kernels as K
from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack
from engine.evaluate import evaluate
from engine.pack import PackData
from tests.engine.test_guards import (
    _evaluated,
    _kernel_equals_twin,
    _listed_pairs,
    _program_ops,
)

CODES = ("10001", "10002", "10003", "10004", "10005", "10006")
TABLE = """
table ptp pair { source ncci_ptp "ptp.txt"
  key column_1: code, column_2: code value modifier_indicator: code, rationale: text }
table ptq pair { source ncci_ptp "ptq.txt"
  key column_1: code, column_2: code value modifier_indicator: code, rationale: text }
"""
RULES = f"""
pack bypass {{ version "1" }}
{TABLE}
rule B-1 "NCCI: indicator not 1, or no 59 on the other line" {{ category custom severity error
  scope pair
  when (line.procedure_code, other.procedure_code) in ptp
    and (ptp[line.procedure_code, other.procedure_code].modifier_indicator != "1"
         or not "59" in other.modifiers)
  message "b1" }}
rule B-2 "the terms the other way round, the modifier on the line itself" {{ category custom
  severity error scope pair
  when (line.procedure_code, other.procedure_code) in ptp
    and ("25" in line.modifiers or ptp[line.procedure_code, other.procedure_code]
         .modifier_indicator == "0")
  message "b2" }}
rule B-3 "the pair alone" {{ category custom severity error scope pair
  when (line.procedure_code, other.procedure_code) in ptp message "b3" }}
rule B-4 "one term: indicator 9" {{ category custom severity error scope pair
  when (line.procedure_code, other.procedure_code) in ptp
    and ptp[line.procedure_code, other.procedure_code].modifier_indicator == "9"
  message "b4" }}
rule B-5 "one term, twice negated" {{ category custom severity error scope pair
  when (line.procedure_code, other.procedure_code) in ptp and not not "59" in other.modifiers
  message "b5" }}
rule B-6 "a comparison with the empty (missing) code is false" {{ category custom
  severity error scope pair
  when (line.procedure_code, other.procedure_code) in ptp
    and ptp[line.procedure_code, other.procedure_code].modifier_indicator != ""
  message "b6" }}
rule B-7 "another table's value: interpreted" {{ category custom severity error scope pair
  when (line.procedure_code, other.procedure_code) in ptp
    and ptq[line.procedure_code, other.procedure_code].modifier_indicator == "1"
  message "b7" }}
rule B-8 "three terms: interpreted" {{ category custom severity error scope pair
  when (line.procedure_code, other.procedure_code) in ptp
    and (ptp[line.procedure_code, other.procedure_code].modifier_indicator == "0"
         or "59" in other.modifiers or "25" in line.modifiers)
  message "b8" }}
rule B-9 "keys swapped in the value: interpreted" {{ category custom severity error scope pair
  when (line.procedure_code, other.procedure_code) in ptp
    and ptp[other.procedure_code, line.procedure_code].modifier_indicator == "0"
  message "b9" }}
"""
KINDS = [12, 12, 12, 12, 12, 12, 2, 2, 2]


def _write(path: Path, shift: int) -> None:
    """PTP rows for most ordered pairs of :data:`CODES`, indicators 0 / 1 / 9, and date windows.

    Some pairs have three rows (ended, current, future) so the slot's row is not always the one
    in force; some ended before every claim.
    """
    rows = []
    for i, a in enumerate(CODES):
        for j, b in enumerate(CODES):
            if i == j or (i + j + shift) % 5 == 0:
                continue
            ind = "019"[(i * 2 + j + shift) % 3]
            if (i + j) % 4 == 1:
                rows.append((a, b, "20200101", "20240101", "1" if ind != "1" else "0"))
                rows.append((a, b, "20240101", "20250601", ind))
                rows.append((a, b, "20250601", "*", "9"))
            elif (i + j) % 7 == 3:
                rows.append((a, b, "20200101", "20210101", ind))
            else:
                rows.append((a, b, "20200101", "*", ind))
    body = "\n".join(f"{a}\t{b}\t\t{f}\t{u}\t{m}\tMisuse" for a, b, f, u, m in rows)
    path.write_text("preamble\n" + body + "\n")


def _claims() -> list[Claim]:
    """Claims of 0-5 lines, modifiers none / 25 / 59 / both, dates across the rows' windows.

    Every tenth claim's codes start no pair of the tables (``list_pairs`` skips its pairs).
    """
    mods = ((), ("59",), ("25",), ("25", "59"), ("76", "59"))
    days = (date(2024, 3, 1), date(2025, 3, 1), date(2025, 9, 1), date(2020, 6, 1))
    out = []
    for c in range(120):
        lines = tuple(
            ServiceLine(
                j + 1,
                Decimal(10),
                Decimal(1),
                # every tenth claim: codes the tables do not have (no pair is probed)
                "99999"
                if c % 10 == 9
                else CODES[(c * 5 + j * 7) % len(CODES)]
                if (c + j) % 9
                else "",
                modifiers=mods[(c + 3 * j) % len(mods)],
                service_date=days[c % len(days)],
            )
            for j in range(c % 6)
        )
        out.append(Claim(ClaimKind.PROFESSIONAL, "1", f"P{c}", Decimal(1), "11", "1", lines=lines))
    return out


@pytest.fixture
def pack(tmp_path: Path) -> PackData:
    _write(tmp_path / "ptp.txt", 0)
    _write(tmp_path / "ptq.txt", 2)
    (tmp_path / "b.rules").write_text(RULES)
    return PackData.load(compile_source(RULES, file="b.rules"), tmp_path)


def test_bypass_kinds_and_descriptors(pack: PackData) -> None:
    """The decidable shapes get kind 12, a constant program and their descriptor; others kind 2."""
    interner = Interner()
    cp = compile_pack(pack, interner)
    assert not cp.fallback_rules
    assert cp.X[8].reshape(-1, 6)[:, 0].tolist() == KINDS
    pb = cp.X[9].reshape(-1, 8)
    fields = {f.name: f.id for f in pack.rules.fields}
    one, mod59, mod25 = interner.intern("1"), interner.intern("59"), interner.intern("25")
    assert pb[0].tolist() == [2, 0, 1, one, fields["line.modifiers"], 2, mod59, 1]
    assert pb[1].tolist() == [2, 0, 0, interner.intern("0"), fields["line.modifiers"], 1, mod25, 0]
    assert pb[2].tolist() == [0, 0, -1, 0, -1, 0, 0, 0]
    assert pb[4, [0, 2, 4, 7]].tolist() == [1, -1, fields["line.modifiers"], 0]  # not not
    assert pb[5, 3] == K.MISS  # "" is the missing code
    for r in range(6):
        assert _program_ops(cp, r) == [K.OP_CONST, K.OP_HALT]
    for r in range(6, 9):
        assert K.OP_TABLE_GET in _program_ops(cp, r)
        assert not pb[r].any()


def test_bypass_matches_reference_and_twin(pack: PackData, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every rule fires on some pairs in the table and not on others, as the reference says.

    The kernel's rows equal its twin's in phase blocks of 4, and the twin with no templates (the
    per-line loops of ``list_pairs``) gives them too.
    """
    claims = _claims()
    cp, interner, batch, got = _evaluated(pack, claims)
    per_rule = {r.id: sum(1 for e in got if e.rule_id == r.id) for r in pack.rules.rules}
    assert per_rule.pop("B-6") == 0, per_rule  # even with "!="
    assert all(per_rule.values()), per_rule
    # the bypass drops pairs the table has (B-3 fires on every pair in force)
    assert per_rule["B-1"] < per_rule["B-3"] and per_rule["B-5"] < per_rule["B-3"]
    _kernel_equals_twin(cp, batch, interner, monkeypatch, block=4)
    monkeypatch.setattr(K, "PAIR_TEMPLATE_MAX", 1)
    _kernel_equals_twin(cp, batch, interner, monkeypatch, block=4)


def test_slot_values_are_the_slot_rows_first_values(pack: PackData) -> None:
    """``T[18]`` holds, per occupied hash slot, the first value of the slot's row; else missing."""
    cp = compile_pack(pack, Interner())
    T = cp.T
    hs, hv = T[16], T[18]
    assert hv.shape[0] == hs.shape[0] // 2
    occupied = np.flatnonzero(hs[::2] != -1)
    assert occupied.size and np.all(hv[np.flatnonzero(hs[::2] == -1)] == K.MISS)
    for s in occupied.tolist():
        rel = int(hs[2 * s] & 0xFFFFFFFF)
        t = 0 if s < T[15][T[9][1]] else 1  # the second table's slots come after the first's
        row = int(T[0][t]) + rel
        n_rows = int(T[0][t + 1] - T[0][t])
        assert hv[s] == T[5][T[4][t] + row - T[0][t]]
        assert n_rows > rel


@pytest.mark.parametrize("rule", range(6))
def test_one_bypass_rule_template_path(
    pack: PackData, monkeypatch: pytest.MonkeyPatch, rule: int
) -> None:
    """Each kind-12 rule alone (``list_pairs``' template path) lists what the loops list.

    Only the pairs that fire are listed (one task per edit).
    """
    one = dataclasses.replace(pack.rules.rules[rule], index=0)
    alone = dataclasses.replace(pack, rules=dataclasses.replace(pack.rules, rules=(one,)))
    claims = _claims()
    cp, _, batch, got = _evaluated(alone, claims)
    assert cp.X[8][0] == 12
    assert bool(got) == (rule != 5)  # B-6 compares with the missing code: never true
    active = np.ones(batch.n_claims, dtype=np.bool_)
    args = (cp, batch, active, batch.first_date, batch.line_cols)
    kernel = _listed_pairs(K.list_pairs, *args)
    twin = _listed_pairs(K.list_pairs.py_func, *args)
    monkeypatch.setattr(K, "PAIR_TEMPLATE_MAX", 1)
    assert kernel == twin == _listed_pairs(K.list_pairs.py_func, *args)
    assert len(kernel[0]) == sum(1 for e in got)  # only firing pairs are listed


DECIDE = f"""
pack decide {{ version "1" }}
{TABLE}
rule D-1 "the NCCI rule as a decide table (the bundled Medicare MCR-0001's shape)" {{
  category custom severity error scope pair
  decide line.service_date == other.service_date,
      ptp[line.procedure_code, other.procedure_code].modifier_indicator,
      "59" in line.modifiers or "59" in other.modifiers {{
    true, "0", _ -> fire: "indicator 0"
    true, "1", false -> fire: "indicator 1"
    _, _, _ -> pass
  }} }}
rule D-2 "a firing branch that does not need the row: no guard" {{
  category custom severity error scope pair
  decide ptp[line.procedure_code, other.procedure_code].modifier_indicator,
      "25" in line.modifiers {{
    "0", _ -> fire: "zero"
    _, true -> fire: "modifier 25"
    _, _ -> pass
  }} }}
rule D-3 "a branch on the missing code: no guard" {{
  category custom severity error scope pair
  decide ptp[line.procedure_code, other.procedure_code].modifier_indicator {{
    "9" -> fire: "nine"
    "" -> fire: "never"
    _ -> pass
  }} }}
rule D-4 "branches on two tables: no guard" {{
  category custom severity error scope pair
  decide ptp[line.procedure_code, other.procedure_code].modifier_indicator,
      ptq[line.procedure_code, other.procedure_code].modifier_indicator {{
    "0", _ -> fire: "ptp"
    _, "0" -> fire: "ptq"
    _, _ -> pass
  }} }}
"""


def test_decide_pair_rule_gets_the_pair_guard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pair rule whose every firing branch needs the row is listed by the lister (kind 2).

    Only when every firing branch compares the same table's value with a present constant (or
    has ``table.has``); the programs stay whole.  Edits equal the reference's, kernel = twin.
    """
    _write(tmp_path / "ptp.txt", 0)
    _write(tmp_path / "ptq.txt", 2)
    pack = PackData.load(compile_source(DECIDE, file="d.rules"), tmp_path)
    interner = Interner()
    cp = compile_pack(pack, interner)
    assert not cp.fallback_rules
    assert cp.X[8].reshape(-1, 6)[:, 0].tolist() == [2, 0, 0, 0]
    assert K.OP_TABLE_GET in _program_ops(cp, 0)
    claims = _claims()
    batch = ClaimBatch.build(claims, cp.fields_needed, interner)
    got = evaluate([cp], batch)
    assert got == reference.evaluate([pack], claims)
    messages = {e.message for e in got if e.rule_id == "D-1"}
    assert messages == {"indicator 0", "indicator 1"}
    assert {e.rule_id for e in got} == {"D-1", "D-2", "D-3", "D-4"}
    _kernel_equals_twin(cp, batch, interner, monkeypatch, block=4)
