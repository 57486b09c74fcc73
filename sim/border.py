"""Border processing: parallel lanes serving a heap-ordered queue.

`simpy.PriorityResource` re-sorts its queue on every request; here the queue is a binary
heap keyed by (group rank, arrival time, sequence), and a completion is a bare SimPy
timeout whose callback starts the next party, so tens of thousands can wait at no cost.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from itertools import count

from simpy.events import Timeout

from sim.context import Context
from sim.domain import GROUPS
from sim.party import Party
from sim.scenario.schema import Border


class BorderStation:
    """An M/M/c-like station: `lanes` servers, exponential processing times by group."""

    def __init__(
        self, ctx: Context, cfg: Border, lanes: int, on_processed: Callable[[Party, float], None]
    ) -> None:
        self.ctx = ctx
        self.env = ctx.env
        self.lanes = lanes
        self.busy = 0
        self.queue: list[tuple[int, float, int, Party]] = []
        self._seq = count()
        self.mean_days = [getattr(cfg.processing_hours, g) / 24.0 for g in GROUPS]
        if cfg.priority == "fifo":
            self.rank = [0, 0, 0]
        else:
            self.rank = [cfg.priority.index(g) for g in GROUPS]
        self.on_processed = on_processed
        self.rs = ctx.rng("processing")
        self._wait = ctx.rec.index("queue_wait_days")

    @property
    def queue_length(self) -> int:
        return len(self.queue)

    def admit(self, party: Party) -> None:
        """A party taken into custody joins the processing queue."""
        if self.busy < self.lanes:
            self._start(party)
        else:
            heapq.heappush(
                self.queue, (self.rank[party.group], party.t_arrival, next(self._seq), party)
            )

    def _start(self, party: Party) -> None:
        env = self.env
        now = env.now
        wait = now - party.t_arrival
        if wait > 0.0:
            self.ctx.rec.add(int(now), self._wait, party.cell, wait * party.size)
        self.busy += 1
        ev = Timeout(env, self.rs.exponential() * self.mean_days[party.group], party)
        ev.callbacks.append(self._done)

    def _done(self, ev: Timeout) -> None:
        party: Party = ev._value
        self.busy -= 1
        if self.queue:
            self._start(heapq.heappop(self.queue)[3])
        self.on_processed(party, self.env.now)
