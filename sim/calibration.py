"""Calibrate undeterred departure intensities to the observed FY2018-FY2019 border series.

Method (documented in the README, "Calibration"): a damped fixed-point iteration of the
analytic inversion "departures = arrivals shifted back by the journey time".

1. Run the scenario over the observed months with the current monthly levels (several
   replications, common seeds, reduced scale) and aggregate simulated Border Patrol
   apprehensions to months by nationality x group.
2. The observed data give two margins per month (by citizenship, by family status), not
   the joint table. Rake the simulated joint table to both margins (iterative proportional
   fitting), which keeps the model's nationality x group mix where the data are silent.
3. Multiply the level of each nationality x group in departure month j by
   (target / simulated) in arrival month j + lag, raised to a damping power; the lag is the
   dominant journey time (one month from Central America and beyond, none from Mexico).
4. Repeat. The objective reported each iteration is the mean absolute percentage error
   over the eight observed series (5 citizenships, 3 family statuses).

Only months up to September 2019 are used. Finally, the levels are normalised so that the
FY2019 mean level of each nationality x group is 1 and its scale moves into `rates`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.domain import GROUPS, NATIONALITIES
from sim.metrics import FLOW_INDEX
from sim.model import Model
from sim.scenario.schema import Scenario

FAMILY_STATUS = {
    "single_adult": "single_adults",
    "family": "family_unit_individuals",
    "unaccompanied_child": "unaccompanied_children",
}
LAG_MONTHS = {"mexico": 0, "guatemala": 1, "honduras": 1, "el_salvador": 1, "other": 1}


@dataclass
class Fit:
    """The result of a calibration: fitted levers and the record of how they were fitted."""

    rates: dict[str, dict[str, float]]
    levels: dict[str, dict[str, float]]
    history: list[dict[str, float]] = field(default_factory=list)
    record: dict[str, object] = field(default_factory=dict)


def monthly_apprehensions(model_result, months: pd.PeriodIndex) -> np.ndarray:  # noqa: ANN001
    """Simulated apprehensions (persons) as [nationality, group, month] for `months`."""
    arr = model_result.recorder.flow_array()[:, FLOW_INDEX["apprehensions"]].sum(axis=-1)
    keys = pd.PeriodIndex(model_result.calendar.month_keys, freq="M")
    out = np.zeros((len(NATIONALITIES), len(GROUPS), len(months)))
    for i, m in enumerate(months):
        sel = keys == m
        out[:, :, i] = arr[sel].sum(axis=0)
    return out / model_result.scenario.scale


def rake(
    joint: np.ndarray, by_nat: np.ndarray, by_group: np.ndarray, sweeps: int = 100
) -> np.ndarray:
    """Iterative proportional fitting of a [nat, group, month] table to both monthly margins."""
    t = np.maximum(joint, 1e-9).copy()
    for _ in range(sweeps):
        t *= (by_nat / t.sum(axis=1))[:, None, :]
        t *= (by_group / t.sum(axis=0))[None, :, :]
    return t


def _mape(sim: np.ndarray, obs: np.ndarray) -> float:
    return float(np.mean(np.abs(sim - obs) / obs) * 100.0)


def calibration_scenario(base: Scenario, months: pd.PeriodIndex, scale: float) -> Scenario:
    """The base policies over the observed months, starting from the prior intensities."""
    start = months[0].to_timestamp().date()
    end = (months[-1] + 1).to_timestamp().date()
    prior = Scenario.model_fields["departures"].default_factory()
    departures = prior.model_copy(update={"level": {}})
    return base.model_copy(
        update={"start": start, "end": end, "scale": scale, "departures": departures}
    )


def fit(
    base: Scenario,
    by_nat: pd.DataFrame,
    by_group: pd.DataFrame,
    *,
    iterations: int = 8,
    reps: int = 2,
    scale: float = 0.5,
    damping: float = 0.8,
    executor: Executor | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> Fit:
    """Fit monthly departure levels per nationality x group to the observed margins."""
    months = by_nat.index
    obs_nat = by_nat[list(NATIONALITIES)].to_numpy(dtype=float).T  # [nat, month]
    obs_grp = by_group[[FAMILY_STATUS[g] for g in GROUPS]].to_numpy(dtype=float).T  # [group, month]
    # make the two margins agree exactly (the source rounds each cell to 10)
    obs_grp = obs_grp * (obs_nat.sum(axis=0) / obs_grp.sum(axis=0))[None, :]
    scenario = calibration_scenario(base, months, scale)
    warm = pd.period_range(
        pd.Period(scenario.start - dt.timedelta(days=scenario.warmup_days), "M"), months[0] - 1
    )
    dep_months = warm.append(months)
    levels = np.ones((len(NATIONALITIES), len(GROUPS), len(dep_months)))
    history: list[dict[str, float]] = []
    for it in range(iterations + 1):
        trial = _with_levels(scenario, levels, dep_months)
        sim = np.mean(_run_all(trial, reps, months, executor), axis=0)
        err = {
            **{n: _mape(sim[i].sum(axis=0), obs_nat[i]) for i, n in enumerate(NATIONALITIES)},
            **{
                FAMILY_STATUS[g]: _mape(sim[:, j].sum(axis=0), obs_grp[j])
                for j, g in enumerate(GROUPS)
            },
            "total": _mape(sim.sum(axis=(0, 1)), obs_nat.sum(axis=0)),
        }
        err["objective"] = float(
            np.mean([err[k] for k in (*NATIONALITIES, *FAMILY_STATUS.values())])
        )
        history.append(err)
        if progress is not None:
            progress(it, err["objective"])
        if it == iterations:
            break
        target = rake(sim, obs_nat, obs_grp)
        ratio = np.where(sim > 0, target / np.maximum(sim, 1e-9), 1.0) ** damping
        offset = len(warm)
        for n, nat in enumerate(NATIONALITIES):
            for j in range(len(dep_months)):
                arrival = min(max(j - offset + LAG_MONTHS[nat], 0), len(months) - 1)
                levels[n, :, j] *= ratio[n, :, arrival]
    rates, level_dict = _normalise(levels, dep_months, months)
    return Fit(rates=rates, levels=level_dict, history=history)


def _with_levels(scenario: Scenario, levels: np.ndarray, dep_months: pd.PeriodIndex) -> Scenario:
    level = {
        f"{nat}.{grp}": {str(m): float(levels[n, g, j]) for j, m in enumerate(dep_months)}
        for n, nat in enumerate(NATIONALITIES)
        for g, grp in enumerate(GROUPS)
    }
    departures = scenario.departures.model_copy(update={"level": level})
    return scenario.model_copy(update={"departures": departures})


def _run_one(args: tuple[Scenario, int, pd.PeriodIndex]) -> np.ndarray:
    """One replication's monthly apprehensions (only this small array leaves a worker)."""
    scenario, rep, months = args
    return monthly_apprehensions(Model(scenario, rep).run(), months)


