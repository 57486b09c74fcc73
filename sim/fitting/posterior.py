"""Posterior draws written by `migsim calibrate` (`<fragment>.posterior.csv`), applied per
replication so that bands show parameter uncertainty, not only Monte Carlo noise.

Each row is one draw: the mechanism strengths (columns named by lever path), the loss, the
Optuna trial and that trial's fitted demand (a JSON vector over the structure of
`sim.fitting.demand`, with its knot months), so a draw carries the demand that goes with it.
Replication r uses draw r % (number of draws).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.fitting import parameters as P
from sim.fitting.demand import Demand
from sim.scenario.loader import ScenarioError
from sim.scenario.schema import Scenario

MAX_BYTES = 5_000_000


def load_draws(path: str | Path) -> pd.DataFrame:
    """Read and check a posterior file; errors name the file and the column."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), "posterior", "no such file")
    if path.stat().st_size > MAX_BYTES:
        raise ScenarioError(str(path), "posterior", f"larger than {MAX_BYTES:,} bytes")
    try:
        draws = pd.read_csv(path)
    except Exception as e:  # noqa: BLE001 - any parse failure is bad input
        raise ScenarioError(
            str(path), "posterior", f"not a CSV table ({type(e).__name__})"
        ) from None
    missing = [p.name for p in P.PARAMETERS if p.name not in draws.columns]
    if missing:
        raise ScenarioError(str(path), missing[0], "column missing from the posterior draws")
    if draws.empty:
        raise ScenarioError(str(path), "posterior", "no draws")
    for p in P.PARAMETERS:
        col = pd.to_numeric(draws[p.name], errors="coerce")
        if col.isna().any() or (col < p.low - 1e-9).any() or (col > p.high + 1e-9).any():
            raise ScenarioError(
                str(path), p.name, f"values must be numbers in [{p.low:g}, {p.high:g}]"
            )
    return draws


def apply_draw(scenario: Scenario, row: pd.Series) -> Scenario:
    """`scenario` with one draw's mechanisms and, when recorded, its demand."""
    values = {p.name: float(row[p.name]) for p in P.PARAMETERS}
    out = P.apply(scenario, values)
    if isinstance(row.get("demand"), str) and isinstance(row.get("knots"), str):
        knots = [pd.Period(k, "M") for k in row["knots"].split(",")]
        demand = Demand.initial(scenario, knots).from_vector(np.array(json.loads(row["demand"])))
        out = demand.apply(out)
    return out


def per_replication(scenario: Scenario, draws: pd.DataFrame, reps: int) -> list[Scenario]:
    """One scenario per replication: draw r % len(draws) applied to `scenario`."""
    cache: dict[int, Scenario] = {}
    out = []
    for r in range(reps):
        i = r % len(draws)
        if i not in cache:
            cache[i] = apply_draw(scenario, draws.iloc[i])
        out.append(cache[i])
    return out
