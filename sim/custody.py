"""US custody at the border: who is held, for how long, and how many past 72 hours.

People are tracked in cohorts by arrival day, so the number held past 72 hours at the end
of each day is exact (arrival on day a, still held at the end of day d: held > 72 h iff
a <= d - 3) and costs O(1) per day.

Entries and exits come in batches (columns, see `sim.party.Batch`): a day's entries are
all known at its start, and exits are filed under the day they happen, whole batches at a
time, then totalled with numpy at the end of that day (flows by outcome, person-days held,
exits past 72 hours, cohorts, the state ledger). The occupancy at any instant of a day,
which decides whether custody is overcrowded when a detention is considered, is the
occupancy at the start of the day plus the day's entries up to that instant minus the
exits filed before it: `held_at` computes it for a whole batch of instants at once.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from sim.context import Context
from sim.domain import STATE_INDEX
from sim.recorder import N_CELLS, N_STATES

IN_CUSTODY = STATE_INDEX["in_custody"]


class Custody:
    def __init__(self, ctx: Context, holding_capacity: float) -> None:
        self.ctx = ctx
        self.capacity = holding_capacity
        self.occupancy = 0.0  # persons in custody at the start of the current day
        self._day = -1
        self._in_t = np.empty(0)  # the current day's entry times (sorted) ...
        self._in_cum = np.zeros(1)  # ... and persons entered up to each of them
        self._cohorts = np.zeros((ctx.cal.days + 1, N_CELLS))
        self.over72 = np.zeros(N_CELLS)
        self._counted_through = -1  # last arrival day already added to over72
        # exits by day: batches of columns (cell, persons, time in, time out, state after)
        self._exits: defaultdict[int, list[tuple[np.ndarray, ...]]] = defaultdict(list)
        rec = ctx.rec
        self._custody_days = rec.index("custody_days")
        self._exits_over72 = rec.index("custody_exits_over_72h")

    # -- entries --------------------------------------------------------------------------
    def enter(self, day: int, times: np.ndarray, cells: np.ndarray, sizes: np.ndarray, src) -> None:
        """The day's entries (times sorted, all on `day`), from state(s) `src`."""
        self._day = day
        self._in_t = times
        self._in_cum = np.concatenate([[0.0], np.cumsum(sizes, dtype=float)])
        self._cohorts[day] += np.bincount(cells, weights=sizes, minlength=N_CELLS)
        self.ctx.rec.move_cells(src, IN_CUSTODY, cells, sizes)

    # -- exits ----------------------------------------------------------------------------
    def leave(self, cells, sizes, t_in, t_out, dst) -> None:
        """Parties leave custody at times `t_out` (>= now) for state(s) `dst`."""
        if not len(cells):
            return
        cells = np.asarray(cells, dtype=np.int64)
        t_out = np.asarray(t_out, dtype=float)
        if not isinstance(dst, np.ndarray):  # one state for all (cheaper than broadcast_to)
            dst = np.full(cells.shape, dst, dtype=np.int64)
        else:
            dst = np.asarray(dst, dtype=np.int64)
        cols = (cells, np.asarray(sizes, dtype=float), np.asarray(t_in, dtype=float), t_out, dst)
        day = t_out.astype(np.int64)
        if day[0] == day[-1] and (day == day[0]).all():
            self._exits[int(day[0])].append(cols)
            return
        for d in np.unique(day).tolist():
            m = day == d
            self._exits[d].append(tuple(c[m] for c in cols))

    def held_at(self, t: np.ndarray, more_t: np.ndarray, more_size: np.ndarray) -> np.ndarray:
        """Persons in custody at instants `t` of the current day, counting also the exits
        (`more_t`, sorted, `more_size`) not filed yet, each only strictly before `t`."""
        held = self.occupancy + self._in_cum[np.searchsorted(self._in_t, t, side="right")]
        filed = self._exits.get(self._day)
        if filed:
            ft = np.concatenate([b[3] for b in filed])
            order = np.argsort(ft, kind="stable")
            cum = np.concatenate([[0.0], np.cumsum(np.concatenate([b[1] for b in filed])[order])])
            held = held - cum[np.searchsorted(ft[order], t, side="right")]
        more = np.concatenate([[0.0], np.cumsum(more_size, dtype=float)])
        return held - more[np.searchsorted(more_t, t, side="left")]

    def end_of_day(self, day: int) -> tuple[np.ndarray, ...] | None:
        """Total the day's exits, advance the 72-hour threshold to the end of `day`, and
        return the exits as columns (cell, persons, exit time, state after) and their
        persons by state after and cell, or None."""
        batches = self._exits.pop(day, None)
        out = None
        gone = 0.0
        if batches:
            cell, size, t_in, t_out, dst = (np.concatenate(c) for c in zip(*batches, strict=True))
            day_in = t_in.astype(np.int64)
            rec = self.ctx.rec
            held = t_out - t_in
            rec.add_cells(day, self._custody_days, np.bincount(cell, held * size, N_CELLS))
            late = held > 3.0
            rec.add_cells(day, self._exits_over72, np.bincount(cell[late], size[late], N_CELLS))
            lo, hi = int(day_in.min()), int(day_in.max()) + 1
            left = np.bincount((day_in - lo) * N_CELLS + cell, size, (hi - lo) * N_CELLS)
            self._cohorts[lo:hi] -= left.reshape(hi - lo, N_CELLS)
            # left after being counted in over72 (the threshold only moves below, so this
            # is the threshold in force when each of them left)
            old = day_in <= self._counted_through
            self.over72 -= np.bincount(cell[old], size[old], N_CELLS)
            # persons by state after custody x cell: the ledger's move, and the flows
            persons = np.bincount(dst * N_CELLS + cell, size, N_STATES * N_CELLS)
            rec.leave_state(IN_CUSTODY, persons)
            out = (cell, size, t_out, dst, persons.reshape(N_STATES, N_CELLS))
            gone = float(size.sum())
        if day == self._day:
            self.occupancy += self._in_cum[-1]
        self.occupancy -= gone
        while self._counted_through < day - 3:
            self._counted_through += 1
            if self._counted_through >= 0:
                self.over72 += self._cohorts[self._counted_through]
        return out
