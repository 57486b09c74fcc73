"""MPP as arrays against MPP one party at a time.

`RemainInMexico` keeps the enrolled as rows of arrays, serves a day's hearings with one
cumulative sum, and hands on the day's crossings and returns home as batches
(`Reattempts.home_batch` files the latter). Each is checked here against the rule written
the plain way (a heap of leaving times, a FIFO of Party objects with tickets, one random
number at a time), on the same random numbers: the same flows, the same parties in the
same order, the same re-attempts.
"""

from __future__ import annotations

import heapq
from collections import deque
from itertools import count

import numpy as np
import pytest

from sim.domain import STATE_INDEX
from sim.mpp import GAVE_UP, MPP_WAITING, RELEASED, REMOVED, RemainInMexico
from sim.party import Batch, Party
from sim.reattempts import Reattempts
from sim.recorder import N_CELLS
from sim.rng import BLOCK, BlockStream, stream
from sim.scenario.schema import MPP
from tests.conftest import scenario
from tests.rulekit import ORIGIN, context, flow


class PlainMPP:
    """The rule one party at a time (the model's code before it kept rows of arrays)."""

    def __init__(self, cfg: MPP, seed: int, hearings: float, cap: float | None) -> None:
        self.cfg, self.hearings, self.cap = cfg, hearings, cap
        self.credit, self.enrolled_today = 0.0, 0
        self.queue: deque[tuple[Party, object]] = deque()
        self.leaving: list = []
        self.seq = count()
        self.g = stream(seed, "mpp_enrolment", 0)
        self.rs = BlockStream(stream(seed, "mpp", 0))

    def enrol(self, batch: Batch, eligible: np.ndarray, share: float) -> np.ndarray:
        n = len(batch)
        take = eligible[batch.cell] & (self.g.random(n) < share)
        if self.cap is not None:
            for i in np.flatnonzero(take).tolist():
                size = int(batch.size[i])
                if self.enrolled_today + size > self.cap:
                    take[i] = False
                else:
                    self.enrolled_today += size
        k = int(take.sum())
        if not k:
            return take
        t = batch.t[take]
        t_give = self.g.standard_exponential(k) * self.cfg.give_up_days
        t_cross = self.g.standard_exponential(k) * self.cfg.cross_days
        leave = (t + np.minimum(t_give, t_cross)).tolist()
        crosses = (t_cross < t_give).tolist()
        for party, t_leave, c in zip(
            batch.take(take).parties(MPP_WAITING), leave, crosses, strict=True
        ):
            ticket = party.waiting = object()
            self.queue.append((party, ticket))
            heapq.heappush(self.leaving, (t_leave, next(self.seq), c, party, ticket))
        return take

    def tick(self, day: int) -> tuple[list, list, list]:
        """(crossed as (t, party), home as (party, state), heard as (party, state))."""
        self.enrolled_today = 0
        crossed, home, heard = [], [], []
        while self.leaving and self.leaving[0][0] < day + 1:
            t, _, crosses, party, ticket = heapq.heappop(self.leaving)
            if party.waiting is not ticket:
                continue
            party.waiting = None
            if crosses:
                crossed.append((max(t, float(day)), party))
            else:
                home.append((party, GAVE_UP))
        self.credit += self.hearings
        while self.queue:
            head, ticket = self.queue[0]
            if head.waiting is not ticket:
                self.queue.popleft()
                continue
            if head.size > self.credit:
                break
            self.queue.popleft()
            head.waiting = None
            self.credit -= head.size
            state = RELEASED if self.rs.uniform() < self.cfg.grant_share else REMOVED
            heard.append((head, state))
            if state == REMOVED:
                home.append((head, REMOVED))
        if not self.queue:
            self.credit = min(self.credit, self.hearings)
        return crossed, home, heard


def _stock(ctx, state: int) -> int:
    return int(ctx.rec.ledger.reshape(-1, N_CELLS)[state].sum())


def _rows(b: Batch) -> list[tuple]:
    return list(
        zip(b.nat.tolist(), b.size.tolist(), b.transited.tolist(), b.t.tolist(), strict=True)
    )


def _party_rows(items: list[tuple[float, Party]]) -> list[tuple]:
    return [(p.nat, p.size, p.transited, t) for t, p in items]


