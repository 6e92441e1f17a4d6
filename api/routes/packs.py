"""Authoring endpoints: packs, versions, files, drafts, validation, cases, diff, publish, promote.

Thin wrappers over ``store.service``: each opens one transaction, calls one store function and
returns its result as JSON.  Store errors become problem details in ``api.errors`` (404 unknown,
409 conflict with ``changes``, 422 invalid or refused with ``diagnostics``).  Writes are audited by
the store with the client's name and ``api:<client_id>``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from api.auth import current_auth, current_principal, require
from api.errors import ApiError
from api.schemas import DraftCreate, FileSave, PromoteRequest, PublishRequest, RollbackRequest
from store import service
from store.content import PackContent, write_pack_dir
from store.models import AuditEvent, PackVersion
from store.validation import default_validator

__all__ = ["bp"]

bp = Blueprint("packs", __name__)

READERS = ("author", "publisher")


@contextmanager
def _tx() -> Iterator[Session]:
    with current_auth().sessions.begin() as session:
        yield session


def _actor() -> service.Actor:
    p = current_principal()
    return service.Actor(p.client.name, f"api:{p.client_id}")


def version_json(v: PackVersion) -> dict[str, Any]:
    """A version's metadata."""
    return {
        "pack": v.pack.name,
        "version": v.version,
        "status": str(v.status),
        "active": v.is_active,
        "revision": v.revision,
        "content_hash": v.content_hash,
        "effective_from": v.effective_from.isoformat() if v.effective_from else None,
        "created_by": v.created_by,
        "published_by": v.published_by,
        "published_at": v.published_at.isoformat() if v.published_at else None,
        "note": v.publish_note,
    }


def _event_json(e: AuditEvent) -> dict[str, Any]:
    return {
        "at": e.at.isoformat(),
        "actor": e.actor,
        "client": e.client,
        "action": e.action,
        "detail": e.detail,
    }


def _body(model: type[Any]) -> Any:
    return model.model_validate_json(request.get_data() or b"{}")


@bp.get("/packs")
@require(*READERS)
def list_packs() -> Response:
    """Every pack with its active version."""
    with _tx() as s:
        out = []
        for p in service.list_packs(s):
            versions = service.list_versions(s, p.name)
            active = next((v.version for v in versions if v.is_active), None)
            draft = next((v.version for v in versions if str(v.status) == "draft"), None)
            out.append({"name": p.name, "title": p.title, "active": active, "draft": draft})
        return jsonify(out)


@bp.get("/packs/<pack>/versions")
@require(*READERS)
def list_versions(pack: str) -> Response:
    """Every version of a pack, oldest first."""
    with _tx() as s:
        return jsonify([version_json(v) for v in service.list_versions(s, pack)])


@bp.get("/packs/<pack>/versions/<version>")
@require(*READERS)
def get_version(pack: str, version: str) -> Response:
    """A version's metadata and file list (``draft`` and ``active`` work as versions)."""
    with _tx() as s:
        v = service.get_version(s, pack, version)
        files = [{"path": f.path, "sha256": f.sha256} for f in v.files]
        return jsonify(version_json(v) | {"files": files})


@bp.get("/packs/<pack>/versions/<version>/files/<path:path>")
@require(*READERS)
def get_file(pack: str, version: str, path: str) -> Response:
    """One file of a version, with the diagnostics of its last save."""
    with _tx() as s:
        v = service.get_version(s, pack, version)
        f = next((f for f in v.files if f.path == path), None)
        if f is None:
            raise ApiError(404, "Not Found", f"{v.label} has no file {path!r}")
        return jsonify(
            {
                "path": f.path,
                "content": f.content,
                "sha256": f.sha256,
                "revision": v.revision,
                "diagnostics": f.diagnostics,
            }
        )


@bp.post("/packs/<pack>/drafts")
@require("author")
def create_draft(pack: str) -> tuple[Response, int]:
    """Open a draft copied from a version (default: the active one)."""
    body = _body(DraftCreate)
    with _tx() as s:
        d = service.create_draft(
            s, pack, by=_actor(), from_version=body.from_version, version=body.version
        )
        return jsonify(version_json(d)), 201


@bp.delete("/packs/<pack>/draft")
@require("author")
def discard_draft(pack: str) -> tuple[str, int]:
    """Discard the open draft."""
    with _tx() as s:
        service.discard_draft(s, pack, by=_actor())
    return "", 204


@bp.put("/packs/<pack>/draft/files/<path:path>")
@require("author")
def put_file(pack: str, path: str) -> Response:
    """Save a rule, table, case or doc file in the draft; rule files come back compiled."""
    body = _body(FileSave)
    with _tx() as s:
        r = service.set_file(
            s, pack, path, body.content, by=_actor(), expected_revision=body.expected_revision
        )
        return jsonify(
            {
                "pack": pack,
                "version": r.version.version,
                "path": r.path,
                "revision": r.revision,
                "compiled": r.issues is not None,
                "diagnostics": [i.to_json() for i in r.issues or ()],
            }
        )


