"""Fan chart of one backtest origin: observed months, the model's mean and 90% band over the
fitted and forecast months, and the three baselines, one panel per series.

Same look as every migsim chart (`sim.chartstyle`: Okabe-Ito colours, thousands
separators, light grid, numbered policy dates, provenance footer); the origin is a dashed
grey line.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

from sim.charts import FIG_WIDTH, _style
from sim.chartstyle import DPI, Provenance, footer, mark_dates, policy_markers
from sim.scenario.schema import Scenario

LABELS = {
    "usbp_total": "USBP apprehensions",
    "single_adults": "Single adults",
    "family_unit_individuals": "Family-unit members",
    "unaccompanied_children": "Unaccompanied children",
    "mexico": "Mexico",
    "guatemala": "Guatemala",
    "honduras": "Honduras",
    "el_salvador": "El Salvador",
    "other": "Other",
}
MODEL, OBSERVED, FUTURE = "#0072B2", "#000000", "#D55E00"
BASELINES = {  # column -> (label, colour, line style)
    "persistence": ("Persistence", "#E69F00", "--"),
    "seasonal_naive": ("Seasonal naive", "#009E73", "-."),
    "statistical": ("ETS (statsmodels)", "#CC79A7", ":"),
}


def _x(months: pd.Series | pd.PeriodIndex) -> pd.DatetimeIndex:
    return pd.PeriodIndex(months, freq="M").to_timestamp() + pd.Timedelta(days=14)


def fan_chart(
    origin: pd.Period,
    rows: pd.DataFrame,
    simulated: pd.DataFrame,
    history: pd.DataFrame,
    scenario: Scenario,
    path: Path,
    note: str = "",
    prov: Provenance | None = None,
) -> Path:
    """Write the chart of one origin to `path` (PNG)."""
    series = list(dict.fromkeys(rows["series"]))
    ncols = 3
    nrows = -(-len(series) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(FIG_WIDTH * 1.25, 2.9 * nrows + 1.2),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )
    lo = history.index[0]
    hi = pd.Period(rows["month"].max(), freq="M")
    marks = [
        m for m in policy_markers(scenario) if lo.start_time.date() <= m.date <= hi.end_time.date()
    ]
    for ax, s in zip(axes.flat, series, strict=False):
        sim = simulated[simulated["series"] == s].sort_values("month")
        x = _x(sim["month"])
        ax.fill_between(
            x, sim["lo90"], sim["hi90"], color=MODEL, alpha=0.2, lw=0, label="Model 90% band"
        )
        ax.plot(x, sim["mean"], color=MODEL, lw=1.6, label="Model mean")
        h = history[s] if s in history.columns else pd.Series(dtype=float)
        ax.plot(
            _x(h.index),
            h.to_numpy(),
            "o-",
            color=OBSERVED,
            ms=2.5,
            lw=0.9,
            label="Observed (fitted)",
        )
        r = rows[rows["series"] == s].sort_values("horizon")
        fut = r[r["observed"].notna()]
        if len(fut):
            ax.plot(
                _x(fut["month"]),
                fut["observed"],
                "o-",
                color=FUTURE,
                ms=3,
                lw=0.9,
                label="Observed (after origin)",
            )
        for col, (label, colour, ls) in BASELINES.items():
            ax.plot(_x(r["month"]), r[col], ls, color=colour, lw=1.2, label=label)
        ax.axvline(origin.end_time.normalize(), color="#444444", ls="--", lw=1.0)
        ax.set_title(LABELS.get(s, s), fontsize=10)
        _style(ax, "persons / month" if ax in axes[:, 0] else "")
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        loc = mdates.MonthLocator(bymonth=(1, 4, 7, 10))
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, show_offset=False))
        ax.set_ylim(bottom=0)
    for ax in list(axes.flat)[len(series) :]:
        ax.set_visible(False)
    used = list(axes.flat)[: len(series)]
    key = ""
    for ax in used:
        key = mark_dates([ax], marks)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", ncols=1, frameon=False, fontsize=9)
    footer(fig, prov, note, key, "Dashed grey line: the origin.")
    fig.suptitle(
        f"Backtest from origin {origin}: calibrated on {lo}..{origin}, forecast to {hi}",
        fontsize=13,
        fontweight="bold",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path, dpi=DPI, facecolor="white")
    finally:
        plt.close(fig)
    return path
