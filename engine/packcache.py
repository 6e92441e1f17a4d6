"""On-disk cache of compiled packs: a warm start skips parsing, loading and compiling the packs.

Why: before the first claim is scrubbed, every process start (the CLI, each spawned worker, each
API worker) parsed the rule text of every pack (which imports the Lark parser and the compiler
passes), loaded its tables and ICD-10-CM releases, and lowered each pack to kernel arrays:
0.5-1 s of a ~2 s start with the bundled packs.  The result of all that, the shared
:class:`~engine.batch.Interner` and the :class:`~engine.compiled.CompiledPack` of every pack, is
kept here as one pickle (one, so the interner and the code sets that the packs share stay shared),
and loaded again in ~0.1 s.

The key is a digest of everything the compiled packs are made from:

* the code that makes them: the source of every module of ``dsl`` and ``engine`` (and of
  ``claims.model``), the Python and NumPy versions, and this module's format tag;
* each pack directory as given (its path is in the rules' source spans) and the content of every
  file in it;
* the data directory (``CLAIMSCRUB_DATA_DIR``): its files and those of its per-pack
  subdirectories, which can replace a pack's tables or add ICD-10-CM releases;
* the ICD-10-CM code lists: the bundled releases and the ``simple-icd-10-cm`` package's list.

A directory may instead be keyed by a content identifier the caller gives (a store version's
content hash: ``cache_key(paths, content)``, ADR 0011), and packs already loaded in memory by
their ``PackData.hash`` (:func:`data_key`; the entry then leaves their ``PackData`` out).

Files are keyed by content, except those of at least ``engine.tables.CACHE_MIN_BYTES`` (a
quarterly CMS file runs to 100+ MB, hashing it would cost more than the cache saves): these by
path, size and modification time, as the table cache keys them.

Conventions are the table cache's (``engine.tables``): the directory is
``engine.tables.cache_dir()`` (``CLAIMSCRUB_CACHE_DIR``; ``off`` disables), here its ``packs``
subdirectory.  Any error reading an entry (missing, truncated, foreign, from another version) is a
miss; any error writing one is ignored.  Entries are written to a temporary file and renamed into
place, so concurrent writers and readers never see a partial entry.
"""

from __future__ import annotations

import contextlib
import copyreg
import functools
import gc
import hashlib
import io
import os
import pickle
import sys
import threading
from collections.abc import (
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    Sequence,
    ValuesView,
)
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from engine.batch import Interner
    from engine.compiled import CompiledPack
    from engine.pack import PackData

__all__ = ["cache_key", "data_key", "read", "write"]

_FORMAT: Final = b"claimscrub-compiled-packs-1\n"
# Entries kept: the newest, then newer ones first while both limits hold.  One entry per pack set
# (``from_directories``, ``scrub --database``), per stored version (the API: one each, ~0.02-5 MB
# for the bundled packs) and per in-memory pack set: tens of MB each with CMS tables.
KEEP: Final = 16
KEEP_BYTES: Final = 512 * 1024 * 1024

# Sources the compiled packs depend on, relative to the repository root.
_CODE_DIRS: Final = ("dsl", "engine")
_CODE_FILES: Final = ("claims/model.py",)
_ROOT: Final = Path(__file__).resolve().parent.parent


def _directory() -> Path | None:
    from engine.tables import cache_dir

    base = cache_dir()
    return None if base is None else base / "packs"


def _file_digest(h: Any, path: Path, label: str) -> None:
    """Add ``path`` to ``h``: its content, or for a large file its size and modification time."""
    from engine.tables import CACHE_MIN_BYTES

    st = path.stat()
    h.update(f"{label}\0{st.st_size}\0".encode())
    if st.st_size >= CACHE_MIN_BYTES:
        h.update(f"{path.resolve()}\0{st.st_mtime_ns}\0".encode())
    else:
        h.update(hashlib.sha256(path.read_bytes()).digest())


def _tree(h: Any, root: Path, *, recursive: bool) -> None:
    """Every file under ``root`` (sorted; bytecode caches skipped) into ``h``."""
    if not root.is_dir():
        h.update(b"-\0")
        return
    found = root.rglob("*") if recursive else root.iterdir()
    for p in sorted(found):
        if "__pycache__" in p.parts or not p.is_file():
            continue
        _file_digest(h, p, p.relative_to(root).as_posix())


@functools.cache
def _code_digest() -> bytes:
    """The source of the code that makes compiled packs, and the versions their arrays rely on."""
    import numpy as np

    h = hashlib.sha256(_FORMAT)
    h.update(f"{sys.version}\0{np.__version__}\0".encode())
    for d in _CODE_DIRS:
        for p in sorted((_ROOT / d).glob("*")):
            if p.suffix in (".py", ".lark") and p.is_file():
                _file_digest(h, p, f"{d}/{p.name}")
    for f in _CODE_FILES:
        _file_digest(h, _ROOT / f, f)
    return h.digest()


