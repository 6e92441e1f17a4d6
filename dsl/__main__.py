"""``python -m dsl dump [--after STAGE] FILE``: print the output of a stage (default: the IR)."""

from __future__ import annotations

import argparse
import pprint
import sys
from pathlib import Path

from dsl.compile import STAGES, CompileOptions, analyze
from dsl.diagnostics import render_all
from dsl.dump import dump_ir
from dsl.ir import CompiledRules


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m dsl")
    sub = parser.add_subparsers(dest="command", required=True)
    dump = sub.add_parser("dump", help="print a stage's output")
    dump.add_argument("file", type=Path)
    dump.add_argument("--after", choices=[s.name for s in STAGES], default="lower")
    args = parser.parse_args(argv)
    text = args.file.read_text(encoding="utf-8")
    result = analyze([(str(args.file), text)], CompileOptions(stop_after=args.after))
    if result.diagnostics:
        sys.stderr.write(render_all(result.diagnostics, result.sources) + "\n")
    out = result.outputs.get(args.after)
    if isinstance(out, CompiledRules):
        sys.stdout.write(dump_ir(out))
    elif out is not None:
        sys.stdout.write(pprint.pformat(out, width=100) + "\n")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
