"""Agreements (phase-in steps, weekly caps, start and end dates, eligibility) and the
transit bar, pinned on the components alone and on quiet runs with injected parties.

The agreement below starts on Thursday 2019-01-10: weeks run Thursday to Wednesday.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sim.agreements import AgreementDesk
from sim.dispositions import RELEASE, REMOVE, DispositionRule
from sim.model import Model
from sim.scenario.schema import Agreement
from tests.rulekit import context, day_of, flow, party, quiet, run_with, shares

START = dt.date(2019, 1, 10)
FAMILIES = dt.date(2019, 1, 20)  # a Sunday: mid-week
END = dt.date(2019, 2, 1)
S, F, E = day_of(START), day_of(FAMILIES), day_of(END)


def agreement(**kw) -> dict:
    out = {
        "name": "guatemala",
        "receiving_country": "guatemala",
        "eligible_nationalities": ["honduras", "el_salvador"],
        "start": START.isoformat(),
        "end": END.isoformat(),
        "max_wait_days": 3.0,
        "referral_share": 1.0,
        "phase_in": [
            {"from": START.isoformat(), "weekly_cap": 5, "groups": ["single_adult"]},
            {"from": FAMILIES.isoformat(), "weekly_cap": 7, "groups": ["single_adult", "family"]},
        ],
    }
    out.update(kw)
    return out


class Desk:
    """An `AgreementDesk` alone, with the transfers and fallbacks it makes logged."""

    def __init__(self, **kw) -> None:
        self.ctx = ctx = context(days=60, agreements=["guatemala"])
        self.transfers: list[tuple[object, float]] = []
        self.fallbacks: list[tuple[object, float]] = []
        self.desk = AgreementDesk(ctx, Agreement.model_validate(agreement(**kw)), 1)

    def offer(self, p, t: float) -> bool:
        """What the model does with a processed party: transfer now, or wait for a slot."""
        if not self.desk.consider(p, t):
            return False
        if self.desk.try_transfer(p.size, t):
            self.transfers.append((p, t))
        else:
            self.desk.wait(p, t)
        return True

    def tick(self, day: int) -> None:
        """The desk's start of day: transfers from its list, and fallbacks, at `day`."""
        transferred, fell_back = self.desk.tick(day)
        self.transfers += [(p, float(day)) for p in transferred]
        self.fallbacks += [(p, float(day)) for p in fell_back]


# ----------------------------------------------------------------------------- phase-in and dates
def test_agreement_inactive_the_day_before_its_start_active_on_it():
    desk = Desk().desk
    assert not desk.eligible(party(), S - 1)
    assert desk.eligible(party(), S)


def test_phase_in_step_in_force_on_its_first_day_not_the_day_before():
    desk = Desk().desk
    fam = party(group="family")
    assert desk.step_at(F - 1).cap == 5
    assert desk.step_at(F).cap == 7
    assert not desk.eligible(fam, F - 1)
    assert desk.eligible(fam, F)
    assert desk.step_at(S - 1) is None


def test_no_transfer_on_the_end_date():
    d = Desk()
    assert d.desk.eligible(party(), E - 1)
    assert not d.desk.eligible(party(), E)
    assert not d.offer(party(), E + 0.1)  # not even referred
    assert flow(d.ctx, "transfer_referred") == 0.0


# ----------------------------------------------------------------------------- eligibility
@pytest.mark.parametrize(
    ("kw", "eligible"),
    [
        ({}, True),
        ({"nat": "mexico"}, False),  # nationality not listed
        ({"nat": "guatemala"}, False),  # the receiving country's own nationals
        ({"transited": ("mexico",)}, False),  # never crossed the receiving country
        ({"sought": ("guatemala",)}, False),  # sought protection there: exempt
        ({"sought": ("mexico",)}, True),  # sought protection elsewhere: still eligible
        ({"group": "unaccompanied_child"}, False),
        ({"nat": "el_salvador", "group": "family"}, True),
    ],
)
def test_transit_country_and_protection_seeking_eligibility(kw, eligible):
    desk = Desk().desk
    assert desk.eligible(party(**kw), F) is eligible


# ----------------------------------------------------------------------------- weekly caps
def test_a_week_exactly_at_its_cap_then_a_new_week():
    d = Desk()
    t = S + 0.5
    singles = [party() for _ in range(7)]
    for p in singles:
        d.offer(p, t)
    assert len(d.transfers) == 5  # exactly the cap of 5 ...
    assert len(d.desk.waiting) == 2  # ... and the rest wait
    d.tick(S + 6)  # the same week (Wednesday): still no room
    assert len(d.transfers) == 5
    d.tick(S + 7)  # Thursday: a new week, the two waiting are served first
    assert len(d.transfers) == 7
    assert [t for _, t in d.transfers[5:]] == [S + 7.0, S + 7.0]


def test_whole_parties_only_and_the_cap_of_the_step_in_force_mid_week():
    d = Desk()
    week2 = S + 7  # Thursday 2019-01-17; families and a cap of 7 from Sunday
    for _ in range(5):
        d.offer(party(), week2 + 0.1)
    assert len(d.transfers) == 5  # at the cap of 5
    assert not d.offer(party(group="family"), week2 + 1.1)  # families not yet eligible
    # Sunday: the cap is 7 for the rest of the week; 5 used, so a family of 3 does not fit
    fam = party(group="family", size=3)
    assert d.offer(fam, F + 0.1)
    assert len(d.transfers) == 5
    assert d.desk.used == 5
    # ... but two single adults do, and a third does not
    for _ in range(3):
        d.offer(party(), F + 0.2)
    assert len(d.transfers) == 7 and d.desk.used == 7
    # next Thursday the family goes first (it waited first), 3 + 1 of the 7
    d.tick(week2 + 7)
    assert [p.size for p, _ in d.transfers[7:]] == [3, 1]


