"""The importance-sampling posterior (`sim.fitting.sampling`): exact pieces, checked against
closed forms (a normal target, whose posterior mean and interval are known)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.fitting import parameters as P
from sim.fitting import sampling as S


def _trials(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u = np.clip(0.5 + 0.05 * rng.standard_normal((n, len(P.PARAMETERS))), 0, 1)
    frame = pd.DataFrame(S.from_unit(u))
    frame["loss"] = ((u - 0.5) ** 2).sum(axis=1) * 100
    return frame


def test_unit_scale_round_trips_and_uses_log_where_the_prior_is_log() -> None:
    u = np.random.default_rng(1).random((5, len(P.PARAMETERS)))
    back = S.to_unit(pd.DataFrame(S.from_unit(u)))
    for j, p in enumerate(P.PARAMETERS):
        tol = 1.0 / (p.high - p.low) if p.integer else 1e-9
        assert back[:, j] == pytest.approx(u[:, j], abs=tol)
    log_p = next(p for p in P.PARAMETERS if p.log)
    mid = S.from_unit(np.full((1, len(P.PARAMETERS)), 0.5))[0][log_p.name]
    assert mid == pytest.approx(np.sqrt(log_p.low * log_p.high))  # geometric midpoint


def test_proposal_draws_stay_in_the_prior_box_and_are_reproducible() -> None:
    prop = S.Proposal.around(_trials(40), seed=7)
    a, b = prop.sample(30, seed=7), prop.sample(30, seed=7)
    assert np.array_equal(a, b)
    assert ((a >= 0) & (a <= 1)).all()
    # the first draws do not depend on how many are asked for (resumes re-use them)
    assert np.array_equal(prop.sample(10, seed=7), a[:10])


def test_proposal_density_integrates_to_one_over_the_box() -> None:
    """In 2 dimensions by a grid (the density is a mixture of a truncated normal and 1)."""
    mean, cov = np.array([0.3, 0.6]), np.array([[0.02, 0.005], [0.005, 0.03]])
    rng = np.random.default_rng(0)
    z = rng.multivariate_normal(mean, cov, size=200_000)
    inside = float(np.mean(np.all((z >= 0) & (z <= 1), axis=1)))
    prop = S.Proposal(mean, cov, inside)
    g = (np.arange(400) + 0.5) / 400
    grid = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    assert prop.density(grid).mean() == pytest.approx(1.0, abs=0.01)


def test_importance_weights_recover_a_known_posterior() -> None:
    """Target exp(-(x - 0.4)^2 / (2 s^2)) on [0, 1] with loss = ((x - 0.4) / s)^2 and
    dispersion 1: the weighted mean and 90% interval match the normal's."""
    s = 0.05
    rng = np.random.default_rng(3)
    mean, cov = np.array([0.45]), np.array([[0.01]])
    z = rng.multivariate_normal(mean, cov, size=100_000)
    prop = S.Proposal(mean, cov, float(np.mean((z >= 0) & (z <= 1))))
    x = np.clip(rng.multivariate_normal(mean, cov, size=40_000), 0, 1)
    loss = ((x[:, 0] - 0.4) / s) ** 2
    w = S.weights(loss, 0.0, 1.0, prop.density(x))
    assert np.sum(w * x[:, 0]) == pytest.approx(0.4, abs=0.003)
    lo, hi = S.weighted_interval(x[:, 0], w)
    assert lo == pytest.approx(0.4 - 1.645 * s, abs=0.005)
    assert hi == pytest.approx(0.4 + 1.645 * s, abs=0.005)
    assert 1000 < S.ess(w) < len(w)


def test_ess_and_systematic_resampling() -> None:
    assert S.ess(np.full(8, 1 / 8)) == pytest.approx(8.0)
    assert S.ess(np.array([1.0, 0.0, 0.0])) == pytest.approx(1.0)
    w = np.array([0.5, 0.25, 0.25, 0.0])
    idx = S.resample(w, 40, seed=1)
    counts = np.bincount(idx, minlength=4)
    assert counts.tolist() == [20, 10, 10, 0]  # systematic: exact to within one


def test_search_samplers() -> None:
    import optuna

    from sim.fitting.calibrate import _sampler

    start = {p.name: P.prior_centre(p) for p in P.PARAMETERS}
    assert isinstance(_sampler("tpe", start, 100, 1), optuna.samplers.TPESampler)
    assert isinstance(_sampler("cmaes", start, 100, 1), optuna.samplers.CmaEsSampler)
    with pytest.raises(ValueError, match="unknown sampler"):
        _sampler("grid", start, 100, 1)


def test_variance_inflation_from_autocorrelated_monthly_errors() -> None:
    from sim.fitting.calibrate import variance_inflation

    def terms(z: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {"kind": "usbp", "what": "mexico", "period": [f"m{i:04d}" for i in range(len(z))],
             "z": z}
        )  # fmt: skip

    alternating = np.tile([1.0, -1.0], 50)  # negative autocorrelation: no inflation
    assert variance_inflation(terms(alternating)) == 1.0
    rng = np.random.default_rng(0)
    e = np.zeros(2000)
    for t in range(1, 2000):
        e[t] = 0.6 * e[t - 1] + rng.standard_normal()
    assert variance_inflation(terms(e)) == pytest.approx((1 + 0.6) / (1 - 0.6), rel=0.15)
    smooth = np.linspace(-1, 1, 100)  # a trend-like misfit: capped
    assert variance_inflation(terms(smooth)) == pytest.approx(19.0)
