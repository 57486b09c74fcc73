"""Remain in Mexico (MPP): eligible parties wait in Mexican border cities for US hearings.

Enrolment follows a dated schedule of shares (and an optional daily limit). The hearing
queue is FIFO with a daily capacity; while waiting, a party may give up and go home or
cross again between ports (competing exponential times drawn at enrolment).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from itertools import count

from sim.context import Context
from sim.domain import GROUP_INDEX, NAT_INDEX, STATE_INDEX
from sim.party import Party
from sim.scenario.schema import MPP

MPP_WAITING = STATE_INDEX["mpp_waiting"]
GAVE_UP = STATE_INDEX["home_gave_up"]
REMOVED = STATE_INDEX["home_after_removal"]
RELEASED = STATE_INDEX["in_us_released"]


class RemainInMexico:
    def __init__(
        self,
        ctx: Context,
        cfg: MPP,
        leave_custody: Callable[[Party, int, float], None],
        cross: Callable[[Party, float], None],
        went_home: Callable[[Party, int, float], None],
    ) -> None:
        self.ctx, self.cfg = ctx, cfg
        # a list: indexing a numpy array gives numpy scalars, slow in a per-party test
        self.share = ctx.cal.step_values([(s.from_, s.share) for s in cfg.enrolment]).tolist()
        self.cap = cfg.daily_capacity * ctx.scale if cfg.daily_capacity is not None else None
        self.nats = frozenset(NAT_INDEX[n] for n in cfg.nationalities)
        self.groups = frozenset(GROUP_INDEX[g] for g in cfg.groups)
        self.hearings = cfg.hearings_per_day * ctx.scale
        self.credit = 0.0
        self.enrolled_today = 0
        self.queue: deque[tuple[Party, object]] = deque()
        self.leaving: list[tuple[float, int, bool, Party, object]] = []
        self._seq = count()
        self._leave_custody, self._cross, self._went_home = leave_custody, cross, went_home
        self.rs = ctx.rng("mpp")
        rec = ctx.rec
        self._enrolled = rec.index("mpp_enrolled")
        self._gave_up = rec.index("mpp_gave_up")
        self._crossed = rec.index("mpp_crossed")
        self._h_removed = rec.index("mpp_hearing_removed")
        self._h_released = rec.index("mpp_hearing_released")

    def offer(self, party: Party, now: float) -> bool:
        """Enrol an eligible processed party (returns False if not enrolled)."""
        day = int(now)
        share = self.share[day]
        if share <= 0.0 or party.nat not in self.nats or party.group not in self.groups:
            return False
        if self.rs.uniform() >= share:
            return False
        if self.cap is not None and self.enrolled_today + party.size > self.cap:
            return False
        self.enrolled_today += party.size
        self.ctx.rec.add(day, self._enrolled, party.cell, party.size)
        self._leave_custody(party, MPP_WAITING, now)
        ticket = party.waiting = object()
        self.queue.append((party, ticket))
        t_give = self.rs.exponential() * self.cfg.give_up_days
        t_cross = self.rs.exponential() * self.cfg.cross_days
        heapq.heappush(
            self.leaving,
            (now + min(t_give, t_cross), next(self._seq), t_cross < t_give, party, ticket),
        )
        return True

    def tick(self, day: int) -> None:
        self.enrolled_today = 0
        rec = self.ctx.rec
        while self.leaving and self.leaving[0][0] < day + 1:
            t, _, crosses, party, ticket = heapq.heappop(self.leaving)
            if party.waiting is not ticket:
                continue
            party.waiting = None
            if crosses:
                rec.add(day, self._crossed, party.cell, party.size)
                party.at_port = False
                self._cross(party, max(t, float(day)))
            else:
                rec.add(day, self._gave_up, party.cell, party.size)
                self.ctx.move(party, GAVE_UP)
                self._went_home(party, GAVE_UP, float(day))
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
            if self.rs.uniform() < self.cfg.grant_share:
                rec.add(day, self._h_released, head.cell, head.size)
                self.ctx.move(head, RELEASED)
            else:
                rec.add(day, self._h_removed, head.cell, head.size)
                self.ctx.move(head, REMOVED)
                self._went_home(head, REMOVED, float(day))
        if not self.queue:
            self.credit = min(self.credit, self.hearings)
