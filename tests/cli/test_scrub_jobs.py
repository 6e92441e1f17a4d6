"""``claimscrub scrub --jobs N`` writes exactly what ``--jobs 1`` writes, errors included."""

from __future__ import annotations

import faulthandler
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import api.commands.scrub as scrub_module
import api.scrub_parallel as parallel
from api.cli import main
from claims.model import Claim, ClaimKind, Diagnosis, DiagnosisRole, Person, ServiceLine
from claims.optum import claim_to_json
from claims.sources import SAMPLES_DIR
from claims.x12 import WriteOptions, write_x12
from claims.x12.split import plan_pieces

CODES = ("99213", "27447", "87070", "A0425", "93000", "J1100")


def _claims(first: int, n: int) -> list[Claim]:
    out = []
    for i in range(first, first + n):
        lines = tuple(
            ServiceLine(
                j + 1,
                Decimal(10 + (i * 7 + j) % 300),
                Decimal(1 + (i + j) % 3),
                CODES[(i + j) % len(CODES)],
                modifiers=("50",) if (i + j) % 5 == 0 else (),
                diagnosis_pointers=(1,),
                service_date=date(2025, 1 + i % 12, 1 + j),
            )
            for j in range(1 + i % 3)
        )
        out.append(
            Claim(
                kind=ClaimKind.PROFESSIONAL,
                control_number=f"{i:04d}",
                patient_control_number=f"PCN{i}",
                total_charge=sum((ln.charge for ln in lines), Decimal(0)) + (i % 4 == 0),
                facility_code="11",
                frequency_code="1",
                subscriber=Person(last_name="TEST", first_name="P", member_id=f"M{i}"),
                diagnoses=(Diagnosis("M1711" if i % 6 else "E11", DiagnosisRole.PRINCIPAL),),
                lines=lines,
            )
        )
    return out


