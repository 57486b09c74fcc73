"""Metering at ports of entry: a daily intake limit and waiting lists in Mexican border cities.

Parties presenting at a port join a FIFO list; each day the port admits up to its intake
(persons) into custody. Waiting parties give up after an exponential time: some cross
between ports instead, the rest go home.

A stage: `join` takes a batch of parties presenting at ports; `tick` returns who was
admitted, who crossed between ports and who went home that day, for the model to route.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.context import Context
from sim.domain import STATE_INDEX
from sim.party import Batch
from sim.recorder import N_CELLS
from sim.rng import stream
from sim.scenario.schema import Metering

WAITLIST = STATE_INDEX["metering_waitlist"]
GAVE_UP = STATE_INDEX["home_gave_up"]
_COLUMNS = ("nat", "grp", "size", "transited", "sought", "t_in", "leave")


@dataclass
class Released:
    """What a day of metering produced, as batches with the time `t` of each: parties
    admitted at the port, parties crossing between ports, and parties gone home."""

    admitted: Batch
    crossed: Batch
    home: Batch


class PortMetering:
    """The waiting list as columns in the order parties joined (a FIFO): `head` is the
    first still waiting; those who left are marked, not removed."""

    def __init__(self, ctx: Context, cfg: Metering) -> None:
        self.ctx, self.cfg = ctx, cfg
        self.start_day = ctx.cal.day(cfg.start) if cfg.start is not None else None
        self.intake = cfg.daily_intake * ctx.scale
        self.credit = 0.0
        self._cols = {c: np.empty(0) for c in _COLUMNS}
        self._waiting = np.empty(0, dtype=bool)
        self.n = self.head = 0
        self.g = stream(ctx.seed, "metering_join", ctx.replication)
        self.g_leave = stream(ctx.seed, "metering", ctx.replication)
        rec = ctx.rec
        self._joined = rec.index("metering_joined")
        self._m_gave_up = rec.index("metering_gave_up")
        self._m_crossed = rec.index("metering_crossed")

    def active(self, day: int) -> bool:
        return self.start_day is not None and day >= self.start_day

    @property
    def waiting(self) -> int:
        """Parties on the list."""
        return int(self._waiting[self.head : self.n].sum())

    def join(self, day: int, batch: Batch) -> None:
        """Parties presenting at a port on `day` (in time order) join the waiting list;
        each will give up after an exponential time unless admitted before."""
        k = len(batch)
        if not k:
            return
        cell = batch.cell
        rec = self.ctx.rec
        rec.add_cells(day, self._joined, np.bincount(cell, batch.size, N_CELLS))
        rec.move_cells(STATE_INDEX["in_transit"], WAITLIST, cell, batch.size)
        leave = batch.t + self.g.standard_exponential(k) * self.cfg.give_up_days
        if self.n + k > len(self._waiting):
            self._compact(k)
        sl = slice(self.n, self.n + k)
        new = dict(
            zip(
                _COLUMNS[:5],
                (batch.nat, batch.grp, batch.size, batch.transited, batch.sought),
                strict=True,
            )
        )
        new["t_in"], new["leave"] = batch.t, leave
        for c, v in new.items():
            self._cols[c][sl] = v
        self._waiting[sl] = True
        self.n += k

    def _compact(self, k: int) -> None:
        """Drop the rows before `head` and make room for `k` more."""
        live = slice(self.head, self.n)
        size = max(2 * (self.n - self.head + k), 1024)
        for c, old in self._cols.items():
            new = np.empty(size)
            new[: self.n - self.head] = old[live]
            self._cols[c] = new
        waiting = np.zeros(size, dtype=bool)
        waiting[: self.n - self.head] = self._waiting[live]
        self._waiting = waiting
        self.n -= self.head
        self.head = 0

    def _rows(self, idx: np.ndarray, t: np.ndarray) -> Batch:
        if not len(idx):
            return Batch.empty()
        c = self._cols
        return Batch(
            c["nat"][idx].astype(np.int64),
            c["grp"][idx].astype(np.int64),
            c["size"][idx].astype(np.int64),
            c["transited"][idx].astype(np.int64),
            c["sought"][idx].astype(np.int64),
            np.ones(len(idx), dtype=bool),
            c["t_in"][idx],
            t,
        )

    def tick(self, day: int) -> Released:
        """The day's give-ups (crossing between ports or going home), then its intake,
        first come first served in whole parties."""
        if self.head == self.n:  # nobody waiting: only the credit moves
            self.credit = min(self.credit + self.intake, self.intake)
            return Released(Batch.empty(), Batch.empty(), Batch.empty())
        rec = self.ctx.rec
        window = slice(self.head, self.n)
        waiting = self._waiting[window]
        leave = self._cols["leave"][window]
        gone = np.flatnonzero(waiting & (leave < day + 1.0)) + self.head
        gone = gone[np.argsort(self._cols["leave"][gone], kind="stable")]
        self._waiting[gone] = False
        crosses = self.g_leave.random(len(gone)) < self.cfg.cross_share
        crossed = self._rows(gone[crosses], np.maximum(self._cols["leave"][gone[crosses]], day))
        crossed.port = np.zeros(len(crossed), dtype=bool)  # between ports, not at one
        home = self._rows(gone[~crosses], np.full(int((~crosses).sum()), float(day)))
        rec.add_cells(day, self._m_crossed, np.bincount(crossed.cell, crossed.size, N_CELLS))
        rec.add_cells(day, self._m_gave_up, np.bincount(home.cell, home.size, N_CELLS))
        rec.move_cells(WAITLIST, GAVE_UP, home.cell, home.size)
        # the intake: the longest prefix of the list that fits in the credit
        self.credit += self.intake
        queue = np.flatnonzero(self._waiting[window]) + self.head
        # a party is at least one person, so no more parties than the credit's whole
        # persons fit: the sum need not go further along the list (the same sums)
        cum = np.cumsum(self._cols["size"][queue[: int(self.credit + 1e-9) + 1]])
        k = int(np.searchsorted(cum, self.credit + 1e-9, side="right"))
        admitted = queue[:k]
        if k:
            self.credit -= cum[k - 1]
            self._waiting[admitted] = False
        if k == len(queue):
            self.credit = min(self.credit, self.intake)
            self.head = self.n
        else:
            self.head = int(queue[k])
        return Released(self._rows(admitted, np.full(k, float(day))), crossed, home)
