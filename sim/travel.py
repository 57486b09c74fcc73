"""Departures and journeys: who sets out each day, and where and when each journey ends.

A stage at the head of the pipeline. Each day it takes the day's undeterred parties
(Poisson counts per nationality x group from the undeterred intensity), thins or tops
them up by the day's deterrence multiplier, adds the re-attempts due that day, and files
each party under the day its journey ends (`sim.journey.JourneyPlanner`). On that day it
hands on the parties reaching the border (`arrivals`) and those stopped in Mexico or
settling in a transit country (`journeys_end`). Counts go to the recorder.

The undeterred parties do not depend on anything the run does, so they are drawn and
their journeys planned `BLOCK` days at a time (a few dozen numpy calls for four weeks
instead of for each day), and thinned day by day with that day's multiplier: a party's
journey is the same whatever the deterrence, so runs differing in a lever share it.
Blocks are counted from the first simulated day and always drawn whole (the intensity
is defined past the end), so a run's parties do not depend on its end date.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.calendar import SimCalendar
from sim.daybuckets import day_buckets
from sim.departures import mean_party_size, party_intensity, port_share, sized_events
from sim.domain import COUNTRIES, FAMILY, GROUPS, NATIONALITIES, STATE_INDEX
from sim.journey import ARRIVE, PROTECTION, STOPPED, JourneyPlanner, Outcomes
from sim.party import Batch
from sim.recorder import N_CELLS, Recorder
from sim.rng import stream
from sim.scenario.schema import Scenario

IN_TRANSIT = STATE_INDEX["in_transit"]
STOPPED_MX, PROTECTED = STATE_INDEX["home_after_stop"], STATE_INDEX["settled_en_route"]
_N_NAT, _N_GRP = len(NATIONALITIES), len(GROUPS)
_CELL_NAT = np.repeat(np.arange(_N_NAT), _N_GRP)
_CELL_GRP = np.tile(np.arange(_N_GRP), _N_NAT)
_CELLS = np.arange(N_CELLS)
MEXICO = NATIONALITIES.index("mexico")
BLOCK = 28  # days of undeterred departures drawn and planned at once
# A journey as a row of two float64: its end time and a code holding the rest (the kind of
# end, at a port, nationality, group, transit and protection bitmasks, size) as one exact
# integer: rows are sorted and moved by the day-buckets every day, and 16 bytes a row move
# four times faster than the 64 of a column each (the same numbers either way).
_TIME, _CODE = 0, 1
_C = len(COUNTRIES)
_FIELDS = (("kind", 2), ("port", 1), ("nat", 3), ("grp", 2), ("transited", _C), ("sought", _C))


def _shifts() -> dict[str, int]:
    """Each field's lowest bit in the code."""
    out, bit = {}, 0
    for name, bits in _FIELDS:
        out[name], bit = bit, bit + bits
    return out


_SHIFT = _shifts()
_MASK = {f: (1 << b) - 1 for f, b in _FIELDS}
_SIZE_SHIFT = sum(b for _, b in _FIELDS)  # the size above the rest (< 2**(53 - 18))
assert len(NATIONALITIES) <= 1 << 3 and len(GROUPS) <= 1 << 2


