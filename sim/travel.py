"""Departures and journeys: who sets out each day, and where and when each journey ends.

A stage at the head of the pipeline. Each day it draws the day's parties (Poisson counts
per nationality x group from the undeterred intensity, thinned or topped up by the
deterrence multiplier), adds the re-attempts due that day, plans every journey at once
(`sim.journey.JourneyPlanner`) and files each party under the day its journey ends. On
that day it hands on the parties reaching the border (`arrivals`) and those stopped in
Mexico or settling in a transit country (`journeys_end`). Counts go to the recorder.
"""

from __future__ import annotations

import numpy as np

from sim.calendar import SimCalendar
from sim.departures import party_intensity
from sim.domain import FAMILY, GROUPS, NATIONALITIES, STATE_INDEX
from sim.journey import ARRIVE, PROTECTION, STOPPED, DayBuckets, JourneyPlanner
from sim.party import Batch
from sim.recorder import N_CELLS, Recorder
from sim.rng import stream
from sim.scenario.schema import Scenario

IN_TRANSIT = STATE_INDEX["in_transit"]
STOPPED_MX, PROTECTED = STATE_INDEX["home_after_stop"], STATE_INDEX["settled_en_route"]
_N_NAT, _N_GRP = len(NATIONALITIES), len(GROUPS)
_CELL_NAT = np.repeat(np.arange(_N_NAT), _N_GRP)
_CELL_GRP = np.tile(np.arange(_N_GRP), _N_NAT)


