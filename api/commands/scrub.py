"""``claimscrub scrub``: scrub claim files against knowledge packs and report the edits.

Claims stream from the files in chunks, so a file of millions of claims is scrubbed in bounded
memory; the output is one envelope per claim (``api.envelope``) in the chosen format.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gc
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any, Literal

import click

from api.envelope import claim_response, error_response, structure_error, success_jsonl
from api.packrefs import PackRefError, PackRefs
from api.scrub_fast import usable_for
from api.scrub_history import HistoryRecorder
from api.scrub_parallel import (
    SMALL_FILE_BYTES,
    Options,
    PlanPrefetch,
    Regrouper,
    Tally,
    columnar_enabled,
    parallel_envelopes,
)
from claims.model import Claim
from claims.sources import SAMPLES_DIR, SourceItem, iter_claims, walk_paths
from dsl import CompileError
from engine.scrubber import Scrubber
from knowledge_packs import bundled_pack_dirs

__all__ = ["scrub_command"]

CHUNK = 10_000


def _cpus() -> int:
    """CPUs this process may run on (the affinity mask in a container, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def _jobs(asked: int | None, paths: Sequence[Path]) -> int:
    """Worker processes: as asked (0: one per CPU); by default parallel only for large input.

    Why a size threshold: forking workers costs ~0.1 s, more than a small file takes to scrub,
    and a file below ``SMALL_FILE_BYTES`` is one piece of work anyway.
    """
    if asked is not None:
        return asked or _cpus()
    return _cpus() if _input_bytes(paths) >= SMALL_FILE_BYTES else 1


def _input_bytes(paths: Sequence[Path]) -> int:
    total = 0
    for p in paths:
        with contextlib.suppress(OSError):
            total += p.stat().st_size
    return total


def _history(
    record: bool, database: str | None, jobs: int | None, scrubber: Scrubber
) -> HistoryRecorder | None:
    """The scrub-history recorder for ``--record`` (None without it); checks its preconditions."""
    if not record:
        return None
    if database is None:
        raise click.UsageError("--record writes to the store's scrub history: give --database")
    if jobs not in (None, 1):
        raise click.UsageError("--record scrubs in one process: leave out --jobs or use --jobs 1")
    from sqlalchemy.exc import SQLAlchemyError

    from store.errors import StoreError

    packs = [(p.data.name, p.data.version) for p in scrubber.packs.values()]
    try:
        return HistoryRecorder(database, packs)
    except (StoreError, SQLAlchemyError) as exc:
        raise click.UsageError(f"store: {exc}".splitlines()[0]) from None


def batch_gc_policy() -> None:
    """Tune the cyclic garbage collector for a long batch scrub (the CLI process only).

    Why: reading a file allocates millions of small objects (segments, claims) that live until
    their chunk is scrubbed, and none of them form cycles.  With the default thresholds the
    collector ran full (generation 2) passes over them and over the loaded packs (code sets,
    ICD-10-CM list, tables): 1.4 s of a 2.3 s read of 200,000 lines.  ``gc.freeze`` moves what
    is loaded so far (packs, modules) out of every later collection, and a larger first threshold
    makes collections rare.  Cycles are still collected; memory stays bounded by the chunk size.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


_FAIL_ON = {"never": 99, "warning": 1, "error": 2}


def _error_envelope(item: SourceItem) -> dict[str, Any]:
    err = item.error
    code = getattr(err, "code", "IN-E000")
    location = str(getattr(err, "location", "") or "")
    control = str(getattr(err, "transaction_control_number", "") or "")
    entry = structure_error(code=code, description=str(err), location=location)
    return error_response(control, [entry], file=item.file)


def _chunks(files: Sequence[Path]) -> Iterator[tuple[list[Claim], list[dict[str, Any]]]]:
    """Claims in chunks of CHUNK, each with the error envelopes met while reading them."""
    claims: list[Claim] = []
    errors: list[dict[str, Any]] = []
    for path in files:
        for item in iter_claims(path):
            if item.claim is not None:
                claims.append(item.claim)
            else:
                errors.append(_error_envelope(item))
            if len(claims) >= CHUNK:
                yield claims, errors
                claims, errors = [], []
    if claims or errors:
        yield claims, errors


def _render(fmt: str, env: dict[str, Any]) -> str:
    """One envelope as ``_Writer.write`` writes it (for json without the separator before it)."""
    if fmt == "jsonl":
        return json.dumps(env, separators=(",", ":")) + "\n"
    if fmt == "json":
        return json.dumps(env, indent=2)
    buf = io.StringIO()
    if fmt == "csv":
        rows = csv.writer(buf)
        for e in env["errors"] or [{}]:
            rows.writerow(
                [
                    env["controlNumber"],
                    env["status"],
                    e.get("ruleId", ""),
                    e.get("pack", ""),
                    e.get("packVersion", ""),
                    e.get("category", ""),
                    e.get("severity", ""),
                    " ".join(str(n) for n in e.get("lines", [])),
                    e.get("field", ""),
                    e.get("value", ""),
                    e.get("location", ""),
                    e.get("description", ""),
                ]
            )
        return buf.getvalue()
    pcn = env.get("claimReference", {}).get("patientControlNumber", "")
    buf.write(f"claim {env['controlNumber']} {pcn}: {env['status']}\n")
    for e in env["errors"]:
        lines = ",".join(str(n) for n in e["lines"])
        where = " ".join(x for x in (e["location"], f"lines {lines}" if lines else "") if x)
        buf.write(f"  {e['severity']:<7} {e['ruleId']:<14} {e['category']:<22} {where}\n")
        buf.write(f"          {e['description']}\n")
    return buf.getvalue()


class _Writer:
    """Writes envelopes in one of the output formats."""

    def __init__(self, out: IO[str], fmt: str) -> None:
        self.out, self.fmt, self.count = out, fmt, 0
        self._csv = csv.writer(out) if fmt == "csv" else None
        if self._csv is not None:
            self._csv.writerow(
                [
                    "controlNumber",
                    "status",
                    "ruleId",
                    "pack",
                    "packVersion",
                    "category",
                    "severity",
                    "lines",
                    "field",
                    "value",
                    "location",
                    "description",
                ]
            )
        elif fmt == "json":
            out.write("[")

    def write(self, env: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            self.out.write(json.dumps(env, separators=(",", ":")) + "\n")
        elif self.fmt == "json":
            self.out.write(("\n" if self.count == 0 else ",\n") + json.dumps(env, indent=2))
        elif self._csv is not None:
            for e in env["errors"] or [{}]:
                self._csv.writerow(
                    [
                        env["controlNumber"],
                        env["status"],
                        e.get("ruleId", ""),
                        e.get("pack", ""),
                        e.get("packVersion", ""),
                        e.get("category", ""),
                        e.get("severity", ""),
                        " ".join(str(n) for n in e.get("lines", [])),
                        e.get("field", ""),
                        e.get("value", ""),
                        e.get("location", ""),
                        e.get("description", ""),
                    ]
                )
        else:
            self._table(env)
        self.count += 1

    def write_text(self, text: str) -> None:
        """Write one envelope serialised by ``_render``."""
        if self.fmt == "json":
            self.out.write(("\n" if self.count == 0 else ",\n") + text)
        else:
            self.out.write(text)
        self.count += 1

    def write_texts(self, texts: Sequence[str]) -> None:
        """Write envelopes serialised by ``_render``: ``write_text`` of each, in one write."""
        if not texts:
            return
        if self.fmt == "json":
            self.out.write(("\n" if self.count == 0 else ",\n") + ",\n".join(texts))
        else:
            self.out.write("".join(texts))
        self.count += len(texts)

    def _table(self, env: dict[str, Any]) -> None:
        pcn = env.get("claimReference", {}).get("patientControlNumber", "")
        self.out.write(f"claim {env['controlNumber']} {pcn}: {env['status']}\n")
        for e in env["errors"]:
            lines = ",".join(str(n) for n in e["lines"])
            where = " ".join(x for x in (e["location"], f"lines {lines}" if lines else "") if x)
            self.out.write(f"  {e['severity']:<7} {e['ruleId']:<14} {e['category']:<22} {where}\n")
            self.out.write(f"          {e['description']}\n")

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write("\n]\n")
        self.out.flush()


def _build_scrubber(
    dirs: tuple[Path, ...], data_dir: Path | None, content: tuple[str | None, ...]
) -> Scrubber:
    """The scrubber of a worker process started with ``spawn`` (``fork`` inherits the parent's)."""
    with _data_dir(data_dir):
        return Scrubber.from_directories(list(dirs), content=content)


@contextlib.contextmanager
def _data_dir(path: Path | None) -> Iterator[None]:
    """``CLAIMSCRUB_DATA_DIR`` set to ``path`` while the packs load, then restored.

    Tables are read when the packs load; restoring keeps one invocation from leaking its data
    directory into the next in the same process (the test suite, the API's CLI helpers).
    """
    if path is None:
        yield
        return
    old = os.environ.get("CLAIMSCRUB_DATA_DIR")
    os.environ["CLAIMSCRUB_DATA_DIR"] = str(path)
    try:
        yield
    finally:
        if old is None:
            del os.environ["CLAIMSCRUB_DATA_DIR"]
        else:
            os.environ["CLAIMSCRUB_DATA_DIR"] = old


def _pack_dirs(
    refs: PackRefs,
    database: str | None,
    environment: str,
    requested: list[str],
    extra: tuple[Path, ...],
) -> tuple[list[Path], list[str | None]]:
    """The pack directories to load: bundled ones, or the store's versions exported to temp dirs.

    With a database, every pack of ``environment`` runs at its pointed version, except that a
    requested ``PACK@VERSION`` pins that pack (for reproducible runs).  Second: each directory's
    content hash when it is an exported store version (the compiled-pack cache key), else None.
    """
    if database is None:
        pinned = [r for r in requested if "@" in r]
        if pinned:
            raise PackRefError(f"{pinned[0]}: pinning a version needs --database (the store)")
        dirs = [*bundled_pack_dirs(), *extra]
        return dirs, [None] * len(dirs)
    from sqlalchemy.exc import SQLAlchemyError

    from store import make_engine, make_sessionmaker
    from store.errors import StoreError
    from store.service import environment_versions

    try:
        with make_sessionmaker(make_engine(database)).begin() as session:
            versions = {n: v.version for n, v in environment_versions(session, environment).items()}
    except (StoreError, SQLAlchemyError) as exc:
        raise PackRefError(f"store: {exc.__class__.__name__}: {exc}".splitlines()[0]) from None
    for ref in requested:
        name, _, version = ref.partition("@")
        if version:
            versions[name] = version
    resolved = [refs.resolve(f"{name}@{version}") for name, version in sorted(versions.items())]
    return (
        [*(r.directory for r in resolved), *extra],
        [*(r.content_hash or None for r in resolved), *(None for _ in extra)],
    )


@click.command("scrub")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option(
    "--packs", default="", help="Comma-separated pack names (default: every bundled pack)."
)
@click.option(
    "--packs-dir",
    "packs_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Extra pack directories to load (repeatable).",
)
@click.option(
    "--database",
    metavar="URL",
    envvar="CLAIMSCRUB_DATABASE_URL",
    help="Scrub with the store's published versions (of --env) instead of the bundled packs; "
    "--packs may then pin PACK@VERSION.  Default: $CLAIMSCRUB_DATABASE_URL.",
)
@click.option(
    "--env",
    "environment",
    default="production",
    show_default=True,
    help="With --database: the environment whose versions run.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Directory of large or licensed reference files (real CMS NCCI/MUE, HCPCS) that "
    "replace the packs' bundled synthetic tables of the same name; sets $CLAIMSCRUB_DATA_DIR.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Select rules and table rows as of this date instead of each claim's service date.",
)
@click.option(
    "--processing-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date the claims are processed (received): the value of processing_date() in the "
    "rules (timely filing, future dates of service).  Default: today's date.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "jsonl", "csv", "table"]),
    default="table",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report here instead of stdout.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["never", "warning", "error"]),
    default="error",
    show_default=True,
    help="Exit 1 when an edit of at least this severity fired.",
)
@click.option(
    "--evaluator", type=click.Choice(["numba", "reference"]), default="numba", show_default=True
)
@click.option(
    "--explain", is_flag=True, help="Add each edit's explanation (values read, table rows)."
)
@click.option(
    "--record",
    is_flag=True,
    help="With --database: add every scrubbed claim to the store's scrub history (keyed hash of "
    "the control number, pack versions, edit identifiers; no patient data).  Runs in one process.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=None,
    help="Worker processes (0: one per CPU; default: one per CPU when the input holds at least "
    "8 MB, else 1).  The output is the same for any number.",
)
def scrub_command(
    files: tuple[Path, ...],
    packs: str,
    packs_dirs: tuple[Path, ...],
    database: str | None,
    environment: str,
    data_dir: Path | None,
    as_of: Any,
    processing_date: Any,
    fmt: str,
    output: Path | None,
    fail_on: str,
    evaluator: Literal["numba", "reference"],
    explain: bool,
    record: bool,
    jobs: int | None,
) -> None:
    """Scrub claims in FILES (X12 837P/837I or Optum JSON; directories are walked).

    With no FILES, scrubs the bundled sample claims.  Exit codes: 0 clean (or below --fail-on),
    1 edits at or above --fail-on, 2 unreadable input or a pack that does not compile.
    """
    paths = list(walk_paths(files or [SAMPLES_DIR]))
    as_of_date: date | None = as_of.date() if as_of is not None else None
    # the CLI may read the clock; the engine never does (it gets the date as an argument)
    processed: date = processing_date.date() if processing_date is not None else date.today()
    requested = [p.strip() for p in packs.split(",") if p.strip()]
    # Cutting a large file into pieces is compiled code that releases the GIL: plan while the
    # packs compile (~0.2 s of a 96 MB file off the wall time).  Unused plans are dropped.
    big = _input_bytes(paths) >= SMALL_FILE_BYTES
    prefetched = PlanPrefetch(paths, CHUNK) if big else None
    with PackRefs(database) as refs, _data_dir(data_dir):
        try:
            dirs, content = _pack_dirs(refs, database, environment, requested, packs_dirs)
            # store versions are exported to a new temporary directory each run: cached by
            # their content hash, not by that directory's path
            scrubber = Scrubber.from_directories(dirs, content=content)
        except PackRefError as exc:
            raise click.UsageError(str(exc)) from None
        except CompileError as exc:
            for diag in exc.diagnostics:
                s = diag.span
                click.echo(
                    f"{s.file}:{s.line}:{s.column}: {diag.severity}[{diag.code}]: {diag.message}",
                    err=True,
                )
            raise SystemExit(2) from None
    batch_gc_policy()  # after the packs are loaded: they are frozen out of collections
    known = sorted(scrubber.packs)
    selected = [r.partition("@")[0] for r in requested] or None
    unknown = sorted(set(selected or ()) - set(known))
    if unknown:
        raise click.UsageError(f"unknown pack(s): {', '.join(unknown)}; known: {', '.join(known)}")
    history = _history(record, database, jobs, scrubber)
    if history is not None:
        jobs = 1
    tally, input_errors = Tally(), 0
    out: IO[str] = output.open("w", encoding="utf-8") if output else sys.stdout
    progress = sys.stderr.isatty()
    writer = _Writer(out, fmt)
    scrubbed = 0
    jobs = _jobs(jobs, paths)
    # One process, a large X12 file: still cut into pieces, for the columnar ingest (it skips the
    # objects of clean claims); the output is the same as the object path's.
    piecewise = jobs > 1 or (
        history is None
        and _input_bytes(paths) >= SMALL_FILE_BYTES
        and columnar_enabled()
        and usable_for(scrubber, selected, fmt, evaluator)
    )
    try:
        if piecewise:
            opts = Options(selected, as_of_date, explain, evaluator, processed, CHUNK, fmt)
            build = functools.partial(_build_scrubber, tuple(dirs), data_dir, tuple(content))

            def show(n: int) -> None:
                if progress:
                    click.echo(f"\rscrubbed {n} claims", err=True, nl=False)

            sink = Regrouper(writer.write_texts, CHUNK, show)
            render = functools.partial(_render, fmt)
            parallel_envelopes(
                paths, jobs, scrubber, build, opts, render, _error_envelope, sink, prefetched
            )
            tally, input_errors = sink.tally, sink.input_errors
        for claims, errors in _chunks([] if piecewise else paths):
            for env in errors:
                writer.write(env)
            input_errors += len(errors)
            results = scrubber.scrub(
                claims,
                packs=selected,
                as_of=as_of_date,
                explain=explain,
                evaluator=evaluator,
                processing_date=processed,
            )
            if history is not None:
                history.record(claims, results)
            for claim, edits in zip(claims, results, strict=True):
                if edits or fmt != "jsonl":
                    writer.write(claim_response(claim, edits, explain=explain))
                else:
                    writer.write_text(success_jsonl(claim))
                tally.add_claim(edits)
            scrubbed += len(claims)
            if progress:
                click.echo(f"\rscrubbed {scrubbed} claims", err=True, nl=False)
        summary = tally.summary(input_errors)
        if fmt == "table":  # the table is for people: end it with the totals
            out.write(summary + "\n")
    finally:
        writer.close()
        if output:
            out.close()
        if history is not None:
            history.close()
    if progress:
        click.echo("", err=True)
        if fmt != "table" or output:
            click.echo(summary, err=True)
    if input_errors:
        raise SystemExit(2)
    if tally.worst >= _FAIL_ON[fail_on]:
        raise SystemExit(1)
