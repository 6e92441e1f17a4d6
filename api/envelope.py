"""The response envelope per claim, in the shape of Optum's claims APIs plus claimscrub's fields.

Why one module: the CLI, the HTTP API and the test reports must print the same document for the same
edits, so a client can switch between them without a second parser.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from json import encoder
from typing import Any

from claims.model import Claim
from engine.edits import Edit

__all__ = [
    "claim_response",
    "edits_line",
    "error_response",
    "structure_error",
    "success_jsonl",
    "success_line",
]

SUCCESS = "SUCCESS"
EDITS = "EDITS"
ERRORS = "ERRORS"  # the claim could not be read; errors are structural


def _edit_json(edit: Edit, *, explain: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "field": edit.field,
        "value": edit.value,
        "code": edit.rule_id,
        "description": edit.message,
        "followupAction": edit.action,
        "location": edit.location,
        "ruleId": edit.rule_id,
        "pack": edit.pack,
        "packVersion": edit.pack_version,
        "category": edit.category,
        "severity": edit.severity,
        "lines": list(edit.lines),
        "allowOverride": edit.allow_override,
    }
    if explain and edit.explanation is not None:
        out["explanation"] = edit.explanation
    return out


def claim_response(claim: Claim, edits: Sequence[Edit], *, explain: bool = False) -> dict[str, Any]:
    """The envelope for one scrubbed claim: SUCCESS when no edit fired, EDITS otherwise."""
    return {
        "status": EDITS if edits else SUCCESS,
        "controlNumber": claim.control_number,
        "claimReference": {
            "patientControlNumber": claim.patient_control_number,
            "claimType": "PROF" if claim.kind.value == "professional" else "INST",
            "payerID": claim.payer.identifier,
        },
        "errors": [_edit_json(e, explain=explain) for e in edits],
    }


def success_jsonl(claim: Claim) -> str:
    """``claim_response(claim, [])`` as one compact JSON line, without building the dict.

    Why: most claims of a large file come back clean, and building the envelope and running the
    generic encoder on it cost 2.8 µs a claim against 0.7 µs for this; the text is the same
    (``tests/api/test_envelope_fast.py`` compares them).
    """
    kind = "PROF" if claim.kind.value == "professional" else "INST"
    return success_line(
        claim.control_number, claim.patient_control_number, kind, claim.payer.identifier
    )


def success_line(control_number: str, patient_control_number: str, kind: str, payer: str) -> str:
    """:func:`success_jsonl` from the four values it shows (``kind`` is PROF or INST).

    Also used for clean claims that were never built as objects (``api.scrub_fast``).
    """
    dumps = json.dumps
    return (
        f'{{"status":"{SUCCESS}","controlNumber":{dumps(control_number)},'
        f'"claimReference":{{"patientControlNumber":{dumps(patient_control_number)},'
        f'"claimType":"{kind}","payerID":{dumps(payer)}}},"errors":[]}}\n'
    )


# json.dumps(ensure_ascii=True) quotes every string with this C function: the same bytes here.
_quote: Callable[[str], str] = encoder.encode_basestring_ascii
_CONSTANT_PARTS: dict[tuple[object, ...], tuple[str, str, str]] = {}
_QUOTED: dict[str, str] = {}


def _quoted(text: str) -> str:
    """``_quote(text)`` memoised: field paths and locations repeat on every edited claim."""
    got = _QUOTED.get(text)
    if got is None:
        if len(_QUOTED) > 65_536:
            _QUOTED.clear()
        got = _QUOTED[text] = _quote(text)
    return got


def _edit_text(edit: Edit) -> str:
    key = (
        edit.rule_id, edit.action, edit.pack, edit.pack_version, edit.category, edit.severity,
        edit.allow_override,
    )  # fmt: skip
    parts = _CONSTANT_PARTS.get(key)
    if parts is None:
        if len(_CONSTANT_PARTS) > 65_536:
            _CONSTANT_PARTS.clear()
        code, action = _quote(edit.rule_id), _quote(edit.action)
        parts = _CONSTANT_PARTS[key] = (
            f',"code":{code},"description":',
            f',"followupAction":{action},"location":',
            f',"ruleId":{code},"pack":{_quote(edit.pack)},"packVersion":'
            f'{_quote(edit.pack_version)},"category":{_quote(edit.category)},"severity":'
            f'{_quote(edit.severity)},"lines":',
        )
    after_code, after_description, after_location = parts
    override = "true" if edit.allow_override else "false"
    lines = ",".join(str(n) for n in edit.lines)
    return (
        f'{{"field":{_quoted(edit.field)},"value":{_quote(edit.value)}{after_code}'
        f"{_quote(edit.message)}{after_description}{_quoted(edit.location)}{after_location}"
        f'[{lines}],"allowOverride":{override}}}'
    )


def edits_line(
    control_number: str, patient_control_number: str, kind: str, payer: str, edits: Sequence[Edit]
) -> str:
    """``claim_response`` of a claim with ``edits`` as one compact JSON line, without the dicts.

    Why: an edited claim's envelope is a dict per edit and one ``json.dumps``; on a large file
    that was ~15% of the columnar scrub's time.  Strings are quoted by the function
    ``json.dumps`` quotes them with, each edit's constant part (rule, pack, category ...) once
    per rule; ``tests/api/test_envelope_fast.py`` compares the text with ``json.dumps``.
    Explanations are not written here (``--explain`` uses the envelope).
    """
    status = EDITS if edits else SUCCESS
    return (
        f'{{"status":"{status}","controlNumber":{_quote(control_number)},'
        f'"claimReference":{{"patientControlNumber":{_quote(patient_control_number)},'
        f'"claimType":"{kind}","payerID":{_quote(payer)}}},'
        f'"errors":[{",".join(_edit_text(e) for e in edits)}]}}\n'
    )


def structure_error(
    *, code: str, description: str, field: str = "", location: str = ""
) -> dict[str, Any]:
    """One structural error (the claim or file could not be read) in the edit shape."""
    return {
        "field": field,
        "value": "",
        "code": code,
        "description": description,
        "followupAction": "Please Correct and Resubmit",
        "location": location,
        "ruleId": code,
        "pack": "",
        "packVersion": "",
        "category": "structure",
        "severity": "error",
        "lines": [],
        "allowOverride": False,
    }


def error_response(
    control_number: str, errors: Sequence[Mapping[str, Any]], *, file: str = ""
) -> dict[str, Any]:
    """The envelope for input that could not be read into a claim."""
    out: dict[str, Any] = {
        "status": ERRORS,
        "controlNumber": control_number,
        "claimReference": {},
        "errors": list(errors),
    }
    if file:
        out["file"] = file
    return out
