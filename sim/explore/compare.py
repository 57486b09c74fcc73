"""What the page compares: a few series and totals per replication, and paired differences.

A replication's full daily table is large; the page keeps only what it draws (monthly
encounters and deterred, daily custody, weekly transfers and caps per agreement, the
receiving countries' backlog) and the headline totals. Baseline and changed runs share
seeds replication by replication (common random numbers), so the headline differences
are paired: changed - baseline within each replication, then summarised.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.results import RunResult

_METRICS = (
    "encounters",
    "deterred",
    "in_custody",
    "custody_over_72h",
    "custody_exits_over_72h",
    "asylum_backlog",
    "transferred",
    "transfer_cap",
)
#: the headline totals: key, label, unit
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("encounters", "Encounters", "persons"),
    ("deterred", "Deterred", "persons"),
    ("transferred", "Transferred under agreements", "persons"),
    ("custody_exits_over_72h", "Held in custody over 72 h", "persons"),
    ("peak_in_custody", "Peak in custody", "persons"),
    ("asylum_backlog_end", "Receiving-country asylum backlog, last day", "persons"),
)


@dataclass
class Outcome:
    """One replication as the page needs it: named series and headline totals."""

    replication: int
    series: dict[str, pd.Series] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def _daily(d: pd.DataFrame, metric: str) -> pd.Series:
    rows = d[d["metric"] == metric]
    return rows.groupby("date", observed=True)["value"].sum().sort_index()


def _monthly(s: pd.Series) -> pd.Series:
    if s.empty:
        return s
    return s.groupby(s.index.to_period("M")).sum().rename(lambda p: p.to_timestamp())


def _weeks(s: pd.Series, origin: dt.date, how: str) -> pd.Series:
    """7-day windows counted from `origin` (an agreement's start: the weeks its cap counts)."""
    if s.empty:
        return s
    o = pd.Timestamp(origin)
    k = (s.index - o).days // 7
    grouped = s.groupby(o + pd.to_timedelta(k * 7, unit="D"))
    return grouped.max() if how == "max" else grouped.sum()


def outcome_of(res: RunResult) -> Outcome:
    """The page's series and totals of one run (counts at full scale, as everywhere)."""
    d = res.daily
    d = d[d["metric"].isin(_METRICS)]
    series: dict[str, pd.Series] = {
        "encounters": _monthly(_daily(d, "encounters")),
        "deterred": _monthly(_daily(d, "deterred")),
        "in_custody": _daily(d, "in_custody"),
        "custody_over_72h": _daily(d, "custody_over_72h"),
    }
    backlog = _daily(d, "asylum_backlog")
    if backlog.empty and res.scenario.agreements:  # no applicant yet: zero, left out of `daily`
        dates = res.calendar.dates[res.calendar.first_reported :]
        backlog = pd.Series(0.0, index=pd.DatetimeIndex(dates, name="date"))
    if not backlog.empty:
        series["asylum_backlog"] = backlog
    for a in res.scenario.agreements:
        cap = d[(d["metric"] == "transfer_cap") & (d["agreement"] == a.name)]
        cap = cap.groupby("date", observed=True)["value"].max().dropna()
        if cap.empty:  # not in force during the reported period
            continue
        moved = d[(d["metric"] == "transferred") & (d["agreement"] == a.name)]
        moved = moved.groupby("date", observed=True)["value"].sum()
        weekly_cap = _weeks(cap, a.start, "max")
        series[f"cap:{a.name}"] = weekly_cap
        series[f"transferred:{a.name}"] = (
            _weeks(moved, a.start, "sum").reindex(weekly_cap.index).fillna(0.0)
        )
    s = series
    totals = {
        "encounters": float(s["encounters"].sum()),
        "deterred": float(s["deterred"].sum()),
        "transferred": float(_daily(d, "transferred").sum()),
        "custody_exits_over_72h": float(_daily(d, "custody_exits_over_72h").sum()),
        "peak_in_custody": float(s["in_custody"].max()) if len(s["in_custody"]) else 0.0,
        # no agreement, no receiving system simulated: no backlog (not zero)
        "asylum_backlog_end": float(backlog.iloc[-1]) if len(backlog) else math.nan,
    }
    return Outcome(res.replication, series, totals, res.wall_seconds)


# ----------------------------------------------------------------------------- summaries
@dataclass(frozen=True)
class Band:
    """Mean and min-max over replications of a series, on the union of their dates."""

    mean: pd.Series
    low: pd.Series
    high: pd.Series


def band(outcomes: Sequence[Outcome], name: str) -> Band | None:
    """A series' mean and range over the replications that have it (None if none do).
    Missing dates count as 0 (a flow or stock with nothing recorded that day)."""
    parts = [o.series[name] for o in outcomes if name in o.series]
    if not parts:
        return None
    wide = pd.concat(parts, axis=1).sort_index().fillna(0.0)
    return Band(wide.mean(axis=1), wide.min(axis=1), wide.max(axis=1))


@dataclass(frozen=True)
class Row:
    """One headline total: both means and the paired difference's mean and range."""

    key: str
    label: str
    unit: str
    baseline: float
    changed: float
    diff_mean: float
    diff_min: float
    diff_max: float
    n: int


def paired(
    baseline: Sequence[Outcome], changed: Sequence[Outcome], key: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per replication (matched by replication number): baseline, changed, changed - baseline."""
    b = {o.replication: o.totals[key] for o in baseline}
    c = {o.replication: o.totals[key] for o in changed}
    reps = sorted(set(b) & set(c))
    bv = np.array([b[r] for r in reps], dtype="float64")
    cv = np.array([c[r] for r in reps], dtype="float64")
    return bv, cv, cv - bv


def headline(baseline: Sequence[Outcome], changed: Sequence[Outcome]) -> list[Row]:
    """The paired differences of the key totals (NaN where a run has no such total)."""
    rows = []
    for key, label, unit in HEADLINE:
        bv, cv, diff = paired(baseline, changed, key)
        stats = [float(np.mean(x)) if len(x) else math.nan for x in (bv, cv, diff)]
        lo = float(np.min(diff)) if len(diff) else math.nan
        hi = float(np.max(diff)) if len(diff) else math.nan
        rows.append(Row(key, label, unit, *stats, lo, hi, len(diff)))
    return rows
