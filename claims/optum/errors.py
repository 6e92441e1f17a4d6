"""``ClaimJsonError``: every problem found in a piece of claim JSON, each located by its JSON path.

Why a path and not pydantic's ``loc`` tuple: the scrubber's response (Optum's ``errors[].field``)
names fields as ``claimInformation.serviceLines[1].professionalService.procedureCode``, so a client
can point at the same place whether the JSON was rejected here or an edit fired later.  Indexes are
0-based, as in the JSON array itself.

Why values are filtered: error messages end up in logs and HTTP responses, which must never carry
protected health information.  Messages are fixed texts that never quote input; the offending value
is kept in a separate ``value`` key only for scalar codes and amounts, never for anything under
``subscriber``/``dependent``, never for names, identifiers, dates of birth, addresses or contact
data, and never for a property whose name is not in the schema (its value could be anything).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import NotRequired, TypedDict

from pydantic import ValidationError

__all__ = ["ClaimJsonError", "JsonIssue", "loc_to_path"]

# Path segments under which a value is personal: the patient's and subscriber's identity, contact
# details and account numbers (HIPAA identifiers).  A path that passes through any of these never
# shows its value.
_PHI_SEGMENTS = frozenset(
    {
        "subscriber",
        "dependent",
        "otherSubscriberInformation",
        "firstName",
        "lastName",
        "middleName",
        "suffix",
        "organizationName",
        "memberId",
        "ssn",
        "standardHealthId",
        "dateOfBirth",
        "address",
        "payToAddress",
        "payerAddress",
        "contactInformation",
        "patientControlNumber",
        "medicalRecordNumber",
        "policyNumber",
        "groupNumber",
        "employerId",
        "taxId",
    }
)
_MAX_VALUE_CHARS = 40


class JsonIssue(TypedDict):
    """One problem: where (``path``), what (``message``), and the offending code when it is safe.

    ``line`` and ``column`` (1-based) are set only for JSON syntax errors, which have no path.
    """

    path: str
    message: str
    value: NotRequired[str]
    line: NotRequired[int]
    column: NotRequired[int]


class ClaimJsonError(ValueError):
    """Claim JSON that could not be turned into a domain claim; ``errors`` lists every problem."""

    def __init__(self, errors: Sequence[JsonIssue]) -> None:
        self.errors: list[JsonIssue] = list(errors)
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [f"{len(self.errors)} error(s) in claim JSON:"]
        for issue in self.errors:
            where = issue["path"] or "<root>"
            if "line" in issue:
                where += f" (line {issue['line']}, column {issue.get('column', 0)})"
            text = f"  {where}: {issue['message']}"
            if "value" in issue:
                text += f" [value: {issue['value']!r}]"
            lines.append(text)
        return "\n".join(lines)

    def prefixed(self, loc: Sequence[str | int]) -> ClaimJsonError:
        """The same errors with ``loc`` put in front of every path (``[3]`` for the 4th claim)."""
        head = loc_to_path(loc)
        moved: list[JsonIssue] = []
        for issue in self.errors:
            new = issue.copy()
            tail = issue["path"]
            if tail and not tail.startswith("["):
                tail = "." + tail
            new["path"] = head + tail
            moved.append(new)
        return ClaimJsonError(moved)

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> ClaimJsonError:
        """Translate pydantic's errors, dropping values that may be personal."""
        issues: list[JsonIssue] = []
        for err in exc.errors(include_url=False, include_context=False):
            loc = err["loc"]
            issue = JsonIssue(path=loc_to_path(loc), message=err["msg"])
            if err["type"] != "extra_forbidden":
                value = safe_value(loc, err.get("input"))
                if value is not None:
                    issue["value"] = value
            issues.append(issue)
        return cls(issues)


def loc_to_path(loc: Iterable[str | int]) -> str:
    """Turn a pydantic ``loc`` into a JSON path: ``("a", 1, "b")`` becomes ``a[1].b``."""
    out: list[str] = []
    for part in loc:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(f".{part}" if out else part)
    return "".join(out)


def safe_value(loc: Iterable[str | int], value: object) -> str | None:
    """The value to show for an error at ``loc``, or None when it might identify a person."""
    if any(part in _PHI_SEGMENTS for part in loc if isinstance(part, str)):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return None
    text = str(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[:_MAX_VALUE_CHARS] + "..."
    return text
