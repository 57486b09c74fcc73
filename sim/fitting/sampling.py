"""Posterior draws by ABC-SMC started from the search (`KernelProposal`).

ABC-SMC at a fixed tolerance (Beaumont et al. 2009, "Adaptive approximate Bayesian
computation"; the algorithm of pyabc, not its package): the posterior is the uniform prior
restricted to the strengths whose loss is within a tolerance of the best (the 90%
likelihood-ratio threshold tempered for misfit, or the band of the loss's own Monte Carlo
noise, whichever is wider: `sim.fitting.calibrate._threshold`), i.e. a uniform-kernel ABC
with the loss as distance. Generation 0 is the set of search trials inside it; each next
generation draws a particle of the previous one by weight and moves it with a normal kernel
of twice the population's weighted covariance (truncated to the prior box), or, with
probability `DEFENSIVE`, draws from the uniform prior itself (so the proposal covers the
whole prior and the weights stay bounded); evaluates the draws exactly as search trials
(same random numbers, same demand refit, stored in the same Optuna study, so a resume
re-uses them); and keeps those inside the tolerance with weight prior / proposal density.

Why not importance sampling with the likelihood in the weight (this module's earlier
method): in 23 dimensions a normal proposal's density varies by orders of magnitude over
its own draws, and its weights collapsed to an effective sample size of 1-2 of 64-96
evaluations. Here the weights only correct for where the proposal looked, and the kernel
moves the population beyond where the search looked. Why not the pyabc package: started
from the uniform prior over 23 strengths it needs thousands of evaluations (each a demand
refit and three simulations) before its populations reach the region the search has already
found, and it would bring redis, scikit-learn, SQLAlchemy and ipykernel as dependencies.
The effective sample size (ESS) is reported: below 10, nothing is called constrained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.fitting import parameters as P

DEFENSIVE = 0.15  # share of each generation drawn from the uniform prior itself
KERNEL_SCALE = 2.0  # the kernel's covariance: twice the population's (Beaumont et al. 2009)
MIN_POPULATION = 10
#: names the ABC-SMC settings: draws made under other settings are not reused on a resume
ABC_SIGNATURE = f"abc-smc-kernel{KERNEL_SCALE:g}-defensive{DEFENSIVE:g}"


def to_unit(values: pd.DataFrame) -> np.ndarray:
    """Parameter columns -> [n, k] on each prior's unit scale (log where the prior is)."""
    cols = [p.to_unit(values[p.name].to_numpy(dtype=float)) for p in P.PARAMETERS]
    return np.clip(np.stack(cols, axis=1), 0.0, 1.0)


def from_unit(u: np.ndarray) -> list[dict[str, float]]:
    """Rows on the unit scale -> parameter dictionaries (integers rounded)."""
    out = []
    for row in u:
        values: dict[str, float] = {}
        for p, x in zip(P.PARAMETERS, row, strict=True):
            v = p.from_unit(x)
            values[p.name] = int(round(v)) if p.integer else v
        out.append(values)
    return out


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


def weighted_cov(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The weighted covariance of particles (rows of `u`), with a small ridge."""
    w = w / w.sum()
    d = u - w @ u
    denom = max(1.0 - float(np.sum(w**2)), 1e-9)
    return (d.T * w) @ d / denom + np.eye(u.shape[1]) * 1e-4


@dataclass(frozen=True)
class KernelProposal:
    """An ABC-SMC proposal on the unit box: a particle chosen by weight and moved by a
    normal kernel (truncated to the box), or with probability `DEFENSIVE` the uniform prior."""

    centres: np.ndarray  # [m, k] the previous population
    weights: np.ndarray  # [m], summing to 1
    cov: np.ndarray  # [k, k] the kernel's covariance
    inside: np.ndarray  # [m] each kernel's mass inside the box (Monte Carlo, seeded)

    @classmethod
    def from_population(cls, u: np.ndarray, w: np.ndarray, seed: int) -> KernelProposal:
        w = np.asarray(w, dtype=float) / np.sum(w)
        cov = KERNEL_SCALE * weighted_cov(u, w)
        rng = np.random.default_rng([seed, 5])
        z = rng.multivariate_normal(np.zeros(u.shape[1]), cov, size=4000, method="cholesky")
        inside = np.array(
            [np.mean(np.all((c + z >= 0) & (c + z <= 1), axis=1)) for c in u], dtype=float
        )
        return cls(u, w, cov, np.maximum(inside, 1e-3))

    def sample(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng([seed, 6])
        k = self.centres.shape[1]
        out = np.empty((n, k))
        for i in range(n):
            if rng.random() < DEFENSIVE:
                out[i] = rng.random(k)
                continue
            c = self.centres[rng.choice(len(self.weights), p=self.weights)]
            while True:
                z = c + rng.multivariate_normal(np.zeros(k), self.cov, method="cholesky")
                if np.all((z >= 0) & (z <= 1)):
                    out[i] = z
                    break
        return out

    def density(self, u: np.ndarray) -> np.ndarray:
        """Proposal density at rows of `u` (the uniform prior's density on the box is 1)."""
        k = self.centres.shape[1]
        chol = np.linalg.cholesky(self.cov)
        logdet = 2.0 * np.sum(np.log(np.diag(chol)))
        diff = u[:, None, :] - self.centres[None, :, :]  # [n, m, k]
        sol = np.linalg.solve(chol, diff.reshape(-1, k).T).T.reshape(diff.shape)
        log_n = -0.5 * (np.sum(sol**2, axis=-1) + logdet + k * np.log(2 * np.pi))
        mix = np.exp(log_n) @ (self.weights / self.inside)
        return (1 - DEFENSIVE) * mix + DEFENSIVE


def abc_weights(q: np.ndarray, generation: np.ndarray) -> np.ndarray:
    """Normalised weights of the accepted draws of several generations: prior / proposal
    within each generation, each generation weighted by its number of accepted draws."""
    q = np.asarray(q, dtype=float)
    generation = np.asarray(generation)
    w = np.zeros(len(q))
    for g in np.unique(generation):
        m = generation == g
        wg = 1.0 / q[m]
        w[m] = wg / wg.sum() * m.sum()
    return w / w.sum()
