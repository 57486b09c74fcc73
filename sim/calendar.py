"""Simulation time: day 0 is the first warm-up day; one time unit is one day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SimCalendar:
    origin: dt.date  # date of day 0 (start minus warm-up)
    start: dt.date  # first reported day
    end: dt.date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.origin).days

    @property
    def first_reported(self) -> int:
        return (self.start - self.origin).days

    def day(self, date: dt.date) -> int:
        return (date - self.origin).days

    @cached_property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.origin, periods=self.days, freq="D")

    @cached_property
    def month_keys(self) -> list[str]:
        """YYYY-MM of every day."""
        return [d.strftime("%Y-%m") for d in self.dates]

    @cached_property
    def calendar_month(self) -> np.ndarray:
        """Calendar month (0 = January) of every day."""
        return np.asarray(self.dates.month - 1)

    @cached_property
    def days_in_month(self) -> np.ndarray:
        return np.asarray(self.dates.days_in_month, dtype=float)

    def step_values(self, steps: list[tuple[dt.date, float]], before: float = 0.0) -> np.ndarray:
        """A dated piecewise-constant schedule evaluated on every day."""
        out = np.full(self.days, before, dtype=float)
        for date, value in steps:
            out[max(self.day(date), 0) :] = value
        return out
