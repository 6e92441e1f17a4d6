"""Scrub endpoints: Optum JSON (professional, institutional) and raw X12 837.

One envelope per claim (``api.envelope``): a JSON object for one claim object, a list for a list
or an 837.  Request-level problems are problem+json: 400 for bytes that are not JSON / not X12,
422 for a claim that fails the schema (``errors[].path``) or an 837 whose envelope is broken
(``errors[]`` with segment, loop and element).  An 837 claim that cannot be read while the rest of
the interchange can comes back as an ``ERRORS`` envelope in the 200 list.  Edits are a 200 with
status ``EDITS``.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from api.auth import Principal, current_auth, current_principal, require
from api.envelope import claim_response, error_response, structure_error
from api.errors import ApiError
from api.routes.runtime import PackRef, current_runtime
from api.scrub_history import history_entries
from claims.model import Claim, ClaimKind
from claims.optum import parse_claims_json
from claims.x12 import X12Error, read_x12
from engine.edits import Edit
from store.errors import InvalidPackError, NotFoundError
from store.scrubs import HistoryBacklogError, ScrubHistoryWriter, record_scrubs
from store.service import parse_ref

__all__ = ["bp"]

bp = Blueprint("scrub", __name__)

# X12 codes that make the whole interchange unusable: framing (400) and envelope (422).
_X12_FRAMING = frozenset({"X12-E001", "X12-E002", "X12-E003", "X12-E004", "X12-E006", "X12-E007"})
_X12_ENVELOPE = frozenset({"X12-E005", "X12-E008"} | {f"X12-E0{n}" for n in range(10, 18)})


def _flag(name: str) -> bool:
    value = request.args.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ApiError(422, "Invalid request", f"query parameter {name} must be true or false")


def select_packs(principal: Principal) -> list[PackRef]:
    """The client's subscribed packs in the environment, narrowed/pinned by ``?packs=``."""
    runtime = current_runtime()
    pointers = runtime.pointers()
    subscribed = principal.client.packs
    raw = request.args.get("packs", "").strip()
    if not raw:
        refs = [pointers[n] for n in subscribed if n in pointers]
        if not refs:
            raise ApiError(
                422, "No packs", "the client subscribes to no pack that runs in this environment"
            )
        return refs
    refs = []
    for item in (x.strip() for x in raw.split(",")):
        try:
            name, version = parse_ref(item)
        except InvalidPackError as exc:
            raise ApiError(422, "Invalid request", str(exc)) from None
        if name not in subscribed:
            raise ApiError(403, "Forbidden", f"the client does not subscribe to pack {name!r}")
        if version is None:
            if name not in pointers:
                raise ApiError(422, "No packs", f"pack {name!r} has no version in this environment")
            refs.append(pointers[name])
        else:
            try:
                refs.append(runtime.pinned(name, version))
            except (NotFoundError, LookupError) as exc:
                raise ApiError(422, "Invalid request", str(exc)) from None
    return list({r.version_id: r for r in refs}.values())


def _record(
    principal: Principal, refs: list[PackRef], claims: list[Claim], results: list[list[Edit]]
) -> None:
    version_ids = tuple(r.version_id for r in refs)
    entries = history_entries(claims, results, version_ids, client_pk=principal.client.pk)
    writer: ScrubHistoryWriter | None = current_app.extensions["claimscrub.history"]
    if writer is None:
        with current_auth().sessions.begin() as session:
            record_scrubs(session, entries)
        return
    try:
        writer.submit(entries)
    except HistoryBacklogError:
        raise ApiError(
            503,
            "Service Unavailable",
            "the scrub history cannot be written; retry later",
            headers={"Retry-After": "1"},
        ) from None


def _scrub(claims: list[Claim]) -> list[dict[str, Any]]:
    principal = current_principal()
    refs = select_packs(principal)
    explain = _flag("explain")
    # the request's date (UTC) is the claims' processing date; the engine never reads the clock
    today = datetime.now(UTC).date()
    results: list[list[Edit]] = current_runtime().scrub(
        refs, claims, explain=explain, processing_date=today
    )
    envelopes = [
        claim_response(c, edits, explain=explain) for c, edits in zip(claims, results, strict=True)
    ]
    _record(principal, refs, claims, results)
    return envelopes


def _load_json() -> Any:
    raw = request.get_data()
    try:
        return json.loads(raw, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        issue = {"path": "", "message": f"invalid JSON: {exc.msg}", "line": exc.lineno}
        issue["column"] = exc.colno
        raise ApiError(
            400, "Malformed JSON", "the body is not valid JSON", errors=[issue]
        ) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        issue = {"path": "", "message": f"invalid JSON: {type(exc).__name__}"}
        raise ApiError(
            400, "Malformed JSON", "the body is not valid JSON", errors=[issue]
        ) from None


def _scrub_json(kind: ClaimKind) -> Response:
    data = _load_json()
    if isinstance(data, list) and not data:
        raise ApiError(422, "Invalid claim", "the list holds no claim")
    claims = parse_claims_json(data, kind)
    envelopes = _scrub(claims)
    return jsonify(envelopes if isinstance(data, list) else envelopes[0])


@bp.post("/claims/professional/scrub")
@require("submitter")
def scrub_professional() -> Response:
    """Scrub one professional claim (Optum Professional Claims v3 JSON) or a list of them."""
    return _scrub_json(ClaimKind.PROFESSIONAL)


@bp.post("/claims/institutional/scrub")
@require("submitter")
def scrub_institutional() -> Response:
    """Scrub one institutional claim (Optum Institutional Claims v1 JSON) or a list of them."""
    return _scrub_json(ClaimKind.INSTITUTIONAL)


def x12_location(err: X12Error) -> dict[str, Any]:
    """An X12 error as JSON, located like a 999 acknowledgement."""
    return {
        "code": err.code,
        "message": err.message,
        "segment": err.segment_number,
        "segmentId": err.segment_id,
        "loop": err.loop,
        "element": err.element,
        "byteOffset": err.byte_offset,
        "controlNumber": err.control_number,
    }


def _x12_envelope(err: X12Error) -> dict[str, Any]:
    where = " ".join(
        x
        for x in (
            err.loop and f"loop {err.loop}",
            err.segment_id,
            (err.segment_number is not None and f"segment {err.segment_number}") or "",
            (err.element is not None and f"element {err.element}") or "",
        )
        if x
    )
    entry = structure_error(code=err.code, description=err.message, location=where)
    return error_response(err.control_number, [entry])


@bp.post("/claims/x12/scrub")
@require("submitter")
def scrub_x12() -> Response:
    """Scrub every claim of a raw X12 005010 837P/837I interchange."""
    items = list(read_x12(io.BytesIO(request.get_data()), name="request"))
    errors = [i for i in items if isinstance(i, X12Error)]
    fatal = [e for e in errors if e.code in _X12_FRAMING or e.code in _X12_ENVELOPE]
    if fatal:
        status = 400 if any(e.code in _X12_FRAMING for e in fatal) else 422
        title = "Malformed X12" if status == 400 else "Invalid X12 envelope"
        detail = f"{len(fatal)} interchange-level problem(s); see errors[]"
        raise ApiError(status, title, detail, errors=[x12_location(e) for e in errors])
    claims = [i for i in items if isinstance(i, Claim)]
    if not claims and not errors:
        raise ApiError(422, "Invalid X12 envelope", "the interchange holds no claim")
    scrubbed = iter(_scrub(claims) if claims else [])
    out = [next(scrubbed) if isinstance(i, Claim) else _x12_envelope(i) for i in items]
    return jsonify(out)
