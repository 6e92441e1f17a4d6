"""CLI commands, one module each; ``COMMANDS`` maps each command name to where it lives.

Why names and not imported objects: importing every command pulled Flask, SQLAlchemy and the
report renderer into every run (about 0.4 s of a 1.4 s ``claimscrub scrub`` of a small file).
The ``claimscrub`` group imports a command's module only when that command runs (or when help
lists them all).
"""

from __future__ import annotations

import importlib

import click

#: command name → (module, attribute), in the order ``claimscrub --help`` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "scrub": ("api.commands.scrub", "scrub_command"),
    "convert": ("api.commands.convert", "convert_command"),
    "check": ("api.commands.dsl_tools", "check_command"),
    "fmt": ("api.commands.dsl_tools", "fmt_command"),
    "test": ("api.commands.test_cmd", "test_command"),
    "snapshot": ("api.commands.snapshot_cmd", "snapshot_command"),
    "impact": ("api.commands.impact_cmd", "impact_command"),
    "store": ("api.commands.store_cmd", "store_group"),
    "serve": ("api.commands.serve", "serve_command"),
}


def load_command(name: str) -> click.Command | None:
    """The command called ``name`` (its module imported now), or None for an unknown name."""
    where = COMMANDS.get(name)
    if where is None:
        return None
    command = getattr(importlib.import_module(where[0]), where[1])
    if not isinstance(command, click.Command):  # a wrong entry in COMMANDS is a bug here
        raise TypeError(f"{where[0]}.{where[1]} is not a click command")
    return command


__all__ = ["COMMANDS", "load_command"]
