from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from store import (
    ConflictError,
    InvalidPackError,
    Issue,
    NotFoundError,
    PackContent,
    PublishRefusedError,
    ValidationReport,
    VersionStatus,
    active_version,
    create_draft,
    delete_file,
    diff_versions,
    discard_draft,
    export_version,
    get_draft,
    history,
    import_pack,
    list_versions,
    promote,
    publish,
    read_pack_dir,
    resolve,
    rollback,
    rollback_environment,
    set_file,
    version_content,
    version_for_date,
)
from store.content import content_hash
from store.models import PackVersion
from store.validation import compile_file, compiler_available, default_validator
from tests.store.conftest import ALICE, BOB, RULE_BROKEN, RULE_OK, RULE_TWO


def fake_compile(path: str, content: PackContent) -> list[Issue]:
    """Stands in for dsl when it is absent: `= =` is a syntax error."""
    text = content[path]
    issues = []
    for n, line in enumerate(text.splitlines(), 1):
        col = line.find("= =")
        if col >= 0:
            issues.append(Issue("E103", "error", "`=` used instead of `==`", path, n, col + 1))
    return issues


def fake_validator(content: PackContent) -> ValidationReport:
    issues = [i for p in content.rule_files() for i in fake_compile(p, content)]
    return ValidationReport(tuple(issues), ("fake-compile",))


def refuse_all(content: PackContent) -> ValidationReport:
    return ValidationReport((Issue("T900", "error", "case 3 failed", "cases/main.yaml", 3, 1),))


def accept_all(content: PackContent) -> ValidationReport:
    return ValidationReport((), ("none",))


# The real compiler when it exists, the fake one otherwise.
COMPILER = compile_file if compiler_available() else fake_compile
VALIDATOR = default_validator if compiler_available() else fake_validator


def test_full_life_cycle(factory: sessionmaker[Session], pack_dir: Path, tmp_path: Path) -> None:
    with factory.begin() as s:
        draft = import_pack(s, pack_dir, by=ALICE)
        assert (draft.version, draft.status, draft.seq) == ("1.0", VersionStatus.DRAFT, 1)
        assert draft.content_hash == content_hash(read_pack_dir(pack_dir).files)
    with factory.begin() as s:
        v1 = publish(s, "demo", by=ALICE, note="first", validate=VALIDATOR)
        assert v1.is_active and v1.status is VersionStatus.PUBLISHED
    # A new draft, a broken rule saved with diagnostics, refused, then fixed and published.
    with factory.begin() as s:
        d2 = create_draft(s, "demo", by=BOB)
        assert d2.version == "1.1"
        assert 'version = "1.1"' in version_content(d2)["pack.toml"]
        rev = d2.revision
    with factory.begin() as s:
        saved = set_file(
            s,
            "demo",
            "rules/extra.rules",
            RULE_BROKEN,
            by=BOB,
            expected_revision=rev,
            compiler=COMPILER,
        )
        assert saved.has_errors and saved.issues
        assert saved.issues[0].file == "rules/extra.rules" and saved.issues[0].line >= 1
        stored = next(f for f in saved.version.files if f.path == "rules/extra.rules")
        assert stored.diagnostics and stored.diagnostics[0]["severity"] == "error"
        rev = saved.revision
    with pytest.raises(PublishRefusedError) as refused, factory.begin() as s:
        publish(s, "demo", by=BOB, note="try", validate=VALIDATOR)
    assert refused.value.report.errors
    assert "rules/extra.rules" in str(refused.value)
    with factory.begin() as s:
        assert active_version(s, "demo").version == "1.0"
        saved = set_file(
            s,
            "demo",
            "rules/extra.rules",
            RULE_TWO,
            by=BOB,
            expected_revision=rev,
            compiler=COMPILER,
        )
        assert not saved.has_errors
        delete_file(s, "demo", "docs/DEMO-0001.md", by=BOB)
    with factory.begin() as s:
        v2 = publish(s, "demo", by=BOB, note="add DEMO-0002", validate=VALIDATOR)
        assert v2.version == "1.1" and v2.published_by == "bob"
    with factory.begin() as s:
        changes = {c.path: c for c in diff_versions(s, "demo", "1.0", "1.1")}
        assert changes.keys() == {"pack.toml", "rules/extra.rules", "docs/DEMO-0001.md"}
        assert changes["rules/extra.rules"].change == "added"
        assert [r.rule_id for r in changes["rules/extra.rules"].rules] == ["DEMO-0002"]
        assert changes["docs/DEMO-0001.md"].change == "removed"
        assert '-version = "1.0"' in changes["pack.toml"].diff
        assert '+version = "1.1"' in changes["pack.toml"].diff
        assert active_version(s, "demo").version == "1.1"
    with factory.begin() as s:
        v3 = rollback(s, "demo", "1.0", by=ALICE, note="DEMO-0002 misfires", validate=VALIDATOR)
        assert v3.version == "1.2" and v3.is_active
        old = version_content(resolve(s, "demo@1.0"))
        new = version_content(v3)
        assert {p: t for p, t in new.items() if p != "pack.toml"} == {
            p: t for p, t in old.items() if p != "pack.toml"
        }
        statuses = {v.version: (v.status, v.is_active) for v in list_versions(s, "demo")}
        assert statuses == {
            "1.0": (VersionStatus.PUBLISHED, False),
            "1.1": (VersionStatus.RETIRED, False),
            "1.2": (VersionStatus.PUBLISHED, True),
        }
        actions = [(e.action, e.actor) for e in history(s, "demo")]
        assert actions == [
            ("import", "alice"),
            ("publish", "alice"),
            ("draft", "bob"),
            ("set-file", "bob"),
            ("set-file", "bob"),
            ("delete-file", "bob"),
            ("publish", "bob"),
            ("rollback", "alice"),
        ]
        assert history(s, "demo")[3].client == "api:test"
        assert history(s, "demo")[-1].detail["retired"] == "1.1"
    # Export is byte for byte what was imported.
    with factory.begin() as s:
        export_version(s, "demo@1.0", tmp_path / "out")
    for src in pack_dir.rglob("*"):
        if src.is_file():
            assert (tmp_path / "out" / src.relative_to(pack_dir)).read_bytes() == src.read_bytes()
    assert sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file()) == sorted(
        p.name for p in pack_dir.rglob("*") if p.is_file()
    )


