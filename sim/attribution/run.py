"""Shapley attribution of the simulated change over a window to the mechanisms.

For a window first..last month (default May -> September 2019) and a series, the value of a
coalition S of players (`sim.attribution.players`) in replication r is

    v_r(S) = simulated[last] - simulated[first]

with only the players in S on (the others off; mechanisms that are not players stay as the
scenario has them). Every coalition runs the same replication indices 0..reps-1, so
coalitions differ by their mechanisms, not their random numbers (common random numbers);
with posterior draws, replication r uses draw r % draws in every coalition, applied before
the players are switched off. The runs end with the window's last month.

Shapley values are computed per replication (`sim.attribution.shapley`), so per replication
they add up exactly to v_r(all) - v_r(none). The table reports, per series:

- one row per player: `contribution` = mean over replications of its Shapley value,
  `contribution_lo90`/`contribution_hi90` = their 5th/95th percentiles over replications
  (widened to include the mean, should a skewed spread leave it outside); inactive
  players (null players) get 0;
- a row `mechanism = "none"`: the change with every player off, v(none), the part of the
  change the players do not explain (what remains comes from the mechanisms that are not
  players and the demand's base structure);

so that the contributions of all rows add up to `simulated_change` = mean v_r(all), the
full model's change; `observed_change` is the published change over the same months.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.attribution.players import BY_NAME, PLAYERS, inactive, switch_off
from sim.attribution.shapley import Coalition, coalitions, shapley
from sim.observed import FAMILY_STATUS
from sim.scenario.schema import Scenario

SERIES: tuple[str, ...] = ("usbp_total", *FAMILY_STATUS)
COLUMNS: tuple[str, ...] = (
    "mechanism",
    "series",
    "window_start",
    "window_end",
    "observed_change",
    "simulated_change",
    "contribution",
    "contribution_lo90",
    "contribution_hi90",
)
BASELINE = "none"


@dataclass(frozen=True)
class Task:
    scenario: Scenario
    rep: int
    first: pd.Period
    last: pd.Period


def change(task: Task) -> np.ndarray:
    """One run: last-month minus first-month count of each of `SERIES` (persons)."""
    from sim.model import Model
    from sim.validation.simulated import replication_monthly

    monthly = replication_monthly(Model(task.scenario, task.rep).run())
    return np.array(
        [float(monthly.at[task.last, s]) - float(monthly.at[task.first, s]) for s in SERIES]
    )


def run_window(base: Scenario, first: pd.Period, last: pd.Period) -> Scenario:
    """`base` run until the end of the window's last month (nothing later matters)."""
    end = (last + 1).start_time.date()
    if end > base.end:
        raise ValueError(f"the window ends after the scenario ({base.end})")
    return base.model_copy(update={"end": end})


@dataclass
class Attribution:
    table: pd.DataFrame
    players: list[str]
    pruned: dict[str, str]
    values: dict[Coalition, np.ndarray]  # coalition -> [rep, series]
    shapley: dict[str, np.ndarray]  # player -> [rep, series]
    runs: int
    notes: list[str] = field(default_factory=list)


def plan(
    base: Scenario, first: pd.Period, last: pd.Period, requested: Sequence[str] | None
) -> tuple[list[str], dict[str, str]]:
    """The players to attribute among (requested or all) and the inactive ones left out."""
    names = list(requested) if requested else [p.name for p in PLAYERS]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise KeyError(unknown[0])
    end = (last + 1).start_time.date()
    why = inactive(base, end)
    pruned = {n: why[n] for n in names if n in why}
    return [n for n in names if n not in pruned], pruned


