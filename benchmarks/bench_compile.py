"""Compile a generated pack: text → IR.  Goal: 5,000 rules in <= 1 s.

Small by default (a smoke test under ``--benchmark-disable``); ``CLAIMSCRUB_BENCH_FULL=1``
compiles the full 5,000 rules.
"""

from __future__ import annotations

import os
from typing import Any

from dsl.compile import compile_source

N_RULES = 5_000 if os.environ.get("CLAIMSCRUB_BENCH_FULL") == "1" else 200

HEADER = """pack bench {
  version "1"
  kinds professional, institutional
}

table ncci pair {
  source ncci_ptp "tables/ncci.txt"
  key column_1: code, column_2: code
  value modifier_indicator: code
}

table mue limit {
  source mue "tables/mue.csv"
  key hcpcs: code
  value limit: number
}
"""

TEMPLATES = (
    """rule B-{i:05d} "procedure {i}" {{
  category invalid-procedure
  severity error
  scope line
  effective 2025-01-01 .. 2025-12-31
  when line.procedure_code in {{"{a:05d}", "{b:05d}", "J{c:04d}".."J{d:04d}"}}
    and line.units > {u}
    and not any(m in line.modifiers: m in {{"59", "XU"}})
  message "Line {{line.number}}: {{line.procedure_code}} needs review"
  action "Please Correct and Resubmit"
}}
""",
    """rule B-{i:05d} "pair {i}" {{
  category ncci-ptp
  severity error
  scope pair
  when (line.procedure_code, other.procedure_code) in ncci
    and ncci[line.procedure_code, other.procedure_code] == "{m}"
    and line.service_date == other.service_date
  message "{{other.procedure_code}} bundles into {{line.procedure_code}}"
  override yes
}}
""",
    """rule B-{i:05d} "age {i}" {{
  category age-conflict
  severity warning
  scope diagnosis
  decide patient.age {{
    < {u} -> fire: "{{dx.code}} unusual below {u}"
    _ -> pass
  }}
}}
""",
    """rule B-{i:05d} "mue {i}" {{
  category mue
  severity error
  scope line
  when line.units > mue[line.procedure_code] and sum(l in claim.lines: l.charge) > {a}
  message "units {{line.units}} exceed MUE"
}}
""",
)


def make_pack(n: int) -> str:
    parts = [HEADER]
    for i in range(n):
        t = TEMPLATES[i % len(TEMPLATES)]
        parts.append(
            t.format(
                i=i,
                a=i * 7 % 99999,
                b=i * 13 % 99999,
                c=i % 9000,
                d=i % 9000 + 50,
                u=i % 90 + 1,
                m=i % 2,
            )
        )
    return "\n".join(parts)


SOURCE = make_pack(N_RULES)


def test_compile_generated_pack(benchmark: Any) -> None:
    rules = benchmark(compile_source, SOURCE, file="bench.rules")
    assert len(rules.rules) == N_RULES
