"""Reference data that does not fit :mod:`engine.tables`: code sets, CMS files, payer settings.

* ICD-10-CM: :func:`load_icd10cm` maps every code (no dot) to whether it is billable (a leaf), read
  from the code list shipped by the ``simple-icd-10-cm`` package (the CDC/NCHS release named by
  :func:`icd10cm_release`), or from a CMS/CDC ``icd10cm_order_*.txt`` file
  (:func:`load_icd10cm_order_file`).  The shape is what ``engine.pack.PackData.load(icd10cm=...)``
  takes.
* HCPCS Level II: :func:`hcpcs_level2_format` (``^[A-V][0-9]{4}$``), :func:`cpt_format`, and
  :func:`load_hcpcs_file` for the fixed-width CMS HCPCS annual file (``HCPC<YYYY>_..._ANWEB``
  text, the 320-character "HCPCS Contractor Record" of ``HCPC<YYYY>_recordlayout.txt``).
* Timely filing: :func:`load_timely_filing` reads a ``payer_id,days`` CSV.
* Code ranges: :func:`expand_code_ranges` turns ``code_from,code_to`` rows (e.g. ``K0813..K0829``)
  into one row per code, for tables keyed by exact code (the language has no range-keyed table).
* The data directory: :func:`data_dir` (``CLAIMSCRUB_DATA_DIR``) and :func:`resolve_table_source`
  (a file of the same name in the data directory wins over the pack's bundled fixture).

See ``docs/reference-data.md``.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import importlib.util
import os
import pickle
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import compress
from pathlib import Path
from types import MappingProxyType
from typing import Final, cast

__all__ = [
    "DATA_DIR_ENV",
    "HCPCS_FIELDS",
    "HcpcsRecord",
    "Icd10cmRelease",
    "RefDataError",
    "cpt_format",
    "data_dir",
    "expand_code_ranges",
    "hcpcs_level2_format",
    "icd10cm_format",
    "icd10cm_release",
    "load_hcpcs_file",
    "load_icd10cm",
    "load_icd10cm_code_list",
    "load_icd10cm_code_list_text",
    "load_icd10cm_order_file",
    "load_timely_filing",
    "read_icd10cm_code_list",
    "resolve_table_source",
    "write_expanded_code_ranges",
]

DATA_DIR_ENV: Final = "CLAIMSCRUB_DATA_DIR"


class RefDataError(ValueError):
    """A reference data file that cannot be read in its layout (names the file and line)."""


# --- data directory ----------------------------------------------------------------------------


def data_dir() -> Path | None:
    """The directory named by ``CLAIMSCRUB_DATA_DIR`` (``~`` expanded), or None when unset/empty.

    It is where users drop large or licensed files (quarterly NCCI PTP and MUE files, the HCPCS
    annual file, an ICD-10-CM order file) that packs do not bundle.  A set variable naming something
    that is not a directory is an error, not a silent fallback to the bundled fixtures.
    """
    raw = os.environ.get(DATA_DIR_ENV, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise RefDataError(f"{DATA_DIR_ENV}={raw!r} is not a directory")
    return path


def resolve_table_source(
    pack_dir: Path | str, source_path: str, *, directory: Path | None = None
) -> Path:
    """The file to read for a table declared as ``source ... "<source_path>"`` in ``pack_dir``.

    With a data directory (``directory``, else :func:`data_dir`), a file of the same name there is
    preferred: first ``<data dir>/<pack dir name>/<file name>``, then ``<data dir>/<file name>``.
    Otherwise the pack's own ``pack_dir / source_path``.
    """
    pack = Path(pack_dir)
    base = directory if directory is not None else data_dir()
    if base is not None:
        name = Path(source_path).name
        for candidate in (base / pack.name / name, base / name):
            if candidate.is_file():
                return candidate
    return pack / source_path


# --- ICD-10-CM -----------------------------------------------------------------------------------

_ICD10CM_CODE: Final = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")
_ICD10CM_FORMAT: Final = re.compile(r"^[A-Z][0-9][0-9A-Z](?:[0-9A-Z]{1,4})?$")
_RELEASE_FILE: Final = re.compile(r"^code-list-([A-Za-z]+)-(\d{4})\.txt$")
_ICD_PACKAGE: Final = "simple_icd_10_cm"


@dataclass(frozen=True, slots=True)
class Icd10cmRelease:
    """Which ICD-10-CM release a code map came from, and the dates it is meant for.

    ``valid_from`` / ``valid_until`` are the service dates (discharge dates for inpatient) the
    release applies to: an October release covers the whole federal fiscal year (Oct 1 - Sep 30), an
    April update its second half (Apr 1 - Sep 30).
    """

    source: str  # "simple-icd-10-cm 1.5.0" or a file name
    release: str  # "April 2026"
    fiscal_year: int | None
    valid_from: date | None
    valid_until: date | None
    file: Path


def icd10cm_format(code: str) -> bool:
    """Whether ``code`` (no dot) has the ICD-10-CM shape: letter, digit, alnum, up to 4 more."""
    return bool(_ICD10CM_FORMAT.match(code))


def _package_data_dir() -> Path:
    # find_spec locates the package without importing it: importing simple_icd_10_cm parses its
    # whole tabular XML (about 2 s); the code list text file alone is all this module needs.
    spec = importlib.util.find_spec(_ICD_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RefDataError(
            "the simple-icd-10-cm package is not installed (pip install simple-icd-10-cm)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _release_window(month: str, year: int) -> tuple[int | None, date | None, date | None]:
    m = month.lower()
    if m.startswith("apr"):
        return year, date(year, 4, 1), date(year, 9, 30)
    if m.startswith("oct"):
        return year + 1, date(year, 10, 1), date(year + 1, 9, 30)
    return None, None, None


@functools.cache
def icd10cm_release() -> Icd10cmRelease:
    """The release of the code list :func:`load_icd10cm` reads (from the package's file name)."""
    data = _package_data_dir()
    files = sorted(p for p in data.glob("code-list-*.txt") if _RELEASE_FILE.match(p.name))
    if not files:
        raise RefDataError(f"{data}: no code-list-<Month>-<YYYY>.txt in simple-icd-10-cm")
    path = files[-1]
    m = _RELEASE_FILE.match(path.name)
    assert m is not None
    month, year = m.group(1), int(m.group(2))
    fy, lo, hi = _release_window(month, year)
    try:
        from importlib.metadata import version

        pkg = f"simple-icd-10-cm {version('simple-icd-10-cm')}"
    except Exception:  # metadata missing in an unusual install: the file name still says it
        pkg = "simple-icd-10-cm"
    return Icd10cmRelease(pkg, f"{month} {year}", fy, lo, hi, path)


def load_icd10cm_code_list(lines: Iterable[str]) -> dict[str, bool]:
    """Codes of a one-code-per-line list (dots optional, text after a space ignored) → billable.

    Lines that are not codes (chapter numbers, block ranges such as ``A00-A09``) are skipped.  A
    code is billable when no other code of the list extends it (a leaf of the hierarchy).
    """
    codes: list[str] = []
    match = _ICD10CM_CODE.match
    for line in lines:
        parts = line.split(None, 1)
        if parts:
            code = parts[0].replace(".", "").upper()
            if match(code):
                codes.append(code)
    return _billable_map(codes)


# A code list made of these characters only has one token per line, without dots, in upper case:
# every line is its own code candidate, so one regex pass over the text finds the codes.
_PLAIN_LIST: Final = re.compile(r"[^\nA-Z0-9-]")
_LIST_CODE_LINE: Final = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$", re.MULTILINE)


def load_icd10cm_code_list_text(text: str) -> dict[str, bool]:
    """:func:`load_icd10cm_code_list` of a whole file's text (read with universal newlines).

    Same result, faster: a list of plain upper-case codes (the CDC and ``simple-icd-10-cm``
    layout) is scanned with one regex instead of line by line.
    """
    if _PLAIN_LIST.search(text) is None:
        return _billable_map(_LIST_CODE_LINE.findall(text))
    return load_icd10cm_code_list(text.split("\n"))


def _billable_map(codes: list[str]) -> dict[str, bool]:
    """``codes`` (file order; repeats keep their first place) → billable (no code extends it).

    A code is a parent when a longer code starts with it.  In sorted order the codes that start
    with ``c`` come right after ``c``, so ``c`` is a parent exactly when the next distinct code
    starts with it: one sort and one pass, no set of every prefix.
    """
    unique = list(dict.fromkeys(sorted(codes)))  # sorted() of a list near file order is quick
    is_parent = map(str.startswith, unique[1:], unique)  # unique[i + 1] extends unique[i]
    out = dict.fromkeys(codes, True)
    out.update(dict.fromkeys(compress(unique, is_parent), False))  # keeps the file order
    return out


def read_icd10cm_code_list(path: Path | str) -> dict[str, bool]:
    """:func:`load_icd10cm_code_list` of a file (``.gz``: gzip-compressed), UTF-8.

    The parsed list is kept in the code-set cache (see :func:`_cached_parse`).
    """
    return _cached_parse(Path(path), "code-list", _parse_code_list_file)


def _parse_code_list_file(p: Path) -> dict[str, bool]:
    if p.suffix == ".gz":
        with gzip.open(p, "rt", encoding="utf-8") as fh:
            return load_icd10cm_code_list_text(fh.read())
    return load_icd10cm_code_list_text(p.read_text(encoding="utf-8"))


# --- the code-set cache --------------------------------------------------------------------------
# Why: every process start (the CLI, each API worker, each test run) reads two or more ICD-10-CM
# releases of ~98,000 codes; a parsed release loads from a pickle in about half the time its text
# takes to parse.  The conventions are the table cache's (``engine.tables``): the directory is
# ``engine.tables.cache_dir()`` (``CLAIMSCRUB_CACHE_DIR``; ``off`` disables), here its ``icd10cm``
# subdirectory; an entry is keyed by the file's resolved path, size and modification time and by
# the parser; any error reading or writing falls back to parsing the file.

_CODE_CACHE_FORMAT: Final = "claimscrub-icd10cm-cache-1"
_CODE_CACHE_KEEP: Final = 8


def _code_cache_path(path: Path, kind: str) -> tuple[Path, tuple[object, ...]] | None:
    from engine.tables import cache_dir  # here: engine.tables imports this module

    directory = cache_dir()
    if directory is None:
        return None
    try:
        resolved = path.resolve()
        st = resolved.stat()
    except OSError:
        return None
    spec = (_CODE_CACHE_FORMAT, kind, str(resolved), st.st_size, st.st_mtime_ns)
    name = hashlib.sha256(repr(spec).encode()).hexdigest() + ".pickle"
    return directory / "icd10cm" / name, spec


def _code_cache_read(cached: Path, spec: tuple[object, ...]) -> dict[str, bool] | None:
    try:
        with cached.open("rb") as fh:
            got = pickle.load(fh)
    except Exception:  # missing, truncated or foreign: parse the file instead
        return None
    if isinstance(got, tuple) and len(got) == 2 and got[0] == spec and type(got[1]) is dict:
        return cast("dict[str, bool]", got[1])
    return None


def _code_cache_write(cached: Path, spec: tuple[object, ...], codes: dict[str, bool]) -> None:
    try:
        cached.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump((spec, codes), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cached)  # atomic: a concurrent reader sees the old file or the new one
        old = sorted(cached.parent.glob("*.pickle"), key=lambda q: q.stat().st_mtime)
        for stale in old[:-_CODE_CACHE_KEEP]:  # the most recently written entries stay
            stale.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError):
        return


