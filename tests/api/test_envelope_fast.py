"""The fast clean-claim JSON line is byte for byte the generic envelope's."""

from __future__ import annotations

import json

from hypothesis import given, settings

from api.envelope import claim_response, success_jsonl
from claims.model import Claim
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
