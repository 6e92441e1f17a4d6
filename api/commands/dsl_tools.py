"""``claimscrub check`` and ``claimscrub fmt``: the rule-language tools on the command line.

Both take rule files or pack directories (a directory with ``rules/*.rules``); ``check`` also takes
a directory of packs and checks each.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import click

from dsl.compile import Result, analyze, analyze_pack
from dsl.diagnostics import CompileError, Severity, render_all, to_json
from dsl.fmt import format as format_rules

__all__ = ["check_command", "fmt_command"]


def _analyze(path: Path) -> Result:
    if path.is_dir():
        return analyze_pack(path)
    return analyze([(str(path), path.read_text(encoding="utf-8"))])


def _targets(path: Path) -> list[Path]:
    """``path``, or the packs inside it when it is a directory of packs (``knowledge_packs/``).

    A directory is a pack when it has a ``rules/`` directory; one that is not a pack but holds
    packs is checked pack by pack, as a rule author running ``claimscrub check knowledge_packs``
    in CI expects.
    """
    if not path.is_dir() or (path / "rules").is_dir():
        return [path]
    packs = sorted(d for d in path.iterdir() if d.is_dir() and (d / "rules").is_dir())
    return packs or [path]


def _rule_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(p.rglob("*.rules")))
        else:
            files.append(p)
    return files


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Diagnostics as clickable text or as JSON.",
)
def check_command(paths: tuple[Path, ...], output_format: str) -> None:
    """Compile rule files or pack directories; print diagnostics; exit 1 on any error."""
    failed = False
    collected: list[dict[str, object]] = []
    targets = [t for p in paths for t in _targets(p)]
    for path in targets:
        result = _analyze(path)
        failed = failed or any(d.severity is Severity.ERROR for d in result.diagnostics)
        if output_format == "json":
            collected.extend(to_json(result.diagnostics))
        elif result.diagnostics:
            click.echo(render_all(result.diagnostics, result.sources))
    if output_format == "json":
        click.echo(json.dumps(collected, indent=2))
    elif not failed:
        click.echo(f"ok: {len(targets)} path(s) checked", err=True)
    raise SystemExit(1 if failed else 0)


@click.command("fmt")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--check", "check_only", is_flag=True, help="Only report; exit 1 if a file would change."
)
def fmt_command(paths: tuple[Path, ...], check_only: bool) -> None:
    """Format rule files in place (canonical layout, comments kept)."""
    changed = False
    broken = False
    for path in _rule_files(paths):
        text = path.read_text(encoding="utf-8")
        try:
            formatted = format_rules(text, file=str(path))
        except CompileError as exc:
            broken = True
            click.echo(render_all(exc.diagnostics, {str(path): text}), err=True)
            continue
        if formatted == text:
            continue
        changed = True
        if check_only:
            diff = difflib.unified_diff(
                text.splitlines(keepends=True),
                formatted.splitlines(keepends=True),
                fromfile=f"{path} (original)",
                tofile=f"{path} (formatted)",
            )
            click.echo("".join(diff), nl=False)
        else:
            path.write_text(formatted, encoding="utf-8")
            click.echo(f"formatted {path}", err=True)
    raise SystemExit(1 if broken or (check_only and changed) else 0)