def _cached_parse(
    path: Path, kind: str, parse: Callable[[Path], dict[str, bool]]
) -> dict[str, bool]:
    """``parse(path)``, from the code-set cache when the file has not changed since it was kept."""
    where = _code_cache_path(path, kind)
    if where is not None:
        hit = _code_cache_read(*where)
        if hit is not None:
            return hit
    codes = parse(path)
    if where is not None:
        _code_cache_write(*where, codes)
    return codes


@functools.cache
def _icd10cm_package_map() -> Mapping[str, bool]:
    return MappingProxyType(read_icd10cm_code_list(icd10cm_release().file))


def load_icd10cm(path: Path | str | None = None) -> Mapping[str, bool]:
    """ICD-10-CM code (no dot) → billable, cached in memory after the first call.

    Without ``path``: the code list of the installed ``simple-icd-10-cm`` package (see
    :func:`icd10cm_release` for which release; about 0.04 s the first time, 0.02 s from the
    code-set cache, then free).  With ``path``: a CMS/CDC ``icd10cm_order_<YYYY>.txt`` file
    (:func:`load_icd10cm_order_file`) or a plain code list (``icd10cm_codes_<YYYY>.txt``: every
    code in it is billable); cached per path.  Parsed files are kept in the code-set cache.
    """
    if path is None:
        return _icd10cm_package_map()
    return _icd10cm_file_map(str(Path(path).resolve()))


