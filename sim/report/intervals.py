"""Headline totals of a batch with intervals: per scenario, the mean across replications
and the 5–95% interval, and the paired difference from the reference scenario computed
replication by replication (common random numbers), so shared noise cancels.

Read from `totals.parquet` (one row per run and total); without it, only the means of
the flows can be recovered from the daily bands in `summary.parquet`, and the table
says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.intervals import interval_label, is_range, spread
from sim.report.fmt import interval, number, signed, signed_interval
from sim.report.folders import read_parquet
from sim.report.html import Cell, Html, join, note, paragraph, table
from sim.report.run import meaning

HEADLINE = (
    "encounters",
    "transferred",
    "transfer_fallback",
    "peak_in_custody",
    "peak_custody_over_72h",
    "peak_awaiting_transfer",
    "deterred",
    "removed",
    "released",
    "detained",
    "mpp_enrolled",
)


def _per_run(totals: pd.DataFrame) -> pd.DataFrame:
    """[point, indicator] x replication of the headline totals; a total a run lacks was
    zero throughout (runs drop all-zero series)."""
    t = totals[totals["agreement"].fillna("").astype(str) == ""]
    runs = totals[["point", "replication"]].drop_duplicates()
    grid = runs.merge(pd.DataFrame({"indicator": list(HEADLINE)}), how="cross")
    t = grid.merge(t[["point", "replication", "indicator", "value"]], how="left")
    t["value"] = t["value"].fillna(0.0)
    return t.pivot_table(index=["point", "indicator"], columns="replication", values="value")


def _stats(values: np.ndarray) -> tuple[float, float, float]:
    """Mean, q05 and q95 of one set of replications (`sim.intervals.spread`, as batches)."""
    s = spread(values[~np.isnan(values)][None, :])
    return float(s["mean"][0]), float(s["q05"][0]), float(s["q95"][0])


def headline_stats(totals: pd.DataFrame, points: Sequence[str], reference: str) -> pd.DataFrame:
    """point, indicator, n, mean, q05, q95 and the paired difference from `reference`."""
    wide = _per_run(totals)
    rows = []
    for point in points:
        for ind in HEADLINE:
            if (point, ind) not in wide.index:
                continue
            v = wide.loc[(point, ind)]
            mean, lo, hi = _stats(v.to_numpy(float))
            d_mean = d_lo = d_hi = float("nan")
            if point != reference and (reference, ind) in wide.index:
                ref = wide.loc[(reference, ind)]
                both = v.notna() & ref.notna()
                d_mean, d_lo, d_hi = _stats((v[both] - ref[both]).to_numpy(float))
            rows.append((point, ind, int(v.notna().sum()), mean, lo, hi, d_mean, d_lo, d_hi))
    cols = ["point", "indicator", "n", "mean", "q05", "q95", "diff_mean", "diff_q05", "diff_q95"]
    return pd.DataFrame(rows, columns=cols)


def _spread_phrase(reps: int) -> str:
    """How the table's interval columns are described in the text above it."""
    if is_range(reps):
        return (
            f"the range over the replications (from {reps}, fewer than 20, the 5% and 95% "
            "quantiles are not an interval estimate)"
        )
    return "the 5–95% interval of the replications"


def _headline_table(
    stats: pd.DataFrame, reference: str, paired: bool, shown: Mapping[str, str], reps: int
) -> Html:
    diff_head = "Paired difference" if paired else "Difference"
    label = interval_label(reps)
    header = [
        "Scenario",
        "Mean",
        label[0].upper() + label[1:],
        f"{diff_head} from {shown.get(reference, reference)}",
        label[0].upper() + label[1:],
    ]
    rows: list[list[Cell]] = []
    groups: dict[int, str] = {}
    for ind in HEADLINE:
        sub = stats[stats["indicator"] == ind]
        if sub.empty:
            continue
        groups[len(rows)] = f"{ind.replace('_', ' ')}: {meaning(ind)}"
        for _, r in sub.iterrows():
            ref = r["point"] == reference
            rows.append(
                [
                    shown.get(r["point"], r["point"]),
                    number(r["mean"], 0),
                    interval(r["q05"], r["q95"], 0),
                    "reference" if ref else signed(r["diff_mean"], 0),
                    "" if ref else signed_interval(r["diff_q05"], r["diff_q95"], 0),
                ]
            )
    return table(header, rows, numeric=range(1, 5), group_rows=groups)


def _from_summary(folder: Path, points: Sequence[str]) -> Html:
    """Without totals.parquet: mean totals of the flows from the daily bands (the mean of
    a sum is the sum of the means; intervals cannot be recovered from daily bands)."""
    s = read_parquet(folder / "summary.parquet")
    s = s[(s["agreement"].fillna("").astype(str) == "") & s["metric"].isin(list(HEADLINE))]
    means = s.groupby(["point", "metric"])["mean"].sum()
    rows = [
        [p, ind.replace("_", " "), number(means.get((p, ind), 0.0))]
        for ind in HEADLINE
        if not ind.startswith("peak_")
        for p in points
    ]
    return join(
        [
            note(
                "totals.parquet is missing, so only mean totals of the flows are shown, summed "
                "from the daily means in summary.parquet; intervals need the per-run totals."
            ),
            table(["Scenario", "Total", "Mean"], rows, numeric=[2]),
        ]
    )


def headline(
    folder: Path,
    manifest: Mapping[str, Any],
    points: Sequence[str],
    shown: Mapping[str, str] | None = None,
) -> Html:
    """The headline table; `shown` names points for the reader (sweep: by lever values)."""
    shown = shown or {}
    reference = manifest.get("reference") or (points[0] if points else "")
    paired = bool(manifest.get("paired", True))
    path = folder / "totals.parquet"
    if not path.is_file():
        return _from_summary(folder, points)
    totals = read_parquet(path)
    reps = totals.groupby("point")["replication"].nunique()
    n = sorted(set(reps.tolist()))
    n_text = " or ".join(str(x) for x in n) if n else "0"
    how = (
        "computed replication by replication, so it keeps only the effect of the scenario, "
        "not the noise shared by both"
        if paired
        else "not paired: the scenarios have different seeds, so it includes the noise of both"
    )
    parts = [
        paragraph(
            f"Totals over the reported period (persons; peaks are the highest daily stock), "
            f"across {n_text} replications per scenario: the mean and "
            f"{_spread_phrase(min(n) if n else 0)}. The difference from "
            f"{shown.get(reference, reference)} is {how}."
        )
    ]
    stats = headline_stats(totals, points, reference)
    parts.append(_headline_table(stats, reference, paired, shown, min(n) if n else 0))
    return join(parts)
