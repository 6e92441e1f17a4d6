"""The public facade: JSON text or data in, domain claims out, and back.

Why ``json.loads`` and not ``model_validate_json`` (which the house style prefers): pydantic reads a
JSON number into a binary float before a ``Decimal`` field sees it, so ``12345678901234567.891``
arrives as ``12345678901234568``.  Money must be exact, so the text is read here with
``parse_float=Decimal`` and the models validate Python data.  It also gives the line and column of
a syntax error, which a client needs to find a missing comma.

Why the kind is detected by hand instead of with a pydantic discriminated union: Optum's JSON has
no kind property.  Detection looks, in order, at the explicit ``kind`` argument, at whether service
lines hold ``professionalService`` or ``institutionalService``, and at claim-level properties only
one of the two documents has (``healthCareCodeInformation``, ``claimCodeInformation``...).  Doing it
before validation keeps error paths free of union tags.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from pydantic import ValidationError

from claims.model import Claim, ClaimKind
from claims.optum._base import OptumModel, accepted_keys
from claims.optum.errors import ClaimJsonError, JsonIssue
from claims.optum.institutional import (
    InstitutionalClaimInformation,
    InstitutionalClaimRequest,
    institutional_json,
)
from claims.optum.professional import (
    ProfessionalClaimInformation,
    ProfessionalClaimRequest,
    professional_json,
)

__all__ = ["claim_to_json", "detect_kind", "parse_claim_json", "parse_claims_json"]

_REQUESTS: Final[Mapping[ClaimKind, type[ProfessionalClaimRequest | InstitutionalClaimRequest]]] = {
    ClaimKind.PROFESSIONAL: ProfessionalClaimRequest,
    ClaimKind.INSTITUTIONAL: InstitutionalClaimRequest,
}


def _only_in(mine: type[OptumModel], theirs: type[OptumModel]) -> frozenset[str]:
    return accepted_keys(mine) - accepted_keys(theirs)


# Property names that exist in one document only, at the top and in claimInformation.
_TELLTALES: Final[tuple[tuple[frozenset[str], frozenset[str], ClaimKind], ...]] = (
    (
        _only_in(ProfessionalClaimRequest, InstitutionalClaimRequest),
        _only_in(ProfessionalClaimInformation, InstitutionalClaimInformation),
        ClaimKind.PROFESSIONAL,
    ),
    (
        _only_in(InstitutionalClaimRequest, ProfessionalClaimRequest),
        _only_in(InstitutionalClaimInformation, ProfessionalClaimInformation),
        ClaimKind.INSTITUTIONAL,
    ),
)


def detect_kind(obj: Mapping[str, Any]) -> ClaimKind | None:
    """Which Optum document ``obj`` follows, or None when nothing in it tells."""
    info = obj.get("claimInformation")
    info = info if isinstance(info, Mapping) else {}
    lines = info.get("serviceLines")
    for line in lines if isinstance(lines, list) else ():
        if isinstance(line, Mapping):
            if "professionalService" in line:
                return ClaimKind.PROFESSIONAL
            if "institutionalService" in line:
                return ClaimKind.INSTITUTIONAL
    for top_keys, info_keys, kind in _TELLTALES:
        if top_keys.intersection(obj) or info_keys.intersection(info):
            return kind
    return None


def _issue(message: str) -> ClaimJsonError:
    return ClaimJsonError([JsonIssue(path="", message=message)])


def _load(data: bytes | bytearray | str | object) -> object:
    """JSON text to Python data with exact decimals; anything else is passed through."""
    if not isinstance(data, bytes | bytearray | str):
        return data
    try:
        return json.loads(data, parse_float=Decimal, parse_constant=Decimal)
    except json.JSONDecodeError as exc:
        issue = JsonIssue(
            path="", message=f"invalid JSON: {exc.msg}", line=exc.lineno, column=exc.colno
        )
        raise ClaimJsonError([issue]) from None
    except UnicodeDecodeError:
        raise _issue("invalid JSON: the text is not UTF-8, UTF-16 or UTF-32") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer with thousands of digits
        raise _issue(f"invalid JSON: {type(exc).__name__}") from None


def _one(obj: object, kind: ClaimKind | None) -> Claim:
    if not isinstance(obj, Mapping):
        raise _issue("a claim must be a JSON object")
    kind = kind or detect_kind(obj)
    if kind is None:
        raise _issue(
            "cannot tell a professional from an institutional claim: no service line has"
            " professionalService or institutionalService; pass kind explicitly"
        )
    try:
        request = _REQUESTS[kind].model_validate(obj)
    except ValidationError as exc:
        raise ClaimJsonError.from_validation_error(exc) from None
    return request.to_domain()


def parse_claim_json(data: bytes | str | Mapping[str, Any], kind: ClaimKind | None = None) -> Claim:
    """Read one claim in Optum's JSON shape (professional or institutional).

    Args:
        data: JSON text (``bytes`` or ``str``) or already-decoded data.
        kind: which document to read it as; detected from the data when None.

    Raises:
        ClaimJsonError: with every problem found, each at its JSON path.
    """
    return _one(_load(data), kind)


def parse_claims_json(
    data: bytes | str | Mapping[str, Any] | Sequence[Mapping[str, Any]],
    kind: ClaimKind | None = None,
) -> list[Claim]:
    """Read one claim object or a list of them; paths of list items start with ``[i]``.

    Every claim is checked before raising, so one error lists the problems of all bad claims.
    """
    obj = _load(data)
    if isinstance(obj, Mapping):
        return [_one(obj, kind)]
    if not isinstance(obj, list | tuple):
        raise _issue("expected a claim object or a list of claim objects")
    claims: list[Claim] = []
    issues: list[JsonIssue] = []
    for i, item in enumerate(obj):
        try:
            claims.append(_one(item, kind))
        except ClaimJsonError as exc:
            issues.extend(exc.prefixed([i]).errors)
    if issues:
        raise ClaimJsonError(issues)
    return claims


def claim_to_json(claim: Claim) -> dict[str, Any]:
    """The Optum request object for ``claim``'s kind, as JSON-ready Python data (strings only).

    Domain fields the Optum document has no property for are left out (listed in the package
    docstring); for every other claim ``parse_claim_json(claim_to_json(c)) == c``.
    """
    if claim.kind is ClaimKind.PROFESSIONAL:
        return professional_json(claim)
    return institutional_json(claim)
