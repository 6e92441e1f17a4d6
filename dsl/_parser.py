"""The fast path of stages 1-2: a hand-written tokenizer and recursive-descent parser → AST.

``dsl/grammar.lark`` stays the specification and Lark the oracle: this parser accepts a subset of
the language's sentences (every real rule file) and builds exactly the AST that Lark + ``build``
build for them, spans included.  On anything it does not accept it raises :class:`Reject`, and the
caller falls back to the Lark path, which reports the syntax errors (E101-E106) as before.

Spans follow Lark's ``propagate_positions``: a node spans its first to its last child's
*container*, which for a parenthesized child includes the parentheses; the node itself keeps the
span of what is inside them.  Keywords are contextual in Lark (a keyword where only a NAME can
follow is lexed as a NAME); here a keyword is taken as a NAME only where the grammar admits a NAME
and nothing else, and anywhere else the source is rejected (→ Lark decides).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from dsl import ast
from dsl.diagnostics import Diagnostics, Span
from dsl.ir import AggKind, ArithOp, CmpOp

__all__ = ["Reject", "parse_file", "parse_hole"]


class Reject(Exception):
    """The fast parser does not accept this source; use the Lark path."""


# Token kinds: "N" name, "S" string, "U" number, "D" date, "C" comparison, "A" + / -, "#" comment,
# a keyword or a punctuation mark is its own text.
_KEYWORDS = frozenset(
    (
        "pack", "table", "rule", "when", "decide", "fire", "pass", "in", "not", "or", "and",
        "startswith", "is", "present", "missing", "where", "true", "false", "any", "all", "count",
        "sum", "_",
    )
)  # fmt: skip
# one token after optional blanks, per line: (blanks, token); the last alternative (any other
# character, an unterminated string's quote included) makes the tokenizer reject the source
_TOKEN = re.compile(
    r"([ \t\f\r]*)("
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"  # date (before number)
    r"|[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*"  # name or keyword
    r"|[0-9]+(?:\.[0-9]+)?"  # number
    r'|"(?:[^"\\\n]|\\.)*"'  # string
    r"|==|!=|<=|>=|<|>|->|\.\.|[{}()\[\],:.+\-*]"
    r"|#[^\n]*"  # comment
    r"|[^ \t\f\r\n])"
)
# token kind of a keyword, comparison or punctuation mark, by its text
_FIXED: dict[str, str] = {kw: kw for kw in _KEYWORDS}
_FIXED.update(dict.fromkeys(("==", "!=", "<=", ">=", "<", ">"), "C"))
_FIXED.update({p: p for p in ("->", "..", "{", "}", "(", ")", "[", "]", ",", ":", ".", "*")})
_FIXED.update({"+": "A", "-": "A"})
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_DIGITS = frozenset("0123456789")

CMP = {"==": CmpOp.EQ, "!=": CmpOp.NE, "<": CmpOp.LT, "<=": CmpOp.LE, ">": CmpOp.GT, ">=": CmpOp.GE}
ARITH = {"+": ArithOp.ADD, "-": ArithOp.SUB, "*": ArithOp.MUL}
AGG = {"any": AggKind.ANY, "all": AggKind.ALL, "count": AggKind.COUNT, "sum": AggKind.SUM}
_LITERAL_START = frozenset(("S", "U", "D", "true", "false"))
_UNESCAPE = re.compile(r"\\(.)")


def _unescape(raw: str) -> str:
    body = raw[1:-1]
    if "\\" not in body:
        return body
    return _UNESCAPE.sub(lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _tokenize(
    text: str, line: int, col0: int, comments: list[tuple[int, int, str]] | None
) -> tuple[list[str], list[str], list[int], list[int], list[int]]:
    """Kinds, texts, lines, columns and end columns; ``col0`` is added to line 1's columns."""
    kinds: list[str] = []
    vals: list[str] = []
    lines: list[int] = []
    cols: list[int] = []
    ends: list[int] = []
    add_kind, add_val, add_line = kinds.append, vals.append, lines.append
    add_col, add_end = cols.append, ends.append
    fixed, name_start, digits, findall = _FIXED, _NAME_START, _DIGITS, _TOKEN.findall
    first = col0 + 1
    for src in text.split("\n"):
        col = first
        first = 1
        for blanks, v in findall(src):
            col += len(blanks)
            k = fixed.get(v)
            if k is None:
                c = v[0]
                if c in name_start:
                    k = "N"
                elif c in digits:
                    k = "D" if len(v) == 10 and v[4] == "-" else "U"
                elif c == '"' and len(v) > 1:
                    k = "S"
                elif c == "#":
                    if comments is not None:
                        comments.append((line, col, v))
                    col += len(v)
                    continue
                else:
                    raise Reject
            add_kind(k)
            add_val(v)
            add_line(line)
            add_col(col)
            col += len(v)
            add_end(col)
        line += 1
    add_kind("$")
    add_val("")
    add_line(line - 1)
    add_col(0)
    add_end(0)
    return kinds, vals, lines, cols, ends


