"""Stocks and policy figures: the published FY2019 figures the calibration fits
(`sim/data/policy_targets_fy2019.csv`: MPP court cases and returns, metering waitlists,
Mexican apprehensions, the custody peak, family units by citizenship) against the same
quantities read off each replication, so "within a factor of 1.3" is a command's output
and not a hand-made table. Only figures whose whole period lies inside the run (and in the
calibration period) are compared.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.fitting.targets import digest, load_policy_targets, simulated_target, targets_through
from sim.observed import IN_SAMPLE_END
from sim.scenario.schema import Scenario

WITHIN = 1.3  # the yardstick for a stock: simulated / observed within [1 / 1.3, 1.3]
COLUMNS = (
    "target",
    "unit",
    "period_start",
    "period_end",
    "observed",
    "sim_mean",
    "sim_min",
    "sim_max",
    "ratio",
    "within_1_3",
)


def covered(scenario: Scenario) -> pd.DataFrame:
    """The fitted policy figures whose period lies wholly inside the run."""
    t = targets_through(load_policy_targets(), IN_SAMPLE_END)
    last = scenario.end - dt.timedelta(days=1)
    keep = (t["period_start"] >= scenario.start) & (t["period_end"] <= last)
    return t[keep].reset_index(drop=True)


def replication_figures(result) -> np.ndarray:  # noqa: ANN001
    """The simulated counterpart of each covered figure in one run (persons, full scale)."""
    rows = covered(result.scenario)
    if rows.empty:
        return np.zeros(0)
    d = digest(result)
    return np.array([simulated_target(d, row) for row in rows.itertuples(index=False)])


def summarise(scenario: Scenario, per_replication: list[np.ndarray]) -> pd.DataFrame:
    """One row a figure: observed, the replications' mean and range, ratio, within 1.3."""
    rows = covered(scenario)
    if rows.empty or not per_replication:
        return pd.DataFrame(columns=list(COLUMNS))
    sims = np.vstack(per_replication)
    out = rows[["target", "unit", "period_start", "period_end"]].copy()
    out["observed"] = rows["value"].astype(float)
    out["sim_mean"] = sims.mean(axis=0)
    out["sim_min"] = sims.min(axis=0)
    out["sim_max"] = sims.max(axis=0)
    out["ratio"] = out["sim_mean"] / out["observed"]
    out["within_1_3"] = (out["ratio"] <= WITHIN) & (out["ratio"] >= 1.0 / WITHIN)
    return out[list(COLUMNS)]


def format_table(frame: pd.DataFrame) -> str:
    """A plain-text table for the terminal, and its count within 1.3."""
    head = f"{'figure':<44} {'period':<22} {'observed':>10} {'simulated':>10} {'ratio':>6}  1.3"
    lines = [head, "-" * len(head)]
    for r in frame.itertuples(index=False):
        what = r.target if r.target != "usbp_family_unit_individuals" else f"family units, {r.unit}"
        lines.append(
            f"{what:<44} {f'{r.period_start}..{r.period_end}':<22} {r.observed:>10,.0f} "
            f"{r.sim_mean:>10,.0f} {r.ratio:>6.2f}  {'yes' if r.within_1_3 else 'no'}"
        )
    lines.append(f"{int(frame['within_1_3'].sum())} of {len(frame)} within a factor of {WITHIN}")
    return "\n".join(lines)
