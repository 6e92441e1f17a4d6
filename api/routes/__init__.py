"""The API's blueprints; :func:`register` mounts them (``/v1`` for everything but operations)."""

from __future__ import annotations

from flask import Flask

from api.routes import clients, oauth, ops, packs, scrub

__all__ = ["register"]


def register(app: Flask) -> None:
    """Mount every blueprint on ``app``."""
    app.register_blueprint(ops.bp)
    for module in (oauth, scrub, packs, clients):
        app.register_blueprint(module.bp, url_prefix="/v1")
