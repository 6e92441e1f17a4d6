"""The pack store: packs, append-only pack versions, audit log, API clients, scrub history.

Plain functions over a SQLAlchemy session; the caller owns the transaction::

    engine = make_engine()            # CLAIMSCRUB_DATABASE_URL or the user's SQLite file
    upgrade(engine)                   # Alembic migrations to head
    factory = make_sessionmaker(engine)
    with factory.begin() as session:
        publish(session, "cardiology", by=Actor("alice"), note="2025Q1 NCCI update")
"""

from store.clients import create_client, list_clients, revoke_client, verify_client
from store.content import FileChange, PackContent, RuleChange, read_pack_dir, write_pack_dir
from store.db import default_database_url, make_engine, make_sessionmaker, upgrade
from store.errors import (
    ConflictError,
    InvalidPackError,
    NotFoundError,
    PublishRefusedError,
    StoreError,
)
from store.models import PackVersion, VersionStatus
from store.scrubs import (
    ScrubEntry,
    ScrubHistoryWriter,
    record_scrub,
    record_scrubs,
    scrubs_for_claim,
)
from store.service import (
    Actor,
    SaveResult,
    active_version,
    create_draft,
    delete_file,
    diff_versions,
    discard_draft,
    environment_versions,
    export_version,
    get_draft,
    get_version,
    history,
    import_content,
    import_pack,
    list_packs,
    list_versions,
    promote,
    publish,
    resolve,
    retire,
    rollback,
    rollback_environment,
    set_file,
    version_content,
    version_for_date,
)
from store.validation import Issue, ValidationReport, Validator, default_validator

__all__ = [
    "Actor",
    "ConflictError",
    "FileChange",
    "InvalidPackError",
    "Issue",
    "NotFoundError",
    "PackContent",
    "PackVersion",
    "PublishRefusedError",
    "RuleChange",
    "SaveResult",
    "ScrubEntry",
    "ScrubHistoryWriter",
    "StoreError",
    "ValidationReport",
    "Validator",
    "VersionStatus",
    "active_version",
    "create_client",
    "create_draft",
    "default_database_url",
    "default_validator",
    "delete_file",
    "diff_versions",
    "discard_draft",
    "environment_versions",
    "export_version",
    "get_draft",
    "get_version",
    "history",
    "import_content",
    "import_pack",
    "list_clients",
    "list_packs",
    "list_versions",
    "make_engine",
    "make_sessionmaker",
    "promote",
    "publish",
    "read_pack_dir",
    "record_scrub",
    "record_scrubs",
    "resolve",
    "retire",
    "revoke_client",
    "rollback",
    "rollback_environment",
    "scrubs_for_claim",
    "set_file",
    "upgrade",
    "verify_client",
    "version_content",
    "version_for_date",
    "write_pack_dir",
]
