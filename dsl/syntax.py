"""Stage 1, parse: text → Lark parse tree, with Lark errors translated into E1xx diagnostics.

Lark exceptions never leave this module.  After a syntax error, the file is re-parsed item by item
(an item starts at a line beginning with ``pack``, ``table`` or ``rule``) so that one slip does not
hide the errors and rules after it.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from functools import cache

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from dsl import ast
from dsl.diagnostics import Diagnostic, Diagnostics, Span

__all__ = ["ParseResult", "parse_expr", "run"]

_local = threading.local()


def _on_comment(token: Token) -> Token:
    sink: list[Token] | None = getattr(_local, "comments", None)
    if sink is not None:
        sink.append(token)
    return token


@cache
def _parser() -> Lark:
    return Lark.open_from_package(
        "dsl",
        "grammar.lark",
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        strict=True,
        start=["start", "expr"],
        lexer_callbacks={"COMMENT": _on_comment},
    )


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The parse trees of the items that parsed, and every comment token."""

    text: str
    file: str
    trees: tuple[Tree[Token], ...]
    comments: tuple[Token, ...]
    # set when the fast parser (dsl._parser) accepted the text: the AST, and the build stage's
    # diagnostics found while building it (reported by the build stage)
    ast: ast.File | None = None
    deferred: tuple[Diagnostic, ...] = ()


# clause names that start a line; a condition cut short swallows them as a field name
_CLAUSE_WORDS = frozenset(
    (
        "category", "severity", "scope", "effective", "message", "action", "override", "fix",
        "rationale", "reference", "supersedes", "excludes", "when", "decide", "field", "version",
        "title",
        "kinds", "depends_on", "source", "key", "value",
    )
)  # fmt: skip
_ITEM_START = re.compile(r"^(pack|table|rule)\b", re.MULTILINE)

_TOKEN_NAMES = {
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "DOT": "`.`",
    "NAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "DATE": "a date",
    "COMP_OP": "a comparison",
    "__ANON_0": "`..`",
    "$END": "end of input",
}


def _describe(token_type: str) -> str:
    if token_type in _TOKEN_NAMES:
        return _TOKEN_NAMES[token_type]
    return f"`{token_type.lower()}`"


def _parse_one(text: str) -> Tree[Token]:
    return _parser().parse(text, start="start")


def run(text: str, file: str, diags: Diagnostics, *, fast: bool = True) -> ParseResult:
    """Parse ``text``; never raises.  Syntax errors are appended to ``diags``.

    The fast parser is tried first (``fast=False``: Lark only); whatever it does not accept,
    syntax errors included, goes to Lark.
    """
    if fast:
        from dsl import _parser, build

        try:
            tree, deferred = build.fast_build(text, file)
        except _parser.Reject:
            pass
        else:
            return ParseResult(text, file, (), (), tree, tuple(deferred))
    comments: list[Token] = []
    _local.comments = comments
    try:
        try:
            return ParseResult(text, file, (_parse_one(text),), tuple(comments))
        except LarkError:
            pass
        comments.clear()
        trees: list[Tree[Token]] = []
        starts = [m.start() for m in _ITEM_START.finditer(text)]
        if not starts or starts[0] != 0:
            starts.insert(0, 0)
        starts.append(len(text))
        for begin, end in itertools.pairwise(starts):
            chunk = "\n" * text.count("\n", 0, begin) + text[begin:end]
            try:
                trees.append(_parse_one(chunk))
            except UnexpectedInput as exc:
                _report(exc, text, file, diags)
            except LarkError as exc:  # pragma: no cover - defensive
                diags.error("E401", f"internal parser error: {exc}", Span(file, 1, 1, 1, 2))
        return ParseResult(text, file, tuple(trees), tuple(comments))
    finally:
        _local.comments = None


