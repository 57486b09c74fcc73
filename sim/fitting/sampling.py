"""Posterior by importance sampling around the search's mode (the ABC-SMC stand-in).

Why not ABC-SMC from the prior (pyabc): with 23 mechanism strengths, each evaluation a
demand refit plus simulations, an SMC run that starts from the uniform prior needs thousands
of evaluations before its populations reach the region the Optuna search has already found.
Importance sampling targets the same quasi-posterior with a few hundred:

    p(theta | data) ~ prior(theta) x exp(-(loss(theta) - loss_best) / (2 x dispersion))

(the loss is -2 log pseudo-likelihood; the dispersion, best loss per term, widens it for a
model that does not fit within the stated sigmas; a Gaussian-kernel ABC with the loss as
distance targets the same, Wilkinson 2013). The proposal is a *defensive mixture*
(Hesterberg 1995): with probability 1 - `DEFENSIVE` a normal fitted to the best
`TOP_SHARE` of the search trials (on the unit scale of each prior: log where the prior is log-uniform; covariance
inflated by `INFLATE`), truncated to the prior box, else the uniform prior itself, so the
weights `posterior / proposal` stay bounded. Draws are evaluated exactly as search trials
(same random numbers, same demand refit), stored in the same Optuna study (resumable) and
resampled, systematically and seeded, into equally weighted posterior draws. The effective
sample size (ESS) is reported: fewer than 10 and nothing is called constrained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.fitting import parameters as P

DEFENSIVE = 0.15
INFLATE = 1.5
TOP_SHARE = 0.05
MIN_TOP = 10
#: names the proposal's settings: draws made under other settings are not reused on a resume
SIGNATURE = f"top{TOP_SHARE:g}-min{MIN_TOP}-inflate{INFLATE:g}-defensive{DEFENSIVE:g}"


def to_unit(values: pd.DataFrame) -> np.ndarray:
    """Parameter columns -> [n, k] on each prior's unit scale (log where the prior is)."""
    cols = []
    for p in P.PARAMETERS:
        x = values[p.name].to_numpy(dtype=float)
        if p.log:
            cols.append((np.log(x) - np.log(p.low)) / (np.log(p.high) - np.log(p.low)))
        else:
            cols.append((x - p.low) / (p.high - p.low))
    return np.clip(np.stack(cols, axis=1), 0.0, 1.0)


def from_unit(u: np.ndarray) -> list[dict[str, float]]:
    """Rows on the unit scale -> parameter dictionaries (integers rounded)."""
    out = []
    for row in u:
        values: dict[str, float] = {}
        for p, x in zip(P.PARAMETERS, row, strict=True):
            v = (
                float(np.exp(np.log(p.low) + x * (np.log(p.high) - np.log(p.low))))
                if p.log
                else float(p.low + x * (p.high - p.low))
            )
            values[p.name] = int(round(v)) if p.integer else v
        out.append(values)
    return out


@dataclass(frozen=True)
class Proposal:
    """A normal on the unit box (truncated) mixed with the uniform prior."""

    mean: np.ndarray
    cov: np.ndarray
    inside: float  # mass of the normal inside the box (Monte Carlo, seeded)

    @classmethod
    def around(cls, trials: pd.DataFrame, seed: int) -> Proposal:
        """Fitted to the best `TOP_SHARE` of the search trials (at least `MIN_TOP`)."""
        ranked = trials.sort_values("loss")
        top = ranked.head(max(MIN_TOP, int(len(ranked) * TOP_SHARE)))
        u = to_unit(top)
        mean = u[0].copy()  # centred on the best trial, spread from the best few
        cov = np.cov(u, rowvar=False) if len(u) > 1 else np.eye(u.shape[1]) * 0.01
        cov = cov * INFLATE**2 + np.eye(u.shape[1]) * 1e-4
        rng = np.random.default_rng([seed, 1])
        z = rng.multivariate_normal(mean, cov, size=20_000, method="cholesky")
        inside = float(np.mean(np.all((z >= 0) & (z <= 1), axis=1)))
        return cls(mean, cov, max(inside, 1e-3))

    def sample(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng([seed, 2])
        out = np.empty((n, len(self.mean)))
        for i in range(n):
            if rng.random() < DEFENSIVE:
                out[i] = rng.random(len(self.mean))
                continue
            while True:
                z = rng.multivariate_normal(self.mean, self.cov, method="cholesky")
                if np.all((z >= 0) & (z <= 1)):
                    out[i] = z
                    break
        return out

    def density(self, u: np.ndarray) -> np.ndarray:
        """Proposal density on the unit box (the uniform prior's density there is 1)."""
        k = len(self.mean)
        diff = u - self.mean
        sign, logdet = np.linalg.slogdet(self.cov)
        sol = np.linalg.solve(self.cov, diff.T).T
        log_norm = -0.5 * (np.sum(diff * sol, axis=1) + logdet + k * np.log(2 * np.pi))
        return (1 - DEFENSIVE) * np.exp(log_norm) / self.inside + DEFENSIVE


def weights(loss: np.ndarray, best: float, dispersion: float, q: np.ndarray) -> np.ndarray:
    """Normalised importance weights: quasi-likelihood x uniform prior / proposal."""
    logw = -(loss - best) / (2.0 * dispersion) - np.log(q)
    logw -= logw.max()
    w = np.exp(logw)
    return w / w.sum()


def ess(w: np.ndarray) -> float:
    """Kish's effective sample size of normalised weights."""
    return float(1.0 / np.sum(w**2))


def resample(w: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Systematic resampling: indices of `n` equally weighted draws."""
    u = (np.random.default_rng([seed, 3]).random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(w), u), len(w) - 1)


def weighted_interval(x: np.ndarray, w: np.ndarray, level: float = 0.9) -> tuple[float, float]:
    """Equal-tailed weighted interval."""
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    lo = x[order][np.searchsorted(cw, (1 - level) / 2)]
    hi = x[order][min(np.searchsorted(cw, 1 - (1 - level) / 2), len(x) - 1)]
    return float(lo), float(hi)
