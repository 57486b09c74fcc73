"""The border station against queueing theory: M/M/c mean waits match Erlang C.

The model is reduced to a single processing queue: one nationality and group (Mexican single
adults: no Mexican enforcement, no agreements), a deterministic journey (a constant shift of
a Poisson process is Poisson), constant departure intensity, no ports/metering/MPP, no
re-attempts, no deterrence. Arrivals are then Poisson with rate lambda, processing times
exponential with rate mu on c lanes, and the mean wait in queue is Erlang C.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.model import Model
from sim.scenario.schema import Scenario
from tests.conftest import total


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of an M/M/c queue (same time unit as 1/lam)."""
    a = lam / mu
    rho = a / c
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / (math.factorial(c) * (1 - rho))
    p_wait = tail / (head + tail)
    return p_wait / (c * mu - lam)


def reduced(lam_per_day: float, hours: float, lanes: int, seed: int = 7) -> Scenario:
    zero = {"single_adult": 0.0, "family": 0.0, "unaccompanied_child": 0.0}
    rates = {n: dict(zero) for n in ("mexico", "guatemala", "honduras", "el_salvador", "other")}
    # persons per month at seasonal factor 1; the model divides by the days of each month,
    # so a seasonality proportional to month length gives a constant daily intensity
    rates["mexico"]["single_adult"] = lam_per_day * 30.0
    month_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]  # 2019-2020: leap Feb ignored
    no_retry = {"probability": 0.0, "mean_delay_days": 1.0}
    return Scenario.model_validate(
        {
            "name": "erlang",
            "start": "2019-01-01",
            "end": "2020-12-31",
            "seed": seed,
            "warmup_days": 30,
            "departures": {"rates": rates, "seasonality": [d / 30.0 for d in month_days]},
            "journey": {
                "routes": {
                    "mexico": [
                        {"share": 1.0, "legs": [{"country": "mexico", "mean_days": 3.0, "cv": 0.0}]}
                    ]
                },
                "protection": {},
            },
            "border": {
                "processing_lanes": lanes,
                "processing_hours": {
                    "single_adult": hours,
                    "family": hours,
                    "unaccompanied_child": hours,
                },
                "port_of_entry_share": {"mexico": 0.0},
                "priority": "fifo",
            },
            "mpp": {"enrolment": []},
            "metering": {"start": None},
            "reattempts": {
                k: no_retry for k in ("removed", "stopped_in_mexico", "home_from_abroad", "gave_up")
            },
        }
    )


@pytest.mark.parametrize(("rho", "lanes"), [(0.8, 4), (0.9, 10)])
def test_mean_wait_matches_erlang_c(rho: float, lanes: int):
    hours = 8.0
    mu = 24.0 / hours  # per lane per day
    reps = 30
    waits = []
    lam_eff = []
    for r in range(reps):
        s = reduced(rho * lanes * mu, hours, lanes)
        res = Model(s, replication=r).run()
        waited = total(res, "queue_wait_days").sum()
        served = total(res, "processed").sum()
        waits.append(waited / served)
        lam_eff.append(total(res, "encounters").mean())
    lam = rho * lanes * mu
    # the realised arrival rate is the intended one (within 1%)
    assert float(np.mean(lam_eff)) == pytest.approx(lam, rel=0.01)
    expected = erlang_c_wait(lam, mu, lanes)
    mean, sem = float(np.mean(waits)), float(np.std(waits, ddof=1) / math.sqrt(reps))
    # 99.9% t-interval over independent replications: a false alarm 1 run in 1,000
    half = stats.t.ppf(0.9995, reps - 1) * sem
    assert abs(mean - expected) <= half + 0.02 * expected, (
        f"mean wait {mean:.4f} d +/- {half:.4f}, Erlang C {expected:.4f} d (lambda={lam:.2f}/d)"
    )
    # and the test has power: a 15% error would be detected
    assert half < 0.15 * expected


def erlang_c_from_scipy(a: float, c: int) -> float:
    """P(wait) of M/M/c written independently of `erlang_c_wait`: Erlang B as a truncated
    Poisson (scipy), then C = B / (1 - rho (1 - B))."""
    b = stats.poisson.pmf(c, a) / stats.poisson.cdf(c, a)
    rho = a / c
    return b / (1 - rho * (1 - b))


@pytest.mark.parametrize(("lanes", "load"), [(2, 1.0), (4, 3.2), (10, 8.0), (10, 9.0), (20, 15.0)])
def test_erlang_c_helper_against_an_independent_formula(lanes, load):
    mu = 3.0
    p_wait = erlang_c_from_scipy(load, lanes)
    assert erlang_c_wait(load * mu, mu, lanes) == pytest.approx(p_wait / (lanes * mu - load * mu))


def test_erlang_c_against_published_values():
    # Erlang B tables: B(N = 10, A = 8 erlangs) = 0.1217 (printed to 4 places); then
    # C = B / (1 - rho (1 - B)) = 0.4092 with rho = 0.8. M/M/2 at a = 1: P(wait) = 1/3.
    b = 0.1217
    c_pub = b / (1 - 0.8 * (1 - b))
    assert c_pub == pytest.approx(0.4092, abs=1e-4)
    assert erlang_c_wait(8.0, 1.0, 10) * (10 - 8.0) == pytest.approx(c_pub, abs=2e-4)
    assert erlang_c_wait(1.0, 1.0, 2) == pytest.approx(1 / 3)
