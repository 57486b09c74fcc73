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
from sim.domain import GROUP_INDEX, NAT_INDEX, STATE_INDEX
from sim.journey import DayBuckets
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
    """What a day of waiting in Mexico produced: parties crossing between ports (`t`: the
    time they cross) and parties home (`t`: the day), with the state each went home in
    (for their re-attempts): those who gave up, then those removed after a hearing."""

    crossed: Batch
    home: Batch
    home_state: np.ndarray


class RemainInMexico:
    """Enrolled parties are rows of a struct of arrays, in enrolment order, which is the
    hearing queue's (FIFO) order; a flag says who is still waiting. Each party's leaving
    time (giving up or crossing, whichever comes first) is drawn at enrolment and its row
    filed under the day it is acted on. A day's hearings serve the longest run of waiting
    parties, from the queue's head, whose persons fit the day's credit: one cumulative sum."""

    _COLUMNS = ("nat", "grp", "size", "transited", "sought", "port", "t_in", "t_leave")

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
        # the enrolled, in enrolment order (grown by doubling): columns, whether each
        # crosses (else gives up) at `t_leave`, and whether it is still waiting
        self.n = 0
        self._cols = {c: np.empty(0, dtype=_dtype(c)) for c in self._COLUMNS}
        self._crosses = np.empty(0, dtype=bool)
        self._waiting = np.empty(0, dtype=bool)
        self.head = 0  # no one before this row is still waiting
        # rows (as floats: exact) by the day their leaving is acted on, in enrolment order
        self._leaving = DayBuckets()
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
        return int(np.count_nonzero(self._waiting[self.head : self.n]))

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
        rows = self._append(batch.take(take), t + np.minimum(t_give, t_cross), t_cross < t_give)
        # acted on at the tick of the day it falls in, never before tomorrow's
        due = np.maximum(self._cols["t_leave"][rows].astype(np.int64), day + 1)
        self._leaving.add(due, rows)
        return take

    def _append(self, b: Batch, t_leave: np.ndarray, crosses: np.ndarray) -> np.ndarray:
        """New rows for the enrolled batch `b`; returns their indices."""
        k, n = len(b), self.n
        if n + k > len(self._waiting):
            cap = max(n + k, 2 * len(self._waiting), 1024)
            for c, old in self._cols.items():
                self._cols[c] = _grown(old, n, cap)
            self._crosses = _grown(self._crosses, n, cap)
            self._waiting = _grown(self._waiting, n, cap)
        sl = slice(n, n + k)
        cols = self._cols
        for c in self._COLUMNS[:-1]:
            cols[c][sl] = getattr(b, c)
        cols["t_leave"][sl] = t_leave
        self._crosses[sl] = crosses
        self._waiting[sl] = True
        self.n = n + k
        return np.arange(n, n + k)

    def offer(self, party: Party, now: float) -> bool:
        """`enrol` for one party (returns whether it was enrolled)."""
        row = Batch.of_parties([(now, party)])
        return bool(self.enrol(int(now), row)[0])

    def tick(self, day: int) -> Returned:
        """The day's crossings and give-ups (drawn at enrolment), in order of time (then of
        enrolment), then its hearings."""
        self.enrolled_today = 0
        rec = self.ctx.rec
        cols = self._cols
        leaving = self._leaving.pop(day)
        crossed = gave_up = _NONE
        if leaving is not None:
            rows = leaving[:, 0].astype(np.int64)
            rows = rows[self._waiting[rows]]
            if len(rows) > 1:
                rows = rows[np.argsort(cols["t_leave"][rows], kind="stable")]
            self._waiting[rows] = False
            c = self._crosses[rows]
            crossed, gave_up = rows[c], rows[~c]
        if len(crossed):
            rec.add_cells(day, self._crossed, self._persons(crossed))
        if len(gave_up):
            rec.add_cells(day, self._gave_up, self._persons(gave_up))
            rec.move_cells(MPP_WAITING, GAVE_UP, self._cell(gave_up), cols["size"][gave_up])
        heard = self._hearings()
        removed = heard
        if len(heard):
            granted = self.rs.uniforms(len(heard)) < self.cfg.grant_share
            released, removed = heard[granted], heard[~granted]
            for rows, metric, dst in (
                (released, self._h_released, RELEASED),
                (removed, self._h_removed, REMOVED),
            ):
                if len(rows):
                    rec.add_cells(day, metric, self._persons(rows))
                    rec.move_cells(MPP_WAITING, dst, self._cell(rows), cols["size"][rows])
        out = Batch.empty()
        if len(crossed):
            out = self._rows(crossed, np.maximum(cols["t_leave"][crossed], float(day)))
            out.port = np.zeros(len(crossed), dtype=bool)  # they cross between ports
        if not len(gave_up) and not len(removed):
            return Returned(out, Batch.empty(), _NONE)
        home = np.concatenate([gave_up, removed])
        states = np.full(len(home), REMOVED)
        states[: len(gave_up)] = GAVE_UP
        return Returned(out, self._rows(home, np.full(len(home), float(day))), states)

    def _hearings(self) -> np.ndarray:
        """The day's hearings: from the head of the queue, the waiting parties (in order)
        while their persons fit the credit (a party that does not fit waits, and so does
        everyone behind it), as the one-at-a-time rule with whole persons would; the same
        floats, as subtracting whole numbers from the credit is exact. Returns their rows."""
        credit = self.credit + self.hearings
        h, n = self.head, self.n
        size = self._cols["size"]
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

    def _cell(self, rows: np.ndarray) -> np.ndarray:
        return self._cols["nat"][rows] * 3 + self._cols["grp"][rows]

    def _persons(self, rows: np.ndarray) -> np.ndarray:
        return np.bincount(self._cell(rows), self._cols["size"][rows], N_CELLS)

    def _rows(self, rows: np.ndarray, t: np.ndarray) -> Batch:
        c = self._cols
        return Batch._of(
            c["nat"][rows],
            c["grp"][rows],
            c["size"][rows],
            c["transited"][rows],
            c["sought"][rows],
            c["port"][rows],
            c["t_in"][rows],
            t,
        )


_NONE = np.empty(0, dtype=np.int64)


def _dtype(column: str) -> type:
    """A column's type, as in `Batch`."""
    return {"port": np.bool_, "t_in": np.float64, "t_leave": np.float64}.get(column, np.int64)


def _grown(a: np.ndarray, n: int, cap: int) -> np.ndarray:
    out = np.empty(cap, dtype=a.dtype)
    out[:n] = a[:n]
    return out
