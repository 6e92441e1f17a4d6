"""What the scrub routes run on: compiled packs kept warm per process, keyed by content hash.

* The store's environment pointers (``production`` by default: pack → version) are re-read at most
  once per ``Settings.pack_refresh_interval`` seconds with one small query, so a version promoted
  with ``claimscrub store promote`` (or the API) is scrubbed with by every worker within about a
  second, without a restart.  The re-read is done ahead, off the request: a request that finds the
  pointers older than half the interval starts one background read and goes on with the cached
  ones; only pointers older than the whole interval make a request wait for the store (idle
  workers, tests with a fake clock).  On SQLite every store transaction takes the write lock
  (``store.db``), so a read in the request would queue behind other workers' commits.
* A version is compiled once per process: its files are written to a temporary directory, compiled
  with ``dsl.compile.compile_pack`` and loaded into a :class:`engine.Scrubber` (tables included),
  which warms the kernels.  The cache key is the version's content hash, so a rollback to known
  content costs nothing; versions no pointer uses any more are evicted beyond ``_KEEP`` entries.
  Across processes, the compiled version is kept on disk by the same content hash
  (``engine.packcache``): a later process (a restarted or another API worker) loads it instead of
  compiling.
"""

from __future__ import annotations

import math
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, cast

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from claims.model import Claim
from dsl import compile as dsl_compile
from engine import packcache
from engine.edits import Edit
from engine.pack import PackData
from engine.scrubber import Scrubber
from store.content import write_pack_dir
from store.models import Environment, EnvironmentPack, Pack, PackVersion, VersionStatus
from store.service import get_version, version_content

__all__ = ["PackRef", "PackRuntime", "current_runtime"]

_KEEP = 32
_DIRNAME = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class PackRef:
    """One pack version a scrub runs: enough to find its compiled form and to record it."""

    name: str
    version: str
    version_id: int
    content_hash: str

    @property
    def label(self) -> str:
        """``pack@version``."""
        return f"{self.name}@{self.version}"


def compile_version(session: Session, version_id: int) -> Scrubber:
    """One stored version as a warm single-pack :class:`Scrubber`.

    Loaded from the compiled-pack cache (``engine.packcache``) when a process compiled the same
    content before (key: the version's content hash, name and version, the data directory, the
    ICD-10-CM lists and the code); else its files are written to a temporary directory named after
    the pack (so ``<data dir>/<pack name>/`` files apply, as to a bundled pack), compiled, and kept.
    """
    version = session.get(PackVersion, version_id)
    if version is None:
        raise LookupError(f"pack version {version_id} vanished")
    name, label = version.pack.name, version.version
    dirname = name if _DIRNAME.fullmatch(name) and name not in (".", "..") else "pack"
    # a directory name only: with content given, the key reads no file of the directory
    key = packcache.cache_key(
        [Path(dirname)], [f"store version\0{name}\0{label}\0{version.content_hash}"]
    )

    def load() -> list[PackData]:
        with tempfile.TemporaryDirectory(prefix="claimscrub-pack-") as tmp:
            root = Path(tmp) / dirname
            write_pack_dir(version_content(version), root)
            rules = dsl_compile.compile_pack(root)
            return [PackData.load(rules, root, name=name, version=label)]

    return Scrubber.cached(key, load)


# content hash → (scrubber, its lock), per process: a Scrubber's interner is not safe to share
# between threads, so each one scrubs one batch at a time.
_COMPILED: OrderedDict[str, tuple[Scrubber, threading.Lock]] = OrderedDict()
_COMPILED_LOCK = threading.Lock()


