"""The ``claimscrub`` command line.

Each command lives in its own module under ``api/commands/``; this module only assembles them, so
that adding a command never edits another one.  Commands are imported when they run
(``LazyGroup``), so ``claimscrub scrub`` does not pay for Flask or SQLAlchemy.
"""

from __future__ import annotations

import click

from api.commands import COMMANDS, load_command


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, without importing any command."""
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command (imported now), or None so click reports an unknown name."""
        return load_command(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="claimscrub")
def main() -> None:
    """Scrub US healthcare claims (X12 837P/837I or Optum-shaped JSON) against knowledge packs."""