def attribute(
    base: Scenario,
    first: pd.Period,
    last: pd.Period,
    reps: int,
    *,
    players: Sequence[str] | None = None,
    per_replication: Sequence[Scenario] | None = None,
    observed: pd.DataFrame | None = None,
    executor: Executor | None = None,
    run: Callable[[Task], np.ndarray] = change,
    progress: Callable[[str], None] | None = None,
) -> Attribution:
    """Shapley attribution of the window's change (module doc). `per_replication[r]`, when
    given, is replication r's scenario (a posterior draw applied to `base`)."""
    say = progress or (lambda _m: None)
    active, pruned = plan(base, first, last, players)
    scen = list(per_replication) if per_replication is not None else [base] * reps
    if len(scen) != reps:
        raise ValueError("per_replication needs one scenario per replication")
    windowed: dict[int, Scenario] = {}
    for s in scen:
        windowed.setdefault(id(s), run_window(s, first, last))
    scen = [windowed[id(s)] for s in scen]
    coals = coalitions(active)
    full = frozenset(active)
    tasks: list[Task] = []
    built: dict[tuple[int, Coalition], Scenario] = {}
    for c in coals:
        for r in range(reps):
            key = (id(scen[r]), c)
            if key not in built:
                built[key] = switch_off(scen[r], full - c)
            tasks.append(Task(built[key], r, first, last))
    say(f"{len(coals)} coalitions x {reps} replications = {len(tasks)} runs")
    results = list(executor.map(run, tasks)) if executor is not None else [run(t) for t in tasks]
    values: dict[Coalition, np.ndarray] = {}
    for i, c in enumerate(coals):
        values[c] = np.vstack(results[i * reps : (i + 1) * reps])  # [rep, series]
    phi = shapley(active, values)
    table = _table(base, first, last, values, phi, active, pruned, observed)
    return Attribution(table, active, pruned, values, phi, len(tasks))


def _interval(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    lo, hi = np.percentile(x, [5, 95], axis=0)
    return mean, np.minimum(lo, mean), np.maximum(hi, mean)


def observed_change(
    observed: pd.DataFrame | None, first: pd.Period, last: pd.Period
) -> dict[str, float]:
    out = {s: float("nan") for s in SERIES}
    if observed is None:
        return out
    frame = observed.copy()
    if "month" in frame.columns:
        frame = frame.set_index("month")
    frame.index = pd.PeriodIndex(frame.index, freq="M")
    if first in frame.index and last in frame.index:
        for s in SERIES:
            if s in frame.columns:
                out[s] = float(frame.at[last, s]) - float(frame.at[first, s])
    return out


def _table(
    base: Scenario,
    first: pd.Period,
    last: pd.Period,
    values: dict[Coalition, np.ndarray],
    phi: dict[str, np.ndarray],
    active: list[str],
    pruned: dict[str, str],
    observed: pd.DataFrame | None,
) -> pd.DataFrame:
    obs = observed_change(observed, first, last)
    v_all = values[frozenset(active)].mean(axis=0)
    none_mean, none_lo, none_hi = _interval(values[frozenset()])
    rows = []
    for j, s in enumerate(SERIES):
        common = {
            "series": s,
            "window_start": str(first),
            "window_end": str(last),
            "observed_change": obs[s],
            "simulated_change": float(v_all[j]),
        }
        for name in [p.name for p in PLAYERS if p.name in phi or p.name in pruned]:
            if name in phi:
                mean, lo, hi = _interval(phi[name])
                c, clo, chi = float(mean[j]), float(lo[j]), float(hi[j])
            else:
                c = clo = chi = 0.0
            rows.append(
                {
                    "mechanism": name,
                    **common,
                    "contribution": c,
                    "contribution_lo90": clo,
                    "contribution_hi90": chi,
                }
            )
        rows.append(
            {
                "mechanism": BASELINE,
                **common,
                "contribution": float(none_mean[j]),
                "contribution_lo90": float(none_lo[j]),
                "contribution_hi90": float(none_hi[j]),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def window_months(text: str) -> tuple[pd.Period, pd.Period]:
    """'YYYY-MM:YYYY-MM' -> (first, last); ValueError with a one-line reason."""
    parts = text.split(":")
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not FIRST:LAST (YYYY-MM:YYYY-MM)")
    out = []
    for p in parts:
        p = p.strip()
        if len(p) != 7 or p[4] != "-":
            raise ValueError(f"{p!r} is not a month YYYY-MM")
        try:
            out.append(pd.Period(p, freq="M"))
        except ValueError:
            raise ValueError(f"{p!r} is not a month YYYY-MM") from None
    if out[1] <= out[0]:
        raise ValueError(f"the last month {out[1]} must come after the first {out[0]}")
    return out[0], out[1]


def check_window(base: Scenario, first: pd.Period, last: pd.Period) -> None:
    """The window must be whole months inside the scenario's reported period."""
    if first.start_time.date() < base.start:
        raise ValueError(f"{first} starts before the scenario ({base.start})")
    if (last + 1).start_time.date() > base.end:
        raise ValueError(f"{last} ends after the scenario ({base.end - dt.timedelta(days=1)})")
