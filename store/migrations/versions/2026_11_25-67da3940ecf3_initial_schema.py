"""Initial schema: packs, versions, files, audit log, API clients, environments, scrub history.

Revision ID: 67da3940ecf3
Revises:
Create Date: 2026-11-25 22:52:07.748185
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "67da3940ecf3"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "api_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("secret_kdf", sa.String(length=64), nullable=False),
        sa.Column("secret_salt", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_client_client_id")),
    )
    op.create_table(
        "environment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_environment")),
        sa.UniqueConstraint("name", name=op.f("uq_environment_name")),
    )
    op.create_table(
        "pack",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack")),
        sa.UniqueConstraint("name", name=op.f("uq_pack_name")),
    )
    op.create_table(
        "store_setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_store_setting")),
    )
    op.create_table(
        "api_client_pack",
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["api_client.id"],
            name=op.f("fk_api_client_pack_client_pk_api_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pack_id"], ["pack.id"], name=op.f("fk_api_client_pack_pack_id_pack")
        ),
        sa.PrimaryKeyConstraint("client_pk", "pack_id", name=op.f("pk_api_client_pack")),
    )
    op.create_table(
        "api_client_role",
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "role IN ('submitter', 'author', 'publisher', 'admin')",
            name=op.f("ck_api_client_role_role"),
        ),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["api_client.id"],
            name=op.f("fk_api_client_role_client_pk_api_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_pk", "role", name=op.f("pk_api_client_role")),
    )
    op.create_table(
        "pack_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("based_on_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=128), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publish_note", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "NOT is_active OR status = 'published'",
            name=op.f("ck_pack_version_active_is_published"),
        ),
        sa.CheckConstraint(
            "status = 'draft' OR (published_at IS NOT NULL AND effective_from IS NOT NULL)",
            name=op.f("ck_pack_version_published_has_dates"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'retired')", name=op.f("ck_pack_version_status")
        ),
        sa.ForeignKeyConstraint(
            ["based_on_id"],
            ["pack_version.id"],
            name=op.f("fk_pack_version_based_on_id_pack_version"),
        ),
        sa.ForeignKeyConstraint(
            ["pack_id"], ["pack.id"], name=op.f("fk_pack_version_pack_id_pack")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack_version")),
        sa.UniqueConstraint("pack_id", "id", name=op.f("uq_pack_version_pack_id_id")),
        sa.UniqueConstraint("pack_id", "seq", name=op.f("uq_pack_version_pack_id_seq")),
        sa.UniqueConstraint("pack_id", "version", name=op.f("uq_pack_version_pack_id_version")),
    )
    with op.batch_alter_table("pack_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pack_version_one_active",
            ["pack_id"],
            unique=True,
            sqlite_where=sa.text("is_active = 1"),
            postgresql_where=sa.text("is_active"),
        )
        batch_op.create_index(
            "ix_pack_version_one_draft",
            ["pack_id"],
            unique=True,
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )

    op.create_table(
        "scrub_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_key", sa.String(length=64), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("edits", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_pk"], ["api_client.id"], name=op.f("fk_scrub_record_client_pk_api_client")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scrub_record")),
    )
    with op.batch_alter_table("scrub_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scrub_record_claim_key"), ["claim_key"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("pack_id", sa.Integer(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["pack_id"], ["pack.id"], name=op.f("fk_audit_event_pack_id_pack")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["pack_version.id"],
            name=op.f("fk_audit_event_version_id_pack_version"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_event_pack_id_audit_event_id"), ["pack_id", "id"], unique=False
        )

    op.create_table(
        "environment_pack",
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("previous_version_id", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environment.id"],
            name=op.f("fk_environment_pack_environment_id_environment"),
        ),
        sa.ForeignKeyConstraint(
            ["pack_id", "previous_version_id"],
            ["pack_version.pack_id", "pack_version.id"],
            name=op.f("fk_environment_pack_pack_id_previous_version_id_pack_version"),
        ),
        sa.ForeignKeyConstraint(
            ["pack_id", "version_id"],
            ["pack_version.pack_id", "pack_version.id"],
            name=op.f("fk_environment_pack_pack_id_version_id_pack_version"),
        ),
        sa.ForeignKeyConstraint(
            ["pack_id"], ["pack.id"], name=op.f("fk_environment_pack_pack_id_pack")
        ),
        sa.PrimaryKeyConstraint("environment_id", "pack_id", name=op.f("pk_environment_pack")),
    )
    op.create_table(
        "pack_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("diagnostics", sa.JSON(), nullable=True),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["pack_version.id"],
            name=op.f("fk_pack_file_version_id_pack_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack_file")),
        sa.UniqueConstraint("version_id", "path", name=op.f("uq_pack_file_version_id_path")),
    )
    op.create_table(
        "scrub_record_version",
        sa.Column("scrub_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scrub_id"],
            ["scrub_record.id"],
            name=op.f("fk_scrub_record_version_scrub_id_scrub_record"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["pack_version.id"],
            name=op.f("fk_scrub_record_version_version_id_pack_version"),
        ),
        sa.PrimaryKeyConstraint("scrub_id", "version_id", name=op.f("pk_scrub_record_version")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("scrub_record_version")
    op.drop_table("pack_file")
    op.drop_table("environment_pack")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_pack_id_audit_event_id"))

    op.drop_table("audit_event")
    with op.batch_alter_table("scrub_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scrub_record_claim_key"))

    op.drop_table("scrub_record")
    with op.batch_alter_table("pack_version", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_pack_version_one_draft",
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )
        batch_op.drop_index(
            "ix_pack_version_one_active",
            sqlite_where=sa.text("is_active = 1"),
            postgresql_where=sa.text("is_active"),
        )

    op.drop_table("pack_version")
    op.drop_table("api_client_role")
    op.drop_table("api_client_pack")
    op.drop_table("store_setting")
    op.drop_table("pack")
    op.drop_table("environment")
    op.drop_table("api_client")
