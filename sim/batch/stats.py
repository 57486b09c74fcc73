"""Across replications: bands (mean, median, 5% and 95%) and paired differences.

Inputs are long tables with `point` and `replication` columns. A series or indicator that
a run does not contain was zero throughout (runs drop all-zero series), so it counts as 0;
indicators (`sim.metrics.INDICATORS`) are averages, so they count as missing instead.
Output rows are sorted by design order and keys, so they never depend on completion order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


def weekly(
    series: pd.DataFrame,
    metrics: Sequence[str],
    stocks: set[str],
    origins: Mapping[str, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Weekly series of some metrics (agreement totals): flows summed, stocks averaged.

    Weeks of a point start on its origin (`origins`: the start of its first agreement, the
    day its weekly caps count from) and on its first reported date without one, so a week
    here is the week a cap limits. Partial weeks at either end are dropped so flows stay
    comparable week to week.
    """
    s = series[series["metric"].isin(list(metrics)) & (series["agreement"] == "")]
    return _weeks(s, origins or {}, ["point", "replication", "metric", "week"], stocks)


def weekly_transfers(
    series: pd.DataFrame, starts: Mapping[tuple[str, str], pd.Timestamp]
) -> pd.DataFrame:
    """Per point, replication, agreement and cap week: persons transferred and the cap.

    Weeks start on the agreement's start date (`starts[(point, agreement)]`), as the model
    counts them; `cap` is the largest cap in force on a day of that week, the most the
    week's transfers may reach (a cap rule may change the cap from day to day).
    """
    s = series[series["metric"].isin(["transferred", "transfer_cap"]) & (series["agreement"] != "")]
    if s.empty:
        cols = ["point", "replication", "agreement", "week", "transferred", "cap"]
        return pd.DataFrame(columns=cols)
    origin = pd.Series([starts.get(k) for k in zip(s["point"], s["agreement"], strict=True)])
    s = s.assign(_origin=pd.to_datetime(origin.to_numpy()))
    s = s[s["_origin"].notna()]
    keys = ["point", "replication", "agreement", "week"]
    # whole weeks are told by the cap, recorded every day of the agreement (a transfer
    # series may skip days without transfers)
    transfers = s[s["metric"] == "transferred"]
    flows = _weeks(transfers, None, keys, set(), window="agreement", whole_only=False)
    caps = s[s["metric"] == "transfer_cap"]
    caps = _weeks(caps, None, keys, set(), window="agreement", how="max")
    out = caps.rename(columns={"value": "cap"}).merge(
        flows.rename(columns={"value": "transferred"}), on=keys, how="left"
    )
    out["transferred"] = out["transferred"].fillna(0.0)  # weeks without a transfer
    return out[[*keys, "transferred", "cap"]]


def _weeks(
    s: pd.DataFrame,
    origins: Mapping[str, pd.Timestamp] | None,
    keys: list[str],
    stocks: set[str],
    window: str = "point",
    how: str = "sum",
    whole_only: bool = True,
) -> pd.DataFrame:
    """Rows grouped into 7-day windows counted from an origin: per point (`origins`, else
    its first date) or, with `window="agreement"`, the `_origin` column; only windows
    whose seven days all lie within the rows' dates unless `whole_only` is off."""
    if s.empty:
        return pd.DataFrame(columns=[*keys, "value"])
    group = ["point"] if window == "point" else ["point", "agreement"]
    first = s.groupby(group)["date"].transform("min")
    last = s.groupby(group)["date"].transform("max")
    if window == "point":
        origin = s["point"].map(dict(origins or {})).astype("datetime64[s]").fillna(first)
    else:
        origin = s["_origin"].astype("datetime64[s]")
    k = (s["date"] - origin).dt.days // 7
    week = origin + pd.to_timedelta(k * 7, unit="D")
    s = s.assign(week=week.astype("datetime64[s]"))
    if whole_only:
        s = s[(week >= first) & (week + pd.Timedelta(days=6) <= last)]
    if how == "max":
        return s.groupby(keys, sort=True)["value"].max().reset_index()
    flows = s[~s["metric"].isin(stocks)].groupby(keys, sort=True)["value"].sum()
    stock = s[s["metric"].isin(stocks)].groupby(keys, sort=True)["value"].mean()
    return pd.concat([flows, stock]).reset_index()