@bp.delete("/packs/<pack>/draft/files/<path:path>")
@require("author")
def delete_file(pack: str, path: str) -> Response:
    """Remove a file from the draft (``?expected_revision=N`` guards against lost updates)."""
    expected = request.args.get("expected_revision", type=int)
    with _tx() as s:
        d = service.delete_file(s, pack, path, by=_actor(), expected_revision=expected)
        return jsonify(version_json(d))


@bp.post("/packs/<pack>/versions/<version>/validate")
@require(*READERS)
def validate(pack: str, version: str) -> Response:
    """Compile every rule file and run the cases, as publish would; diagnostics as JSON."""
    with _tx() as s:
        content = service.version_content(service.get_version(s, pack, version))
    return jsonify(default_validator(content).to_json())


def _relative(diagnostic: dict[str, Any], root: str) -> dict[str, Any]:
    # Paths inside the temporary export become pack-relative (rules/x.rules).
    file = str(diagnostic.get("file", ""))
    if file.startswith(root):
        diagnostic["file"] = file[len(root) :].lstrip("/")
    return diagnostic


def _run_cases(content: PackContent) -> dict[str, Any]:
    from api import packtest  # being written alongside; imported late

    with tempfile.TemporaryDirectory(prefix="claimscrub-cases-") as tmp:
        write_pack_dir(content, Path(tmp))
        try:
            report = packtest.run_pack(Path(tmp))
        except packtest.PackTestError as exc:
            raise ApiError(
                422,
                "Cases cannot run",
                str(exc).replace(tmp, "<pack>"),
                diagnostics=[_relative(d.to_json(), tmp) for d in exc.diagnostics],
            ) from None
    return {
        "pack": report.pack,
        "version": report.version,
        "passed": report.passed,
        "cases": [
            {
                "case": r.case,
                "file": Path(r.file).name,
                "passed": r.passed,
                "missing": [str(e) for e in r.missing],
                "unexpected": [str(e) for e in r.unexpected],
                "error": r.error,
            }
            for r in report.results
        ],
        "never_fired": report.never_fired,
    }


@bp.post("/packs/<pack>/versions/<version>/test")
@require(*READERS)
def run_cases(pack: str, version: str) -> Response:
    """Run the version's test cases (``cases/*.yaml``) with the engine."""
    with _tx() as s:
        content = service.version_content(service.get_version(s, pack, version))
    return jsonify(_run_cases(content))


@bp.get("/packs/<pack>/diff")
@require(*READERS)
def diff(pack: str) -> Response:
    """File-by-file and rule-by-rule changes ``?from=A&to=B``."""
    a, b = request.args.get("from", ""), request.args.get("to", "")
    if not a or not b:
        raise ApiError(422, "Invalid request", "query parameters from and to are required")
    with _tx() as s:
        return jsonify([c.to_json() for c in service.diff_versions(s, pack, a, b)])


@bp.post("/packs/<pack>/publish")
@require("publisher")
def publish(pack: str) -> Response:
    """Validate and publish the draft; it becomes the active version."""
    body = _body(PublishRequest)
    with _tx() as s:
        v = service.publish(
            s,
            pack,
            by=_actor(),
            note=body.note,
            effective_from=body.effective_from,
            expected_revision=body.expected_revision,
        )
        return jsonify(version_json(v))


@bp.post("/packs/<pack>/rollback")
@require("publisher")
def rollback(pack: str) -> Response:
    """Publish an earlier version's content as a new active version; retire the replaced one."""
    body = _body(RollbackRequest)
    with _tx() as s:
        v = service.rollback(
            s,
            pack,
            body.to_version,
            by=_actor(),
            note=body.note or f"rollback to {body.to_version}",
        )
        return jsonify(version_json(v))


@bp.post("/packs/<pack>/promote")
@require("publisher")
def promote(pack: str) -> Response:
    """Point an environment at a published version (scrubs pick it up within a second)."""
    body = _body(PromoteRequest)
    with _tx() as s:
        ptr = service.promote(
            s,
            pack,
            body.version,
            body.environment,
            by=_actor(),
            expected_revision=body.expected_revision,
        )
        return jsonify(
            {
                "pack": pack,
                "environment": body.environment,
                "version": body.version,
                "revision": ptr.revision,
            }
        )


@bp.get("/packs/<pack>/history")
@require("author", "publisher", "admin")
def history(pack: str) -> Response:
    """The versions of a pack and its audit log."""
    with _tx() as s:
        versions = [version_json(v) for v in service.list_versions(s, pack)]
        audit = [_event_json(e) for e in service.history(s, pack)]
        return jsonify({"pack": pack, "versions": versions, "audit": audit})