@functools.cache
def _icd10cm_file_map(path: str) -> Mapping[str, bool]:
    return MappingProxyType(_cached_parse(Path(path), "order-or-codes", _parse_icd10cm_file))


def _parse_icd10cm_file(p: Path) -> dict[str, bool]:
    with p.open(encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
    if _is_order_line(first):
        return load_icd10cm_order_file(p)
    with p.open(encoding="utf-8", errors="replace") as fh:
        return {
            code: True
            for code in (ln.split(maxsplit=1)[0].replace(".", "") for ln in fh if ln.strip())
            if _ICD10CM_CODE.match(code)
        }


def _is_order_line(line: str) -> bool:
    return len(line) >= 15 and line[:5].strip().isdigit() and line[14] in "01"


def load_icd10cm_order_file(path: Path | str) -> dict[str, bool]:
    """A CMS/CDC ICD-10-CM order file (``icd10cm_order_<YYYY>.txt``) → code → billable.

    Fixed width: order number (1-5), blank, code without dot (7-13), blank, header flag (15: ``0``
    header, not billable; ``1`` valid for HIPAA-covered transactions), blank, short description
    (17-76), blank, long description (78-).
    """
    out: dict[str, bool] = {}
    p = Path(path)
    with p.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if not _is_order_line(line):
                raise RefDataError(f"{p.name}:{n}: not an ICD-10-CM order file record")
            code = line[6:13].strip()
            if _ICD10CM_CODE.match(code):
                out[code] = line[14] == "1"
    return out


# --- HCPCS ---------------------------------------------------------------------------------------

_HCPCS_L2: Final = re.compile(r"^[A-V][0-9]{4}$")
_CPT: Final = re.compile(r"^[0-9]{4}[0-9FTUM]$")


def hcpcs_level2_format(code: str) -> bool:
    """Whether ``code`` has the HCPCS Level II shape: a letter A-V and four digits (``A0425``)."""
    return bool(_HCPCS_L2.match(code))


def cpt_format(code: str) -> bool:
    """Whether ``code`` has a CPT (HCPCS Level I) shape: four digits and a digit, F, T, U or M."""
    return bool(_CPT.match(code))


#: The HCPCS Contractor Record (320 characters), 1-based inclusive positions, from the CMS
#: ``HCPC<YYYY>_recordlayout.txt``: ``(name, first, last, occurrences)``; repeated fields take
#: ``occurrences`` consecutive slots of ``(last - first + 1) / occurrences`` characters.
HCPCS_FIELDS: Final[tuple[tuple[str, int, int, int], ...]] = (
    ("code", 1, 5, 1),
    ("sequence_number", 6, 10, 1),
    ("record_id", 11, 11, 1),
    ("long_description", 12, 91, 1),
    ("short_description", 92, 119, 1),
    ("pricing_indicators", 120, 127, 4),
    ("multiple_pricing_indicator", 128, 128, 1),
    ("cim_references", 129, 146, 3),
    ("mcm_references", 147, 170, 3),
    ("statute_number", 171, 180, 1),
    ("lab_certifications", 181, 204, 8),
    ("cross_references", 205, 229, 5),
    ("coverage_code", 230, 230, 1),
    ("asc_payment_group", 231, 232, 1),
    ("asc_effective_date", 233, 240, 1),
    ("opps_payment_group", 241, 243, 1),
    ("opps_payment_indicator", 244, 244, 1),
    ("opps_effective_date", 245, 252, 1),
    ("processing_note", 253, 256, 1),
    ("betos", 257, 259, 1),
    ("types_of_service", 261, 265, 5),
    ("anesthesia_base_units", 266, 268, 1),
    ("added_date", 269, 276, 1),
    ("action_effective_date", 277, 284, 1),
    ("termination_date", 285, 292, 1),
    ("action_code", 293, 293, 1),
)
_FIELD: Final = {name: (a - 1, b, k) for name, a, b, k in HCPCS_FIELDS}
_FIRST_RECORD: Final = {"3": False, "7": True}  # record id → is a modifier
_CONTINUATION: Final = {"4": False, "8": True}


@dataclass(frozen=True, slots=True)
class HcpcsRecord:
    """One HCPCS procedure or modifier code of the annual file (continuation lines joined)."""

    code: str  # "A0425", or the two-character modifier ("RH") for a modifier record
    is_modifier: bool
    long_description: str
    short_description: str
    pricing_indicators: tuple[str, ...]
    coverage_code: str
    betos: str
    types_of_service: tuple[str, ...]
    added_date: date | None
    action_effective_date: date | None
    termination_date: date | None
    action_code: str
    fields: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict, repr=False)

    def effective_on(self, on: date) -> bool:
        """Whether the code may be billed on ``on`` (added on or before it, not terminated)."""
        if self.added_date is not None and on < self.added_date:
            return False
        return self.termination_date is None or on <= self.termination_date


