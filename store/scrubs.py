"""Scrub history: which pack versions scrubbed which claim, when, with which edits.

The claim is identified by HMAC-SHA256 of its control number under a random store-wide key, so the
history can be searched by control number but holds no claim identifier in clear (and no patient
name or member id at all).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import ApiClient, PackVersion, ScrubRecord, ScrubRecordVersion, StoreSetting

__all__ = ["claim_key", "record_scrub", "scrubs_for_claim"]

_KEY_SETTING = "claim_key_hmac"


def _hmac_key(session: Session) -> bytes:
    row = session.get(StoreSetting, _KEY_SETTING)
    if row is None:
        try:
            # A savepoint: two first scrubs may race to create the key; the loser reads the
            # winner's.
            with session.begin_nested():
                session.add(StoreSetting(key=_KEY_SETTING, value=secrets.token_hex(32)))
        except IntegrityError:
            pass
        row = session.get(StoreSetting, _KEY_SETTING, populate_existing=True)
        assert row is not None
    return bytes.fromhex(row.value)


def claim_key(session: Session, control_number: str) -> str:
    """The keyed hash that stands for a claim's control number in the history."""
    return hmac.new(_hmac_key(session), control_number.encode("utf-8"), hashlib.sha256).hexdigest()


def record_scrub(
    session: Session,
    control_number: str,
    versions: Sequence[PackVersion],
    edits: list[dict[str, Any]],
    *,
    status: str,
    client: ApiClient | None = None,
) -> ScrubRecord:
    """Record one scrub; ``edits`` is the JSON list of edits returned (no patient data)."""
    record = ScrubRecord(
        claim_key=claim_key(session, control_number),
        client_pk=None if client is None else client.id,
        status=status,
        edits=edits,
        versions=[
            ScrubRecordVersion(version_id=v.id) for v in {v.id: v for v in versions}.values()
        ],
    )
    session.add(record)
    session.flush()
    return record


def scrubs_for_claim(session: Session, control_number: str) -> list[ScrubRecord]:
    """Every recorded scrub of the claim with this control number, oldest first."""
    key = claim_key(session, control_number)
    return list(
        session.scalars(
            select(ScrubRecord).where(ScrubRecord.claim_key == key).order_by(ScrubRecord.id)
        )
    )