class Travel:
    def __init__(
        self, scenario: Scenario, cal: SimCalendar, rec: Recorder, replication: int
    ) -> None:
        sc = scenario
        self.days = cal.days
        self.rec = rec
        self.lam = party_intensity(sc.departures, cal, sc.scale).reshape(cal.days, N_CELLS)
        self.family_extra = sc.departures.family_extra_members
        self.port_share = np.array(
            [sc.border.port_of_entry_share.get(n, 0.0) for n in NATIONALITIES]
        )
        self.journey = JourneyPlanner(sc, cal)
        self.g_count = stream(sc.seed, "departures", replication)
        self.g_party = stream(sc.seed, "parties", replication)
        self.g_extra = stream(sc.seed, "departures_extra", replication)
        self.g_journey = stream(sc.seed, "journey", replication)
        self.g_retry = stream(sc.seed, "journey_retry", replication)
        # parties in transit, by the day their journey ends: arrivals at the border
        # (time, nat, group, size, transited, sought, at_port) and stops or settling on the
        # way (kind, nat, group, size)
        self._arrivals = DayBuckets()
        self._ends = DayBuckets()
        self._launched: list[tuple[np.ndarray, ...]] = []  # today's batches, until filed
        self._ix = {
            m: rec.index(m)
            for m in (
                "departures",
                "first_departures",
                "reattempts",
                "deterred",
                "sought_protection",
                "stopped_in_mexico",
                "protection_en_route",
            )
        }

    @property
    def expected_parties(self) -> float:
        """Parties expected to set out over the run (undeterred): a bound on the border's
        load, for choosing the lanes' kernel."""
        return float(self.lam.sum())

    def depart(self, day: int, mult: np.ndarray, again: np.ndarray | None) -> None:
        """The day's departures: fresh ones, thinned (or topped up) by the deterrence
        multiplier per cell, and the re-attempts `again` due today (rows of nationality,
        group, size, state left, origin)."""
        lam = self.lam[day]
        counts = self.g_count.poisson(lam)
        cells, nat, grp, t0, size, port, keep_u = self._draw(counts, day, self.g_party)
        out = self.journey.plan(t0, nat, nat, self.g_journey)
        keep = keep_u < mult[cells]
        dropped = np.bincount(cells[~keep], weights=size[~keep], minlength=N_CELLS)
        if np.any(mult > 1.0):  # perceived risk below the reference: extra departures
            extra = self.g_extra.poisson(lam * np.maximum(mult - 1.0, 0.0))
            e_cells, e_nat, e_grp, e_t0, e_size, e_port, _ = self._draw(extra, day, self.g_extra)
            e_out = self.journey.plan(e_t0, e_nat, e_nat, self.g_extra)
            self._launch(day, e_nat, e_grp, e_size, e_port, e_out, fresh=True)
        self._launch(day, nat[keep], grp[keep], size[keep], port[keep], out.take(keep), fresh=True)
        self.rec.add_cells(day, self._ix["deterred"], dropped)
        if again is not None:
            nat, grp, size, src, origin = again.T.astype(np.int64)
            t0 = day + self.g_retry.random(len(again))
            port = self.g_retry.random(len(again)) < self.port_share[nat]
            out = self.journey.plan(t0, nat, origin, self.g_retry)
            self.rec.move_cells(src, IN_TRANSIT, nat * 3 + grp, size)
            self._launch(day, nat, grp, size, port, out, fresh=False)
        self._file()

    def _draw(self, counts: np.ndarray, day: int, gen: np.random.Generator):
        total = int(counts.sum())
        cells = np.repeat(np.arange(N_CELLS), counts)
        nat, grp = _CELL_NAT[cells], _CELL_GRP[cells]
        t0 = day + gen.random(total)
        size = np.where(grp == FAMILY, 2 + gen.poisson(self.family_extra, total), 1)
        port = gen.random(total) < self.port_share[nat]
        keep_u = gen.random(total)
        return cells, nat, grp, t0, size, port, keep_u

    def _launch(self, day, nat, grp, size, port, out, fresh: bool) -> None:
        """Count a batch of departures; it is filed with the day's others (`_file`)."""
        rec, ix = self.rec, self._ix
        cells = nat * 3 + grp
        people = np.bincount(cells, weights=size, minlength=N_CELLS)
        rec.add_cells(day, ix["departures"], people)
        rec.add_cells(day, ix["first_departures" if fresh else "reattempts"], people)
        if fresh:
            rec.enter_cells(IN_TRANSIT, people)
        sought = out.sought != 0
        rec.add_cells(
            day, ix["sought_protection"], np.bincount(cells[sought], size[sought], N_CELLS)
        )
        self._launched.append((out.kind, out.time, nat, grp, size, out.transited, out.sought, port))

    def _file(self) -> None:
        """File the day's departures (all batches at once) under the day their journeys end."""
        if not self._launched:
            return
        columns = (np.concatenate(c) for c in zip(*self._launched, strict=True))
        kind, time, nat, grp, size, transited, sought, port = columns
        self._launched.clear()
        end_day = time.astype(np.int64)  # journeys take time: never before departure
        due = end_day < self.days
        a = due & (kind == ARRIVE)
        self._arrivals.add(
            end_day[a], time[a], nat[a], grp[a], size[a], transited[a], sought[a], port[a]
        )
        ended = due & (kind != ARRIVE)
        self._ends.add(end_day[ended], kind[ended], nat[ended], grp[ended], size[ended])

    def journeys_end(self, day: int, count_stop_as_consequence: bool, consequences: int):
        """Parties stopped in Mexico or settling in a transit country today (recorded);
        returns the stopped ones as (nationality, group, size), or None."""
        rows = self._ends.pop(day)
        if rows is None:
            return None
        kind, nat, grp, size = rows.T.astype(np.int64)
        cells = nat * 3 + grp
        rec, ix = self.rec, self._ix
        settle = kind == PROTECTION
        if settle.any():
            rec.move_cells(IN_TRANSIT, PROTECTED, cells[settle], size[settle])
            people = np.bincount(cells[settle], size[settle], N_CELLS)
            rec.add_cells(day, ix["protection_en_route"], people)
        stop = kind == STOPPED
        if not stop.any():
            return None
        rec.move_cells(IN_TRANSIT, STOPPED_MX, cells[stop], size[stop])
        people = np.bincount(cells[stop], size[stop], N_CELLS)
        rec.add_cells(day, ix["stopped_in_mexico"], people)
        if count_stop_as_consequence:
            rec.add_cells(day, consequences, people)
        return nat[stop], grp[stop], size[stop]

    def arrivals(self, day: int) -> Batch:
        """Parties whose journey ends at the border today (unsorted)."""
        rows = self._arrivals.pop(day)
        if rows is None:
            return Batch.empty()
        t, nat, grp, size, transited, sought, port = rows.T
        return Batch(nat, grp, size, transited, sought, port != 0, t, t)
