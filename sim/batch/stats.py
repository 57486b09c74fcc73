"""Across replications: bands (mean, median, 5% and 95%) and paired differences.

Inputs are long tables with `point` and `replication` columns. A series or indicator that
a run does not contain was zero throughout (runs drop all-zero series), so it counts as 0;
indicators (`sim.metrics.INDICATORS`) are averages, so they count as missing instead.
Output rows are sorted by design order and keys, so they never depend on completion order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.intervals import STATS as _STATS
from sim.intervals import spread
from sim.metrics import INDICATORS

STATS = list(_STATS)


def _stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Row-wise statistics of [rows, replications] (`sim.intervals.spread`)."""
    return spread(values)


def _wide(long: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """[keys] x replication, zero-filled except for indicator metrics."""
    wide = long.set_index([*keys, "replication"])["value"].unstack("replication").sort_index()
    wide = wide.reindex(columns=sorted(wide.columns))
    if "metric" in keys:
        fill = ~wide.index.get_level_values("metric").isin(list(INDICATORS))
        wide.loc[fill] = wide.loc[fill].fillna(0.0)
    else:
        wide = wide.fillna(0.0)
    return wide


def _frame(point: str, index: pd.MultiIndex, stats: dict[str, np.ndarray]) -> pd.DataFrame:
    out = index.to_frame(index=False)
    out.insert(0, "point", point)
    for k, v in stats.items():
        out[k] = v
    return out


def _ordered(parts: list[pd.DataFrame], keys: Sequence[str]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=["point", *keys, *STATS])
    return pd.concat(parts, ignore_index=True)


def bands(long: pd.DataFrame, keys: Sequence[str], points: Sequence[str]) -> pd.DataFrame:
    """Per point and key: n, mean, median, q05, q95 across replications."""
    parts = []
    groups = dict(tuple(long.groupby("point", sort=False)))
    for point in points:
        sub = groups.get(point)
        if sub is None or sub.empty:
            continue
        wide = _wide(sub, keys)
        parts.append(_frame(point, wide.index, _stats(wide.to_numpy("float64"))))
    return _ordered(parts, keys)


def paired_differences(
    long: pd.DataFrame, keys: Sequence[str], points: Sequence[str], reference: str
) -> pd.DataFrame:
    """Per point (not the reference) and key: statistics of (point - reference), computed
    replication by replication over the replications both have (common random numbers)."""
    groups = dict(tuple(long.groupby("point", sort=False)))
    ref = groups.get(reference)
    ref_wide = None if ref is None or ref.empty else _wide(ref, keys)
    parts = []
    for point in points:
        sub = groups.get(point)
        if point == reference or sub is None or sub.empty or ref_wide is None:
            continue
        wide = _wide(sub, keys)
        reps = [r for r in wide.columns if r in set(ref_wide.columns)]
        index = wide.index.union(ref_wide.index).sort_values()
        a = _align(wide, index, reps)
        b = _align(ref_wide, index, reps)
        parts.append(_frame(point, index, _stats(a - b)))
    out = _ordered(parts, keys)
    out.insert(1, "reference", reference)
    return out


def _align(wide: pd.DataFrame, index: pd.MultiIndex, reps: list[int]) -> np.ndarray:
    w = wide.reindex(index=index, columns=reps)
    if "metric" in index.names:
        fill = ~index.get_level_values("metric").isin(list(INDICATORS))
        w.loc[fill] = w.loc[fill].fillna(0.0)
    else:
        w = w.fillna(0.0)
    return w.to_numpy("float64")


def weekly(series: pd.DataFrame, metrics: Sequence[str], stocks: set[str]) -> pd.DataFrame:
    """Weekly series of some metrics (agreement totals): flows summed, stocks averaged.

    Weeks start on the first reported date; a trailing partial week is dropped so flows
    stay comparable week to week.
    """
    s = series[series["metric"].isin(list(metrics)) & (series["agreement"] == "")]
    if s.empty:
        return s.assign(week=pd.Series(dtype="datetime64[s]"))
    start = s["date"].min()
    last = s["date"].max()
    week = (s["date"] - start).dt.days // 7
    full_weeks = ((last - start).days + 1) // 7
    s = s.assign(week=start + pd.to_timedelta(week * 7, unit="D"))[week < full_weeks]
    keys = ["point", "replication", "metric", "week"]
    flows = s[~s["metric"].isin(stocks)].groupby(keys, sort=True)["value"].sum()
    stock = s[s["metric"].isin(stocks)].groupby(keys, sort=True)["value"].mean()
    return pd.concat([flows, stock]).reset_index()
