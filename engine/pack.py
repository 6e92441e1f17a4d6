"""A pack's data as both evaluators need it: compiled rules, name, version, loaded tables."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dsl.ir import BuiltinId, Call, CompiledRules
from engine.icd10cm import Icd10cmCodeSet, icd10cm_code_sets, single_code_set
from engine.tables import LoadedTable, load_tables

__all__ = ["PackData", "content_hash"]


@dataclass(frozen=True, slots=True, eq=False)
class PackData:
    """Compiled rules plus everything loaded for them.

    ``icd10cm`` maps ICD-10-CM codes (no dots) to whether they are billable; without it the
    ``icd10cm_valid`` / ``icd10cm_billable`` built-ins check the code's format only.
    ``icd10cm_sets`` are the releases over time (``engine.icd10cm``); the built-ins answer with
    the release in force on the date they are given.  Empty: ``icd10cm`` for every date.
    """

    rules: CompiledRules
    name: str
    version: str
    tables: tuple[LoadedTable, ...] = ()
    icd10cm: Mapping[str, bool] | None = None
    hash: str = field(default="")
    icd10cm_sets: tuple[Icd10cmCodeSet, ...] = ()

    @property
    def icd_sets(self) -> tuple[Icd10cmCodeSet, ...]:
        """The ICD-10-CM releases the built-ins choose from (none: format checks only)."""
        if self.icd10cm_sets:
            return self.icd10cm_sets
        return single_code_set(self.icd10cm) if self.icd10cm is not None else ()

    @property
    def data(self) -> PackData:
        """Itself (so evaluators accept a PackData or anything holding one)."""
        return self

    @property
    def claim_kinds(self) -> tuple[str, ...]:
        """Claim kinds the pack applies to (empty: all)."""
        return self.rules.pack.claim_kinds if self.rules.pack is not None else ()

    @classmethod
    def load(
        cls,
        rules: CompiledRules,
        pack_dir: Path | str | None = None,
        *,
        name: str | None = None,
        version: str | None = None,
        icd10cm: Mapping[str, bool] | None = None,
    ) -> PackData:
        """Load the tables of ``rules`` from ``pack_dir``; name and version from the pack header."""
        header = rules.pack
        sets: tuple[Icd10cmCodeSet, ...] = ()
        if icd10cm is not None:
            sets = single_code_set(icd10cm)
        elif uses_icd10cm(rules):
            sets = icd10cm_code_sets()  # bundled + data directory releases; cached per directory
            icd10cm = sets[-1].codes
        tables = load_tables(rules.tables, pack_dir) if rules.tables and pack_dir else ()
        if rules.tables and pack_dir is None:
            raise ValueError("the rules declare tables: pass the pack directory")
        return cls(
            rules,
            name if name is not None else (header.name if header else "local"),
            version if version is not None else (header.version if header else "0"),
            tables,
            icd10cm,
            content_hash(rules, tables, icd10cm, sets),
            sets,
        )


def content_hash(
    rules: CompiledRules,
    tables: tuple[LoadedTable, ...],
    icd10cm: Mapping[str, bool] | None,
    icd10cm_sets: tuple[Icd10cmCodeSet, ...] = (),
) -> str:
    """A digest of the rules, the table rows and the code data (the compiled-pack cache key)."""
    h = hashlib.sha256(pickle.dumps(rules, protocol=5))
    for t in tables:
        for col in t.keys + t.values:
            h.update(col.ids.tobytes())
            h.update(repr(col.vocab).encode())
        h.update(t.row_from.tobytes())
        h.update(t.row_until.tobytes())
    if icd10cm is not None:
        h.update(_mapping_digest(icd10cm))
    for code_set in icd10cm_sets:
        h.update(code_set.starts.isoformat().encode())
        h.update(_mapping_digest(code_set.codes))
    return h.hexdigest()


# Digests of code mappings by identity: the ICD-10-CM map has ~98,000 entries and is shared by
# every pack, so it is hashed once per process, not once per pack load.  Entries keep the mapping
# alive, so an id is never reused while it is a key here.
_DIGESTS: dict[int, tuple[Mapping[str, bool], bytes]] = {}


def _mapping_digest(mapping: Mapping[str, bool]) -> bytes:
    hit = _DIGESTS.get(id(mapping))
    if hit is not None and hit[0] is mapping:
        return hit[1]
    # The sorted codes, then their billable flags: canonical, and ~3x faster than hashing the
    # repr of the sorted items (a start-up cost: two releases of ~98,000 codes).
    codes = sorted(mapping)
    flags = "".join(["1" if mapping[c] else "0" for c in codes])
    digest = hashlib.sha256(("\n".join(codes) + "|" + flags).encode()).digest()
    _DIGESTS[id(mapping)] = (mapping, digest)
    return digest


_ICD_BUILTINS = frozenset({BuiltinId.ICD10CM_VALID, BuiltinId.ICD10CM_BILLABLE})


def uses_icd10cm(rules: CompiledRules) -> bool:
    """Whether any rule calls an ICD-10-CM built-in (then the code set is loaded for the pack)."""
    stack: list[object] = [b.condition for r in rules.rules for b in r.branches]
    stack += [p for r in rules.rules for b in r.branches for p in b.message.parts]
    while stack:
        node = stack.pop()
        if isinstance(node, Call) and node.builtin in _ICD_BUILTINS:
            return True
        for name in getattr(node, "__slots__", ()):
            value = getattr(node, name, None)
            if isinstance(value, tuple):
                stack.extend(v for v in value if hasattr(v, "__slots__"))
            elif hasattr(value, "__slots__") and not isinstance(value, str):
                stack.append(value)
    return False
