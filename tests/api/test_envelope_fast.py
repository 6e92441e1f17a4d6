"""The fast clean-claim and edited-claim JSON lines are byte for byte the generic envelope's."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from api.envelope import claim_response, edits_line, success_jsonl
from claims.model import Claim
from engine.edits import Edit
from tests.claims.strategies import claims


@settings(max_examples=200, deadline=None)
@given(claims())
def test_success_line_equals_generic_envelope(claim: Claim) -> None:
    generic = json.dumps(claim_response(claim, []), separators=(",", ":")) + "\n"
    assert success_jsonl(claim) == generic


def test_odd_characters_are_escaped_the_same_way() -> None:
    from dataclasses import replace
    from decimal import Decimal

    from claims.model import ClaimKind, ServiceLine

    base = Claim(
        ClaimKind.PROFESSIONAL, '"q"\\', "PCN é\u2028\x01", Decimal(1), "11", "1",
        lines=(ServiceLine(1, Decimal(1), Decimal(1), "99213"),),
    )  # fmt: skip
    for claim in (base, replace(base, kind=ClaimKind.INSTITUTIONAL)):
        assert (
            success_jsonl(claim)
            == json.dumps(claim_response(claim, []), separators=(",", ":")) + "\n"
        )


_TEXT = st.text(max_size=12)  # any code point: quotes, backslashes, controls, U+2028, astral


@st.composite
def _edits(draw: st.DrawFn) -> Edit:
    return Edit(
        claim_index=0,
        rule_id=draw(st.sampled_from(["GP-0013", 'R"1', "é-2"])),
        pack=draw(st.sampled_from(["general-professional", "p\\k"])),
        pack_version=draw(st.sampled_from(["1.0.0", "2"])),
        category=draw(st.sampled_from(["invalid-diagnosis", "mue"])),
        severity=draw(st.sampled_from(["error", "warning", "info"])),
        message=draw(_TEXT),
        field=draw(st.sampled_from(["claimInformation", "claimInformation.serviceLines[0]"])),
        value=draw(_TEXT),
        location=draw(st.sampled_from(["", "2400 SV1", "2300 HI"])),
        lines=tuple(draw(st.lists(st.integers(1, 999), max_size=3))),
        diagnosis="",
        action=draw(st.sampled_from(["Please Correct and Resubmit", 'a "b"'])),
        allow_override=draw(st.booleans()),
        rule_span="x.rules:1:1",
    )


@settings(max_examples=300, deadline=None)
@given(claims(), st.lists(_edits(), max_size=4))
def test_edits_line_equals_generic_envelope(claim: Claim, edits: list[Edit]) -> None:
    generic = json.dumps(claim_response(claim, edits), separators=(",", ":")) + "\n"
    kind = "PROF" if claim.kind.value == "professional" else "INST"
    line = edits_line(
        claim.control_number, claim.patient_control_number, kind, claim.payer.identifier, edits
    )
    assert line == generic
