"""Custody: the number held past 72 hours (TEDS) from daily arrival cohorts, exactly.

A person still held at the end of day d (time d + 1) has been held more than 72 hours iff
they arrived on day d - 3 or earlier. The cases sit one hour either side of the threshold.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.custody import Custody
from sim.domain import STATE_INDEX
from tests.rulekit import context, flow, party, quiet, run_with, stock

H = 1.0 / 24.0
RELEASED = STATE_INDEX["in_us_released"]
IN_TRANSIT = STATE_INDEX["in_transit"]


def held_over_72(arrivals: list[tuple[float, int]], through_day: int, exits=()) -> list[float]:
    """`custody.over72` (all cells) at the end of each day 0..through_day."""
    ctx = context(days=through_day + 2)
    custody = Custody(ctx, holding_capacity=1000)
    parties = [
        party(size=size, group="family" if size > 1 else "single_adult", t=t)
        for t, size in arrivals
    ]
    by_day = {}
    for i, t_out in exits:
        by_day.setdefault(int(t_out), []).append((parties[i], t_out))
    out = []
    for d in range(through_day + 1):
        today = sorted((p for p in parties if int(p.t_arrival) == d), key=lambda p: p.t_arrival)
        custody.enter(
            d,
            np.array([p.t_arrival for p in today]),
            np.array([p.cell for p in today], dtype=np.int64),
            np.array([p.size for p in today]),
            IN_TRANSIT,
        )
        for p, t_out in by_day.get(d, []):
            custody.leave([p.cell], [p.size], [p.t_arrival], [t_out], RELEASED)
        custody.end_of_day(d)
        out.append(float(custody.over72.sum()))
    return out, ctx


def test_arrival_73_hours_before_the_snapshot_counts_71_hours_does_not():
    # the end of day 3 is t = 4.0: 73 h before is 23:00 on day 0, 71 h before is 01:00 on day 1
    series, _ = held_over_72([(1.0 - H, 1), (1.0 + H, 2)], through_day=4)
    assert series[:3] == [0.0, 0.0, 0.0]
    assert series[3] == 1.0  # only the one held 73 h
    assert series[4] == 3.0  # the next day both (71 h + 24 h = 95 h)


def test_exactly_72_hours_is_not_past_72():
    # arrived at midnight starting day 0: at the end of day 2 (t = 3.0) held exactly 72 h
    series, _ = held_over_72([(0.0, 1)], through_day=3)
    assert series == [0.0, 0.0, 0.0, 1.0]


def test_leaving_removes_a_person_from_the_count():
    # arrived 23:00 day 0, past 72 h from the end of day 3, leaves at noon on day 4; the
    # second arrived at midnight starting day 2, past 72 h from the end of day 5
    series, ctx = held_over_72([(1.0 - H, 1), (2.0, 1)], through_day=7, exits=[(0, 4.5)])
    assert series == [0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    # and its exit is one past 72 h (held 3.5 days + 1 h)
    assert flow(ctx, "custody_exits_over_72h") == 1.0
    assert flow(ctx, "custody_days") == pytest.approx(4.5 - (1.0 - H))


def test_exits_past_72_hours_one_hour_either_side():
    # in at t = 1.0; out at 73 h and at 71 h after arrival
    _, ctx = held_over_72([(1.0, 1), (1.0, 2)], through_day=6, exits=[(0, 4.0 + H), (1, 4.0 - H)])
    assert flow(ctx, "custody_exits_over_72h") == 1.0  # persons: the single adult only
    assert flow(ctx, "custody_days") == pytest.approx((3.0 + H) + 2 * (3.0 - H))


def test_custody_over_72h_in_a_run_counts_waiting_parties_exactly():
    """Through the model: 5 parties wait for a transfer slot that never comes (cap 0) for
    10 days; the published stock `custody_over_72h` is 0 until the end of the third day
    after their arrival day, then all of them."""
    agreement = {
        "name": "guatemala",
        "receiving_country": "guatemala",
        "eligible_nationalities": ["honduras"],
        "start": "2019-01-01",
        "end": None,
        "max_wait_days": 10.0,
        "referral_share": 1.0,
        "phase_in": [{"from": "2019-01-01", "weekly_cap": 0, "groups": ["single_adult"]}],
    }
    s = quiet(agreements=[agreement], **{"end": "2019-01-31"})
    t0 = 2.0 + 20 * H  # 20:00 on day 2; processed within ~1 h
    model = run_with(s, [(t0, party(t=t0)) for _ in range(5)])
    over = model.rec.extra_snap[:, 0].sum(axis=(1, 2))  # custody_over_72h, persons, by day
    assert over[:5].tolist() == [0.0] * 5
    assert over[5] == 5.0  # end of day 5 = t 6.0: held 76 h
    assert stock(model, "in_custody", day=5) == 5.0
    assert over[13:].sum() == 0.0  # they left at the deadline (day 12) for the fallback


def test_shared_runs_equal_fresh_runs(tmp_path, monkeypatch):
    """The on-disk run cache (tests.runcache) gives back exactly what the model computes."""
    from sim.model import Model
    from tests import runcache

    monkeypatch.setenv("MIGSIM_TEST_CACHE", str(tmp_path))
    s = quiet(end="2019-01-20")
    first = runcache.shared_run(s)
    again = runcache.shared_run(s)  # read from disk
    fresh = Model(s).run()
    assert len(list(tmp_path.glob("*.pkl"))) == 1
    assert np.array_equal(again.recorder.flows, fresh.recorder.flows)
    assert np.array_equal(first.recorder.flows, fresh.recorder.flows)
    assert (again.recorder.state_snap == fresh.recorder.state_snap).all()
    assert runcache.key(s, 0) != runcache.key(s, 1)
    assert runcache.key(s, 0) != runcache.key(quiet(end="2019-01-21"), 0)
