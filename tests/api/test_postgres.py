"""The scrub path (token, scrub, history) on PostgreSQL, in a schema of its own."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from api.commands.serve import prepare_store
from claims.sources import SAMPLES_DIR
from store import make_engine, make_sessionmaker, scrubs_for_claim
from tests.api.conftest import build_api

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[str]:
    schema = f"api_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = (
        sa.make_url(postgres_url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    engine = make_engine(url)
    prepare_store(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_scrub_on_postgres(pg_store: str) -> None:
    api = build_api(pg_store)
    claim = json.loads((SAMPLES_DIR / "professional-edits.json").read_text())
    resp = api.client.post(
        "/v1/claims/professional/scrub", json=[claim, claim], headers=api.auth("submitter")
    )
    assert resp.status_code == 200, resp.json
    assert [e["status"] for e in resp.json] == ["EDITS", "EDITS"]
    assert api.client.get("/healthcheck").json["store"] == "UP"
    engine = make_engine(pg_store)
    with make_sessionmaker(engine).begin() as s:
        assert len(scrubs_for_claim(s, resp.json[0]["controlNumber"])) == 2
    engine.dispose()
    # Lockout bookkeeping works on PostgreSQL too.
    cid, _ = api.creds["author"]
    for _ in range(5):
        api.client.post(
            "/v1/oauth/token",
            data={"client_id": cid, "client_secret": "x", "grant_type": "client_credentials"},
        )
    resp = api.client.post(
        "/v1/oauth/token",
        data={
            "client_id": cid,
            "client_secret": api.creds["author"][1],
            "grant_type": "client_credentials",
        },
    )
    assert resp.status_code == 401
