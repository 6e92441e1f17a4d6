"""Store operations: plain functions over a SQLAlchemy session.

The caller owns the transaction (``with factory.begin() as session: publish(session, ...)``): every
function only flushes, so an exception anywhere leaves nothing behind once the transaction rolls
back.

Concurrency, in two layers:

* within a transaction, writers that change what is active lock the pack row first
  (``SELECT ... FOR NO KEY UPDATE`` on PostgreSQL; SQLite writers are serialised by
  ``BEGIN IMMEDIATE``), and editors lock the draft row;
* across transactions (an author who read revision 3 and saves later), callers pass
  ``expected_revision``; a mismatch raises :class:`ConflictError` naming the changes since.  The
  revision columns are also SQLAlchemy ``version_id_col`` columns, so every UPDATE checks them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from store.content import (
    MANIFEST,
    FileChange,
    PackContent,
    check_name,
    check_path,
    content_hash_from_digests,
    diff_contents,
    file_sha256,
    read_pack_dir,
    with_header_version,
    with_manifest_version,
    write_pack_dir,
)
from store.errors import (
    ConflictError,
    InvalidPackError,
    NotFoundError,
    PublishRefusedError,
)
from store.models import (
    AuditEvent,
    Environment,
    EnvironmentPack,
    Pack,
    PackFile,
    PackVersion,
    VersionStatus,
    utcnow,
)
from store.validation import (
    FileCompiler,
    Issue,
    ValidationReport,
    Validator,
    compile_file,
    default_validator,
)

__all__ = [
    "Actor",
    "SaveResult",
    "active_version",
    "create_draft",
    "delete_file",
    "diff_versions",
    "discard_draft",
    "environment_versions",
    "export_version",
    "get_draft",
    "get_pack",
    "get_version",
    "history",
    "import_content",
    "import_pack",
    "list_packs",
    "list_versions",
    "parse_ref",
    "promote",
    "publish",
    "resolve",
    "retire",
    "rollback",
    "rollback_environment",
    "set_file",
    "version_content",
    "version_for_date",
]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts (a person or an API client's name) and from which client (``cli``, ``api:<id>``)."""

    name: str
    client: str = "cli"


@dataclass(frozen=True, slots=True)
class SaveResult:
    """The outcome of saving a file into a draft: the draft's new revision and the diagnostics.

    ``issues`` is ``None`` when the file was not compiled (not a rule file, or no compiler).
    """

    version: PackVersion
    path: str
    revision: int
    issues: tuple[Issue, ...] | None

    @property
    def has_errors(self) -> bool:
        """Whether the compiler reported an error (saved anyway: drafts may be broken)."""
        return any(i.severity == "error" for i in self.issues or ())