class PackRuntime:
    """Environment pointers and compiled packs of one process (thread-safe)."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self._lock = threading.Lock()
        self._pointers: dict[str, PackRef] = {}
        self._checked_at = -math.inf
        self._ahead = threading.Lock()  # held while a background re-read runs
        self._compiled = _COMPILED  # one cache per process, shared by every app in it

    # -- pointers ----------------------------------------------------------------------------

    def _read_pointers(self) -> dict[str, PackRef]:
        with self.sessions() as session:
            rows = session.execute(
                select(Pack.name, PackVersion.version, PackVersion.id, PackVersion.content_hash)
                .join(EnvironmentPack, EnvironmentPack.pack_id == Pack.id)
                .join(Environment, Environment.id == EnvironmentPack.environment_id)
                .join(PackVersion, PackVersion.id == EnvironmentPack.version_id)
                .where(Environment.name == self.settings.environment)
                .order_by(Pack.name)
            ).all()
        return {r[0]: PackRef(r[0], r[1], r[2], r[3]) for r in rows}

    def pointers(self, *, force: bool = False) -> dict[str, PackRef]:
        """Pack name → the version the environment runs (re-read at most once per interval)."""
        now = self.settings.clock()
        age = now - self._checked_at
        interval = self.settings.pack_refresh_interval
        if force or age >= interval:
            fresh = self._read_pointers()
            with self._lock:
                self._pointers = fresh
                self._checked_at = max(self._checked_at, now)
        elif age >= interval * self.settings.refresh_ahead and self._ahead.acquire(blocking=False):
            threading.Thread(
                target=self._read_ahead, args=(now,), name="claimscrub-pointers", daemon=True
            ).start()
        with self._lock:
            return dict(self._pointers)

    def _read_ahead(self, now: float) -> None:
        try:
            fresh = self._read_pointers()
        except Exception:  # best effort: a request past the interval reads (and reports) itself
            return
        else:
            with self._lock:
                if now > self._checked_at:
                    self._pointers = fresh
                    self._checked_at = now
        finally:
            self._ahead.release()

    def pointers_cached(self) -> dict[str, PackRef]:
        """The pointers as last read (no query)."""
        with self._lock:
            return dict(self._pointers)

    def pinned(self, name: str, version: str) -> PackRef:
        """An exact published (or retired) version, for ``packs=name@version``."""
        with self.sessions() as session:
            found = get_version(session, name, version)
            if found.status is VersionStatus.DRAFT:
                raise LookupError(f"{found.label} is a draft; only published versions scrub")
            return PackRef(name, found.version, found.id, found.content_hash)

    # -- compiled packs ------------------------------------------------------------------------

    def _entry(self, ref: PackRef) -> tuple[Scrubber, threading.Lock]:
        with _COMPILED_LOCK:
            found = self._compiled.get(ref.content_hash)
            if found is not None:
                self._compiled.move_to_end(ref.content_hash)
                return found
        with self.sessions() as session:
            made = (compile_version(session, ref.version_id), threading.Lock())
        with _COMPILED_LOCK:
            made = self._compiled.setdefault(ref.content_hash, made)
            in_use = {p.content_hash for p in self.pointers_cached().values()}
            for key in list(self._compiled):
                if len(self._compiled) <= _KEEP:
                    break
                if key not in in_use:
                    del self._compiled[key]
        return made

    def scrubber(self, ref: PackRef) -> Scrubber:
        """The warm scrubber of a version (compiled on first use in this process)."""
        return self._entry(ref)[0]

    def scrub(
        self,
        refs: Sequence[PackRef],
        claims: Sequence[Claim],
        *,
        explain: bool,
        processing_date: date | None = None,
    ) -> list[list[Edit]]:
        """Edits per claim from every pack in ``refs``, pack by pack, in input order.

        ``processing_date`` is the value of ``processing_date()`` in the rules (the request's date).
        """
        out: list[list[Edit]] = [[] for _ in claims]
        evaluator: Literal["numba", "reference"] = (
            "reference" if self.settings.evaluator == "reference" else "numba"
        )
        for ref in refs:
            scrubber, lock = self._entry(ref)
            with lock:
                results = scrubber.scrub(
                    claims, explain=explain, evaluator=evaluator, processing_date=processing_date
                )
            for mine, edits in zip(out, results, strict=True):
                mine.extend(edits)
        return out

    def warm(self) -> list[str]:
        """Compile every version the environment runs now; the labels loaded."""
        refs = self.pointers(force=True)
        for ref in refs.values():
            self.scrubber(ref)
        return [r.label for r in refs.values()]

    def loaded(self) -> list[str]:
        """Content hashes compiled in this process."""
        with _COMPILED_LOCK:
            return list(self._compiled)


def current_runtime() -> PackRuntime:
    """The app's :class:`PackRuntime`."""
    return cast(PackRuntime, current_app.extensions["claimscrub.packs"])
