"""Compiled packs cached by content (``engine.packcache``), not by the directory they came from.

* ``Scrubber(packs, cache=True)``: keyed by the loaded packs' content hashes (rules, table arrays,
  ICD-10-CM sets); a fresh scrubber (and a second process) loads the entry without compiling, its
  packs hold the caller's ``PackData``, and scrubs to the same edits as without the cache.  A
  changed table row, rule or name gives another key; a corrupt entry is compiled again.
* Store versions: ``api.routes.runtime.compile_version`` is keyed by the version's content hash:
  a second call (another process, the same content) does not compile; an edited draft misses.
* ``scrub --database``: the exported versions are keyed by content hash, not by their temporary
  directory: a second run compiles nothing and prints the same output as a run without cache.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import dsl.compile
import engine.compiled
from api.cli import main
from api.routes.runtime import compile_version
from claims.model import Claim
from claims.sources import SAMPLES_DIR, iter_claims, walk_paths
from engine import packcache
from engine.pack import PackData, content_hash
from engine.scrubber import Scrubber
from knowledge_packs import BUNDLED_DIR
from store import Actor, import_pack, make_engine, make_sessionmaker
from store.db import upgrade
from store.service import set_file

PACKS = ("medicare", "general-professional")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLAIMSCRUB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CLAIMSCRUB_DATA_DIR", raising=False)
    return tmp_path / "cache" / "packs"


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Packs lowered to kernel arrays (calls to ``engine.compiled._build``)."""
    calls: list[str] = []
    real = engine.compiled._build

    def counting(pack: PackData, interner: object) -> object:
        calls.append(pack.name)
        return real(pack, interner)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.compiled, "_build", counting)
    monkeypatch.setattr(engine.compiled, "_CACHE", {})  # no in-process reuse either
    return calls


def _loaded() -> list[PackData]:
    return [
        PackData.load(dsl.compile.compile_pack(BUNDLED_DIR / n), BUNDLED_DIR / n) for n in PACKS
    ]


def _claims() -> list[Claim]:
    return [i.claim for p in walk_paths([SAMPLES_DIR]) for i in iter_claims(p) if i.claim]


def _edits(s: Scrubber) -> list[list[tuple[object, ...]]]:
    return [
        [
            (e.rule_id, e.pack, e.pack_version, e.severity, e.message, e.field, e.value, e.lines)
            for e in edits
        ]
        for edits in s.scrub(_claims(), explain=True)
    ]


# --- in-memory packs: Scrubber(packs, cache=True) ----------------------------------------------


def test_loaded_packs_hit_without_compiling_and_scrub_the_same(
    cache: Path, builds: list[str]
) -> None:
    packs = _loaded()
    plain = Scrubber(packs)
    assert builds == list(PACKS) and not cache.exists()  # opt-in: no entry written
    first = Scrubber(packs, cache=True)
    assert builds == list(PACKS) * 2 and len(list(cache.glob("*.pickle"))) == 1
    fresh = _loaded()  # new objects, same content
    second = Scrubber(fresh, cache=True)
    assert builds == list(PACKS) * 2  # read from the entry: nothing lowered again
    assert all(second.packs[d.name].data is d for d in fresh)  # the caller's PackData
    assert all(p.interner is second.interner for p in second.packs.values())
    assert second.interner is not first.interner
    expected = _edits(plain)
    assert any(expected)
    assert _edits(first) == expected
    assert _edits(second) == expected


