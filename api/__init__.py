"""claimscrub api package: the HTTP API (``create_app``), the CLI and the response envelope.

``create_app`` is imported lazily, so that ``claimscrub --help`` does not load Flask and the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from api.app import create_app

        return create_app
    raise AttributeError(f"module 'api' has no attribute {name!r}")
