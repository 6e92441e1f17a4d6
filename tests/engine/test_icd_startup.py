"""Start-up work for the ICD-10-CM built-ins, made cheaper without changing a result.

* ``refdata.load_icd10cm_code_list_text`` (one regex pass) and ``_billable_map`` (sorted
  neighbours) give exactly the mapping of the line-by-line parse with the prefix set.
* Parsed code lists are kept in the code-set cache (``CLAIMSCRUB_CACHE_DIR``/icd10cm): a hit is
  the parsed mapping, a changed file is parsed again, a broken entry falls back to parsing.
* ``Interner.intern_many`` gives the ids ``intern`` gives; ``string_arrays`` the UTF-8 bytes.
* ``compiled._icd_arrays`` computes the release arrays once per interner and code sets.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.compile import compile_source
from engine import compiled, refdata
from engine.batch import Interner
from engine.icd10cm import _BUNDLED_DIR, icd10cm_code_sets
from engine.pack import PackData
from engine.values import MISS, date_to_days


def _reference_parse(lines: Iterable[str]) -> dict[str, bool]:
    """The parse as it was before the fast path (line by line, every prefix in a set)."""
    codes: list[str] = []
    for line in lines:
        token = line.split(maxsplit=1)[0] if line.strip() else ""
        code = token.replace(".", "").upper()
        if refdata._ICD10CM_CODE.match(code):
            codes.append(code)
    parents = {c[:n] for c in codes for n in range(3, len(c))}
    return {c: c not in parents for c in codes}


def _items(m: object) -> list[tuple[str, bool]]:
    assert isinstance(m, dict)
    return list(m.items())


# --- parsing -------------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    ["A00", "A000", "A0001", "A00.01", "a00.1", "B2", "B20", "B201", "S0000XA", "S0000X", "S00",
     "S00.00XA", "Z99", "Z9989", "A00-A09", "1", "22", "E11A", "E11", "X", "", " ", "\t", ".",
     "-", "É11", "e11a9", "A00 cholera", "  A001  x", "\r", "\x0b", "\x1c", "A0\u00a01"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=3).map("".join), max_size=40))
def test_text_parse_matches_the_line_parse(lines: list[str]) -> None:
    text = "\n".join(lines)
    want = _reference_parse(io.StringIO(text))  # iterating a text stream splits on "\n" only
    assert _items(refdata.load_icd10cm_code_list_text(text)) == _items(want)
    assert _items(refdata.load_icd10cm_code_list(io.StringIO(text))) == _items(want)


def test_plain_text_takes_the_regex_path_with_the_same_result() -> None:
    text = "1\nA00-A09\nA00\nA000\nA01\nA0100\nA0101\nA02\n\nS0000XA\nS00\nA00\nZ\n"
    assert refdata._PLAIN_LIST.search(text) is None
    got = refdata.load_icd10cm_code_list_text(text)
    assert _items(got) == _items(_reference_parse(text.split("\n")))
    assert got == {"A00": False, "A000": True, "A01": False, "A0100": True, "A0101": True,
                   "A02": True, "S0000XA": True, "S00": False}  # fmt: skip


@pytest.mark.parametrize("which", ["package", "bundled"])
def test_real_code_lists_parse_as_before(which: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMSCRUB_CACHE_DIR", "off")
    if which == "package":
        path = refdata.icd10cm_release().file
        with path.open(encoding="utf-8") as fh:
            want = _reference_parse(fh)
    else:
        path = _BUNDLED_DIR / "code-list-April-2025.txt.gz"
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            want = _reference_parse(fh)
    got = refdata.read_icd10cm_code_list(path)
    assert len(got) > 90_000
    assert _items(got) == _items(want)


# --- the code-set cache --------------------------------------------------------------------------


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "icd10cm").glob("*.pickle"))


def _write_list(path: Path, codes: list[str]) -> None:
    path.write_text("".join(f"{c}\n" for c in codes), encoding="utf-8")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("CLAIMSCRUB_CACHE_DIR", str(d))
    return d


def _no_parse(p: Path) -> dict[str, bool]:
    raise AssertionError(f"parsed {p.name}: expected a cache hit")


def test_a_hit_is_the_parsed_mapping(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "code-list-October-2030.txt"
    _write_list(src, ["B99", "A00", "A001", "A000", "C00", "C000X", "C000XA"])
    parsed = refdata.read_icd10cm_code_list(src)
    assert len(_entries(cache)) == 1
    monkeypatch.setattr(refdata, "_parse_code_list_file", _no_parse)
    hit = refdata.read_icd10cm_code_list(src)
    assert _items(hit) == _items(parsed)  # same codes, same values, same order
    assert hit is not parsed  # a fresh dict: the caller may keep or change it
    assert all(type(k) is str and type(v) is bool for k, v in hit.items())


def test_a_changed_file_is_parsed_again(tmp_path: Path, cache: Path) -> None:
    src = tmp_path / "code-list-April-2031.txt"
    _write_list(src, ["A00", "A001"])
    assert refdata.read_icd10cm_code_list(src) == {"A00": False, "A001": True}
    st0 = src.stat()
    _write_list(src, ["A00", "A001", "A0011"])  # other size
    os.utime(src, ns=(st0.st_atime_ns, st0.st_mtime_ns + 1_000_000_000))
    assert refdata.read_icd10cm_code_list(src) == {"A00": False, "A001": False, "A0011": True}
    _write_list(src, ["B00", "B001", "B0011"])  # same size, later modification time
    os.utime(src, ns=(st0.st_atime_ns, st0.st_mtime_ns + 2_000_000_000))
    assert refdata.read_icd10cm_code_list(src) == {"B00": False, "B001": False, "B0011": True}


@pytest.mark.parametrize(
    "damage",
    [
        b"",  # empty
        b"not a pickle at all",
        pickle.dumps({"Z00": True})[:-3],  # truncated
        pickle.dumps({"Z00": True}),  # a pickle of another shape
        pickle.dumps((("claimscrub-icd10cm-cache-1", "code-list", "/elsewhere", 1, 1), {})),
    ],
)
def test_a_broken_or_foreign_entry_falls_back_to_parsing(
    damage: bytes, tmp_path: Path, cache: Path
) -> None:
    src = tmp_path / "code-list-April-2032.txt"
    _write_list(src, ["A00", "A001", "A002"])
    want = refdata.read_icd10cm_code_list(src)
    (entry,) = _entries(cache)
    entry.write_bytes(damage)
    assert _items(refdata.read_icd10cm_code_list(src)) == _items(want)
    with entry.open("rb") as fh:  # the entry is written again, whole
        assert pickle.load(fh)[1] == want


def test_cache_off_or_unwritable(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "code-list-April-2033.txt"
    _write_list(src, ["A00", "A001"])
    monkeypatch.setenv("CLAIMSCRUB_CACHE_DIR", "off")
    assert refdata.read_icd10cm_code_list(src) == {"A00": False, "A001": True}
    assert not cache.exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("CLAIMSCRUB_CACHE_DIR", str(blocker))  # not a directory: cannot write
    assert refdata.read_icd10cm_code_list(src) == {"A00": False, "A001": True}


def test_order_files_are_cached_too(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "icd10cm_order_2099.txt"
    rows = [("A00", "0"), ("A000", "1"), ("A001", "1")]
    src.write_text(
        "".join(f"{n:05d} {c:<7} {h} {'short':<60} long\n" for n, (c, h) in enumerate(rows, 1))
    )
    want = refdata.load_icd10cm_order_file(src)
    assert refdata._cached_parse(src, "order-or-codes", refdata._parse_icd10cm_file) == want
    hit = refdata._cached_parse(src, "order-or-codes", _no_parse)
    assert _items(hit) == _items(want) == [("A00", False), ("A000", True), ("A001", True)]
    # the kind is part of the key: a code-list read of the same file does not take this entry
    with pytest.raises(AssertionError, match="expected a cache hit"):
        refdata._cached_parse(src, "code-list", _no_parse)


# --- the interner --------------------------------------------------------------------------------


def test_intern_many_gives_the_ids_intern_gives() -> None:
    one, many = Interner(), Interner()
    for s in ["B", "A"]:
        one.intern(s)
    many.intern_many(["B", "A"])
    batch = ["C", "A", "", "D", "C", "É", "B"]
    want = [one.intern(s) for s in batch]
    got = many.intern_many(batch)
    assert got.dtype == np.int64 and got.tolist() == want == [3, 2, 0, 4, 3, 5, 1]
    assert [many.string(i) for i in got.tolist()] == batch
    assert len(many) == len(one) == 6
    assert many.intern_many([]).tolist() == []
    assert many.intern_many(["A", "F"]).tolist() == [2, 6]
    assert many.intern("F") == 6 and many.intern("G") == 7


@pytest.mark.parametrize("extra", [["x9", "Y10"], ["Ünïcode", "日本", "a"]])
def test_string_arrays_are_the_utf8_bytes(extra: list[str]) -> None:
    it = Interner()
    it.intern_many(["A00", "B"])
    it.string_arrays()  # extended incrementally from here
    it.intern_many(extra)
    buf, off = it.string_arrays()
    assert off.tolist()[0] == 0 and len(off) == len(it) + 1
    for i in range(len(it)):
        assert bytes(buf[off[i] : off[i + 1]]) == it.string(i).encode("utf-8")


# --- the kernel's ICD arrays -------------------------------------------------------------------

RULES = """
pack icd{n} {{ version "1" }}
rule ICD{n}-1 "invalid" {{ category invalid-diagnosis severity error
  scope diagnosis
  when not icd10cm_valid(dx.code, claim.first_service_date)
  message "{{dx.code}}" }}
