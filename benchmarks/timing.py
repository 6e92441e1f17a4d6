"""Timing helpers shared by the benchmark files (CPU time: the 2-core machine is shared)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def cpu_best(fn: Callable[[], Any], n: int = 3) -> float:
    """The smallest CPU time (``time.process_time``) of ``n`` runs of ``fn``."""
    best = float("inf")
    for _ in range(n):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best
