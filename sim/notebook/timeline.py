"""Small time-axis helpers for notebook charts: whole months and the policy dates."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from sim.scenario.schema import Scenario


def monthly_full(daily: pd.DataFrame | pd.Series, s: Scenario) -> pd.DataFrame | pd.Series:
    """Calendar-month totals of a daily series, keeping only months wholly inside the run:
    a run ending mid-month would otherwise show a half month that looks like a collapse."""
    monthly = daily.resample("MS").sum()
    month_end = monthly.index + pd.offsets.MonthEnd(0)
    keep = (monthly.index >= pd.Timestamp(s.start)) & (month_end < pd.Timestamp(s.end))
    return monthly[keep]


def policy_dates(s: Scenario) -> dict[str, pd.Timestamp]:
    """The dated policy changes of a scenario inside its reported period, by label."""
    marks = {}
    if s.mpp.enrolment:
        marks["Remain in Mexico"] = s.mpp.enrolment[0].from_
    for step in s.enforcement.mexico[1:]:
        marks["Mexico enforcement surge"] = step.from_
    if s.transit_bar.start is not None:
        marks["transit bar"] = s.transit_bar.start
    for a in s.agreements:
        marks[f"ACA {a.name}"] = a.start
    return {k: pd.Timestamp(v) for k, v in marks.items() if s.start <= v < s.end}


def mark_policies(ax: Axes, s: Scenario, labels: bool = True) -> None:
    """Dashed lines at the policy dates, labelled unless `labels` is False: the first
    question about any bump is "what changed then?"."""
    for label, date in policy_dates(s).items():
        ax.axvline(date, color="grey", ls="--", lw=0.8)
        if labels:
            ax.annotate(
                label,
                (date, 0.98),
                xycoords=("data", "axes fraction"),
                rotation=90,
                va="top",
                ha="right",
                fontsize=8,
                color="dimgrey",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1},
            )
