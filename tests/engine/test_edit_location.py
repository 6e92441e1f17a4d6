"""An edit's X12 location names the segment its subject came from, in both evaluators."""

from __future__ import annotations

from claims.model import Claim
from claims.sources import SAMPLES_DIR, iter_claims
from dsl.compile import compile_source
from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack as compile_engine_pack
from engine.evaluate import evaluate
from engine.pack import PackData

RULES = """
pack loc { version "1" }
rule L-1 "line" { category custom severity error scope line
  when line.units > 0 message "l" }
rule L-2 "dx" { category custom severity error scope diagnosis
  when length(dx.code) > 0 message "d" }
rule L-3 "claim" { category custom severity error scope claim
  when claim.total_charge > 0 message "c" }
"""


def _x12_claims() -> list[Claim]:
    items = iter_claims(SAMPLES_DIR / "mixed-batch.837")
    return [i.claim for i in items if i.claim is not None]


def test_locations_by_subject_in_both_evaluators() -> None:
    pack = PackData.load(compile_source(RULES, file="loc.rules"))
    claims = _x12_claims()
    assert claims and all(c.source is not None for c in claims)
    interner = Interner()
    compiled = compile_engine_pack(pack, interner)
    batch = ClaimBatch.build(claims, compiled.fields_needed, interner)
    fast = evaluate([compiled], batch)
    slow = reference.evaluate([pack], claims)
    assert fast == slow
    by_rule: dict[str, set[str]] = {}
    for e in fast:
        by_rule.setdefault(e.rule_id, set()).add(e.location)
    line_segments = {s.split()[1] for s in by_rule["L-1"]}
    assert line_segments <= {"SV1", "SV2"} and all(s.startswith("2400 ") for s in by_rule["L-1"])
    assert by_rule["L-2"] == {"2300 HI"}
    assert by_rule["L-3"] == {"2300 CLM"}


def test_json_claims_have_no_location() -> None:
    pack = PackData.load(compile_source(RULES, file="loc.rules"))
    json_claims = [
        i.claim
        for p in sorted(SAMPLES_DIR.glob("*.json"))
        for i in iter_claims(p)
        if i.claim is not None
    ]
    edits = reference.evaluate([pack], json_claims)
    assert edits and {e.location for e in edits} == {""}