def parse_expr(
    text: str, file: str, line: int, column: int, diags: Diagnostics
) -> Tree[Token] | None:
    """Parse an expression found at ``line:column`` (a ``{hole}`` of a message template)."""
    _local.comments = []
    try:
        return _parser().parse(text, start="expr")
    except UnexpectedInput as exc:
        # positions inside the hole are 1:col; re-base them on the template's line and column
        sink = Diagnostics()
        _report(exc, text, file, sink)
        for d in sink:
            s = d.span
            moved = Span(file, line, column + s.column - 1, line, column + s.end_column - 1)
            if d.code == "E102":
                hint = "a `{...}` in a message holds one complete expression, e.g. {line.units}"
                diags.error("E102", "incomplete expression in a message hole", moved, hint)
            else:
                diags.error(d.code, d.message, moved, d.hint, d.notes)
        return None
    except LarkError as exc:  # pragma: no cover - defensive
        diags.error(
            "E401", f"internal parser error: {exc}", Span(file, line, column, line, column + 1)
        )
        return None
    finally:
        _local.comments = None


def _line_text(text: str, line: int) -> str:
    lines = text.split("\n")
    return lines[line - 1] if 1 <= line <= len(lines) else ""


def _previous_code_end(text: str, line: int) -> tuple[int, int] | None:
    lines = text.split("\n")
    for ln in range(line - 1, 0, -1):
        code = _strip_comment(lines[ln - 1]).rstrip()
        if code:
            return ln, len(code) + 1
    return None


def _strip_comment(line: str) -> str:
    in_string = False
    for i, ch in enumerate(line):
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            in_string = not in_string
        elif ch == "#" and not in_string:
            return line[:i]
    return line


def _report(exc: UnexpectedInput, text: str, file: str, diags: Diagnostics) -> None:
    line = max(1, exc.line)
    col = max(1, exc.column)
    if isinstance(exc, UnexpectedEOF) or getattr(getattr(exc, "token", None), "type", "") == "$END":
        last = text.rstrip("\n").split("\n")
        line, col = len(last), len(last[-1]) + 1
        diags.error(
            "E102",
            "unexpected end of input",
            Span(file, line, col, line, col + 1),
            hint="is a closing `}` missing?",
        )
        return
    src = _line_text(text, line)
    if isinstance(exc, UnexpectedCharacters):
        ch = src[col - 1 : col] if col - 1 < len(src) else ""
        nxt = src[col : col + 1]
        span = Span(file, line, col, line, col + 1)
        if ch == "=":
            diags.error("E103", "`=` used instead of `==`", span, hint="write `==` to compare")
        elif ch in "&|" or (ch == "!" and nxt != "="):
            word = {"&": "and", "|": "or", "!": "not"}[ch]
            width = 2 if nxt == ch else 1
            diags.error(
                "E104",
                f"`{ch * width}` is not an operator here",
                Span(file, line, col, line, col + width),
                hint=f"use `{word}`",
            )
        elif ch == '"':
            diags.error(
                "E105",
                "unterminated string",
                Span(file, line, col, line, len(src) + 1),
                hint='close the string with `"` on the same line',
            )
        else:
            diags.error("E106", f"unexpected character {ch!r}", span)
        return
    token = getattr(exc, "token", None)
    expected = sorted(getattr(exc, "expected", set()) or getattr(exc, "accepts", set()) or set())
    value = str(token) if token is not None else ""
    end = col + max(1, len(value))
    span = Span(file, line, col, line, end)
    hint = None
    message = f"unexpected {value!r}"
    before = src[: col - 1].strip()
    if line > 1 and (before == "" or before in _CLAUSE_WORDS):
        # The slip is usually at the end of the previous line (`when x >` then `message ...`):
        # point there, on the line that needs the fix.
        prev = _previous_code_end(text, line)
        if prev is not None:
            pl, pc = prev
            span = Span(file, pl, pc, pl, pc + 1)
            word = before or value
            message = f"unexpected {word!r} on the next line: this line looks incomplete"
    if expected:
        shown = [_describe(e) for e in expected if not e.startswith("__")][:8]
        if shown:
            hint = "expected " + ", ".join(shown)
    if "LBRACE" in expected and len(expected) <= 2:
        message = f"missing `{{` before {value!r}"
    elif value in {"then", "if", "else", "elif"}:
        message = f"`{value}` is not part of the rule language"
        hint = 'a rule says `when <condition>` and then `message "..."`'
    diags.error("E101", message, span, hint=hint)
