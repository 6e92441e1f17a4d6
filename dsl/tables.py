"""Loading the rows of small in-pack CSV tables (``source csv "tables/x.csv"``).

The CMS layouts (``ncci_ptp``, ``mue``) and large tables are the pack loader's job; this module
reads only the simple case: a header row naming the declared key and value columns, one row per
entry, values typed by the declaration.  Rows come back as Python values keyed by the key tuple.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dsl.ir import SourceFormat, Table, TableColumn, ValueType

__all__ = ["TableLoadError", "load_csv_table"]

Value = str | Decimal | date | bool


class TableLoadError(ValueError):
    """A CSV table does not match its declaration."""


def _convert(raw: str, col: TableColumn, where: str) -> Value:
    text = raw.strip()
    try:
        match col.type:
            case ValueType.NUMBER | ValueType.MONEY:
                return Decimal(text)
            case ValueType.DATE:
                return date.fromisoformat(text)
            case ValueType.BOOL:
                return text.lower() in {"1", "true", "y", "yes"}
            case ValueType.CODE:
                return text.upper().replace(".", "")
            case _:
                return text
    except (InvalidOperation, ValueError) as exc:
        raise TableLoadError(
            f"{where}: column {col.name!r}: {text!r} is not a {col.type.name}"
        ) from exc


def load_csv_table(
    table: Table, pack_dir: str | Path
) -> dict[tuple[Value, ...], tuple[Value, ...]]:
    """Rows of a CSV table: key tuple → value tuple (empty for code sets).  Later rows win."""
    if table.source_format is not SourceFormat.CSV:
        raise TableLoadError(f"table {table.name!r} is not a CSV table")
    path = Path(pack_dir) / table.source_path
    rows: dict[tuple[Value, ...], tuple[Value, ...]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(line for line in fh if not line.startswith("#"))
        header = reader.fieldnames or []
        for col in (*table.keys, *table.values):
            if col.name not in header:
                raise TableLoadError(f"{path}: no column {col.name!r} (header: {header})")
        for n, rec in enumerate(reader, start=2):
            where = f"{path}:{n}"
            key = tuple(_convert(rec[c.name] or "", c, where) for c in table.keys)
            rows[key] = tuple(_convert(rec[c.name] or "", c, where) for c in table.values)
    return rows
