"""Shared helpers: small, fast runs of the real scenarios."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.model import Model
from sim.results import RunResult
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def fresh_python(code: str, *args: str, env: dict | None = None, timeout: float = 300) -> str:
    """What `python -c CODE ARGS` prints, in a fresh interpreter run from the project's
    root (a process's imports and loads are its own); fails the test if it fails."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        cwd=ROOT,
        env=os.environ if env is None else env,
    )
    return out.stdout


def imports_of_cli(args: list[str], modules: list[str], env: dict | None = None) -> list[int]:
    """`migsim ARGS` in a fresh interpreter: its exit code, then for each of `modules`
    whether the command's own process imported it (1) or not (0)."""
    code = (
        "import contextlib, io, sys; from sim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({args!r})\n"
        f"print(code, *(int(m in sys.modules) for m in {modules!r}))\n"
    )
    return [int(x) for x in fresh_python(code, env=env).split()[-1 - len(modules) :]]


def sigint_default() -> None:
    """`preexec_fn` for a child a test stops with SIGINT, as a terminal's Ctrl-C does: a
    suite started as a background job of a non-interactive shell passes SIGINT on ignored,
    and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def scenario(name: str, *overrides: str) -> Scenario:
    """A shipped scenario with `--set`-style overrides."""
    return load_scenario(SCENARIOS / f"{name}.toml", overrides)


def run(s: Scenario, replication: int = 0) -> RunResult:
    return Model(s, replication).run()


def total(result: RunResult, metric: str, **where: str) -> pd.Series:
    """Daily total of a metric, filtered by breakdown columns, on the full reported calendar."""
    d = result.daily
    d = d[d["metric"] == metric]
    for col, val in where.items():
        d = d[d[col] == val]
    dates = result.calendar.dates[result.calendar.first_reported :]
    return d.groupby("date", observed=True)["value"].sum().reindex(dates, fill_value=0.0)


@pytest.fixture(scope="session")
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
