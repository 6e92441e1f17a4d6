"""CLI commands, one module each; ``COMMANDS`` is the list the ``claimscrub`` group registers."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []

__all__ = ["COMMANDS"]
