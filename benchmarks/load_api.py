"""Load test of the HTTP API: gunicorn with 2 workers on loopback, single-claim professional scrubs.

    .venv/bin/python benchmarks/load_api.py --seconds 30 --rate 100

Starts gunicorn (``api.app:create_app()``) on a free loopback port against a fresh SQLite store
seeded with the bundled packs (or ``--database URL``), creates a submitter client, gets a token,
then sends ``POST /v1/claims/professional/scrub`` (claims/samples/professional-edits.json) at the
target rate from a pool of threads for the given time, and reports p50/p90/p99 latency, errors and
throughput.  Requests are scheduled open-loop (request i at t0 + i/rate); latency is measured from
the scheduled time, so a server that falls behind shows it in the tail instead of hiding it
(coordinated omission).  ``--rates 200,300,400`` runs a ramp, one step of ``--seconds`` per rate
against the same server.  Each step prints the 1-minute load average seen while it ran (the machine
may be shared).  At the end gunicorn gets SIGTERM and the scrub history is counted: every 200 must
have its row (the workers drain their batched history on exit).  ``LOAD_QUIET=1`` hides the server
log.  Not collected by pytest (no ``test_``/``bench_`` prefix).

    .venv/bin/python benchmarks/load_api.py --seconds 60 --rate 200
    .venv/bin/python benchmarks/load_api.py --seconds 20 --rates 200,300,400,500,600
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402

from api.commands.serve import prepare_store  # noqa: E402
from claims.sources import SAMPLES_DIR  # noqa: E402
from store import create_client, make_engine, make_sessionmaker  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(
    port: int, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def wait_healthy(port: int, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            if request(port, "GET", "/healthcheck", b"", {})[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not become healthy")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


class LoadSampler:
    """The 1-minute load average, sampled every second while a step runs (the machine is shared)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(1.0)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        if not self.samples:
            return "n/a"
        values = self.samples
        return f"{min(values):.2f}-{max(values):.2f} (mean {statistics.fmean(values):.2f})"


def run_step(
    port: int, claim: bytes, headers: dict[str, str], rate: float, seconds: float, threads: int
) -> tuple[int, int]:
    """Send ``rate`` req/s for ``seconds`` open-loop; print the figures; (ok, errors)."""
    latencies: list[float] = []
    service: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    total = int(seconds * rate)
    counter = iter(range(total))
    t0 = time.monotonic() + 0.2

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            scheduled = t0 + i / rate
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent = time.monotonic()
            try:
                code, _ = request(port, "POST", "/v1/claims/professional/scrub", claim, headers)
                key = "" if code == 200 else f"HTTP {code}"
            except OSError as exc:
                key = type(exc).__name__
            done = time.monotonic()
            with lock:
                if key:
                    errors[key] = errors.get(key, 0) + 1
                else:
                    latencies.append((done - scheduled) * 1000)
                    service.append((done - sent) * 1000)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    with LoadSampler() as load:
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    elapsed = time.monotonic() - t0
    ok = len(latencies)
    print(f"target {rate:.0f} req/s for {seconds:.0f} s, {threads} client threads")
    print(f"  sent {total}, ok {ok}, errors {sum(errors.values())} {errors or ''}")
    print(f"  throughput {ok / elapsed:.1f} req/s over {elapsed:.1f} s")
    for name, values in (("latency (from schedule)", latencies), ("service time", service)):
        print(
            f"  {name}: p50 {percentile(values, 50):.1f} ms  "
            f"p90 {percentile(values, 90):.1f} ms  p99 {percentile(values, 99):.1f} ms  "
            f"max {max(values, default=0):.1f} ms  "
            f"mean {statistics.fmean(values) if values else 0:.1f} ms"
        )
    print(f"  load average (1 min) during the step: {load.summary()}", flush=True)
    return ok, sum(errors.values())


def count_history(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM scrub_record")).scalar_one())
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, default=100, help="target requests per second")
    parser.add_argument(
        "--rates", help="a ramp: comma-separated rates run one after the other (overrides --rate)"
    )
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", help="store URL (default: a fresh seeded SQLite file)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="claimscrub-load-"))
    url = args.database or f"sqlite:///{tmp / 'store.db'}"
    engine = make_engine(url)
    prepare_store(engine)
    with make_sessionmaker(engine).begin() as s:
        packs = ["general-professional", "medicare"]
        made = create_client(s, "load", ["submitter"], packs)
        cid, secret = made.client.client_id, made.client_secret
    engine.dispose()

    port = free_port()
    env = {**os.environ, "CLAIMSCRUB_DATABASE_URL": url}
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    cmd = [gunicorn, "api.app:create_app()", "-w", str(args.workers), "-b", f"127.0.0.1:{port}"]
    help_text = subprocess.run([gunicorn, "--help"], capture_output=True, text=True).stdout
    if "--no-control-socket" in help_text:  # gunicorn >= 24: one fixed socket path per user
        cmd.append("--no-control-socket")
    proc = subprocess.Popen(
        [*cmd, "--timeout", "120"],
        cwd=REPO,
        env=env,
        stderr=subprocess.DEVNULL if os.environ.get("LOAD_QUIET") else None,
    )
    try:
        started = time.monotonic()
        wait_healthy(port, proc)
        print(f"gunicorn -w {args.workers} ready in {time.monotonic() - started:.1f} s")
        form = urllib.parse.urlencode(
            {"client_id": cid, "client_secret": secret, "grant_type": "client_credentials"}
        ).encode()
        status, body = request(
            port,
            "POST",
            "/v1/oauth/token",
            form,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 200:
            raise SystemExit(f"token: {status} {body[:200]!r}")
        token = json.loads(body)["access_token"]
        claim = (SAMPLES_DIR / "professional-edits.json").read_bytes()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        # Warm each worker's first request path.
        for _ in range(args.workers * 4):
            request(port, "POST", "/v1/claims/professional/scrub", claim, headers)

        rates = [float(r) for r in args.rates.split(",")] if args.rates else [args.rate]
        ok_total, error_total = args.workers * 4, 0
        for rate in rates:
            ok, errs = run_step(port, claim, headers, rate, args.seconds, args.threads)
            ok_total, error_total = ok_total + ok, error_total + errs
    except BaseException:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # SIGTERM: each worker drains its queued scrub history before it exits.
    proc.terminate()
    proc.wait(timeout=30)
    try:
        if not args.database:
            rows = count_history(url)
            verdict = "all recorded" if rows == ok_total else f"MISSING {ok_total - rows}"
            print(f"scrub history after shutdown: {rows} rows for {ok_total} scrubs ({verdict})")
            if rows != ok_total:
                error_total += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if not error_total else 1


if __name__ == "__main__":
    raise SystemExit(main())