def cache_key(paths: Sequence[Path], content: Sequence[str | None] | None = None) -> str | None:
    """The entry name for compiling the packs in ``paths`` now (None: caching off or unsure).

    ``content[i]``, when given and not None, identifies the files of ``paths[i]`` (a store
    version exported there: its content hash): that directory is keyed by it and by its name (the
    data directory's per-pack subdirectory is looked up by name), not by its path and files, so a
    later export to another temporary directory finds the entry.  (Its rules' source spans keep
    the path of the first export.)

    Unsure means an input could not be read (a missing pack, an unset-able data directory): the
    caller compiles, and reports the error the way it always does.
    """
    if _directory() is None:
        return None
    from engine.refdata import data_dir

    try:
        h = hashlib.sha256(_code_digest())
        data = data_dir()
        _data_digest(h, data)
        for i, p in enumerate(paths):
            given = content[i] if content is not None else None
            if given is not None:
                h.update(f"content\0{given}\0{p.name}\0".encode())
            else:
                h.update(f"pack\0{p}\0{p.resolve()}\0".encode())
                _tree(h, p, recursive=True)
            if data is not None:
                h.update(b"pack data\0")
                _tree(h, data / p.name, recursive=False)
        _icd_digest(h)
    except (OSError, ValueError):
        return None
    return h.hexdigest()


def data_key(packs: Sequence[PackData]) -> str | None:
    """The entry name for compiling the loaded ``packs`` (in order, into one new interner).

    Keyed by each pack's :attr:`~engine.pack.PackData.hash` (a digest of its rules, its loaded
    tables' arrays and its ICD-10-CM code sets: everything ``engine.compiled`` reads), name and
    version, and by the code.  None when caching is off or a pack has no hash (built by hand).
    """
    if _directory() is None or not all(p.hash for p in packs):
        return None
    h = hashlib.sha256(_code_digest())
    h.update(b"loaded packs\0")
    for p in packs:
        h.update(f"{p.hash}\0{p.name}\0{p.version}\0".encode())
    return h.hexdigest()


def _data_digest(h: Any, data: Path | None) -> None:
    """The data directory (``CLAIMSCRUB_DATA_DIR``): its path and top-level files."""
    h.update(f"data\0{data.resolve() if data is not None else ''}\0".encode())
    if data is not None:
        _tree(h, data, recursive=False)


def _icd_digest(h: Any) -> None:
    """The ICD-10-CM code lists: the bundled releases and the ``simple-icd-10-cm`` package's."""
    from engine.icd10cm import _BUNDLED_DIR
    from engine.refdata import _package_data_dir

    h.update(b"icd bundled\0")
    _tree(h, _BUNDLED_DIR, recursive=False)
    h.update(b"icd package\0")
    with contextlib.suppress(Exception):  # not installed: packs using ICD-10-CM will say so
        for p in sorted(_package_data_dir().glob("code-list-*")):
            _file_digest(h, p, p.name)


def _proxy(mapping: dict[str, bool]) -> Mapping[str, bool]:
    """Rebuild a read-only mapping (``MappingProxyType`` itself cannot be pickled)."""
    return MappingProxyType(mapping)


class CodeMap(Mapping[str, bool]):
    """A read-only code → flag map kept as one text and one byte string, made a dict on first use.

    Why: each ICD-10-CM release in a pack is a map of ~98,000 codes.  Kernels never read it (they
    read the interned id arrays of the compiled pack), only the reference evaluator and a
    recompile do, yet unpickling it as a dict cost ~30 ms a release at every start.
    """

    __slots__ = ("_flags", "_keys", "_map")

    def __init__(self, keys: str, flags: bytes) -> None:
        self._keys, self._flags = keys, flags
        self._map: dict[str, bool] | None = None

    def _codes(self) -> dict[str, bool]:
        m = self._map
        if m is None:  # two threads may both build it: the same dict, the last one kept
            m = self._map = dict(zip(self._keys.split("\n"), map(bool, self._flags), strict=True))
        return m

    def __getitem__(self, code: str) -> bool:
        return self._codes()[code]

    def __contains__(self, code: object) -> bool:
        return code in self._codes()

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes())

    def __len__(self) -> int:
        return len(self._flags)

    # get and the views answer from the dict (the Mapping defaults look up every code)
    def get(self, code: str, default: Any = None) -> Any:
        return self._codes().get(code, default)

    def keys(self) -> KeysView[str]:
        return self._codes().keys()

    def values(self) -> ValuesView[bool]:
        return self._codes().values()

    def items(self) -> ItemsView[str, bool]:
        return self._codes().items()

    def __reduce__(self) -> tuple[Any, tuple[str, bytes]]:
        return CodeMap, (self._keys, self._flags)


