"""The compiled-pack cache (``engine.packcache``) used by ``Scrubber.from_directories``.

* A second load of the same packs reads the entry (the compiler is not called) and scrubs the
  sample claims to the same edits as a fresh compile.
* A changed rule file, a changed table file (same size, same modification time: content is in the
  key), another data directory or another pack set misses.
* A corrupt, truncated or foreign entry is ignored and written again; ``off`` and ``cache=False``
  neither read nor write; a pack that does not compile raises every time and leaves no entry.
* ICD-10-CM code maps read back (``CodeMap``) equal the releases they were made from.
* Concurrent writers of one entry leave one readable entry and no temporary files.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from claims.model import Claim
from claims.sources import SAMPLES_DIR, iter_claims, walk_paths
from dsl import CompileError
from engine import packcache
from engine.batch import Interner
from engine.scrubber import Scrubber
from knowledge_packs import BUNDLED_DIR

PACKS = ("medicare", "general-professional", "prior-authorization")


@pytest.fixture
def packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Copies of three bundled packs (tables, ICD-10-CM built-ins) and a cache of their own."""
    monkeypatch.setenv("CLAIMSCRUB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CLAIMSCRUB_DATA_DIR", raising=False)
    out = []
    for name in PACKS:
        shutil.copytree(BUNDLED_DIR / name, tmp_path / name)
        out.append(tmp_path / name)
    return out


def _claims() -> list[Claim]:
    return [i.claim for p in walk_paths([SAMPLES_DIR]) for i in iter_claims(p) if i.claim]


def _edits(s: Scrubber) -> list[list[tuple[object, ...]]]:
    return [
        [(e.rule_id, e.pack, e.severity, e.message, e.field, e.value, e.lines) for e in edits]
        for edits in s.scrub(_claims(), explain=True)
    ]


def _entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "packs").glob("*.pickle"))


def test_hit_loads_without_compiling_and_scrubs_the_same(
    packs: list[Path], compiles: list[Path], tmp_path: Path
) -> None:
    first = Scrubber.from_directories(packs)
    assert compiles == packs and len(_entries(tmp_path)) == 1
    second = Scrubber.from_directories(packs)
    assert compiles == packs  # read from the entry: nothing compiled again
    assert list(second.packs) == list(first.packs)
    assert all(p.interner is second.interner for p in second.packs.values())
    assert [p.data.hash for p in second.packs.values()] == [
        p.data.hash for p in first.packs.values()
    ]
    expected = _edits(first)
    assert any(expected)  # the samples do get edits from these packs
    assert _edits(second) == expected


