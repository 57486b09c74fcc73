"""Charts drawn inline in a notebook: `RunResult.plot` and `BatchResult.plot`.

They follow the standard charts' conventions (`sim.charts`: Okabe-Ito colours, policy
dates as dashed lines, thousands separators, scenario, seed and scale in a footer) but
draw any metric, into a new figure or an `ax` the caller owns, and return the Axes so the
chart can be adjusted (`ax.figure` is the Figure). Nothing is written to disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from sim.charts import (
    AGREEMENT_COLOR,
    FIG_WIDTH,
    GROUP_COLOR,
    GROUP_LABEL,
    NAT_COLOR,
    NAT_LABEL,
    POLICY_COLOR,
    THOUSANDS,
    _stacked_bars,
    policy_markers,
)
from sim.intervals import interval_label
from sim.lookup import check_breakdown, check_metric
from sim.metrics import FLOWS, INDICATORS, STOCKS
from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sim.batch.orchestrate import BatchResult
    from sim.results import RunResult

COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
SMOOTH_DAYS = 7  # batch flows: daily bands are drawn as 7-day averages (labelled so)


def _meaning(metric: str) -> str:
    return {**FLOWS, **STOCKS, **INDICATORS}[metric]


def _new_axes(ax: Axes | None) -> tuple[Axes, bool]:
    if ax is not None:
        return ax, False
    fig, ax = plt.subplots(figsize=(FIG_WIDTH, 5.0), layout="constrained")
    return ax, True


def mark_policy_lines(
    ax: Axes,
    scenarios: Sequence[Scenario],
    lo: pd.Timestamp,
    hi: pd.Timestamp,
    labels: bool = True,
) -> None:
    """Dashed policy lines of the scenarios (each date and label once), labelled along the
    top of the panel unless `labels` is False (e.g. the lower panels of a stack)."""
    markers = {(m.date, m.label): m for s in scenarios for m in policy_markers(s)}
    for m in sorted(markers.values(), key=lambda m: (m.date, m.label)):
        x = pd.Timestamp(m.date)
        if not lo <= x <= hi:
            continue
        color = AGREEMENT_COLOR if m.agreement else POLICY_COLOR
        ax.axvline(x, color=color, lw=1.0, ls="--", alpha=0.8, zorder=4)
        if not labels:
            continue
        ax.annotate(
            f"{m.label}, {m.date:%d %b %Y}",
            (x, 0.99),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color=color,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1},
        )


def _style(ax: Axes, ylabel: str, legend_title: str | None = None, counts: bool = True) -> None:
    if counts:  # indicators (multipliers, shares, days) keep matplotlib's own ticks
        ax.yaxis.set_major_formatter(THOUSANDS)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color="#dddddd", lw=0.7, zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=legend_title, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)


def _footer(ax: Axes, text: str) -> None:
    ax.figure.supxlabel(text, x=0.01, ha="left", fontsize=8, color="#555555")


def scale_note(scale: float) -> str:
    """How a chart or summary says its scale (counts are always scaled back to persons)."""
    if scale >= 1:
        return "full scale (every person simulated)"
    return (
        f"simulated at scale {scale:g}, counts scaled back to persons (steps of {1 / scale:,.0f})"
    )


# ----------------------------------------------------------------------------- one run
def _run_table(result: RunResult, metric: str, by: str | None) -> pd.DataFrame:
    """Daily values on the full reported calendar, one column per `by` value (or `metric`);
    indicators are averaged over the cells not asked for, counts summed."""
    d = result.daily[result.daily["metric"] == metric]
    how = "mean" if metric in INDICATORS else "sum"
    cols = by or "metric"
    wide = d.pivot_table(index="date", columns=cols, values="value", aggfunc=how, observed=True)
    if by == "agreement":
        wide = wide.drop(columns=[""], errors="ignore")
    s = result.scenario
    days = pd.date_range(s.start, pd.Timestamp(s.end) - pd.Timedelta(days=1), freq="D")
    return wide.reindex(days).fillna(0.0) if metric not in INDICATORS else wide.reindex(days)


def _ordered(table: pd.DataFrame, by: str | None) -> tuple[pd.DataFrame, dict, dict]:
    order = {"nationality": list(NAT_COLOR), "group": list(GROUP_COLOR)}.get(by or "", [])
    cols = [c for c in order if c in table.columns] + [c for c in table.columns if c not in order]
    colors = {"nationality": NAT_COLOR, "group": GROUP_COLOR}.get(by or "", {})
    labels = {"nationality": NAT_LABEL, "group": GROUP_LABEL}.get(by or "", {})
    colors = {c: colors.get(c, COLORS[i % len(COLORS)]) for i, c in enumerate(cols)}
    return table[cols], colors, labels


def plot_run(result: RunResult, metric: str, by: str | None = None, ax: Axes | None = None) -> Axes:
    """Flows as stacked monthly bars (persons per month), stocks and indicators as daily
    lines, broken down by `by` (nationality, group or agreement); returns the Axes."""
    check_metric(metric)
    if by is not None:
        check_breakdown(by)
    ax, own = _new_axes(ax)
    s = result.scenario
    table, colors, labels = _ordered(_run_table(result, metric, by), by)
    if metric in FLOWS:
        table = table.resample("MS").sum()
        widths = [0.85 * d for d in table.index.days_in_month]
        _stacked_bars(ax, table, widths, colors, labels if by else None)
        ylabel = "persons per month"
    else:
        for col in table.columns:
            ax.plot(
                table.index,
                table[col],
                color=colors[col],
                lw=1.3,
                zorder=3,
                label=labels.get(col, col) if by else None,
            )
        ylabel = "persons (end of day)" if metric in STOCKS else metric.replace("_", " ")
    if table.empty or not table.notna().to_numpy().any():
        ax.text(0.5, 0.5, f"no {metric} recorded", transform=ax.transAxes, ha="center")
    lo, hi = pd.Timestamp(s.start), pd.Timestamp(s.end)
    ax.set_xlim(lo.replace(day=1) if metric in FLOWS else lo, hi)
    mark_policy_lines(ax, [s], lo, hi)
    ax.set_title(f"{metric}: {_meaning(metric)}", loc="left", fontsize=11)
    _style(ax, ylabel, by, counts=metric not in INDICATORS)
    if own:
        last = hi - pd.Timedelta(days=1)
        partial = "\nBars are calendar months; the first and last may be partial." * (
            metric in FLOWS
        )
        _footer(
            ax,
            f"Scenario {s.name}, seed {s.seed}, replication {result.replication}, "
            f"{s.start:%d %b %Y} to {last:%d %b %Y};\n{scale_note(s.scale)}.{partial}",
        )
    return ax


# ----------------------------------------------------------------------------- a batch
def plot_batch(
    result: BatchResult,
    metric: str,
    agreement: str = "",
    points: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Mean and q05..q95 band across replications per point (every point unless `points`);
    flows as 7-day averages of the daily values (persons per day). Returns the Axes."""
    check_metric(metric)
    rows = result.summary[
        (result.summary["metric"] == metric) & (result.summary["agreement"] == agreement)
    ]
    known = list(dict.fromkeys(result.design["point"])) if len(result.design) else []
    if points is None:
        points = known
    for p in points:
        if p not in known:
            from sim.lookup import check_name

            check_name(p, known, "point")
    ax, own = _new_axes(ax)
    flows = metric in FLOWS
    n_reps: set[int] = set()
    for i, point in enumerate(points):
        d = rows[rows["point"] == point].set_index("date").sort_index()
        if d.empty:
            continue
        d.index = pd.DatetimeIndex(d.index)
        n_reps.add(int(d["n"].max()))
        band = d[["mean", "q05", "q95"]]
        if flows:
            band = band.rolling(SMOOTH_DAYS, center=True, min_periods=1).mean()
        c = COLORS[i % len(COLORS)]
        ax.fill_between(band.index, band["q05"], band["q95"], color=c, alpha=0.2, lw=0)
        ax.plot(band.index, band["mean"], color=c, lw=1.5, label=point)
    n = min(n_reps) if n_reps else 0
    if not n_reps:
        ax.text(0.5, 0.5, f"no {metric} recorded", transform=ax.transAxes, ha="center")
    by_point = _scenarios(result)
    scenarios = [by_point[p] for p in points if p in by_point]
    if scenarios and len(rows):
        dates = pd.DatetimeIndex(rows["date"])
        mark_policy_lines(ax, scenarios, dates.min(), dates.max())
    what = f"{SMOOTH_DAYS}-day average, persons per day" if flows else "persons (end of day)"
    if metric in INDICATORS:
        what = metric.replace("_", " ")
    where = f" ({agreement})" if agreement else ""
    ax.set_title(f"{metric}{where}: mean and {interval_label(n)} (shaded)", loc="left", fontsize=11)
    _style(ax, what, "point", counts=metric not in INDICATORS)
    if own:
        scales = sorted({s.scale for s in scenarios})
        scale = ", ".join(scale_note(x) for x in scales) or "scale unknown"
        _footer(
            ax,
            f"{len(points)} point{'s' * (len(points) != 1)}, {n} replications each;\n{scale}.\n"
            f"Bands are per day across replications{' (then averaged over 7 days)' * flows}.",
        )
    return ax


def _scenarios(result: BatchResult) -> dict[str, Scenario]:
    """The resolved scenario of each point of the batch (from its manifest)."""
    out = {}
    for p in result.manifest.get("points", []):
        try:
            out[p["point"]] = Scenario.model_validate(p["resolved"])
        except (KeyError, ValueError):
            continue
    return out
