"""The summary files and charts of a batch folder (runs/ and the manifest are written
elsewhere). Tables are Parquet for analysis; `headline.csv` is for reading."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim import chartstyle as cs
from sim.batch.design import Point
from sim.batch.names import distinct, names, same_as, value_text
from sim.batch.series import is_stock
from sim.batch.stats import bands, paired_differences, weekly, weekly_transfers
from sim.batch.store import BatchFolder, write_csv, write_parquet
from sim.intervals import interval_label
from sim.rounding import round_by_indicator

if TYPE_CHECKING:  # drawing needs matplotlib: imported by write_charts, when it draws
    from sim.batch import charts

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


SURFACE_OUTCOMES = (
    "transferred",
    "deterred",
    "custody_exits_over_72h",
    "peak_custody_over_72h",
    "asylum_backlog_end",
    "encounters",
)


def chart_context(points: Sequence[Point], reps: int) -> charts.Context:
    """Names, distinct points, footer and policy dates shared by a batch's charts."""
    from sim.batch import charts

    records = [{"point": p.label, "hash": p.hash, "levers": p.levers} for p in points]
    scales = {p.scenario.scale for p in points}
    seeds = {p.scenario.seed for p in points}
    scenarios = list(dict.fromkeys(p.scenario.name for p in points))
    shown = ", ".join(scenarios[:4]) + (
        f" and {len(scenarios) - 4} more" if len(scenarios) > 4 else ""
    )
    notes = []
    if len(scales) > 1:
        notes.append(
            "Scales differ: " + ", ".join(f"{p.label} {p.scenario.scale:g}" for p in points)
        )
    return charts.Context(
        names=names(records),
        drawn=distinct(records),
        same_as=same_as(records),
        prov=cs.Provenance(
            shown,
            scales.pop() if len(scales) == 1 else None,
            reps,
            seeds.pop() if len(seeds) == 1 else None,
        ),
        markers=_markers(points),
        notes=tuple(notes),
    )


def _markers(points: Sequence[Point]) -> list[cs.Marker]:
    """Policy dates of every scenario in the batch, each once (a baseline without an
    agreement next to one with it still shows the agreement's dates)."""
    seen: dict[tuple, cs.Marker] = {}
    for p in points:
        for m in cs.policy_markers(p.scenario):
            seen.setdefault((m.date, m.label), m)
    return sorted(seen.values(), key=lambda m: (m.date, m.label))


def agreement_starts(points: Sequence[Point]) -> dict[tuple[str, str], pd.Timestamp]:
    """(point, agreement) -> the agreement's start: day 0 of its cap weeks."""
    return {(p.label, a.name): pd.Timestamp(a.start) for p in points for a in p.scenario.agreements}


def first_agreement(points: Sequence[Point]) -> dict[str, pd.Timestamp]:
    """Point -> its first agreement's start: weekly charts use the weeks caps use."""
    return {
        p.label: pd.Timestamp(min(a.start for a in p.scenario.agreements))
        for p in points
        if p.scenario.agreements
    }


def sweep_surface(
    totals: pd.DataFrame, points: Sequence[Point], outcomes: Sequence[str] = SURFACE_OUTCOMES
) -> tuple[pd.DataFrame, list[str]]:
    """One row per distinct sweep point: its lever values (numbers, or words for lists) and
    per outcome the mean and 5–95% interval across replications; and the lever names."""
    levers = list(points[0].levers) if points and points[0].levers else []
    if not levers or totals.empty:
        return pd.DataFrame(), levers
    labels = distinct([{"point": p.label, "hash": p.hash} for p in points])
    t = totals[(totals["agreement"] == "") & totals["indicator"].isin(list(outcomes))]
    per_run = t.pivot_table(
        index=["point", "replication"], columns="indicator", values="value", aggfunc="first"
    )
    runs = totals[["point", "replication"]].drop_duplicates()
    per_run = per_run.reindex(pd.MultiIndex.from_frame(runs)).fillna(0.0)
    grouped = per_run.groupby(level="point")
    stats = grouped.mean()
    lo, hi = grouped.quantile(0.05), grouped.quantile(0.95)
    by_label = {p.label: p for p in points}
    rows = []
    for label in labels:
        if label not in stats.index:
            continue
        row: dict[str, object] = {"point": label}
        for name, v in by_label[label].levers.items():
            row[name] = (
                v if isinstance(v, int | float) and not isinstance(v, bool) else value_text(v)
            )
        for o in stats.columns:
            row[o], row[f"{o}_q05"], row[f"{o}_q95"] = (
                stats.at[label, o],
                lo.at[label, o],
                hi.at[label, o],
            )
        rows.append(row)
    return pd.DataFrame(rows), levers


def write_charts(
    folder: BatchFolder,
    design: pd.DataFrame,
    series: Mapping[str, pd.DataFrame],
    totals: pd.DataFrame,
    differences: pd.DataFrame,
    points: Sequence[Point],
    reference: str,
    reps: int,
) -> tuple[list[str], dict[str, str]]:
    """Weekly bands, weekly transfers against caps, paired differences and (sweeps) the
    outcome surface; returns the files written and the charts skipped, with why."""
    from sim.batch import charts

    rows = design[design["key"].isin(list(series))]
    if rows.empty:
        return [], {"charts/*.png": "no finished run"}
    metrics = (*CHART_METRICS, "transfer_cap")
    long = pd.concat(
        [
            series[r.key][series[r.key]["metric"].isin(metrics)].assign(
                point=r.point, replication=r.replication
            )
            for r in rows.itertuples(index=False)
        ],
        ignore_index=True,
    )
    labels = [p.label for p in points]
    ctx = chart_context(points, reps)
    plain = [m for m in CHART_METRICS if m != "transferred"]  # transfers: against caps
    stocks = {m for m in CHART_METRICS if is_stock(m)}
    wk = weekly(long, CHART_METRICS, stocks, first_agreement(points))
    wk_bands = bands(wk, ["metric", "week"], labels)
    wk_diffs = paired_differences(wk, ["metric", "week"], labels, reference)
    compare = len(ctx.drawn) > 1
    written: list[Path] = []
    skipped: dict[str, str] = {}

    def keep(path: Path, made: bool, why: str) -> None:
        if made:
            written.append(path)
        else:
            skipped[str(path.relative_to(folder.root))] = why

    for m in CHART_METRICS:
        if m in plain:
            path = folder.charts / f"weekly_{m}.png"
            keep(path, charts.band_chart(wk_bands, m, ctx, path), f"no {m} recorded")
        if compare:
            path = folder.charts / f"difference_weekly_{m}.png"
            made = charts.difference_chart(wk_diffs, m, reference, ctx, path)
            keep(path, made, f"no {m} recorded")
    path = folder.charts / "weekly_transferred.png"
    transfers = weekly_transfers(long, agreement_starts(points))
    keep(path, charts.transfers_chart(transfers, ctx, path), "no agreement in force in any run")
    if compare:
        path = folder.charts / "difference_totals.png"
        made = charts.totals_difference_chart(differences, HEADLINE[:6], reference, ctx, path)
        keep(path, made, "no headline totals")
    surface, levers = sweep_surface(totals, points)
    if levers:
        path = folder.charts / "sweep_outcomes.png"
        made = charts.surface_chart(surface, levers, SURFACE_OUTCOMES, ctx, path)
        keep(path, made, "no finished sweep point")
    return [str(p.relative_to(folder.root)) for p in written], skipped
