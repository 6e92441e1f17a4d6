from __future__ import annotations

import os

import pytest


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    try:
        flag = bool(request.config.getoption("--update-goldens"))
    except ValueError:
        flag = False
    return flag or os.environ.get("UPDATE_GOLDENS") == "1"
