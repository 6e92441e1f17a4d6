"""The ``claimscrub`` command line.

Each command lives in its own module under ``api/commands/`` and registers itself on the ``main``
group; this module only assembles them, so that adding a command never edits another one.
"""

from __future__ import annotations

import click

from api.commands import COMMANDS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="claimscrub")
def main() -> None:
    """Scrub US healthcare claims (X12 837P/837I or Optum-shaped JSON) against knowledge packs."""


for _command in COMMANDS:
    main.add_command(_command)
