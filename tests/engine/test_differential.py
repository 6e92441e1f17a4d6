"""Differential test: the Numba evaluator and the reference evaluator give identical edits."""

from __future__ import annotations

import os
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import reference
from engine.batch import ClaimBatch, Interner
from engine.compiled import compile_pack
from engine.evaluate import evaluate
from engine.pack import PackData
from tests.claims.strategies import claims
from tests.engine.ir_strategies import pools, rule_pack


def _both(data: st.DataObject, explain: bool) -> None:
    cs = data.draw(st.lists(claims(), min_size=0, max_size=3), label="claims")
    b, loaded = data.draw(rule_pack(cs), label="pack")
    rules = b.build()
    pack = PackData(rules, "p", "1", loaded)
    as_of = data.draw(st.none() | st.just(date(2024, 1, 1)), label="as_of")
    # the value of processing_date(): missing, or a date near the claims' dates (both sides)
    processing = data.draw(
        st.none() | st.sampled_from(pools(cs).dates) | st.dates(), label="processing_date"
    )
    interner = Interner()
    compiled = compile_pack(pack, interner)
    batch = ClaimBatch.build(cs, compiled.fields_needed, interner)
    fast = evaluate([compiled], batch, as_of=as_of, explain=explain, processing_date=processing)
    ref = reference.evaluate([pack], cs, as_of=as_of, explain=explain, processing_date=processing)
    assert fast == ref


# CLAIMSCRUB_DIFF_EXAMPLES=5000 for a deep run (a nightly job); 300 in the normal suite.
EXAMPLES = int(os.environ.get("CLAIMSCRUB_DIFF_EXAMPLES", "300"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_numba_equals_reference(data: st.DataObject) -> None:
    _both(data, explain=False)


@settings(
    max_examples=max(40, EXAMPLES // 8), deadline=None, suppress_health_check=list(HealthCheck)
)
@given(st.data())
def test_numba_equals_reference_explained(data: st.DataObject) -> None:
    _both(data, explain=True)