def _run_all(
    scenario: Scenario, reps: int, months: pd.PeriodIndex, executor: Executor | None
) -> list[np.ndarray]:
    tasks = [(scenario, r, months) for r in range(reps)]
    if executor is None:
        return [_run_one(t) for t in tasks]
    return list(executor.map(_run_one, tasks))


def _normalise(levels: np.ndarray, dep_months: pd.PeriodIndex, months: pd.PeriodIndex):  # noqa: ANN202
    """Move each series' FY2019 mean level into its rate, so levels read as relative."""
    prior = Scenario.model_fields["departures"].default_factory()
    last_year = [j for j, m in enumerate(dep_months) if m > months[-1] - 12]
    rates: dict[str, dict[str, float]] = {}
    out: dict[str, dict[str, float]] = {}
    for n, nat in enumerate(NATIONALITIES):
        rates[nat] = {}
        for g, grp in enumerate(GROUPS):
            mean = float(levels[n, g, last_year].mean())
            rates[nat][grp] = round(getattr(prior.rates[nat], grp) * mean, 1)
            out[f"{nat}.{grp}"] = {
                str(m): round(float(levels[n, g, j]) / mean, 4) for j, m in enumerate(dep_months)
            }
    return rates, out


def to_toml(fit_: Fit, seasonality: list[float], header: str) -> str:
    """The fitted values as a scenario fragment that other scenarios `extends`."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += [
        "",
        "[departures]",
        f"seasonality = [{', '.join(f'{x:g}' for x in seasonality)}]",
        'level_after_fit = "last_year"',
    ]
    for nat, groups in fit_.rates.items():
        lines += ["", f"[departures.rates.{nat}]"]
        lines += [f"{g} = {v:.1f}" for g, v in groups.items()]
    for key, months in fit_.levels.items():
        lines += ["", f'[departures.level."{key}"]']
        lines += [f'"{m}" = {v:.4f}' for m, v in months.items()]
    rec = fit_.record
    lines += ["", "[calibration]"]
    for k in ("method", "objective", "observed", "command"):
        lines.append(f"{k} = {_toml_str(str(rec[k]))}")
    for k in ("iterations", "replications"):
        lines.append(f"{k} = {int(rec[k])}")
    lines.append(f"scale = {float(rec['scale']):g}")
    lines += ["", "[calibration.final_error]"]
    lines += [f"{k} = {v:.2f}" for k, v in fit_.history[-1].items()]
    return "\n".join(lines) + "\n"


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
