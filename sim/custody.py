"""US custody at the border: who is held, for how long, and how many past 72 hours.

People are tracked in cohorts by arrival day, so the number held past 72 hours at the end
of each day is exact (arrival on day a, still held at the end of day d: held > 72 h iff
a <= d - 3) and costs O(1) per day.
"""

from __future__ import annotations

from sim.context import Context
from sim.domain import STATE_INDEX
from sim.party import Party
from sim.recorder import N_CELLS

IN_CUSTODY = STATE_INDEX["in_custody"]


class Custody:
    def __init__(self, ctx: Context, holding_capacity: float) -> None:
        self.ctx = ctx
        self.capacity = holding_capacity
        self.occupancy = 0
        self._cohorts = [[0] * N_CELLS for _ in range(ctx.cal.days + 1)]
        self.over72 = [0] * N_CELLS
        self._counted_through = -1  # last arrival day already added to over72
        rec = ctx.rec
        self._custody_days = rec.index("custody_days")
        self._exits_over72 = rec.index("custody_exits_over_72h")

    @property
    def overcrowded(self) -> bool:
        return self.occupancy > self.capacity

    def enter(self, party: Party, now: float) -> None:
        day = int(now)
        party.t_arrival = now
        party.arrival_day = day
        self._cohorts[day][party.cell] += party.size
        self.occupancy += party.size
        self.ctx.move(party, IN_CUSTODY)

    def leave(self, party: Party, dst: int, now: float) -> None:
        day = int(now)
        size, cell = party.size, party.cell
        held = now - party.t_arrival
        rec = self.ctx.rec
        rec.add(day, self._custody_days, cell, held * size)
        if held > 3.0:
            rec.add(day, self._exits_over72, cell, size)
        a = party.arrival_day
        self._cohorts[a][cell] -= size
        if a <= self._counted_through:
            self.over72[cell] -= size
        self.occupancy -= size
        self.ctx.move(party, dst)

    def end_of_day(self, day: int) -> None:
        """Advance the 72-hour threshold to the end of `day`."""
        while self._counted_through < day - 3:
            self._counted_through += 1
            if self._counted_through >= 0:
                cohort = self._cohorts[self._counted_through]
                for c in range(N_CELLS):
                    self.over72[c] += cohort[c]
