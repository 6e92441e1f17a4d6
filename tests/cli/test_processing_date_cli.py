"""``claimscrub scrub --processing-date``: the date rules compare service dates with."""

from __future__ import annotations

import json

from click.testing import CliRunner

from api.cli import main
from claims.sources import SAMPLES_DIR


def _rule_ids(*extra: str) -> set[str]:
    args = ["scrub", str(SAMPLES_DIR / "professional-clean.json"), "--format", "json"]
    res = CliRunner().invoke(main, [*args, "--fail-on", "never", *extra])
    assert res.exit_code == 0, res.output
    return {e["ruleId"] for env in json.loads(res.stdout) for e in env["errors"]}


def test_service_after_the_processing_date_is_a_future_date() -> None:
    assert "GP-0025" in _rule_ids("--processing-date", "2024-01-01")


def test_default_processing_date_is_today_and_the_clean_sample_stays_clean() -> None:
    assert _rule_ids() == set()