# Building a ``Span`` directly through its slots: the frozen dataclass ``__init__`` goes through
# ``object.__setattr__`` once per field, and the parser makes a span for nearly every token.
_new_object = object.__new__
_set_file, _set_line, _set_column, _set_end_line, _set_end_column = (
    Span.__dict__[name].__set__ for name in ("file", "line", "column", "end_line", "end_column")
)


# a parsed expression with the token indices of its container (parentheses included)
_Parsed = tuple[Any, int, int]


class _Parser:
    def __init__(
        self,
        file: str,
        toks: tuple[list[str], list[str], list[int], list[int], list[int]],
        builder: Any,
        hole_line: int | None = None,
    ) -> None:
        self.file = file
        self.k, self.v, self.ln, self.col, self.end = toks
        self.i = 0
        self.b = builder
        self.hole_line = hole_line

    # -- helpers
    def span(self, s: int, e: int) -> Span:
        ln = self.ln
        sp: Span = _new_object(Span)
        _set_file(sp, self.file)
        _set_line(sp, ln[s])
        _set_column(sp, self.col[s])
        _set_end_line(sp, ln[e])
        _set_end_column(sp, self.end[e])
        return sp

    def expect(self, kind: str) -> int:
        i = self.i
        if self.k[i] != kind:
            raise Reject
        self.i = i + 1
        return i

    def name_only(self) -> int:
        """A NAME where the grammar admits nothing else (a keyword is a NAME here, as in Lark)."""
        i = self.i
        k = self.k[i]
        if k != "N" and k not in _KEYWORDS:
            raise Reject
        self.i = i + 1
        return i

    def name(self, i: int) -> ast.Name:
        return ast.Name(self.span(i, i), self.v[i])

    def string(self, i: int) -> ast.Literal:
        raw = self.v[i]
        return ast.Literal(self.span(i, i), ast.LitKind.STRING, _unescape(raw), raw)

    def date(self, i: int) -> ast.Literal:
        raw = self.v[i]
        sp = self.span(i, i)
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            self.b.diags.error("E107", f"invalid date {raw!r}", sp, hint="YYYY-MM-DD")
            value = date(1, 1, 1)
        return ast.Literal(sp, ast.LitKind.DATE, value, raw)

    def literal(self, i: int) -> ast.Literal:
        k = self.k[i]
        if k == "S":
            return self.string(i)
        if k == "U":
            raw = self.v[i]
            return ast.Literal(self.span(i, i), ast.LitKind.NUMBER, Decimal(raw), raw)
        if k == "D":
            return self.date(i)
        if k == "true":
            return ast.Literal(self.span(i, i), ast.LitKind.BOOL, True, "true")
        if k == "false":
            return ast.Literal(self.span(i, i), ast.LitKind.BOOL, False, "false")
        raise Reject

    # -- expressions
    def expr(self) -> _Parsed:
        node, s, e = self.and_expr()
        if self.k[self.i] != "or":
            return node, s, e
        ops: list[ast.Expr] = []
        self._flat(ops, node, "or")
        while self.k[self.i] == "or":
            self.i += 1
            node, _, e = self.and_expr()
            self._flat(ops, node, "or")
        return ast.BoolOp(self.span(s, e), "or", tuple(ops)), s, e

    @staticmethod
    def _flat(ops: list[ast.Expr], node: Any, op: str) -> None:
        if isinstance(node, ast.BoolOp) and node.op == op:
            ops.extend(node.operands)
        else:
            ops.append(node)

    def and_expr(self) -> _Parsed:
        node, s, e = self.not_expr()
        if self.k[self.i] != "and":
            return node, s, e
        ops: list[ast.Expr] = []
        self._flat(ops, node, "and")
        while self.k[self.i] == "and":
            self.i += 1
            node, _, e = self.not_expr()
            self._flat(ops, node, "and")
        return ast.BoolOp(self.span(s, e), "and", tuple(ops)), s, e

    def not_expr(self) -> _Parsed:
        i = self.i
        if self.k[i] == "not":
            self.i = i + 1
            node, _, e = self.not_expr()
            return ast.Not(self.span(i, e), node), i, e
        return self.test()

    def test(self) -> _Parsed:
        left, s, e = self.sum()
        k = self.k[self.i]
        if k == "C":
            op = self.v[self.i]
            self.i += 1
            right, _, e = self.sum()
            return ast.Compare(self.span(s, e), CMP[op], left, right), s, e
        if k == "in":
            self.i += 1
            target, _, e = self.in_target()
            return ast.Member(self.span(s, e), left, target), s, e
        if k == "not":
            self.i += 1
            self.expect("in")
            target, _, e = self.in_target()
            return ast.Member(self.span(s, e), left, target, negated=True), s, e
        if k == "startswith":
            self.i += 1
            j = self.expect("S")
            lit = self.string(j)
            target = ast.SetLit(lit.span, (ast.SetItem(lit.span, "prefix", lit),), braced=False)
            return ast.Member(self.span(s, j), left, target, startswith=True), s, j
        if k == "is":
            self.i += 1
            j = self.i
            kj = self.k[j]
            if kj != "present" and kj != "missing":
                raise Reject
            self.i = j + 1
            return ast.Presence(self.span(s, j), left, kj == "present"), s, j
        return left, s, e

    def in_target(self) -> _Parsed:
        i = self.i
        k = self.k[i]
        if k == "S" and self.k[i + 1] == "..":
            self.i = i + 2
            j = self.expect("S")
            sp = self.span(i, j)
            item = ast.SetItem(sp, "range", self.string(i), self.string(j))
            return ast.SetLit(sp, (item,), braced=False), i, j
        if k == "{":
            return self.set_literal()
        return self.sum()

    def set_literal(self) -> _Parsed:
        s = self.expect("{")
        items: list[ast.SetItem] = []
        k = self.k
        if k[self.i] != "}":
            while True:
                i = self.i
                if k[i] == "S" and k[i + 1] == "..":
                    if k[i + 2] != "S":
                        raise Reject
                    self.i = i + 3
                    sp = self.span(i, i + 2)
                    items.append(ast.SetItem(sp, "range", self.string(i), self.string(i + 2)))
                elif k[i] == "S" and k[i + 1] == "*":
                    self.i = i + 2
                    items.append(ast.SetItem(self.span(i, i + 1), "prefix", self.string(i)))
                elif k[i] in _LITERAL_START:
                    self.i = i + 1
                    lit = self.literal(i)
                    items.append(ast.SetItem(lit.span, "member", lit))
                else:
                    raise Reject
                if k[self.i] != ",":
                    break
                self.i += 1
        e = self.expect("}")
        return ast.SetLit(self.span(s, e), tuple(items)), s, e

    def sum(self) -> _Parsed:
        left, s, e = self.product()
        while self.k[self.i] == "A":
            op = self.v[self.i]
            self.i += 1
            right, _, e = self.product()
            left = ast.Arith(self.span(s, e), ARITH[op], left, right)
        return left, s, e

    def product(self) -> _Parsed:
        left, s, e = self.atom()
        while self.k[self.i] == "*":
            self.i += 1
            right, _, e = self.atom()
            left = ast.Arith(self.span(s, e), ArithOp.MUL, left, right)
        return left, s, e

    def atom(self) -> _Parsed:
        i = self.i
        k = self.k[i]
        if k == "N":
            if self.k[i + 1] == "(":
                return self.call()
            return self.path_or_lookup()
        if k in _LITERAL_START:
            self.i = i + 1
            return self.literal(i), i, i
        if k == "(":
            self.i = i + 1
            node, _, _ = self.expr()
            if self.k[self.i] == ",":
                items = [node]
                while self.k[self.i] == ",":
                    self.i += 1
                    node, _, _ = self.expr()
                    items.append(node)
                e = self.expect(")")
                return ast.TupleExpr(self.span(i, e), tuple(items)), i, e
            e = self.expect(")")
            return node, i, e
        if k in AGG:
            return self.aggregate()
        raise Reject

    def call(self) -> _Parsed:
        s = self.i
        self.i = s + 2
        args: list[ast.Expr] = []
        if self.k[self.i] != ")":
            while True:
                node, _, _ = self.expr()
                args.append(node)
                if self.k[self.i] != ",":
                    break
                self.i += 1
        e = self.expect(")")
        return ast.Call(self.span(s, e), self.name(s), tuple(args)), s, e

    def path_or_lookup(self) -> _Parsed:
        s = self.i
        parts = [self.name(s)]
        self.i = s + 1
        while self.k[self.i] == ".":
            self.i += 1
            parts.append(self.name(self.name_only()))
        pe = self.i - 1
        path = ast.Path(self.span(s, pe), tuple(parts))
        if self.k[self.i] != "[":
            return path, s, pe
        self.i += 1
        keys: list[ast.Expr] = []
        while True:
            node, _, _ = self.expr()
            keys.append(node)
            if self.k[self.i] != ",":
                break
            self.i += 1
        e = self.expect("]")
        column = None
        if self.k[self.i] == ".":
            self.i += 1
            e = self.name_only()
            column = self.name(e)
        return ast.Lookup(self.span(s, e), path, tuple(keys), column), s, e

    def aggregate(self) -> _Parsed:
        s = self.i
        self.i = s + 1
        self.expect("(")
        var = self.name(self.name_only())
        self.expect("in")
        source, _, _ = self.sum()
        where = body = None
        if self.k[self.i] == "where":
            self.i += 1
            where, _, _ = self.expr()
        if self.k[self.i] == ":":
            self.i += 1
            body, _, _ = self.expr()
        e = self.expect(")")
        agg = ast.Aggregate(self.span(s, e), AGG[self.v[s]], var, source, where, body)
        return agg, s, e

    # -- clauses and items
    def clause(self) -> ast.Clause:
        s = self.i
        self.i = s + 1
        k = self.k
        i = self.i
        ki = k[i]
        value: ast.ClauseValue
        if ki == "S":
            items = [self.string(i)]
            e = i
            self.i = i + 1
            while k[self.i] == ",":
                e = self.i + 1
                if k[e] != "S":
                    raise Reject
                items.append(self.string(e))
                self.i = e + 1
            value = ast.Strings(self.span(i, e), tuple(items))
        elif ki == "D" or ki == "..":
            start = None
            if ki == "D":
                start = self.date(i)
                self.i = i + 1
            e = self.expect("..")
            end = None
            if k[self.i] == "D":
                e = self.i
                end = self.date(e)
                self.i = e + 1
            value = ast.DateRange(self.span(i, e), start, end)
        elif ki == "N" or ki in _KEYWORDS:
            self.i = i + 1
            nxt = k[self.i]
            if nxt == "S":
                e = self.i
                self.i = e + 1
                value = ast.Source(self.span(i, e), self.name(i), self.string(e))
            elif nxt == ".":
                parts = [self.name(i)]
                while k[self.i] == ".":
                    self.i += 1
                    e = self.name_only()
                    parts.append(self.name(e))
                value = ast.Path(self.span(i, e), tuple(parts))
            elif nxt == ":":
                self.i += 1
                e = self.name_only()
                cols = [(self.name(i), self.name(e))]
                while k[self.i] == ",":
                    self.i += 1
                    a = self.name_only()
                    self.expect(":")
                    e = self.name_only()
                    cols.append((self.name(a), self.name(e)))
                value = ast.Columns(self.span(i, e), tuple(cols))
            else:
                names = [self.name(i)]
                e = i
                while k[self.i] == ",":
                    self.i += 1
                    e = self.name_only()
                    names.append(self.name(e))
                value = ast.Names(self.span(i, e), tuple(names))
        else:
            raise Reject
        return ast.Clause(self.span(s, e), self.name(s), value)

    def clauses(self) -> list[ast.Clause]:
        self.expect("{")
        out = []
        while self.k[self.i] == "N":
            out.append(self.clause())
        return out

    def pack(self) -> ast.PackDecl:
        s = self.i
        self.i = s + 1
        n = self.name_only()
        clauses = self.clauses()
        e = self.expect("}")
        return self.b.pack_node(self.span(s, e), self.name(n), clauses)  # type: ignore[no-any-return]

    def table(self) -> ast.TableDecl:
        s = self.i
        self.i = s + 1
        n = self.name_only()
        kind = self.name_only()
        clauses = self.clauses()
        e = self.expect("}")
        return self.b.table_node(  # type: ignore[no-any-return]
            self.span(s, e), self.name(n), self.name(kind), clauses
        )

    def rule(self) -> ast.RuleDecl:
        s = self.i
        self.i = s + 1
        rid = self.name(self.name_only())
        # `STRING?` gets no placeholder in Lark's tree, which build.rule_decl does not expect: an
        # untitled rule is left to the Lark path, to behave exactly as it does there
        title = self.string(self.expect("S"))
        self.expect("{")
        parts: list[Any] = []
        k = self.k
        while True:
            kind = k[self.i]
            if kind == "N":
                parts.append(self.clause())
            elif kind == "when":
                self.i += 1
                node, _, _ = self.expr()
                parts.append(("when", node))
            elif kind == "decide":
                parts.append(("decide", self.decide()))
            else:
                break
        e = self.expect("}")
        return self.b.rule_node(  # type: ignore[no-any-return]
            self.span(s, e), rid, title, parts, parse_hole
        )

    def decide(self) -> ast.Decide:
        s = self.i
        self.i = s + 1
        k = self.k
        cols: list[ast.Expr] = []
        while True:
            node, _, _ = self.expr()
            cols.append(node)
            if k[self.i] != ",":
                break
            self.i += 1
        self.expect("{")
        rows: list[ast.Row] = []
        while k[self.i] != "}":
            rows.append(self.row())
        e = self.i
        self.i = e + 1
        return self.b.decide_node(self.span(s, e), cols, rows)  # type: ignore[no-any-return]

    def row(self) -> ast.Row:
        k = self.k
        cells: list[ast.Cell] = []
        rs = self.i
        while True:
            cells.append(self.cell())
            if k[self.i] != ",":
                break
            self.i += 1
        self.expect("->")
        i = self.i
        if k[i] == "pass":
            self.i = i + 1
            return ast.Row(self.span(rs, i), tuple(cells), False, None)
        if k[i] != "fire":
            raise Reject
        self.i = i + 1
        message = None
        e = i
        if k[self.i] == ":":
            e = self.i + 1
            if k[e] != "S":
                raise Reject
            self.i = e + 1
            message = self.b.template_at(self.v[e], self.span(e, e), parse_hole)
        return ast.Row(self.span(rs, e), tuple(cells), True, message)

    def cell(self) -> ast.Cell:
        i = self.i
        k = self.k[i]
        if k == "_":
            self.i = i + 1
            return ast.Cell(self.span(i, i), ast.CellKind.ANY)
        if k == "C":
            self.i = i + 1
            node, _, e = self.sum()
            return ast.Cell(self.span(i, e), ast.CellKind.CMP, CMP[self.v[i]], node)
        if k == "in":
            self.i = i + 1
            node, _, e = self.in_target()
            return ast.Cell(self.span(i, e), ast.CellKind.IN, None, node)
        if k == "not":
            self.i = i + 1
            self.expect("in")
            node, _, e = self.in_target()
            return ast.Cell(self.span(i, e), ast.CellKind.NOT_IN, None, node)
        node, s, e = self.sum()
        return ast.Cell(self.span(s, e), ast.CellKind.EQ, CmpOp.EQ, node)

    def items(self) -> list[ast.Item]:
        out: list[ast.Item] = []
        k = self.k
        while True:
            kind = k[self.i]
            if kind == "rule":
                out.append(self.rule())
            elif kind == "table":
                out.append(self.table())
            elif kind == "pack":
                out.append(self.pack())
            elif kind == "$":
                return out
            else:
                raise Reject


def parse_file(text: str, file: str, builder: Any) -> ast.File:
    """The AST of ``text`` (E107-E110 go to ``builder.diags``); :class:`Reject` if not accepted."""
    raw_comments: list[tuple[int, int, str]] = []
    toks = _tokenize(text, 1, 0, raw_comments)
    items = _Parser(file, toks, builder).items()
    comments = tuple(
        ast.Comment(Span(file, ln, col, ln, col + len(t)), t) for ln, col, t in raw_comments
    )
    lines = text.count("\n") + 1
    return ast.File(Span(file, 1, 1, lines, 1), tuple(items), comments)


def parse_hole(text: str, file: str, line: int, column: int, builder: Any) -> ast.Expr | None:
    """The expression of a message hole at ``line:column``; None if not accepted."""
    sink = Diagnostics()
    saved, builder.diags = builder.diags, sink
    try:
        toks = _tokenize(text, line, column - 1, None)
        p = _Parser(file, toks, builder)
        node, _, _ = p.expr()
        if p.k[p.i] != "$":
            return None
    except Reject:
        return None
    finally:
        builder.diags = saved
    saved.items.extend(sink.items)
    result: ast.Expr = node
    return result


HoleParser = Callable[[str, str, int, int, Any], "ast.Expr | None"]