def test_a_changed_table_rule_or_name_gives_another_key(cache: Path) -> None:
    packs = _loaded()
    key = packcache.data_key(packs)
    assert key is not None and packcache.data_key(_loaded()) == key
    med = packs[0]
    table = med.tables[0]
    col = table.keys[0]
    ids = col.ids.copy()
    ids[[0, 1]] = ids[[1, 0]]  # two rows' keys swapped: same vocabulary, same sizes
    assert not np.array_equal(ids, col.ids)
    changed_col = dataclasses.replace(col, ids=ids)
    changed_table = dataclasses.replace(table, keys=(changed_col, *table.keys[1:]))
    tables = (changed_table, *med.tables[1:])
    changed = dataclasses.replace(
        med, tables=tables, hash=content_hash(med.rules, tables, med.icd10cm, med.icd10cm_sets)
    )
    assert packcache.data_key([changed, packs[1]]) not in (None, key)
    rules = dataclasses.replace(med.rules, rules=med.rules.rules[1:])
    fewer = PackData.load(rules, BUNDLED_DIR / "medicare")
    assert packcache.data_key([fewer, packs[1]]) not in (None, key)
    renamed = PackData.load(med.rules, BUNDLED_DIR / "medicare", name="other")
    assert packcache.data_key([renamed, packs[1]]) not in (None, key)
    assert packcache.data_key(packs[::-1]) != key  # order: the interner's ids differ
    assert packcache.data_key([dataclasses.replace(med, hash="")]) is None  # built by hand


def test_corrupt_entry_is_compiled_again(cache: Path, builds: list[str]) -> None:
    packs = _loaded()
    expected = _edits(Scrubber(packs, cache=True))
    [entry] = cache.glob("*.pickle")
    for damage in (entry.read_bytes()[:5000], b"not a pickle", b""):
        entry.write_bytes(damage)
        n = len(builds)
        again = Scrubber(packs, cache=True)
        assert len(builds) == n + len(PACKS)  # compiled, not read
        assert _edits(again) == expected
    assert Scrubber(packs, cache=True) and len(builds) == n + len(PACKS)  # rewritten: a hit
    # an entry written with other packs' data (another key's file under this name) is refused
    other = _loaded()
    assert packcache.read(entry.stem, other[:1]) is None


def test_unwritable_cache_directory_still_scrubs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("CLAIMSCRUB_CACHE_DIR", str(blocker))  # not a directory: cannot write
    packs = _loaded()
    assert _edits(Scrubber(packs, cache=True)) == _edits(Scrubber(packs))


_CHILD = """
import sys
sys.path.insert(0, {root!r})
import engine.compiled
from dsl.compile import compile_pack
from engine.pack import PackData
from engine.scrubber import Scrubber
from knowledge_packs import BUNDLED_DIR
packs = [PackData.load(compile_pack(BUNDLED_DIR / n), BUNDLED_DIR / n) for n in {packs!r}]
calls = []
real = engine.compiled._build
engine.compiled._build = lambda p, i: calls.append(p.name) or real(p, i)
s = Scrubber(packs, cache=True)
print(len(calls), len(s.scrub([])))
"""


def test_a_second_process_loads_the_entry(tmp_path: Path) -> None:
    env = {**os.environ, "CLAIMSCRUB_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("CLAIMSCRUB_DATA_DIR", None)
    script = _CHILD.format(root=str(REPO), packs=PACKS)

    def run() -> str:
        return subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()

    assert run() == f"{len(PACKS)} 0"  # compiled and written
    entry = next((tmp_path / "cache" / "packs").glob("*.pickle"))
    mtime = entry.stat().st_mtime_ns
    assert run() == "0 0"  # read: nothing lowered
    assert entry.stat().st_mtime_ns == mtime  # and not written again


# --- store versions ----------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> object:
    engine_ = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine_)
    yield make_sessionmaker(engine_)
    engine_.dispose()


