"""One backtest origin: calibrate on the months up to it, forecast the months after it.

The calibration starts from `neutral(base)` (mechanisms at their prior centres, demand at
the schema's defaults), never from the fit `base` may extend, which saw later months. The
calibration and the baselines receive only the observed rows with month <= origin
(`truncate` is applied before anything else sees the data); the observed values of the
forecast months are joined afterwards, for scoring only (`score_rows`). The forecast is a
conditional one: the scenario's dated policies (MPP steps, the enforcement surge, the
transit bar and its court dates, agreements) are inputs as they happened; behaviour after
the origin is not.

The model forecast runs the calibrated scenario from the first fitted month to the last
forecast month, `reps` replications, replication r with posterior draw r % draws (common
random numbers across origins); `model` is the mean over replications and
`model_lo90`/`model_hi90` the 5th and 95th percentiles of the replications, each widened
by a log-normal model error with the calibration's in-sample RMS log error of that series,
growing with the months past the origin like a random walk of the in-sample error's own
month-to-month changes (`sim.fitting.discrepancy`), so the band holds Monte Carlo noise,
parameter uncertainty and the model's own misfit.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sim.fitting as fitting
from sim import baselines
from sim.backtest.scores import naive_scale
from sim.fitting.discrepancy import residual_drift, residual_sd, with_discrepancy
from sim.fitting.parameters import neutral
from sim.observed import CITIZENSHIP, FAMILY_STATUS
from sim.scenario.schema import Scenario

BACKTEST_SERIES: tuple[str, ...] = ("usbp_total", *FAMILY_STATUS, *CITIZENSHIP)
COLUMNS: tuple[str, ...] = (
    "origin",
    "horizon",
    "series",
    "observed",
    "model",
    "model_lo90",
    "model_hi90",
    "persistence",
    "seasonal_naive",
    "statistical",
)
#: kept in memory for scores and charts, not written to backtest.csv
EXTRA_COLUMNS: tuple[str, ...] = ("month", "statistical_lo90", "statistical_hi90", "mase_scale")


def as_monthly(observed: pd.DataFrame) -> pd.DataFrame:
    """The wide observed frame indexed by a monthly PeriodIndex named `month`."""
    frame = observed.copy()
    if "month" in frame.columns:
        frame = frame.set_index("month")
    frame.index = pd.PeriodIndex(frame.index, freq="M", name="month")
    return frame.sort_index()


def truncate(observed: pd.DataFrame, origin: pd.Period) -> pd.DataFrame:
    """Only the observed months up to and including `origin` (a copy)."""
    frame = as_monthly(observed)
    return frame[frame.index <= origin].copy()


def _accepted(fn: Callable, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments `fn` accepts (all of them if it takes **kwargs)."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in params}


def forecast_window(
    scenario: Scenario, first: pd.Period, last: pd.Period, scale: float
) -> Scenario:
    """`scenario` run from the first day of `first` to the end of `last` at `scale`."""
    return scenario.model_copy(
        update={
            "start": first.start_time.date(),
            "end": (last + 1).start_time.date(),
            "scale": scale,
        }
    )


@dataclass
class OriginResult:
    origin: pd.Period
    calibration: Any
    rows: pd.DataFrame  # COLUMNS + EXTRA_COLUMNS except `observed` (joined later)
    simulated: pd.DataFrame  # month, series, mean, lo90, hi90 over the whole run
    specs: dict[str, str] = field(default_factory=dict)  # statistical variant per series


def summarise(sim: pd.DataFrame) -> pd.DataFrame:
    """Long rep/month/series/value -> month, series, mean, lo90, hi90 across replications."""
    g = sim.groupby(["series", "month"])["value"]
    out = pd.DataFrame(
        {
            "mean": g.mean(),
            "lo90": g.quantile(0.05),
            "hi90": g.quantile(0.95),
        }
    ).reset_index()
    return out


def run_origin(
    base: Scenario,
    history: pd.DataFrame,
    origin: pd.Period,
    horizon: int,
    *,
    trials: int,
    reps: int,
    cal_reps: int,
    scale: float,
    storage: Path | None = None,
    executor: Executor | None = None,
    jobs: int = 1,
    calibrate_options: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> OriginResult:
    """Calibrate on `history` (observed months <= origin only) and forecast `horizon` months."""
    history = as_monthly(history)
    if len(history) == 0 or history.index[-1] != origin:
        raise ValueError(f"history must end at the origin {origin}")
    say = progress or (lambda _m: None)
    say(f"origin {origin}: calibrating on {history.index[0]}..{origin}")
    # start from nothing fitted: `base` may extend a calibration that saw later months
    cal = fitting.calibrate(
        neutral(base),
        history,
        **_accepted(
            fitting.calibrate,
            {
                "through": origin,
                "trials": trials,
                "scale": scale,
                "reps": cal_reps,
                "storage": storage,
                "executor": executor,
                "jobs": jobs,
                "progress": progress,
                **(calibrate_options or {}),
            },
        ),
    )
    last = origin + horizon
    window = forecast_window(base, history.index[0], last, scale)
    draws = getattr(cal, "draws", None)
    say(f"origin {origin}: forecasting {origin + 1}..{last}, {reps} replications")
    if draws is not None and len(draws):
        sim = fitting.monthly(
            window,
            reps,
            **_accepted(
                fitting.monthly, {"executor": executor, "draws": draws, "apply": cal.apply}
            ),
        )
    else:
        sim = fitting.monthly(cal.apply(window), reps, executor=executor)
    sim = sim.assign(month=pd.PeriodIndex(sim["month"], freq="M"))
    sim = sim[sim["series"].isin(BACKTEST_SERIES)]
    terms = getattr(cal, "terms", None)
    if terms is not None and "kind" in getattr(terms, "columns", ()):
        # bands include the in-sample model error, not only noise and parameters
        p = int(getattr(cal, "free_parameters", 0))
        widened = with_discrepancy(
            sim, residual_sd(terms, p), drift=residual_drift(terms, p), last_fitted=origin
        )
        summary = summarise(widened)
        mean = summarise(sim)["mean"].to_numpy()
        summary["mean"] = mean  # the point forecast stays the mean of the simulations
    else:
        summary = summarise(sim)
    months = pd.period_range(origin + 1, last, freq="M", name="month")
    frames = []
    specs: dict[str, str] = {}
    for series in BACKTEST_SERIES:
        h = history[series].astype(float)
        stat = baselines.statistical(h, horizon)
        specs[series] = stat.spec
        fc = summary[summary["series"] == series].set_index("month").reindex(months)
        frames.append(
            pd.DataFrame(
                {
                    "origin": str(origin),
                    "horizon": np.arange(1, horizon + 1),
                    "series": series,
                    "model": fc["mean"].to_numpy(dtype=float),
                    "model_lo90": fc["lo90"].to_numpy(dtype=float),
                    "model_hi90": fc["hi90"].to_numpy(dtype=float),
                    "persistence": baselines.persistence(h, horizon).to_numpy(),
                    "seasonal_naive": baselines.seasonal_naive(h, horizon).to_numpy(),
                    "statistical": stat.point.to_numpy(),
                    "month": months,
                    "statistical_lo90": stat.lo90.to_numpy(),
                    "statistical_hi90": stat.hi90.to_numpy(),
                    "mase_scale": naive_scale(h),
                }
            )
        )
    return OriginResult(origin, cal, pd.concat(frames, ignore_index=True), summary, specs)


def score_rows(rows: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Join the observed value of each forecast month (nan beyond the data), in COLUMNS order
    followed by the extra columns."""
    obs = as_monthly(observed)
    values = [
        float(obs.at[m, s]) if m in obs.index and s in obs.columns else np.nan
        for m, s in zip(rows["month"], rows["series"], strict=True)
    ]
    out = rows.assign(observed=values)
    return out[list(COLUMNS) + list(EXTRA_COLUMNS)]
