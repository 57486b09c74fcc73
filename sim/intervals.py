"""The one place where spreads across replications are computed and named.

Batch bands, headline tables and reports all describe replications the same way: the
mean, the median and the 5% and 95% quantiles (linear interpolation). From fewer than
`MIN_REPS_FOR_INTERVAL` replications those quantiles are barely more than the smallest and
largest value, so they are called what they are: a range over N replications, not a
"5–95% interval", and the commands that make them warn.
"""

from __future__ import annotations

import warnings

import numpy as np

#: below this many replications, q05 and q95 are labelled a range (and commands warn)
MIN_REPS_FOR_INTERVAL = 20
QUANTILES = (0.05, 0.5, 0.95)
STATS = ("n", "mean", "median", "q05", "q95")


def spread(values: np.ndarray) -> dict[str, np.ndarray]:
    """Row-wise n, mean, median, q05 and q95 of [rows, replications]; NaN marks a missing
    value (left out of that row's statistics; an all-NaN row gives NaN and n = 0)."""
    values = np.asarray(values, dtype="float64")
    if values.ndim == 1:
        values = values[None, :]
    gaps = np.isnan(values).any(axis=1)
    q = np.full((len(QUANTILES), values.shape[0]), np.nan)
    if values.shape[1]:
        q[:, ~gaps] = np.quantile(values[~gaps], QUANTILES, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: NaN, quietly
            if gaps.any():  # nanquantile is slow, so only where needed
                q[:, gaps] = np.nanquantile(values[gaps], QUANTILES, axis=1)
            mean = np.nanmean(values, axis=1)
    else:
        mean = np.full(values.shape[0], np.nan)
    q05, median, q95 = q
    return {
        "n": (~np.isnan(values)).sum(axis=1).astype("int64"),
        "mean": mean,
        "median": median,
        "q05": q05,
        "q95": q95,
    }


def is_range(n: int) -> bool:
    """Too few replications for q05/q95 to estimate a 5–95% interval."""
    return n < MIN_REPS_FOR_INTERVAL


def interval_label(n: int) -> str:
    """What q05..q95 over `n` replications may be called."""
    return f"range over {n} replications" if is_range(n) else "5–95% interval"


def few_replications_warning(n: int) -> str | None:
    """The warning a command prints when its intervals come from too few replications."""
    if not is_range(n):
        return None
    return (
        f"migsim: warning: {n} replication{'s' if n != 1 else ''}: the q05..q95 columns and "
        f"bands are a range over {n} replications, not 5–95% intervals (use --reps "
        f"{MIN_REPS_FOR_INTERVAL} or more for intervals)"
    )


def band_words(n: int | None, what: str = "band") -> str:
    """`5–95% band` (or `interval`), or `range over N replications` below
    `MIN_REPS_FOR_INTERVAL`: the words chart titles and captions use for q05..q95."""
    if n is not None and is_range(n):
        return f"range over {n} replications"
    return f"5–95% {what}"
