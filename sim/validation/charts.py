"""Observed vs simulated charts: one PNG per series group, simulated mean with 5-95% band.

Out-of-sample observations (from `--observed FILE`) are drawn in a different colour, so a
reader sees at once which months the model could have been tuned to.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib.pyplot as plt  # the backend is chosen by the CLI (sim.cli.main), not here
import pandas as pd
from matplotlib.ticker import FuncFormatter

from sim.scenario.schema import Scenario  # noqa: E402
from sim.validation.series import CHARTS, series_in  # noqa: E402


def policy_dates(scenario: Scenario) -> list[tuple[dt.date, str]]:
    """Dated policy changes of the scenario that fall inside the reported period."""
    marks: list[tuple[dt.date, str]] = []
    if scenario.mpp.enrolment:
        marks.append((scenario.mpp.enrolment[0].from_, "MPP"))
    marks += [(s.from_, "Mexico enforcement") for s in scenario.enforcement.mexico[1:]]
    if scenario.transit_bar.start is not None:
        marks.append((scenario.transit_bar.start, "transit bar"))
    marks += [(a.start, a.name) for a in scenario.agreements]
    return sorted(d for d in marks if scenario.start <= d[0] < scenario.end)


def _panel(ax, rows: pd.DataFrame, title: str, marks: list[tuple[dt.date, str]]) -> None:  # noqa: ANN001
    x = rows["month"].dt.to_timestamp() + pd.Timedelta(days=14)
    ax.fill_between(x, rows["sim_p5"], rows["sim_p95"], color="tab:blue", alpha=0.25, lw=0)
    ax.plot(x, rows["sim_mean"], color="tab:blue", lw=1.8, label="simulated mean (5-95%)")
    for sample, colour, label in (
        ("in_sample", "black", "observed"),
        ("out_of_sample", "tab:red", "observed, out-of-sample"),
    ):
        obs = rows[rows["sample"] == sample]
        if len(obs):
            ox = obs["month"].dt.to_timestamp() + pd.Timedelta(days=14)
            ax.plot(ox, obs["observed"], "o-", color=colour, ms=3.5, lw=1.0, label=label)
    for date, label in marks:
        ax.axvline(pd.Timestamp(date), color="grey", ls=":", lw=0.9)
        ax.annotate(
            label,
            (pd.Timestamp(date), 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color="grey",
        )
    ax.set_title(title, fontsize=10)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(alpha=0.3)


def write_charts(
    monthly: pd.DataFrame, folder: Path, marks: list[tuple[dt.date, str]] = ()
) -> list[Path]:
    """One PNG per chart group from the monthly table (series, month, sample, observed, sim_*)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for chart, title in CHARTS.items():
        members = [s for s in series_in(chart) if (monthly["series"] == s.name).any()]
        if not members:
            continue
        n = len(members)
        cols = 1 if n == 1 else 2 if n <= 4 else 3
        nrows = -(-n // cols)
        fig, axes = plt.subplots(
            nrows, cols, figsize=(5.2 * cols, 3.2 * nrows + 0.6), squeeze=False, sharex=True
        )
        for ax, s in zip(axes.flat, members, strict=False):
            _panel(ax, monthly[monthly["series"] == s.name], s.label, list(marks))
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        axes.flat[0].legend(fontsize=7, loc="lower left")
        fig.suptitle(f"{title} (persons per month)", fontsize=11)
        fig.autofmt_xdate()
        fig.tight_layout()
        path = folder / f"{chart}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
