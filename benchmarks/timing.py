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


# A small interpreter that runs the command and reports its child's usage: a child forked straight
# from a large benchmark process inherits that process's resident size in ``ru_maxrss`` (Linux
# records the old image's peak at exec), and forking the large process takes time of its own.
_LAUNCH = (
    "import json, resource, subprocess, sys, time\n"
    "t0 = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "wall = time.perf_counter() - t0\n"
    "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps([code, wall, r.ru_utime + r.ru_stime, r.ru_maxrss]))\n"
)


def run_measured(cmd: list[str]) -> tuple[float, float, int, str]:
    """Run ``cmd`` from a small launcher: (wall s, CPU s of its process tree, peak RSS KiB, stdout).

    The command's own output goes to the launcher's stderr side untouched; its stdout is returned
    without the launcher's last line.
    """
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _LAUNCH, *cmd], check=True, capture_output=True, text=True
    ).stdout
    *body, last = out.rstrip("\n").split("\n")
    code, wall, cpu, rss = json.loads(last)
    if code != 0:
        raise subprocess.CalledProcessError(code, cmd, output="\n".join(body))
    return wall, cpu, rss, "\n".join(body)
