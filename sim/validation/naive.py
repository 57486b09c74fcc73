"""The naive forecasts a useful model has to beat, built from observed values only.

"Same month last year" is the seasonal naive forecast (value 12 months earlier);
"last month" carries the previous month's value forward (random-walk forecast). They are
nan where the earlier month is not in the observed history.
"""

from __future__ import annotations

import pandas as pd

NAIVE: dict[str, int] = {"naive_same_month": 12, "naive_last_month": 1}


def lagged(history: pd.Series, months: pd.PeriodIndex, lag: int) -> pd.Series:
    """The observed value `lag` months before each of `months` (index = months)."""
    values = history.reindex(months - lag).to_numpy(dtype=float)
    return pd.Series(values, index=months, name=history.name)


def same_month_last_year(history: pd.Series, months: pd.PeriodIndex) -> pd.Series:
    return lagged(history, months, NAIVE["naive_same_month"])


def last_month(history: pd.Series, months: pd.PeriodIndex) -> pd.Series:
    return lagged(history, months, NAIVE["naive_last_month"])
