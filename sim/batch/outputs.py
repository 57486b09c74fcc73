"""The summary files and charts of a batch folder (runs/ and the manifest are written
elsewhere). Tables are Parquet for analysis; `headline.csv` is for reading."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from sim.batch import charts
from sim.batch.series import is_stock
from sim.batch.stats import bands, paired_differences, weekly
from sim.batch.store import BatchFolder, write_csv, write_parquet
from sim.intervals import interval_label
from sim.rounding import round_by_indicator

CHART_METRICS = ("encounters", "in_custody", "transferred")
DIFF_COLUMNS = ["diff_mean", "diff_q05", "diff_q95"]
HEADLINE = (
    "encounters",
    "transferred",
    "peak_in_custody",
    "deterred",
    "removed",
    "released",
    "transfer_fallback",
    "detained",
    "mpp_enrolled",
    "peak_custody_over_72h",
    "peak_awaiting_transfer",
)


def headline(
    totals: pd.DataFrame,
    differences: pd.DataFrame,
    points: Sequence[str],
    reference: str,
    indicators: Sequence[str] = HEADLINE,
) -> pd.DataFrame:
    """Per point and headline total: mean and 90% interval across replications, and the
    paired difference from the reference with its 90% interval."""
    t = totals[(totals["agreement"] == "") & totals["indicator"].isin(list(indicators))]
    # a total missing from a run was zero throughout (runs drop all-zero series)
    runs = totals[["point", "replication"]].drop_duplicates()
    grid = runs.merge(pd.DataFrame({"indicator": list(indicators), "agreement": ""}), how="cross")
    t = grid.merge(t[[*grid.columns, "value"]], how="left").fillna({"value": 0.0})
    stats = bands(t, ["indicator", "agreement"], points)
    d = differences[["point", "indicator", "agreement", "mean", "q05", "q95"]].rename(
        columns={"mean": "diff_mean", "q05": "diff_q05", "q95": "diff_q95"}
    )
    out = stats.merge(d, on=["point", "indicator", "agreement"], how="left")
    compared = out["point"] != reference
    diff_cols = ["diff_mean", "diff_q05", "diff_q95"]
    out.loc[compared, diff_cols] = out.loc[compared, diff_cols].fillna(0.0)
    rank = {name: i for i, name in enumerate(indicators)}
    place = {p: i for i, p in enumerate(points)}
    out = out.assign(_p=out["point"].map(place), _i=out["indicator"].map(rank))
    return out.sort_values(["_p", "_i"], kind="stable").drop(columns=["_p", "_i", "agreement"])


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """headline.csv as read: values rounded to what they mean (`sim.rounding`) and each
    row's q05..q95 named (`interval`: a range below 20 replications)."""
    out = round_by_indicator(table, ["mean", "median", "q05", "q95", *DIFF_COLUMNS])
    out.insert(
        out.columns.get_loc("q95") + 1, "interval", [interval_label(int(n)) for n in out["n"]]
    )
    return out


def write_tables(
    folder: BatchFolder,
    summary: pd.DataFrame,
    totals: pd.DataFrame,
    differences: pd.DataFrame,
    points: Sequence[str],
    reference: str,
) -> None:
    write_parquet(folder.root / "summary.parquet", summary)
    write_parquet(folder.root / "totals.parquet", totals)
    write_parquet(folder.root / "differences.parquet", differences)
    write_csv(
        folder.root / "headline.csv", readable(headline(totals, differences, points, reference))
    )


def write_charts(
    folder: BatchFolder,
    design: pd.DataFrame,
    series: Mapping[str, pd.DataFrame],
    differences: pd.DataFrame,
    points: Sequence[str],
    reference: str,
) -> list[str]:
    """Weekly bands, weekly paired differences and total differences; returns file names."""
    rows = design[design["key"].isin(list(series))]
    if rows.empty:
        return []
    long = pd.concat(
        [
            series[r.key][series[r.key]["metric"].isin(CHART_METRICS)].assign(
                point=r.point, replication=r.replication
            )
            for r in rows.itertuples(index=False)
        ],
        ignore_index=True,
    )
    wk = weekly(long, CHART_METRICS, {m for m in CHART_METRICS if is_stock(m)})
    wk_bands = bands(wk, ["metric", "week"], points)
    wk_diffs = paired_differences(wk, ["metric", "week"], points, reference)
    compare = len(points) > 1
    written = []
    for m in CHART_METRICS:
        path = folder.charts / f"weekly_{m}.png"
        if charts.band_chart(wk_bands, m, points, path):
            written.append(path)
        path = folder.charts / f"difference_weekly_{m}.png"
        if compare and charts.difference_chart(wk_diffs, m, points, reference, path):
            written.append(path)
    path = folder.charts / "difference_totals.png"
    if compare and charts.totals_difference_chart(
        differences, HEADLINE[:6], points, reference, path
    ):
        written.append(path)
    return [str(p.relative_to(folder.root)) for p in written]