def _x12(n_claims: int, per_interchange: int = 25) -> bytes:
    opts = WriteOptions(timestamp=datetime(2025, 1, 1))
    parts = [
        write_x12(_claims(s, min(per_interchange, n_claims - s)), opts)
        for s in range(0, n_claims, per_interchange)
    ]
    return b"\n".join(parts)


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut every file, in pieces of a few claims, and batch by 7 claims: many boundaries."""
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)
    monkeypatch.setattr(scrub_module, "CHUNK", 7)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["scrub", *args], catch_exceptions=False)
    return result.exit_code, result.stdout


def _same(*args: str, fmt: str = "jsonl") -> str:
    one = _run(*args, "--format", fmt, "--fail-on", "warning")
    two = _run(*args, "--format", fmt, "--fail-on", "warning", "--jobs", "2")
    assert two == one
    return one[1]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "table"])
def test_bundled_samples(fmt: str) -> None:
    assert _same(str(SAMPLES_DIR), fmt=fmt)


def test_reference_samples(x12_samples_dir: Path) -> None:
    assert _same(str(x12_samples_dir))


def test_reference_samples_cut(x12_samples_dir: Path, small_pieces: None) -> None:
    assert _same(str(x12_samples_dir))


def test_multi_transaction_file_is_cut_and_identical(tmp_path: Path, small_pieces: None) -> None:
    path = tmp_path / "many.837"
    path.write_bytes(_x12(120))
    pieces = plan_pieces(path, 7)
    assert pieces is not None and len(pieces) > 10
    out = _same(str(path), str(SAMPLES_DIR))
    pcns = {json.loads(r)["claimReference"].get("patientControlNumber") for r in out.splitlines()}
    assert {f"PCN{i}" for i in range(120)} <= pcns
    for fmt in ("json", "csv", "table"):  # the columnar path renders every format
        assert _same(str(path), fmt=fmt)


def test_broken_claim_and_bad_counts_reported_once(tmp_path: Path, small_pieces: None) -> None:
    data = _x12(90)
    claims = data.split(b"~CLM*")
    claims[45] = claims[45].replace(b"DTP*472*D8*2025", b"DTP*472*D8*20X5", 1)
    data = b"~CLM*".join(claims)
    se = data.split(b"~SE*")
    se[30] = b"999" + se[30][se[30].index(b"*") :]
    data = b"~SE*".join(se)
    ge = data.split(b"~GE*")
    ge[2] = b"77" + ge[2][ge[2].index(b"*") :]
    data = b"~GE*".join(ge)
    path = tmp_path / "broken.837"
    path.write_bytes(data)
    assert plan_pieces(path, 7) is not None
    out = _same(str(path))
    for code in ("X12-E021", "X12-E014", "X12-E012"):
        assert out.count(f'"code":"{code}"') == 1


def test_unclean_envelopes_fall_back(tmp_path: Path, small_pieces: None) -> None:
    data = _x12(60)
    path = tmp_path / "nose.837"
    path.write_bytes(data.replace(b"~SE*", b"~XX*", 1))  # an ST with no SE
    assert plan_pieces(path, 7) is None
    assert "X12-E005" in _same(str(path))
    junk = tmp_path / "junk.837"
    body = data.split(b"~CLM*")
    body[20] = body[20] + b"~ZZ*1" * 150  # too many unreadable segments: the read stops
    junk.write_bytes(b"~CLM*".join(body))
    assert plan_pieces(junk, 7) is not None
    assert "X12-E007" in _same(str(junk))


def test_json_input_falls_back(tmp_path: Path, small_pieces: None) -> None:
    path = tmp_path / "claims.json"
    path.write_text(json.dumps([claim_to_json(c) for c in _claims(0, 30)]))
    assert _same(str(path), str(SAMPLES_DIR / "mixed-batch.837"))
    monkeypatched_default = _run(str(path), "--format", "jsonl", "--jobs", "0")
    assert monkeypatched_default == _run(str(path), "--format", "jsonl")


def test_default_jobs_follow_input_size(tmp_path: Path) -> None:
    from api.commands.scrub import _cpus, _jobs
    from api.scrub_parallel import SMALL_FILE_BYTES

    small, big = tmp_path / "small.837", tmp_path / "big.837"
    small.write_bytes(b"x" * 100)
    with big.open("wb") as f:
        f.truncate(SMALL_FILE_BYTES)  # sparse: size without the disk
    assert _jobs(None, [small]) == 1
    assert _jobs(None, [big]) == _cpus()
    assert _jobs(None, [small, tmp_path / "gone.837"]) == 1  # a vanished path is not an error here
    assert _jobs(3, [small]) == 3
    assert _jobs(0, [small]) == _cpus() >= 1


def test_table_ends_with_the_totals(tmp_path: Path, small_pieces: None) -> None:
    """The table's last line counts claims and edits; one worker or several, the same line."""
    path = tmp_path / "many.837"
    path.write_bytes(_x12(60))
    _, jsonl = _run(str(path), "--format", "jsonl", "--fail-on", "never", "--jobs", "1")
    envs = [json.loads(row) for row in jsonl.splitlines()]
    edited = [e for e in envs if e["status"] == "EDITS"]
    severities: dict[str, int] = {}
    for env in edited:
        for err in env["errors"]:
            severities[err["severity"]] = severities.get(err["severity"], 0) + 1
    assert edited and len(envs) == 60
    table = _same(str(path), fmt="table")
    last = table.splitlines()[-1]
    assert last.startswith(f"60 claims scrubbed, {len(edited)} with edits (")
    assert f"{severities['error']} error" in last and last.endswith("; 0 unreadable input(s)")


def test_tally_summary_wording() -> None:
    from api.scrub_parallel import Tally

    t = Tally()
    assert t.summary(0) == "0 claims scrubbed, 0 with edits; 0 unreadable input(s)"
    other = Tally(claims=2, edited=1, by_severity={"warning": 1, "error": 2}, worst=2)
    t.merge(other)
    t.merge(other)
    assert t.summary(3) == (
        "4 claims scrubbed, 2 with edits (4 errors, 2 warnings); 3 unreadable input(s)"
    )
    assert t.worst == 2


