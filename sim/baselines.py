"""Statistical baselines a structural forecast has to beat, from an observed history only.

Every function takes a monthly `history` (a `pd.Series` indexed by a contiguous monthly
`PeriodIndex`: the months a forecast may use, nothing later) and a `horizon`, and forecasts
the `horizon` months after the last month of the history.

- `persistence`: the last observed value, for every horizon (random-walk forecast).
- `seasonal_naive`: the value of the same calendar month in the latest year of the history
  (month m gets the value of m - 12 k, k the smallest whole number of years that lands
  inside the history).
- `statistical`: an exponential-smoothing state-space model (statsmodels `ETSModel`,
  additive errors) on log counts, the variant chosen by AICc (AIC corrected for small
  samples; the fitted months are few) among no trend, additive trend and damped additive
  trend, plus additive 12-month seasonality with each of those when the history holds at
  least `SEASONAL_MIN_MONTHS` months. Everything is fitted on `history` alone. The point
  forecast is exp of the forecast mean of log counts (the median on the count scale) and the
  90% interval is exp of the model's 90% prediction interval of log counts. All variants
  share the same data and likelihood (same log counts, no differencing), so their AICc are
  comparable. If no variant can be fitted, the forecast falls back to persistence with no
  interval (`spec = "fallback: persistence"`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

SEASON = 12
#: seasonal ETS variants need two full years at least (12 seasonal states to estimate)
SEASONAL_MIN_MONTHS = 2 * SEASON + 6
LEVEL = 0.90


def _check(history: pd.Series, horizon: int) -> pd.PeriodIndex:
    if not isinstance(history.index, pd.PeriodIndex) or history.index.freqstr not in ("M", "ME"):
        raise ValueError("history must be indexed by a monthly PeriodIndex")
    if len(history) == 0:
        raise ValueError("empty history")
    idx = history.index
    if len(idx) > 1 and not (np.diff(idx.asi8) == 1).all():
        raise ValueError("history months must be contiguous and increasing")
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    last = idx[-1]
    return pd.period_range(last + 1, last + horizon, freq="M", name="month")


def persistence(history: pd.Series, horizon: int) -> pd.Series:
    """The last observed value for each of the `horizon` months after the history."""
    months = _check(history, horizon)
    return pd.Series(float(history.iloc[-1]), index=months, name="persistence")


def seasonal_naive(history: pd.Series, horizon: int) -> pd.Series:
    """Same calendar month in the latest year of the history (nan if the history is too
    short to hold that calendar month)."""
    months = _check(history, horizon)
    last = history.index[-1]
    values = []
    for m in months:
        k = math.ceil((m - last).n / SEASON)
        source = m - SEASON * k
        values.append(float(history[source]) if source in history.index else float("nan"))
    return pd.Series(values, index=months, name="seasonal_naive")


@dataclass(frozen=True)
class StatisticalForecast:
    """Point forecast and 90% interval (persons) and the variant chosen."""

    point: pd.Series
    lo90: pd.Series
    hi90: pd.Series
    spec: str
    aicc: float


def _variants(n: int) -> list[dict]:
    out = [
        {"trend": None, "damped_trend": False},
        {"trend": "add", "damped_trend": False},
        {"trend": "add", "damped_trend": True},
    ]
    if n >= SEASONAL_MIN_MONTHS:
        out += [{**v, "seasonal": "add", "seasonal_periods": SEASON} for v in list(out)]
    return out


def _spec(v: dict) -> str:
    trend = {None: "N", "add": "A"}[v.get("trend")] + ("d" if v.get("damped_trend") else "")
    season = "A" if v.get("seasonal") else "N"
    return f"ETS(A,{trend},{season}) on log counts"


def statistical(history: pd.Series, horizon: int, level: float = LEVEL) -> StatisticalForecast:
    """ETS on log counts, the variant chosen by AICc on the history only (module doc)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    months = _check(history, horizon)
    # a plain integer index: statsmodels' prediction tables need a pandas input, and
    # positions keep it from guessing dates
    y = pd.Series(np.log(np.maximum(history.to_numpy(dtype=float), 1.0)))
    best = None
    for v in _variants(len(y)):
        if len(y) < 4 + (2 if v.get("trend") else 0):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = ETSModel(y, error="add", **v).fit(disp=False)
        except (ValueError, np.linalg.LinAlgError):
            continue
        aicc = float(fit.aicc)
        if not np.isfinite(aicc):
            continue
        if best is None or aicc < best[0]:
            best = (aicc, v, fit)
    if best is None:
        p = persistence(history, horizon)
        nan = pd.Series(np.nan, index=months)
        return StatisticalForecast(
            p.rename("statistical"), nan, nan, "fallback: persistence", np.nan
        )
    aicc, v, fit = best
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = fit.get_prediction(start=len(y), end=len(y) + horizon - 1).summary_frame(
            alpha=1 - level
        )
    mean = frame["mean"].to_numpy(dtype=float)
    lo = frame["pi_lower"].to_numpy(dtype=float)
    hi = frame["pi_upper"].to_numpy(dtype=float)
    return StatisticalForecast(
        pd.Series(np.exp(mean), index=months, name="statistical"),
        pd.Series(np.exp(lo), index=months, name="statistical_lo90"),
        pd.Series(np.exp(hi), index=months, name="statistical_hi90"),
        _spec(v),
        aicc,
    )
