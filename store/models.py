"""The store's tables as SQLAlchemy 2 typed models.

Pack versions are append-only: a published version's files never change, and publishing or rolling
back inserts a new version row (see ``docs/adr/0006-append-only-pack-versions.md``).  Which version
is current is the ``is_active`` flag, guarded by a partial unique index so that the database itself
refuses a second active version of one pack.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

__all__ = [
    "ROLES",
    "ApiClient",
    "ApiClientPack",
    "ApiClientRole",
    "AuditEvent",
    "Base",
    "Environment",
    "EnvironmentPack",
    "Pack",
    "PackFile",
    "PackVersion",
    "ScrubRecord",
    "ScrubRecordVersion",
    "StoreSetting",
    "VersionStatus",
]

# The house convention, with ``column_0_N`` instead of ``column_0`` for unique constraints, indexes
# and foreign keys: several composite constraints here start with the same column (``pack_id``), and
# the single-column form would give them the same name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("submitter", "author", "publisher", "admin")


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base carrying the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)
        datetime: DateTime(timezone=True),
    }


class VersionStatus(StrEnum):
    """Life cycle of a pack version: draft → published → retired (never back)."""

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class _StatusType(TypeDecorator[VersionStatus]):
    """``VersionStatus`` stored as VARCHAR(16) (portable; the CHECK constraint names the values)."""

    impl = String(16)
    cache_ok = True

    def process_bind_param(self, value: VersionStatus | None, dialect: Dialect) -> str | None:
        return None if value is None else VersionStatus(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> VersionStatus | None:
        return None if value is None else VersionStatus(value)


class Pack(Base):
    """A knowledge pack, identified by its name (``pack.toml`` ``name``)."""

    __tablename__ = "pack"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped by every draft creation, publish and rollback; the UPDATE checks the old value, so two
    # writers that both read the pack cannot both change what is active.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 (SQLAlchemy's declarative API)


class PackVersion(Base):
    """One version of a pack: a draft is editable; published and retired ones never change."""

    __tablename__ = "pack_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("pack.id"))
    seq: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(64))
    status: Mapped[VersionStatus] = mapped_column(_StatusType(), default=VersionStatus.DRAFT)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    effective_from: Mapped[date | None] = mapped_column(Date)
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("pack_version.id"))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(128))
    published_at: Mapped[datetime | None] = mapped_column()
    publish_note: Mapped[str | None] = mapped_column(Text)
    # Optimistic lock: every change to the version or its files bumps it, and the UPDATE carries
    # ``WHERE revision = <the value read>``; a writer working from an older revision gets
    # ConflictError.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    pack: Mapped[Pack] = relationship()
    files: Mapped[list[PackFile]] = relationship(
        back_populates="version", order_by="PackFile.path", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("pack_id", "seq"),
        UniqueConstraint("pack_id", "version"),
        # Target of the composite foreign keys that make "this version belongs to that pack" a
        # constraint.
        UniqueConstraint("pack_id", "id"),
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status"),
        # Only a published version may be active, and a published (or retired) version says when and
        # from what date it applies.
        CheckConstraint("NOT is_active OR status = 'published'", name="active_is_published"),
        CheckConstraint(
            "status = 'draft' OR (published_at IS NOT NULL AND effective_from IS NOT NULL)",
            name="published_has_dates",
        ),
        # Exactly one active version per pack: publish clears the old flag and sets the new one in
        # one transaction; this index makes a second active row impossible even if two publishes
        # race.
        Index(
            "ix_pack_version_one_active",
            "pack_id",
            unique=True,
            sqlite_where=text("is_active = 1"),
            postgresql_where=text("is_active"),
        ),
        # At most one open draft per pack, so "the draft of pack P" is unambiguous for every author.
        Index(
            "ix_pack_version_one_draft",
            "pack_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
    )

    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 (SQLAlchemy's declarative API)

    @property
    def label(self) -> str:
        """``pack@version``."""
        return f"{self.pack.name}@{self.version}"


class PackFile(Base):
    """One file of a pack version (pack.toml, rules, tables, cases, docs): UTF-8 text, exact."""

    __tablename__ = "pack_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("pack_version.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(512))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    # Compiler diagnostics from the last save (JSON list), or NULL when not compiled.
    diagnostics: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    version: Mapped[PackVersion] = relationship(back_populates="files")

    __table_args__ = (UniqueConstraint("version_id", "path"),)


class AuditEvent(Base):
    """Who did what to which pack version, when, and from which client."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    client: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    pack_id: Mapped[int | None] = mapped_column(ForeignKey("pack.id"))
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("pack_version.id", ondelete="SET NULL")
    )
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index(None, "pack_id", "id"),)


