"""Damaged input never escapes as an exception: the readers report located errors instead.

Hypothesis mutates real-shaped documents (X12 from our writer, Optum JSON from our converter):
bytes dropped, duplicated, flipped or cut, segments shuffled, values replaced.  Whatever comes
in, ``read_x12`` yields only claims and ``X12Error``s, and ``parse_claims_json`` returns claims or
raises ``ClaimJsonError``: never a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.model import Claim
from claims.optum import ClaimJsonError, claim_to_json, parse_claims_json
from claims.x12 import X12Error, read_x12, write_x12
from tests.claims.strategies import claims


@st.composite
def damaged_x12(draw: st.DrawFn) -> bytes:
    data = bytearray(write_x12(draw(st.lists(claims(), min_size=1, max_size=3))))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["drop", "dup", "flip", "cut", "swap", "insert"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        j = min(len(data), i + draw(st.integers(1, 40)))
        if op == "drop":
            del data[i:j]
        elif op == "dup":
            data[i:i] = data[i:j]
        elif op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(
                st.sampled_from([b"~", b"*", b":", b"\xff\xfe", b"HL*9*9*22*1~", b"CLM*~"])
            )
        else:
            segs = bytes(data).split(b"~")
            a, b = sorted(draw(st.lists(st.integers(0, len(segs) - 1), min_size=2, max_size=2)))
            segs[a], segs[b] = segs[b], segs[a]
            data = bytearray(b"~".join(segs))
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_x12())
def test_damaged_x12_yields_claims_and_located_errors_only(data: bytes) -> None:
    for item in read_x12(io.BytesIO(data)):
        assert isinstance(item, Claim | X12Error)
        if isinstance(item, X12Error):
            assert item.code.startswith("X12-E") and str(item)


def _json_values() -> st.SearchStrategy[object]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True),
        st.text(max_size=12),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    )


@st.composite
def damaged_json(draw: st.DrawFn) -> object:
    doc = claim_to_json(draw(claims()))
    for _ in range(draw(st.integers(1, 4))):
        # walk to a random object inside the document and replace or delete one of its keys
        node: object = doc
        for _depth in range(draw(st.integers(0, 4))):
            if isinstance(node, dict) and node:
                node = node[draw(st.sampled_from(sorted(node)))]
            elif isinstance(node, list) and node:
                node = node[draw(st.integers(0, len(node) - 1))]
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            if draw(st.booleans()):
                del node[key]
            else:
                node[key] = draw(_json_values())
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_json(), st.booleans())
def test_damaged_json_gives_claims_or_claim_json_error(doc: object, as_text: bool) -> None:
    data: object = json.dumps(doc, default=str) if as_text else doc
    try:
        out = parse_claims_json(data)  # type: ignore[arg-type]
    except ClaimJsonError as exc:
        assert exc.errors and all(isinstance(e["path"], str) for e in exc.errors)
    else:
        assert all(isinstance(c, Claim) for c in out)


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_random_bytes_as_json(data: bytes) -> None:
    with contextlib.suppress(ClaimJsonError):
        parse_claims_json(data)
