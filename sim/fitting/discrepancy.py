"""Model discrepancy: how far the calibrated model is from the data in-sample, per series.

A predictive band from replications and posterior draws holds Monte Carlo noise and
parameter uncertainty only; a misspecified model is wrong by more than that. The in-sample
root-mean-square log error of each series at the point estimate (from the calibration's
loss terms, months up to its last fitted month only) is taken as the sd of a log-normal
error on every simulated value, so forecast bands say what the model gets wrong as well.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TOTAL = "usbp_total"
CITIZENSHIPS = ("mexico", "guatemala", "honduras", "el_salvador", "other")


def residual_sd(terms: pd.DataFrame) -> dict[str, float]:
    """RMS of log(simulated / observed) per USBP series, and for their total."""
    u = terms[terms["kind"] == "usbp"]
    out = {}
    for what, g in u.groupby("what"):
        out[str(what)] = float(np.sqrt(np.mean(np.log(g["simulated"] / g["observed"]) ** 2)))
    tot = u[u["what"].isin(CITIZENSHIPS)].groupby("period")[["simulated", "observed"]].sum()
    if len(tot):
        out[TOTAL] = float(np.sqrt(np.mean(np.log(tot["simulated"] / tot["observed"]) ** 2)))
    return out


def with_discrepancy(
    sim: pd.DataFrame, sd: dict[str, float], draws: int = 200, seed: int = 20191121
) -> pd.DataFrame:
    """Long rep/month/series/value -> the same with `draws` log-normal errors per value
    (column `rep` becomes rep * draws + k), seeded, so bands can be read off as quantiles."""
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal(draws)
    s = sim["series"].map(sd).fillna(0.0).to_numpy()
    values = sim["value"].to_numpy()[:, None] * np.exp(s[:, None] * eps[None, :])
    out = sim.loc[sim.index.repeat(draws)].copy()
    out["value"] = values.ravel()
    out["rep"] = out["rep"].to_numpy() * draws + np.tile(np.arange(draws), len(sim))
    return out
