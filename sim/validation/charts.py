"""Observed vs simulated charts: one PNG per series group, simulated mean with 5-95% band.

Out-of-sample observations (from `--observed FILE`) are drawn in a different colour, so a
reader sees at once which months the model could have been tuned to.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure

from sim import chartstyle as cs
from sim.validation.series import CHARTS, series_in


def _panel(ax, rows: pd.DataFrame, title: str) -> None:  # noqa: ANN001
    x = rows["month"].dt.to_timestamp() + pd.Timedelta(days=14)
    ax.fill_between(x, rows["sim_p5"], rows["sim_p95"], color=cs.COLORS[0], alpha=0.25, lw=0)
    ax.plot(x, rows["sim_mean"], color=cs.COLORS[0], lw=1.8, label="simulated mean (5-95%)")
    for sample, colour, label in (
        ("in_sample", "black", "observed"),
        ("out_of_sample", cs.COLORS[3], "observed, out-of-sample"),
    ):
        obs = rows[rows["sample"] == sample]
        if len(obs):
            ox = obs["month"].dt.to_timestamp() + pd.Timedelta(days=14)
            ax.plot(ox, obs["observed"], "o-", color=colour, ms=3.5, lw=1.0, label=label)
    ax.set_title(cs.wrap(title, 48), fontsize=10, loc="left")
    ax.set_ylim(bottom=0)
    cs.count_axis(ax, "Persons per month")
    cs.limit_to_data(ax, x, pad_days=20)


def write_charts(
    monthly: pd.DataFrame,
    folder: Path,
    markers: Sequence[cs.Marker] = (),
    prov: cs.Provenance | None = None,
) -> list[Path]:
    """One PNG per chart group from the monthly table (series, month, sample, observed, sim_*).

    Policy dates are numbered on the plot and named in the footer, so no label is ever cut
    off or drawn over another, however many panels share the figure.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for chart, title in CHARTS.items():
        members = [s for s in series_in(chart) if (monthly["series"] == s.name).any()]
        if not members:
            continue
        n = len(members)
        cols = 1 if n == 1 else 2 if n <= 4 else 3
        nrows = -(-n // cols)
        fig = Figure(figsize=(5.6 * cols + 0.6, 3.4 * nrows + 1.6), layout="constrained")
        axes = fig.subplots(nrows, cols, squeeze=False, sharex=True)
        for ax, s in zip(axes.flat, members, strict=False):
            _panel(ax, monthly[monthly["series"] == s.name], s.label)
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        used = [ax for ax in axes.flat if ax.get_visible()]
        lo, hi = (pd.Timestamp(mdates.num2date(v)).tz_localize(None) for v in used[0].get_xlim())
        shown = cs.in_range(markers, lo, hi)
        key = ""
        for ax in used:  # every panel gets the dates (numbers only where they fit: all)
            key = cs.mark_dates([ax], shown)
        handles, labels = used[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper right", fontsize=8, frameon=False, ncols=3)
        fig.suptitle(f"{title} (persons per month)", fontsize=11, x=0.01, ha="left")
        for i, ax in enumerate(used):
            if i + cols >= n:  # the lowest panel of its column carries the dates
                ax.xaxis.set_tick_params(labelbottom=True)
            for label in ax.get_xticklabels():
                label.set_rotation(30)
                label.set_ha("right")
        cs.footer(fig, prov, key)
        path = folder / f"{chart}.png"
        fig.savefig(path, dpi=cs.DPI, facecolor="white")
        written.append(path)
    return written
