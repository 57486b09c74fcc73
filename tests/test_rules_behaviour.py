"""Behaviour over time, pinned: the deterrence multiplier's exact value (component alone,
fed a fake `observed`), re-attempt delays, metering intake a day, MPP hearings a day.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from sim.deterrence import PerceivedRisk
from sim.domain import GROUP_INDEX, NAT_INDEX
from sim.metering import PortMetering
from sim.mpp import REMOVED, RemainInMexico
from sim.party import Batch
from sim.recorder import N_CELLS
from sim.scenario.schema import MPP, Deterrence, Enforcement, Metering
from tests.rulekit import ORIGIN, context, date_of, flow, party, quiet, run_with, shares

HN_FAM = NAT_INDEX["honduras"] * 3 + GROUP_INDEX["family"]
REF = 10  # the reference day of the deterrence cases


def deterrence(**kw) -> Deterrence:
    cfg = {
        "effect": 0.5,
        "memory_days": 1.0,  # smoothing weight 1: the risk is yesterday's share
        "delay_days": 0,
        "reference_date": date_of(REF).isoformat(),
        "consequences": ["removed", "mpp", "transferred"],
        "announcements": [],
    }
    cfg.update(kw)
    return Deterrence.model_validate(cfg)


def risk_model(share_by_day, days: int = 40, **kw):
    """PerceivedRisk fed 100 outcomes a day per cell, `share_by_day(day)` of them consequences;
    returns the component and the days it asked `observed` for."""
    asked: list[int] = []

    def observed(day: int):
        asked.append(day)
        out = np.full(N_CELLS, 100.0)
        return out, out * share_by_day(day)

    ctx = context(days=days)
    return PerceivedRisk(deterrence(**kw), ctx.cal, observed), asked


def step_share(day: int) -> float:
    # 0.5 early (before the reference: must not matter), 0.2 at the reference, 0.6 later
    return 0.5 if day < 5 else 0.2 if day < 12 else 0.6


def test_multiplier_is_exactly_one_before_the_reference_date():
    risk, _ = risk_model(step_share)
    for day in range(REF):
        m = risk.update(day)
        assert (m == 1.0).all(), day
    assert risk.risk[0] == pytest.approx(0.2)  # the risk is perceived, just not acted on


def test_multiplier_formula_after_the_reference_date():
    risk, _ = risk_model(step_share)
    ms = [risk.update(day).copy() for day in range(16)]
    # day 10: reference risk 0.2 (day 9's share): m = 1
    assert risk.reference == pytest.approx(np.full(N_CELLS, 0.2))
    assert ms[REF] == pytest.approx(np.ones(N_CELLS))
    assert ms[12] == pytest.approx(np.ones(N_CELLS))  # still day 11's 0.2
    # day 13 on: risk 0.6, m = 1 - 0.5 x (0.6 - 0.2) / (1 - 0.2) = 0.75
    assert ms[13] == pytest.approx(np.full(N_CELLS, 0.75))
    assert ms[15] == pytest.approx(np.full(N_CELLS, 0.75))


def test_lower_risk_raises_departures_and_the_clip_bounds():
    low, _ = risk_model(lambda d: 0.2 if d < 12 else 0.0)
    m = [low.update(d).copy() for d in range(14)][13]
    # m = 1 - 0.5 x (0 - 0.2) / 0.8 = 1.125 (<= 1 + effect)
    assert m == pytest.approx(np.full(N_CELLS, 1.125))
    high, _ = risk_model(lambda d: 0.2 if d < 12 else 1.0, effect=2.0)
    m = [high.update(d).copy() for d in range(14)][13]
    assert (m == 0.0).all()  # 1 - 2 x 0.8 / 0.8 = -1, clipped to 0
    top, _ = risk_model(lambda d: 0.9 if d < 12 else 0.0, effect=4.0)
    m = [top.update(d).copy() for d in range(14)][13]
    assert m == pytest.approx(np.full(N_CELLS, 5.0))  # 1 + 4 x 0.9 / 0.1 = 37 -> 1 + effect


def test_effect_zero_gives_exactly_one():
    risk, _ = risk_model(step_share, effect=0.0)
    for day in range(30):
        assert (risk.update(day) == 1.0).all()


def test_news_delay_and_memory_smoothing():
    risk, asked = risk_model(
        lambda d: 0.0 if d < 20 else 1.0, days=60, delay_days=14, memory_days=4.0
    )
    risks = []
    for day in range(40):
        risk.update(day)
        risks.append(float(risk.risk[0]))
    # day d reads day d - 1 - delay; nothing before day 15
    assert asked[0] == 0 and asked[-1] == 39 - 15
    assert len(asked) == 40 - 15
    # the switch on day 20 is first read on day 35. Both counts are smoothed with weight
    # 1/4 from the first reading (day 15, source day 0): after n readings of the switch,
    # consequences are 100 (1 - 0.75^n) and outcomes 100 (1 - 0.75^(n + 20))
    assert risks[34] == 0.0
    for n in (1, 2, 5):
        assert risks[34 + n] == pytest.approx((1 - 0.75**n) / (1 - 0.75 ** (n + 20)))


def test_reference_waits_for_the_warm_up_when_the_run_starts_late():
    # reference date before the run: the reference is taken at delay + memory = 3 + 5 days
    risk, _ = risk_model(
        step_share,
        reference_date=(ORIGIN - dt.timedelta(days=30)).isoformat(),
        delay_days=3,
        memory_days=5.0,
    )
    assert risk.ref_day == 8
    for day in range(8):
        assert (risk.update(day) == 1.0).all()
    risk.update(8)
    assert risk.reference is not None


HN_SA = NAT_INDEX["honduras"] * 3 + GROUP_INDEX["single_adult"]
MX_FAM = NAT_INDEX["mexico"] * 3 + GROUP_INDEX["family"]


def test_momentum_grows_below_the_threshold_and_shrinks_above_it():
    """d log M = rate / 30 x (threshold[group] - risk) each day from delay + memory on,
    for the momentum nationalities only (Northern Triangle by default); level response off."""
    thresholds = {"single_adult": 0.6, "family": 0.4, "unaccompanied_child": 0.2}
    risk, _ = risk_model(
        lambda d: 0.2 if d < 20 else 0.5,
        days=40,
        effect=0.0,
        momentum_rate=3.0,
        momentum_threshold=thresholds,
    )
    assert risk.warm_day == 1  # delay 0 + memory 1
    ms = [risk.update(day).copy() for day in range(30)]
    assert (ms[0] == 1.0).all()  # before the warm day
    # days 1..20 see risk 0.2 (yesterday's share), day 21 on 0.5
    fam = np.log(ms[20][HN_FAM])
    assert fam == pytest.approx(20 * 0.1 * (0.4 - 0.2))
    assert np.log(ms[20][HN_SA]) == pytest.approx(20 * 0.1 * (0.6 - 0.2))
    assert np.log(ms[25][HN_FAM]) == pytest.approx(fam + 5 * 0.1 * (0.4 - 0.5))
    assert ms[25][HN_FAM] < ms[20][HN_FAM]  # above the threshold: decline
    assert ms[25][MX_FAM] == 1.0  # Mexico is not a momentum nationality by default


def test_momentum_multiplies_the_level_response_and_is_bounded():
    risk, _ = risk_model(
        lambda d: 0.2 if d < 12 else 0.0,
        days=80,
        effect=0.5,
        momentum_rate=5.0,
        momentum_bound=2.0,
        momentum_threshold={"single_adult": 0.2, "family": 0.2, "unaccompanied_child": 0.2},
    )
    ms = [risk.update(day).copy() for day in range(80)]
    level = 1.125  # 1 - 0.5 x (0 - 0.2) / 0.8, as in the level test above
    # days 1..12 see risk 0.2 = the threshold: M stays 1; day 13 on, risk 0: growth
    assert ms[12][HN_FAM] == pytest.approx(1.0)
    assert ms[13][HN_FAM] == pytest.approx(level * np.exp(5.0 / 30 * 0.2))
    assert ms[79][HN_FAM] == pytest.approx(level * 2.0)  # the bound
    assert ms[79][MX_FAM] == pytest.approx(level)


def test_momentum_rate_zero_is_exactly_one():
    risk, _ = risk_model(step_share, effect=0.0, momentum_rate=0.0)
    for day in range(30):
        assert (risk.update(day) == 1.0).all()


def test_announcement_shifts_risk_from_its_date_and_decays():
    d0 = 20
    ann = {
        "date": date_of(d0).isoformat(),
        "risk_shift": 0.3,
        "decay_days": 10.0,
        "nationalities": ["honduras"],
        "groups": ["family"],
    }
    risk, _ = risk_model(lambda d: 0.2, announcements=[ann])
    out = {}
    for day in range(d0 + 11):
        m = risk.update(day).copy()
        out[day] = (float(risk.risk[HN_FAM]), float(m[HN_FAM]), float(risk.risk[0]), float(m[0]))
    assert out[d0 - 1][0] == pytest.approx(0.2)
    assert out[d0][0] == pytest.approx(0.5)
    assert out[d0 + 10][0] == pytest.approx(0.2 + 0.3 * math.exp(-1))
    # m = 1 - 0.5 x 0.3 / 0.8 on the announcement day, for the listed cell only
    assert out[d0][1] == pytest.approx(1 - 0.5 * 0.3 / 0.8)
    assert out[d0][2:] == pytest.approx((0.2, 1.0))


def test_the_enforcement_surge_is_announced_to_non_mexicans_only():
    """The surge's announcement shifts every non-Mexican cell's risk on each later hazard
    step's date, not Mexicans' (Mexico's enforcement does not stop them), and vanishes with
    a shift of 0 or without a surge (the attribution's `enforcement_surge` player)."""
    d0 = 20
    enf = Enforcement.model_validate(
        {
            "mexico": [
                {"from": "2000-01-01", "daily_hazard": 0.005},
                {"from": date_of(d0).isoformat(), "daily_hazard": 0.01},
            ],
            "announcement_risk_shift": 0.25,
            "announcement_decay_days": 5.0,
        }
    )
    ctx = context(days=40)

    def observed(day: int):
        out = np.full(N_CELLS, 100.0)
        return out, out * 0.2

    risk = PerceivedRisk(deterrence(), ctx.cal, observed, enf.announcements())
    for day in range(d0 + 6):
        risk.update(day)
        if day == d0 - 1:
            assert risk.risk == pytest.approx(np.full(N_CELLS, 0.2))
        if day == d0:
            on = risk.risk.copy()
    mx = [NAT_INDEX["mexico"] * 3 + g for g in range(3)]
    others = [c for c in range(N_CELLS) if c not in mx]
    assert on[mx] == pytest.approx([0.2] * 3)
    assert on[others] == pytest.approx([0.45] * len(others))
    assert risk.risk[others] == pytest.approx([0.2 + 0.25 * math.exp(-1.0)] * len(others))
    assert enf.model_copy(update={"announcement_risk_shift": 0.0}).announcements() == []
    assert enf.model_copy(update={"mexico": enf.mexico[:1]}).announcements() == []


# ----------------------------------------------------------------------------- re-attempts
MEAN_DELAY = 10.0
N_REMOVED = 2000


def reattempt_run(probability: float):
    """2,000 Mexican single adults removed at t = 2.5 (processing takes seconds); removed
    persons set out again with `probability` after an exponential delay, on a journey too
    long to come back within the run (so there are no second re-attempts)."""
    t0 = 2.5
    s = quiet(
        shares(1.0, 0.0, 0.0),
        end="2019-12-31",
        border={
            "processing_hours": {
                "single_adult": 0.001,
                "family": 0.001,
                "unaccompanied_child": 0.001,
            },
            "processing_lanes": 5000,
        },
        journey={
            "routes": {
                "mexico": [
                    {"share": 1.0, "legs": [{"country": "mexico", "mean_days": 3000.0, "cv": 0.0}]}
                ]
            },
            "protection": {},
        },
        enforcement={"mexico": []},
        reattempts={"removed": {"probability": probability, "mean_delay_days": MEAN_DELAY}},
    )
    model = run_with(s, [(t0, party(nat="mexico", transited=(), t=t0)) for _ in range(N_REMOVED)])
    per_day = model.rec.flow_array()[:, _flow("reattempts")].sum(axis=(1, 2, 3))
    return model, per_day, t0


def _flow(metric: str) -> int:
    from sim.metrics import FLOW_INDEX

    return FLOW_INDEX[metric]


def test_no_reattempt_at_probability_zero():
    model, per_day, _ = reattempt_run(0.0)
    assert flow(model.rec, "removed") == N_REMOVED
    assert per_day.sum() == 0


def test_reattempt_probability_is_a_binomial_share():
    """At probability 1/2 the number setting out again is Binomial(2000, 1/2): standard
    deviation 22.4; a 5-standard-deviation bound is a false alarm once in 1.7 million."""
    _, per_day, _ = reattempt_run(0.5)
    sd = math.sqrt(N_REMOVED * 0.25)
    assert abs(per_day.sum() - N_REMOVED / 2) < 5 * sd, per_day.sum()


def test_reattempt_delay_is_exponential_with_the_documented_mean():
    """Everyone removed at t0 = 2.5 sets out again on day max(floor(t0 + X), 3), X
    exponential with mean D: E[day] = 3 + sum_{k>=4} exp(-(k - t0) / D). The mean over
    2,000 persons has a standard error of about D / sqrt(2000); a 5-standard-error bound
    is a false alarm about once in 1.7 million runs, and a delay 15% off is caught."""
    model, per_day, t0 = reattempt_run(1.0)
    assert flow(model.rec, "removed") == N_REMOVED
    assert per_day.sum() == N_REMOVED  # all within the run (the tail beyond is e^-36)
    assert per_day[: int(t0) + 1].sum() == 0  # never on the day of removal
    days = np.arange(len(per_day))
    mean_day = float((days * per_day).sum() / per_day.sum())
    q = math.exp(-1.0 / MEAN_DELAY)
    expected = 3 + math.exp(-(4 - t0) / MEAN_DELAY) / (1 - q)
    se = MEAN_DELAY / math.sqrt(N_REMOVED)
    assert abs(mean_day - expected) < 5 * se, (mean_day, expected)
    assert 5 * se < 0.15 * MEAN_DELAY


# ----------------------------------------------------------------------------- metering
def metering(intake: float, start=ORIGIN):
    ctx = context(days=30)
    cfg = Metering(
        start=start, daily_intake=intake, exempt=[], give_up_days=3650.0, cross_share=0.5
    )
    return ctx, PortMetering(ctx, cfg)


def join(port, parties) -> None:
    """Parties presenting at the port on day 0, each at its own `t_arrival` (distinct, so
    the order they are admitted in identifies them)."""
    port.join(0, Batch.of_parties([(p.t_arrival, p) for p in parties]))


def test_metering_admits_daily_intake_persons_a_day_fifo():
    _, port = metering(intake=3.0)
    waiting = [party(t=0.5 + i / 100) for i in range(7)]
    join(port, waiting)
    out = [port.tick(day).admitted for day in range(1, 5)]
    assert [len(b) for b in out] == [3, 3, 1, 0]
    admitted = Batch.concat(out)
    # first come, first served
    assert admitted.t_in.tolist() == [p.t_arrival for p in waiting]
    assert admitted.t.tolist() == [1.0] * 3 + [2.0] * 3 + [3.0]
    assert port.waiting == 0


def test_metering_intake_counts_persons_and_a_family_is_not_overtaken():
    _, port = metering(intake=3.0)
    order = [party(t=0.5), party(t=0.51), party(group="family", size=3, t=0.52)]
    order += [party(t=0.53), party(t=0.54)]
    join(port, order)
    out = [port.tick(day).admitted for day in range(1, 6)]
    cumulative = np.cumsum([int(b.size.sum()) for b in out]).tolist()
    assert all(c <= 3 * (k + 1) for k, c in enumerate(cumulative))
    assert cumulative[-1] == 7
    assert Batch.concat(out).t_in.tolist() == [p.t_arrival for p in order]
    assert cumulative[0] == 2  # the family does not fit on day 1 and nobody jumps it


def test_metering_give_ups_cross_between_ports_with_the_cross_share():
    """No intake: every party gives up (mean 2 days); a share of 0.3 crosses between ports,
    on the day its patience ran out, the rest go home. 2,000 parties: the number crossing
    is Binomial(2000, 0.3), sd 20.5, checked to 5 sd."""
    ctx = context(days=80)
    cfg = Metering(start=ORIGIN, daily_intake=0.0, exempt=[], give_up_days=2.0, cross_share=0.3)
    port = PortMetering(ctx, cfg)
    port.join(0, Batch.of_parties([(0.5, party(t=0.5)) for _ in range(2000)]))
    crossed, home = [], []
    for day in range(1, 80):
        out = port.tick(day)
        assert len(out.admitted) == 0
        assert ((out.crossed.t >= day) & (out.crossed.t < day + 1)).all()
        assert not out.crossed.port.any()  # they cross between ports: apprehensions
        assert (out.home.t == day).all()
        crossed.append(len(out.crossed))
        home.append(len(out.home))
    assert sum(crossed) + sum(home) == 2000 and port.waiting == 0
    assert abs(sum(crossed) - 600) < 5 * math.sqrt(2000 * 0.3 * 0.7)
    assert flow(ctx, "metering_crossed") == sum(crossed)
    assert flow(ctx, "metering_gave_up") == sum(home)


def test_metering_matches_the_plain_rule_over_a_long_list():
    """Many days of joins, give-ups and intake, with the list's rows before its head
    dropped several times (`_compact`): every day the port admits exactly the longest
    prefix of those still waiting that fits in the credit, in joining order, and lets go
    exactly those whose patience ran out before the day's end, in order of that time, as a
    plain list walked party by party does. The give-up times are redrawn from the port's
    stream."""
    from sim.rng import stream

    ctx = context(days=400)
    cfg = Metering(start=ORIGIN, daily_intake=9.0, exempt=[], give_up_days=6.0, cross_share=0.4)
    port = PortMetering(ctx, cfg)
    g, draws = np.random.default_rng(5), stream(ctx.seed, "metering_join", 0)
    plain: list[list[float]] = []  # [t_in, size, leave] in joining order, while waiting
    credit, admitted_all, joined = 0.0, 0, 0
    for day in range(390):
        out = port.tick(day)
        # the plain rule
        if plain:
            gone = sorted((p for p in plain if p[2] < day + 1), key=lambda p: p[2])
            plain = [p for p in plain if p[2] >= day + 1]
            credit += cfg.daily_intake
            admitted = []
            while plain and sum(p[1] for p in admitted) + plain[0][1] <= credit + 1e-9:
                admitted.append(plain.pop(0))
            credit -= sum(p[1] for p in admitted)
            if not plain:
                credit = min(credit, cfg.daily_intake)
        else:
            gone, admitted = [], []
            credit = min(credit + cfg.daily_intake, cfg.daily_intake)
        assert out.admitted.t_in.tolist() == [p[0] for p in admitted], day
        order = [p[0] for p in gone]
        left = out.crossed.t_in.tolist() + out.home.t_in.tolist()
        assert sorted(left) == sorted(order), day
        for part in (out.crossed.t_in.tolist(), out.home.t_in.tolist()):
            kept = set(part)
            assert part == [t for t in order if t in kept], day  # in order of leaving
        admitted_all += len(admitted)
        # the day's joiners, after its tick: sizes 1-4, distinct times
        k = int(g.integers(0, 14)) if day < 300 else 0
        sizes = g.integers(1, 5, k)
        times = day + np.sort(g.random(k)) * 0.999 + np.arange(k) * 1e-9
        parties = [
            party(group="family", size=int(n), t=t) for n, t in zip(sizes, times, strict=True)
        ]
        port.join(day, Batch.of_parties([(p.t_arrival, p) for p in parties]))
        joined += k
        leave = times + draws.standard_exponential(k) * cfg.give_up_days
        plain += [[t, float(n), lv] for t, n, lv in zip(times, sizes, leave, strict=True)]
    assert port.n < joined - 1000  # rows were dropped from the list's columns
    assert admitted_all > 500 and port.waiting == len(plain) == 0


def test_metering_inactive_before_its_start():
    _, port = metering(intake=3.0, start=date_of(5))
    assert not port.active(4)
    assert port.active(5)


# ----------------------------------------------------------------------------- MPP hearings
def mpp(hearings: float, grant: float = 0.0, daily_capacity=None):
    ctx = context(days=30)
    cfg = MPP(
        enrolment=[{"from": ORIGIN, "share": 1.0}],
        daily_capacity=daily_capacity,
        nationalities=["honduras"],
        groups=["single_adult", "family"],
        hearings_per_day=hearings,
        give_up_days=3650.0,
        cross_days=3650.0,
        grant_share=grant,
    )
    return ctx, RemainInMexico(ctx, cfg)


@pytest.mark.parametrize(
    ("grant", "metric"), [(0.0, "mpp_hearing_removed"), (1.0, "mpp_hearing_released")]
)
def test_mpp_hears_hearings_per_day_persons_fifo(grant, metric):
    ctx, remain = mpp(hearings=2.0, grant=grant)
    enrolled = [party(t=i / 10) for i in range(5)]
    assert all(remain.offer(p, 0.5) for p in enrolled)
    assert flow(ctx, "mpp_enrolled") == 5
    home = []
    for day in range(1, 5):
        out = remain.tick(day)
        home += zip(out.home.t_in.tolist(), out.home_state.tolist(), strict=True)
    assert [flow(ctx, metric, day=d) for d in range(1, 5)] == [2.0, 2.0, 1.0, 0.0]
    if grant == 0.0:  # removed (home, to re-attempt from there) in the order they enrolled
        assert home == [(p.t_arrival, REMOVED) for p in enrolled]
    else:
        assert home == []
    assert remain.waiting == 0


def test_mpp_daily_enrolment_limit():
    ctx, remain = mpp(hearings=100.0, daily_capacity=3.0)
    got = [remain.offer(party(), 0.5) for _ in range(5)]
    assert got == [True, True, True, False, False]
    remain.tick(1)
    assert remain.offer(party(), 1.5)
    assert flow(ctx, "mpp_enrolled") == 4


def test_mpp_only_listed_nationalities_and_groups():
    _, remain = mpp(hearings=1.0)
    assert not remain.offer(party(nat="mexico"), 0.5)
    assert not remain.offer(party(group="unaccompanied_child"), 0.5)
    assert remain.offer(party(group="family"), 0.5)


def test_a_journey_never_ends_before_it_starts():
    """A party that settles on its first leg stops where it set out: `(t0 + d) - d` once
    rounded to an ulp below t0 (caught by the bench's capture at one calibration), and a
    journey ending before its departure would be filed on an earlier day. The first leg is
    a transit country for a re-attempt from abroad: Hondurans setting out from Mexico."""
    from sim.calendar import SimCalendar
    from sim.journey import PROTECTION, JourneyPlanner
    from tests.conftest import scenario

    s = scenario(
        "historical",
        "journey.protection.mexico.apply_probability=1.0",
        "journey.protection.mexico.continue_share=0.0",
    )
    planner = JourneyPlanner(s, SimCalendar(s.origin, s.start, s.end))
    rng = np.random.default_rng(7)
    n = 200_000
    t0 = rng.uniform(0.0, 1000.0, n)
    nat = np.full(n, NAT_INDEX["honduras"])
    origin = np.full(n, NAT_INDEX["mexico"])
    out = planner.plan(t0, nat, origin, rng)
    assert (out.kind == PROTECTION).sum() > n // 2  # most settle in Mexico, on their first leg
    assert (out.time >= t0).all()


def test_the_cumulative_hazard_is_np_interp_exactly():
    """`JourneyPlanner._H` skips np.interp's search on the daily grid: it must give the very
    same floats (a stop time moving by an ulp would change which day a party is filed
    under), at whole days, inside days, at the grid's end and beyond it on both sides."""
    from sim.calendar import SimCalendar
    from sim.journey import JourneyPlanner
    from tests.conftest import scenario

    s = scenario("historical")
    planner = JourneyPlanner(s, SimCalendar(s.origin, s.start, s.end))
    end = planner.grid[-1]
    rng = np.random.default_rng(11)
    inside = np.concatenate([rng.uniform(0.0, end, 100_000), np.arange(0.0, end), [0.0]])
    for t in (inside, np.array([end]), np.array([-0.5, 3.25]), np.array([2.5, end + 7.0])):
        want = np.interp(t, planner.grid, planner.cum_hazard)
        assert np.array_equal(planner._H(t), want)
    assert planner.slope.max() > 0  # a hazard that is not zero throughout: a real test
