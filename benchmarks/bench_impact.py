"""Impact of two versions of the medicare pack over a generated claim corpus (issue 8).

Goal: 100,000 claims in <= 10 s on 2 cores.  Small by default (a smoke test under
``--benchmark-disable``); ``CLAIMSCRUB_BENCH_FULL=1`` runs the full size.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.commands.impact_cmd import impact_command
from claims.model import Claim, ClaimKind, Diagnosis, DiagnosisRole, Person, ServiceLine
from claims.x12 import write_x12
from knowledge_packs import BUNDLED_DIR

FULL = os.environ.get("CLAIMSCRUB_BENCH_FULL") == "1"
N_CLAIMS = 100_000 if FULL else 500
CODES = ["X0010", "X0011", "X0012", "X0013", "X0020", "X0021", "99213", "99214"]


def _claims(n: int) -> list[Claim]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        lines = tuple(
            ServiceLine(
                k + 1,
                Decimal("50.00"),
                Decimal(rng.choice([1, 1, 2, 3])),
                rng.choice(CODES),
                modifiers=rng.choice([(), (), ("59",), ("25",)]),
                diagnosis_pointers=(1,),
                service_date=date(2025, 2, 3),
            )
            for k in range(rng.randint(1, 4))
        )
        out.append(
            Claim(
                kind=ClaimKind.PROFESSIONAL,
                control_number=f"{i:09d}",
                patient_control_number=f"P{i}",
                total_charge=sum((ln.charge for ln in lines), Decimal(0)),
                facility_code="11",
                frequency_code="1",
                subscriber=Person(last_name="TEST", first_name="BENCH", member_id=f"M{i}"),
                diagnoses=(Diagnosis("M545", DiagnosisRole.PRINCIPAL),),
                lines=lines,
            )
        )
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("impact") / "corpus.837"
    path.write_bytes(write_x12(_claims(N_CLAIMS)))
    return path


@pytest.fixture(scope="module")
def new_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """medicare with the MUE of X0011 lowered from 2 to 1: a change with a known direction."""
    target = tmp_path_factory.mktemp("impact-new") / "medicare"
    shutil.copytree(BUNDLED_DIR / "medicare", target)
    mue = target / "tables" / "mue_practitioner.csv"
    mue.write_text(mue.read_text().replace("X0011,2,1 Line Edit", "X0011,1,1 Line Edit"))
    return target


def test_impact_medicare_versions(benchmark, corpus: Path, new_pack: Path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    args = [
        str(BUNDLED_DIR / "medicare"),
        str(new_pack),
        "--claims",
        str(corpus),
        "--format",
        "json",
    ]

    def run() -> float:
        start = time.perf_counter()
        result = runner.invoke(impact_command, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output[-2000:]
        return time.perf_counter() - start

    elapsed = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["claims"] = N_CLAIMS
    benchmark.extra_info["seconds"] = elapsed
    print(f"\nimpact over {N_CLAIMS} claims: {elapsed:.2f} s ({N_CLAIMS / elapsed:,.0f} claims/s)")
