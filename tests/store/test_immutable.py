"""The database itself refuses to change or delete a published version (migration 9c4e2a71b5d3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from store import Actor, create_draft, import_pack, publish, version_content
from store.validation import ValidationReport

ALICE = Actor("alice")


def _accept(*_: object) -> ValidationReport:
    return ValidationReport((), ("none",))


def _published(factory: sessionmaker[Session], pack_dir: Path) -> tuple[int, int]:
    """(published version id, open draft version id)."""
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)
        v1 = publish(s, "demo", by=ALICE, note="v1", validate=_accept)
        draft = create_draft(s, "demo", by=ALICE)
        return v1.id, draft.id


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE pack_file SET content = 'tampered' WHERE version_id = :v",
        "DELETE FROM pack_file WHERE version_id = :v",
        "UPDATE pack_file SET version_id = :v WHERE version_id = :d",
        "DELETE FROM pack_version WHERE id = :v",
        "UPDATE pack_version SET content_hash = 'x' WHERE id = :v",
        "UPDATE pack_version SET version = '9.9' WHERE id = :v",
        "UPDATE pack_version SET status = 'draft', is_active = false WHERE id = :v",
    ],
)
def test_published_version_cannot_be_changed_by_sql(
    engine: Engine, factory: sessionmaker[Session], pack_dir: Path, sql: str
) -> None:
    v1, draft = _published(factory, pack_dir)
    with factory() as s:
        before = version_content_of(s, v1)
    with pytest.raises(DBAPIError, match="published pack version"), engine.begin() as conn:
        conn.execute(text(sql), {"v": v1, "d": draft})
    with factory() as s:
        assert version_content_of(s, v1) == before  # nothing changed, nothing lost


def test_drafts_stay_editable_and_deletable(
    engine: Engine, factory: sessionmaker[Session], pack_dir: Path
) -> None:
    _, draft = _published(factory, pack_dir)
    with engine.begin() as conn:
        conn.execute(text("UPDATE pack_file SET content = 'x' WHERE version_id = :d"), {"d": draft})
        conn.execute(text("DELETE FROM pack_file WHERE version_id = :d"), {"d": draft})
        conn.execute(text("DELETE FROM pack_version WHERE id = :d"), {"d": draft})


def version_content_of(s: Session, version_id: int) -> dict[str, str]:
    from store.models import PackVersion

    version = s.get(PackVersion, version_id)
    assert version is not None
    return dict(version_content(version).files)
