"""The command group imports a command's module only when it runs."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from api.cli import main
from api.commands import COMMANDS, load_command


def test_every_listed_command_loads() -> None:
    for name in COMMANDS:
        command = load_command(name)
        assert isinstance(command, click.Command)
        assert command.name == name
    assert load_command("no-such-command") is None


def test_help_lists_every_command_and_unknown_is_usage_error() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.output
    bad = CliRunner().invoke(main, ["scurb"])
    assert bad.exit_code == 2
    assert "No such command 'scurb'" in bad.output


def test_scrub_does_not_import_the_web_or_database_stack() -> None:
    code = (
        "import sys; import api.cli; import api.commands.scrub; "
        "print(sorted(m for m in ('flask', 'sqlalchemy', 'werkzeug') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
