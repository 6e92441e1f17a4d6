"""A stable, readable text dump of the IR (golden tests, ``--dump``)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from enum import Enum

from dsl import ir
from dsl.diagnostics import Span

__all__ = ["dump_ir"]


def _span(s: Span) -> str:
    return f"@{s.line}:{s.column}-{s.end_line}:{s.end_column}"


class _Dumper:
    def __init__(self, rules: ir.CompiledRules, spans: bool) -> None:
        self.rules = rules
        self.spans = spans
        self.out: list[str] = []

    def scalar(self, v: object) -> str:
        if isinstance(v, Enum):
            return v.name
        if isinstance(v, str):
            return repr(v)
        if isinstance(v, Decimal | date):
            return str(v)
        return repr(v)

    def node(self, name: str, v: object, depth: int) -> None:
        pad = "  " * depth
        label = f"{name}: " if name else ""
        if (
            isinstance(v, tuple)
            and v
            and (dataclasses.is_dataclass(v[0]) or isinstance(v[0], tuple))
        ):
            self.out.append(f"{pad}{label}[")
            for item in v:
                self.node("", item, depth + 1)
            self.out.append(f"{pad}]")
            return
        if isinstance(v, tuple) and any(dataclasses.is_dataclass(x) for x in v):
            self.out.append(f"{pad}{label}[")
            for item in v:
                self.node("", item, depth + 1)
            self.out.append(f"{pad}]")
            return
        if not dataclasses.is_dataclass(v) or isinstance(v, type):
            self.out.append(
                f"{pad}{label}{self.scalar(v) if not isinstance(v, tuple) else self._tuple(v)}"
            )
            return
        head = [type(v).__name__]
        children: list[tuple[str, object]] = []
        for f in dataclasses.fields(v):
            value = getattr(v, f.name)
            if f.name == "span":
                if self.spans:
                    head.append(_span(value))
                continue
            if value is None and f.name == "field" and isinstance(v, ir.Rule):
                continue  # an additive attribute: dumps without it stay as they were
            if dataclasses.is_dataclass(value) or (
                isinstance(value, tuple) and any(dataclasses.is_dataclass(x) for x in value)
            ):
                children.append((f.name, value))
            else:
                text = self._tuple(value) if isinstance(value, tuple) else self.scalar(value)
                head.append(f"{f.name}={text}")
        if isinstance(v, ir.FieldRef):
            head.append(f"# {self.rules.fields[v.field].name}")
        if isinstance(v, ir.Const):
            head.append(f"# {self.scalar(self.rules.constants[v.constant].value)}")
        self.out.append(f"{pad}{label}{' '.join(head)}")
        for cname, child in children:
            self.node(cname, child, depth + 1)

    def _tuple(self, t: tuple[object, ...]) -> str:
        return (
            "("
            + ", ".join(self._tuple(x) if isinstance(x, tuple) else self.scalar(x) for x in t)
            + ")"
        )


def dump_ir(rules: ir.CompiledRules, *, spans: bool = True) -> str:
    """Dump everything but the (fixed) field schema and built-in table."""
    d = _Dumper(rules, spans)
    d.node("pack", rules.pack, 0)
    d.out.append("constants:")
    for i, c in enumerate(rules.constants):
        d.out.append(f"  {i}: {c.type.name} {d.scalar(c.value)}")
    d.node("literal_sets", rules.literal_sets, 0)
    d.node("tables", rules.tables, 0)
    d.node("rules", rules.rules, 0)
    d.node("relations", rules.relations, 0)
    return "\n".join(d.out) + "\n"
