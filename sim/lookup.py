"""Names a caller typed, checked against the names that exist, with close matches offered.

A typo in a metric name (`"encounter"`) used to give an empty series silently, which reads
as "nothing happened"; an error naming the closest metrics is cheaper than that mistake.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from sim.metrics import FLOWS, INDICATORS, STOCKS

#: every metric `daily.parquet` can hold (a known metric with no rows is zero throughout)
METRICS: tuple[str, ...] = (*FLOWS, *STOCKS, *INDICATORS)
#: the columns of `RunResult.daily` a series can be broken down by
BREAKDOWNS: tuple[str, ...] = ("nationality", "group", "agreement")


class UnknownNameError(KeyError, ValueError):
    """An unknown metric or column; a KeyError (a failed lookup) and a ValueError (a bad
    argument), so either `except` catches it. The message lists close matches."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


def close_matches(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names most like `name` (difflib), best first; case is ignored."""
    lowered = {k.lower(): k for k in known}
    hits = difflib.get_close_matches(str(name).lower(), list(lowered), n=n, cutoff=0.5)
    return [lowered[h] for h in hits]


def check_name(name: object, known: Iterable[str], what: str) -> str:
    """Return `name` if it is one of `known`; otherwise raise `UnknownNameError` saying
    what was asked for, the closest matches and where to find the full list."""
    names = list(known)
    if isinstance(name, str) and name in names:
        return name
    hits = close_matches(str(name), names)
    hint = f"did you mean {', '.join(repr(h) for h in hits)}?" if hits else "no close match"
    raise UnknownNameError(
        f"unknown {what} {name!r}: {hint} (one of {len(names)}: {', '.join(names[:8])}"
        + (", ...; the README's metrics table lists all)" if len(names) > 8 else ")")
    )


def check_metric(metric: object) -> str:
    return check_name(metric, METRICS, "metric")


def check_breakdown(by: object) -> str:
    return check_name(by, BREAKDOWNS, "column for by=")
