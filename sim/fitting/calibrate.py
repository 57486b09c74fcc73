"""Structural calibration by simulation: Optuna over the mechanism strengths, the demand
structure fitted inside each trial, a likelihood-ratio posterior from the trials.

1. The policy environment of the base scenario is run over the fitted months only
   (October 2017 to `through`), at reduced scale, with common random numbers across trials.
2. A pre-fit: the demand structure (`sim.fitting.demand`) is fitted with the mechanisms at
   their current values (`prefit` fixed-point steps).
3. Optuna's TPE sampler (seeded, multivariate) proposes mechanism strengths within their
   prior ranges (`sim.fitting.parameters`); each trial refits the demand from the pre-fit
   (`inner` steps) and scores the loss of `sim.fitting.targets`. The study lives in
   `optuna.db` (SQLite) in the output folder, so an interrupted calibration resumes; trials
   run on the project's executors, a batch of `jobs` at a time.
4. Posterior: the loss is -2 log pseudo-likelihood, so the trials within the
   chi-square(0.9, k) threshold of the best form a 90% likelihood-ratio region; their
   parameters are the posterior draws (each with its own fitted demand), and a parameter's
   90% interval is the 5-95% range of the draws (fewer than 10 draws: nothing is called
   constrained). The threshold is multiplied by the dispersion (best loss / number of terms, at least
   1): the model does not fit to within the stated sigmas, so the stated sigmas would
   claim a precision the fit does not have.
   This is an approximation that uses the sampler's trials as support points; a parameter
   whose interval covers more than half of its prior range is reported as not identified.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import chi2

from sim.fitting import parameters as P
from sim.fitting.demand import Demand, knots_for, refit
from sim.fitting.targets import POLICY_WEIGHT, Observed, RunDigest, digest, loss_terms, total_loss
from sim.model import Model
from sim.scenario.schema import Scenario

STUDY = "migsim"
IDENTIFIED_RATIO = 0.5


def fit_window(base: Scenario, obs: Observed, scale: float) -> Scenario:
    """The base policies over the fitted months only (nothing after `through` is run)."""
    start = obs.months[0].start_time.date()
    end = (obs.months[-1] + 1).start_time.date()
    return base.model_copy(update={"start": start, "end": end, "scale": scale})


def _runs(scenario: Scenario, reps: int) -> list[RunDigest]:
    return [digest(Model(scenario, r).run()) for r in range(reps)]


def _mean_apprehensions(runs: list[RunDigest], obs: Observed) -> np.ndarray:
    return np.mean([r.monthly_apprehensions(obs.months) for r in runs], axis=0)


def fit_demand(
    scenario: Scenario, demand: Demand, obs: Observed, reps: int, steps: int
) -> tuple[Demand, list[RunDigest]]:
    """`steps` fixed-point refits of the demand; returns it with the runs that score it."""
    for _ in range(steps):
        runs = _runs(demand.apply(scenario), reps)
        demand = refit(demand, _mean_apprehensions(runs, obs), obs.by_nat, obs.by_group, obs.months)
    return demand, _runs(demand.apply(scenario), reps)


def _mean_terms(runs: list[RunDigest], obs: Observed) -> pd.DataFrame:
    frames = [loss_terms(r, obs) for r in runs]
    out = frames[0].copy()
    out["simulated"] = np.mean([f["simulated"] for f in frames], axis=0)
    ratio = np.log(np.maximum(out["simulated"], 1.0) / np.maximum(out["observed"], 1.0))
    out["z"] = ratio / out["sigma"]
    return out


@dataclass(frozen=True)
class Trial:
    """One trial's work, sent to a worker."""

    window: Scenario
    values: dict[str, float]
    demand: Demand
    obs: Observed
    reps: int
    steps: int


def evaluate(t: Trial) -> tuple[float, list[float], pd.DataFrame]:
    """Loss, fitted demand vector and loss terms of one set of mechanism values."""
    scenario = P.apply(t.window, t.values)
    demand, runs = fit_demand(scenario, t.demand, t.obs, t.reps, t.steps)
    terms = _mean_terms(runs, t.obs)
    return total_loss(terms), demand.to_vector().tolist(), terms


@dataclass
class Calibration:
    """The fit: point estimate, posterior draws and the table of what the data constrain."""

    base: Scenario
    point: dict[str, float]
    demand: Demand
    draws: pd.DataFrame  # parameter columns, plus loss, trial and demand (JSON vector)
    table: pd.DataFrame
    terms: pd.DataFrame
    trials: pd.DataFrame
    record: dict[str, object] = field(default_factory=dict)

    @property
    def free_parameters(self) -> int:
        return len(self.point) + self.demand.n_free

    def apply(self, scenario: Scenario, values: dict | pd.Series | None = None) -> Scenario:
        """`scenario` with the fitted demand and mechanisms (or those of one posterior draw)."""
        if values is None:
            return self.demand.apply(P.apply(scenario, self.point))
        values = dict(values)
        demand = self.demand
        if isinstance(values.get("demand"), str):
            demand = self.demand.from_vector(np.array(json.loads(values["demand"])))
        mech = {k: float(v) for k, v in values.items() if k in P.BY_NAME}
        return demand.apply(P.apply(scenario, {**self.point, **mech}))


def _distributions():
    import optuna

    out = {}
    for p in P.PARAMETERS:
        if p.integer:
            out[p.name] = optuna.distributions.IntDistribution(int(p.low), int(p.high))
        else:
            out[p.name] = optuna.distributions.FloatDistribution(p.low, p.high, log=p.log)
    return out