@pytest.mark.parametrize(
    ("hearings", "daily_capacity", "seed"),
    [(7.3, None, 1), (2.5, None, 2), (40.0, 12.0, 3), (0.4, None, 4), (1e6, None, 5)],
)
def test_mpp_as_arrays_does_what_the_party_by_party_rule_does(hearings, daily_capacity, seed):
    """Families of 2-6 against a fractional daily credit (a family that does not fit waits,
    and everyone behind it), leaving times short enough to interleave with the hearings,
    and a daily limit: every day's crossings, returns home and hearings match, in order."""
    ctx = context(days=200, seed=seed)
    cfg = MPP(
        enrolment=[{"from": ORIGIN, "share": 0.7}],
        daily_capacity=daily_capacity,
        nationalities=["honduras", "guatemala"],
        groups=["single_adult", "family"],
        hearings_per_day=hearings,
        give_up_days=9.0,
        cross_days=14.0,
        grant_share=0.3,
    )
    remain = RemainInMexico(ctx, cfg)
    plain = PlainMPP(cfg, seed, hearings, daily_capacity)
    rng = np.random.default_rng(seed)
    moved = {GAVE_UP: 0, REMOVED: 0, RELEASED: 0}  # persons out of MPP, by state
    for day in range(150):
        crossed, home, heard = plain.tick(day)
        out = remain.tick(day)
        assert _rows(out.crossed) == _party_rows(crossed)
        assert not out.crossed.port.any()  # they cross between ports
        assert list(
            zip(out.home.nat.tolist(), out.home.size.tolist(), out.home_state.tolist(), strict=True)
        ) == [(p.nat, p.size, s) for p, s in home]
        assert (out.home.t == day).all()
        for state, metric in ((REMOVED, "mpp_hearing_removed"), (RELEASED, "mpp_hearing_released")):
            persons = sum(p.size for p, s in heard if s == state)
            assert flow(ctx, metric, day=day) == persons
            moved[state] += persons
        moved[GAVE_UP] += sum(p.size for p, s in home if s == GAVE_UP)
        assert flow(ctx, "mpp_crossed", day=day) == sum(p.size for _, p in crossed)
        assert remain.credit == plain.credit
        n = int(rng.integers(0, 40))
        nat = rng.choice([1, 2, 4], n)  # some not eligible
        grp = rng.choice([0, 1, 2], n)
        size = np.where(grp == 1, rng.integers(2, 7, n), 1)
        t = np.sort(day + rng.random(n))
        batch = Batch(nat, grp, size, rng.integers(0, 8, n), np.zeros(n), np.ones(n), t, t)
        share = 0.7 if day >= 0 else 0.0
        want = plain.enrol(batch, remain.eligible_cell, share)
        assert (remain.enrol(day, batch) == want).all()
    waiting = sum(1 for p, ticket in plain.queue if p.waiting is ticket)
    assert remain.waiting == waiting
    assert min(moved.values()) > 0 or hearings == 1e6
    # the ledger: out of MPP (into which the model's custody stage moves the enrolled)
    assert _stock(ctx, MPP_WAITING) == -sum(moved.values())
    for state, persons in moved.items():
        assert _stock(ctx, state) == persons


def test_home_batch_files_what_home_files_one_by_one():
    """The same re-attempts from the same stream, in batches that run out one block, the
    other, or both (then it goes party by party), with states that never re-attempt."""
    s = scenario("historical")
    from sim.calendar import SimCalendar

    cal = SimCalendar(s.origin, s.start, s.end)
    one, many = Reattempts(s, cal, 0), Reattempts(s, cal, 0)
    rng = np.random.default_rng(11)
    states = np.array(
        [STATE_INDEX[k] for k in ("home_gave_up", "home_after_removal", "home_after_stop")]
    )
    day = 0
    for n in [0, 5, 300, BLOCK - 100, 700, 3 * BLOCK, 50, BLOCK, 1]:
        nat, grp = rng.integers(0, 5, n), rng.integers(0, 3, n)
        size, state = rng.integers(1, 4, n), states[rng.integers(0, 3, n)]
        t = day + rng.random(n)
        for i in range(n):
            one.home(int(nat[i]), int(grp[i]), int(size[i]), int(state[i]), float(t[i]), day)
        many.home_batch(nat, grp, size, state, t, day)
        assert one.rs.left() == many.rs.left()
        day += 3
    for d in range(cal.days):
        a, b = one.due(d), many.due(d)
        assert (a is None) == (b is None)
        if a is not None:
            assert np.array_equal(a, b)


def test_block_draws_match_draws_one_at_a_time():
    a, b = BlockStream(stream(3, "x")), BlockStream(stream(3, "x"))
    got, want = [], []
    for k in [3, BLOCK, 0, 5000, 2 * BLOCK + 7, 1]:
        got += b.uniforms(k).tolist() + b.exponentials(k // 2).tolist()
        want += [a.uniform() for _ in range(k)] + [a.exponential() for _ in range(k // 2)]
    assert got == want
