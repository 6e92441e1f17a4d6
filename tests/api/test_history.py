"""Batched scrub history (``store.scrubs.ScrubHistoryWriter``) and the per-request fast path.

The writer: entries reach the store within the flush interval or as soon as a batch is full, one
transaction per batch; ``close`` (what ``atexit`` runs) drains the queue; a failing store keeps the
entries and is retried; an entry the store refuses as data is dropped alone; a full queue makes the
scrub a 503.  The request path: with warm caches a scrub runs no SQL at all; the environment
pointers and the client are re-read at most once per refresh interval, ahead of time in the
background; a verified token is not verified again, yet revocation and expiry still apply.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from api.routes.runtime import PackRuntime
from store import (
    Actor,
    create_draft,
    make_engine,
    make_sessionmaker,
    promote,
    publish,
    revoke_client,
    scrubs_for_claim,
)
from store.models import PackVersion, ScrubRecord
from store.scrubs import HistoryBacklogError, ScrubEntry, ScrubHistoryWriter
from tests.api.conftest import Api, build_api
from tests.api.test_scrub import PROF, sample


@pytest.fixture
def sessions(store_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(store_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def version_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        found = s.scalars(select(PackVersion.id).order_by(PackVersion.id)).first()
        assert found is not None
        return found


def entry(n: int, version_id: int, **kw: Any) -> ScrubEntry:
    return ScrubEntry(f"CN-{n:06d}", (version_id, version_id), [{"ruleId": "R1"}], "EDITS", **kw)


def count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(ScrubRecord)) or 0)


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def test_entries_are_written_within_the_interval_in_batches(
    sessions: sessionmaker[Session], version_id: int
) -> None:
    writer = ScrubHistoryWriter(sessions, interval=0.05, batch_size=50)
    try:
        writer.submit(entry(i, version_id) for i in range(120))
        assert wait_until(lambda: count(sessions) == 120)  # no flush() call: the thread does it
        # the thread takes a batch off the queue just after its commit: wait for that too
        assert wait_until(lambda: writer.pending == 0)
        assert 3 <= writer.batches < 120  # batched, not one transaction per entry
        with sessions() as s:
            found = scrubs_for_claim(s, "CN-000007")
            assert len(found) == 1
            assert [v.version_id for v in found[0].versions] == [version_id]  # deduplicated
            assert found[0].edits == [{"ruleId": "R1"}] and found[0].status == "EDITS"
            assert found[0].claim_key != "CN-000007"
    finally:
        writer.close()


def test_full_batch_is_written_before_the_interval(
    sessions: sessionmaker[Session], version_id: int
) -> None:
    writer = ScrubHistoryWriter(sessions, interval=60, batch_size=5)
    try:
        writer.submit(entry(i, version_id) for i in range(4))
        time.sleep(0.2)
        assert count(sessions) == 0  # under a batch: waits for the (long) interval
        writer.submit([entry(4, version_id)])
        assert wait_until(lambda: count(sessions) == 5)
    finally:
        writer.close()


def test_flush_and_close_drain_the_queue(sessions: sessionmaker[Session], version_id: int) -> None:
    writer = ScrubHistoryWriter(sessions, interval=60, batch_size=100)
    writer.submit(entry(i, version_id) for i in range(3))
    assert writer.flush(timeout=5)
    assert count(sessions) == 3
    writer.submit(entry(i, version_id) for i in range(3, 7))
    assert writer.close(timeout=5)  # what atexit does when a worker exits normally
    assert count(sessions) == 7
    with pytest.raises(HistoryBacklogError):
        writer.submit([entry(8, version_id)])


def test_scrub_time_is_kept_not_write_time(
    sessions: sessionmaker[Session], version_id: int
) -> None:
    from datetime import UTC, datetime

    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    writer = ScrubHistoryWriter(sessions, interval=0.01)
    try:
        writer.submit([entry(1, version_id, at=at)])
        assert writer.flush(timeout=5)
    finally:
        writer.close()
    with sessions() as s:
        (record,) = scrubs_for_claim(s, "CN-000001")
        assert record.at.replace(tzinfo=UTC) == at


def test_failing_store_keeps_entries_and_retries(
    sessions: sessionmaker[Session], version_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[BaseException] = []
    writer = ScrubHistoryWriter(sessions, interval=0.01, retry_delay=0.05, on_error=seen.append)
    real = writer._write
    calls = {"n": 0}

    def flaky(batch: Any) -> None:
        calls["n"] += 1
        if calls["n"] <= 3:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        real(batch)

    monkeypatch.setattr(writer, "_write", flaky)
    try:
        writer.submit(entry(i, version_id) for i in range(10))
        assert writer.flush(timeout=5)
        assert count(sessions) == 10
        assert writer.dropped == 0 and writer.failures >= 2
        assert all(isinstance(e, OperationalError) for e in seen)
    finally:
        writer.close()


def test_entry_the_store_refuses_is_dropped_alone(
    sessions: sessionmaker[Session], version_id: int
) -> None:
    seen: list[BaseException] = []
    writer = ScrubHistoryWriter(sessions, interval=0.01, on_error=seen.append)
    try:
        bad = ScrubEntry("CN-BAD", (987_654,), [], "SUCCESS")  # no such pack version (FK)
        writer.submit([entry(1, version_id), bad, entry(2, version_id)])
        assert writer.flush(timeout=5)
        assert count(sessions) == 2
        assert writer.dropped == 1 and seen
    finally:
        writer.close()


def test_full_queue_blocks_then_fails(
    sessions: sessionmaker[Session], version_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = ScrubHistoryWriter(
        sessions,
        interval=0.01,
        batch_size=2,
        max_pending=4,
        submit_timeout=0.2,
        retry_delay=60,
        on_error=lambda exc: None,
    )

    def down(batch: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("unable to open database file"))

    monkeypatch.setattr(writer, "_write", down)
    writer.submit(entry(i, version_id) for i in range(4))
    started = time.monotonic()
    with pytest.raises(HistoryBacklogError):
        writer.submit([entry(5, version_id)])
    assert time.monotonic() - started >= 0.15  # it waited for room first
    assert writer.pending == 4  # nothing lost while the store is down
    monkeypatch.undo()
    assert writer.close(timeout=5)
    assert count(sessions) == 4


def test_api_scrubs_are_recorded_by_the_writer(store_url: str) -> None:
    api = build_api(store_url, history_flush_interval=0.05)
    writer = api.app.extensions["claimscrub.history"]
    assert isinstance(writer, ScrubHistoryWriter)
    h = api.auth("submitter")
    claim = sample("professional-edits")
    one = api.client.post(PROF, json=claim, headers=h)
    two = api.client.post(PROF, json=[claim, claim], headers=h)
    assert one.status_code == two.status_code == 200
    engine = make_engine(store_url)
    sessions = make_sessionmaker(engine)
    try:
        # (a session per look: a store transaction holds the write lock, see store/db.py)
        assert wait_until(lambda: count(sessions) == 3)  # within the interval, no flush() call
        with sessions() as s:
            body: Any = one.json
            records = scrubs_for_claim(s, body["controlNumber"])
            assert len(records) == 3
            assert all(r.status == "EDITS" and r.client_pk is not None for r in records)
            names = {v.version.pack.name for r in records for v in r.versions}
            assert {"general-professional", "medicare"} <= names
            assert all("description" not in e for r in records for e in r.edits)
    finally:
        writer.close()
        engine.dispose()


def test_api_answers_503_when_history_cannot_be_queued(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = build_api(store_url, history_flush_interval=0.05)
    writer = api.app.extensions["claimscrub.history"]

    def full(entries: Any) -> None:
        raise HistoryBacklogError("10000 scrub history entries wait")

    monkeypatch.setattr(writer, "submit", full)
    resp = api.client.post(PROF, json=sample("professional-edits"), headers=api.auth("submitter"))
    assert resp.status_code == 503
    assert resp.mimetype == "application/problem+json"
    assert resp.headers["Retry-After"] == "1"
    problem: Any = resp.json
    assert "entries" not in problem["detail"]


def test_warm_scrub_runs_no_sql_and_pointers_are_read_once_per_interval(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = build_api(store_url, history_flush_interval=0.05)
    writer = api.app.extensions["claimscrub.history"]
    runtime: PackRuntime = api.app.extensions["claimscrub.packs"]
    h = api.auth("submitter")
    claim = sample("professional-edits")
    reads = {"n": 0}
    real = PackRuntime._read_pointers

    def counted(self: PackRuntime) -> Any:
        reads["n"] += 1
        return real(self)

    monkeypatch.setattr(PackRuntime, "_read_pointers", counted)
    statements: list[str] = []
    main = threading.current_thread()

    def on_execute(*args: Any) -> None:
        if threading.current_thread() is main:  # background reads and history do not count
            statements.append(str(args[2]))

    engine = api.app.extensions["claimscrub.engine"]
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        api.clock.advance(1)
        assert api.client.post(PROF, json=claim, headers=h).status_code == 200
        assert reads["n"] == 1  # past the interval: this request re-reads the pointers itself
        statements.clear()
        for step in range(20):
            api.clock.advance(0.045)  # 0.9 s in all: within the interval
            assert api.client.post(PROF, json=claim, headers=h).status_code == 200, step
        assert statements == []  # token, client, pointers, history: none in the request
        assert wait_until(lambda: not runtime._ahead.locked())
        assert reads["n"] == 2  # one background re-read, from half the interval on
        api.clock.advance(2)  # idle for longer than the interval: the request reads
        for _ in range(5):
            assert api.client.post(PROF, json=claim, headers=h).status_code == 200
        assert reads["n"] == 3
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        writer.close()


def test_promotion_is_picked_up_by_the_background_read(api: Api) -> None:
    runtime: PackRuntime = api.app.extensions["claimscrub.packs"]
    h = api.auth("submitter")
    url = PROF + "?packs=general-professional"
    claim = sample("professional-edits")

    def versions() -> set[str]:
        resp = api.client.post(url, json=claim, headers=h)
        assert resp.status_code == 200
        body: Any = resp.json
        return {e["packVersion"] for e in body["errors"]}

    assert versions() == {"1.1.0"}
    by = Actor("tester")
    with make_sessionmaker(make_engine(api.url)).begin() as s:
        create_draft(s, "general-professional", by=by, version="1.1.1")
        publish(s, "general-professional", by=by, note="test")
        promote(s, "general-professional", "1.1.1", "production", by=by)
    api.clock.advance(0.6)
    # Served from the cache while a background read starts (which may already have finished).
    assert versions() in ({"1.1.0"}, {"1.1.1"})
    assert wait_until(lambda: not runtime._ahead.locked())
    assert versions() == {"1.1.1"}  # within the interval: no request had to read the store


def test_revocation_is_picked_up_by_the_background_read(api: Api) -> None:
    auth = api.app.extensions["claimscrub.auth"]
    headers = api.auth("submitter")
    assert api.client.post(PROF, json={}, headers=headers).status_code == 422
    with make_sessionmaker(make_engine(api.url)).begin() as s:
        revoke_client(s, api.creds["submitter"][0])
    api.clock.advance(0.6)
    # The cached client while a background read starts (which may already have finished).
    assert api.client.post(PROF, json={}, headers=headers).status_code in (422, 401)
    assert wait_until(lambda: not auth._reading)
    assert api.client.post(PROF, json={}, headers=headers).status_code == 401


def test_token_is_verified_once_but_revocation_still_applies(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = api.app.extensions["claimscrub.auth"]
    headers = api.auth("submitter")
    signer = auth._signer()
    loads = {"n": 0}
    real = signer.loads

    def counted(*args: Any, **kw: Any) -> Any:
        loads["n"] += 1
        return real(*args, **kw)

    monkeypatch.setattr(signer, "loads", counted)
    for _ in range(5):
        assert api.client.post(PROF, json={}, headers=headers).status_code == 422
    assert loads["n"] <= 1
    with make_sessionmaker(make_engine(api.url)).begin() as s:
        revoke_client(s, api.creds["submitter"][0])
    api.clock.advance(1.0)  # the client cache interval: a cached token does not outlive it
    assert api.client.post(PROF, json={}, headers=headers).status_code == 401


def test_tampered_token_is_not_served_from_the_cache(api: Api) -> None:
    token = api.token("submitter")
    ok = {"Authorization": f"Bearer {token}"}
    assert api.client.post(PROF, json={}, headers=ok).status_code == 422
    body, _, sig = token.rpartition(".")
    forged = f"{body}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    bad = {"Authorization": f"Bearer {forged}"}
    assert api.client.post(PROF, json={}, headers=bad).status_code == 401
