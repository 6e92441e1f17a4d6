"""Which flagged claims need complete objects for their edits (``engine.evaluate.need_objects``).

The columnar scrub builds the edits of the other flagged claims from lazily scanned claims that
provide only the fields a scanned batch lays out; a rule branch whose message, value or path reads
any other field must send its claims to the object reader.
"""

from __future__ import annotations

from claims.model import Claim
from claims.sources import SAMPLES_DIR, iter_claims
from dsl.compile import compile_source
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack as compile_engine_pack
from engine.evaluate import _templates, evaluate, flag_claims, need_objects
from engine.pack import PackData
from engine.x12_columns import SUPPORTED

RULES = """
pack need { version "1" }
rule N-1 "scanned fields only" { category custom severity error scope line
  when line.units > 0
  message "{line.procedure_code} x {line.units} on {claim.first_service_date}" }
rule N-2 "a field the scan does not lay out" { category custom severity error scope claim
  when claim.total_charge > 600
  message "billed by {billing.taxonomy}" }
rule N-3 "an aggregate over scanned fields" { category custom severity error scope claim
  when claim.total_charge > 0
  message "sum {sum(l in claim.lines: l.charge)} of {claim.total_charge}" }
"""


def _claims() -> list[Claim]:
    items = iter_claims(SAMPLES_DIR / "mixed-batch.837")
    return [i.claim for i in items if i.claim is not None]


def test_reads_and_routing() -> None:
    pack = PackData.load(compile_source(RULES, file="need.rules"))
    templates = _templates(pack)
    reads = [templates.template(r, 0).reads for r in range(3)]
    assert {"line.procedure_code", "line.units", "claim.first_service_date"} <= reads[0]
    assert "billing.taxonomy" in reads[1] and not reads[1] <= SUPPORTED
    assert {"line.charge", "claim.total_charge"} <= reads[2] <= SUPPORTED
    assert reads[0] <= SUPPORTED

    claims = _claims()
    interner = Interner()
    compiled = compile_engine_pack(pack, interner)
    batch = ClaimBatch.build(claims, compiled.fields_needed, interner)
    flagged, done = flag_claims([compiled], batch)
    need = need_objects(done, SUPPORTED)
    edits = evaluate([compiled], batch, done=done)
    fired_n2 = {e.claim_index for e in edits if e.rule_id == "N-2"}
    assert fired_n2 and len(fired_n2) < len(claims)  # the sample has claims on both sides
    assert {int(c) for c in need.nonzero()[0]} == fired_n2
    assert flagged.all()  # N-3 fires on every claim
    # With every field provided nothing needs an object; the institutional claims of the
    # sample are no exception (their values are exact).
    everything = frozenset(f.name for f in pack.rules.fields)
    assert not need_objects(done, everything | SUPPORTED).any()
