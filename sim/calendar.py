"""Simulation time: day 0 is the first warm-up day; one time unit is one day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
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
        import pandas as pd  # (not at import: a run needs no pandas until its tables)

        return pd.date_range(self.origin, periods=self.days, freq="D")

    @cached_property
    def _days64(self) -> np.ndarray:
        """Every day as numpy datetime64[D] (the months below need no pandas: a run does
        not import it until its tables)."""
        return np.datetime64(self.origin, "D") + np.arange(self.days)

    @cached_property
    def month_keys(self) -> list[str]:
        """YYYY-MM of every day."""
        return np.datetime_as_string(self._days64.astype("datetime64[M]")).tolist()

    @cached_property
    def calendar_month(self) -> np.ndarray:
        """Calendar month (0 = January) of every day."""
        return self._days64.astype("datetime64[M]").astype(np.int64) % 12

    @cached_property
    def days_in_month(self) -> np.ndarray:
        month = self._days64.astype("datetime64[M]")
        return ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(float)

    def step_values(self, steps: list[tuple[dt.date, float]], before: float = 0.0) -> np.ndarray:
        """A dated piecewise-constant schedule evaluated on every day."""
        out = np.full(self.days, before, dtype=float)
        for date, value in steps:
            out[max(self.day(date), 0) :] = value
        return out
