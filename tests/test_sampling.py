"""The ABC-SMC posterior (`sim.fitting.sampling`): exact pieces, checked against closed
forms (a uniform target on a disc, whose mean and mass by radius are known)."""

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


def test_kernel_proposal_draws_stay_in_the_box_and_are_reproducible() -> None:
    u = S.to_unit(_trials(40, seed=7))
    prop = S.KernelProposal.from_population(u, np.ones(len(u)), seed=7)
    a, b = prop.sample(30, seed=7), prop.sample(30, seed=7)
    assert np.array_equal(a, b)
    assert ((a >= 0) & (a <= 1)).all()
    # the first draws do not depend on how many are asked for (resumes re-use them)
    assert np.array_equal(prop.sample(10, seed=7), a[:10])


def test_kernel_proposal_density_integrates_to_one_and_is_what_its_draws_follow() -> None:
    """In 2 dimensions by a grid: a weighted mixture of truncated normals, and 1."""
    centres = np.array([[0.1, 0.2], [0.5, 0.5], [0.9, 0.95]])
    prop = S.KernelProposal.from_population(centres, np.array([0.2, 0.5, 0.3]), seed=0)
    g = (np.arange(400) + 0.5) / 400
    grid = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    assert prop.density(grid).mean() == pytest.approx(1.0, abs=0.01)
    # a histogram of its draws on a coarse grid against the density's mass per cell
    draws = prop.sample(40_000, seed=1)
    cells = np.minimum((draws * 4).astype(int), 3)
    counts = np.zeros((4, 4))
    np.add.at(counts, (cells[:, 0], cells[:, 1]), 1)
    fine = (np.arange(100) + 0.5) / 100
    for i in range(4):
        for j in range(4):
            xs, ys = np.meshgrid(i / 4 + fine / 4, j / 4 + fine / 4)
            mass = prop.density(np.stack([xs.ravel(), ys.ravel()], axis=1)).mean() / 16
            assert counts[i, j] / len(draws) == pytest.approx(mass, abs=0.01), (i, j)


def test_abc_smc_recovers_the_uniform_posterior_beyond_where_the_search_looked() -> None:
    """Target: the uniform prior on the disc of radius 0.25 around (0.4, 0.6) (a loss
    threshold). Generation 0 sits within about 0.05 of the centre (a search that looked
    only there); three generations of kernel moves and prior / proposal weights recover the
    disc: its centre, and three quarters of the mass beyond radius 0.125."""
    rng = np.random.default_rng(2)
    centre, radius = np.array([0.4, 0.6]), 0.25
    population = centre + 0.03 * rng.standard_normal((30, 2))
    weights = np.ones(len(population))
    qs, gens, kept = [], [], []
    for g in range(1, 4):
        prop = S.KernelProposal.from_population(population, weights, seed=g)
        x = prop.sample(1500, seed=g)
        inside = np.linalg.norm(x - centre, axis=1) <= radius
        q = prop.density(x[inside])
        qs.append(q)
        gens.append(np.full(inside.sum(), g))
        kept.append(x[inside])
        population, weights = x[inside], 1.0 / q
    last = S.abc_weights(qs[-1], gens[-1])
    x = kept[-1]
    assert np.sum(last[:, None] * x, axis=0) == pytest.approx(centre, abs=0.01)
    outer = np.linalg.norm(x - centre, axis=1) > radius / 2
    assert np.sum(last[outer]) == pytest.approx(0.75, abs=0.04)
    assert S.ess(last) > 0.5 * len(x)
    pooled = S.abc_weights(np.concatenate(qs), np.concatenate(gens))
    assert pooled.sum() == pytest.approx(1.0)


def test_abc_weights_normalise_within_each_generation() -> None:
    """Generation 1 (2 kept) and 2 (1 kept): prior / proposal within a generation, and each
    generation weighted by its number of kept draws."""
    w = S.abc_weights(np.array([1.0, 3.0, 2.0]), np.array([1, 1, 2]))
    assert w.tolist() == pytest.approx([0.75 * 2 / 3, 0.25 * 2 / 3, 1 / 3])


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