"""


def _reference_arrays(sets: tuple[object, ...]) -> list[list[str]]:
    """Per release: its valid codes and its billable codes, as the strings the ids stand for."""
    out = []
    for code_set in sets:
        codes = code_set.codes  # type: ignore[attr-defined]
        out.append(sorted(codes))
        out.append(sorted(c for c, billable in codes.items() if billable))
    return out


def _as_strings(arrays: tuple[np.ndarray, ...], interner: Interner) -> list[list[str]]:
    valid, billable, env = arrays
    n = int(env[2])
    voff, boff = env[3 + n : 4 + 2 * n], env[4 + 2 * n : 5 + 3 * n]
    assert len(boff) == n + 1 and int(boff[-1]) == len(billable) and int(voff[-1]) == len(valid)
    out = []
    for r in range(n):
        for ids, off in ((valid, voff), (billable, boff)):
            part = ids[off[r] : off[r + 1]]
            assert (np.diff(part) > 0).all() and MISS not in part.tolist()
            out.append(sorted(interner.string(int(i)) for i in part))
    return out


def test_icd_arrays_are_shared_by_packs_of_one_interner() -> None:
    packs = [PackData.load(compile_source(RULES.format(n=n), file=f"{n}.rules")) for n in (1, 2)]
    assert packs[0].icd_sets is packs[1].icd_sets == icd10cm_code_sets()
    interner = Interner()
    interner.intern_many(["99213", "A00"])  # ids already taken by other strings
    first = compiled._icd_arrays(packs[0], interner)
    second = compiled._icd_arrays(packs[1], interner)
    assert first[0] is second[0] and first[1] is second[1]
    assert first[2] is not second[2] and first[2].tolist() == second[2].tolist()
    second[2][1] = 12345  # the processing date, written per call: each pack has its own
    assert first[2][1] == MISS
    assert compiled._icd_arrays(packs[0], interner)[2][1] == MISS
    assert _as_strings(first, interner) == _reference_arrays(packs[0].icd_sets)
    env = first[2]
    n = int(env[2])
    assert n == len(packs[0].icd_sets) >= 2
    assert env[3 : 3 + n].tolist() == [
        date_to_days(max(s.starts, date(1, 1, 1))) for s in packs[0].icd_sets
    ]

    other = Interner()  # another interner: its own ids, not the cached ones
    third = compiled._icd_arrays(packs[0], other)
    assert third[0] is not first[0]
    assert _as_strings(third, other) == _as_strings(first, interner)


def test_an_explicit_mapping_is_not_mixed_up_with_the_releases() -> None:
    rules = compile_source(RULES.format(n=3), file="3.rules")
    interner = Interner()
    default = compiled._icd_arrays(PackData.load(rules), interner)
    given = PackData.load(rules, icd10cm={"A00": False, "A001": True})
    arrays = compiled._icd_arrays(given, interner)
    assert _as_strings(arrays, interner) == [["A00", "A001"], ["A001"]]
    assert len(default[0]) > 100_000
