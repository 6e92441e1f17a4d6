"""Published pack versions are immutable in the database itself (triggers).

Why: the service never edits or deletes a published version's files, and a test says so; a bug,
a script or a hand-typed SQL statement could still do it, and then the version that ran in
production is gone.  Triggers refuse it on SQLite and PostgreSQL alike: a published or retired
version's files cannot be updated or deleted (nor a draft file moved into it), the version row
cannot be deleted, and its pack, label and content hash cannot change, nor its status go back to
draft.  Inserting a version together with its files (publish, rollback) is unaffected.

Revision ID: 9c4e2a71b5d3
Revises: 67da3940ecf3
Create Date: 2026-11-26 01:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "9c4e2a71b5d3"
down_revision: str | Sequence[str] | None = "67da3940ecf3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILE_MSG = "claimscrub: files of a published pack version cannot change"
_VERSION_DELETE_MSG = "claimscrub: a published pack version cannot be deleted"
_VERSION_UPDATE_MSG = "claimscrub: a published pack version cannot change its content"

_OLD_FILE_FROZEN = "(SELECT status FROM pack_version WHERE id = OLD.version_id) <> 'draft'"
_NEW_FILE_FROZEN = "(SELECT status FROM pack_version WHERE id = NEW.version_id) <> 'draft'"
_VERSION_CHANGED = (
    "OLD.status <> 'draft' AND (NEW.content_hash <> OLD.content_hash OR NEW.version <> OLD.version"
    " OR NEW.pack_id <> OLD.pack_id OR NEW.status = 'draft')"
)

_SQLITE_UP = [
    f"""CREATE TRIGGER pack_file_frozen_update BEFORE UPDATE ON pack_file
    WHEN {_OLD_FILE_FROZEN} OR {_NEW_FILE_FROZEN}
    BEGIN SELECT RAISE(ABORT, '{_FILE_MSG}'); END""",
    f"""CREATE TRIGGER pack_file_frozen_delete BEFORE DELETE ON pack_file
    WHEN {_OLD_FILE_FROZEN}
    BEGIN SELECT RAISE(ABORT, '{_FILE_MSG}'); END""",
    f"""CREATE TRIGGER pack_version_frozen_delete BEFORE DELETE ON pack_version
    WHEN OLD.status <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{_VERSION_DELETE_MSG}'); END""",
    f"""CREATE TRIGGER pack_version_frozen_update BEFORE UPDATE ON pack_version
    WHEN {_VERSION_CHANGED}
    BEGIN SELECT RAISE(ABORT, '{_VERSION_UPDATE_MSG}'); END""",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS pack_file_frozen_update",
    "DROP TRIGGER IF EXISTS pack_file_frozen_delete",
    "DROP TRIGGER IF EXISTS pack_version_frozen_delete",
    "DROP TRIGGER IF EXISTS pack_version_frozen_update",
]

_PG_UP = [
    f"""CREATE FUNCTION claimscrub_pack_file_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF {_OLD_FILE_FROZEN} OR (TG_OP = 'UPDATE' AND {_NEW_FILE_FROZEN}) THEN
        RAISE EXCEPTION '{_FILE_MSG}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER pack_file_frozen BEFORE UPDATE OR DELETE ON pack_file
    FOR EACH ROW EXECUTE FUNCTION claimscrub_pack_file_frozen()""",
    f"""CREATE FUNCTION claimscrub_pack_version_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
          RAISE EXCEPTION '{_VERSION_DELETE_MSG}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
      END IF;
      IF {_VERSION_CHANGED} THEN
        RAISE EXCEPTION '{_VERSION_UPDATE_MSG}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER pack_version_frozen BEFORE UPDATE OR DELETE ON pack_version
    FOR EACH ROW EXECUTE FUNCTION claimscrub_pack_version_frozen()""",
]
_PG_DOWN = [
    "DROP TRIGGER IF EXISTS pack_version_frozen ON pack_version",
    "DROP FUNCTION IF EXISTS claimscrub_pack_version_frozen()",
    "DROP TRIGGER IF EXISTS pack_file_frozen ON pack_file",
    "DROP FUNCTION IF EXISTS claimscrub_pack_file_frozen()",
]


def _run(statements: list[str]) -> None:
    for sql in statements:
        op.execute(sql)


def upgrade() -> None:
    """Apply this revision."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_UP)
    elif dialect == "postgresql":
        _run(_PG_UP)


def downgrade() -> None:
    """Revert this revision."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(_PG_DOWN)
