from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store import (
    ConflictError,
    NotFoundError,
    PackContent,
    ValidationReport,
    VersionStatus,
    create_draft,
    get_draft,
    history,
    import_pack,
    list_versions,
    publish,
    set_file,
    version_content,
)
from store.models import PackVersion
from store.service import Actor
from tests.store.conftest import ALICE

WRITERS = 20
PUBLISHES_EACH = 2


def accept_all(content: PackContent) -> ValidationReport:
    return ValidationReport((), ("none",))


def _backoff(attempt: int) -> None:
    # What a client does after a conflict: wait a random, growing while, then reload and retry.
    time.sleep(random.uniform(0, 0.005 * min(attempt, 40)))


def _writer(
    factory: sessionmaker[Session],
    n: int,
    start: threading.Barrier,
    published: list[tuple[str, str, str]],
    errors: list[BaseException],
    conflicts: Counter[str],
) -> None:
    me = Actor(f"writer{n}", "test")
    start.wait()
    done = attempts = 0
    try:
        while done < PUBLISHES_EACH:
            attempts += 1
            assert attempts < 500, "writer starved"
            text = f"# writer {n} publish {done} attempt {attempts}\n"
            path = f"rules/w{n}.rules"
            try:
                # Three transactions, as an author working through the API would: open or read the
                # draft, save a file based on what was read, publish based on what was saved.
                with factory.begin() as s:
                    draft = get_draft(s, "demo") or create_draft(s, "demo", by=me)
                    rev = draft.revision
                with factory.begin() as s:
                    saved = set_file(
                        s, "demo", path, text, by=me, expected_revision=rev, compiler=None
                    )
                    rev = saved.revision
                with factory.begin() as s:
                    v = publish(
                        s, "demo", by=me, note=f"w{n}", validate=accept_all, expected_revision=rev
                    )
                    published.append((v.version, path, text))
                done += 1
            except ConflictError:
                conflicts["conflict"] += 1
                _backoff(attempts)
            except NotFoundError:  # the draft we read was published by someone else meanwhile
                conflicts["gone"] += 1
                _backoff(attempts)
    except BaseException as exc:
        errors.append(exc)


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(factory: sessionmaker[Session], pack_dir: Path) -> None:
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)
        publish(s, "demo", by=ALICE, note="v1", validate=accept_all)
    published: list[tuple[str, str, str]] = []
    errors: list[BaseException] = []
    conflicts: Counter[str] = Counter()
    start = threading.Barrier(WRITERS)
    threads = [
        threading.Thread(target=_writer, args=(factory, n, start, published, errors, conflicts))
        for n in range(WRITERS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(published) == WRITERS * PUBLISHES_EACH
    with factory() as s:
        versions = list_versions(s, "demo")
        by_label = {v.version: v for v in versions}
        # No published version lost, and each contains exactly what its writer saved.
        assert len({label for label, _, _ in published}) == len(published)
        for label, path, text in published:
            v = by_label[label]
            assert v.status is VersionStatus.PUBLISHED
            assert version_content(v)[path] == text
            assert v.content_hash == version_content(v).sha256
        published_rows = [v for v in versions if v.status is VersionStatus.PUBLISHED]
        assert len(published_rows) == 1 + len(published)
        assert [v.seq for v in versions] == list(range(1, len(versions) + 1))
        active = s.scalars(select(PackVersion).where(PackVersion.is_active)).all()
        assert len(active) == 1 and active[0].seq == max(v.seq for v in published_rows)
        assert sum(e.action == "publish" for e in history(s, "demo")) == 1 + len(published)
