"""Store benchmarks: publishing a large pack (import files, validate with the compiler, activate).

Small by default (200 rules; a smoke test under ``--benchmark-disable``);
``CLAIMSCRUB_BENCH_FULL=1`` publishes 2,000 rules.  PostgreSQL runs too when
``CLAIMSCRUB_TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from store import (
    Actor,
    PackContent,
    ValidationReport,
    default_validator,
    import_content,
    make_engine,
    make_sessionmaker,
    publish,
    upgrade,
)
from store.validation import compiler_available

RULES = 2_000 if os.environ.get("CLAIMSCRUB_BENCH_FULL") == "1" else 200
RULES_PER_FILE = 100
BY = Actor("bench")


def make_pack(rules: int) -> PackContent:
    files = {"pack.toml": 'name = "bench"\nversion = "0"\ntitle = "Benchmark pack"\n'}
    for f in range(0, rules, RULES_PER_FILE):
        chunk = [
            (
                f'rule BENCH-{n:05d} "Procedure {n} needs a modifier" {{\n'
                "  category invalid-procedure\n"
                "  severity error\n"
                "  scope line\n"
                f'  message "procedure {90000 + n} is billed without modifier 59"\n'
                f'  when line.procedure_code == "{90000 + n}" and line.charge > 0\n'
                "}\n"
            )
            for n in range(f, min(f + RULES_PER_FILE, rules))
        ]
        files[f"rules/part{f // RULES_PER_FILE:03d}.rules"] = "\n".join(chunk)
    return PackContent(files)


def accept_all(content: PackContent) -> ValidationReport:
    return ValidationReport()


@pytest.fixture(params=["sqlite", "postgres"])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'bench.db'}")
        upgrade(engine)
        yield make_sessionmaker(engine)
        engine.dispose()
        return
    url = os.environ.get("CLAIMSCRUB_TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("CLAIMSCRUB_TEST_DATABASE_URL is not set")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    scoped = sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(scoped.render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _publisher(
    factory: sessionmaker[Session], validate: Callable[[PackContent], ValidationReport]
) -> Callable[[], None]:
    content = make_pack(RULES)
    counter = itertools.count(1)

    def run() -> None:
        with factory.begin() as s:
            import_content(s, content, by=BY, version=f"1.{next(counter)}")
            publish(s, "bench", by=BY, note="bench", validate=validate)

    return run


def test_publish_large_pack_validated(benchmark: Any, factory: Any) -> None:
    if not compiler_available():
        pytest.skip("dsl.compile is not available")
    benchmark.extra_info["rules"] = RULES
    benchmark.pedantic(_publisher(factory, default_validator), rounds=3, iterations=1)


def test_publish_large_pack_write_only(benchmark: Any, factory: Any) -> None:
    benchmark.extra_info["rules"] = RULES
    benchmark.pedantic(_publisher(factory, accept_all), rounds=3, iterations=1)
