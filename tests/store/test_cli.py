from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import api.commands.store_cmd as store_cmd
from api.commands.store_cmd import store_group
from store import Issue, PackContent, ValidationReport
from store.validation import compiler_available, register_case_runner
from tests.store.conftest import RULE_BROKEN, RULE_TWO


def run(url: str, *args: str, ok: bool = True) -> tuple[int, str, str]:
    result = CliRunner().invoke(store_group, ["--database", url, "--actor", "carol", *args])
    assert "Traceback" not in result.output + result.stderr
    if ok:
        assert result.exit_code == 0, result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_cli_life_cycle(database_url: str, pack_dir: Path, tmp_path: Path) -> None:
    url = database_url
    run(url, "init", "--empty")
    assert "imported demo@1.0" in run(url, "import", str(pack_dir))[1]
    assert "published demo@1.0" in run(url, "publish", "demo", "--note", "first")[1]
    run(url, "draft", "demo")
    broken = tmp_path / "broken.rules"
    broken.write_text(RULE_BROKEN)
    code, out, err = run(url, "set-rule", "demo", "rules/extra.rules", str(broken), ok=False)
    if compiler_available():
        assert code == 1 and "E103" in err and "does not compile" in err
        code, _, err = run(url, "publish", "demo", "--note", "try", ok=False)
        assert code == 4 and "rules/extra.rules:2" in err
    fixed = tmp_path / "fixed.rules"
    fixed.write_text(RULE_TWO)
    _, out, _ = run(url, "set-rule", "demo", "rules/extra.rules", str(fixed), "--json")
    saved = json.loads(out)
    assert saved["diagnostics"] == [] and saved["version"] == "1.1"
    # A stale revision is a conflict (exit 3), with what changed named.
    code, _, err = run(
        url,
        "set-rule",
        "demo",
        "rules/extra.rules",
        str(fixed),
        "--expected-revision",
        "1",
        ok=False,
    )
    assert code == 3 and "conflict" in err and "carol" in err
    run(url, "publish", "demo", "--note", "add DEMO-0002", "--effective-from", "2025-01-01")
    _, out, _ = run(url, "diff", "demo", "1.0", "1.1")
    assert "added rules/extra.rules (added DEMO-0002)" in out
    run(url, "promote", "demo", "1.1", "--env", "production")
    assert "demo@1.2" in run(url, "rollback", "demo", "1.0")[1]
    _, out, _ = run(url, "history", "demo", "--json")
    hist = json.loads(out)
    assert [v["status"] for v in hist["versions"]] == ["published", "retired", "published"]
    assert [e["action"] for e in hist["audit"]][-2:] == ["promote", "rollback"]
    assert all(e["actor"] == "carol" for e in hist["audit"])
    run(url, "export", "demo@1.0", str(tmp_path / "out"))
    for src in pack_dir.rglob("*"):
        if src.is_file():
            assert (tmp_path / "out" / src.relative_to(pack_dir)).read_bytes() == src.read_bytes()


def test_cli_errors_are_messages(database_url: str, tmp_path: Path) -> None:
    code, _, err = run(database_url, "publish", "nope", "--note", "x", ok=False)
    assert code == 1 and "unknown pack 'nope'" in err
    code, _, err = run(database_url, "export", "nope@1", str(tmp_path / "x"), ok=False)
    assert code == 1 and "unknown pack" in err
    empty = f"sqlite:///{tmp_path / 'not-initialised.db'}"
    code, _, err = run(empty, "history", "demo", ok=False)
    assert code == 1 and "claimscrub store init" in err


def test_cli_publish_refused_by_case_runner(database_url: str, pack_dir: Path) -> None:
    def failing_cases(content: PackContent) -> ValidationReport:
        issue = Issue("C001", "error", "case 'fires' expected DEMO-0001", "cases/main.yaml", 1, 1)
        return ValidationReport((issue,), ("cases",))

    run(database_url, "import", str(pack_dir))
    old = register_case_runner(failing_cases)
    try:
        code, _, err = run(database_url, "publish", "demo", "--note", "x", ok=False)
    finally:
        register_case_runner(old)
    assert code == 4 and "cases/main.yaml:1:1: error[C001]" in err


def test_cli_init_seeds_bundled_packs(
    database_url: str, pack_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_cmd, "BUNDLED_DIR", pack_dir.parent)
    _, out, _ = run(database_url, "init")
    assert "demo@1.0: published and in production" in out
    _, out, _ = run(database_url, "init")  # idempotent
    assert "demo@1.0: already in the store" in out


def test_cli_clients(database_url: str, pack_dir: Path) -> None:
    run(database_url, "import", str(pack_dir))
    _, out, _ = run(
        database_url,
        "clients",
        "create",
        "billing-app",
        "--roles",
        "submitter,author",
        "--packs",
        "demo",
    )
    created = json.loads(out)
    assert set(created) == {"client_id", "client_secret"}
    _, out, _ = run(database_url, "clients", "list")
    listed = json.loads(out)
    assert listed[0]["roles"] == ["author", "submitter"] and listed[0]["packs"] == ["demo"]
    assert created["client_secret"] not in out
    run(database_url, "clients", "revoke", created["client_id"])
    code, _, err = run(database_url, "clients", "create", "x", "--roles", "root", ok=False)
    assert code == 1 and "unknown role" in err
