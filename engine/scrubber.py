"""Scrubber: compiled packs kept warm, claims scrubbed in batches, one edit list per claim."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from claims.model import Claim, ClaimKind, ServiceLine
from dsl.ir import CompiledRules, FieldInfo
from engine import packcache
from engine.batch import ClaimBatch, Interner
from engine.compiled import CompiledPack, compile_pack
from engine.edits import Edit
from engine.evaluate import KernelPass, evaluate, flag_claims
from engine.pack import PackData
from engine.reference import evaluate as reference_evaluate

__all__ = ["Scrubber"]

CHUNK = 10_000


class Scrubber:
    """Scrub claims against a set of packs.

    Packs are given as :class:`PackData` or bare :class:`CompiledRules` (without tables), or loaded
    with :meth:`from_directories`.  Construction compiles every pack and runs the kernels once on a
    tiny batch, so the first real scrub pays no JIT or compile cost.

    ``cache=True`` keeps the compiled packs on disk (``engine.packcache.data_key``: the packs'
    content hashes, i.e. their rules and loaded tables' arrays, and the code), so a later process
    given the same packs loads them instead of compiling.  Opt-in: packs built in memory are often
    one-offs (tests, property tests, notebooks), and each miss writes an entry of up to tens of MB
    that would push out the entries of ``from_directories`` and the store (at most
    ``packcache.KEEP`` are kept).
    """

    def __init__(
        self,
        packs: Sequence[PackData | CompiledRules],
        *,
        warm: bool = True,
        cache: bool = False,
    ) -> None:
        data = [p if isinstance(p, PackData) else PackData.load(p) for p in packs]
        key = packcache.data_key(data) if cache else None
        self._setup(*_read_or_compile(key, lambda: data, data), warm=warm)

    def _setup(
        self, interner: Interner, packs: dict[str, CompiledPack], *, warm: bool = True
    ) -> None:
        self.interner = interner
        self.packs: dict[str, CompiledPack] = packs
        self._fields = {f.id: f for p in self.packs.values() for f in p.fields_needed}
        self._by_kinds: dict[
            tuple[frozenset[str], tuple[str, ...]], tuple[list[CompiledPack], list[FieldInfo]]
        ] = {}
        if warm:
            self._warm()

    @classmethod
    def from_directories(
        cls,
        paths: Sequence[Path | str],
        *,
        cache: bool = True,
        content: Sequence[str | None] | None = None,
    ) -> Scrubber:
        """Compile each pack directory with ``dsl.compile.compile_pack`` and load its tables.

        The compiled packs are kept on disk (``engine.packcache``), keyed by the content of the
        pack directories, the reference data and the code: a later start with the same inputs
        loads them instead of compiling (and does not import the compiler at all).
        ``content[i]`` (optional) identifies the files of ``paths[i]`` when they are a store
        version exported to a temporary directory (its content hash): keyed by it instead of the
        directory's path and files.  ``cache`` False skips the cache.
        """
        dirs = [Path(p) for p in paths]
        key = packcache.cache_key(dirs, content) if cache else None

        def load() -> list[PackData]:
            from dsl import compile as dsl_compile  # imported here: only needed on a miss

            return [PackData.load(dsl_compile.compile_pack(p), p) for p in dirs]

        return cls.cached(key, load)

    @classmethod
    def cached(cls, key: str | None, load: Callable[[], Sequence[PackData]]) -> Scrubber:
        """A warm scrubber of the packs kept under ``key``, else of ``load()`` compiled and kept.

        ``engine.packcache`` keeps them; ``key`` None: no cache.  The caller makes ``key`` from
        everything ``load`` reads (``packcache.cache_key``).
        """
        made = cls.__new__(cls)
        made._setup(*_read_or_compile(key, load))
        return made

    def packs_for_kinds(
        self, kinds: frozenset[str], packs: Sequence[str] | None = None
    ) -> tuple[list[CompiledPack], list[FieldInfo]]:
        """The packs that apply to claims of ``kinds``, and the fields they read.

        ``packs`` selects packs by name (default: all).
        """
        chosen = [self.packs[n] for n in packs] if packs is not None else list(self.packs.values())
        return self._for_kinds(chosen, kinds)

    def flag(
        self,
        batch: ClaimBatch,
        *,
        packs: Sequence[str] | None = None,
        as_of: date | None = None,
        processing_date: date | None = None,
    ) -> tuple[npt.NDArray[np.bool_], KernelPass]:
        """Claims of ``batch`` that may get an edit (``engine.evaluate.flag_claims``)."""
        applicable, _ = self.packs_for_kinds(frozenset(batch.kinds), packs)
        return flag_claims(applicable, batch, as_of=as_of, processing_date=processing_date)

    @staticmethod
    def flagged_edits(
        done: KernelPass, claims: Mapping[int, Claim], *, explain: bool = False
    ) -> dict[int, list[Edit]]:
        """Edits of the flagged claims of ``done``'s batch, given their objects by position.

        The kernel rows of the flag pass are reused; only the edits are built (from ``claims``,
        which must hold every flagged claim).
        """
        batch = replace(done.batch, claims=_SomeClaims(done.batch.n_claims, claims))
        edits = evaluate(
            list(done.packs),
            batch,
            as_of=done.as_of,
            explain=explain,
            processing_date=done.processing_date,
            done=done,
        )
        out: dict[int, list[Edit]] = {c: [] for c in claims}
        for e in edits:
            out[e.claim_index].append(e)
        return out

    def _applicable(
        self, chosen: list[CompiledPack], chunk: Sequence[Claim]
    ) -> tuple[list[CompiledPack], list[FieldInfo]]:
        """The packs that apply to some claim of ``chunk`` (by kind), and the fields they read.

        Why: a file of professional claims need not lay out the institutional packs' fields (type
        of bill, revenue codes, statement dates ...); a pack that applies to no claim of a batch
        gives no edit on it, so leaving it out changes nothing.
        """
        return self._for_kinds(chosen, frozenset(c.kind.value for c in chunk))

    def _for_kinds(
        self, chosen: list[CompiledPack], kinds: frozenset[str]
    ) -> tuple[list[CompiledPack], list[FieldInfo]]:
        key = (kinds, tuple(p.data.name for p in chosen))
        got = self._by_kinds.get(key)
        if got is None:
            packs = [p for p in chosen if not p.data.claim_kinds or kinds & set(p.data.claim_kinds)]
            fields = list({f.id: f for p in packs for f in p.fields_needed}.values())
            got = self._by_kinds[key] = (packs, fields)
        return got

    def _warm(self) -> None:
        line = ServiceLine(1, Decimal(1), Decimal(1), "00000", service_date=date(2020, 1, 1))
        claims = [  # one of each kind, so every pack is warmed
            Claim(kind, "0", "0", Decimal(1), "11", "1", lines=(line,)) for kind in ClaimKind
        ]
        self.scrub(claims)

    def scrub(
        self,
        claims: Sequence[Claim],
        *,
        packs: Sequence[str] | None = None,
        as_of: date | None = None,
        explain: bool = False,
        evaluator: Literal["numba", "reference"] = "numba",
        processing_date: date | None = None,
    ) -> list[list[Edit]]:
        """Edits per claim, in input order (``packs`` selects packs by name, default all).

        ``processing_date`` is the date the claims are scrubbed (the value of ``processing_date()``
        in the rules).  The engine never reads the clock: without it, rules using it stay silent.
        """
        chosen = [self.packs[n] for n in packs] if packs is not None else list(self.packs.values())
        out: list[list[Edit]] = [[] for _ in claims]
        for start in range(0, len(claims), CHUNK):
            chunk = claims[start : start + CHUNK]
            if evaluator == "reference":
                edits = reference_evaluate(
                    chosen, chunk, as_of=as_of, explain=explain, processing_date=processing_date
                )
            else:
                applicable, fields = self._applicable(chosen, chunk)
                batch = ClaimBatch.build(chunk, fields, self.interner)
                edits = evaluate(
                    applicable,
                    batch,
                    as_of=as_of,
                    explain=explain,
                    index_base=start,
                    processing_date=processing_date,
                )
                for e in edits:
                    out[e.claim_index].append(e)
                continue
            for e in edits:
                out[start + e.claim_index].append(
                    replace(e, claim_index=start + e.claim_index) if start else e
                )
        return out


class _SomeClaims(Sequence[Claim]):
    """The claims of a scanned batch that were read as objects (the flagged ones), by position."""

    def __init__(self, n: int, claims: Mapping[int, Claim]) -> None:
        self._n, self._claims = n, claims

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: int) -> Claim:  # type: ignore[override]
        try:
            return self._claims[i]
        except KeyError:
            raise LookupError(f"claim {i} of the scanned batch was not read as an object") from None


def _read_or_compile(
    key: str | None,
    load: Callable[[], Sequence[PackData]],
    external: Sequence[PackData] = (),
) -> tuple[Interner, dict[str, CompiledPack]]:
    """The interner and packs kept under ``key``, else ``load()`` compiled into a new interner.

    A miss is written to the cache before anything is scrubbed (the warm-up claim's strings are
    not kept).  ``external``: the loaded packs, kept out of the entry (``packcache.read``).
    """
    got = packcache.read(key, external) if key is not None else None
    if got is not None:
        return got
    interner = Interner()
    compiled = {d.name: compile_pack(d, interner) for d in load()}
    if key is not None:
        packcache.write(key, interner, compiled, external)
    return interner, compiled
