"""ICD-10-CM code sets over time: which release answers ``icd10cm_valid(code, date)`` for a date.

Why: the code set changes every October 1 (and a few codes on April 1).  One release for every
date flags codes deleted since the claim's date of service as invalid and accepts codes that did
not exist yet (FY2026 added 614 codes, such as E11A, and deleted 12).  A claim is checked against
the release in force on the date the rule passes.

Releases come from three places, later ones replacing earlier ones of the same fiscal year and
month: the April 2025 code list bundled here (``engine/data/icd10cm``), the code list of the
installed ``simple-icd-10-cm`` package (April 2026), and files in the data directory
(``CLAIMSCRUB_DATA_DIR``): ``icd10cm_order_<YYYY>.txt`` or ``icd10cm_codes_<YYYY>.txt`` (the
October release of fiscal year YYYY, CMS/CDC layouts) and ``code-list-<Month>-<YYYY>.txt``.

When a release starts: an October release on October 1 (the fiscal year's first day); an April
release on April 1 when the October release of its fiscal year is loaded too, else on October 1
(the April update adds a handful of codes, so using it for the whole year errs towards accepting,
never towards rejecting a code that was valid).  A release is in force until the next one starts;
the earliest also answers for older dates (the nearest release there is; see
``docs/reference-data.md``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Final

from engine.refdata import (
    RefDataError,
    _release_window,
    data_dir,
    icd10cm_release,
    load_icd10cm,
    read_icd10cm_code_list,
)

__all__ = ["Icd10cmCodeSet", "code_set_on", "icd10cm_code_sets", "single_code_set"]

_BUNDLED_DIR: Final = Path(__file__).resolve().parent / "data" / "icd10cm"
_FY_FILE: Final = re.compile(r"^icd10cm_(?:order|codes)_(\d{4})\.txt$", re.IGNORECASE)
_LIST_FILE: Final = re.compile(r"^code-list-([A-Za-z]+)-(\d{4})\.txt(?:\.gz)?$")


@dataclass(frozen=True, slots=True)
class Icd10cmCodeSet:
    """One release: its codes (no dot → billable) and the first date of service it answers for."""

    release: str  # "April 2025", "FY2024"
    fiscal_year: int
    april: bool
    starts: date
    codes: Mapping[str, bool]
    source: str  # where it was read from


def _fiscal_year(month: str, year: int) -> tuple[int, bool]:
    """(fiscal year, is an April update) of a release, from ``refdata``'s release windows."""
    fy, start, _ = _release_window(month, year)
    if fy is None or start is None:
        raise RefDataError(f"ICD-10-CM release month {month!r}: expected April or October")
    return fy, start.month == 4


@functools.cache
def _list_file(path: str) -> Mapping[str, bool]:
    return MappingProxyType(read_icd10cm_code_list(path))


def _found(directory: Path, bundled: bool) -> list[tuple[int, bool, str, Mapping[str, bool], str]]:
    out = []
    for p in sorted(directory.iterdir()) if directory.is_dir() else ():
        if m := _FY_FILE.match(p.name):
            fy = int(m.group(1))
            out.append((fy, False, f"FY{fy}", load_icd10cm(p), str(p)))
        elif m := _LIST_FILE.match(p.name):
            fy, april = _fiscal_year(m.group(1), int(m.group(2)))
            label = f"{m.group(1).capitalize()} {m.group(2)}"
            source = f"bundled {p.name}" if bundled else str(p)
            out.append((fy, april, label, _list_file(str(p)), source))
    return out


def icd10cm_code_sets(directory: Path | None = None) -> tuple[Icd10cmCodeSet, ...]:
    """Every release available, oldest first, with the date each starts answering for.

    ``directory`` defaults to the data directory (``CLAIMSCRUB_DATA_DIR``, if set).
    """
    return _code_sets(str(directory if directory is not None else data_dir() or ""))


@functools.cache
def _code_sets(directory: str) -> tuple[Icd10cmCodeSet, ...]:
    package = icd10cm_release()
    month, year = package.release.split()
    fy_pkg, april_pkg = _fiscal_year(month, int(year))
    found = {(fy, april): (label, codes, source) for fy, april, label, codes, source in [
        *_found(_BUNDLED_DIR, bundled=True),
        (fy_pkg, april_pkg, package.release, load_icd10cm(), package.source),
        *(_found(Path(directory), bundled=False) if directory else ()),
    ]}  # fmt: skip
    out = []
    for fy, april in sorted(found):
        label, codes, source = found[(fy, april)]
        has_october = (fy, False) in found
        starts = date(fy, 4, 1) if april and has_october else date(fy - 1, 10, 1)
        out.append(Icd10cmCodeSet(label, fy, april, starts, codes, source))
    return tuple(out)


def single_code_set(codes: Mapping[str, bool]) -> tuple[Icd10cmCodeSet, ...]:
    """One code map for every date (a pack loaded with an explicit ``icd10cm=`` mapping)."""
    return (Icd10cmCodeSet("given", 0, False, date.min, codes, "argument"),)


def code_set_on(sets: Sequence[Icd10cmCodeSet], on: date) -> Icd10cmCodeSet:
    """The release in force on ``on``: the latest that starts on or before it, else the earliest."""
    chosen = sets[0]
    for s in sets:
        if s.starts <= on:
            chosen = s
    return chosen
