"""The columnar path of ``scrub --jobs`` writes exactly what the object path writes, piece by piece.

``tests/cli/test_scrub_jobs.py`` compares whole runs (``--jobs 2`` takes the columnar path for
``--format jsonl``); here each piece is scrubbed both ways in this process, so a failure names the
piece, and the test also checks that the columnar path was taken and skipped clean claims.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import api.commands.scrub as scrub_module
from api._cleanjson import clean_lines
from api.envelope import success_line
from api.scrub_fast import fast_piece, usable_for
from api.scrub_parallel import Options, Tally, scrub_items
from claims.model import Claim, Party, Person, Provider, ProviderRole
from claims.sources import SAMPLES_DIR, SourceItem
from claims.x12 import WriteOptions, write_x12
from claims.x12.columnar import scan_piece
from claims.x12.split import PieceReader, piece_bytes, plan_pieces, read_piece
from engine.scrubber import Scrubber
from tests.cli.test_scrub_jobs import _claims, _x12

PACKS = Path(__file__).resolve().parents[2] / "knowledge_packs"


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber.from_directories(
        sorted(p for p in PACKS.iterdir() if (p / "pack.toml").is_file())
    )


def _opts(
    fmt: str = "jsonl",
    packs: list[str] | None = None,
    explain: bool = False,
    as_of: date | None = None,
) -> Options:
    return Options(packs, as_of, explain, "numba", date(2026, 11, 26), 7, fmt)


def _object_path(path: Path, piece: Any, scrubber: Scrubber, opts: Options) -> tuple[Any, ...]:
    name = str(path)
    items = (
        SourceItem(name, claim=x) if isinstance(x, Claim) else SourceItem(name, error=x)
        for x in read_piece(PieceReader(name, piece), path)
    )
    render = functools.partial(scrub_module._render, opts.fmt)
    texts: list[str] = []
    kinds = bytearray()
    tally = Tally()
    for part in scrub_items(items, scrubber, opts, render, scrub_module._error_envelope):
        texts.extend(part.texts)
        kinds.extend(part.kinds)
        tally.merge(part.tally)
    return texts, bytes(kinds), tally


def _both(path: Path, scrubber: Scrubber, opts: Options) -> tuple[int, int]:
    """Compare every piece; (claims skipped as clean, claims in the file)."""
    pieces = plan_pieces(path, 5)
    assert pieces is not None
    render = functools.partial(scrub_module._render, opts.fmt)
    skipped = total = 0
    for piece in pieces:
        want_texts, want_kinds, want_tally = _object_path(path, piece, scrubber, opts)
        got = fast_piece(path, piece, scrubber, opts, render, scrub_module._error_envelope)
        assert got is not None
        texts, kinds, edits_of = got
        assert texts == want_texts
        assert bytes(kinds) == want_kinds
        tally = Tally()
        for edits in edits_of:
            tally.add_claim(edits)
        assert tally == want_tally
        scan = scan_piece(piece_bytes(path, piece), piece)
        assert scan is not None
        total += scan.clm.shape[0]
        skipped += int(np.count_nonzero(scan.usable)) - sum(1 for e in edits_of if e)
    return skipped, total


BILLING = Provider(ProviderRole.BILLING, "1234567893", "207Q00000X", "2", "CLINIC", "", "1")


def _mostly_clean(n: int) -> bytes:
    """Claims with a billing provider, payer and patient details: most pass every pack."""
    out = []
    for i, c in enumerate(_claims(0, n)):
        subscriber = Person(
            "LAST", "FIRST", member_id=f"M{i}", birth_date=date(1950, 1, 2), sex="F"
        )
        out.append(
            replace(
                c,
                providers=(BILLING,),
                payer=Party("ACME", "60054"),
                claim_filing_code="CI",
                subscriber=subscriber,
                total_charge=sum((ln.charge for ln in c.lines), Decimal(0)),
            )
        )
    opts = WriteOptions(timestamp=datetime(2025, 1, 1))
    return b"\n".join(write_x12(out[s : s + 25], opts) for s in range(0, n, 25))


def test_generated_file(tmp_path: Path, scrubber: Scrubber) -> None:
    path = tmp_path / "gen.837"
    path.write_bytes(_mostly_clean(150))
    assert usable_for(scrubber, None, "jsonl", "numba")
    skipped, total = _both(path, scrubber, _opts())
    assert total == 150
    assert skipped >= 30  # clean claims that never became objects


def test_values_json_must_escape(tmp_path: Path, scrubber: Scrubber) -> None:
    """Quotes and backslashes in a clean claim's PCN or payer id: the Python path writes it."""
    data = _mostly_clean(30)
    data = data.replace(b"CLM*PCN3*", b'CLM*PC"N3*', 1).replace(b"CLM*PCN5*", b"CLM*PC\\N5*", 1)
    data = data.replace(b"*PI*60054~", b'*PI*600"54~', 1)
    path = tmp_path / "quotes.837"
    path.write_bytes(data)
    skipped, _ = _both(path, scrubber, _opts())
    assert skipped > 0


