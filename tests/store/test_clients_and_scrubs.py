from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store import (
    PackContent,
    ValidationReport,
    create_client,
    import_pack,
    publish,
    record_scrub,
    revoke_client,
    scrubs_for_claim,
    verify_client,
)
from store.models import ApiClient, ScrubRecord
from tests.store.conftest import ALICE


def accept_all(content: PackContent) -> ValidationReport:
    return ValidationReport()


def test_client_secret_is_hashed_and_verifiable(
    factory: sessionmaker[Session], pack_dir: Path
) -> None:
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)
        created = create_client(s, "app", ["submitter"], ["demo"])
        client_id, secret = created.client.client_id, created.client_secret
    with factory.begin() as s:
        row = s.scalars(select(ApiClient)).one()
        assert secret not in (row.secret_hash, row.secret_salt)
        assert len(bytes.fromhex(row.secret_salt)) == 16
        assert verify_client(s, client_id, secret) is not None
        assert verify_client(s, client_id, secret + "x") is None
        assert verify_client(s, "cs_unknown", secret) is None
        other = create_client(s, "app2", ["admin"])
        assert other.client.secret_salt != row.secret_salt
        revoke_client(s, client_id)
        assert verify_client(s, client_id, secret) is None


def test_scrub_history_keeps_no_control_number(
    factory: sessionmaker[Session], pack_dir: Path
) -> None:
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)
        v = publish(s, "demo", by=ALICE, note="v1", validate=accept_all)
        edits = [{"ruleId": "DEMO-0001", "severity": "error", "lines": [1]}]
        record_scrub(s, "CN-000123", [v, v], edits, status="EDITS")
        record_scrub(s, "CN-000999", [v], [], status="SUCCESS")
    with factory.begin() as s:
        found = scrubs_for_claim(s, "CN-000123")
        assert len(found) == 1 and found[0].edits == edits
        assert [x.version.version for x in found[0].versions] == ["1.0"]
        keys = list(s.scalars(select(ScrubRecord.claim_key)))
        assert all("CN-" not in k and len(k) == 64 for k in keys)
        assert len(set(keys)) == 2
