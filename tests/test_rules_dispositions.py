"""Every disposition path and its counter, on a handful of parties put into custody at fixed
times in a run with no other traffic (tests.rulekit.quiet).

Four single adults and two families of three (10 persons) from Honduras; every share is
0 or 1, so each outcome is certain and the counts are exact. Removed and released are
checked against each other, so swapping their counters (or their states) fails.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sim.dispositions import DETAIN, RELEASE, REMOVE, DispositionRule
from sim.domain import NAT_INDEX
from tests.rulekit import day_of, flow, party, quiet, run_with, shares, stock

T0 = 5.25  # 06:00 on day 5
OUTCOME_FLOWS = ("removed", "released", "detained", "hhs_referred", "mpp_enrolled", "transferred")
OUTCOME_STOCKS = {
    "removed": "home_after_removal",
    "released": "in_us_released",
    "detained": "in_detention",
    "hhs_referred": "in_hhs",
    "mpp_enrolled": "mpp_waiting",
    "transferred": "in_receiving_country",
}


def adults(nat: str = "honduras", t: float = T0):
    singles = [(t + i * 0.01, party(nat=nat, t=t)) for i in range(4)]
    families = [
        (t + 0.05 + i * 0.01, party(nat=nat, group="family", size=3, t=t)) for i in range(2)
    ]
    return singles + families


def outcomes(model) -> dict[str, float]:
    return {m: flow(model.rec, m) for m in OUTCOME_FLOWS}


def only(metric: str, persons: float) -> dict[str, float]:
    out = dict.fromkeys(OUTCOME_FLOWS, 0.0)
    out[metric] = persons
    return out


def assert_path(model, metric: str, persons: float = 10.0) -> None:
    assert outcomes(model) == only(metric, persons)
    assert flow(model.rec, "encounters") == persons
    assert flow(model.rec, "processed") == persons
    # the persons are in the state that goes with the counter, and nowhere else downstream
    for m, state in OUTCOME_STOCKS.items():
        if m == "transferred":
            continue  # transferees move on from the receiving country within 72 h
        assert stock(model, state) == (persons if m == metric else 0.0), state
    assert stock(model, "in_custody") == 0.0


def test_removal_path():
    model = run_with(quiet(shares(1.0, 0.0, 0.0)), adults())
    assert_path(model, "removed")
    # removal is a consequence; nothing else met one
    assert flow(model.rec, "consequences") == 10.0


def test_release_path():
    model = run_with(quiet(shares(0.0, 1.0, 0.0)), adults())
    assert_path(model, "released")
    assert flow(model.rec, "consequences") == 0.0


def test_detention_path():
    model = run_with(quiet(shares(0.0, 0.0, 1.0)), adults())
    assert_path(model, "detained")


def test_removed_and_released_are_not_swappable():
    """Different shares, different counters: 7 removed (a family and the four singles), 3
    released (the other family), decided per party from the named stream; whichever way the
    draws fall, removed + released = 10, and the two counters follow their states."""
    s = quiet(shares(0.5, 0.5, 0.0))
    model = run_with(s, adults())
    removed, released = flow(model.rec, "removed"), flow(model.rec, "released")
    assert removed + released == 10.0
    assert stock(model, "home_after_removal") == removed
    assert stock(model, "in_us_released") == released
    assert flow(model.rec, "consequences") == removed


def test_children_go_to_hhs_after_hhs_hours_and_nowhere_else():
    agreement = _agreement(cap=1000)
    s = quiet(
        shares(1.0, 0.0, 0.0),
        mpp={
            "enrolment": [{"from": "2019-01-01", "share": 1.0}],
            "groups": ["single_adult", "family"],
        },
        agreements=[agreement],
        border={"hhs_hours": 48.0},
    )
    kids = [(T0, party(group="unaccompanied_child", t=T0)) for _ in range(3)]
    model = run_with(s, kids)
    assert outcomes(model) == only("hhs_referred", 3.0)
    assert flow(model.rec, "transfer_referred") == 0.0
    day = int(T0)
    # processed within hours of T0, then 48 h more in custody: still held at the end of day 6
    # (t = 7.0 < T0 + 2), gone by the end of day 7
    assert stock(model, "in_custody", day=day + 1) == 3.0
    assert stock(model, "in_hhs", day=day + 1) == 0.0
    assert stock(model, "in_hhs", day=day + 2) == 3.0
    assert flow(model.rec, "hhs_referred", day=day + 2) == 3.0


def test_mpp_path_for_listed_nationalities_only():
    s = quiet(
        shares(1.0, 0.0, 0.0),
        mpp={
            "enrolment": [{"from": "2019-01-01", "share": 1.0}],
            "nationalities": ["honduras"],
            "groups": ["single_adult", "family"],
            "hearings_per_day": 1.0,
            "give_up_days": 3650.0,
            "cross_days": 3650.0,
            "grant_share": 0.0,
        },
        end="2019-01-09",
    )
    model = run_with(s, adults("honduras") + adults("mexico"))
    assert flow(model.rec, "mpp_enrolled") == 10.0
    assert cells_by_nat(model, "mpp_enrolled") == {"honduras": 10.0}
    assert cells_by_nat(model, "removed") == {"mexico": 10.0}  # not listed: usual disposition
    assert stock(model, "mpp_waiting") > 0


def test_mpp_is_not_offered_before_its_first_step():
    step = dt.date(2019, 1, 7)
    s = quiet(
        shares(1.0, 0.0, 0.0),
        mpp={
            "enrolment": [{"from": step.isoformat(), "share": 1.0}],
            "nationalities": ["honduras"],
        },
    )
    d = day_of(step)
    model = run_with(s, adults(t=d - 1 + 0.25) + adults(t=d + 0.25))
    assert flow(model.rec, "mpp_enrolled", day=d - 1) == 0.0
    assert flow(model.rec, "removed", day=d - 1) == 10.0
    assert flow(model.rec, "mpp_enrolled", day=d) == 10.0


def _agreement(cap: int, max_wait: float = 3.0, start: str = "2019-01-01", end=None) -> dict:
    return {
        "name": "guatemala",
        "receiving_country": "guatemala",
        "eligible_nationalities": ["honduras", "el_salvador"],
        "start": start,
        "end": end,
        "max_wait_days": max_wait,
        "referral_share": 1.0,
        "phase_in": [{"from": start, "weekly_cap": cap, "groups": ["single_adult", "family"]}],
    }


def test_transfer_path_comes_before_mpp_and_the_usual_disposition():
    s = quiet(
        shares(1.0, 0.0, 0.0),
        mpp={"enrolment": [{"from": "2019-01-01", "share": 1.0}], "nationalities": ["honduras"]},
        agreements=[_agreement(cap=1000)],
    )
    model = run_with(s, adults())
    assert outcomes(model) == only("transferred", 10.0)
    assert flow(model.rec, "transfer_referred", agr=1) == 10.0
    assert flow(model.rec, "transferred", agr=1) == 10.0
    assert flow(model.rec, "transfer_fallback") == 0.0
    assert flow(model.rec, "consequences") == 10.0  # transferred is a consequence


def test_fallback_after_max_wait_gets_the_usual_disposition():
    s = quiet(shares(1.0, 0.0, 0.0), agreements=[_agreement(cap=0, max_wait=2.0)])
    model = run_with(s, adults())
    assert flow(model.rec, "transfer_referred", agr=1) == 10.0
    assert flow(model.rec, "transfer_fallback", agr=1) == 10.0
    assert outcomes(model) == only("removed", 10.0)
    # waited in custody max_wait_days after processing: nobody left before T0 + 2
    day = int(T0)
    assert flow(model.rec, "removed", day=day + 1) == 0.0
    assert flow(model.rec, "removed", day=day + 2) == 10.0
    assert stock(model, "in_custody", day=day + 1) == 10.0


@pytest.mark.parametrize(("share", "metric"), [(1.0, "released"), (0.0, "detained")])
def test_overcrowding_turns_detentions_into_releases(share, metric):
    s = quiet(
        shares(0.0, 0.0, 1.0),
        border={"holding_capacity": 0},
        dispositions={"overcrowding_release_share": share},
    )
    model = run_with(s, adults())
    assert outcomes(model) == only(metric, 10.0)


def cells_by_nat(model, metric: str) -> dict[str, float]:
    from tests.rulekit import cells_flow

    arr = cells_flow(model, metric).sum(axis=1)
    return {n: float(arr[i]) for n, i in NAT_INDEX.items() if arr[i]}


# ----------------------------------------------------------------------------- the rule alone
def rule(removal=0.3, release=0.5, detention=0.2, overcrowding=0.5) -> DispositionRule:
    s = quiet(
        shares(removal, release, detention),
        dispositions={"overcrowding_release_share": overcrowding},
    )
    from sim.model import Model

    return DispositionRule(s, Model(s).cal)


@pytest.mark.parametrize(
    ("u", "expected"),
    [(0.0, REMOVE), (0.299, REMOVE), (0.301, RELEASE), (0.799, RELEASE), (0.801, DETAIN)],
)
def test_usual_outcome_thresholds(u, expected):
    assert rule().usual(party(), 10, u) == expected


@pytest.mark.parametrize(("u2", "expected"), [(0.49, RELEASE), (0.51, DETAIN)])
def test_overcrowding_rule_thresholds(u2, expected):
    r = rule()
    assert r.decide(party(), 10, 0.9, u2, overcrowded=True) == expected
    assert r.decide(party(), 10, 0.9, u2, overcrowded=False) == DETAIN
    assert r.decide(party(), 10, 0.1, u2, overcrowded=True) == REMOVE
