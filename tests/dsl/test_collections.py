"""Type checking of number sets (``line.diagnosis_pointers``), value codes and ``value_amount``."""

from __future__ import annotations

import pytest

from dsl import CompileError, compile_source
from dsl.ir import Aggregate, BuiltinId, Call, Compare, ElementRef, ValueType

RULE = """
rule X-1 "x" {{
  category custom
  severity error
  scope {scope}
  when {when}
  message "m"
}}
"""


def _compile(when: str, scope: str = "line") -> Compare | Aggregate | Call:
    rules = compile_source(RULE.format(scope=scope, when=when), file="t.rules")
    cond = rules.rules[0].branches[0].condition
    assert isinstance(cond, Compare | Aggregate | Call)
    return cond


def test_pointer_aggregate_binds_a_number() -> None:
    cond = _compile("any(p in line.diagnosis_pointers: p > count(d in claim.diagnoses))")
    assert isinstance(cond, Aggregate)
    assert cond.source.type is ValueType.NUMBER_SET
    assert isinstance(cond.predicate, Compare)
    assert isinstance(cond.predicate.left, ElementRef)
    assert cond.predicate.left.type is ValueType.NUMBER


def test_value_amount_is_money() -> None:
    cond = _compile('value_amount("48") < 10.5', scope="claim")
    assert isinstance(cond, Compare) and isinstance(cond.left, Call)
    assert cond.left.builtin is BuiltinId.VALUE_AMOUNT
    assert cond.left.type is ValueType.MONEY


@pytest.mark.parametrize(
    ("when", "scope", "code"),
    [
        ('"A" in line.diagnosis_pointers', "line", "E301"),
        ('any(p in line.diagnosis_pointers: p == "1")', "line", "E301"),
        ("1 in claim.value_codes", "claim", "E301"),
        ("value_amount(48) > 1", "claim", "E301"),
        ("line.diagnosis_pointers > 4", "line", "E301"),
    ],
)
def test_type_errors(when: str, scope: str, code: str) -> None:
    with pytest.raises(CompileError) as err:
        compile_source(RULE.format(scope=scope, when=when), file="t.rules")
    assert code in {d.code for d in err.value.diagnostics}