# ----------------------------------------------------------------------------------------------
# reads


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``"pack@version"`` → ``("pack", "version")``; ``"pack"`` → ``("pack", None)``."""
    name, sep, version = ref.partition("@")
    if not name or (sep and not version):
        raise InvalidPackError(f"invalid pack reference {ref!r}: use PACK or PACK@VERSION")
    return name, (version if sep else None)


def get_pack(session: Session, name: str) -> Pack:
    """The pack called ``name``."""
    pack = session.scalars(select(Pack).where(Pack.name == name)).one_or_none()
    if pack is None:
        raise NotFoundError(f"unknown pack {name!r}")
    return pack


def _lock_pack(session: Session, name: str) -> Pack:
    # Row lock on the pack: every change to which version is active (publish, rollback, promote, new
    # draft) takes it first, so those changes for one pack happen one after another.  FOR NO KEY
    # UPDATE (key_share), not FOR UPDATE: inserting an audit row or a file takes KEY SHARE on the
    # rows it references, and FOR UPDATE would make an editor and a publisher deadlock.
    pack = session.scalars(
        select(Pack)
        .where(Pack.name == name)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if pack is None:
        raise NotFoundError(f"unknown pack {name!r}")
    return pack


def list_packs(session: Session) -> list[Pack]:
    """Every pack, by name."""
    return list(session.scalars(select(Pack).order_by(Pack.name)))


def list_versions(session: Session, pack_name: str) -> list[PackVersion]:
    """Every version of a pack, oldest first."""
    pack = get_pack(session, pack_name)
    return list(
        session.scalars(
            select(PackVersion).where(PackVersion.pack_id == pack.id).order_by(PackVersion.seq)
        )
    )


def get_version(session: Session, pack_name: str, version: str) -> PackVersion:
    """A version by its string; ``draft`` and ``active`` name the open draft and the active one."""
    if version == "draft":
        draft = get_draft(session, pack_name)
        if draft is None:
            raise NotFoundError(f"pack {pack_name!r} has no draft")
        return draft
    if version == "active":
        return active_version(session, pack_name)
    pack = get_pack(session, pack_name)
    found = session.scalars(
        select(PackVersion).where(PackVersion.pack_id == pack.id, PackVersion.version == version)
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"pack {pack_name!r} has no version {version!r}")
    return found


def get_draft(session: Session, pack_name: str, *, lock: bool = False) -> PackVersion | None:
    """The open draft of a pack, if any (``lock``: with a row lock, freshly read)."""
    pack = get_pack(session, pack_name)
    stmt = select(PackVersion).where(
        PackVersion.pack_id == pack.id, PackVersion.status == VersionStatus.DRAFT
    )
    if lock:
        stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


def active_version(session: Session, pack_name: str) -> PackVersion:
    """The one active (most recently published or rolled-back-to) version of a pack."""
    pack = get_pack(session, pack_name)
    found = session.scalars(
        select(PackVersion).where(PackVersion.pack_id == pack.id, PackVersion.is_active)
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"pack {pack_name!r} has no published version")
    return found


def version_for_date(session: Session, pack_name: str, on: date) -> PackVersion:
    """The version for a date of service: the published one in effect latest on or before it.

    Ties on ``effective_from`` go to the later version.  Retired versions never apply.
    """
    pack = get_pack(session, pack_name)
    found = session.scalars(
        select(PackVersion)
        .where(
            PackVersion.pack_id == pack.id,
            PackVersion.status == VersionStatus.PUBLISHED,
            PackVersion.effective_from <= on,
        )
        .order_by(PackVersion.effective_from.desc(), PackVersion.seq.desc())
        .limit(1)
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"pack {pack_name!r} has no version effective on {on.isoformat()}")
    return found


def resolve(
    session: Session, ref: str, *, environment: str | None = None, on: date | None = None
) -> PackVersion:
    """The version ``ref`` names, for reproducible runs.

    ``pack@version`` is exact (retired versions included, so old runs can be replayed).  A bare
    ``pack`` means the environment's version if ``environment`` is given, else the version effective
    ``on`` a date, else the active version.
    """
    name, version = parse_ref(ref)
    if version is not None:
        return get_version(session, name, version)
    if environment is not None:
        pointers = environment_versions(session, environment)
        if name not in pointers:
            raise NotFoundError(f"environment {environment!r} has no version of pack {name!r}")
        return pointers[name]
    if on is not None:
        return version_for_date(session, name, on)
    return active_version(session, name)


def version_content(version: PackVersion) -> PackContent:
    """The files of a version."""
    return PackContent({f.path: f.content for f in version.files})


def history(session: Session, pack_name: str) -> list[AuditEvent]:
    """The audit log of a pack, oldest first."""
    pack = get_pack(session, pack_name)
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.pack_id == pack.id).order_by(AuditEvent.id)
        )
    )


def diff_versions(session: Session, pack_name: str, a: str, b: str) -> list[FileChange]:
    """File-by-file and rule-by-rule changes from version ``a`` to version ``b``."""
    va, vb = get_version(session, pack_name, a), get_version(session, pack_name, b)
    return diff_contents(version_content(va), version_content(vb), va.version, vb.version)


def export_version(session: Session, ref: str, directory: Path) -> PackVersion:
    """Write a version's files under ``directory`` exactly as they were imported or saved."""
    version = resolve(session, ref)
    write_pack_dir(version_content(version), directory)
    return version


# ---------------------------------------------------------------------------------------------
# writes


def _audit(
    session: Session,
    by: Actor,
    action: str,
    pack: Pack,
    target: PackVersion | None,
    /,
    **detail: Any,
) -> None:
    session.add(
        AuditEvent(
            actor=by.name,
            client=by.client,
            action=action,
            pack_id=pack.id,
            version_id=None if target is None else target.id,
            detail=detail,
        )
    )