def test_publish_refused_when_validation_fails(
    factory: sessionmaker[Session], pack_dir: Path
) -> None:
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)
    with pytest.raises(PublishRefusedError) as refused, factory.begin() as s:
        publish(s, "demo", by=ALICE, note="go", validate=refuse_all)
    assert [i.code for i in refused.value.report.errors] == ["T900"]
    with factory() as s:
        draft = get_draft(s, "demo")
        assert draft is not None and draft.status is VersionStatus.DRAFT
        assert [e.action for e in history(s, "demo")] == ["import"]
        with pytest.raises(NotFoundError):
            active_version(s, "demo")


def test_publish_failing_midway_leaves_previous_active(
    factory: sessionmaker[Session], pack_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)
        publish(s, "demo", by=ALICE, note="v1", validate=accept_all)
        create_draft(s, "demo", by=ALICE)
        set_file(s, "demo", "rules/extra.rules", RULE_TWO, by=ALICE, compiler=None)

    import store.service as service

    real_audit = service._audit

    def exploding_audit(*args: object, **kwargs: object) -> None:
        if args[2] == "publish":  # after the flags were flipped and flushed
            raise RuntimeError("power cut")
        real_audit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_audit", exploding_audit)
    with pytest.raises(RuntimeError, match="power cut"), factory.begin() as s:
        publish(s, "demo", by=ALICE, note="v2", validate=accept_all)
    monkeypatch.undo()
    with factory() as s:
        assert active_version(s, "demo").version == "1.0"
        draft = get_draft(s, "demo")
        assert draft is not None and draft.version == "1.1" and draft.published_at is None
        actives = s.scalar(select(func.count()).where(PackVersion.is_active))
        assert actives == 1
    with factory.begin() as s:  # and the store is still usable
        assert publish(s, "demo", by=ALICE, note="v2", validate=accept_all).is_active


def test_database_refuses_a_second_active_version(
    factory: sessionmaker[Session], pack_dir: Path
) -> None:
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)
        publish(s, "demo", by=ALICE, note="v1", validate=accept_all)
        create_draft(s, "demo", by=ALICE)
        publish(s, "demo", by=ALICE, note="v2", validate=accept_all)
    with pytest.raises(IntegrityError), factory.begin() as s:
        for v in list_versions(s, "demo"):
            v.is_active = True
        s.flush()


def test_stale_revision_conflict_names_the_change(
    factory: sessionmaker[Session], pack_dir: Path
) -> None:
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)
        rev = get_draft(s, "demo").revision  # type: ignore[union-attr]
    with factory.begin() as s:
        set_file(s, "demo", "rules/main.rules", RULE_TWO, by=ALICE, expected_revision=rev)
    with pytest.raises(ConflictError) as conflict, factory.begin() as s:
        set_file(s, "demo", "rules/main.rules", RULE_OK, by=BOB, expected_revision=rev)
    message = str(conflict.value)
    assert f"not {rev}" in message and "alice" in message and "rules/main.rules" in message
    with pytest.raises(ConflictError), factory.begin() as s:
        publish(s, "demo", by=BOB, note="x", validate=accept_all, expected_revision=rev)


