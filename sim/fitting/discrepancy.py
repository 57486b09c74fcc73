"""Model discrepancy: how far the calibrated model is from the data in-sample, per series.

A predictive band from replications and posterior draws holds Monte Carlo noise and
parameter uncertainty only; a misspecified model is wrong by more than that. The in-sample
root-mean-square log error of each series at the point estimate (from the calibration's
loss terms, months up to its last fitted month only) is taken as the sd of a log-normal
error on every simulated value, so forecast bands say what the model gets wrong as well.

A forecast h months past the last fitted month is further from the data the model was
pinned to, and the in-sample error is persistent (it wanders month to month rather than
being drawn afresh). So the error's sd grows with the horizon like a random walk's:

    sd(h)^2 = sd^2 + h x d^2,   d^2 = mean((e_t - e_{t-1})^2) / 2

where e_t is the in-sample log error; for an error that is white noise d = sd, for a
persistent one d is smaller. In-sample months (h <= 0) get sd.

In-sample errors understate the error on new months: the fit chose its free parameters to
make them small. Like a regression's residual variance, both sd^2 and d^2 are divided by
the degrees of freedom left, (n - p) / n, with n the calibration's loss terms and p its free
parameters (demand and mechanisms): the fewer months an origin holds per parameter, the
wider its band.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TOTAL = "usbp_total"
CITIZENSHIPS = ("mexico", "guatemala", "honduras", "el_salvador", "other")


def _log_errors(terms: pd.DataFrame) -> dict[str, np.ndarray]:
    """In-sample log(simulated / observed) per USBP series and their total, in month order."""
    u = terms[terms["kind"] == "usbp"].sort_values("period")
    out = {
        str(what): np.log(g["simulated"].to_numpy() / g["observed"].to_numpy())
        for what, g in u.groupby("what")
    }
    tot = u[u["what"].isin(CITIZENSHIPS)].groupby("period")[["simulated", "observed"]].sum()
    if len(tot):
        out[TOTAL] = np.log(tot["simulated"].to_numpy() / tot["observed"].to_numpy())
    return out


def dof_inflation(terms: pd.DataFrame, free_parameters: int) -> float:
    """sqrt(n / (n - p)): the factor on an in-sample error sd for the p parameters fitted to
    n loss terms (at most 2, where fewer than 4 terms a parameter are left)."""
    n = len(terms)
    if free_parameters <= 0 or n == 0:
        return 1.0
    return float(np.sqrt(n / max(n - free_parameters, n / 4)))


def residual_sd(terms: pd.DataFrame, free_parameters: int = 0) -> dict[str, float]:
    """RMS of log(simulated / observed) per USBP series, and for their total, corrected for
    the `free_parameters` the fit spent (`dof_inflation`)."""
    f = dof_inflation(terms, free_parameters)
    return {k: f * float(np.sqrt(np.mean(e**2))) for k, e in _log_errors(terms).items()}


def residual_drift(terms: pd.DataFrame, free_parameters: int = 0) -> dict[str, float]:
    """d per series: sqrt(mean squared month-to-month change of the log error / 2), corrected
    like `residual_sd`."""
    f = dof_inflation(terms, free_parameters)
    return {
        k: f * float(np.sqrt(np.mean(np.diff(e) ** 2) / 2)) if len(e) > 1 else 0.0
        for k, e in _log_errors(terms).items()
    }


def with_discrepancy(
    sim: pd.DataFrame,
    sd: dict[str, float],
    draws: int = 200,
    seed: int = 20191121,
    *,
    drift: dict[str, float] | None = None,
    last_fitted: pd.Period | None = None,
) -> pd.DataFrame:
    """Long rep/month/series/value -> the same with `draws` log-normal errors per value
    (column `rep` becomes rep * draws + k), seeded, so bands can be read off as quantiles.
    With `drift` and `last_fitted`, the sd grows with the months past `last_fitted`."""
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal(draws)
    s = sim["series"].map(sd).fillna(0.0).to_numpy()
    if drift is not None and last_fitted is not None:
        months = pd.PeriodIndex(sim["month"], freq="M")
        h = np.maximum(np.asarray((months - last_fitted).map(lambda x: x.n)), 0)
        d = sim["series"].map(drift).fillna(0.0).to_numpy()
        s = np.sqrt(s**2 + h * d**2)
    values = sim["value"].to_numpy()[:, None] * np.exp(s[:, None] * eps[None, :])
    out = sim.loc[sim.index.repeat(draws)].copy()
    out["value"] = values.ravel()
    out["rep"] = out["rep"].to_numpy() * draws + np.tile(np.arange(draws), len(sim))
    return out
