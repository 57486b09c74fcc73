"""Waterfall of the attribution: from the change with every mechanism off, each mechanism's
Shapley contribution (with its 90% interval over replications), to the full model's
change, beside the observed change. One panel per series; style of `sim.chartstyle`."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.attribution.players import BY_NAME
from sim.attribution.run import BASELINE
from sim.charts import FIG_WIDTH
from sim.chartstyle import DPI, THOUSANDS, Provenance, footer

TITLES = {
    "usbp_total": "USBP apprehensions",
    "single_adults": "Single adults",
    "family_unit_individuals": "Family-unit members",
    "unaccompanied_children": "Unaccompanied children",
}
UP, DOWN, TOTAL, OBSERVED = "#0072B2", "#D55E00", "#777777", "#000000"


def _panel(ax, rows: pd.DataFrame) -> None:  # noqa: ANN001
    base = rows[rows["mechanism"] == BASELINE].iloc[0]
    mech = rows[rows["mechanism"] != BASELINE]
    labels = ["All mechanisms off"]
    bottoms, heights, colours = [0.0], [float(base["contribution"])], [TOTAL]
    err_x, err_y, err_lo, err_hi = (
        [0],
        [float(base["contribution"])],
        [float(base["contribution"] - base["contribution_lo90"])],
        [float(base["contribution_hi90"] - base["contribution"])],
    )
    level = float(base["contribution"])
    for i, r in enumerate(mech.itertuples(index=False), start=1):
        c = float(r.contribution)
        labels.append(BY_NAME[r.mechanism].label if r.mechanism in BY_NAME else r.mechanism)
        bottoms.append(level)
        heights.append(c)
        colours.append(UP if c >= 0 else DOWN)
        err_x.append(i)
        err_y.append(level + c)
        err_lo.append(c - float(r.contribution_lo90))
        err_hi.append(float(r.contribution_hi90) - c)
        level += c
    n = len(labels)
    labels += ["Simulated change", "Observed change"]
    bottoms += [0.0, 0.0]
    heights += [float(base["simulated_change"]), float(base["observed_change"])]
    colours += [TOTAL, OBSERVED]
    x = np.arange(len(labels))
    heights_arr = np.nan_to_num(np.array(heights, dtype=float))
    ax.bar(x, heights_arr, bottom=bottoms, color=colours, width=0.7, zorder=2)
    ax.errorbar(
        err_x,
        err_y,
        yerr=[err_lo, err_hi],
        fmt="none",
        ecolor="#222222",
        capsize=3,
        lw=0.9,
        zorder=3,
    )
    for i in range(n - 1):
        end = bottoms[i] + heights[i]
        ax.plot([i + 0.35, i + 0.65], [end, end], color="#999999", lw=0.7, zorder=1)
    tallest = float(np.max(np.abs(heights_arr[n:]))) if len(heights_arr) > n else 0.0
    for i, (b, h) in enumerate(zip(bottoms, heights_arr, strict=True)):
        # a step's label sits beyond its end; the totals' labels sit inside their bars, so
        # they never collide with the last step's label, which ends at the same level
        inside = i >= n and abs(h) >= 0.2 * tallest  # a short bar cannot hold its label
        up = (h >= 0) != inside
        ax.annotate(
            f"{h:+,.0f}",
            (i, b + h),
            ha="center",
            va="bottom" if up else "top",
            fontsize=7,
            color="white" if inside else "black",
            fontweight="bold" if inside else "normal",
            rotation=90 if inside else 0,  # a total's label runs along its bar
            xytext=(0, 2 if up else -2),
            textcoords="offset points",
            zorder=4,
        )
    ax.axhline(0, color="#444444", lw=0.8)
    ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=8)
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.grid(axis="y", color="#dddddd", lw=0.7, zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylabel("change, persons / month")
    ax.margins(y=0.1)  # no bar touches the frame


def waterfall(
    table: pd.DataFrame, path: Path, note: str = "", prov: Provenance | None = None
) -> Path:
    series = list(dict.fromkeys(table["series"]))
    ncols = 2 if len(series) > 1 else 1
    nrows = -(-len(series) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(FIG_WIDTH, 4.6 * nrows + 0.8), squeeze=False, layout="constrained"
    )
    for ax, s in zip(axes.flat, series, strict=False):
        _panel(ax, table[table["series"] == s])
        ax.set_title(TITLES.get(s, s), fontsize=10)
    for ax in list(axes.flat)[len(series) :]:
        ax.set_visible(False)
    first = table["window_start"].iloc[0]
    last = table["window_end"].iloc[0]
    fig.suptitle(
        f"What drove the change in monthly apprehensions, {first} to {last}",
        fontsize=13,
        fontweight="bold",
    )
    footer(fig, prov, note)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path, dpi=DPI, facecolor="white")
    finally:
        plt.close(fig)
    return path
