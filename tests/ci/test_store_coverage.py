"""The store's publish refuses a version whose coverage fails when pack.toml requires coverage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.store_cases import run_cases
from store import (
    Actor,
    PublishRefusedError,
    discard_draft,
    import_pack,
    make_engine,
    make_sessionmaker,
    publish,
    upgrade,
)
from store.content import read_pack_dir
from store.validation import register_case_runner
from tests.ci.conftest import GP, copy_pack, replace_in


@pytest.fixture
def case_runner() -> Iterator[None]:
    old = register_case_runner(run_cases)
    yield
    register_case_runner(old)


def gap_pack(tmp_path: Path, *, required: bool) -> Path:
    pack = copy_pack(GP, tmp_path / "gp")
    if required:
        replace_in(
            pack / "pack.toml",
            "[[reference_data]]",
            "require_coverage = true\n\n[[reference_data]]",
        )
    replace_in(pack / "cases" / "charges.yaml", "GP-0010 silent", "one cent")
    return pack


def test_run_cases_reports_coverage_only_when_required(tmp_path: Path) -> None:
    lax = run_cases(read_pack_dir(gap_pack(tmp_path / "a", required=False)))
    assert lax.ok and "coverage" not in lax.checks
    strict = run_cases(read_pack_dir(gap_pack(tmp_path / "b", required=True)))
    assert not strict.ok
    assert [i.code for i in strict.errors] == ["COVERAGE"]
    assert "GP-0010" in strict.errors[0].message


def test_publish_refused_then_accepted(tmp_path: Path, case_runner: None) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    factory = make_sessionmaker(engine)
    pack = gap_pack(tmp_path, required=True)
    with factory.begin() as s:
        import_pack(s, pack, by=Actor("ci"))
    with pytest.raises(PublishRefusedError, match="COVERAGE"), factory.begin() as s:
        publish(s, "general-professional", by=Actor("ci"), note="gap")
    fixed = copy_pack(GP, tmp_path / "fixed")
    replace_in(
        fixed / "pack.toml", "[[reference_data]]", "require_coverage = true\n\n[[reference_data]]"
    )
    with factory.begin() as s:
        discard_draft(s, "general-professional", by=Actor("ci"))
        import_pack(s, fixed, by=Actor("ci"))
        v = publish(s, "general-professional", by=Actor("ci"), note="covered")
        assert v.version == "1.1.0"
    engine.dispose()
