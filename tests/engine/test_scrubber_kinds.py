"""The Scrubber lays out only the fields of the packs that apply to a batch's claim kinds."""

from __future__ import annotations

from claims.model import Claim, ClaimKind
from claims.sources import SAMPLES_DIR, iter_claims
from engine.scrubber import Scrubber
from knowledge_packs import bundled_pack_dirs


def _sample_claims() -> list[Claim]:
    out = []
    for path in sorted(SAMPLES_DIR.iterdir()):
        out.extend(i.claim for i in iter_claims(path) if i.claim is not None)
    return out


def test_mixed_and_single_kind_batches_give_the_same_edits() -> None:
    scrubber = Scrubber.from_directories(bundled_pack_dirs())
    claims = _sample_claims()
    kinds = {c.kind for c in claims}
    assert kinds == {ClaimKind.PROFESSIONAL, ClaimKind.INSTITUTIONAL}
    together = scrubber.scrub(claims)
    alone = [scrubber.scrub([c])[0] for c in claims]
    assert [[(e.rule_id, e.lines, e.message) for e in es] for es in together] == [
        [(e.rule_id, e.lines, e.message) for e in es] for es in alone
    ]
    assert any(together), "the samples are meant to trigger edits"
    reference = scrubber.scrub(claims, evaluator="reference")
    assert [[e.rule_id for e in es] for es in reference] == [
        [e.rule_id for e in es] for es in together
    ]


def test_professional_batch_skips_institutional_only_packs() -> None:
    scrubber = Scrubber.from_directories(bundled_pack_dirs())
    prof = [c for c in _sample_claims() if c.kind is ClaimKind.PROFESSIONAL]
    packs, fields = scrubber._applicable(list(scrubber.packs.values()), prof)
    names = {p.data.name for p in packs}
    assert "general-professional" in names and "general-institutional" not in names
    field_names = {f.name for f in fields}
    assert "claim.patient_status_code" not in field_names
    assert "line.procedure_code" in field_names
