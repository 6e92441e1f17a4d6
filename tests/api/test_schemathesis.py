"""Schemathesis against /openapi.json (bounded): whatever it sends, the API never answers 5xx.

Each documented operation gets a few generated requests (bodies, parameters), sent with a token of
a role the operation accepts, through Flask's WSGI interface.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

EXAMPLES_PER_OPERATION = 3


def test_no_server_errors(api: Api) -> None:
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error

    schema = schemathesis.openapi.from_wsgi("/openapi.json", api.app)
    calls = [0]

    def runner(operation: Any, headers: dict[str, str]) -> Any:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            calls[0] += 1
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        return run

    for result in schema.get_all_operations():
        operation = result.ok()
        roles = operation.definition.raw.get("x-roles", [])
        runner(operation, api.auth(roles[0]) if roles else {})()
    assert calls[0] >= 24
