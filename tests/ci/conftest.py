"""Fixtures for the CI commands: copies of bundled packs to break, a small generated corpus."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from api.packtest import expand_claim, load_bases
from claims.model import ClaimKind
from claims.optum import claim_to_json, parse_claim_json
from claims.x12 import write_x12
from knowledge_packs import BUNDLED_DIR

GP = BUNDLED_DIR / "general-professional"
GI = BUNDLED_DIR / "general-institutional"

#: One single-line claim per charge; GP-0010 (``line.charge <= 0``) fires on the first two.
JSON_CHARGES = ("-5.00", "0.00", "10.00", "30.00", "60.00")
X12_CHARGES = ("0.00", "20.00", "45.00", "80.00")


def copy_pack(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def professional_docs(charges: Sequence[str], first_number: int) -> list[dict[str, object]]:
    base = load_bases(GP, "professional")["professional"]
    docs = []
    for n, charge in enumerate(charges, first_number):
        doc = expand_claim(base, "professional", {"lines": [{"charge": charge}]})
        doc["controlNumber"] = f"{n:09d}"
        docs.append(doc)
    return docs


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A directory with a JSON file (5 claims) and an X12 file (4 claims), all professional."""
    root = tmp_path / "corpus"
    root.mkdir()
    docs = professional_docs(JSON_CHARGES, 1)
    (root / "batch.json").write_text(json.dumps(docs, indent=1), encoding="utf-8")
    claims = [
        parse_claim_json(d, kind=ClaimKind.PROFESSIONAL)
        for d in professional_docs(X12_CHARGES, 101)
    ]
    (root / "batch.837").write_bytes(write_x12(claims))
    # the round trip keeps the fields the rules read
    assert claim_to_json(claims[0])["controlNumber"] == "000000101"
    return root