def _slice(line: str, name: str) -> str | tuple[str, ...]:
    lo, hi, k = _FIELD[name]
    text = line[lo:hi]
    if k == 1:
        return text.strip()
    width = (hi - lo) // k
    return tuple(s for s in (text[i * width : (i + 1) * width].strip() for i in range(k)) if s)


def _yyyymmdd(text: str, where: str) -> date | None:
    text = text.strip()
    if not text or set(text) == {"0"}:
        return None
    if len(text) != 8 or not text.isdigit():
        raise RefDataError(f"{where}: bad date {text!r} (YYYYMMDD)")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise RefDataError(f"{where}: bad date {text!r}: {exc}") from exc


def _str(v: str | tuple[str, ...]) -> str:
    return v if isinstance(v, str) else " ".join(v)


def _tuple(v: str | tuple[str, ...]) -> tuple[str, ...]:
    return v if isinstance(v, tuple) else ((v,) if v else ())


def _records(lines: Iterable[str], name: str) -> Iterator[HcpcsRecord]:
    head: dict[str, str | tuple[str, ...]] | None = None
    long_parts: list[str] = []
    where = name
    head_where = name

    def finish() -> HcpcsRecord:
        assert head is not None
        is_mod = head["record_id"] == "7"
        code = _str(head["code"]).strip()
        return HcpcsRecord(
            code=code,
            is_modifier=is_mod,
            long_description=" ".join(p for p in long_parts if p),
            short_description=_str(head["short_description"]),
            pricing_indicators=_tuple(head["pricing_indicators"]),
            coverage_code=_str(head["coverage_code"]),
            betos=_str(head["betos"]),
            types_of_service=_tuple(head["types_of_service"]),
            added_date=_yyyymmdd(_str(head["added_date"]), head_where),
            action_effective_date=_yyyymmdd(_str(head["action_effective_date"]), head_where),
            termination_date=_yyyymmdd(_str(head["termination_date"]), head_where),
            action_code=_str(head["action_code"]),
            fields=MappingProxyType(dict(head)),
        )

    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        where = f"{name}:{n}"
        rid = line[10:11]
        if rid in _FIRST_RECORD:
            if head is not None:
                yield finish()
            head = {f: _slice(line.ljust(320), f) for f in _FIELD}
            head_where = where
            long_parts = [_str(head["long_description"])]
        elif rid in _CONTINUATION:
            code = line[0:5].strip()
            if head is None or code != _str(head["code"]).strip():
                raise RefDataError(
                    f"{where}: continuation record for {code!r} without its first line"
                )
            long_parts.append(line[11:91].strip())
        else:
            raise RefDataError(f"{where}: record identification code {rid!r} is not 3, 4, 7 or 8")
    if head is not None:
        yield finish()


