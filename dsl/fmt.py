"""The canonical formatter: one layout, comments kept, ``format(format(x)) == format(x)``.

Layout: items separated by one blank line; two-space indent inside blocks; one clause per line, in
the canonical clause order; ``when`` conditions that do not fit on one line put each top-level
``and`` / ``or`` operand on its own continuation line.  Comments are re-attached by line: a comment
on its own line goes before the next clause, a comment after code stays at the end of that line.
"""

from __future__ import annotations

from dsl import ast
from dsl.diagnostics import CompileError, Diagnostics, Span
from dsl.ir import AggKind, ArithOp, CmpOp

__all__ = ["format", "format_expr", "format_file"]

CMP_TEXT = {
    CmpOp.EQ: "==",
    CmpOp.NE: "!=",
    CmpOp.LT: "<",
    CmpOp.LE: "<=",
    CmpOp.GT: ">",
    CmpOp.GE: ">=",
}
ARITH_TEXT = {ArithOp.ADD: "+", ArithOp.SUB: "-", ArithOp.MUL: "*"}
# binding strength: or < and < not < test < sum < product < atom
_PREC = {"or": 1, "and": 2, "not": 3, "test": 4, "sum": 5, "product": 6, "atom": 7}
RULE_ORDER = (
    "category",
    "severity",
    "scope",
    "effective",
    "when",
    "decide",
    "message",
    "field",
    "action",
    "override",
    "fix",
    "rationale",
    "reference",
    "supersedes",
    "excludes",
)
PACK_ORDER = ("version", "title", "kinds", "depends_on")
TABLE_ORDER = ("source", "key", "value", "effective")
WIDTH = 100


def _prec(e: ast.Expr) -> int:
    match e:
        case ast.BoolOp(op=op):
            return _PREC[op]
        case ast.Not():
            return _PREC["not"]
        case ast.Compare() | ast.Member() | ast.Presence():
            return _PREC["test"]
        case ast.Arith(op=op):
            return _PREC["product"] if op is ArithOp.MUL else _PREC["sum"]
        case _:
            return _PREC["atom"]


def _wrap(e: ast.Expr, min_prec: int) -> str:
    text = format_expr(e)
    return f"({text})" if _prec(e) < min_prec else text


def format_expr(e: ast.Expr) -> str:
    """Canonical text of an expression."""
    match e:
        case ast.Literal(kind=ast.LitKind.STRING, raw=raw):
            return raw
        case ast.Literal(raw=raw):
            return raw
        case ast.Path():
            return e.dotted
        case ast.SetLit(items=items, braced=braced):
            inner = ", ".join(_set_item(i) for i in items)
            return "{" + inner + "}" if braced else inner
        case ast.BoolOp(op=op, operands=ops):
            return f" {op} ".join(_wrap(x, _PREC[op] + 1) for x in ops)
        case ast.Not(operand=x):
            return "not " + _wrap(x, _PREC["not"])
        case ast.Compare(op=op, left=a, right=b):
            return f"{_wrap(a, _PREC['sum'])} {CMP_TEXT[op]} {_wrap(b, _PREC['sum'])}"
        case ast.Member(operand=a, target=t, negated=neg, startswith=sw):
            if sw and isinstance(t, ast.SetLit):
                return f"{_wrap(a, _PREC['sum'])} startswith {t.items[0].low.raw}"
            word = "not in" if neg else "in"
            return f"{_wrap(a, _PREC['sum'])} {word} {_target(t)}"
        case ast.Presence(operand=x, present=p):
            return f"{_wrap(x, _PREC['sum'])} is {'present' if p else 'missing'}"
        case ast.Arith(op=op, left=a, right=b):
            level = _prec(e)
            return f"{_wrap(a, level)} {ARITH_TEXT[op]} {_wrap(b, level + 1)}"
        case ast.Call(name=n, args=args):
            return f"{n.text}(" + ", ".join(format_expr(a) for a in args) + ")"
        case ast.Aggregate(kind=k, var=v, source=s, where=w, body=b):
            text = f"{_AGG[k]}({v.text} in {_wrap(s, _PREC['sum'])}"
            if w is not None:
                text += f" where {format_expr(w)}"
            if b is not None:
                text += f": {format_expr(b)}"
            return text + ")"
        case ast.TupleExpr(items=items):
            return "(" + ", ".join(format_expr(x) for x in items) + ")"
        case ast.Lookup(table=t, keys=keys, column=c):
            text = f"{t.dotted}[" + ", ".join(format_expr(k) for k in keys) + "]"
            return text + (f".{c.text}" if c is not None else "")
    raise AssertionError(e)  # pragma: no cover


_AGG = {AggKind.ANY: "any", AggKind.ALL: "all", AggKind.COUNT: "count", AggKind.SUM: "sum"}


def _target(t: ast.Expr) -> str:
    if isinstance(t, ast.SetLit):
        return format_expr(t)
    return _wrap(t, _PREC["sum"])


def _set_item(i: ast.SetItem) -> str:
    if i.kind == "range" and i.high is not None:
        return f"{i.low.raw}..{i.high.raw}"
    if i.kind == "prefix":
        return f"{i.low.raw}*"
    return i.low.raw


def _clause_value(v: ast.ClauseValue) -> str:
    match v:
        case ast.Strings(items=items):
            return ", ".join(s.raw for s in items)
        case ast.Names(items=items):
            return ", ".join(n.text for n in items)
        case ast.DateRange(start=a, end=b):
            return " ".join(x for x in ((a.raw if a else ""), "..", (b.raw if b else "")) if x)
        case ast.Source(format=f, path=p):
            return f"{f.text} {p.raw}"
        case ast.Columns(items=items):
            return ", ".join(f"{n.text}: {t.text}" for n, t in items)
        case ast.Path():
            return v.dotted
    raise AssertionError(v)  # pragma: no cover


