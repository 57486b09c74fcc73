"""Capacity-aware agreements (issue 14), pinned: the receiving country's capacity over time,
the cap rules' exact formulas, that a cap is never exceeded and no transfer is made on a day
its rule allows none, the wait-dependent apply share, and that more capacity means a
smaller backlog and shorter waits (paired replications, one-sided test)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from sim.agreements import Step, rule_cap
from sim.model import Model
from sim.receiving import ReceivingSystem
from sim.scenario.schema import CapacityBuilding, PhaseStep, ReceivingCountry
from tests.rulekit import ORIGIN, context, day_of, flow, inject, party, quiet

START = dt.date(2019, 1, 10)  # a Thursday: weeks run Thursday to Wednesday
S = day_of(START)


@dataclass
class Signal:
    pending_cases: int
    cases_per_year: float

    def capacity_at(self, day: int) -> float:
        return self.cases_per_year


def step(rule: str, cap: float = 100, scale: float = 1.0, **kw) -> Step:
    return Step(0, cap * scale, frozenset({0}), rule, kw.get("share"), kw.get("ceiling"))


# ----------------------------------------------------------------------------- capacity
def test_capacity_schedule_and_building_by_date() -> None:
    cfg = ReceivingCountry(
        asylum_cases_per_year=150,
        capacity=[{"from": "2020-01-01", "cases_per_year": 300}],
        capacity_building=CapacityBuilding(
            funding_musd=10, start=dt.date(2020, 1, 1), lag_days=100, ramp_days=200,
            decisions_per_year_per_musd=20,
        ),
    )  # fmt: skip
    assert cfg.cases_per_year(dt.date(2019, 12, 31)) == 150
    assert cfg.cases_per_year(dt.date(2020, 1, 1)) == 300
    lag_end = dt.date(2020, 1, 1) + dt.timedelta(days=100)
    assert cfg.cases_per_year(lag_end) == 300  # nothing added before the lag is over
    assert cfg.cases_per_year(lag_end + dt.timedelta(days=50)) == pytest.approx(300 + 200 / 4)
    assert cfg.cases_per_year(lag_end + dt.timedelta(days=400)) == pytest.approx(500)


def test_no_decision_before_the_backlog_date() -> None:
    """The queue starts on `backlog_date` with `initial_backlog` cases, wherever the run
    starts, so the backlog a transferee meets does not depend on the warm-up."""
    ctx = context(days=60, agreements=["guatemala"])
    cfg = ReceivingCountry(
        asylum_cases_per_year=365, initial_backlog=100, backlog_date=ORIGIN + dt.timedelta(days=30)
    )
    system = ReceivingSystem(ctx, "guatemala", cfg, 1)
    for day in range(60):
        system.tick(day)
        if day == 29:
            assert system.preexisting == 100
    assert system.preexisting == 100 - 30


def test_capacity_steps_must_increase() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        ReceivingCountry(
            capacity=[
                {"from": "2020-01-01", "cases_per_year": 300},
                {"from": "2019-01-01", "cases_per_year": 100},
            ]
        )


def test_decisions_follow_the_capacity_of_each_day() -> None:
    """365 cases a year for 100 days then 730: exactly 1 then 2 decisions a day."""
    ctx = context(days=200, agreements=["guatemala"])
    cfg = ReceivingCountry(
        asylum_cases_per_year=365,
        initial_backlog=10_000,
        backlog_date=ORIGIN,
        capacity=[{"from": (ORIGIN + dt.timedelta(days=100)).isoformat(), "cases_per_year": 730}],
    )
    system = ReceivingSystem(ctx, "guatemala", cfg, 1)
    for day in range(200):
        system.tick(day)
        if day == 99:
            assert system.preexisting == 10_000 - 100
    assert system.preexisting == 10_000 - 100 - 200


# ----------------------------------------------------------------------------- cap rules
def test_rule_formulas() -> None:
    # capacity share: 0.5 x 156 cases a year / 52 / 0.03 = 50 persons a week
    assert rule_cap(step("capacity_share", share=0.5), 1.0, 0.03, Signal(0, 156), 0) == 50
    assert rule_cap(step("capacity_share", cap=40, share=0.5), 1.0, 0.03, Signal(0, 156), 0) == 40
    # rounded down: 0.5 x 150 / 52 / 0.03 = 48.08 -> 48
    assert rule_cap(step("capacity_share", share=0.5), 1.0, 0.03, Signal(0, 150), 0) == 48
    # backlog ceiling: full cap below it, none at or above it
    assert rule_cap(step("backlog_ceiling", ceiling=500), 1.0, 0.03, Signal(499, 150), 0) == 100
    assert rule_cap(step("backlog_ceiling", ceiling=500), 1.0, 0.03, Signal(500, 150), 0) == 0
    # backlog shrink: floor(100 x (1 - 300 / 400)) = 25, and 0 past the ceiling
    assert rule_cap(step("backlog_shrink", ceiling=400), 1.0, 0.03, Signal(300, 150), 0) == 25
    assert rule_cap(step("backlog_shrink", ceiling=400), 1.0, 0.03, Signal(900, 150), 0) == 0
    # fixed: the weekly cap
    assert rule_cap(step("fixed"), 1.0, 0.03, Signal(10**6, 1), 0) == 100


def test_rules_at_reduced_scale_compare_full_scale_quantities() -> None:
    """At scale 0.1 the pending cases are a tenth: the rule compares them scaled back and
    returns the full-scale cap scaled down."""
    st = step("backlog_shrink", scale=0.1, ceiling=400)
    assert rule_cap(st, 0.1, 0.03, Signal(30, 150), 0) == pytest.approx(2.5)  # 25 x 0.1
    st = step("capacity_share", scale=0.1, share=0.5)
    assert rule_cap(st, 0.1, 0.03, Signal(0, 156), 0) == pytest.approx(5.0)


def test_a_rule_needs_its_parameter() -> None:
    with pytest.raises(ValueError, match="needs capacity_share"):
        PhaseStep.model_validate(
            {"from": "2019-01-10", "weekly_cap": 5, "groups": ["single_adult"],
             "cap_rule": "capacity_share"}
        )  # fmt: skip
    with pytest.raises(ValueError, match="needs backlog_ceiling"):
        PhaseStep.model_validate(
            {"from": "2019-01-10", "weekly_cap": 5, "groups": ["single_adult"],
             "cap_rule": "backlog_shrink"}
        )  # fmt: skip


# ----------------------------------------------------------------------------- whole runs
def ceiling_scenario(
    cases_per_year: float = 150.0,
    apply_share: float = 0.5,
    rule: str = "backlog_shrink",
    ceiling: int = 15,
):
    agreement = {
        "name": "guatemala",
        "receiving_country": "guatemala",
        "eligible_nationalities": ["honduras"],
        "start": START.isoformat(),
        "max_wait_days": 2.0,
        "phase_in": [
            {"from": START.isoformat(), "weekly_cap": 12, "groups": ["single_adult"],
             "cap_rule": rule, "backlog_ceiling": ceiling},
        ],
    }  # fmt: skip
    return quiet(
        agreements=[agreement],
        receiving={
            "guatemala": {
                "apply_share": apply_share,
                "asylum_cases_per_year": cases_per_year,
                "initial_backlog": 10,
            }
        },
    )


def run_injected(scenario, per_day: int = 4, days: int = 80, rep: int = 0) -> Model:
    model = Model(scenario, rep)
    inject(model, [(S + d + 0.25, party()) for d in range(days) for _ in range(per_day)])
    model.run()
    return model


def _caps_and_transfers(model: Model) -> tuple[np.ndarray, np.ndarray]:
    rec = model.rec
    caps = rec.agreement_indicators[:, 0, 1]  # transfer_cap, full scale
    transfers = np.array([flow(rec, "transferred", d) for d in range(rec.days)])
    return caps, transfers


@pytest.mark.parametrize(("rule", "ceiling"), [("backlog_ceiling", 8), ("backlog_shrink", 15)])
def test_a_cap_rule_is_never_exceeded_and_a_zero_day_sees_no_transfer(rule, ceiling) -> None:
    model = run_injected(ceiling_scenario(rule=rule, ceiling=ceiling))
    caps, transfers = _caps_and_transfers(model)
    assert transfers.sum() > 20  # the agreement did work
    assert (caps[S:] < 12).any()  # the backlog bit
    if rule == "backlog_ceiling":
        assert (caps[S:] == 0).sum() >= 7  # whole days with no transfer allowed
    assert (transfers[caps == 0] == 0).all()
    week_total = 0.0
    for day in range(S, model.rec.days):
        if (day - S) % 7 == 0:
            week_total = 0.0
        week_total += transfers[day]
        if transfers[day]:
            assert week_total <= caps[day] + 1e-9, day  # within the cap in force that day


def test_capacity_linked_cap_follows_capacity_building() -> None:
    base = ceiling_scenario()
    data = base.model_dump(by_alias=True)
    data["agreements"][0]["phase_in"][0].update(
        {"cap_rule": "capacity_share", "capacity_share": 0.2, "backlog_ceiling": None}
    )
    built = ReceivingCountry.model_validate(
        {**data["receiving"]["guatemala"],
         "capacity": [{"from": (START + dt.timedelta(days=30)).isoformat(),
                       "cases_per_year": 1560}]}
    )  # fmt: skip
    data["receiving"]["guatemala"] = built.model_dump(by_alias=True)
    model = Model(type(base).model_validate(data), 0)
    model.run()
    caps = model.rec.agreement_indicators[:, 0, 1]
    # 0.2 x 150 / 52 / 0.5 = 1.15 -> 1 a week; then 0.2 x 1560 / 52 / 0.5 = 12 (the cap)
    assert caps[S + 1] == 1 and caps[S + 31] == 12


def test_apply_share_falls_with_the_expected_wait() -> None:
    ctx = context(days=10, agreements=["guatemala"])
    cfg = ReceivingCountry(
        apply_share=0.03, retry_share=0.2, asylum_cases_per_year=365, initial_backlog=100,
        apply_wait_elasticity=1.0, reference_wait_days=200,
    )  # fmt: skip
    system = ReceivingSystem(ctx, "guatemala", cfg, 1)
    assert system.expected_wait_days() == pytest.approx(100.0)  # 100 cases at 1 a day
    assert system.apply_share() == pytest.approx(0.06)  # half the reference wait: twice
    system.preexisting = 0
    assert system.apply_share() == pytest.approx(0.8)  # capped: apply + retry <= 1
    flat = ReceivingSystem(
        ctx, "guatemala", cfg.model_copy(update={"apply_wait_elasticity": 0.0}), 1
    )
    assert flat.apply_share() == 0.03  # elasticity 0: exactly today's constant


def test_more_capacity_means_a_smaller_backlog_and_shorter_waits() -> None:
    """Paired replications (same seeds) at 50 and at 500 decisions a year; one-sided
    paired t-tests at 1%."""
    backlog, wait = [], []
    for rep in range(8):
        out = []
        for cases in (50.0, 500.0):
            sc = ceiling_scenario(cases_per_year=cases, apply_share=0.4, rule="fixed")
            model = run_injected(sc, per_day=2, days=60, rep=rep)
            rec = model.rec
            last = rec.days - 1
            pending = rec.extra_snap[last, 3, :, 1].sum()  # cases
            median = rec.agreement_indicators[last, 3, 1]
            out.append((pending, median))
        backlog.append(out[0][0] - out[1][0])
        wait.append(out[0][1] - out[1][1])
    for diff in (backlog, wait):
        assert np.mean(diff) > 0
        t = stats.ttest_1samp(diff, 0.0, alternative="greater")
        assert t.pvalue < 0.01, diff