def load_hcpcs_file(path: Path | str, *, encoding: str = "latin-1") -> dict[str, HcpcsRecord]:
    """The CMS HCPCS annual file in the fixed-width contractor record layout → code → record.

    Records with identification code 3 (procedure) or 7 (modifier) start a code; 4 and 8 continue
    its long description (80 characters per record).  Modifier records are keyed by the modifier
    (positions 4-5).  A code that repeats keeps its last record.
    """
    p = Path(path)
    with p.open(encoding=encoding, newline="") as fh:
        return {r.code: r for r in _records(fh, p.name)}


# --- timely filing -------------------------------------------------------------------------------


def load_timely_filing(path: Path | str) -> dict[str, int]:
    """A payer timely-filing CSV (header ``payer_id,days``; other columns ignored) → payer → days.

    Blank lines and lines starting with ``#`` are skipped; days must be a positive whole number.
    """
    p = Path(path)
    out: dict[str, int] = {}
    with p.open(encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    rows = [r for r in rows if not r[0].lstrip().startswith("#")]
    if not rows:
        return out
    header = [h.strip().lower() for h in rows[0]]
    if "payer_id" not in header or "days" not in header:
        raise RefDataError(f"{p.name}:1: the header needs payer_id and days columns")
    ip, idays = header.index("payer_id"), header.index("days")
    for n, row in enumerate(rows[1:], 2):
        payer = row[ip].strip() if ip < len(row) else ""
        text = row[idays].strip() if idays < len(row) else ""
        if not payer:
            raise RefDataError(f"{p.name}:{n}: empty payer_id")
        if not text.isdigit() or int(text) <= 0:
            raise RefDataError(f"{p.name}:{n}: days must be a positive whole number, not {text!r}")
        out[payer] = int(text)
    return out


# --- code ranges ---------------------------------------------------------------------------------

_RANGE_CODE: Final = re.compile(r"^([A-Z]*)([0-9]+)([A-Z]*)$")


def _expand(lo: str, hi: str) -> list[str]:
    if not hi or hi == lo:
        return [lo]
    a, b = _RANGE_CODE.match(lo), _RANGE_CODE.match(hi)
    if a is None or b is None or a.group(1, 3) != b.group(1, 3) or len(a[2]) != len(b[2]):
        raise ValueError(f"{lo}..{hi}: a range needs the same prefix, suffix and digit count")
    start, end = int(a[2]), int(b[2])
    if end < start:
        raise ValueError(f"{lo}..{hi}: the range is reversed")
    if end - start > 100_000:
        raise ValueError(f"{lo}..{hi}: more than 100,000 codes")
    width = len(a[2])
    return [f"{a[1]}{i:0{width}d}{a[3]}" for i in range(start, end + 1)]


def expand_code_ranges(rows: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """One row per code from rows with ``code_from`` and an optional ``code_to`` (inclusive).

    ``K0813``..``K0829`` gives ``K0813``, ``K0814``, ... ``K0829`` (the numeric part counts; the
    letters around it must match).  Each output row is ``{"hcpcs": code, **other columns}``.  A
    code listed twice keeps both rows (the table's rows may differ in effective dates).
    """
    out: list[dict[str, str]] = []
    for n, row in enumerate(rows, 2):
        lo = (row.get("code_from") or "").strip().upper()
        hi = (row.get("code_to") or "").strip().upper()
        if not lo:
            raise RefDataError(f"row {n}: empty code_from")
        try:
            codes = _expand(lo, hi)
        except ValueError as exc:
            raise RefDataError(f"row {n}: {exc}") from exc
        rest = {k: (v or "") for k, v in row.items() if k not in ("code_from", "code_to")}
        out.extend({"hcpcs": c, **rest} for c in codes)
    return out


def write_expanded_code_ranges(source: Path | str, target: Path | str) -> int:
    """Expand a ``code_from,code_to,...`` CSV into ``target`` (``hcpcs,...``); return its rows."""
    src = Path(source)
    with src.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = [c for c in reader.fieldnames or () if c not in ("code_from", "code_to")]
        rows = expand_code_ranges(reader)
    with Path(target).open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, ["hcpcs", *columns], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