class Travel:
    def __init__(
        self, scenario: Scenario, cal: SimCalendar, rec: Recorder, replication: int
    ) -> None:
        sc = scenario
        self.days = cal.days
        self.rec = rec
        padded = -(-cal.days // BLOCK) * BLOCK  # whole blocks, past the end if need be
        beyond = SimCalendar(cal.origin, cal.start, cal.origin + dt.timedelta(days=padded))
        self.lam = party_intensity(sc.departures, beyond, sc.scale).reshape(padded, N_CELLS)
        self._block: tuple | None = None  # (first day, offsets by day, columns, journeys)
        self.family_extra = sc.departures.family_extra_members
        self.port_share = np.array(
            [sc.border.port_of_entry_share.get(n, 0.0) for n in NATIONALITIES]
        )
        # per day and cell when a dated event sends its members to the ports (the caravans)
        by_day = port_share(sc.departures, beyond, self.port_share)
        self.port_by_day = None if by_day is None else by_day.reshape(padded, N_CELLS)
        # events of documented size (people who left, so no deterrence multiplier): their
        # expected parties a day per cell, and their members' share at the ports
        size = mean_party_size(sc.departures)[None, None, :]
        self.events = [
            (
                (persons / size * sc.scale).reshape(cal.days, N_CELLS),
                self.port_share
                if event.port_of_entry_share is None
                else np.full(len(NATIONALITIES), event.port_of_entry_share),
            )
            for event, persons in sized_events(sc.departures, cal)
        ]
        self.g_event = stream(sc.seed, "departures_event", replication)
        # the routes' response to Mexico's enforcement surge (a stream of its own)
        shift_from = sc.enforcement.port_shift_from()
        self.port_shift = sc.enforcement.port_shift
        self.port_shift_day = cal.days if shift_from is None else max(cal.day(shift_from), 0)
        self.g_port_shift = stream(sc.seed, "port_shift", replication)
        self.journey = JourneyPlanner(sc, cal)
        self.g_count = stream(sc.seed, "departures", replication)
        self.g_party = stream(sc.seed, "parties", replication)
        self.g_extra = stream(sc.seed, "departures_extra", replication)
        self.g_journey = stream(sc.seed, "journey", replication)
        self.g_retry = stream(sc.seed, "journey_retry", replication)
        # parties in transit, by the day their journey ends (arrivals at the border, stops
        # or settling on the way): rows of (kind, time, nat, group, size, transited,
        # sought, at_port), filed together (one sort and one split a day, not two) and
        # popped on that day (`_ending`) for `journeys_end` and `arrivals`
        self._journeys = day_buckets(2, cal.days)
        self._today: tuple[int, np.ndarray | None] = (-1, None)
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

    def use_kernels(self) -> None:
        """Plan and file journeys with the compiled kernels (`sim.kernels`: the same
        numbers), before the run."""
        self.journey.use_kernel()
        self._journeys = day_buckets(2, self.days, compiled=True)

    @property
    def expected_parties(self) -> float:
        """Parties expected to set out over the run (undeterred): a bound on the border's
        load, for choosing the lanes' kernel."""
        return float(self.lam[: self.days].sum())

    def depart(self, day: int, mult: np.ndarray, again: np.ndarray | None) -> None:
        """The day's departures: fresh ones, thinned (or topped up) by the deterrence
        multiplier per cell, and the re-attempts `again` due today (rows of nationality,
        group, size, state left, origin)."""
        lam = self.lam[day]
        cells, size, keep_u, rows = self._undeterred(day)
        keep = keep_u < mult[cells]
        dropped = np.bincount(cells[~keep], weights=size[~keep], minlength=N_CELLS)
        pieces = [rows.compress(keep, axis=0)]  # journeys (see `_rows`), fresh ones first
        self.rec.add_cells(day, self._ix["deterred"], dropped)
        for lam_event, share in self.events:
            if lam_event[day].any():
                pieces.append(self._event_rows(day, lam_event[day], share))
        # extra departures (perceived risk below the reference) and re-attempts: their
        # journeys planned together (one call for the day's few)
        batches = []
        if (mult > 1.0).any():
            extra = self.g_extra.poisson(lam * np.maximum(mult - 1.0, 0.0))
            if extra.any():  # (no party: the draws would take no number from the stream)
                _, e_nat, e_grp, e_t0, e_size, e_port, _ = self._draw(extra, day, self.g_extra)
                batches.append((e_nat, e_grp, e_size, e_port, e_t0, e_nat))
        fresh = sum(len(p) for p in pieces) + sum(len(b[0]) for b in batches)
        if again is not None:
            nat, grp, size, src, origin = again.T.astype(np.int64)
            t0 = day + self.g_retry.random(len(again))
            port = self.g_retry.random(len(again)) < self.port_share[nat]
            self.rec.move_cells(src, IN_TRANSIT, nat * 3 + grp, size)
            batches.append((nat, grp, size, port, t0, origin))
        if batches:
            nat, grp, size, port, t0, origin = (
                np.concatenate(c) if len(batches) > 1 else c[0] for c in zip(*batches, strict=True)
            )
            out = self.journey.plan(t0, nat, origin, self.g_retry)
            pieces.append(_rows(out, nat, grp, size, port))
        self._file(day, np.concatenate(pieces) if len(pieces) > 1 else pieces[0], fresh)

    def _event_rows(self, day: int, lam: np.ndarray, share: np.ndarray) -> np.ndarray:
        """The day's parties of an event of documented size (Poisson counts per cell) as
        journeys; its members present at ports with `share` (per nationality). Drawn from a
        stream of their own, so nothing else moves."""
        g = self.g_event
        _, nat, grp, t0, size, port, _ = self._draw(g.poisson(lam), day, g, share)
        return _rows(self.journey.plan(t0, nat, nat, g), nat, grp, size, port)

    def _undeterred(self, day: int):
        """The day's undeterred parties (cells, size, the uniform that thins them, and their
        journeys as rows, see `_rows`), from the block holding `day`."""
        first = day - day % BLOCK
        if self._block is None or self._block[0] != first:  # (drawn once a block)
            counts = self.g_count.poisson(self.lam[first : first + BLOCK])  # [day, cell]
            days = np.repeat(np.arange(first, first + BLOCK), counts.sum(axis=1))
            cells, nat, grp, t0, size, port, keep_u = self._draw(counts.ravel(), days, self.g_party)
            out = self.journey.plan(t0, nat, nat, self.g_journey)
            offsets = np.concatenate([[0], np.cumsum(counts.sum(axis=1))]).tolist()
            columns = (cells, size, keep_u, _rows(out, nat, grp, size, port))
            self._block = (first, offsets, columns)
        first, offsets, columns = self._block
        sl = slice(offsets[day - first], offsets[day - first + 1])
        return tuple(c[sl] for c in columns)

    def _draw(
        self, counts: np.ndarray, day, gen: np.random.Generator, share: np.ndarray | None = None
    ):
        """Parties from counts per cell (`counts` may cover several days, cells repeating;
        `day` is then the departure day of each party); at a port with `share` per
        nationality when given, else with the day's share of their cell."""
        total = int(counts.sum())
        cells = np.repeat(np.tile(_CELLS, len(counts) // N_CELLS), counts)
        nat, grp = _CELL_NAT[cells], _CELL_GRP[cells]
        t0 = day + gen.random(total)
        size = np.where(grp == FAMILY, 2 + gen.poisson(self.family_extra, total), 1)
        if share is not None:
            port = gen.random(total) < share[nat]
        elif self.port_by_day is None:
            port = gen.random(total) < self.port_share[nat]
        else:
            port = gen.random(total) < self.port_by_day[np.asarray(day, dtype=np.int64), cells]
        keep_u = gen.random(total)
        return cells, nat, grp, t0, size, port, keep_u

    def _file(self, day: int, rows: np.ndarray, fresh: int) -> None:
        """Count the day's departures (`rows`, the first `fresh` of them first departures;
        whole persons, so sums do not depend on the order of adding) and file them under
        the day their journeys end."""
        if not len(rows):
            return
        rec, ix = self.rec, self._ix
        code = rows[:, _CODE].astype(np.int64)
        cells = _field(code, "nat") * 3 + _field(code, "grp")
        size = (code >> _SIZE_SHIFT).astype(float)
        people = np.bincount(cells, weights=size, minlength=N_CELLS)
        first = np.bincount(cells[:fresh], weights=size[:fresh], minlength=N_CELLS)
        rec.add_cells(day, ix["departures"], people)
        rec.add_cells(day, ix["first_departures"], first)
        rec.add_cells(day, ix["reattempts"], people - first)
        rec.enter_cells(IN_TRANSIT, first)
        applied = _field(code, "sought") != 0
        rec.add_cells(
            day, ix["sought_protection"], np.bincount(cells[applied], size[applied], N_CELLS)
        )
        end_day = rows[:, _TIME].astype(np.int64)  # journeys take time: never before departure
        due = end_day < self.days
        if due.all():
            self._journeys.add_rows(end_day, rows)
        else:
            self._journeys.add_rows(end_day[due], rows.compress(due, axis=0))

    def _ending(self, day: int, arrive: bool) -> np.ndarray | None:
        """The rows of the journeys ending on `day` that arrive at the border (`arrive`),
        or that end on the way; each in filing order."""
        if self._today[0] != day:
            self._today = (day, self._journeys.pop(day))
        rows = self._today[1]
        if rows is None:
            return None
        kind = rows[:, _CODE].astype(np.int64) & _MASK["kind"]
        rows = rows.compress((kind == ARRIVE) == arrive, axis=0)  # (fast)
        return rows if len(rows) else None

    def journeys_end(self, day: int, count_stop_as_consequence: bool, consequences: int):
        """Parties stopped in Mexico or settling in a transit country today (recorded);
        returns the stopped ones as (nationality, group, size), or None."""
        rows = self._ending(day, arrive=False)
        if rows is None:
            return None
        code = rows[:, _CODE].astype(np.int64)
        kind, nat, grp = _field(code, "kind"), _field(code, "nat"), _field(code, "grp")
        size = code >> _SIZE_SHIFT
        rec, ix = self.rec, self._ix
        # persons by kind of end x cell, in one count
        people = np.bincount(kind * N_CELLS + nat * 3 + grp, size, 3 * N_CELLS)
        people = people.reshape(3, N_CELLS)
        if people[PROTECTION].any():
            rec.move_persons(IN_TRANSIT, PROTECTED, people[PROTECTION])
            rec.add_cells(day, ix["protection_en_route"], people[PROTECTION])
        stop = kind == STOPPED
        if not stop.any():
            return None
        people = people[STOPPED]
        rec.move_persons(IN_TRANSIT, STOPPED_MX, people)
        rec.add_cells(day, ix["stopped_in_mexico"], people)
        if count_stop_as_consequence:
            rec.add_cells(day, consequences, people)
        return nat[stop], grp[stop], size[stop]

    def arrivals(self, day: int) -> Batch:
        """Parties whose journey ends at the border today (unsorted)."""
        rows = self._ending(day, arrive=True)
        if rows is None:
            return Batch.empty()
        t = rows[:, _TIME]
        code = rows[:, _CODE].astype(np.int64)
        nat, grp, size = _field(code, "nat"), _field(code, "grp"), code >> _SIZE_SHIFT
        transited, sought = _field(code, "transited"), _field(code, "sought")
        at_port = _field(code, "port") != 0
        if day >= self.port_shift_day:  # from the surge: some who would cross go to a port
            may = (~at_port & (nat != MEXICO)).nonzero()[0]
            if len(may):
                at_port[may] = self.g_port_shift.random(len(may)) < self.port_shift
        return Batch(nat, grp, size, transited, sought, at_port, t, t)


def _rows(out: Outcomes, nat, grp, size, port) -> np.ndarray:
    """Journeys as rows (end time, code) [party, 2]."""
    code = np.asarray(size, dtype=np.int64) << _SIZE_SHIFT
    for name, column in (
        ("kind", out.kind),
        ("port", port),
        ("nat", nat),
        ("grp", grp),
        ("transited", out.transited),
        ("sought", out.sought),
    ):
        code |= np.asarray(column, dtype=np.int64) << _SHIFT[name]
    rows = np.empty((len(code), 2))
    rows[:, _TIME] = out.time
    rows[:, _CODE] = code
    return rows


def _field(code: np.ndarray, name: str) -> np.ndarray:
    """One field of journeys' codes (int64)."""
    return (code >> _SHIFT[name]) & _MASK[name]
