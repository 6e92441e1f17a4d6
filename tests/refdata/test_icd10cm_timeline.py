"""ICD-10-CM releases over time: which release answers for a date of service."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.icd10cm import code_set_on, icd10cm_code_sets, single_code_set
from engine.refdata import RefDataError


def _order_file(path: Path, codes: dict[str, bool]) -> None:
    path.write_text(
        "".join(
            f"{n:05d} {c:<7} {'1' if b else '0'} {'short':<60} long\n"
            for n, (c, b) in enumerate(codes.items(), 1)
        ),
        encoding="utf-8",
    )


def test_bundled_releases_and_their_start_dates() -> None:
    sets = icd10cm_code_sets(Path("/nonexistent-data-dir"))
    assert [(s.release, s.starts) for s in sets] == [
        ("April 2025", date(2024, 10, 1)),
        ("April 2026", date(2025, 10, 1)),
    ]
    # E11A (type 2 diabetes in remission) is new in FY2026; S301XXA was deleted by it
    before, after = code_set_on(sets, date(2025, 9, 30)), code_set_on(sets, date(2025, 10, 1))
    assert "E11A" not in before.codes and after.codes["E11A"] is True
    assert before.codes["S301XXA"] is True and "S301XXA" not in after.codes
    assert code_set_on(sets, date(2015, 10, 1)) is sets[0]  # older dates: the earliest release
    assert code_set_on(sets, date(2030, 1, 1)) is sets[-1]


def test_data_directory_adds_and_replaces_releases(tmp_path: Path) -> None:
    _order_file(tmp_path / "icd10cm_order_2024.txt", {"A00": False, "A000": True})
    _order_file(tmp_path / "icd10cm_order_2026.txt", {"B00": False, "B000": True})
    (tmp_path / "notes.txt").write_text("not a release")
    sets = icd10cm_code_sets(tmp_path)
    assert [(s.release, s.starts) for s in sets] == [
        ("FY2024", date(2023, 10, 1)),
        ("April 2025", date(2024, 10, 1)),
        ("FY2026", date(2025, 10, 1)),  # the October release starts the fiscal year
        ("April 2026", date(2026, 4, 1)),  # ... so the April update starts on April 1
    ]
    assert code_set_on(sets, date(2024, 1, 15)).codes == {"A00": False, "A000": True}
    assert code_set_on(sets, date(2026, 3, 31)).release == "FY2026"
    assert code_set_on(sets, date(2026, 4, 1)).release == "April 2026"


def test_a_release_month_other_than_april_or_october_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "code-list-June-2025.txt").write_text("A00\nA000\n")
    with pytest.raises(RefDataError, match="June"):
        icd10cm_code_sets(tmp_path)


def test_single_code_set_answers_for_every_date() -> None:
    (s,) = single_code_set({"A000": True})
    assert code_set_on((s,), date(1900, 1, 1)) is s and s.starts == date.min
