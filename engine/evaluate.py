"""evaluate: run compiled packs over a ClaimBatch with the Numba kernels; the only kernel caller.

Conditions run in :func:`engine.kernels.run_pack`; messages, field paths and explanations are built
in
Python for the findings only (:func:`engine.reference.finish`), so clean claims cost nothing extra.
Rules the kernel cannot evaluate (``CompiledPack.fallback_rules``) and claims whose numbers do not
fit
the fixed-point encoding go through the reference evaluator.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from engine.batch import ClaimBatch
from engine.compiled import CompiledPack
from engine.edits import Edit
from engine.kernels import run_pack
from engine.reference import Finding, claim_date, finish, pack_applies, rule_findings
from engine.values import MISS, date_to_days, window_contains

__all__ = ["evaluate", "findings"]


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
    pack: CompiledPack, pack_pos: int, batch: ClaimBatch, *, as_of: date | None = None
) -> list[Finding]:
    """Findings (before relations) of one pack on a batch."""
    _check(pack, batch)
    n = batch.n_claims
    kinds = pack.data.claim_kinds
    applies = np.fromiter((not kinds or k in kinds for k in batch.kinds), dtype=np.bool_, count=n)
    active = applies & ~batch.inexact
    dates = batch.first_date if as_of is None else np.full(n, date_to_days(as_of), dtype=np.int64)
    redo = np.zeros(n, dtype=np.int64)
    out: list[Finding] = []
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
        while True:
            rows = np.zeros((cap, 5), dtype=np.int64)
            redo[:] = 0
            got = run_pack(
                pack.P, pack.X, active, dates, batch.line_code, B, S, pack.L, pack.T, pack.I,
                work, rows, redo,
            )  # fmt: skip
            if got <= cap:
                break
            cap = got
        rows = rows[:got]
        if redo.any():
            rows = rows[redo[rows[:, 0]] == 0]
        rb_off = pack.P[3]
        out.extend(Finding(c, pack_pos, r, b, i, j) for c, r, b, i, j in rows.tolist())
        del rb_off
    data = pack.data
    again = np.flatnonzero((redo != 0) | (batch.inexact & applies))
    for c in again.tolist():
        claim = batch.claims[c]
        on = claim_date(claim, as_of)
        for rule in data.rules.rules:
            if rule.index in pack.fallback_rules:
                continue
            if window_contains(rule.effective_from, rule.effective_until, on):
                out.extend(rule_findings(data, pack_pos, rule, claim, c, on))
    if pack.fallback_rules:
        rules = [data.rules.rules[i] for i in pack.fallback_rules]
        for c, claim in enumerate(batch.claims):
            if not pack_applies(data, claim):
                continue
            on = claim_date(claim, as_of)
            for rule in rules:
                if window_contains(rule.effective_from, rule.effective_until, on):
                    out.extend(rule_findings(data, pack_pos, rule, claim, c, on))
    return out


def evaluate(
    packs: Sequence[CompiledPack],
    batch: ClaimBatch,
    *,
    as_of: date | None = None,
    explain: bool = False,
) -> list[Edit]:
    """Edits of ``packs`` on ``batch`` in stable order (claim, pack, line, rule index)."""
    found: list[Finding] = []
    for p, pack in enumerate(packs):
        found.extend(findings(pack, p, batch, as_of=as_of))
    return finish([p.data for p in packs], batch.claims, found, as_of=as_of, explain=explain)


_ = MISS