def _clip_to_prior(values: dict[str, float]) -> dict[str, float]:
    out = {}
    for p in P.PARAMETERS:
        v = min(max(values[p.name], p.low), p.high)
        out[p.name] = int(round(v)) if p.integer else float(v)
    return out


def calibrate(
    base: Scenario,
    observed: pd.DataFrame,
    *,
    through: pd.Period,
    trials: int = 60,
    scale: float = 0.05,
    reps: int = 1,
    prefit: int = 4,
    inner: int = 2,
    storage: Path | None = None,
    executor: Executor | None = None,
    jobs: int = 1,
    seed: int = 20191121,
    progress: Callable[[str], None] | None = None,
) -> Calibration:
    """Fit the mechanisms and the demand structure to the data up to `through` only."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    say = progress or (lambda _msg: None)
    obs = Observed.from_usbp(observed, through)
    window = fit_window(base, obs, scale)
    start_values = _clip_to_prior(P.current(base))
    demand0 = Demand.initial(base, knots_for(obs.months[-1] - 1))
    t0 = time.perf_counter()
    demand0, _ = fit_demand(P.apply(window, start_values), demand0, obs, reps, prefit)
    say(f"pre-fit of the demand structure: {time.perf_counter() - t0:.0f} s")
    url = f"sqlite:///{storage / 'optuna.db'}" if storage is not None else None
    if storage is not None:
        storage.mkdir(parents=True, exist_ok=True)
    sampler = optuna.samplers.TPESampler(
        seed=seed, multivariate=True, n_startup_trials=max(4, min(12, trials // 4))
    )
    study = optuna.create_study(
        study_name=STUDY, storage=url, sampler=sampler, direction="minimize", load_if_exists=True
    )
    dists = _distributions()
    if not study.trials:
        study.enqueue_trial(start_values)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    remaining = max(0, trials - len(done))
    if done:
        say(f"resuming: {len(done)} trials done, {remaining} to go")
    batch = max(1, jobs)
    while remaining > 0:
        n = min(batch, remaining)
        asked = [study.ask(dists) for _ in range(n)]
        tasks = [Trial(window, dict(t.params), demand0, obs, reps, inner) for t in asked]
        results = (
            list(executor.map(evaluate, tasks))
            if executor is not None
            else [evaluate(t) for t in tasks]
        )
        for t, (value, vec, _terms) in zip(asked, results, strict=True):
            t.set_user_attr("demand", json.dumps([round(x, 6) for x in vec]))
            study.tell(t, value)
        remaining -= n
        best = study.best_value
        say(
            f"trials {len(study.trials)}/{trials}: best loss {best:.1f} ({time.perf_counter() - t0:.0f} s)"
        )
    return _summarise(base, study, obs, window, reps)


def _summarise(base: Scenario, study, obs: Observed, window: Scenario, reps: int) -> Calibration:  # noqa: ANN001
    import optuna

    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    rows = [
        {**t.params, "loss": t.value, "trial": t.number, "demand": t.user_attrs.get("demand", "")}
        for t in complete
    ]
    trials = pd.DataFrame(rows).sort_values(["loss", "trial"]).reset_index(drop=True)
    best = trials.iloc[0]
    k = len(P.PARAMETERS)
    # quasi-likelihood: the model is misspecified (its best loss is far above the number of
    # terms), so the likelihood-ratio thresholds are scaled by the best loss per term (the
    # residual variance estimated from the fit, as for an overdispersed deviance)
    n_terms = 8 * len(obs.months) + POLICY_WEIGHT * len(obs.targets)
    dispersion = max(1.0, float(best["loss"]) / n_terms)
    joint = trials[trials["loss"] - best["loss"] <= chi2.ppf(0.9, k) * dispersion]
    if len(joint) < 5:
        joint = trials.head(5)
    draws = joint.head(50).reset_index(drop=True)
    draws["knots"] = ",".join(str(k) for k in knots_for(obs.months[-1] - 1))
    table_rows = []
    for p in P.PARAMETERS:
        lo, hi = (float(x) for x in np.percentile(draws[p.name], [5, 95]))
        lo, hi = min(lo, float(best[p.name])), max(hi, float(best[p.name]))  # keep the estimate
        ratio = (hi - lo) / (p.high - p.low)
        table_rows.append(
            {
                "parameter": p.name,
                "prior_low": p.low,
                "prior_high": p.high,
                "estimate": float(best[p.name]),
                "lo90": lo,
                "hi90": hi,
                "width_vs_prior": ratio,
                "constrained": (
                    "undetermined (fewer than 10 draws)"
                    if len(draws) < 10
                    else "yes"
                    if ratio < IDENTIFIED_RATIO
                    else "no (not identified)"
                ),
                "doc": p.doc,
            }
        )
    table = pd.DataFrame(table_rows)
    table.attrs["dispersion"] = dispersion
    point = {p.name: float(best[p.name]) for p in P.PARAMETERS}
    demand0 = Demand.initial(base, knots_for(obs.months[-1] - 1))
    demand = demand0.from_vector(np.array(json.loads(best["demand"])))
    # the loss terms at the point estimate, for the before/after table
    scenario = demand.apply(P.apply(window, point))
    terms = _mean_terms(_runs(scenario, reps), obs)
    return Calibration(base, point, demand, draws, table, terms, trials)