def test_store_version_is_keyed_by_its_content_hash(
    cache: Path, store: object, compiles: list[Path], builds: list[str]
) -> None:
    factory = store  # a sessionmaker
    with factory.begin() as s:  # type: ignore[attr-defined]
        vid = import_pack(s, BUNDLED_DIR / "medicare", by=Actor("t")).id
    with factory() as s:  # type: ignore[operator]
        first = compile_version(s, vid)
    assert len(compiles) == 1 and compiles[0].name == "medicare"  # a temp dir named after the pack
    with factory() as s:  # type: ignore[operator]
        second = compile_version(s, vid)  # as a new process would: nothing in memory reused
    assert len(compiles) == 1 and builds == ["medicare"]
    assert second is not first and second.interner is not first.interner
    assert [(p.name, p.version, p.data.hash) for p in second.packs.values()] == [
        (p.name, p.version, p.data.hash) for p in first.packs.values()
    ]
    assert _edits(second) == _edits(first)
    # the same content compiled without the cache scrubs the same
    plain = Scrubber(
        [
            PackData.load(
                dsl.compile.compile_pack(BUNDLED_DIR / "medicare"), BUNDLED_DIR / "medicare"
            )
        ]
    )
    assert _edits(second) == _edits(plain)
    # an edited draft (another content hash) misses
    with factory.begin() as s:  # type: ignore[attr-defined]
        set_file(s, "medicare", "docs/extra.md", "# extra\n", by=Actor("t"), compiler=None)
    with factory() as s:  # type: ignore[operator]
        compile_version(s, vid)
    assert len(compiles) == 3  # the plain one above, then the edited draft
    # a corrupt entry: compiled again
    for entry in cache.glob("*.pickle"):
        entry.write_bytes(b"\x80\x05garbage")
    with factory() as s:  # type: ignore[operator]
        assert _edits(compile_version(s, vid)) == _edits(first)
    assert len(compiles) == 4


def test_stored_key_ignores_the_export_path_not_the_name_or_hash(
    cache: Path, tmp_path: Path
) -> None:
    a = packcache.cache_key([tmp_path / "x" / "1-medicare"], ["h1"])
    assert a is not None
    assert packcache.cache_key([tmp_path / "y" / "1-medicare"], ["h1"]) == a
    assert packcache.cache_key([tmp_path / "x" / "1-medicare"], ["h2"]) != a
    assert packcache.cache_key([tmp_path / "x" / "2-medicare"], ["h1"]) != a  # data subdir name


def test_scrub_database_second_run_compiles_nothing(
    cache: Path, tmp_path: Path, compiles: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert runner.invoke(main, ["store", "--database", url, "init"]).exit_code == 0
    args = ["scrub", "--database", url, "--format", "json", "--fail-on", "never", "--explain"]
    n = len(compiles)
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert len(compiles) > n
    n = len(compiles)
    second = runner.invoke(main, args)
    assert second.exit_code == 0 and len(compiles) == n  # loaded from the entry
    assert second.stdout == first.stdout and json.loads(first.stdout)
    monkeypatch.setenv("CLAIMSCRUB_CACHE_DIR", "off")
    assert runner.invoke(main, args).stdout == first.stdout


def test_prune_keeps_the_newest_within_count_and_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = []
    for i in range(6):
        p = tmp_path / f"{i}.pickle"
        p.write_bytes(b"x" * 100)
        os.utime(p, ns=(i * 10**9, i * 10**9))
        made.append(p)
    monkeypatch.setattr(packcache, "KEEP", 4)
    monkeypatch.setattr(packcache, "KEEP_BYTES", 10_000)
    packcache._prune(made)
    assert sorted(p.name for p in tmp_path.glob("*.pickle")) == [
        f"{i}.pickle" for i in (2, 3, 4, 5)
    ]
    monkeypatch.setattr(packcache, "KEEP_BYTES", 250)
    packcache._prune(tmp_path.glob("*.pickle"))
    assert sorted(p.name for p in tmp_path.glob("*.pickle")) == ["4.pickle", "5.pickle"]
    monkeypatch.setattr(packcache, "KEEP_BYTES", 10)
    packcache._prune(tmp_path.glob("*.pickle"))
    assert [p.name for p in tmp_path.glob("*.pickle")] == ["5.pickle"]  # the newest stays
