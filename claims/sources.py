"""Claims from files: detect each file's format from its content and stream its claims.

Why by content and not by extension: claims teams receive 837s named ``.txt``, ``.dat``, ``.x12``
or nothing at all, and JSON exports named ``.out``.  The first non-blank bytes decide: ``ISA`` is
X12, ``{`` or ``[`` is JSON; anything else is a located input error.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from claims.model import Claim
from claims.x12 import X12Error, looks_like_x12, read_x12

if TYPE_CHECKING:  # imported when a JSON file is read: pydantic models cost ~0.1 s to build
    from claims.optum import ClaimJsonError

__all__ = [
    "SAMPLES_DIR",
    "InputError",
    "InputFormat",
    "SourceItem",
    "detect_format",
    "iter_claims",
    "walk_paths",
]

#: Bundled synthetic sample claims (no real patients): what ``claimscrub scrub`` reads by default.
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"

#: The largest JSON document read into memory at once (X12 is streamed and has no limit).
MAX_JSON_BYTES = 256 * 1024 * 1024
_HEAD_BYTES = 4096


class InputFormat(StrEnum):
    """What a claim file holds."""

    X12 = "x12"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class InputError:
    """A file that could not be read at all, or a JSON document that failed validation.

    ``detail`` names the place (JSON path or byte offset), never claim contents.
    """

    file: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: error[{self.code}]: {self.message}"


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One result of reading a file: a claim, or an error located in that file."""

    file: str
    claim: Claim | None = None
    error: X12Error | ClaimJsonError | InputError | None = None


def detect_format(head: bytes) -> InputFormat | None:
    """The format of a file from its first bytes, or None if it is neither X12 nor JSON."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if looks_like_x12(stripped):
        return InputFormat.X12
    if stripped[:1] in (b"{", b"["):
        return InputFormat.JSON
    return None


def walk_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Expand directories (recursively, sorted, hidden files skipped) into the files they hold."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield child
        else:
            yield path


def iter_claims(path: Path) -> Iterator[SourceItem]:
    """Stream the claims of one file, with located errors in file order."""
    name = str(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
            fmt = detect_format(head)
            if fmt is None:
                code, msg = (
                    ("IN-E002", "file is empty")
                    if not head.strip()
                    else (
                        "IN-E003",
                        "not an X12 837 (no ISA segment) nor JSON (no '{' or '[') at the start",
                    )
                )
                yield SourceItem(name, error=InputError(name, code, msg))
                return
            fh.seek(0)
            if fmt is InputFormat.X12:
                for item in read_x12(fh):
                    if isinstance(item, Claim):
                        yield SourceItem(name, claim=item)
                    else:
                        yield SourceItem(name, error=item)
                return
            data = fh.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        yield SourceItem(name, error=InputError(name, "IN-E001", f"cannot read: {exc.strerror}"))
        return
    if len(data) > MAX_JSON_BYTES:
        msg = f"JSON document larger than {MAX_JSON_BYTES} bytes; split it or use X12"
        yield SourceItem(name, error=InputError(name, "IN-E004", msg))
        return
    from claims.optum import ClaimJsonError, parse_claims_json

    try:
        claims = parse_claims_json(data)
    except ClaimJsonError as exc:
        yield SourceItem(name, error=exc)
        return
    for claim in claims:
        yield SourceItem(name, claim=claim)
