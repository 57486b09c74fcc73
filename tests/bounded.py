"""The real CLI in a subprocess, bounded in memory, CPU and time: a hostile input that
escapes its check fails the test instead of taking the machine (and CI) with it."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def migsim(
    cwd: Path,
    *args: str,
    timeout: float = 120,
    home: Path | None = None,
    memory_gb: int = 3,
    cpu_seconds: int = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m sim ARGS` from `cwd` with RLIMIT_AS and RLIMIT_CPU set in the child."""

    def limits() -> None:  # in the child, before exec
        resource.setrlimit(resource.RLIMIT_AS, (memory_gb * 1024**3, memory_gb * 1024**3))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))

    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    if home is not None:
        env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limits,
    )
