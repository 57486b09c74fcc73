"""The slices as small multiples: per mechanism strength, the loss difference from the
point estimate over the prior range, with its Monte Carlo band, the threshold and the
estimate; style of `sim.chartstyle`."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter

from sim.charts import FIG_WIDTH
from sim.chartstyle import Provenance, footer, write_png
from sim.fitting import parameters as P
from sim.fitting.calibrate import NOISE_Z
from sim.fitting.slices import Slices, differences

NCOLS = 4
LINE, BAND, FLAT, ESTIMATE = "#0072B2", "#cfe3f1", "#999999", "#D55E00"


def _panel(ax, p: P.Parameter, d: pd.DataFrame, row: pd.Series, threshold: float) -> None:  # noqa: ANN001
    x = np.append(d["value"].to_numpy(dtype=float), row["estimate"])
    y = np.append(d["delta"].to_numpy(dtype=float), 0.0)
    se = np.append(d["delta_se"].to_numpy(dtype=float), 0.0)
    order = np.argsort(x)
    x, y, se = x[order], y[order], se[order]
    ax.fill_between(x, y - NOISE_Z * se, y + NOISE_Z * se, color=BAND, lw=0, zorder=1)
    ax.plot(x, y, "o-", color=LINE, ms=3, lw=1.2, zorder=3)
    ax.axhline(threshold, color=FLAT, lw=0.8, ls="--", zorder=2)
    ax.axhline(0.0, color="#444444", lw=0.6, zorder=2)
    ax.axvline(row["estimate"], color=ESTIMATE, lw=0.9, zorder=2)
    ax.axvspan(row["slice_lo"], row["slice_hi"], color="#f2f2f2", zorder=0)
    if p.log:  # a few plain ticks: the default log labels crowd a range under a decade
        ax.set_xscale("log")
        ticks = np.geomspace(p.low, p.high, 4)
        ax.set_xticks(ticks, [f"{t:.2g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(p.low, p.high)
    # linear near zero (where the threshold is), logarithmic beyond: a rise of thousands at
    # the prior's edge does not flatten the part that decides the interval
    ax.set_yscale("symlog", linthresh=max(2.0 * threshold, 1.0))
    name = p.name.replace("deterrence.", "").replace("enforcement.", "")
    ax.set_title(f"{name}\n{row['verdict'].split(';')[0]}", fontsize=8, loc="left")
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e6e6e6", lw=0.6, zorder=0)


def slice_chart(result: Slices, path: Path, prov: Provenance | None = None) -> Path:
    """Write the small multiples of every sliced strength to `path` (PNG)."""
    table = result.table
    diffs = differences(result.frame)
    n = len(table)
    nrows = -(-n // NCOLS)
    fig, axes = plt.subplots(
        nrows, NCOLS, figsize=(FIG_WIDTH, 2.3 * nrows + 1.2), squeeze=False, layout="constrained"
    )
    for ax, row in zip(axes.flat, table.itertuples(index=False), strict=False):
        r = pd.Series(row._asdict())
        d = diffs[diffs["parameter"] == r["parameter"]].sort_values("value")
        _panel(ax, P.BY_NAME[r["parameter"]], d, r, result.threshold)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(
        "How the loss changes along each mechanism strength (the others at the point, demand "
        "refitted)",
        fontsize=12,
        fontweight="bold",
    )
    fig.supylabel("loss minus the point's loss", fontsize=9)
    footer(
        fig,
        prov,
        f"Mean over {result.settings.seeds} common seeds ({result.settings.seeds + result.settings.confirm_seeds} "
        "for a value that looked better and was evaluated again); band: one-sided 90% "
        f"Monte Carlo band of the mean difference; dashed: the threshold "
        f"{result.threshold:.1f} (chi-square(0.9, 1) x dispersion {result.dispersion:.2f} x "
        f"autocorrelation {result.inflation:.2f}); y axis linear within twice the threshold, "
        "logarithmic beyond; orange: the estimate; grey: the slice "
        "interval. A flat slice (interval over half the prior or more) means the data do not "
        "identify the strength even with the others fixed.",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_png(fig, path)
    finally:
        plt.close(fig)
    return path
