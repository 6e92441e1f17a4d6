"""Number sets (``line.diagnosis_pointers``), value/occurrence codes and ``value_amount``.

Compiled from rule source, run by both evaluators on hand-made claims at the edges.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claims.model import (
    Claim,
    ClaimKind,
    CodeAmount,
    CodeDate,
    CodeSpan,
    Diagnosis,
    DiagnosisRole,
    ServiceLine,
)
from dsl import compile_source
from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack
from engine.evaluate import evaluate
from engine.pack import PackData

SOURCE = """
rule P-1 "More than four pointers" {
  category diagnosis-pointer
  severity error
  scope line
  when count(p in line.diagnosis_pointers) > 4
  message "Line {line.number}: {count(p in line.diagnosis_pointers)} pointers"
}

rule P-2 "Pointer past the diagnoses" {
  category diagnosis-pointer
  severity error
  scope line
  when any(p in line.diagnosis_pointers: p > count(d in claim.diagnoses))
  message "Line {line.number}: {sum(p in line.diagnosis_pointers: p)}"
}

rule P-3 "Pointer 3, no pointers, or all pointers small" {
  category diagnosis-pointer
  severity info
  scope line
  when 3 in line.diagnosis_pointers or line.diagnosis_pointers is missing
    or (all(p in line.diagnosis_pointers: p <= 1) and 2 not in line.diagnosis_pointers)
  message "Line {line.number}"
}

rule V-1 "Weight missing" {
  category structure
  severity error
  scope claim
  when "A8" not in claim.value_codes
  message "no A8"
}

rule V-2 "Heavy" {
  category structure
  severity warning
  scope claim
  when value_amount("A8") > 150 or value_amount("48") is missing
  message "A8 {value_amount(\\"A8\\")}"
}

rule V-3 "Occurrence and span codes" {
  category dates
  severity info
  scope claim
  when "11" in claim.occurrence_codes and any(c in claim.occurrence_spans: c startswith "7")
    and count(c in claim.value_codes where c in {"A0".."A9"}) >= 1
  message "occurrence"
}
"""


def _line(n: int, pointers: tuple[int, ...]) -> ServiceLine:
    return ServiceLine(n, Decimal(10), Decimal(1), "99213", diagnosis_pointers=pointers)


def _claim(
    pointers: tuple[tuple[int, ...], ...],
    n_dx: int,
    values: tuple[tuple[str, str], ...] = (),
    kind: ClaimKind = ClaimKind.PROFESSIONAL,
) -> Claim:
    dx = tuple(Diagnosis(f"J0{i}", DiagnosisRole.OTHER) for i in range(n_dx))
    return Claim(
        kind,
        "1",
        "P",
        Decimal(10),
        "11",
        "1",
        diagnoses=dx,
        lines=tuple(_line(i + 1, p) for i, p in enumerate(pointers)),
        value_codes=tuple(CodeAmount(c, Decimal(a)) for c, a in values),
        occurrence_codes=(CodeDate("11", date(2024, 1, 2)),),
        occurrence_spans=(CodeSpan("74", date(2024, 1, 1), date(2024, 1, 9)),),
        statement_from=date(2024, 1, 1),
    )


CLAIMS = [
    _claim(((1, 2, 3, 4, 5), (1, 2, 3, 4), (), (1,), (2, 1)), 5, (("A8", "72.5"), ("48", "11"))),
    _claim(((1, 3), (2,), (1, 2, 3, 4, 5, 6)), 2, (("A8", "151"), ("A8", "80"))),
    _claim(((4,),), 0, (("A9", "165"), ("48", "10.12345"))),  # inexact amount: fine
    _claim((), 1),
]


def _pack() -> PackData:
    return PackData(compile_source(SOURCE, file="t.rules"), "t", "1", ())


def test_pointers_and_value_codes_both_evaluators() -> None:
    pack = _pack()
    interner = Interner()
    cp = compile_pack(pack, interner)
    ids = [r.id for r in pack.rules.rules]
    assert [ids[i] for i in cp.fallback_rules] == ["V-2"]  # value_amount: reference only
    batch = ClaimBatch.build(CLAIMS, cp.fields_needed, interner)
    fast = evaluate([cp], batch)
    ref = reference.evaluate([pack], CLAIMS)
    assert fast == ref
    got = {(e.claim_index, e.rule_id, e.lines) for e in ref}
    assert (0, "P-1", (1,)) in got and (0, "P-1", (2,)) not in got
    assert (1, "P-1", (3,)) in got
    assert (1, "P-2", (1,)) in got and (1, "P-2", (2,)) not in got
    assert (2, "P-2", (1,)) in got and (0, "P-2", (1,)) not in got
    assert {(c, ln) for c, r, ln in got if r == "P-3"} == {
        (0, (1,)),
        (0, (2,)),
        (0, (3,)),
        (0, (4,)),
        (1, (1,)),
        (1, (3,)),
    }
    assert {c for c, r, _ in got if r == "V-1"} == {2, 3}
    assert {c for c, r, _ in got if r == "V-2"} == {1, 3}  # first A8 is 151; no 48
    assert {c for c, r, _ in got if r == "V-3"} == {0, 1, 2}  # A9 is in "A0".."A9"
    messages = {(e.claim_index, e.rule_id, e.lines): e.message for e in ref}
    assert messages[0, "P-1", (1,)] == "Line 1: 5 pointers"
    assert messages[1, "P-2", (1,)] == "Line 1: 4"
    assert messages[1, "V-2", ()] == "A8 151.00"


@pytest.mark.parametrize("explain", [False, True])
def test_pointer_edit_field_path(explain: bool) -> None:
    pack = _pack()
    interner = Interner()
    cp = compile_pack(pack, interner)
    batch = ClaimBatch.build(CLAIMS[:1], cp.fields_needed, interner)
    edits = [e for e in evaluate([cp], batch, explain=explain) if e.rule_id == "P-1"]
    assert edits == [
        e for e in reference.evaluate([pack], CLAIMS[:1], explain=explain) if e.rule_id == "P-1"
    ]
    assert edits[0].field.endswith("compositeDiagnosisCodePointers.diagnosisCodePointers")
    assert edits[0].value == "1,2,3,4,5"
