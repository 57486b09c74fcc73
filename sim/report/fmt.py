"""Numbers as a reader wants them: thousands separators, no false precision, a dash for
"no value" (nan), so tables can be read aloud in a meeting."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

MISSING = "–"  # en dash


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def number(value: Any, decimals: int | None = None) -> str:
    """`1234567.0` -> `1,234,567`; small fractions keep a few decimals; nan -> en dash."""
    x = _float(value)
    if x is None:
        return MISSING if value is None or value == "" else str(value)
    if math.isnan(x):
        return MISSING
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if decimals is None:
        if x.is_integer() or abs(x) >= 100:
            decimals = 0
        elif abs(x) >= 1:
            decimals = 1
        else:
            decimals = 3
    text = f"{x:,.{decimals}f}"
    return "0" if text.lstrip("-").strip("0.,") == "" else text.replace("-", "−")


def interval(low: Any, high: Any, decimals: int | None = None) -> str:
    """A 5-95% interval as `low – high` (one dash if either end is missing)."""
    lo, hi = number(low, decimals), number(high, decimals)
    return MISSING if MISSING in (lo, hi) else f"{lo} – {hi}"


def signed(value: Any, decimals: int | None = None) -> str:
    """A difference, with its sign: `+1,234`, `-56`, `0`."""
    text = number(value, decimals)
    x = _float(value)
    return f"+{text}" if x is not None and x > 0 and text != MISSING else text


def signed_interval(low: Any, high: Any, decimals: int | None = None) -> str:
    """`+15 to +555`, `−1,225 to −325`: words, since a dash between signed numbers misreads."""
    lo, hi = signed(low, decimals), signed(high, decimals)
    return MISSING if MISSING in (lo, hi) else f"{lo} to {hi}"


def period_fact(manifest: Mapping[str, Any], scenario: Mapping[str, Any]) -> str:
    """`first day to last day`, both simulated (the scenario's `end` is exclusive), from the
    manifest's `period` or, for folders written before it was recorded, from the scenario."""
    period = manifest.get("period")
    if isinstance(period, Mapping) and period.get("first_day") and period.get("last_day"):
        return f"{period['first_day']} to {period['last_day']}"
    start, end = scenario.get("start", "?"), scenario.get("end", "?")
    with contextlib.suppress(ValueError):
        end = (dt.date.fromisoformat(str(end)) - dt.timedelta(days=1)).isoformat()
    return f"{start} to {end}"
