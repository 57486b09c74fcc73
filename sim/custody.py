"""US custody at the border: who is held, for how long, and how many past 72 hours.

People are tracked in cohorts by arrival day, so the number held past 72 hours at the end
of each day is exact (arrival on day a, still held at the end of day d: held > 72 h iff
a <= d - 3) and costs O(1) per day.

Speed: an entry or exit costs a few Python operations. The only quantity needed at every
instant is the occupancy (it decides whether custody is overcrowded when a detention is
considered); everything else (person-days held, exits past 72 hours, cohorts, the state
ledger) is needed only at the end of the day, so exits are logged as tuples and totalled
with numpy once a day. The day's entries are all known at the start of the day (see
`sim.model`), so they are added to the occupancy by their times with a binary search
instead of one event each.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from heapq import heappop, heappush
from itertools import chain

import numpy as np

from sim.context import Context
from sim.domain import STATE_INDEX
from sim.party import Party
from sim.recorder import N_CELLS

IN_CUSTODY = STATE_INDEX["in_custody"]


class Custody:
    def __init__(self, ctx: Context, holding_capacity: float) -> None:
        self.ctx = ctx
        self.capacity = holding_capacity
        # persons in custody, not counting today's entries (see `expect`) nor exits
        # scheduled ahead (see `leave_at`) whose time has not been reached when last looked
        self.occupancy = 0
        self._due_t: list[float] = []  # today's entry times, sorted
        self._due_cum: list[int] = [0]  # persons entered up to each of them
        self._leaving: list[tuple[float, int]] = []  # (time, persons) of exits ahead
        self._cohorts = np.zeros((ctx.cal.days + 1, N_CELLS))
        self.over72 = np.zeros(N_CELLS)
        self._counted_through = -1  # last arrival day already added to over72
        # exits by day: (cell, persons, arrival time, arrival day, exit time, state after)
        self._exits: defaultdict[int, list[tuple]] = defaultdict(list)
        rec = ctx.rec
        self._custody_days = rec.index("custody_days")
        self._exits_over72 = rec.index("custody_exits_over_72h")

    # -- entries --------------------------------------------------------------------------
    def enter(self, party: Party, now: float) -> None:
        """One party taken into custody at `now` (counted in the occupancy via `expect`)."""
        day = int(now)
        party.t_arrival = now
        party.arrival_day = day
        self._cohorts[day, party.cell] += party.size
        self.ctx.move(party, IN_CUSTODY)

    def enter_batch(self, day: int, cells: np.ndarray, sizes: np.ndarray) -> None:
        """Parties arriving from their journey on `day` (their Party objects are built
        with arrival time and state already set); cohorts and the ledger in one go."""
        people = np.bincount(cells, weights=sizes, minlength=N_CELLS)
        self._cohorts[day] += people
        self.ctx.rec.move_cells(STATE_INDEX["in_transit"], IN_CUSTODY, cells, sizes)

    def expect(self, times: np.ndarray, sizes: np.ndarray) -> None:
        """Today's entries (times sorted): the occupancy rises by `sizes` at `times`."""
        self.occupancy += self._due_cum[-1]  # yesterday's entries have all arrived
        self._due_t = times.tolist()
        self._due_cum = [0, *np.cumsum(sizes).tolist()]

    def held(self, now: float) -> int:
        """Persons in custody at `now`."""
        leaving = self._leaving
        while leaving and leaving[0][0] <= now:
            self.occupancy -= heappop(leaving)[1]
        return self.occupancy + self._due_cum[bisect_right(self._due_t, now)]

    def overcrowded(self, now: float) -> bool:
        return self.held(now) > self.capacity

    # -- exits ----------------------------------------------------------------------------
    def leave(self, party: Party, dst: int, now: float) -> None:
        """The party leaves custody now, for state `dst`."""
        self.occupancy -= party.size
        party.state = dst
        self._exits[int(now)].append(
            (party.cell, party.size, party.t_arrival, party.arrival_day, now, dst)
        )

    def leave_at(self, party: Party, dst: int, t: float) -> None:
        """The party will leave custody at time `t` (>= now), for state `dst`: a fixed delay
        known now (children handed to HHS) needs no event of its own."""
        heappush(self._leaving, (t, party.size))
        party.state = dst
        self._exits[int(t)].append(
            (party.cell, party.size, party.t_arrival, party.arrival_day, t, dst)
        )

    def end_of_day(self, day: int) -> np.ndarray | None:
        """Total the day's exits, advance the 72-hour threshold to the end of `day`, and
        return the exits as columns (cell, persons, exit time, state after), or None."""
        rows = self._exits.pop(day, None)
        out = None
        if rows:
            flat = np.fromiter(chain.from_iterable(rows), float, 6 * len(rows))
            cell, size, t_in, day_in, t_out, dst = flat.reshape(-1, 6).T
            cell, day_in, dst = cell.astype(np.int64), day_in.astype(np.int64), dst.astype(np.int64)
            rec = self.ctx.rec
            held = t_out - t_in
            rec.add_cells(day, self._custody_days, np.bincount(cell, held * size, N_CELLS))
            late = held > 3.0
            rec.add_cells(day, self._exits_over72, np.bincount(cell[late], size[late], N_CELLS))
            np.subtract.at(self._cohorts, (day_in, cell), size)
            # left after being counted in over72 (the threshold only moves below, so this
            # is the threshold in force when each of them left)
            old = day_in <= self._counted_through
            self.over72 -= np.bincount(cell[old], size[old], N_CELLS)
            rec.move_cells(IN_CUSTODY, dst, cell, size)
            out = np.stack([cell, size, t_out, dst])
        while self._counted_through < day - 3:
            self._counted_through += 1
            if self._counted_through >= 0:
                self.over72 += self._cohorts[self._counted_through]
        return out