def test_waiting_parties_fall_back_at_the_end_date_even_with_room():
    d = Desk(
        max_wait_days=30.0,
        phase_in=[{"from": START.isoformat(), "weekly_cap": 1, "groups": ["single_adult"]}],
    )
    last_week = S + 21  # Thursday 2019-01-31, the agreement's last day
    first, second = party(), party()
    d.offer(first, last_week + 0.5)
    d.offer(second, last_week + 0.6)
    assert [p for p, _ in d.transfers] == [first]
    d.tick(E)  # a new week would have room, but the agreement has ended
    assert [p for p, _ in d.transfers] == [first]
    assert [(p, t) for p, t in d.fallbacks] == [(second, float(E))]


# ----------------------------------------------------------------------------- in a run
def steady_arrivals(first_day: int, last_day: int, per_day: int, **kw):
    return [
        (d + 0.3 + i * 0.001, party(t=d + 0.3, **kw))
        for d in range(first_day, last_day + 1)
        for i in range(per_day)
    ]


def test_no_transfer_on_or_after_the_end_date_with_room_left_in_the_week():
    """Cap 100 a week, 3 eligible single adults a day: the cap never binds, and eligible
    parties keep arriving after the end date; they get the usual disposition instead."""
    agr = agreement(
        phase_in=[{"from": START.isoformat(), "weekly_cap": 100, "groups": ["single_adult"]}]
    )
    model = run_with(
        quiet(shares(1.0, 0.0, 0.0), agreements=[agr], end="2019-02-20"),
        steady_arrivals(S - 3, E + 7, 3),
    )
    per_day = model.rec.flow_array()[:, _ix("transferred")].sum(axis=(1, 2, 3))
    removed = model.rec.flow_array()[:, _ix("removed")].sum(axis=(1, 2, 3))
    assert per_day[:S].sum() == 0 and (removed[S - 3 : S] == 3).all()
    assert (per_day[S:E] == 3).all()  # every day of the agreement, through its last day
    assert per_day[E:].sum() == 0  # none on or after the end date ...
    assert (removed[E : E + 8] == 3).all()  # ... though eligible parties kept coming
    assert flow(model.rec, "transfer_fallback") == 0


def test_weeks_exactly_at_the_cap_in_a_run():
    """20 eligible single adults a day, cap 5 then 7 a week, no waiting: every week of the
    agreement transfers exactly its cap (the week of the step change: the later cap)."""
    agr = agreement(
        max_wait_days=0.0,
        phase_in=[
            {"from": START.isoformat(), "weekly_cap": 5, "groups": ["single_adult"]},
            {"from": FAMILIES.isoformat(), "weekly_cap": 7, "groups": ["single_adult"]},
        ],
    )
    model = run_with(
        quiet(shares(0.0, 1.0, 0.0), agreements=[agr], end="2019-02-10"),
        steady_arrivals(S, E + 3, 20),
    )
    per_day = model.rec.flow_array()[:, _ix("transferred"), :, :, 1].sum(axis=(1, 2))
    weeks = [per_day[S + 7 * w : min(S + 7 * (w + 1), E)].sum() for w in range(4)]
    assert weeks == [5.0, 7.0, 7.0, 7.0]
    # the first week's 5 all went on the first day (whole capacity used at once)
    assert per_day[S] == 5.0
    assert flow(model.rec, "transfer_fallback", agr=1) == 20 * (E - S) - sum(weeks)


def _ix(metric: str) -> int:
    from sim.metrics import FLOW_INDEX

    return FLOW_INDEX[metric]


# ----------------------------------------------------------------------------- transit bar
BAR = dt.date(2019, 3, 1)


def bar_rule(coverage=()) -> tuple[DispositionRule, int]:
    s = quiet(
        shares(0.3, 0.5, 0.2),
        transit_bar={
            "start": BAR.isoformat(),
            "coverage": list(coverage),
            "release_multiplier": 0.5,
        },
    )
    return DispositionRule(s, Model(s).cal), day_of(BAR)


# with the bar: removal 0.3 + 0.5 x (1 - 0.5) = 0.55, release 0.25; u = 0.54 separates them
U = 0.54


def test_transit_bar_moves_release_to_removal_from_its_start_date():
    rule, d = bar_rule()
    p = party(transited=("guatemala", "mexico"))
    assert rule.usual(p, d - 1, U) == RELEASE
    assert rule.usual(p, d, U) == REMOVE
    assert rule.usual(p, d, 0.56) == RELEASE  # release share 0.25 left: [0.55, 0.80)
    assert rule.usual(p, d, 0.79) == RELEASE
    assert rule.usual(p, d, 0.81) != RELEASE


@pytest.mark.parametrize(
    ("transited", "sought", "barred"),
    [
        (("guatemala", "mexico"), (), True),
        (("guatemala", "mexico"), ("mexico",), False),  # sought protection in one of them
        (("guatemala", "mexico"), ("guatemala",), False),
        ((), (), False),  # crossed no third country
    ],
)
def test_transit_bar_spares_those_who_sought_protection(transited, sought, barred):
    rule, d = bar_rule()
    p = party(transited=transited, sought=sought)
    assert rule.barred(p, d) is barred
    assert rule.usual(p, d, U) == (REMOVE if barred else RELEASE)


def test_transit_bar_coverage_step_of_zero_lifts_it():
    lifted = BAR + dt.timedelta(days=10)
    rule, d = bar_rule([{"from": lifted.isoformat(), "share": 0.0}])
    p = party()
    assert rule.usual(p, d + 9, U) == REMOVE
    assert rule.usual(p, d + 10, U) == RELEASE
