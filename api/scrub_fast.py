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

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from api._cleanjson import clean_lines
from api.envelope import SUCCESS, claim_response, success_jsonl
from claims.model import Claim
from claims.sources import SourceItem
from claims.x12 import _colscan as cs
from claims.x12.columnar import PieceScan, read_sparse, scan_piece
from claims.x12.split import Piece, PieceReader, piece_bytes
from engine.scrubber import Scrubber
from engine.x12_columns import scan_batch, supports

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
    if rows.shape[0]:
        batch = scan_batch(scan, rows, fields, scrubber.interner)
        flagged, done = scrubber.flag(
            batch, packs=opts.packs, as_of=opts.as_of, processing_date=opts.processing_date
        )
        needed[rows[flagged]] = True
    name = str(path)
    events = read_sparse(PieceReader(name, piece), piece, data, scan, needed)
    if events is None:
        return None
    # Claims of usable rows were flagged by the kernel pass: only their edits are built (with the
    # pass's rows).  Any other claim (a row the scan did not accept) is scrubbed from scratch.
    position = {int(r): k for k, r in enumerate(rows.tolist())}
    objects: dict[int, Claim] = {}
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
    if done is not None and len(objects) != int(np.count_nonzero(needed[rows])):
        return None  # a flagged row gave no claim: cannot happen; the object path decides
    by_position = (
        scrubber.flagged_edits(done, objects, explain=opts.explain) if done and objects else {}
    )
    results = opts.scrub(scrubber, others)
    texts: list[str] = []
    kinds = bytearray()
    edits_of: list[list[Any]] = []
    if opts.fmt == "jsonl":
        clean = _clean_jsonl(scan, data, [e for e in events if isinstance(e, int)])
    else:
        clean = _clean_envelopes(scan, render)
    rest = iter(results)
    for e in events:
        if isinstance(e, int):
            texts.append(clean(e))
            kinds.append(1)
            edits_of.append([])
            continue
        owner, item = e
        if isinstance(item, Claim):
            if owner >= 0 and scan.usable[owner]:
                edits = by_position[position[owner]]
            else:
                edits = next(rest)
            if edits or opts.fmt != "jsonl":
                texts.append(render(claim_response(item, edits, explain=opts.explain)))
            else:
                texts.append(success_jsonl(item))
            kinds.append(1)
            edits_of.append(edits)
        else:
            texts.append(render(error_envelope(SourceItem(name, error=item))))
            kinds.append(0)
    return texts, kinds, edits_of


def _clean_jsonl(scan: PieceScan, data: bytes, rows: list[int]) -> Callable[[int], str]:
    """The jsonl line of each skipped row: written in one compiled pass, else by Python."""
    if not rows:
        return _clean_lines(scan, data)
    clm = scan.clm[rows]
    controls = np.full((scan.st.shape[0], 2), -1, dtype=np.int64)
    for t, seg in enumerate(scan.st[:, cs.ST_SEG].tolist()):
        lo, hi = int(scan.seg[seg, cs.SEG_LO]), int(scan.seg[seg, cs.SEG_HI])
        esep = data[lo + 2 : lo + 3]
        first = data.find(esep, lo + 3, hi)  # ST*837*<control>*...: ST02 sits between the
        second = data.find(esep, first + 1, hi) if first >= 0 else -1  # 2nd and 3rd separators
        if first >= 0:
            controls[t] = (first + 1, second if second >= 0 else hi)
    spans = np.empty((len(rows), 6), dtype=np.int64)
    spans[:, 0:2] = controls[clm[:, cs.C_ST]]
    spans[:, 2:4] = clm[:, cs.CS_PCN : cs.CS_PCN + 2]
    spans[:, 4:6] = scan.hl[clm[:, cs.C_S]][:, cs.HL_C : cs.HL_C + 2]
    lines = clean_lines(scan.buf, spans)
    slow = _clean_lines(scan, data)
    by_row = dict(zip(rows, lines, strict=True))

    def line(row: int) -> str:
        got = by_row[row]
        return got if got is not None else slow(row)

    return line


def _clean_lines(scan: PieceScan, data: bytes) -> Callable[[int], str]:
    """The SUCCESS line of a skipped claim row, from its scanned control numbers and payer.

    The same text as ``success_jsonl`` of the claim the reader would build: values are quoted
    with ``json.dumps`` unless they hold nothing it would escape (then quotes are enough).
    """
    quoted: dict[tuple[int, int], str] = {}  # control numbers and payers repeat: once each
    clm = scan.clm.tolist()
    hl = scan.hl

    def quote(lo: int, hi: int) -> str:
        text = data[lo:hi].decode("ascii") if 0 <= lo < hi else ""
        return f'"{text}"' if _PLAIN(text) else json.dumps(text)

    def control(st: int) -> str:
        seg = int(scan.st[st, cs.ST_SEG])
        lo, hi = int(scan.seg[seg, cs.SEG_LO]), int(scan.seg[seg, cs.SEG_HI])
        els = [*data[lo:hi].decode("ascii").split(chr(data[lo + 2])), "", "", ""]
        return json.dumps(els[2])

    def line(row: int) -> str:
        c = clm[row]
        key = (-1, c[cs.C_ST])
        ctl = quoted.get(key)
        if ctl is None:
            ctl = quoted[key] = control(c[cs.C_ST])
        sub = c[cs.C_S]
        key = (-2, sub)
        payer = quoted.get(key)
        if payer is None:
            payer = quoted[key] = quote(int(hl[sub, cs.HL_C]), int(hl[sub, cs.HL_C + 1]))
        pcn = quote(c[cs.CS_PCN], c[cs.CS_PCN + 1])
        return (
            f'{{"status":"{SUCCESS}","controlNumber":{ctl},'
            f'"claimReference":{{"patientControlNumber":{pcn},'
            f'"claimType":"PROF","payerID":{payer}}},"errors":[]}}\n'
        )

    return line


def _clean_envelopes(
    scan: PieceScan, render: Callable[[dict[str, Any]], str]
) -> Callable[[int], str]:
    """A skipped claim row's envelope in any output format: ``claim_response(claim, [])``."""
    text = scan.text

    def envelope(row: int) -> str:
        c = scan.clm[row]
        seg = int(scan.st[int(c[cs.C_ST]), cs.ST_SEG])
        lo, hi = int(scan.seg[seg, cs.SEG_LO]), int(scan.seg[seg, cs.SEG_HI])
        control = [*text(lo, hi).split(chr(scan.buf[lo + 2])), "", "", ""][2]
        sub = scan.hl[int(c[cs.C_S])]
        return render(
            {
                "status": SUCCESS,
                "controlNumber": control,
                "claimReference": {
                    "patientControlNumber": text(int(c[cs.CS_PCN]), int(c[cs.CS_PCN + 1])),
                    "claimType": "PROF",
                    "payerID": text(int(sub[cs.HL_C]), int(sub[cs.HL_C + 1])),
                },
                "errors": [],
            }
        )

    return envelope


#: Text json.dumps leaves as it is (printable ASCII but the quote and the backslash).
_PLAIN: Final = re.compile(r"[ !#-\[\]-~]*").fullmatch
