"""Shared helpers: small, fast runs of the real scenarios."""

from __future__ import annotations

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
