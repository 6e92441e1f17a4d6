"""Shared fixtures: where the reference samples live, and the PostgreSQL URL for store tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
X12_SAMPLES = SHARED / "reference" / "x12-samples"
OPTUM_OPENAPI = SHARED / "reference" / "optum-openapi"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-goldens``: rewrite golden files (tests/dsl) instead of comparing with them."""
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/dsl/golden/*.ir.txt from the current compiler",
    )


@pytest.fixture(scope="session")
def x12_samples_dir() -> Path:
    """The real-format 837 samples beside the checkout; skip when this setup is absent."""
    if not X12_SAMPLES.is_dir():
        pytest.skip(f"reference samples not present at {X12_SAMPLES}")
    return X12_SAMPLES


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL server for store tests (set by .ci/run); skip when unset or unreachable."""
    url = os.environ.get("CLAIMSCRUB_TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("CLAIMSCRUB_TEST_DATABASE_URL is not set")
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure to reach the server means: skip, cleanly
        pytest.skip(f"PostgreSQL not reachable at the configured URL: {type(exc).__name__}")
    return url


@pytest.fixture(autouse=True, scope="session")
def _table_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Large parsed tables are cached (engine.tables); keep the suite's out of the user's cache."""
    os.environ.setdefault("CLAIMSCRUB_CACHE_DIR", str(tmp_path_factory.mktemp("table-cache")))