def test_one_process_large_file_takes_the_columnar_path(
    tmp_path: Path, small_pieces: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--jobs 1`` on a large 837P is cut into pieces in-process (columnar ingest): same output."""
    data = _x12(90)
    claims = data.split(b"~CLM*")
    claims[40] = claims[40].replace(b"DTP*472*D8*2025", b"DTP*472*D8*20X5", 1)
    path = tmp_path / "big.837"
    path.write_bytes(b"~CLM*".join(claims))
    args = (str(path), "--format", "jsonl", "--fail-on", "warning", "--jobs", "1")
    monkeypatch.setenv("CLAIMSCRUB_COLUMNAR", "off")
    reference = _run(*args)
    monkeypatch.delenv("CLAIMSCRUB_COLUMNAR")
    monkeypatch.setattr(scrub_module, "SMALL_FILE_BYTES", 0)
    calls: list[object] = []
    real = parallel.fast_piece

    def counted(*a: object, **k: object) -> object:
        calls.append(a)
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "fast_piece", counted)
    assert _run(*args) == reference
    assert len(calls) > 3  # every piece went through the columnar path, in this process
    assert '"code":"X12-E021"' in reference[1]


def test_columnar_defect_falls_back_to_the_object_reader(
    tmp_path: Path,
    small_pieces: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An exception inside the columnar path is logged (type only) and the piece read as before."""
    path = tmp_path / "big.837"
    path.write_bytes(_x12(40))
    args = (str(path), "--format", "jsonl", "--fail-on", "warning", "--jobs", "1")
    monkeypatch.setattr(scrub_module, "SMALL_FILE_BYTES", 0)
    reference = _run(*args)

    def broken(*a: object, **k: object) -> object:
        raise KeyError("PCN7")  # a message that must not reach the log

    monkeypatch.setattr(parallel, "fast_piece", broken)
    with caplog.at_level("WARNING", logger="claimscrub.scrub"):
        assert _run(*args) == reference
    assert "KeyError" in caplog.text
    assert "PCN7" not in caplog.text


def test_planning_thread_is_joined_before_workers_fork(
    tmp_path: Path, small_pieces: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pieces are planned in a thread while the packs compile; no worker may be forked while it
    runs (a fork while it holds Numba's compiler lock hung a child for ever, once)."""
    import threading
    import time

    path = tmp_path / "big.837"
    path.write_bytes(_x12(40))
    monkeypatch.setattr(scrub_module, "SMALL_FILE_BYTES", 0)
    real_plan = parallel._plan

    def slow_plan(p: Path, chunk: int) -> object:
        time.sleep(0.5)  # still planning when the packs are ready
        return real_plan(p, chunk)

    monkeypatch.setattr(parallel, "_plan", slow_plan)
    alive_at_fork: list[list[str]] = []
    real_context = parallel.mp.get_context

    def context(method: str | None = None) -> object:
        ctx = real_context(method)

        class Recording:
            def __getattr__(self, name: str) -> object:
                return getattr(ctx, name)

            def Pool(self, *a: object, **k: object) -> object:
                alive_at_fork.append([t.name for t in threading.enumerate()])
                return ctx.Pool(*a, **k)  # type: ignore[arg-type]

        return Recording()

    monkeypatch.setattr(parallel.mp, "get_context", context)
    # Were the bug back, the run would hang, not fail: end the test process after 120 s instead.
    faulthandler.dump_traceback_later(120, exit=True)
    try:
        code, out = _run(str(path), "--format", "jsonl", "--fail-on", "never", "--jobs", "2")
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert code == 0 and out.count("\n") == 40
    assert alive_at_fork
    assert not any("claimscrub-plan" in name for names in alive_at_fork for name in names)
