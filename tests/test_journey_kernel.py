"""The compiled journey planner (`sim.journey_kernel`) against the numpy one: the same
outcomes to the bit and the same random numbers consumed, on the shipped routes and on
routes built to reach every branch (fixed-duration legs, two Mexican legs, protection
that often ends the journey, re-attempts from abroad, times past the hazard's grid); and
whole runs identical with and without the compiled kernels."""

from __future__ import annotations

import numpy as np
import pytest

from sim.calendar import SimCalendar
from sim.domain import NAT_INDEX
from sim.journey import PROTECTION, STOPPED, JourneyPlanner
from sim.kernels import numba_available
from sim.scenario.schema import Scenario
from tests.conftest import scenario

pytestmark = pytest.mark.skipif(not numba_available(), reason="numba not installed")


def branchy() -> Scenario:
    """The historical scenario with routes that reach every branch of the planner."""
    data = scenario("historical").model_dump(mode="python", by_alias=True)
    journey = data["journey"]
    journey["routes"]["honduras"] = [
        {
            "share": 0.5,
            "legs": [
                {"country": "honduras", "mean_days": 3.0, "cv": 0.0},  # fixed duration
                {"country": "guatemala", "mean_days": 5.0, "cv": 0.5},
                {"country": "mexico", "mean_days": 10.0, "cv": 0.4},
                {"country": "mexico", "mean_days": 14.0, "cv": 0.3},  # a second Mexican leg
            ],
        },
        {
            "share": 0.5,
            "legs": [
                {"country": "guatemala", "mean_days": 4.0, "cv": 0.0},
                {"country": "mexico", "mean_days": 24.0, "cv": 0.4},
            ],
        },
    ]
    journey["protection"]["guatemala"] = {"apply_probability": 0.3, "continue_share": 0.4}
    journey["protection"]["mexico"] = {"apply_probability": 0.2, "continue_share": 0.5}
    data["enforcement"]["mexico"] = [
        {"from": "2018-10-01", "daily_hazard": 0.004},
        {"from": "2019-06-10", "daily_hazard": 0.02},
        {"from": "2019-09-01", "daily_hazard": 0.0},  # none: ties in the cumulative hazard
        {"from": "2019-12-01", "daily_hazard": 0.01},
    ]
    return Scenario.model_validate(data)


def planners(s: Scenario) -> tuple[JourneyPlanner, JourneyPlanner]:
    cal = SimCalendar(s.origin, s.start, s.end)
    plain, compiled = JourneyPlanner(s, cal), JourneyPlanner(s, cal)
    compiled.use_kernel()
    assert compiled.compiled and not plain.compiled
    return plain, compiled


def parties(g: np.random.Generator, n: int, days: float, planner: JourneyPlanner):
    t0 = np.sort(g.uniform(0.0, days, n))
    nat = g.integers(0, len(NAT_INDEX), n)
    origin = nat.copy()
    abroad = g.random(n) < 0.2  # re-attempts from a transit country
    origin[abroad] = NAT_INDEX["mexico"]
    keep = planner.routed[origin]
    return t0[keep], nat[keep], origin[keep]


def assert_same_plans(plain, compiled, t0, nat, origin, seed):
    g_plain, g_compiled = np.random.default_rng(seed), np.random.default_rng(seed)
    a = plain.plan(t0, nat, origin, g_plain)
    b = compiled.plan(t0, nat, origin, g_compiled)
    for field in ("kind", "time", "transited", "sought", "start"):
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype, field
        assert np.array_equal(x, y), field
    assert g_plain.random() == g_compiled.random()  # the same numbers consumed
    return a


@pytest.mark.parametrize("make", [lambda: scenario("historical"), branchy])
@pytest.mark.parametrize("n", [0, 1, 7, 700, 60_000])
def test_the_compiled_planner_gives_the_same_outcomes(make, n):
    plain, compiled = planners(make())
    g = np.random.default_rng(n)
    t0, nat, origin = parties(g, n, plain.grid[-1] - 60.0, plain)
    out = assert_same_plans(plain, compiled, t0, nat, origin, seed=n + 1)
    if n == 60_000:  # every kind of end was reached
        assert (out.kind == STOPPED).sum() > 100
        assert (out.kind == PROTECTION).sum() > 100
        assert (out.sought != 0).sum() > (out.kind == PROTECTION).sum()


def test_the_compiled_planner_past_the_hazard_grid():
    """Journeys under way past the grid's end (and one leaving at time 0) take numpy's
    np.interp path for the whole batch; the kernel evaluates each time alone."""
    plain, compiled = planners(branchy())
    end = plain.grid[-1]
    g = np.random.default_rng(5)
    t0 = np.sort(np.concatenate([[0.0], g.uniform(end - 40.0, end + 30.0, 5_000)]))
    nat = np.full(len(t0), NAT_INDEX["honduras"])
    assert_same_plans(plain, compiled, t0, nat, nat.copy(), seed=9)


def test_whole_runs_are_the_same_with_the_compiled_kernels():
    """A run's every recorded number, with the compiled kernels (journeys and lanes) and
    without, on a scenario with agreements, MPP and metering."""
    from sim.model import Model

    s = scenario("aca_guatemala", "scale=0.05")
    a = Model(s, 1, compiled=False)
    b = Model(s, 1, compiled=True)
    assert not a.compiled and b.compiled and b.border.lanes.compiled
    ra, rb = a.run().recorder, b.run().recorder
    for name in ("flows", "ledger", "state_snap", "extra_snap", "indicators"):
        assert np.array_equal(getattr(ra, name), getattr(rb, name), equal_nan=True), name
    assert ra.flows.sum() > 0
