"""Loading a pack's declared tables from its files (CSV, CMS NCCI PTP text, CMS MUE CSV).

Every column is dictionary encoded: ``ids`` (int32, one per row) index ``vocab`` (the distinct
parsed
values, ``None`` for an empty cell).  That keeps a 2,000,000-row PTP file small (the codes repeat)
and lets the compiled pack intern each distinct code once.  Row effective dates are days since
1970-01-01 with :data:`~engine.values.OPEN_LO` / :data:`~engine.values.OPEN_HI` for open ends.

Layouts:

* CSV: a header row; the Table's key and value column names pick the columns; optional
  ``effective_from`` / ``effective_until`` columns (ISO ``YYYY-MM-DD`` or ``YYYYMMDD``, empty =
  open).
* NCCI PTP: tab separated ``column 1, column 2, prior-to-1996 flag ("*"), effective date YYYYMMDD,
  deletion date YYYYMMDD or "*", modifier indicator 0/1/9, PTP edit rationale``.  Lines that are not
  rows (the AMA/CMS preamble) are skipped.  A row is effective from its effective date through the
  day *before* its deletion date.  Value columns are matched by name (``modifier_indicator``,
  ``rationale``, ``prior_1996``), else taken in the order modifier indicator, rationale.
* MUE: CSV ``HCPCS/CPT code, MUE value, MAI, rationale``; preamble and header lines are skipped.
  Value columns in order: MUE value, MAI (``"1 Line Edit"`` → ``1``), rationale.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from dsl.ir import SourceFormat, Table, TableColumn, ValueType
from engine.refdata import resolve_table_source
from engine.values import OPEN_HI, OPEN_LO, Value, date_to_days, days_to_date

__all__ = ["Column", "LoadedTable", "TableError", "load_table", "load_tables"]

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]


class TableError(ValueError):
    """A table file that cannot be read in its declared layout."""


@dataclass(frozen=True, slots=True, eq=False)
class Column:
    """A dictionary-encoded column: row ``i`` holds ``vocab[ids[i]]``."""

    type: ValueType
    ids: I32
    vocab: tuple[Value, ...]

    def value(self, row: int) -> Value:
        """The value in ``row``."""
        return self.vocab[int(self.ids[row])]


@dataclass(frozen=True, slots=True, eq=False)
class LoadedTable:
    """The rows of one declared table."""

    table: Table
    keys: tuple[Column, ...]
    values: tuple[Column, ...]
    row_from: I64
    row_until: I64
    _index: dict[tuple[Value, ...], list[int]] = field(default_factory=dict, repr=False)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.row_from.shape[0])

    def rows_for(self, key: tuple[Value, ...]) -> list[int]:
        """Row numbers (file order) whose key columns equal ``key`` (index built on first use)."""
        if not self._index and self.n_rows:
            index = self._index
            cols = [[c.vocab[i] for i in c.ids.tolist()] for c in self.keys]
            for row, k in enumerate(zip(*cols, strict=True)):
                index.setdefault(k, []).append(row)
        return self._index.get(key, [])

    def row_effective(self, row: int, on: date | None) -> bool:
        """Whether ``row`` (and the table) are effective on ``on``."""
        t = self.table
        lo, hi = int(self.row_from[row]), int(self.row_until[row])
        if on is None:
            return (
                lo == OPEN_LO
                and hi == OPEN_HI
                and t.effective_from is None
                and (t.effective_until is None)
            )
        if t.effective_from is not None and on < t.effective_from:
            return False
        if t.effective_until is not None and on > t.effective_until:
            return False
        d = date_to_days(on)
        return lo <= d <= hi

    def row_dict(self, row: int) -> dict[str, str]:
        """A row as ``{column name: value}`` for explanations, with its own effective dates.

        ``effective_from`` / ``effective_until`` (ISO dates, inclusive) appear when the row carries
        them (NCCI PTP effective and deletion dates, CSV date columns): a reviewer of a PTP edit
        needs to see that the pair was in force on the date of service.
        """
        from engine.values import days_to_date, render_value

        out: dict[str, str] = {}
        for spec, col in zip(
            self.table.keys + self.table.values, self.keys + self.values, strict=True
        ):
            out[spec.name] = render_value(col.value(row))
        lo, hi = int(self.row_from[row]), int(self.row_until[row])
        if lo != OPEN_LO:
            out["effective_from"] = days_to_date(lo).isoformat()
        if hi != OPEN_HI:
            out["effective_until"] = days_to_date(hi).isoformat()
        return out


def _parse_date(text: str) -> date | None:
    text = text.strip()
    if not text or text == "*":
        return None
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return date.fromisoformat(text)


def _parse_value(t: ValueType, text: str) -> Value:
    text = text.strip()
    if not text:
        return None if t not in (ValueType.CODE, ValueType.TEXT) else ""
    if t is ValueType.CODE:
        return text.upper()
    if t is ValueType.TEXT:
        return text
    if t in (ValueType.NUMBER, ValueType.MONEY):
        try:
            return Decimal(text)
        except InvalidOperation:
            head = text.split()[0]
            return Decimal(head)
    if t is ValueType.DATE:
        return _parse_date(text)
    if t is ValueType.BOOL:
        return text.lower() in ("1", "true", "yes", "y", "*")
    raise TableError(f"unsupported column type {t.name}")


def _encode(
    t: ValueType, texts: Sequence[str], parse: Callable[[str], Value] | None = None
) -> Column:
    """Dictionary-encode a column of raw strings (parsing each distinct string once)."""
    # ids in order of first appearance; dict.fromkeys and map run in C (a generator with
    # setdefault per value was ~3x slower on the 1,000,000-row PTP file)
    codes = {s: i for i, s in enumerate(dict.fromkeys(texts))}
    ids = np.fromiter(map(codes.__getitem__, texts), dtype=np.int32, count=len(texts))
    p = parse or (lambda s: _parse_value(t, s))
    return Column(t, ids, tuple(p(s) for s in codes))


def _dates(texts: Sequence[str], open_value: int, shift: int = 0) -> I64:
    cache: dict[str, int] = {}
    for s in set(texts):
        d = _parse_date(s)
        cache[s] = open_value if d is None else date_to_days(d) + shift
    return np.fromiter(map(cache.__getitem__, texts), dtype=np.int64, count=len(texts))


def _read_csv(table: Table, path: Path) -> LoadedTable:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            header = []
        rows = list(reader)
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    pos = {name: i for i, name in enumerate(header)}

    def col(spec: TableColumn) -> Column:
        if spec.name not in pos:
            raise TableError(f"{path.name}: no column {spec.name!r} (header: {header})")
        i = pos[spec.name]
        return _encode(spec.type, [r[i] if i < len(r) else "" for r in rows])

    def dates(name: str, open_value: int) -> I64:
        if name not in pos:
            return np.full(len(rows), open_value, dtype=np.int64)
        i = pos[name]
        return _dates([r[i] if i < len(r) else "" for r in rows], open_value)

    return LoadedTable(
        table,
        tuple(col(k) for k in table.keys),
        tuple(col(v) for v in table.values),
        dates("effective_from", OPEN_LO),
        dates("effective_until", OPEN_HI),
    )


_PTP_NAMES: Final = {
    "modifier_indicator": 5,
    "modifier": 5,
    "rationale": 6,
    "ptp_edit_rationale": 6,
    "prior_1996": 2,
    "existed_before_1996": 2,
    "effective_date": 3,
    "deletion_date": 4,
}


def _is_ptp_row(parts: list[str]) -> bool:
    return len(parts) >= 6 and len(parts[3].strip()) == 8 and parts[3].strip().isdigit()


def _ptp_columns(text: str) -> list[list[str]]:
    """The seven PTP columns as lists of strings (fast path: one split of the whole body)."""
    lines = text.splitlines()
    start = 0
    while start < len(lines) and not _is_ptp_row(lines[start].split("\t")):
        start += 1
    body = [ln for ln in lines[start:] if ln.strip()]
    flat = "\t".join(body).split("\t")
    n = len(body)
    if n and len(flat) == 7 * n:
        cols = [flat[i::7] for i in range(7)]
        if all(len(d) == 8 and d.isdigit() for d in set(cols[3])):
            return cols
    rows = [p for p in (ln.split("\t") for ln in body) if _is_ptp_row(p)]
    return [[r[i] if i < len(r) else "" for r in rows] for i in range(7)]


def _read_ptp(table: Table, path: Path) -> LoadedTable:
    cols = _ptp_columns(path.read_text(encoding="latin-1"))
    if len(table.keys) != 2:
        raise TableError(f"{path.name}: an NCCI PTP table has two key columns")
    keys = tuple(_encode(k.type, cols[i]) for i, k in enumerate(table.keys))
    default_order = [5, 6, 2]
    values: list[Column] = []
    for n, spec in enumerate(table.values):
        i = _PTP_NAMES.get(spec.name.lower(), default_order[n] if n < 3 else -1)
        if i < 0:
            raise TableError(f"{path.name}: unknown PTP column {spec.name!r}")
        values.append(_encode(spec.type, cols[i]))
    return LoadedTable(
        table,
        keys,
        tuple(values),
        _dates(cols[3], OPEN_LO),
        _dates(cols[4], OPEN_HI, shift=-1),
    )


def _mai(t: ValueType) -> Callable[[str], Value]:
    def parse(text: str) -> Value:
        text = text.strip()
        if t is ValueType.TEXT:
            return text
        head = text.split(" ", 1)[0] if text else ""
        return _parse_value(t, head)

    return parse


def _read_mue(table: Table, path: Path) -> LoadedTable:
    raw = path.read_text(encoding="utf-8-sig", errors="replace")
    rows = [
        r
        for r in csv.reader(io.StringIO(raw))
        if len(r) >= 2 and r[0].strip() and r[0].strip().isalnum() and _is_number(r[1])
    ]
    if len(table.keys) != 1:
        raise TableError(f"{path.name}: an MUE table has one key column")
    keys = (_encode(table.keys[0].type, [r[0] for r in rows]),)
    values: list[Column] = []
    for n, spec in enumerate(table.values):
        texts = [r[n + 1] if n + 1 < len(r) else "" for r in rows]
        values.append(_encode(spec.type, texts, _mai(spec.type) if n == 1 else None))
    open_lo = np.full(len(rows), OPEN_LO, dtype=np.int64)
    open_hi = np.full(len(rows), OPEN_HI, dtype=np.int64)
    return LoadedTable(table, keys, tuple(values), open_lo, open_hi)


def _is_number(text: str) -> bool:
    try:
        Decimal(text.strip())
    except InvalidOperation:
        return False
    return True


def load_table(table: Table, pack_dir: Path | str) -> LoadedTable:
    """Load one table in its declared layout, from the data directory if it holds a newer file.

    ``engine.refdata.resolve_table_source`` prefers ``$CLAIMSCRUB_DATA_DIR/<pack>/<file>`` or
    ``$CLAIMSCRUB_DATA_DIR/<file>`` (real quarterly CMS files the user drops there) over the pack's
    own (small, synthetic) file.
    """
    path = resolve_table_source(pack_dir, table.source_path)
    if not path.is_file():
        raise TableError(f"table {table.name}: file not found: {table.source_path}")
    cached = _cache_path(table, path)
    if cached is not None:
        hit = _cache_read(table, cached)
        if hit is not None:
            return hit
    if table.source_format is SourceFormat.NCCI_PTP:
        loaded = _read_ptp(table, path)
    elif table.source_format is SourceFormat.MUE:
        loaded = _read_mue(table, path)
    else:
        loaded = _read_csv(table, path)
    if cached is not None:
        _cache_write(loaded, cached)
    return loaded


# --- the table cache ---------------------------------------------------------------------------
# Why: parsing a quarterly CMS PTP file (1,000,000+ rows) takes ~0.8 s of every process start (the
# CLI, each API worker, each test run), most of it creating millions of Python strings.  Parsed
# columns are kept in the user's cache directory, keyed by the file's path, size and modification
# time and by the table's declared columns; a changed file or declaration misses.  Only files of
# at least CACHE_MIN_BYTES are cached (small tables parse faster than a cache read).
# CLAIMSCRUB_CACHE_DIR=off disables it; any error reading or writing the cache falls back to
# parsing the file.

CACHE_ENV: Final = "CLAIMSCRUB_CACHE_DIR"
CACHE_MIN_BYTES: Final = 1 << 20
CACHE_KEEP: Final = 16
_CACHE_FORMAT: Final = b"claimscrub-table-cache-1"


def cache_dir() -> Path | None:
    """Where parsed tables are cached (None: caching off)."""
    raw = os.environ.get(CACHE_ENV, "").strip()
    if raw.lower() == "off":
        return None
    if raw:
        return Path(raw).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "claimscrub" / "tables"


def _cache_path(table: Table, path: Path) -> Path | None:
    directory = cache_dir()
    if directory is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    if st.st_size < CACHE_MIN_BYTES:
        return None
    spec = (
        _CACHE_FORMAT,
        str(path.resolve()),
        st.st_size,
        st.st_mtime_ns,
        table.source_format.value,
        tuple((c.name, c.type.value) for c in table.keys),
        tuple((c.name, c.type.value) for c in table.values),
    )
    return directory / (hashlib.sha256(repr(spec).encode()).hexdigest() + ".pickle")


def _cache_read(table: Table, cached: Path) -> LoadedTable | None:
    try:
        with cached.open("rb") as fh:
            keys, values, row_from, row_until = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
        return None
    return LoadedTable(table, keys, values, row_from, row_until)


def _cache_write(loaded: LoadedTable, cached: Path) -> None:
    data = (loaded.keys, loaded.values, loaded.row_from, loaded.row_until)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cached)  # atomic: a concurrent reader sees the old file or the new one
        old = sorted(cached.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
        for stale in old[:-CACHE_KEEP]:  # the most recently written CACHE_KEEP tables stay
            stale.unlink(missing_ok=True)
    except OSError:
        return


def load_tables(tables: Sequence[Table], pack_dir: Path | str) -> tuple[LoadedTable, ...]:
    """Load every declared table of a pack, in ``Table.index`` order."""
    return tuple(load_table(t, pack_dir) for t in sorted(tables, key=lambda t: t.index))


def row_window(loaded: LoadedTable, row: int) -> tuple[date | None, date | None]:
    """A row's effective window as dates (None = open)."""
    lo, hi = int(loaded.row_from[row]), int(loaded.row_until[row])
    return (
        None if lo == OPEN_LO else days_to_date(lo),
        None if hi == OPEN_HI else days_to_date(hi),
    )
