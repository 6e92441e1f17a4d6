"""``claimscrub serve``: migrates and seeds an empty store on first start, then serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api.commands import serve
from knowledge_packs import bundled_pack_dirs
from store import list_packs, make_engine, make_sessionmaker


def test_serve_prepares_an_empty_store_and_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, ...]] = []

    def fake_run_simple(host: str, port: int, app: Any, **kwargs: Any) -> None:
        calls.append((host, port, app.test_client().get("/healthcheck").json))

    monkeypatch.setattr("werkzeug.serving.run_simple", fake_run_simple)
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = CliRunner().invoke(
        serve.serve_command, ["--host", "127.0.0.1", "--port", "8123", "--database", url]
    )
    assert result.exit_code == 0, result.output
    assert "published and in production" in result.output
    host, port, health = calls[0]
    assert (host, port) == ("127.0.0.1", 8123)
    assert health["status"] == "UP" and len(health["versions"]) == len(bundled_pack_dirs())
    # A second start finds the packs and seeds nothing.
    assert serve.prepare_store(make_engine(url)) == []
    with make_sessionmaker(make_engine(url)).begin() as s:
        assert len(list_packs(s)) == len(bundled_pack_dirs())