def _cell(c: ast.Cell) -> str:
    match c.kind:
        case ast.CellKind.ANY:
            return "_"
        case ast.CellKind.EQ:
            return format_expr(c.value) if c.value is not None else "_"
        case ast.CellKind.CMP:
            return f"{CMP_TEXT[c.op or CmpOp.EQ]} {format_expr(c.value) if c.value else ''}"
        case ast.CellKind.IN:
            return f"in {_target(c.value) if c.value else ''}"
        case ast.CellKind.NOT_IN:
            return f"not in {_target(c.value) if c.value else ''}"
    raise AssertionError(c)  # pragma: no cover


_Part = tuple[str, int, int, list[str]]  # (clause name, start line, end line, text lines)


class _Printer:
    """Emits blocks; comments are assigned to a clause by source line before clauses are sorted."""

    def __init__(self, comments: tuple[ast.Comment, ...]) -> None:
        self.comments = list(comments)
        self.lines: list[str] = []

    def take(self, first: int, last: int) -> list[ast.Comment]:
        """Remove and return the comments on lines ``first..last``."""
        got = [c for c in self.comments if first <= c.span.line <= last]
        self.comments = [c for c in self.comments if not first <= c.span.line <= last]
        return got

    def block(self, header: str, span: Span, parts: list[_Part], order: tuple[str, ...]) -> None:
        mine = self.take(span.line, span.end_line)
        leading: dict[int, list[str]] = {i: [] for i in range(len(parts))}
        trailing: dict[int, list[str]] = {i: [] for i in range(len(parts))}
        head_trailing: list[str] = []
        closing: list[str] = []
        for c in mine:
            text = c.text.rstrip()
            ends = [i for i, p in enumerate(parts) if p[2] == c.span.line]
            inside = [i for i, p in enumerate(parts) if p[1] <= c.span.line < p[2]]
            after = [i for i, p in enumerate(parts) if p[1] > c.span.line]
            if ends:
                trailing[ends[-1]].append(text)
            elif inside:
                leading[inside[0]].append(text)
            elif c.span.line == span.line:
                head_trailing.append(text)
            elif after:
                first = min(after, key=lambda i: parts[i][1])
                leading[first].append(text)
            else:
                closing.append(text)
        self.lines.append(header + " {" + "".join("  " + t for t in head_trailing))
        rank = {name: i for i, name in enumerate(order)}
        for i in sorted(range(len(parts)), key=lambda i: (rank.get(parts[i][0], len(rank)), i)):
            self.lines.extend("  " + t for t in leading[i])
            self.lines.extend("  " + t if t else t for t in parts[i][3])
            if trailing[i]:
                self.lines[-1] += "".join("  " + t for t in trailing[i])
        self.lines.extend("  " + t for t in closing)
        self.lines.append("}")


def _when(expr: ast.Expr) -> list[str]:
    one = "when " + format_expr(expr)
    if len(one) + 2 <= WIDTH or not isinstance(expr, ast.BoolOp):
        return [one]
    op = expr.op
    ops = [_wrap(x, _PREC[op] + 1) for x in expr.operands]
    return ["when " + ops[0]] + [f"  {op} {x}" for x in ops[1:]]


def _decide(d: ast.Decide) -> list[str]:
    out = ["decide " + ", ".join(format_expr(c) for c in d.columns) + " {"]
    for row in d.rows:
        cells = ", ".join(_cell(c) for c in row.cells)
        if row.fires:
            outcome = "fire" + (f": {row.message.raw}" if row.message is not None else "")
        else:
            outcome = "pass"
        out.append(f"  {cells} -> {outcome}")
    out.append("}")
    return out


def _clause(cl: ast.Clause) -> _Part:
    return (
        cl.name.text,
        cl.span.line,
        cl.span.end_line,
        [f"{cl.name.text} {_clause_value(cl.value)}"],
    )


def format_file(file: ast.File) -> str:
    """Format a built AST (with its comments)."""
    p = _Printer(file.comments)
    for i, item in enumerate(file.items):
        if i:
            p.lines.append("")
        p.lines.extend(c.text.rstrip() for c in p.take(0, item.span.line - 1))
        if isinstance(item, ast.PackDecl):
            p.block(
                f"pack {item.name.text}", item.span, [_clause(c) for c in item.clauses], PACK_ORDER
            )
        elif isinstance(item, ast.TableDecl):
            header = f"table {item.name.text} {item.kind.text}"
            p.block(header, item.span, [_clause(c) for c in item.clauses], TABLE_ORDER)
        else:
            header = f"rule {item.id.text}" + (f" {item.title.raw}" if item.title else "")
            parts = [_clause(c) for c in item.clauses]
            if item.when is not None:
                s = item.when.span
                parts.append(("when", s.line, s.end_line, _when(item.when)))
            if item.decide is not None:
                s = item.decide.span
                parts.append(("decide", s.line, s.end_line, _decide(item.decide)))
            p.block(header, item.span, parts, RULE_ORDER)
    for c in p.comments:
        p.lines.append(c.text.rstrip())
    text = "\n".join(p.lines).rstrip("\n")
    return text + "\n" if text else ""


def format(text: str, *, file: str = "<string>") -> str:
    """Format rule source.  Raises :class:`CompileError` if it does not parse."""
    from dsl import build, syntax

    diags = Diagnostics()
    parsed = syntax.run(text, file, diags)
    tree = build.run(parsed, diags)
    syntax_errors = [d for d in diags if d.code in _PARSE_CODES]
    if syntax_errors:
        raise CompileError(syntax_errors)
    return format_file(tree)


_PARSE_CODES = frozenset({"E101", "E102", "E103", "E104", "E105", "E106"})
