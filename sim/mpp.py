"""Remain in Mexico (MPP): eligible parties wait in Mexican border cities for US hearings.

Enrolment follows a dated schedule of shares (and an optional daily limit). The hearing
queue is FIFO with a daily capacity; while waiting, a party may give up and go home or
cross again between ports (competing exponential times drawn at enrolment).

A stage: `enrol` takes a batch of processed parties and says which it enrolled; `tick`
returns who crossed again and who went home that day, as batches, for the model to route
onward. No Python object per party: the enrolled are rows of arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.context import Context
from sim.daybuckets import day_buckets
from sim.domain import GROUP_INDEX, NAT_INDEX, STATE_INDEX
from sim.party import Batch, Party, PartyTable
from sim.recorder import N_CELLS
from sim.rng import stream
from sim.scenario.schema import MPP

MPP_WAITING = STATE_INDEX["mpp_waiting"]
GAVE_UP = STATE_INDEX["home_gave_up"]
REMOVED = STATE_INDEX["home_after_removal"]
RELEASED = STATE_INDEX["in_us_released"]


@dataclass
class Returned:
    """What a day of waiting in Mexico produced: parties crossing between ports (`t`: the
    time they cross) and parties home (`t`: the day), with the state each went home in
    (for their re-attempts): those who gave up, then those removed after a hearing."""

    crossed: Batch
    home: Batch
    home_state: np.ndarray


class RemainInMexico:
    """Enrolled parties are rows of a `PartyTable`, in enrolment order, which is the hearing
    queue's (FIFO) order; a flag says who is still waiting. Each party's leaving time
    (giving up or crossing, whichever comes first) is drawn at enrolment and filed, with
    its row and which it is, under the day it is acted on. A day's hearings serve the
    longest run of waiting parties, from the queue's head, whose persons fit the day's
    credit: one cumulative sum."""

    def __init__(self, ctx: Context, cfg: MPP) -> None:
        self.ctx, self.cfg = ctx, cfg
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
        self.parties = PartyTable(capacity=1024)  # the enrolled, in enrolment order
        # by row: still waiting in Mexico; when it leaves, and whether by crossing (else it
        # gives up), unless a hearing comes first (grown with the table)
        self._waiting = np.zeros(0, dtype=bool)
        self._t_leave = np.zeros(0)
        self._crosses = np.zeros(0, dtype=bool)
        self.head = 0  # no one before this row is still waiting
        # rows (as floats: exact) by the day their leaving is acted on
        self._leaving = day_buckets(1, ctx.cal.days, ctx.compiled)
        self.rs = ctx.rng("mpp")
        self.g = stream(ctx.seed, "mpp_enrolment", ctx.replication)
        rec = ctx.rec
        self._enrolled = rec.index("mpp_enrolled")
        self._gave_up = rec.index("mpp_gave_up")
        self._crossed = rec.index("mpp_crossed")
        self._h_removed = rec.index("mpp_hearing_removed")
        self._h_released = rec.index("mpp_hearing_released")

    @property
    def waiting(self) -> int:
        """Parties waiting in Mexico now."""
        return int(np.count_nonzero(self._waiting[self.head : self.parties.n]))

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
        rows = self.parties.append(batch.take(take))
        if self.parties.n > len(self._waiting):  # grown by doubling
            size = max(2 * len(self._waiting), self.parties.n, 1024)
            self._waiting, self._t_leave, self._crosses = (
                np.concatenate([a, np.zeros(size - len(a), dtype=a.dtype)])
                for a in (self._waiting, self._t_leave, self._crosses)
            )
        t_leave = t + np.minimum(t_give, t_cross)
        self._waiting[rows] = True
        self._t_leave[rows] = t_leave
        self._crosses[rows] = t_cross < t_give
        # acted on at the tick of the day it falls in, never before tomorrow's
        self._leaving.add(np.maximum(t_leave.astype(np.int64), day + 1), rows)
        return take

    def offer(self, party: Party, now: float) -> bool:
        """`enrol` for one party (returns whether it was enrolled)."""
        row = Batch.of_parties([(now, party)])
        return bool(self.enrol(int(now), row)[0])

    def tick(self, day: int) -> Returned:
        """The day's crossings and give-ups (drawn at enrolment), in order of time (then of
        enrolment), then its hearings."""
        self.enrolled_today = 0
        rec = self.ctx.rec
        crossed = gave_up = removed = _EMPTY
        leaving = self._leaving.pop(day)
        if leaving is not None:
            rows = leaving[:, 0].astype(np.int64)
            rows = rows[self._waiting[rows]]
            if len(rows) > 1:
                rows = rows[np.argsort(self._t_leave[rows], kind="stable")]
            self._waiting[rows] = False
            c = self._crosses[rows]
            if c.any():
                t = np.maximum(self._t_leave[rows[c]], float(day))
                crossed = self.parties.take(rows[c], t)
                crossed.port[:] = False  # they cross between ports
                rec.add_cells(day, self._crossed, _persons(crossed))
            if not c.all():
                gave_up = self._out(day, rows[~c], self._gave_up, GAVE_UP)
        heard = self._hearings()
        if len(heard):
            granted = self.rs.uniforms(len(heard)) < self.cfg.grant_share
            if granted.any():
                self._out(day, heard[granted], self._h_released, RELEASED)
            if not granted.all():
                removed = self._out(day, heard[~granted], self._h_removed, REMOVED)
        if not len(gave_up) and not len(removed):
            return Returned(crossed, _EMPTY, _NONE)
        home = Batch.concat([gave_up, removed])
        states = np.full(len(home), REMOVED)
        states[: len(gave_up)] = GAVE_UP
        return Returned(crossed, home, states)

    def _out(self, day: int, rows: np.ndarray, metric: int, dst: int) -> Batch:
        """Rows leaving MPP today for state `dst`, counted under `metric`."""
        b = self.parties.take(rows, np.full(len(rows), float(day)))
        self.ctx.rec.add_cells(day, metric, _persons(b))
        self.ctx.rec.move_cells(MPP_WAITING, dst, b.cell, b.size)
        return b

    def _hearings(self) -> np.ndarray:
        """The day's hearings: from the head of the queue, the waiting parties (in order)
        while their persons fit the credit (a party that does not fit waits, and so does
        everyone behind it), as the one-at-a-time rule with whole persons would; the same
        floats, as subtracting whole numbers from the credit is exact. Returns their rows."""
        credit = self.credit + self.hearings
        h, n = self.head, self.parties.n
        size = self.parties.column("size")
        served: list[np.ndarray] = []
        while h < n:
            w = min(n, h + max(256, 2 * int(credit) + 2))
            idx = h + self._waiting[h:w].nonzero()[0]
            if len(idx):
                persons = np.cumsum(size[idx])
                k = int(persons.searchsorted(credit, side="right"))  # persons <= credit
                if k:
                    served.append(idx[:k])
                    credit -= float(persons[k - 1])
                if k < len(idx):
                    h = int(idx[k])
                    break
            h = w
        self.head = h
        if h >= n:  # no one waits: unused credit does not accumulate
            credit = min(credit, self.hearings)
        self.credit = credit
        if not served:
            return _NONE
        rows = served[0] if len(served) == 1 else np.concatenate(served)
        self._waiting[rows] = False
        return rows


def _persons(b: Batch) -> np.ndarray:
    """Persons by cell."""
    return np.bincount(b.cell, b.size, N_CELLS)


_NONE = np.empty(0, dtype=np.int64)
_EMPTY = Batch.empty()  # (its columns are shared and never written)
