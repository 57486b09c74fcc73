"""Monthly simulated series for forecasts, backtests and attribution (long and tidy)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import pandas as pd

from sim.model import Model
from sim.scenario.schema import Scenario
from sim.validation.simulated import replication_monthly


@dataclass(frozen=True)
class _Task:
    scenario: Scenario
    rep: int


def _one(task: _Task) -> pd.DataFrame:
    frame = replication_monthly(Model(task.scenario, task.rep).run())
    frame.index.name = "month"
    long = frame.reset_index().melt(id_vars="month", var_name="series", value_name="value")
    long.insert(0, "rep", task.rep)
    return long


def monthly(
    scenario: Scenario,
    reps: int,
    *,
    executor: Executor | None = None,
    draws: pd.DataFrame | None = None,
    apply: Callable[[Scenario, pd.Series], Scenario] | None = None,
) -> pd.DataFrame:
    """Columns rep, month, series, value (persons at full scale), whole months only.

    Replication r uses the scenario's random streams for replication r (common random
    numbers across scenarios) and, when `draws` is given, posterior draw r % len(draws),
    applied with `apply(scenario, draw)` (e.g. `Calibration.apply`).
    """
    tasks = []
    for r in range(reps):
        sc = scenario
        if draws is not None and len(draws):
            if apply is None:
                raise ValueError("draws need an `apply` (e.g. Calibration.apply)")
            sc = apply(scenario, draws.iloc[r % len(draws)])
        tasks.append(_Task(sc, r))
    frames = list(executor.map(_one, tasks)) if executor is not None else [_one(t) for t in tasks]
    return pd.concat(frames, ignore_index=True)