def test_stale_object_in_a_long_session_conflicts(
    factory: sessionmaker[Session], pack_dir: Path
) -> None:
    """The version_id_col check: an UPDATE based on an old revision matches no row."""
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)
    stale_session = factory()
    stale = stale_session.scalars(select(PackVersion)).one()
    stale_session.commit()  # the object outlives its transaction (expire_on_commit=False)
    with factory.begin() as s:
        set_file(s, "demo", "rules/main.rules", RULE_TWO, by=ALICE)
    stale.publish_note = "overwrite"
    from sqlalchemy.orm.exc import StaleDataError

    with pytest.raises(StaleDataError):
        stale_session.commit()
    stale_session.close()


def test_one_draft_at_a_time_and_discard(factory: sessionmaker[Session], pack_dir: Path) -> None:
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)
        publish(s, "demo", by=ALICE, note="v1", validate=accept_all)
        create_draft(s, "demo", by=ALICE)
    with pytest.raises(ConflictError, match="already has a draft"), factory.begin() as s:
        create_draft(s, "demo", by=BOB)
    with factory.begin() as s:
        discard_draft(s, "demo", by=ALICE)
        assert get_draft(s, "demo") is None
        assert create_draft(s, "demo", by=BOB).version == "1.1"  # a discarded label is free again


def test_published_versions_are_immutable(factory: sessionmaker[Session], pack_dir: Path) -> None:
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)
        publish(s, "demo", by=ALICE, note="v1", validate=accept_all)
    with pytest.raises(NotFoundError, match="no draft"), factory.begin() as s:
        set_file(s, "demo", "rules/main.rules", RULE_TWO, by=ALICE)
    with pytest.raises(ConflictError, match="already has a version"), factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)


def test_effective_dating_and_environments(factory: sessionmaker[Session], pack_dir: Path) -> None:
    today = date.today()
    with factory.begin() as s:
        import_pack(s, pack_dir, by=ALICE)
        publish(
            s, "demo", by=ALICE, note="v1", validate=accept_all, effective_from=date(2025, 1, 1)
        )
        create_draft(s, "demo", by=ALICE)
        publish(
            s, "demo", by=ALICE, note="v2", validate=accept_all, effective_from=date(2025, 4, 1)
        )
    with factory.begin() as s:
        assert version_for_date(s, "demo", date(2025, 3, 31)).version == "1.0"
        assert version_for_date(s, "demo", date(2025, 4, 1)).version == "1.1"
        assert version_for_date(s, "demo", today + timedelta(days=1)).version == "1.1"
        with pytest.raises(NotFoundError):
            version_for_date(s, "demo", date(2024, 12, 31))
        assert resolve(s, "demo", on=date(2025, 2, 1)).version == "1.0"
        assert resolve(s, "demo@1.0").version == "1.0"
        promote(s, "demo", "1.0", "production", by=ALICE)
        promote(s, "demo", "1.0", "staging", by=ALICE)
        promote(s, "demo", "1.1", "production", by=ALICE)
        assert resolve(s, "demo", environment="production").version == "1.1"
        assert resolve(s, "demo", environment="staging").version == "1.0"
        rollback_environment(s, "demo", "production", by=BOB)
        assert resolve(s, "demo", environment="production").version == "1.0"
        rollback_environment(s, "demo", "production", by=BOB)  # a second rollback swaps back
        assert resolve(s, "demo", environment="production").version == "1.1"
        create_draft(s, "demo", by=ALICE)
        with pytest.raises(InvalidPackError, match="draft"):
            promote(s, "demo", "draft", "production", by=ALICE)
        assert [e.action for e in history(s, "demo")][-5:] == [
            "promote",
            "promote",
            "env-rollback",
            "env-rollback",
            "draft",
        ]


def test_unknown_pack_and_bad_paths(factory: sessionmaker[Session], pack_dir: Path) -> None:
    with factory.begin() as s:
        with pytest.raises(NotFoundError, match="unknown pack 'nope'"):
            publish(s, "nope", by=ALICE, note="x")
        import_pack(s, pack_dir, by=ALICE)
        for bad in ("../etc/passwd", "/abs", "rules/../../x", ".hidden", "a\\b"):
            with pytest.raises(InvalidPackError):
                set_file(s, "demo", bad, "x", by=ALICE)


def test_bundled_packs_round_trip_exactly(factory: sessionmaker[Session], tmp_path: Path) -> None:
    from knowledge_packs import BUNDLED_DIR

    dirs = sorted(p for p in BUNDLED_DIR.iterdir() if (p / "pack.toml").is_file())
    if not dirs:
        pytest.skip("no bundled packs yet")
    for directory in dirs:
        with factory.begin() as s:
            draft = import_pack(s, directory, by=ALICE)
            ref = draft.label
        with factory.begin() as s:
            export_version(s, ref, tmp_path / directory.name)
        original = read_pack_dir(directory)
        exported = read_pack_dir(tmp_path / directory.name)
        assert exported.files == original.files
        for rel in original:
            assert (tmp_path / directory.name / rel).read_bytes() == (directory / rel).read_bytes()
