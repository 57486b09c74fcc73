"""Metering at ports of entry: a daily intake limit and waiting lists in Mexican border cities.

Parties presenting at a port join a FIFO list; each day the port admits up to its intake
(persons) into custody. Waiting parties give up after an exponential time: some cross
between ports instead, the rest go home.

A stage: `join` takes a batch of parties presenting at ports; `tick` returns who was
admitted, who crossed between ports and who went home that day, for the model to route.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from itertools import count

import numpy as np

from sim.context import Context
from sim.domain import STATE_INDEX
from sim.party import Batch, Party
from sim.recorder import N_CELLS
from sim.rng import stream
from sim.scenario.schema import Metering

WAITLIST = STATE_INDEX["metering_waitlist"]
GAVE_UP = STATE_INDEX["home_gave_up"]


@dataclass
class Released:
    """What a day of metering produced: parties admitted at the port and parties crossing
    between ports (each with the time), and parties who went home."""

    admitted: list[tuple[float, Party]] = field(default_factory=list)
    crossed: list[tuple[float, Party]] = field(default_factory=list)
    home: list[tuple[float, Party, int]] = field(default_factory=list)


class PortMetering:
    def __init__(self, ctx: Context, cfg: Metering) -> None:
        self.ctx, self.cfg = ctx, cfg
        self.start_day = ctx.cal.day(cfg.start) if cfg.start is not None else None
        self.intake = cfg.daily_intake * ctx.scale
        self.credit = 0.0
        self.queue: deque[tuple[Party, object]] = deque()
        self.leaving: list[tuple[float, int, Party, object]] = []
        self._seq = count()
        self.rs = ctx.rng("metering")
        self.g = stream(ctx.seed, "metering_join", ctx.replication)
        rec = ctx.rec
        self._joined = rec.index("metering_joined")
        self._m_gave_up = rec.index("metering_gave_up")
        self._m_crossed = rec.index("metering_crossed")

    def active(self, day: int) -> bool:
        return self.start_day is not None and day >= self.start_day

    def join(self, day: int, batch: Batch) -> None:
        """Parties presenting at a port on `day` (in time order) join the waiting list."""
        if not len(batch):
            return
        cell = batch.cell
        rec = self.ctx.rec
        rec.add_cells(day, self._joined, np.bincount(cell, batch.size, N_CELLS))
        rec.move_cells(STATE_INDEX["in_transit"], WAITLIST, cell, batch.size)
        leave = batch.t + self.g.standard_exponential(len(batch)) * self.cfg.give_up_days
        for party, t_leave in zip(batch.parties(WAITLIST), leave.tolist(), strict=True):
            ticket = party.waiting = object()
            self.queue.append((party, ticket))
            heapq.heappush(self.leaving, (t_leave, next(self._seq), party, ticket))

    def tick(self, day: int) -> Released:
        """The day's give-ups (crossing or going home), then its intake, FIFO."""
        out = Released()
        rec = self.ctx.rec
        while self.leaving and self.leaving[0][0] < day + 1:
            t, _, party, ticket = heapq.heappop(self.leaving)
            if party.waiting is not ticket:
                continue
            party.waiting = None
            if self.rs.uniform() < self.cfg.cross_share:
                rec.add(day, self._m_crossed, party.cell, party.size)
                party.at_port = False
                out.crossed.append((max(t, float(day)), party))
            else:
                rec.add(day, self._m_gave_up, party.cell, party.size)
                self.ctx.move(party, GAVE_UP)
                out.home.append((float(day), party, GAVE_UP))
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
            out.admitted.append((float(day), head))
        if not self.queue:
            self.credit = min(self.credit, self.intake)
        return out