class ApiClient(Base):
    """An API client (OAuth client credentials); only a salted scrypt hash of the secret is kept."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    secret_kdf: Mapped[str] = mapped_column(String(64))
    secret_salt: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()

    roles: Mapped[list[ApiClientRole]] = relationship(
        cascade="all, delete-orphan", order_by="ApiClientRole.role"
    )
    packs: Mapped[list[ApiClientPack]] = relationship(cascade="all, delete-orphan")


class ApiClientRole(Base):
    """A role granted to a client."""

    __tablename__ = "api_client_role"

    client_pk: Mapped[int] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)

    __table_args__ = (
        CheckConstraint("role IN ('submitter', 'author', 'publisher', 'admin')", name="role"),
    )


class ApiClientPack(Base):
    """A pack a client subscribes to (scrubs run these packs unless the request names others)."""

    __tablename__ = "api_client_pack"

    client_pk: Mapped[int] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), primary_key=True
    )
    pack_id: Mapped[int] = mapped_column(ForeignKey("pack.id"), primary_key=True)

    pack: Mapped[Pack] = relationship()


class Environment(Base):
    """A named deployment target (``staging``, ``production``)."""

    __tablename__ = "environment"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class EnvironmentPack(Base):
    """The published version of one pack that an environment runs, and the one it ran before."""

    __tablename__ = "environment_pack"

    environment_id: Mapped[int] = mapped_column(ForeignKey("environment.id"), primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("pack.id"), primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer)
    previous_version_id: Mapped[int | None] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Optimistic lock, as on PackVersion: two promotions from the same starting point cannot both
    # win.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    environment: Mapped[Environment] = relationship()
    version: Mapped[PackVersion] = relationship(foreign_keys=[version_id], viewonly=True)

    __table_args__ = (
        # Composite keys: the pointed-to version must be a version of this very pack.
        ForeignKeyConstraint(
            ["pack_id", "version_id"], ["pack_version.pack_id", "pack_version.id"]
        ),
        ForeignKeyConstraint(
            ["pack_id", "previous_version_id"], ["pack_version.pack_id", "pack_version.id"]
        ),
    )

    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 (SQLAlchemy's declarative API)


class ScrubRecord(Base):
    """One scrub of one claim, known only by a keyed hash of its control number."""

    __tablename__ = "scrub_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    claim_key: Mapped[str] = mapped_column(String(64), index=True)
    client_pk: Mapped[int | None] = mapped_column(ForeignKey("api_client.id"))
    status: Mapped[str] = mapped_column(String(16))
    edits: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    versions: Mapped[list[ScrubRecordVersion]] = relationship(cascade="all, delete-orphan")


class ScrubRecordVersion(Base):
    """A pack version that took part in a scrub."""

    __tablename__ = "scrub_record_version"

    scrub_id: Mapped[int] = mapped_column(
        ForeignKey("scrub_record.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("pack_version.id"), primary_key=True)

    version: Mapped[PackVersion] = relationship()


class StoreSetting(Base):
    """Store-wide key/value settings (for instance the key of the claim control number hash)."""

    __tablename__ = "store_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