def _flush(session: Session, what: str) -> None:
    """Flush, turning a lost race into ConflictError (the transaction must then be rolled back)."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError(
            f"{what}: changed by another writer meanwhile; reload and retry"
        ) from exc
    except IntegrityError as exc:
        raise ConflictError(
            f"{what}: a concurrent change won ({type(exc.orig).__name__}: {exc.orig})"
        ) from exc


def _changes_since(session: Session, version: PackVersion, revision: int) -> tuple[str, ...]:
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.version_id == version.id).order_by(AuditEvent.id)
    )
    out: list[str] = []
    for e in events:
        rev = e.detail.get("revision")
        if isinstance(rev, int) and rev > revision:
            what = e.detail.get("path", "")
            out.append(f"revision {rev}: {e.actor} ({e.client}) {e.action} {what}".rstrip())
    return tuple(out)


def _check_revision(session: Session, version: PackVersion, expected: int | None) -> None:
    if expected is not None and version.revision != expected:
        raise ConflictError(
            f"{version.label} is at revision {version.revision}, not {expected}",
            _changes_since(session, version, expected),
        )


def _labels(session: Session, pack: Pack) -> list[str]:
    return list(
        session.scalars(
            select(PackVersion.version)
            .where(PackVersion.pack_id == pack.id)
            .order_by(PackVersion.seq)
        )
    )


def _next_label(session: Session, pack: Pack) -> str:
    labels = _labels(session, pack)
    if not labels:
        return "1"
    taken = set(labels)
    label = labels[-1]
    while label in taken:
        m = re.match(r"^(.*?)(\d+)$", label)
        if m:
            digits = m.group(2)
            label = m.group(1) + str(int(digits) + 1).zfill(len(digits))
        else:
            label += ".1"
    return label


def _next_seq(session: Session, pack: Pack) -> int:
    top = session.scalar(select(func.max(PackVersion.seq)).where(PackVersion.pack_id == pack.id))
    return (top or 0) + 1


def _new_version(
    session: Session,
    pack: Pack,
    content: PackContent,
    *,
    by: Actor,
    label: str,
    based_on: PackVersion | None,
    status: VersionStatus = VersionStatus.DRAFT,
) -> PackVersion:
    files = dict(content.files)
    if MANIFEST in files:
        files[MANIFEST] = with_manifest_version(files[MANIFEST], label)
        for path in [p for p in files if p.startswith("rules/") and p.endswith(".rules")]:
            files[path] = with_header_version(files[path], label)
    version = PackVersion(
        pack_id=pack.id,
        seq=_next_seq(session, pack),
        version=check_name(label),
        status=status,
        is_active=False,
        content_hash=PackContent(files).sha256,
        based_on_id=None if based_on is None else based_on.id,
        created_by=by.name,
        files=[
            PackFile(path=check_path(p), content=t, sha256=file_sha256(t), updated_by=by.name)
            for p, t in sorted(files.items())
        ],
    )
    if status is not VersionStatus.DRAFT:
        version.published_at = utcnow()
        version.effective_from = datetime.now(UTC).date()
    session.add(version)
    return version


def _refuse_if_draft_open(session: Session, pack: Pack) -> None:
    draft = session.scalars(
        select(PackVersion).where(
            PackVersion.pack_id == pack.id, PackVersion.status == VersionStatus.DRAFT
        )
    ).one_or_none()
    if draft is not None:
        raise ConflictError(
            f"pack {pack.name!r} already has a draft {draft.version!r} "
            f"(created by {draft.created_by}, revision {draft.revision}); "
            "publish or discard it first"
        )


def import_content(
    session: Session, content: PackContent, *, by: Actor, version: str | None = None
) -> PackVersion:
    """Store ``content`` as a new draft of the pack its ``pack.toml`` names (created if new).

    The version string is ``version``, else ``pack.toml``'s ``version``, else the next free one.
    """
    manifest = content.manifest()
    name = check_name(str(manifest.get("name", "")))
    title = str(manifest.get("title", ""))
    label = version or (str(manifest["version"]) if "version" in manifest else None)
    pack = session.scalars(select(Pack).where(Pack.name == name)).one_or_none()
    if pack is None:
        session.add(Pack(name=name, title=title))
        _flush(session, f"create pack {name!r}")
    pack = _lock_pack(session, name)
    _refuse_if_draft_open(session, pack)
    label = label or _next_label(session, pack)
    if label in _labels(session, pack):
        raise ConflictError(
            f"pack {name!r} already has a version {label!r}; versions are immutable, "
            "so give the new one another version string"
        )
    draft = _new_version(session, pack, content, by=by, label=label, based_on=None)
    flag_modified(pack, "title")  # bumps pack.revision: a new version exists
    _flush(session, f"import {name}@{label}")
    _audit(session, by, "import", pack, draft, version=label, revision=draft.revision)
    _flush(session, f"import {name}@{label}")
    return draft


def import_pack(
    session: Session, directory: Path, *, by: Actor, version: str | None = None
) -> PackVersion:
    """Import a pack directory as a new draft (see :func:`import_content`)."""
    return import_content(session, read_pack_dir(directory), by=by, version=version)


def create_draft(
    session: Session,
    pack_name: str,
    *,
    by: Actor,
    from_version: str | None = None,
    version: str | None = None,
) -> PackVersion:
    """Open a draft copied from ``from_version`` (default: the active version)."""
    pack = _lock_pack(session, pack_name)
    _refuse_if_draft_open(session, pack)
    base = (
        get_version(session, pack_name, from_version)
        if from_version is not None
        else active_version(session, pack_name)
    )
    label = version or _next_label(session, pack)
    if label in _labels(session, pack):
        raise ConflictError(f"pack {pack_name!r} already has a version {label!r}")
    draft = _new_version(session, pack, version_content(base), by=by, label=label, based_on=base)
    flag_modified(pack, "title")
    _flush(session, f"create draft of {pack_name}")
    _audit(session, by, "draft", pack, draft, version=label, based_on=base.version, revision=1)
    _flush(session, f"create draft of {pack_name}")
    return draft


def _locked_draft(session: Session, pack_name: str) -> PackVersion:
    draft = get_draft(session, pack_name, lock=True)
    if draft is None:
        raise NotFoundError(
            f"pack {pack_name!r} has no draft; create one with `claimscrub store draft {pack_name}`"
        )
    return draft


def _touch(draft: PackVersion) -> None:
    draft.content_hash = content_hash_from_digests({f.path: f.sha256 for f in draft.files})
    flag_modified(draft, "content_hash")  # always an UPDATE, so the revision always moves


def set_file(
    session: Session,
    pack_name: str,
    path: str,
    text: str,
    *,
    by: Actor,
    expected_revision: int | None = None,
    compiler: FileCompiler | None = compile_file,
) -> SaveResult:
    """Create or replace one file of the draft; rule files are compiled and the diagnostics kept.

    A draft may hold broken rules (authors save work in progress); :func:`publish` refuses them.
    ``compiler`` (default: ``dsl`` when importable) gives the diagnostics of ``path`` within the
    draft's other rule files.
    """
    path = check_path(path)
    draft = _locked_draft(session, pack_name)
    _check_revision(session, draft, expected_revision)
    issues: tuple[Issue, ...] | None = None
    if compiler is not None and path.startswith("rules/") and path.endswith(".rules"):
        content = dict(version_content(draft).files)
        content[path] = text
        found = compiler(path, PackContent(content))
        issues = None if found is None else tuple(found)
    diagnostics = None if issues is None else [i.to_json() for i in issues]
    existing = next((f for f in draft.files if f.path == path), None)
    if existing is None:
        draft.files.append(
            PackFile(
                path=path,
                content=text,
                sha256=file_sha256(text),
                diagnostics=diagnostics,
                updated_by=by.name,
            )
        )
    else:
        existing.content = text
        existing.sha256 = file_sha256(text)
        existing.diagnostics = diagnostics
        existing.updated_by = by.name
        existing.updated_at = utcnow()
    _touch(draft)
    _flush(session, f"save {path} in {draft.label}")
    errors = sum(1 for i in issues or () if i.severity == "error")
    _audit(
        session,
        by,
        "set-file",
        draft.pack,
        draft,
        path=path,
        sha256=file_sha256(text),
        errors=errors,
        revision=draft.revision,
    )
    _flush(session, f"save {path} in {draft.label}")
    return SaveResult(draft, path, draft.revision, issues)


def delete_file(
    session: Session,
    pack_name: str,
    path: str,
    *,
    by: Actor,
    expected_revision: int | None = None,
) -> PackVersion:
    """Remove one file from the draft."""
    path = check_path(path)
    draft = _locked_draft(session, pack_name)
    _check_revision(session, draft, expected_revision)
    existing = next((f for f in draft.files if f.path == path), None)
    if existing is None:
        raise NotFoundError(f"{draft.label} has no file {path!r}")
    draft.files.remove(existing)
    _touch(draft)
    _flush(session, f"delete {path} from {draft.label}")
    _audit(session, by, "delete-file", draft.pack, draft, path=path, revision=draft.revision)
    _flush(session, f"delete {path} from {draft.label}")
    return draft


def discard_draft(session: Session, pack_name: str, *, by: Actor) -> None:
    """Delete the open draft (drafts are not history; published versions are never deleted)."""
    draft = _locked_draft(session, pack_name)
    pack = draft.pack
    label = draft.version
    session.delete(draft)
    _flush(session, f"discard draft {pack_name}@{label}")
    _audit(session, by, "discard", pack, None, version=label)
    _flush(session, f"discard draft {pack_name}@{label}")


def _activate(
    session: Session,
    pack: Pack,
    version: PackVersion,
    *,
    by: Actor,
    note: str,
    effective_from: date | None,
) -> PackVersion | None:
    """Make ``version`` the published, active version; return the previously active one."""
    previous = session.scalars(
        select(PackVersion)
        .where(PackVersion.pack_id == pack.id, PackVersion.is_active)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if previous is not None:
        # Clear the old flag first and flush: the partial unique index admits one active row at a
        # time.
        previous.is_active = False
        _flush(session, f"deactivate {previous.label}")
    version.status = VersionStatus.PUBLISHED
    version.is_active = True
    version.published_by = by.name
    version.published_at = utcnow()
    version.publish_note = note
    version.effective_from = effective_from or datetime.now(UTC).date()
    flag_modified(pack, "title")  # bumps pack.revision
    _flush(session, f"publish {version.label}")
    return previous


def _validate(version: PackVersion, validate: Validator) -> ValidationReport:
    report = validate(version_content(version))
    if not report.ok:
        lines = "\n".join(i.render() for i in report.errors)
        raise PublishRefusedError(
            f"{version.label} not published: {len(report.errors)} error(s)\n{lines}", report
        )
    return report


def publish(
    session: Session,
    pack_name: str,
    *,
    by: Actor,
    note: str,
    validate: Validator = default_validator,
    effective_from: date | None = None,
    expected_revision: int | None = None,
) -> PackVersion:
    """Publish the draft: refused (PublishRefusedError) unless ``validate`` reports no error.

    The draft becomes the active version; the previous one stays published (it still applies to
    dates of service before the new ``effective_from``, default today).
    """
    if not note.strip():
        raise InvalidPackError("a publish note is required (say why)")
    pack = _lock_pack(session, pack_name)
    draft = _locked_draft(session, pack_name)
    _check_revision(session, draft, expected_revision)
    report = _validate(draft, validate)
    previous = _activate(session, pack, draft, by=by, note=note, effective_from=effective_from)
    _audit(
        session,
        by,
        "publish",
        pack,
        draft,
        note=note,
        previous=None if previous is None else previous.version,
        content_hash=draft.content_hash,
        checks=list(report.checks),
        warnings=len(report.issues) - len(report.errors),
    )
    _flush(session, f"publish {draft.label}")
    return draft


def rollback(
    session: Session,
    pack_name: str,
    to_version: str,
    *,
    by: Actor,
    note: str,
    validate: Validator = default_validator,
) -> PackVersion:
    """Publish an earlier version's content again, as a new version, and retire the one it replaces.

    The new version takes over the replaced version's ``effective_from``, so it covers every date of
    service the replaced one did.  Only the ``version`` line of ``pack.toml`` differs from the
    target.
    """
    pack = _lock_pack(session, pack_name)
    target = get_version(session, pack_name, to_version)
    if target.status is VersionStatus.DRAFT:
        raise InvalidPackError(f"{target.label} is a draft; roll back to a published version")
    current = active_version(session, pack_name)
    if current.id == target.id:
        raise InvalidPackError(f"{target.label} is already the active version")
    label = _next_label(session, pack)
    new = _new_version(
        session,
        pack,
        version_content(target),
        by=by,
        label=label,
        based_on=target,
        status=VersionStatus.PUBLISHED,
    )
    _flush(session, f"roll back {pack_name} to {to_version}")
    _validate(new, validate)
    replaced = _activate(
        session, pack, new, by=by, note=note, effective_from=current.effective_from
    )
    if replaced is not None:
        replaced.status = VersionStatus.RETIRED
    _audit(
        session,
        by,
        "rollback",
        pack,
        new,
        note=note,
        to=target.version,
        retired=None if replaced is None else replaced.version,
        content_hash=new.content_hash,
    )
    _flush(session, f"roll back {pack_name} to {to_version}")
    return new


def retire(session: Session, pack_name: str, version: str, *, by: Actor, note: str) -> PackVersion:
    """Retire a published version that is not active: it no longer applies to any date."""
    pack = _lock_pack(session, pack_name)
    found = get_version(session, pack_name, version)
    if found.status is not VersionStatus.PUBLISHED or found.is_active:
        raise InvalidPackError(
            f"{found.label} is {'active' if found.is_active else found.status}; "
            "only an inactive published version can be retired"
        )
    found.status = VersionStatus.RETIRED
    _flush(session, f"retire {found.label}")
    _audit(session, by, "retire", pack, found, note=note)
    _flush(session, f"retire {found.label}")
    return found


# ------------------------------------------------------------------------------------ environments


def _environment(session: Session, name: str, *, create: bool) -> Environment:
    env = session.scalars(select(Environment).where(Environment.name == name)).one_or_none()
    if env is not None:
        return env
    if not create:
        raise NotFoundError(f"unknown environment {name!r}")
    env = Environment(name=check_name(name))
    try:
        # A savepoint: if another writer created it first, take theirs.
        with session.begin_nested():
            session.add(env)
    except IntegrityError:
        return session.scalars(select(Environment).where(Environment.name == name)).one()
    return env


def environment_versions(session: Session, environment: str) -> dict[str, PackVersion]:
    """Pack name → the version an environment runs."""
    env = _environment(session, environment, create=False)
    rows = session.execute(
        select(Pack.name, PackVersion)
        .join(EnvironmentPack, EnvironmentPack.pack_id == Pack.id)
        .join(PackVersion, PackVersion.id == EnvironmentPack.version_id)
        .where(EnvironmentPack.environment_id == env.id)
        .order_by(Pack.name)
    )
    return {row[0]: row[1] for row in rows}


def _pointer(session: Session, env: Environment, pack: Pack) -> EnvironmentPack | None:
    return session.scalars(
        select(EnvironmentPack)
        .where(EnvironmentPack.environment_id == env.id, EnvironmentPack.pack_id == pack.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one_or_none()


def promote(
    session: Session,
    pack_name: str,
    version: str,
    environment: str,
    *,
    by: Actor,
    expected_revision: int | None = None,
) -> EnvironmentPack:
    """Point ``environment`` at a published version of a pack (atomically; the old one is kept)."""
    pack = _lock_pack(session, pack_name)
    target = get_version(session, pack_name, version)
    if target.status is not VersionStatus.PUBLISHED:
        raise InvalidPackError(f"{target.label} is {target.status}; only published versions run")
    env = _environment(session, environment, create=True)
    pointer = _pointer(session, env, pack)
    if pointer is None:
        pointer = EnvironmentPack(
            environment_id=env.id, pack_id=pack.id, version_id=target.id, updated_by=by.name
        )
        session.add(pointer)
        previous = None
    else:
        if expected_revision is not None and pointer.revision != expected_revision:
            raise ConflictError(
                f"{environment}/{pack_name} is at revision {pointer.revision}, "
                f"not {expected_revision}"
            )
        previous = pointer.version_id
        pointer.previous_version_id = pointer.version_id
        pointer.version_id = target.id
        pointer.updated_by = by.name
        pointer.updated_at = utcnow()
    _flush(session, f"promote {target.label} to {environment}")
    old = None if previous is None else session.get(PackVersion, previous)
    _audit(
        session,
        by,
        "promote",
        pack,
        target,
        environment=environment,
        previous=None if old is None else old.version,
    )
    _flush(session, f"promote {target.label} to {environment}")
    return pointer


def rollback_environment(
    session: Session, pack_name: str, environment: str, *, by: Actor
) -> EnvironmentPack:
    """Point ``environment`` back at the version it ran before the last promotion (swap)."""
    pack = _lock_pack(session, pack_name)
    env = _environment(session, environment, create=False)
    pointer = _pointer(session, env, pack)
    if pointer is None or pointer.previous_version_id is None:
        raise NotFoundError(f"{environment}/{pack_name} has no previous version to roll back to")
    back = session.get(PackVersion, pointer.previous_version_id)
    assert back is not None
    if back.status is not VersionStatus.PUBLISHED:
        raise InvalidPackError(f"{back.label} is {back.status}; promote a published version")
    pointer.previous_version_id, pointer.version_id = pointer.version_id, back.id
    pointer.updated_by = by.name
    pointer.updated_at = utcnow()
    _flush(session, f"roll back {environment}/{pack_name}")
    _audit(session, by, "env-rollback", pack, back, environment=environment)
    _flush(session, f"roll back {environment}/{pack_name}")
    return pointer


def version_labels(versions: Sequence[PackVersion]) -> list[str]:
    """``pack@version`` for each version (for reports and scrub records)."""
    return [v.label for v in versions]
