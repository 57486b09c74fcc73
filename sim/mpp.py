"""Remain in Mexico (MPP): eligible parties wait in Mexican border cities for US hearings.

Enrolment follows a dated schedule of shares (and an optional daily limit). The hearing
queue is FIFO with a daily capacity; while waiting, a party may give up and go home or
cross again between ports (competing exponential times drawn at enrolment).

A stage: `enrol` takes a batch of processed parties and says which it enrolled; `tick`
returns who crossed again and who went home that day, for the model to route onward.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from itertools import count

import numpy as np

from sim.context import Context
from sim.domain import GROUP_INDEX, NAT_INDEX, STATE_INDEX
from sim.party import Batch, Party
from sim.recorder import N_CELLS
from sim.rng import stream
from sim.scenario.schema import MPP

MPP_WAITING = STATE_INDEX["mpp_waiting"]
GAVE_UP = STATE_INDEX["home_gave_up"]
REMOVED = STATE_INDEX["home_after_removal"]
RELEASED = STATE_INDEX["in_us_released"]


@dataclass
class Returned:
    """What a day of waiting in Mexico produced: parties crossing between ports (with the
    time) and parties home, by the state they went home in (for their re-attempts)."""

    crossed: list[tuple[float, Party]] = field(default_factory=list)
    home: list[tuple[float, Party, int]] = field(default_factory=list)


class RemainInMexico:
    def __init__(self, ctx: Context, cfg: MPP) -> None:
        self.ctx, self.cfg = ctx, cfg
        # a list: indexing a numpy array gives numpy scalars, slow in a per-party test
        self.share = ctx.cal.step_values([(s.from_, s.share) for s in cfg.enrolment]).tolist()
        self.cap = cfg.daily_capacity * ctx.scale if cfg.daily_capacity is not None else None
        self.nats = frozenset(NAT_INDEX[n] for n in cfg.nationalities)
        self.groups = frozenset(GROUP_INDEX[g] for g in cfg.groups)
        self.eligible_cell = np.zeros(N_CELLS, dtype=bool)
        for n in self.nats:
            for g in self.groups:
                self.eligible_cell[n * 3 + g] = True
        self.hearings = cfg.hearings_per_day * ctx.scale
        self.credit = 0.0
        self.enrolled_today = 0
        self.queue: deque[tuple[Party, object]] = deque()
        self.leaving: list[tuple[float, int, bool, Party, object]] = []
        self._seq = count()
        self.rs = ctx.rng("mpp")
        self.g = stream(ctx.seed, "mpp_enrolment", ctx.replication)
        rec = ctx.rec
        self._enrolled = rec.index("mpp_enrolled")
        self._gave_up = rec.index("mpp_gave_up")
        self._crossed = rec.index("mpp_crossed")
        self._h_removed = rec.index("mpp_hearing_removed")
        self._h_released = rec.index("mpp_hearing_released")

    def enrol(self, day: int, batch: Batch) -> np.ndarray:
        """Enrol eligible parties of a batch processed on `day` (in time order): each with
        the day's share, within the daily limit. Returns the mask of those enrolled; they
        leave custody for Mexico (the caller files their custody exits)."""
        n = len(batch)
        share = self.share[day] if n else 0.0
        if share <= 0.0:
            return np.zeros(n, dtype=bool)
        cell = batch.cell
        take = self.eligible_cell[cell] & (self.g.random(n) < share)
        if self.cap is not None and take.any():
            for i in np.flatnonzero(take).tolist():  # in time order: whole parties only
                size = int(batch.size[i])
                if self.enrolled_today + size > self.cap:
                    take[i] = False
                else:
                    self.enrolled_today += size
        k = int(take.sum())
        if not k:
            return take
        self.ctx.rec.add_cells(
            day, self._enrolled, np.bincount(cell[take], batch.size[take], N_CELLS)
        )
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
            heapq.heappush(self.leaving, (t_leave, next(self._seq), c, party, ticket))
        return take

    def offer(self, party: Party, now: float) -> bool:
        """`enrol` for one party (returns whether it was enrolled)."""
        row = Batch.of_parties([(now, party)])
        return bool(self.enrol(int(now), row)[0])

    def tick(self, day: int) -> Returned:
        """The day's crossings and give-ups (drawn at enrolment), then its hearings."""
        self.enrolled_today = 0
        out = Returned()
        rec = self.ctx.rec
        while self.leaving and self.leaving[0][0] < day + 1:
            t, _, crosses, party, ticket = heapq.heappop(self.leaving)
            if party.waiting is not ticket:
                continue
            party.waiting = None
            if crosses:
                rec.add(day, self._crossed, party.cell, party.size)
                party.at_port = False
                out.crossed.append((max(t, float(day)), party))
            else:
                rec.add(day, self._gave_up, party.cell, party.size)
                self.ctx.move(party, GAVE_UP)
                out.home.append((float(day), party, GAVE_UP))
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
                out.home.append((float(day), head, REMOVED))
        if not self.queue:
            self.credit = min(self.credit, self.hearings)
        return out
