"""Batch charts: scenarios over time with 90% bands, and paired differences.

Weekly series (flows summed over the week, stocks averaged) with the median across
replications and a 5%-95% band; differences against the reference are computed per
replication first (common random numbers), which is why their bands are narrow. Uses
matplotlib's object API (no pyplot state), so charts can be drawn from any thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.batch.store import write_with

DPI = 130
MAX_LINES = 8  # more points than this (large sweeps): only the first ones are drawn
# Okabe-Ito: distinguishable for colour-blind readers
COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
TITLES = {
    "encounters": "Weekly encounters (persons)",
    "in_custody": "In CBP custody (persons, weekly mean)",
    "transferred": "Weekly transfers under agreements (persons)",
}


def _save(fig: Figure, path: Path) -> None:
    write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight"))


def _shown(points: Sequence[str]) -> tuple[list[str], str]:
    shown = list(points[:MAX_LINES])
    note = f" (first {MAX_LINES} of {len(points)} points)" if len(points) > MAX_LINES else ""
    return shown, note


def _band_axes(ax, table: pd.DataFrame, points: Sequence[str], x: str) -> None:  # noqa: ANN001
    for i, point in enumerate(points):
        d = table[table["point"] == point]
        if d.empty:
            continue
        c = COLORS[i % len(COLORS)]
        ax.fill_between(d[x], d["q05"], d["q95"], color=c, alpha=0.2, linewidth=0)
        ax.plot(d[x], d["median"], color=c, label=point, linewidth=1.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    for label in ax.get_xticklabels():
        label.set_rotation(30)


def band_chart(weekly_bands: pd.DataFrame, metric: str, points: Sequence[str], path: Path) -> bool:
    table = weekly_bands[weekly_bands["metric"] == metric]
    if table.empty:
        return False
    shown, note = _shown(points)
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    _band_axes(ax, table, shown, "week")
    ax.set_title(f"{TITLES.get(metric, metric)}: median and 90% band across replications{note}")
    _save(fig, path)
    return True


def difference_chart(
    weekly_diffs: pd.DataFrame, metric: str, points: Sequence[str], reference: str, path: Path
) -> bool:
    table = weekly_diffs[weekly_diffs["metric"] == metric]
    if table.empty:
        return False
    shown, note = _shown([p for p in points if p != reference])
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    ax.axhline(0.0, color="grey", linewidth=0.8)
    _band_axes(ax, table, shown, "week")
    ax.set_title(
        f"{TITLES.get(metric, metric)}: difference from {reference}, "
        f"paired by replication (median, 90% band){note}"
    )
    _save(fig, path)
    return True


def totals_difference_chart(
    diffs: pd.DataFrame,
    indicators: Sequence[str],
    points: Sequence[str],
    reference: str,
    path: Path,
) -> bool:
    d = diffs[(diffs["agreement"] == "") & diffs["indicator"].isin(list(indicators))]
    present = [i for i in indicators if i in set(d["indicator"])]
    if d.empty or not present:
        return False
    shown, note = _shown([p for p in points if p != reference])
    ncols = min(3, len(present))
    nrows = -(-len(present) // ncols)
    fig = Figure(
        figsize=(4.2 * ncols, (0.4 * len(shown) + 1.3) * nrows + 0.5), layout="constrained"
    )
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(present) :]:
        ax.set_visible(False)
    y = list(range(len(shown)))
    for k, (ax, ind) in enumerate(zip(axes, present, strict=False)):
        rows = d[d["indicator"] == ind].set_index("point").reindex(shown).fillna(0.0)
        err = [rows["mean"] - rows["q05"], rows["q95"] - rows["mean"]]
        ax.errorbar(rows["mean"], y, xerr=err, fmt="o", color=COLORS[0], capsize=3)
        ax.axvline(0.0, color="grey", linewidth=0.8)
        ax.set_yticks(y, shown if k % ncols == 0 else [""] * len(shown))
        ax.set_ylim(len(shown) - 0.5, -0.5)
        ax.set_title(ind, fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(f"Total over the period minus {reference}: mean and 90% interval{note}")
    _save(fig, path)
    return True
