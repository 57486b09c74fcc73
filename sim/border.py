"""Border processing: parallel lanes serving a heap-ordered queue.

`simpy.PriorityResource` re-sorts its queue on every request; here the queue is a binary
heap keyed by (group rank, arrival time, sequence), and a completion is a bare SimPy event
(the party itself, see `sim.party`) whose callback starts the next party, so tens of
thousands can wait at no cost.

Every party taken into custody on a day is known at the start of that day (journeys are
computed when parties set out; crossings and port admissions are decided at the daily
tick), with its arrival time and its processing time. `open_day` uses that: as long as
no lane can be short before a party arrives, the party starts processing the moment it
arrives, so its completion is scheduled straight away and its arrival needs no event. The
check is exact: the number of busy lanes is followed through the day (lanes freed by the
completions already scheduled, taken by the day's arrivals in time order, freed again by
their own completions), and from the first arrival that would find every lane busy on,
arrivals are ordinary events that join the queue when it is full. The queue discipline,
arrival times and processing times are the same either way (an M/M/c check still holds).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from itertools import count

import numpy as np
from simpy.core import NORMAL

from sim.context import At, Context
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
        self._ends: list[float] = []  # completion times of the parties started, pruned daily
        self.mean_days = np.array([getattr(cfg.processing_hours, g) / 24.0 for g in GROUPS])
        if cfg.priority == "fifo":
            self.rank = [0, 0, 0]
        else:
            self.rank = [cfg.priority.index(g) for g in GROUPS]
        self.on_processed = on_processed
        self._events, self._eid = ctx.env._queue, ctx.env._eid  # SimPy's heap (see `_begin`)
        self._wait = ctx.rec.index("queue_wait_days")
        self.fast_admitted = 0  # parties whose arrival needed no event (for benchmarks)

    @property
    def queue_length(self) -> int:
        return len(self.queue)

    def open_day(
        self, day: int, times: np.ndarray, service: np.ndarray, parties: list[Party]
    ) -> None:
        """Take in the day's parties: arrival times sorted, processing times drawn."""
        n = len(parties)
        k = self._free_prefix(day, times, service)
        self.fast_admitted += k
        self.busy += k
        # the first k start on arrival: `_begin` for each, inlined
        ends = (times[:k] + service[:k]).tolist()
        self._ends += ends
        events, eid, push, done = self._events, self._eid, heapq.heappush, self._done
        for i in range(k):
            party = parties[i]
            party.callbacks = [done]
            push(events, (ends[i], NORMAL, next(eid), party))
        # the rest arrive as events
        at, arrive = times.tolist(), self._arrive
        for i in range(k, n):
            push(events, (at[i], NORMAL, next(eid), At(arrive, parties[i])))

    def _free_prefix(self, day: int, times: np.ndarray, service: np.ndarray) -> int:
        """How many of the day's arrivals (in time order) will find a free lane for sure."""
        ends = np.array(self._ends)
        ends = ends[ends > day]  # still being processed
        self._ends = ends.tolist()
        n = len(times)
        if self.queue:
            return 0
        if self.busy + n <= self.lanes:
            return n
        horizon = day + 1.0
        own = times + service
        at = np.concatenate([times, ends[ends < horizon], own[own < horizon]])
        step = np.concatenate([np.ones(n), -np.ones(len(at) - n)])
        order = np.argsort(at, kind="stable")  # an arrival before a completion at a tie
        busy = self.busy + np.cumsum(step[order])
        over = np.flatnonzero(busy > self.lanes)
        if not len(over):
            return n
        return int(np.count_nonzero(order[: over[0]] < n))

    def _arrive(self, ev: At) -> None:
        """An arrival after the first that could find every lane busy."""
        self.admit(ev._value)

    def admit(self, party: Party) -> None:
        """The party joins the station now: processed at once if a lane is free."""
        if self.busy < self.lanes:
            self._begin(party, self.env._now)
        else:
            heapq.heappush(
                self.queue, (self.rank[party.group], party.t_arrival, next(self._seq), party)
            )

    def _begin(self, party: Party, now: float) -> None:
        """Processing starts: the party itself is the event of its end (see sim.party)."""
        self.busy += 1
        end = now + party.service
        self._ends.append(end)
        party.callbacks = [self._done]
        heapq.heappush(self._events, (end, NORMAL, next(self._eid), party))

    def _done(self, party: Party) -> None:
        self.busy -= 1
        now = self.env._now
        if self.queue:
            nxt = heapq.heappop(self.queue)[3]
            wait = now - nxt.t_arrival
            self.ctx.rec.add(int(now), self._wait, nxt.cell, wait * nxt.size)
            self._begin(nxt, now)
        self.on_processed(party, now)
