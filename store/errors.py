"""Exceptions of the store.  Every one carries a message meant for the person at the keyboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.validation import ValidationReport

__all__ = [
    "ConflictError",
    "InvalidPackError",
    "NotFoundError",
    "PublishRefusedError",
    "StoreError",
]


class StoreError(Exception):
    """Base of the store's exceptions."""


class NotFoundError(StoreError):
    """An unknown pack, version, environment or client."""


class InvalidPackError(StoreError):
    """A pack directory, file path or name that the store cannot accept."""


class ConflictError(StoreError):
    """Someone else changed what this operation was based on; nothing was written.

    ``changes`` lists what changed since the caller's revision (who, what, which revision), when
    known.
    """

    def __init__(self, message: str, changes: tuple[str, ...] = ()) -> None:
        self.changes = changes
        full = message if not changes else message + "; since then: " + "; ".join(changes)
        super().__init__(full)


class PublishRefusedError(StoreError):
    """The validator found errors; nothing was published.  ``report`` holds the diagnostics."""

    def __init__(self, message: str, report: ValidationReport) -> None:
        self.report = report
        super().__init__(message)
