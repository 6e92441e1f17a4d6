"""Scrub a piece of a large 837P through the columnar ingest; objects only where they are needed.

Why: on a large file most claims come back clean, and building and walking their objects was
three quarters of ``claimscrub scrub``'s time (ADR 0008).  Here a piece is scanned into columns
(``claims.x12.columnar``, ``engine.x12_columns``), the kernels flag the claims that may get an
edit, and the object reader reads only the flagged claims and those the scan did not accept
(``read_sparse``).  Those are scrubbed exactly as before; the clean claims are written from the
scanned text.  The output is byte-identical to the object path (``tests/api/test_scrub_fast.py``
runs both on the same files), which stays in charge whenever this one cannot be sure:

* only with the Numba evaluator;
* only when every field the applicable packs read is laid out from the scan
  (``engine.x12_columns.SUPPORTED``) and every rule runs in the kernel;
* the scan itself refuses transaction sets and claims it does not fully understand, and a read
  that stops (too much junk) makes the whole piece go through the object reader;
* an unexpected exception here is logged by ``api.scrub_parallel`` (type and byte range only) and
  the piece is read by the object reader.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from api._cleanjson import clean_lines
from api.envelope import SUCCESS, claim_response, edits_line, success_jsonl, success_line
from claims.model import Claim, ClaimKind
from claims.sources import SourceItem
from claims.x12 import _colscan as cs
from claims.x12.columnar import PieceScan, read_sparse, scan_piece
from claims.x12.errors import X12Error
from claims.x12.scanclaims import scan_claim, scan_claims
from claims.x12.split import Piece, PieceReader, piece_bytes
from engine.evaluate import need_objects
from engine.scrubber import Scrubber
from engine.x12_columns import SUPPORTED, scan_batch, supports

if TYPE_CHECKING:  # scrub_parallel imports this module
    from api.scrub_parallel import Options

__all__ = ["fast_piece", "usable_for"]

_PROFESSIONAL = frozenset({"professional"})


def usable_for(scrubber: Scrubber, packs: list[str] | None, fmt: str, evaluator: str) -> bool:
    """Whether pieces scrubbed with these options can take the columnar path."""
    if evaluator != "numba" or fmt not in ("jsonl", "json", "csv", "table"):
        return False
    chosen, fields = scrubber.packs_for_kinds(_PROFESSIONAL, packs)
    return supports(fields) and not any(p.fallback_rules for p in chosen)


def fast_piece(
    path: Path,
    piece: Piece,
    scrubber: Scrubber,
    opts: Options,
    render: Callable[[dict[str, Any]], str],
    error_envelope: Callable[[SourceItem], dict[str, Any]],
) -> tuple[list[str], bytearray, list[list[Any]]] | None:
    """(texts, kinds, edits per claim) of ``piece`` in file order; None: use the object path."""
    data = piece_bytes(path, piece)
    scan = scan_piece(data, piece)
    if scan is None:
        return None
    _, fields = scrubber.packs_for_kinds(_PROFESSIONAL, opts.packs)
    rows = np.flatnonzero(scan.usable)
    needed = ~scan.usable
    done = None
    scanned: dict[int, int] = {}  # flagged row -> position, edits built from the scanned claim
    if rows.shape[0]:
        batch = scan_batch(scan, rows, fields, scrubber.interner)
        flagged, done = scrubber.flag(
            batch, packs=opts.packs, as_of=opts.as_of, processing_date=opts.processing_date
        )
        objects_for = flagged.copy() if opts.explain else flagged & need_objects(done, SUPPORTED)
        needed[rows[objects_for]] = True
        lazy = np.flatnonzero(flagged & ~objects_for)
        scanned = dict(zip(rows[lazy].tolist(), lazy.tolist(), strict=True))
    name = str(path)
    events = read_sparse(PieceReader(name, piece), piece, data, scan, needed)
    if events is None:
        return None
    # Claims of usable rows were flagged by the kernel pass: only their edits are built (with the
    # pass's rows), from the reader's claim or, where the edits read only scanned fields, from
    # the lazily scanned claim.  Any other claim (a row the scan did not accept) is scrubbed
    # from scratch.
    position = {int(r): k for k, r in enumerate(rows.tolist())}
    objects: dict[int, Claim] = {}
    if scanned:
        shared, first = scan_claims(scan), batch.first_date.tolist()
        objects = {k: scan_claim(shared, r, first[k]) for r, k in scanned.items()}
    others: list[Claim] = []
    for e in events:
        if isinstance(e, int):
            continue
        owner, claim = e
        if not isinstance(claim, Claim):
            continue
        if owner >= 0 and scan.usable[owner]:
            objects[position[owner]] = claim
        else:
            others.append(claim)
    if done is not None and len(objects) != int(np.count_nonzero(flagged)):
        return None  # a flagged row gave no claim: cannot happen; the object path decides
    by_position = (
        scrubber.flagged_edits(done, objects, explain=opts.explain) if done and objects else {}
    )
    results = opts.scrub(scrubber, others)
    texts: list[str] = []
    kinds = bytearray()
    edits_of: list[list[Any]] = []
    skipped = [e for e in events if isinstance(e, int) and e not in scanned]
    jsonl = opts.fmt == "jsonl"
    clean = _clean_jsonl(scan, skipped) if jsonl else _clean_envelopes(scan, render)
    rest = iter(results)
    for e in events:
        item: Claim | X12Error
        if isinstance(e, int):
            if e not in scanned:
                texts.append(clean(e))
                kinds.append(1)
                edits_of.append([])
                continue
            owner, item = e, objects[scanned[e]]
        else:
            owner, item = e
        if isinstance(item, Claim):
            if owner >= 0 and scan.usable[owner]:
                edits = by_position[position[owner]]
            else:
                edits = next(rest)
            if not jsonl or opts.explain:
                texts.append(render(claim_response(item, edits, explain=opts.explain)))
            elif edits:
                kind = "PROF" if item.kind is ClaimKind.PROFESSIONAL else "INST"
                texts.append(
                    edits_line(
                        item.control_number,
                        item.patient_control_number,
                        kind,
                        item.payer.identifier,
                        edits,
                    )
                )
            else:
                texts.append(success_jsonl(item))
            kinds.append(1)
            edits_of.append(edits)
        else:
            texts.append(render(error_envelope(SourceItem(name, error=item))))
            kinds.append(0)
    return texts, kinds, edits_of


def _clean_jsonl(scan: PieceScan, rows: list[int]) -> Callable[[int], str]:
    """The jsonl line of each skipped row: written in one compiled pass, else ``success_line``."""
    clm = scan.clm[rows]
    controls = np.asarray([scan.control_span(t) for t in range(scan.st.shape[0])], np.int64)
    spans = np.empty((len(rows), 6), dtype=np.int64)
    spans[:, 0:2] = controls.reshape(-1, 2)[clm[:, cs.C_ST]]
    spans[:, 2:4] = clm[:, cs.CS_PCN : cs.CS_PCN + 2]
    spans[:, 4:6] = scan.hl[clm[:, cs.C_S]][:, cs.HL_C : cs.HL_C + 2]
    by_row = dict(zip(rows, clean_lines(scan.buf, spans), strict=True))

    def line(row: int) -> str:
        got = by_row[row]
        if got is not None:
            return got
        control, pcn, payer = scan.clean_values(row)  # a value json.dumps must escape
        return success_line(control, pcn, "PROF", payer)

    return line


def _clean_envelopes(
    scan: PieceScan, render: Callable[[dict[str, Any]], str]
) -> Callable[[int], str]:
    """A skipped claim row's envelope in any output format: ``claim_response(claim, [])``."""

    def envelope(row: int) -> str:
        control, pcn, payer = scan.clean_values(row)
        reference = {"patientControlNumber": pcn, "claimType": "PROF", "payerID": payer}
        return render(
            {"status": SUCCESS, "controlNumber": control, "claimReference": reference, "errors": []}
        )

    return envelope
