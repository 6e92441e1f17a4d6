"""evaluate: run compiled packs over a ClaimBatch with the Numba kernels; the only kernel caller.

Conditions run in :func:`engine.kernels.run_pack`; messages, field paths and explanations are built
in
Python for the findings only (:func:`engine.reference.finish`), so clean claims cost nothing extra.
Rules the kernel cannot evaluate (``CompiledPack.fallback_rules``) and claims whose numbers do not
fit
the fixed-point encoding go through the reference evaluator.

``processing_date`` (the value of ``processing_date()``) is an argument: the engine never reads the
clock.  It reaches the kernel as a per-call scalar in the ``I`` group (see :mod:`engine.kernels`),
so a new date never compiles anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from dsl.ir import Scope
from engine.batch import I64, ClaimBatch
from engine.compiled import CompiledPack
from engine.edits import Edit
from engine.kernels import run_pack
from engine.materialize import EditTemplate, PackTemplates
from engine.pack import PackData
from engine.reference import (
    Finding,
    _apply_relations,
    claim_date,
    pack_applies,
    rule_findings,
)
from engine.values import MISS, date_to_days, window_contains

__all__ = [
    "KernelPass",
    "evaluate",
    "finding_rows",
    "findings",
    "flag_claims",
    "need_objects",
]


def _batch_arrays(batch: ClaimBatch) -> tuple[np.ndarray, ...]:  # type: ignore[type-arg,unused-ignore]
    return (
        batch.claim_cols,
        batch.line_cols,
        batch.dx_cols,
        batch.claim_set_off,
        batch.claim_set_vals,
        batch.line_set_off,
        batch.line_set_vals,
        batch.field_group,
        batch.field_col,
        batch.line_off,
        batch.dx_off,
    )


def _check(pack: CompiledPack, batch: ClaimBatch) -> None:
    if pack.interner is not batch.interner:
        raise ValueError(f"pack {pack.name} and the batch use different interners")
    missing = [f.name for f in pack.fields_needed if f.id not in batch.field_ids]
    if missing:
        raise ValueError(f"the batch lacks fields pack {pack.name} reads: {', '.join(missing)}")


def findings(
    pack: CompiledPack,
    pack_pos: int,
    batch: ClaimBatch,
    *,
    as_of: date | None = None,
    processing_date: date | None = None,
) -> list[Finding]:
    """Findings (before relations) of one pack on a batch."""
    rows, out = _pack_rows(pack, pack_pos, batch, as_of, processing_date)
    kernel = [Finding(c, pack_pos, r, b, i, j) for c, r, b, i, j in rows.tolist()]
    return kernel + out


def finding_rows(
    pack: CompiledPack,
    pack_pos: int,
    batch: ClaimBatch,
    *,
    as_of: date | None = None,
    processing_date: date | None = None,
) -> I64:
    """:func:`findings` as one int64 array of rows ``(claim, pack, rule, branch, item, other)``.

    No Python object per finding: the kernel's rows plus the reference evaluator's findings.
    """
    rows, more = _pack_rows(pack, pack_pos, batch, as_of, processing_date)
    out = np.empty((rows.shape[0] + len(more), 6), dtype=np.int64)
    out[: rows.shape[0], 0] = rows[:, 0]
    out[: rows.shape[0], 1] = pack_pos
    out[: rows.shape[0], 2:] = rows[:, 1:]
    for k, f in enumerate(more, rows.shape[0]):
        out[k] = (f.claim, f.pack, f.rule, f.branch, f.item, f.other)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class KernelPass:
    """What :func:`flag_claims` ran, per pack: kernel rows, redo marks, where the pack applies.

    Handed back to :func:`evaluate` for the same packs and batch (with claim objects now in place
    for the flagged claims), so the kernels do not run twice.
    """

    packs: tuple[CompiledPack, ...]
    batch: ClaimBatch
    as_of: date | None
    processing_date: date | None
    parts: tuple[tuple[I64, I64, npt.NDArray[np.bool_]], ...]

    def matches(
        self,
        packs: Sequence[CompiledPack],
        batch: ClaimBatch,
        as_of: date | None,
        processing_date: date | None,
    ) -> bool:
        """Whether this pass ran the same packs over the same columns on the same dates."""
        same_packs = len(packs) == len(self.packs) and all(
            a is b for a, b in zip(packs, self.packs, strict=True)
        )
        same_batch = (
            batch.line_off is self.batch.line_off and batch.claim_cols is self.batch.claim_cols
        )
        return (
            same_packs
            and same_batch
            and as_of == self.as_of
            and processing_date == self.processing_date
        )


def _pack_rows(
    pack: CompiledPack,
    pack_pos: int,
    batch: ClaimBatch,
    as_of: date | None,
    processing_date: date | None = None,
    done: tuple[I64, I64, npt.NDArray[np.bool_]] | None = None,
) -> tuple[I64, list[Finding]]:
    """Kernel findings as rows ``(claim, rule, branch, item, other)``, and reference findings.

    The reference evaluator runs the fallback rules and the claims the kernel could not finish.
    ``done`` is this pack's part of a :class:`KernelPass` over the same batch.
    """
    if done is None:
        done = _kernel_rows(pack, batch, as_of, processing_date)
    rows, redo, applies = done
    out: list[Finding] = []
    data = pack.data
    again = np.flatnonzero((redo != 0) | (batch.inexact & applies))
    for c in again.tolist():
        claim = batch.claims[c]
        on = claim_date(claim, as_of)
        for rule in data.rules.rules:
            if rule.index in pack.fallback_rules:
                continue
            if window_contains(rule.effective_from, rule.effective_until, on):
                out.extend(rule_findings(data, pack_pos, rule, claim, c, on, processing_date))
    if pack.fallback_rules:
        rules = [data.rules.rules[i] for i in pack.fallback_rules]
        for c, claim in enumerate(batch.claims):
            if not pack_applies(data, claim):
                continue
            on = claim_date(claim, as_of)
            for rule in rules:
                if window_contains(rule.effective_from, rule.effective_until, on):
                    out.extend(rule_findings(data, pack_pos, rule, claim, c, on, processing_date))
    return rows, out


def flag_claims(
    packs: Sequence[CompiledPack],
    batch: ClaimBatch,
    *,
    as_of: date | None = None,
    processing_date: date | None = None,
) -> tuple[npt.NDArray[np.bool_], KernelPass]:
    """Claims that may get an edit (a kernel finding, or a claim the kernel could not finish).

    Why: a batch laid out from scanned columns (``engine.x12_columns``) has no claim objects; the
    caller reads objects for the flagged claims only and passes them, with the returned
    :class:`KernelPass`, to :func:`evaluate`.  A claim not flagged gets no edit from
    :func:`evaluate` (relations only remove findings).  Packs with rules the kernel cannot run
    (``fallback_rules``) need objects for every claim: refused.
    """
    flagged = batch.inexact.copy()
    parts = []
    for pack in packs:
        if pack.fallback_rules:
            raise ValueError(f"pack {pack.name} has rules outside the kernel; use evaluate")
        part = _kernel_rows(pack, batch, as_of, processing_date)
        rows, redo, _ = part
        flagged[rows[:, 0]] = True
        flagged |= redo != 0
        parts.append(part)
    done = KernelPass(tuple(packs), batch, as_of, processing_date, tuple(parts))
    return flagged, done


def need_objects(done: KernelPass, provided: frozenset[str]) -> npt.NDArray[np.bool_]:
    """Claims of ``done``'s batch whose edits need complete claim objects.

    Why: a caller that has claims providing only the fields ``provided`` (lazily scanned claims,
    ``claims.x12.scanclaims``) can build the edits of every other flagged claim from those.  A
    claim needs a complete object when the reference evaluator must run on it (the kernel could
    not finish it, or a value of it was not laid out exactly) or when one of its kernel findings
    is a rule branch whose edit reads a field outside ``provided`` (``EditTemplate.reads``).
    """
    batch = done.batch
    need = batch.inexact.copy()
    for pack, (rows, redo, _) in zip(done.packs, done.parts, strict=True):
        need |= redo != 0
        if rows.shape[0] == 0:
            continue
        templates = _templates(pack.data)
        pairs, where = np.unique(rows[:, 1:3], axis=0, return_inverse=True)
        bad = np.array(
            [not templates.template(r, b).reads <= provided for r, b in pairs.tolist()],
            dtype=np.bool_,
        )
        if bad.any():
            need[rows[bad[where.reshape(-1)], 0]] = True
    return need


def _kernel_rows(
    pack: CompiledPack,
    batch: ClaimBatch,
    as_of: date | None,
    processing_date: date | None,
) -> tuple[I64, I64, npt.NDArray[np.bool_]]:
    """Kernel rows, the redo marks, and which claims the pack applies to.

    Rows are ``(claim, rule, branch, item, other)``, without the claims marked for a redo.
    """
    _check(pack, batch)
    n = batch.n_claims
    kinds = pack.data.claim_kinds
    present = set(batch.kinds)
    if not kinds or present <= set(kinds):
        applies = np.ones(n, dtype=np.bool_)
    elif not present & set(kinds):
        applies = np.zeros(n, dtype=np.bool_)
    else:
        applies = np.fromiter((k in kinds for k in batch.kinds), dtype=np.bool_, count=n)
    active = applies & ~batch.inexact
    dates = batch.first_date if as_of is None else np.full(n, date_to_days(as_of), dtype=np.int64)
    redo = np.zeros(n, dtype=np.int64)
    rows = np.zeros((0, 5), dtype=np.int64)
    if pack.kernel_rules and n:
        B = _batch_arrays(batch)
        S = batch.interner.string_arrays()
        size = pack.stack_size
        work = (
            np.zeros(size, dtype=np.int64),
            np.zeros(64, dtype=np.int64),
            np.zeros(64, dtype=np.int64),
            np.zeros(64, dtype=np.int64),
        )
        cap = max(4096, batch.n_lines + n)
        pdays = MISS if processing_date is None else date_to_days(processing_date)
        icd_valid, icd_billable, env = pack.I
        env = env.copy()
        env[1] = pdays
        I = (icd_valid, icd_billable, env)  # noqa: E741 (the kernels' name for the group)
        while True:
            rows = np.empty((cap, 5), dtype=np.int64)  # the kernel writes every column of a row
            redo[:] = 0
            got = run_pack(
                pack.P, pack.X, active, dates, batch.line_code, B, S, pack.L, pack.T, I,
                work, rows, redo,
            )  # fmt: skip
            if got <= cap:
                break
            cap = got
        rows = rows[:got]
        if redo.any():
            rows = rows[redo[rows[:, 0]] == 0]
    return rows, redo, applies


_TEMPLATES: dict[int, tuple[PackData, PackTemplates]] = {}


def _templates(data: PackData) -> PackTemplates:
    hit = _TEMPLATES.get(id(data))
    if hit is not None and hit[0] is data:
        return hit[1]
    if len(_TEMPLATES) > 64:
        _TEMPLATES.clear()
    t = PackTemplates(data)
    _TEMPLATES[id(data)] = (data, t)  # holds ``data``: its id is not reused while cached
    return t


def _ordered(data: Sequence[PackData], rows: I64) -> I64:
    """Rows ``(claim, pack, rule, branch, item, other)`` deduplicated, in edit order.

    The order is :func:`engine.reference.finish`'s: claim, pack, line, rule, other line, diagnosis.
    """
    if rows.shape[0] == 0:
        return rows
    scopes = [np.array([int(r.scope) for r in d.rules.rules], dtype=np.int64) for d in data]
    base = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([s.shape[0] for s in scopes], out=base[1:])
    scope = np.concatenate(scopes)[base[rows[:, 1]] + rows[:, 2]]
    item = rows[:, 4]
    on_line = (scope == int(Scope.LINE)) | (scope == int(Scope.LINE_PAIR))
    line_key = np.where(on_line, item + 1, 0)
    dx_key = np.where(scope == int(Scope.DIAGNOSIS), item, -1)
    order = np.lexsort(
        (rows[:, 3], dx_key, rows[:, 5], rows[:, 2], line_key, rows[:, 1], rows[:, 0])
    )
    rows = rows[order]
    keep = np.ones(rows.shape[0], dtype=np.bool_)
    keep[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    return rows[keep]


def evaluate(
    packs: Sequence[CompiledPack],
    batch: ClaimBatch,
    *,
    as_of: date | None = None,
    explain: bool = False,
    index_base: int = 0,
    processing_date: date | None = None,
    done: KernelPass | None = None,
) -> list[Edit]:
    """Edits of ``packs`` on ``batch`` in stable order (claim, pack, line, rule index).

    Edits are numbered ``index_base + `` the claim's position in the batch.  ``processing_date``
    is the value of ``processing_date()`` for every claim (missing when None).  ``done``: the
    :func:`flag_claims` pass over the same packs and columns (``batch`` may be that batch with its
    claim objects filled in), whose kernel rows are used instead of running the kernels again.
    """
    if done is not None and not done.matches(packs, batch, as_of, processing_date):
        raise ValueError("the kernel pass was run over other packs, columns or dates")
    parts: list[I64] = []
    extra: list[Finding] = []
    for p, pack in enumerate(packs):
        part = None if done is None else done.parts[p]
        rows, more = _pack_rows(pack, p, batch, as_of, processing_date, part)
        if rows.shape[0]:
            col = np.full((rows.shape[0], 1), p, dtype=np.int64)
            parts.append(np.hstack((rows[:, :1], col, rows[:, 1:])))
        extra.extend(more)
    if extra:
        parts.append(
            np.array(
                [(f.claim, f.pack, f.rule, f.branch, f.item, f.other) for f in extra],
                dtype=np.int64,
            ).reshape(-1, 6)
        )
    found = np.concatenate(parts) if parts else np.zeros((0, 6), dtype=np.int64)
    data = [p.data for p in packs]
    if any(d.rules.relations for d in data):
        kept = _apply_relations(data, [Finding(*r) for r in found.tolist()])
        found = np.array(
            [(f.claim, f.pack, f.rule, f.branch, f.item, f.other) for f in kept], dtype=np.int64
        ).reshape(-1, 6)
    found = _ordered(data, found)
    templates = [_templates(d) for d in data]
    claims = batch.claims
    out: list[Edit] = []
    append = out.append
    if explain:
        for c, p, r, b, i, j in found.tolist():
            f = Finding(c + index_base, p, r, b, i, j)
            append(
                templates[p].explained(claims[c], f, as_of=as_of, processing_date=processing_date)
            )
        return out
    cache: dict[tuple[int, int, int], EditTemplate] = {}
    for c, p, r, b, i, j in found.tolist():
        key = (p, r, b)
        t = cache.get(key)
        if t is None:
            t = cache[key] = templates[p].template(r, b)
        append(t.edit(claims[c], c + index_base, i, j, as_of, processing_date))
    return out