def _reduce_proxy(m: Mapping[str, bool]) -> tuple[Any, tuple[Any, ...]]:
    codes = dict(m)
    if len(codes) >= 1000 and all(
        type(k) is str and "\n" not in k and type(v) is bool for k, v in codes.items()
    ):
        return CodeMap, ("\n".join(codes), bytes(map(int, codes.values())))
    return _proxy, (codes,)


_DISPATCH: Final = {**copyreg.dispatch_table, MappingProxyType: _reduce_proxy}


class _Pickler(pickle.Pickler):
    """Pickles packs with the given :class:`PackData` objects by position, not by value.

    (A Python ``persistent_id`` is called for every object pickled: used only with ``external``.)
    """

    def __init__(self, fh: Any, external: Sequence[object]) -> None:
        super().__init__(fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.dispatch_table = _DISPATCH
        self._external = {id(x): i for i, x in enumerate(external)}

    def persistent_id(self, obj: Any) -> int | None:
        return self._external.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, fh: Any, external: Sequence[object]) -> None:
        super().__init__(fh)
        self._external = external

    def persistent_load(self, pid: Any) -> object:
        if type(pid) is not int or not 0 <= pid < len(self._external):
            raise pickle.UnpicklingError("unknown persistent id")
        return self._external[pid]


def read(
    key: str, external: Sequence[PackData] = ()
) -> tuple[Interner, dict[str, CompiledPack]] | None:
    """The interner and compiled packs kept under ``key``, or None (any problem is a miss).

    ``external``: the packs' :class:`PackData`, in order, when they were written with them (the
    caller holds them already: they are not in the entry, the read packs hold these objects).
    """
    from engine.batch import Interner
    from engine.compiled import CompiledPack

    directory = _directory()
    if directory is None:
        return None
    enabled = gc.isenabled()
    gc.disable()  # unpickling creates ~200,000 objects, none in cycles: no collections meanwhile
    try:
        with (directory / f"{key}.pickle").open("rb") as fh:
            if fh.read(len(_FORMAT)) != _FORMAT or fh.read(len(key)).decode() != key:
                return None
            got = _Unpickler(fh, external).load()
    except Exception:  # missing, truncated, foreign or from other code: compile instead
        return None
    finally:
        if enabled:
            gc.enable()
    if not (isinstance(got, tuple) and len(got) == 2):
        return None
    interner, packs = got
    if not isinstance(interner, Interner) or not isinstance(packs, dict):
        return None
    if not all(isinstance(p, CompiledPack) and p.interner is interner for p in packs.values()):
        return None
    if external and [id(p.data) for p in packs.values()] != [id(d) for d in external]:
        return None
    return interner, packs


def write(
    key: str,
    interner: Interner,
    packs: Mapping[str, CompiledPack],
    external: Sequence[PackData] = (),
) -> None:
    """Keep the compiled packs under ``key`` (best effort: an error leaves no entry behind).

    ``external``: :class:`PackData` objects kept out of the entry (the reader passes them to
    :func:`read`): in-memory packs whose data the caller has loaded anyway.
    """
    directory = _directory()
    if directory is None:
        return
    target = directory / f"{key}.pickle"
    tmp = directory / f".{key}.{os.getpid()}.{threading.get_ident()}.{os.urandom(4).hex()}.tmp"
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        buf = io.BytesIO()
        if external:
            pickler: pickle.Pickler = _Pickler(buf, external)
        else:
            pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.dispatch_table = _DISPATCH
        pickler.dump((interner, dict(packs)))
        with tmp.open("wb") as fh:
            fh.write(_FORMAT + key.encode())
            fh.write(buf.getbuffer())
        os.replace(tmp, target)  # atomic: a concurrent reader sees the old entry or the new one
        _prune(directory.glob("*.pickle"))
    except Exception:  # unpicklable (a pack given objects from elsewhere), disk full, read-only
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _prune(entries: Iterable[Path]) -> None:
    """Keep the most recently written entries: at most KEEP, at most KEEP_BYTES (but the newest)."""
    dated = []
    for p in entries:
        with contextlib.suppress(OSError):
            st = p.stat()
            dated.append((st.st_mtime_ns, st.st_size, p))
    dated.sort(reverse=True)
    total = 0
    for n, (_, size, p) in enumerate(dated):
        total += size
        if n and (n >= KEEP or total > KEEP_BYTES):
            with contextlib.suppress(OSError):
                p.unlink(missing_ok=True)
