"""Simulated monthly counts: one frame per replication, then mean and 5-95% band.

Only calendar months lying wholly inside the reported run period are kept: a partial
month would look like a collapse (or a surge) that is only an artefact of the dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from sim.intervals import spread
from sim.results import RunResult
from sim.validation.series import SERIES

_METRICS = sorted({s.metric for s in SERIES})


def full_months(start: dt.date, end: dt.date) -> pd.PeriodIndex:
    """Months whose first and last day lie in [start, end) (end exclusive, as scenarios)."""
    first = pd.Period(start, freq="M")
    if pd.Timestamp(start) != first.start_time:
        first += 1
    last = pd.Period(end - dt.timedelta(days=1), freq="M")
    if pd.Timestamp(end) != (last + 1).start_time:
        last -= 1
    if last < first:
        return pd.PeriodIndex([], freq="M", name="month")
    return pd.period_range(first, last, freq="M", name="month")


def replication_monthly(result: RunResult) -> pd.DataFrame:
    """Monthly totals of every compared series for one replication (month x series, persons)."""
    months = full_months(result.scenario.start, result.scenario.end)
    d = result.daily
    d = d[d["metric"].isin(_METRICS)]
    d = d.assign(month=d["date"].dt.to_period("M"), metric=d["metric"].astype(str))
    out = pd.DataFrame(index=months, dtype=float)
    for s in SERIES:
        sel = d[d["metric"] == s.metric]
        if s.by is not None:
            sel = sel[sel[s.by].astype(str) == s.key]
        monthly = sel.groupby("month")["value"].sum()
        out[s.name] = monthly.reindex(months, fill_value=0.0).astype(float)
    return out


def summarise(per_replication: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Across replications: long rows series, month, sim_mean, sim_p5, sim_p95, reps.

    Percentiles interpolate linearly between replications (`sim.intervals.spread`), so with
    fewer than 20 replications the band is a range over them, not a 5-95% interval.
    """
    if not per_replication:
        raise ValueError("no replications to summarise")
    months = per_replication[0].index
    rows = []
    for s in SERIES:
        stack = np.vstack([rep[s.name].to_numpy(dtype=float) for rep in per_replication])
        stats = spread(stack.T)  # one row per month (`sim.intervals`, as batches)
        rows.append(
            pd.DataFrame(
                {
                    "series": s.name,
                    "month": months,
                    "sim_mean": stats["mean"],
                    "sim_p5": stats["q05"],
                    "sim_p95": stats["q95"],
                    "reps": len(per_replication),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def simulated_monthly(results: Iterable[RunResult]) -> pd.DataFrame:
    """Monthly mean and 5-95% band across a list of replications (see `summarise`)."""
    return summarise([replication_monthly(r) for r in results])
