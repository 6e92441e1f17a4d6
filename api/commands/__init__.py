"""CLI commands, one module each; ``COMMANDS`` is the list the ``claimscrub`` group registers."""

from __future__ import annotations

import click

from api.commands.convert import convert_command
from api.commands.dsl_tools import check_command, fmt_command
from api.commands.impact_cmd import impact_command
from api.commands.scrub import scrub_command
from api.commands.serve import serve_command
from api.commands.snapshot_cmd import snapshot_command
from api.commands.store_cmd import store_group
from api.commands.test_cmd import test_command

COMMANDS: list[click.Command] = [
    scrub_command,
    convert_command,
    check_command,
    fmt_command,
    test_command,
    snapshot_command,
    impact_command,
    store_group,
    serve_command,
]

__all__ = ["COMMANDS"]
