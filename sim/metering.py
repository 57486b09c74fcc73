"""Metering at ports of entry: a daily intake limit and waiting lists in Mexican border cities.

Parties presenting at a port join a FIFO list; each day the port admits up to its intake
(persons) into custody. Waiting parties give up after an exponential time: some cross
between ports instead, the rest go home.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from itertools import count

from sim.context import Context
from sim.domain import STATE_INDEX
from sim.party import Party
from sim.scenario.schema import Metering

WAITLIST = STATE_INDEX["metering_waitlist"]
GAVE_UP = STATE_INDEX["home_gave_up"]


class PortMetering:
    def __init__(
        self,
        ctx: Context,
        cfg: Metering,
        admit: Callable[[Party, float], None],
        cross: Callable[[Party, float], None],
        gave_up: Callable[[Party, float], None],
    ) -> None:
        self.ctx, self.cfg = ctx, cfg
        self.start_day = ctx.cal.day(cfg.start) if cfg.start is not None else None
        self.intake = cfg.daily_intake * ctx.scale
        self.credit = 0.0
        self.queue: deque[tuple[Party, object]] = deque()
        self.leaving: list[tuple[float, int, Party, object]] = []
        self._seq = count()
        self._admit, self._cross, self._gave_up = admit, cross, gave_up
        self.rs = ctx.rng("metering")
        rec = ctx.rec
        self._joined = rec.index("metering_joined")
        self._m_gave_up = rec.index("metering_gave_up")
        self._m_crossed = rec.index("metering_crossed")

    def active(self, day: int) -> bool:
        return self.start_day is not None and day >= self.start_day

    def join(self, party: Party, now: float) -> None:
        self.ctx.rec.add(int(now), self._joined, party.cell, party.size)
        self.ctx.move(party, WAITLIST)
        ticket = party.waiting = object()
        self.queue.append((party, ticket))
        t_leave = now + self.rs.exponential() * self.cfg.give_up_days
        heapq.heappush(self.leaving, (t_leave, next(self._seq), party, ticket))

    def tick(self, day: int) -> None:
        rec = self.ctx.rec
        while self.leaving and self.leaving[0][0] < day + 1:
            t, _, party, ticket = heapq.heappop(self.leaving)
            if party.waiting is not ticket:
                continue
            party.waiting = None
            if self.rs.uniform() < self.cfg.cross_share:
                rec.add(day, self._m_crossed, party.cell, party.size)
                party.at_port = False
                self._cross(party, max(t, float(day)))
            else:
                rec.add(day, self._m_gave_up, party.cell, party.size)
                self.ctx.move(party, GAVE_UP)
                self._gave_up(party, float(day))
        self.credit += self.intake
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
            self._admit(head, float(day))
        if not self.queue:
            self.credit = min(self.credit, self.intake)