def test_changed_inputs_miss(
    packs: list[Path], compiles: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Scrubber.from_directories(packs)
    assert len(compiles) == 3
    # a rule file edited
    rules = sorted((packs[2] / "rules").glob("*.rules"))[0]
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    Scrubber.from_directories(packs)
    assert len(compiles) == 6
    # a table file with other content of the same size and modification time
    table = packs[0] / "tables" / "addon_codes.csv"
    st = table.stat()
    text = table.read_bytes()
    swapped = text.replace(b"1", b"7", 1)
    assert swapped != text and len(swapped) == len(text)
    table.write_bytes(swapped)
    os.utime(table, ns=(st.st_atime_ns, st.st_mtime_ns))
    Scrubber.from_directories(packs)
    assert len(compiles) == 9
    # another pack set, then another data directory
    Scrubber.from_directories(packs[:2])
    assert len(compiles) == 11
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("CLAIMSCRUB_DATA_DIR", str(data))
    Scrubber.from_directories(packs[:2])
    assert len(compiles) == 13
    # and nothing changed: a hit
    Scrubber.from_directories(packs[:2])
    assert len(compiles) == 13


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "other key"])
def test_broken_entry_is_ignored_and_rewritten(
    packs: list[Path], compiles: list[Path], tmp_path: Path, damage: str
) -> None:
    expected = _edits(Scrubber.from_directories(packs))
    (entry,) = _entries(tmp_path)
    blob = entry.read_bytes()
    if damage == "garbage":
        entry.write_bytes(b"not a pickle at all")
    elif damage == "truncated":
        entry.write_bytes(blob[: len(blob) // 2])
    elif damage == "empty":
        entry.write_bytes(b"")
    else:  # a whole entry written under another name
        other = blob.replace(entry.stem.encode(), b"0" * len(entry.stem), 1)
        entry.write_bytes(other)
    rebuilt = Scrubber.from_directories(packs)
    assert len(compiles) == 6
    assert _edits(rebuilt) == expected
    key = packcache.cache_key(packs)
    assert key is not None and entry.stem == key
    assert packcache.read(key) is not None  # written again, whole
    Scrubber.from_directories(packs)
    assert len(compiles) == 6


def test_cache_off(
    packs: list[Path], compiles: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMSCRUB_CACHE_DIR", "off")
    assert packcache.cache_key(packs) is None
    Scrubber.from_directories(packs)
    Scrubber.from_directories(packs)
    assert len(compiles) == 6


def test_cache_false_neither_reads_nor_writes(
    packs: list[Path], compiles: list[Path], tmp_path: Path
) -> None:
    Scrubber.from_directories(packs, cache=False)
    assert _entries(tmp_path) == []
    Scrubber.from_directories(packs)
    Scrubber.from_directories(packs, cache=False)
    assert len(compiles) == 9  # the entry written by the second load is not read by the third
    assert len(_entries(tmp_path)) == 1


def test_pack_that_does_not_compile_is_not_cached(packs: list[Path], tmp_path: Path) -> None:
    rules = sorted((packs[2] / "rules").glob("*.rules"))[0]
    rules.write_text("this is not a rule\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(CompileError):
            Scrubber.from_directories(packs)
    assert _entries(tmp_path) == []


def test_concurrent_writers(packs: list[Path], tmp_path: Path) -> None:
    made = Scrubber([], warm=False)  # any interner and packs will do
    key = packcache.cache_key(packs)
    assert key is not None
    threads = [
        threading.Thread(target=packcache.write, args=(key, made.interner, made.packs))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.name for p in (tmp_path / "cache" / "packs").iterdir()] == [f"{key}.pickle"]
    got = packcache.read(key)
    assert got is not None and got[1] == {}


def test_interner_pickles_with_the_same_ids() -> None:
    import pickle

    a = Interner()
    ids = [a.intern(s) for s in ["B", "A", "", "é1", "A"]]
    a.string_arrays()
    b = pickle.loads(pickle.dumps(a))
    assert [b.intern(s) for s in ["B", "A", "", "é1", "A"]] == ids
    assert b.intern("new") == len(a)
    assert b.string(ids[3]) == "é1"
    n = len(a) + 1
    assert b.string_arrays()[1][:n].tolist() == a.string_arrays()[1].tolist()


def test_code_maps_read_back_equal(packs: list[Path], compiles: list[Path]) -> None:
    first = Scrubber.from_directories(packs)
    second = Scrubber.from_directories(packs)
    assert len(compiles) == 3
    old, new = first.packs["general-professional"].data, second.packs["general-professional"].data
    assert len(new.icd_sets) == len(old.icd_sets) >= 2
    for a, b in zip(old.icd_sets, new.icd_sets, strict=True):
        assert isinstance(b.codes, packcache.CodeMap)  # made a dict on first use
        assert len(b.codes) == len(a.codes)
        assert dict(b.codes.items()) == dict(a.codes.items())
        code = next(iter(a.codes))
        assert code in b.codes and b.codes[code] == a.codes[code] == b.codes.get(code)
        assert b.codes.get("not a code") is None and "not a code" not in b.codes
    assert new.icd10cm is new.icd_sets[-1].codes  # still one object, as before the cache
    claims = _claims()
    assert second.scrub(claims, evaluator="reference") == first.scrub(claims, evaluator="reference")
    # a pack recompiled from the read-back data compiles to the same arrays
    again = Scrubber([new], warm=False).packs["general-professional"]
    base = Scrubber([old], warm=False).packs["general-professional"]
    assert all((x == y).all() for x, y in zip(again.I, base.I, strict=True))
