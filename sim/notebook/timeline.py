"""Small time-axis helpers for notebook charts: whole months and the policy dates."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from sim.chartstyle import in_range, policy_markers
from sim.plotting import mark_policy_lines
from sim.scenario.schema import Scenario


def monthly_full(daily: pd.DataFrame | pd.Series, s: Scenario) -> pd.DataFrame | pd.Series:
    """Calendar-month totals of a daily series, keeping only months wholly inside the run:
    a run ending mid-month would otherwise show a half month that looks like a collapse."""
    monthly = daily.resample("MS").sum()
    month_end = monthly.index + pd.offsets.MonthEnd(0)
    keep = (monthly.index >= pd.Timestamp(s.start)) & (month_end < pd.Timestamp(s.end))
    return monthly[keep]


def policy_dates(s: Scenario) -> dict[str, pd.Timestamp]:
    """The dated policy changes of a scenario inside its reported period, by label (the
    charts' own markers, `sim.chartstyle.policy_markers`)."""
    lo, hi = pd.Timestamp(s.start), pd.Timestamp(s.end) - pd.Timedelta(days=1)
    return {m.label: pd.Timestamp(m.date) for m in in_range(policy_markers(s), lo, hi)}


def mark_policies(ax: Axes, s: Scenario, labels: bool = True) -> None:
    """Dashed lines at the policy dates, labelled unless `labels` is False: the first
    question about any bump is "what changed then?". Drawn as every migsim chart draws them."""
    mark_policy_lines(ax, [s], pd.Timestamp(s.start), pd.Timestamp(s.end), labels=labels)
