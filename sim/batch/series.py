"""From a run's tidy daily table to what a batch compares: series and headline totals.

Series are totals per metric and date (summed over nationality, group and agreement;
indicators averaged over cells) plus one row per agreement for per-agreement metrics.
Totals are one number per run: flows summed over the period, stocks as their peak and
their end-of-period value, per-agreement indicators (the cap in force, the receiving
country's capacity and waits) as their last value. Everything is sorted, so results never depend on run order.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from sim.metrics import AGREEMENT_INDICATORS, FLOWS, INDICATORS, STOCKS

ALL = ""  # the agreement label of totals over every agreement (as in `RunResult.summary`)
SERIES_COLUMNS = ["metric", "agreement", "date", "value"]
TOTALS_COLUMNS = ["indicator", "agreement", "value"]


def daily_to_parquet(daily: pd.DataFrame) -> bytes:
    """The daily table as Parquet bytes (what `runs/<key>.parquet` holds)."""
    buf = io.BytesIO()
    daily.to_parquet(buf, index=False)
    return buf.getvalue()


def daily_from_parquet(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data))


def labels(column: pd.Series) -> np.ndarray:
    """A label column as an object array of `str`, as `column.astype(str)` gives: for a
    categorical (the daily table's columns) its categories taken by the codes, instead of
    converting each of the ~300,000 rows' strings (0.1 s of every batch run)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        if not len(codes) or codes.min() >= 0:  # (a missing label: the general case)
            return np.array([str(c) for c in column.cat.categories], dtype=object)[codes]
    return column.astype(str).to_numpy(object)


def run_series(daily: pd.DataFrame) -> pd.DataFrame:
    """Totals per metric and date, plus per-agreement rows (see the module docstring)."""
    d = pd.DataFrame(
        {
            "metric": labels(daily["metric"]),
            "agreement": labels(daily["agreement"]),
            "date": pd.to_datetime(daily["date"]).astype("datetime64[s]"),
            "value": daily["value"].astype("float64"),
        }
    )
    d = d[~(d["metric"].isin(list(INDICATORS)) & d["value"].isna())]  # undefined days
    is_indicator = d["metric"].isin(list(INDICATORS))
    flows = d[~is_indicator]
    parts = [
        flows.groupby(["metric", "date"], sort=True)["value"].sum().reset_index(),
        d[is_indicator].groupby(["metric", "date"], sort=True)["value"].mean().reset_index(),
    ]
    for p in parts:
        p.insert(1, "agreement", ALL)
    per_agr = flows[flows["agreement"] != ALL]
    parts.append(
        per_agr.groupby(["metric", "agreement", "date"], sort=True)["value"].sum().reset_index()
    )
    per_agr_ind = d[is_indicator & (d["agreement"] != ALL)]
    parts.append(
        per_agr_ind.groupby(["metric", "agreement", "date"], sort=True)["value"]
        .mean()
        .reset_index()
    )
    out = pd.concat(parts, ignore_index=True)[SERIES_COLUMNS]
    return out.sort_values(["metric", "agreement", "date"], kind="stable", ignore_index=True)


def is_stock(metric: str) -> bool:
    """Anything recorded that is neither a flow nor an indicator is an end-of-day stock."""
    return metric not in FLOWS and metric not in INDICATORS


def run_totals(series: pd.DataFrame) -> pd.DataFrame:
    """Headline numbers of one run: `<flow>` totals, `peak_<stock>` and `<stock>_end`."""
    s = series[~series["metric"].isin(list(INDICATORS))]
    stock = s["metric"].map(is_stock).astype(bool)
    g_flow = s[~stock].groupby(["metric", "agreement"], sort=True)["value"]
    g_stock = (
        s[stock]
        .sort_values("date", kind="stable")
        .groupby(["metric", "agreement"], sort=True)["value"]
    )
    flows = g_flow.sum().reset_index()
    peaks = g_stock.max().reset_index()
    peaks["metric"] = "peak_" + peaks["metric"]
    ends = g_stock.last().reset_index()
    ends["metric"] = ends["metric"] + "_end"
    # per-agreement indicators (cap in force, receiving capacity, waits): their last value
    ind = series[series["metric"].isin(list(AGREEMENT_INDICATORS)) & (series["agreement"] != ALL)]
    ind_ends = (
        ind.sort_values("date", kind="stable")
        .groupby(["metric", "agreement"], sort=True)["value"]
        .last()
        .reset_index()
    )
    ind_ends["metric"] = ind_ends["metric"] + "_end"
    out = pd.concat([flows, peaks, ends, ind_ends], ignore_index=True).rename(
        columns={"metric": "indicator"}
    )
    return out[TOTALS_COLUMNS].sort_values(
        ["indicator", "agreement"], kind="stable", ignore_index=True
    )


def known_indicators() -> set[str]:
    """Names `run_totals` can produce (for validating sensitivity outcomes)."""
    from sim.recorder import Recorder

    stocks = set(STOCKS) | set(Recorder(1, []).extra_names)
    return (
        set(FLOWS)
        | {f"peak_{s}" for s in stocks}
        | {f"{s}_end" for s in stocks}
        | {f"{m}_end" for m in AGREEMENT_INDICATORS}
    )
