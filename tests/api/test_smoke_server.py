"""A real server on a loopback port: gunicorn (2 workers) when installed, else werkzeug in a thread.

Gets a token over HTTP, scrubs a JSON claim and an X12 file, and stops the server.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claims.optum import parse_claims_json
from claims.sources import SAMPLES_DIR
from claims.x12 import write_x12
from store import create_client, make_engine, make_sessionmaker

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def wait_healthy(base: str, proc: subprocess.Popen[bytes] | None, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            status, _ = http("GET", base + "/healthcheck")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError("server did not become healthy")


@pytest.fixture
def server(seeded_store: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    db = tmp_path / "store.db"
    shutil.copy(seeded_store, db)
    url = f"sqlite:///{db}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which(
        "gunicorn"
    )
    if gunicorn:
        env = {**os.environ, "CLAIMSCRUB_DATABASE_URL": url}
        env.pop("CLAIMSCRUB_SECRET_KEY", None)  # the workers must share the store's key
        cmd = [gunicorn, "api.app:create_app()", "-w", "2", "-b", f"127.0.0.1:{port}"]
        help_text = subprocess.run([gunicorn, "--help"], capture_output=True, text=True).stdout
        if "--no-control-socket" in help_text:  # gunicorn >= 24: one fixed socket path per user
            cmd.append("--no-control-socket")
        proc = subprocess.Popen(
            [*cmd, "--timeout", "120"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_healthy(base, proc)
            yield base, url
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    else:
        from werkzeug.serving import make_server

        from api.app import create_app
        from api.settings import Settings

        srv = make_server("127.0.0.1", port, create_app(Settings(database_url=url)), threaded=True)
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        try:
            wait_healthy(base, None)
            yield base, url
        finally:
            srv.shutdown()
            thread.join(timeout=10)


def test_token_and_scrubs_over_http(server: tuple[str, str]) -> None:
    base, url = server
    with make_sessionmaker(make_engine(url)).begin() as s:
        made = create_client(
            s, "smoke", ["submitter"], ["general-professional", "general-institutional"]
        )
        cid, secret = made.client.client_id, made.client_secret
    form = urllib.parse.urlencode(
        {"client_id": cid, "client_secret": secret, "grant_type": "client_credentials"}
    ).encode()
    status, tok = http(
        "POST",
        base + "/v1/oauth/token",
        form,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200, tok
    auth = {"Authorization": f"Bearer {tok['access_token']}"}
    claim = (SAMPLES_DIR / "professional-edits.json").read_bytes()
    for _ in range(4):  # several requests, so both workers see the token
        status, env = http(
            "POST",
            base + "/v1/claims/professional/scrub",
            claim,
            {**auth, "Content-Type": "application/json"},
        )
        assert status == 200, env
        assert env["status"] == "EDITS"
    claims = parse_claims_json(json.loads(claim)) + parse_claims_json(
        json.loads((SAMPLES_DIR / "institutional-clean.json").read_bytes())
    )
    status, envs = http("POST", base + "/v1/claims/x12/scrub", write_x12(claims), auth)
    assert status == 200, envs
    assert envs[0]["status"] == "EDITS" and len(envs) == 2
    status, problem = http("POST", base + "/v1/claims/x12/scrub", b"not x12", auth)
    assert status == 400 and problem["status"] == 400
