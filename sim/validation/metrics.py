"""Goodness-of-fit measures for one simulated series against one observed series.

All take equal-length arrays of monthly counts (simulated first, observed second) and
return nan when the measure is undefined, never raise, so one bad series cannot hide the
others.

ARD (averaged relative difference) follows Suleimenova, Bell & Groen (2017), "A generalized
simulation development approach for predicting refugee destinations", Sci. Rep. 7:13377
(the Flee model): at each time t the error summed over locations is normalised by the
total observed count, E(t) = sum_x |sim_x(t) - obs_x(t)| / sum_x obs_x(t), and ARD is the
mean of E(t) over time. For a single series that is MAPE/100, so for one series we use
the total-normalised form sum_t |sim - obs| / sum_t obs (months with many arrivals weigh
more); `flee_ard` applies the original definition across the components of a split
(family status, citizenship). ARD is a fraction (0.25 = 25%); MAPE and total error are %.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _pair(sim: ArrayLike, obs: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    s, o = np.asarray(sim, dtype=float), np.asarray(obs, dtype=float)
    if s.shape != o.shape:
        raise ValueError(f"simulated {s.shape} and observed {o.shape} differ in shape")
    keep = ~(np.isnan(s) | np.isnan(o))
    return s[keep], o[keep]


def mape(sim: ArrayLike, obs: ArrayLike) -> float:
    """Mean absolute percentage error, %: mean(|sim - obs| / obs); months with obs = 0 skipped."""
    s, o = _pair(sim, obs)
    pos = o > 0
    if not pos.any():
        return float("nan")
    return float(100.0 * np.mean(np.abs(s[pos] - o[pos]) / o[pos]))


def total_error(sim: ArrayLike, obs: ArrayLike) -> float:
    """Signed % difference of the sums: 100 (sum sim - sum obs) / sum obs."""
    s, o = _pair(sim, obs)
    total = o.sum()
    return float(100.0 * (s.sum() - total) / total) if total > 0 else float("nan")


def correlation(sim: ArrayLike, obs: ArrayLike) -> float:
    """Pearson correlation of the monthly values (nan for < 3 months or a flat series)."""
    s, o = _pair(sim, obs)
    if len(s) < 3 or np.std(s) == 0 or np.std(o) == 0:
        return float("nan")
    return float(np.corrcoef(s, o)[0, 1])


def ard(sim: ArrayLike, obs: ArrayLike) -> float:
    """Total-normalised averaged relative difference: sum|sim - obs| / sum(obs) (fraction)."""
    s, o = _pair(sim, obs)
    total = o.sum()
    return float(np.abs(s - o).sum() / total) if total > 0 else float("nan")


def flee_ard(sim: ArrayLike, obs: ArrayLike) -> float:
    """Flee ARD over components: mean over months t of sum_c|sim - obs| / sum_c obs.

    `sim` and `obs` are months x components; months with a missing value or no observed
    total are skipped.
    """
    s, o = np.asarray(sim, dtype=float), np.asarray(obs, dtype=float)
    if s.shape != o.shape or s.ndim != 2:
        raise ValueError(f"need equal months x components arrays, got {s.shape} and {o.shape}")
    keep = ~(np.isnan(s).any(axis=1) | np.isnan(o).any(axis=1))
    s, o = s[keep], o[keep]
    totals = o.sum(axis=1)
    pos = totals > 0
    if not pos.any():
        return float("nan")
    return float(np.mean(np.abs(s[pos] - o[pos]).sum(axis=1) / totals[pos]))
