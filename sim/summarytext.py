"""How command summaries and manifests state the period, the scale and the counts.

One wording everywhere: the period is given by its first and last simulated day, both
inclusive (a scenario's `end` is exclusive, and "to 16 Mar 2020" read as the day after the
last day charted); the scale is always named; a count of simulated persons is never shown
as if every person had been simulated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


def last_day(end: dt.date) -> dt.date:
    """The last simulated day of a run whose scenario `end` is exclusive."""
    return end - dt.timedelta(days=1)


def period(start: dt.date, end: dt.date) -> str:
    """`2018-10-01 to 2020-03-15` for a scenario ending (exclusive) on 2020-03-16."""
    return f"{start:%Y-%m-%d} to {last_day(end):%Y-%m-%d}"


def period_record(start: dt.date, end: dt.date) -> dict[str, str]:
    """The period for a manifest, both ends inclusive, named so they cannot be misread."""
    return {"first_day": start.isoformat(), "last_day": last_day(end).isoformat()}


def scale_phrase(scales: Iterable[float]) -> str:
    """`scale 0.1`, `full scale (1)` or `scales 0.05 and 0.1` for a batch that mixes them."""
    values = sorted(set(scales))
    if not values:
        return "scale unknown"
    if values == [1.0]:
        return "full scale (1)"
    if len(values) == 1:
        return f"scale {values[0]:g}"
    return "scales " + ", ".join(f"{v:g}" for v in values[:-1]) + f" and {values[-1]:g}"


def persons_simulated(simulated: int, scale: float) -> str:
    """`150,451 persons simulated at scale 0.1 (represents 1,504,510)`; at full scale the
    two are the same number, said once."""
    if scale >= 1:
        return f"{simulated:,} persons simulated at full scale"
    return (
        f"{simulated:,} persons simulated at scale {scale:g} (represents {simulated / scale:,.0f})"
    )
