"""Forecast scores of a backtest table: MAPE, MASE and 90% interval coverage.

- MAPE: mean of |forecast - observed| / observed x 100 over the scored months (observed
  months > 0 only; months without an observation, e.g. after September 2019, are skipped).
- MASE: mean of |forecast - observed| / scale, where `scale` is the in-sample mean absolute
  error of the one-step naive forecast (value of the month before) over the fitted months
  of that origin and series: the fitted months at a 2019 origin hold under two years, too
  few for a seasonal-naive scale, so the same naive scale is used at every origin. MASE < 1
  means the forecast errs less than the naive forecast did in sample.
- coverage90: share of scored months whose observed value lies within the method's 90%
  interval (methods with intervals: the model and the statistical baseline); nan otherwise.

Rows per method x series x horizon (1, 2, ...), plus pooled rows `horizon = "1-3"` and
`horizon = "all"`; `n` counts the scored (origin, month) pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METHODS: tuple[str, ...] = ("model", "persistence", "seasonal_naive", "statistical")
INTERVALS: dict[str, tuple[str, str]] = {
    "model": ("model_lo90", "model_hi90"),
    "statistical": ("statistical_lo90", "statistical_hi90"),
}
SCORE_COLUMNS = ("method", "series", "horizon", "n", "mape", "mase", "coverage90")


def naive_scale(history: pd.Series | np.ndarray) -> float:
    """In-sample MAE of the one-step naive forecast (nan with fewer than two months)."""
    y = np.asarray(history, dtype=float)
    if len(y) < 2:
        return float("nan")
    return float(np.mean(np.abs(np.diff(y))))


def mape(forecast: np.ndarray, observed: np.ndarray) -> float:
    f, o = np.asarray(forecast, dtype=float), np.asarray(observed, dtype=float)
    ok = np.isfinite(f) & np.isfinite(o) & (o > 0)
    return float(100 * np.mean(np.abs(f[ok] - o[ok]) / o[ok])) if ok.any() else float("nan")


def mase(forecast: np.ndarray, observed: np.ndarray, scale: np.ndarray) -> float:
    f, o, s = (np.asarray(x, dtype=float) for x in (forecast, observed, scale))
    ok = np.isfinite(f) & np.isfinite(o) & np.isfinite(s) & (s > 0)
    return float(np.mean(np.abs(f[ok] - o[ok]) / s[ok])) if ok.any() else float("nan")


def coverage(observed: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    o, lo, hi = (np.asarray(x, dtype=float) for x in (observed, lo, hi))
    ok = np.isfinite(o) & np.isfinite(lo) & np.isfinite(hi)
    return float(np.mean((lo[ok] <= o[ok]) & (o[ok] <= hi[ok]))) if ok.any() else float("nan")


def _score(rows: pd.DataFrame, method: str) -> dict[str, float]:
    f = rows[method].to_numpy(dtype=float)
    o = rows["observed"].to_numpy(dtype=float)
    ok = np.isfinite(o) & np.isfinite(f)
    out = {
        "n": int(ok.sum()),
        "mape": mape(f, o),
        "mase": mase(f, o, rows["mase_scale"].to_numpy(dtype=float)),
        "coverage90": float("nan"),
    }
    if method in INTERVALS and all(c in rows for c in INTERVALS[method]):
        lo, hi = INTERVALS[method]
        out["coverage90"] = coverage(
            o, rows[lo].to_numpy(dtype=float), rows[hi].to_numpy(dtype=float)
        )
    return out


def score_table(table: pd.DataFrame, methods: tuple[str, ...] = METHODS) -> pd.DataFrame:
    """Scores of a backtest table (columns origin, horizon, series, observed, the methods,
    their interval columns and `mase_scale`); rows with no observation are skipped."""
    scored = table[np.isfinite(table["observed"].to_numpy(dtype=float))]
    rows = []
    pools: list[tuple[str, pd.Series]] = [
        (str(h), scored["horizon"] == h) for h in sorted(scored["horizon"].unique())
    ]
    pools += [("1-3", scored["horizon"].between(1, 3)), ("all", scored["horizon"] >= 1)]
    for method in methods:
        for series in dict.fromkeys(scored["series"]):
            of_series = scored["series"] == series
            for label, mask in pools:
                sel = scored[of_series & mask]
                if sel.empty:
                    continue
                rows.append(
                    {"method": method, "series": series, "horizon": label, **_score(sel, method)}
                )
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