def test_damaged_file(tmp_path: Path, scrubber: Scrubber) -> None:
    data = _x12(90)
    claims = data.split(b"~CLM*")
    claims[45] = claims[45].replace(b"DTP*472*D8*2025", b"DTP*472*D8*20X5", 1)
    claims[10] = claims[10].replace(b"~LX*1~", b"~LX*1~NTE*ADD*X~", 1)
    claims[20] = claims[20].replace(b"~HI*", b"~HI*BG:01~HI*", 1)
    data = b"~CLM*".join(claims)
    se = data.split(b"~SE*")
    se[30] = b"999" + se[30][se[30].index(b"*") :]
    data = b"~SE*".join(se)
    path = tmp_path / "broken.837"
    path.write_bytes(data)
    _both(path, scrubber, _opts())


def test_explain_and_as_of(tmp_path: Path, scrubber: Scrubber) -> None:
    path = tmp_path / "gen.837"
    path.write_bytes(_mostly_clean(60))
    _both(path, scrubber, _opts(explain=True))
    _both(path, scrubber, _opts(as_of=date(2024, 6, 1)))


def test_selected_pack(tmp_path: Path, scrubber: Scrubber) -> None:
    path = tmp_path / "gen.837"
    path.write_bytes(_x12(40))
    _both(path, scrubber, _opts(packs=["medicare"]))


def test_bundled_sample_twice(tmp_path: Path, scrubber: Scrubber) -> None:
    data = (SAMPLES_DIR / "mixed-batch.837").read_bytes()
    path = tmp_path / "twice.837"
    path.write_bytes(data + b"\n" + data)
    _both(path, scrubber, _opts())


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_other_formats(tmp_path: Path, scrubber: Scrubber, fmt: str) -> None:
    path = tmp_path / "gen.837"
    path.write_bytes(_mostly_clean(40))
    skipped, _ = _both(path, scrubber, _opts(fmt=fmt))
    assert skipped > 0


def test_not_for_the_reference_evaluator(scrubber: Scrubber) -> None:
    assert usable_for(scrubber, None, "json", "numba")
    assert not usable_for(scrubber, None, "jsonl", "reference")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.text(max_size=6), st.text(max_size=12), st.text(max_size=6)), max_size=8)
)
def test_compiled_clean_lines_are_success_jsonl(rows: list[tuple[str, str, str]]) -> None:
    """``clean_lines`` writes ``success_line``'s text, or leaves the row to Python (None)."""
    buf = bytearray()
    spans = []
    for values in rows:
        row = []
        for v in values:
            raw = v.encode("utf-8")
            row += [len(buf), len(buf) + len(raw)] if raw else [-1, -1]
            buf += raw
        spans.append(row)
    arr = np.asarray(spans, dtype=np.int64).reshape(-1, 6)
    got = clean_lines(np.frombuffer(bytes(buf) or b"\0", dtype=np.uint8), arr)
    for (control, pcn, payer), line in zip(rows, got, strict=True):
        if line is not None:
            assert line == success_line(control, pcn, "PROF", payer)
        else:  # left to Python only for a byte outside printable ASCII, a quote or a backslash
            plain = all(32 <= ord(c) <= 126 and c not in '"\\' for c in control + pcn + payer)
            assert not plain


def test_edits_from_scanned_claims(
    tmp_path: Path, scrubber: Scrubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flagged claims' edits come from lazily scanned claims, and equal the reader's claims'.

    Run once as shipped (the bundled packs' edits read only scanned fields, so flagged claims are
    never read as objects) and once with every flagged claim sent to the object reader.
    """
    import api.scrub_fast as fast

    path = tmp_path / "gen.837"
    path.write_bytes(_x12(60))
    made: list[int] = []
    real_scan_claim = fast.scan_claim

    def counting(*args: Any) -> Claim:
        made.append(1)
        return real_scan_claim(*args)

    monkeypatch.setattr(fast, "scan_claim", counting)
    _both(path, scrubber, _opts())
    assert made
    made.clear()
    monkeypatch.setattr(
        fast, "need_objects", lambda done, provided: np.ones(done.batch.n_claims, np.bool_)
    )
    _both(path, scrubber, _opts())
    assert not made


def test_task_runs_without_the_cyclic_collector(
    tmp_path: Path, scrubber: Scrubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's piece runs with the collector off and leaves it as it found it."""
    import gc

    import api.scrub_parallel as par

    path = tmp_path / "gen.837"
    path.write_bytes(_x12(30))
    pieces = plan_pieces(path, 5)
    assert pieces is not None
    opts = _opts()
    render = functools.partial(scrub_module._render, opts.fmt)
    par._init_worker(scrubber, None, opts, render, scrub_module._error_envelope)
    seen: list[bool] = []
    real = par.fast_piece

    def spy(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(par, "fast_piece", spy)
    was = gc.isenabled()
    try:
        for state in (True, False):
            (gc.enable if state else gc.disable)()
            got = par._run_task((path, pieces[0]))
            assert got.texts and gc.isenabled() is state
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == [False, False]
