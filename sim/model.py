"""The model: wires the stages in order; SimPy drives time.

One long-lived daily process does the day, stage after stage, each stage a module that
takes a batch (numpy columns, `sim.party.Batch`) and returns its outcomes; no stage calls
back into the model:

    waiting lists' ticks (agreement desks, MPP, metering, receiving countries)
      -> departures (`sim.departures`, deterred by `sim.deterrence`)
      -> journeys (`sim.journey`: stops in Mexico, protection en route, border arrivals)
      -> border entries (metering's waiting list for some; walk-ins back from the lists)
      -> custody (`sim.custody`) -> processing lanes (`sim.border`, `sim.lanes`)
      -> children to HHS | agreements (`sim.agreements`) | MPP (`sim.mpp`)
         | the usual disposition (`sim.dispositions`) -> custody exits
      -> receiving countries (`sim.receiving`) -> re-attempts, filed as future departures

Why a full-scale run (about 2 million people) takes a few seconds:

- Parties in transit are rows of numpy arrays filed under the day their journey ends
  (`sim.daybuckets`); at the border they are rows of a struct of arrays (`PartyTable`).
  A Python object exists only for a party waiting on a list with a ticket.
- Each day's border entries are all known at the daily tick, so the lanes are played a
  day at a time by one call (`sim.lanes`: a compiled kernel for large runs, plain `heapq`
  for small ones, the same numbers), and the day's completions are disposed of as one
  batch: vectorised draws, with only the referred parties (few) looked at one by one for
  the agreements' weekly caps. The overcrowding check reads the occupancy at each
  instant from the day's entry and exit times (`Custody.held_at`).
- Custody exits are filed as batches and totalled once a day (flows by outcome,
  consequences, person-days held, re-attempts after removal): see `sim.custody`.
- Deterrence reads its daily inputs from the recorder's flows.
- Runs large enough to repay numba's load (`sim.kernels`) plan journeys, file parties
  by day and play the lanes with compiled twins of those stages, which compute the same
  numbers from the same random draws.
- The cyclic garbage collector is paused during a run (see `run`).

`benchmarks/bench_full_scale.py` (`make bench`) measures all this against a model written
the straightforward way, one SimPy process per person.
"""

from __future__ import annotations

import gc
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import simpy
from simpy.core import URGENT
from simpy.events import Event

from sim.agreements import AgreementDesk, refer
from sim.border import BorderStation
from sim.calendar import SimCalendar
from sim.context import Context
from sim.custody import Custody
from sim.deterrence import PerceivedRisk, recorded_outcomes
from sim.dispositions import DETAIN, RELEASE, REMOVE, DispositionRule
from sim.domain import GROUPS, NAT_INDEX, STATE_INDEX, UAC
from sim.kernels import numba_available, use_compiled
from sim.metering import PortMetering
from sim.mpp import RemainInMexico
from sim.party import Batch, Party
from sim.reattempts import Reattempts
from sim.receiving import ReceivingSystem
from sim.recorder import N_CELLS, Recorder
from sim.results import RunResult
from sim.rng import stream
from sim.scenario.schema import Scenario
from sim.travel import Travel

S = STATE_INDEX
IN_TRANSIT, STOPPED_MX, IN_CUSTODY = S["in_transit"], S["home_after_stop"], S["in_custody"]
REMOVED, RELEASED, DETAINED, HHS = (
    S["home_after_removal"],
    S["in_us_released"],
    S["in_detention"],
    S["in_hhs"],
)
IN_RECEIVING, MPP_WAITING = S["in_receiving_country"], S["mpp_waiting"]
WAITLIST, GAVE_UP = S["metering_waitlist"], S["home_gave_up"]
HOME_FROM_ABROAD = S["home_after_transfer"]
_OUTCOME_STATE = np.zeros(3, dtype=np.int64)  # disposition code -> state after custody
_OUTCOME_STATE[[REMOVE, RELEASE, DETAIN]] = (REMOVED, RELEASED, DETAINED)
# custody exits counted as flows when totalled at the end of the day (transfers and MPP
# enrolments are counted where they happen, per agreement or with their own metric)
_EXIT_FLOWS = (
    (REMOVED, "removed"),
    (RELEASED, "released"),
    (DETAINED, "detained"),
    (HHS, "hhs_referred"),
)
# the state a custody exit leads to, for each consequence deterrence may count
_CONSEQUENCE_STATE = {
    "removed": REMOVED,
    "detained": DETAINED,
    "mpp": MPP_WAITING,
    "transferred": IN_RECEIVING,
}

Progress = Callable[[int, int], None]


class Model:
    """One replication of one scenario. `Model(s).run()` returns a `RunResult`."""

    def __init__(
        self,
        scenario: Scenario,
        replication: int = 0,
        *,
        runs: int | None = None,
        compiled: bool | None = None,
    ) -> None:
        """`runs`: how many simulations this process will play in all (`migsim run`: 1; a
        batch worker: its share of the batch; None: many, or not known), so that the
        compiled kernels (journey planning and the processing lanes) are loaded only where
        those runs repay numba's load (`sim.kernels.use_compiled`); `compiled` decides it
        instead (for tests and benchmarks). The results are the same either way."""
        self.scenario = sc = scenario
        self.cal = cal = SimCalendar(scenario.origin, scenario.start, scenario.end)
        self.env = simpy.Environment()
        self.rec = rec = Recorder(cal.days, [a.name for a in sc.agreements])
        # the stages, in the order a party meets them
        self.travel = Travel(sc, cal, rec, replication)
        # the compiled kernels (the same numbers) where the runs this process will play
        # repay numba's load (`sim.kernels.use_compiled`)
        if compiled is None:
            compiled = use_compiled(self.travel.expected_parties, runs)
        self.compiled = compiled and numba_available()
        if self.compiled:
            self.travel.use_kernels()
        self.ctx = ctx = Context(
            self.env, cal, rec, sc.seed, replication, sc.scale, compiled=self.compiled
        )
        self.risk = PerceivedRisk(
            sc.deterrence, cal, recorded_outcomes(rec), sc.enforcement.announcements()
        )
        self.metering = PortMetering(ctx, sc.metering)
        self.metering_exempt = np.zeros(N_CELLS, dtype=bool)
        for key in sc.metering.exempt:
            nat_name, group_name = key.split(".")
            self.metering_exempt[NAT_INDEX[nat_name] * 3 + GROUPS.index(group_name)] = True
        self.custody = Custody(ctx, sc.border.holding_capacity * sc.scale)
        lanes = max(1, round(sc.border.processing_lanes * sc.scale))
        self.border = BorderStation(ctx, sc.border, lanes, self.travel.expected_parties)
        self.hhs_days = sc.border.hhs_hours / 24.0
        self.desks = [AgreementDesk(ctx, a, i + 1) for i, a in enumerate(sc.agreements)]
        # days on which some agreement is in force: elsewhere no desk is consulted at all
        self.agreements_on = [
            any(d.start_day <= day < d.end_day for d in self.desks) for day in range(cal.days)
        ]
        self.receiving = {
            c: ReceivingSystem(ctx, c, cfg, len(self.desks))
            for c, cfg in sc.receiving.items()
            if any(d.receiving_country == c for d in self.desks)
        }
        for desk in self.desks:  # the cap rules read the receiving system's state
            desk.receiving = self.receiving[desk.receiving_country]
            desk.apply_share = sc.receiving[desk.receiving_country].apply_share
        self.mpp = RemainInMexico(ctx, sc.mpp)
        self.rule = DispositionRule(sc, cal)
        self.g_disp = stream(sc.seed, "dispositions", replication)
        self.reattempts = Reattempts(sc, cal, replication, self.compiled)
        self.consequence_set = frozenset(sc.deterrence.consequences)
        self.consequence_states = [
            _CONSEQUENCE_STATE[c] for c in self.consequence_set if c in _CONSEQUENCE_STATE
        ]
        # parties taken into custody from a waiting list in Mexico, by day: (batch, state)
        self.walk_ins: defaultdict[int, list[tuple[Batch, int]]] = defaultdict(list)
        self._opened = -1  # last day whose border entries were handed to the station
        self._ix = {m: rec.index(m) for m in _METRICS}

    # ------------------------------------------------------------------ the day
    def _daily(self, progress: Progress | None):
        days = self.cal.days
        for day in range(days):
            if day > 0:
                self._end_of_day(day - 1)
            # waiting lists first: they decide who is taken into custody today
            fallbacks = self._desks_tick(day)
            returned = self.mpp.tick(day)
            self.walk_ins_batch(returned.crossed, MPP_WAITING)
            home = returned.home
            self.reattempts.home_batch(
                home.nat, home.grp, home.size, returned.home_state, home.t, day
            )
            released = self.metering.tick(day)
            self.walk_ins_batch(released.admitted, WAITLIST)
            self.walk_ins_batch(released.crossed, WAITLIST)
            gone = released.home
            self.reattempts.after(GAVE_UP, gone.nat, gone.grp, gone.size, gone.nat, gone.t, day)
            for system in self.receiving.values():
                system.tick(day)
            # then the day's pipeline: departures -> journeys -> border -> dispositions
            self.travel.depart(day, self.risk.update(day), self.reattempts.due(day))
            stopped = self.travel.journeys_end(
                day, "stopped_in_mexico" in self.consequence_set, self._ix["consequences"]
            )
            if stopped is not None:
                nat, grp, size = stopped
                t = np.full(len(nat), float(day))
                self.reattempts.after(STOPPED_MX, nat, grp, size, nat, t, day)
            self._border_day(day, fallbacks)
            self._opened = day
            self._decisions_abroad(day)
            if progress is not None and day % 30 == 0:
                progress(day, days)
            yield self._next_day()

    def _next_day(self) -> Event:
        """A one-day timeout scheduled URGENT, so the daily tick (and its end-of-day snapshot)
        comes before every other event at the same instant; otherwise an event at exactly
        midnight could be counted in the next day's flows but in the previous day's stocks."""
        ev = Event(self.env)
        ev._ok, ev._value = True, None
        self.env.schedule(ev, URGENT, 1)
        return ev

    def _desks_tick(self, day: int) -> list[Party]:
        """The agreements' start of day: transfers from the waiting lists, and the parties
        whose wait ended (returned, for the day's border stages)."""
        fallbacks: list[Party] = []
        for desk in self.desks:
            transferred, fell_back = desk.tick(day)
            for party in transferred:
                self._transfer(party, desk, float(day))
            self._count_fallbacks(day, desk, fell_back)
            fallbacks += fell_back
        return fallbacks

    # ------------------------------------------------------------------ border
    def _border_day(self, day: int, fallbacks: list[Party]) -> None:
        """The day at the border, stage after stage: entries (journeys' ends, minus those
        joining a port's waiting list, plus walk-ins from waiting lists) -> custody ->
        processing lanes -> the day's completions -> children to HHS | agreements | MPP |
        the usual disposition -> custody exits. `fallbacks`: parties whose wait for a
        transfer ended at the desks' tick, back for MPP or the usual disposition now."""
        entries = self._entries(day)
        done = self.border.take_in(day, entries)
        rec, ix = self.rec, self._ix
        rec.add_cells(day, ix["processed"], np.bincount(done.cell, done.size, N_CELLS))
        child = done.grp == UAC
        if child.any():
            kids = done.take(child)
            self.custody.leave(kids.cell, kids.size, kids.t_in, kids.t + self.hhs_days, HHS)
            done = done.take(~child)
        rest = [Batch.of_parties([(float(day), p) for p in fallbacks])] if fallbacks else []
        if self.agreements_on[day] and len(done):
            others, transfers = refer(self.desks, day, done)
            for party, desk, t in transfers:
                self._transfer(party, desk, t)
            done = done.take(others)
        rest.append(done)
        for desk in self.desks:  # waits ending today, begun today or before
            expired = desk.expire(day + 1.0)
            if expired:
                self._count_fallbacks(day, desk, [p for _, p in expired])
                rest.append(Batch.of_parties(expired))
        self._dispose(day, Batch.concat(rest).in_time_order())

    def _entries(self, day: int) -> Batch:
        """Today's custody entries, sorted by time: parties whose journey ends at the border
        today (those presenting at a port while metering is on join its waiting list
        instead) and parties back from a waiting list in Mexico. Counted as encounters."""
        arrived = self.travel.arrivals(day)
        if self.metering.active(day) and len(arrived):
            metered = arrived.port & (arrived.grp != UAC) & ~self.metering_exempt[arrived.cell]
            if metered.any():
                self.metering.join(day, arrived.take(metered).in_time_order())
                arrived = arrived.take(~metered)
        walk_ins = self.walk_ins.pop(day, None)
        source: int | np.ndarray = IN_TRANSIT  # the state each entry comes from
        if walk_ins:
            source = np.concatenate(
                [np.full(len(arrived), IN_TRANSIT), *(np.full(len(b), s) for b, s in walk_ins)]
            )
            arrived = Batch.concat([arrived, *(b for b, _ in walk_ins)])
        order = arrived.t.argsort(kind="stable")
        entries = arrived.take(order)
        if walk_ins:
            source = source[order]
        cells, size, at_port = entries.cell, entries.size, entries.port
        rec, ix = self.rec, self._ix
        encounters = np.bincount(cells, size, N_CELLS)
        at_ports = np.bincount(cells[at_port], size[at_port], N_CELLS)
        rec.add_cells(day, ix["encounters"], encounters)
        rec.add_cells(day, ix["port_encounters"], at_ports)
        # whole persons: the difference is exactly the count between ports
        rec.add_cells(day, ix["apprehensions"], encounters - at_ports)
        self.custody.enter(day, entries.t, cells, size, source)
        return entries

    def walk_ins_batch(self, batch: Batch, src: int) -> None:
        """Parties from a waiting list in Mexico (all in state `src` until then) are taken
        into custody at their times `t`: today or later, as today's entries are handed to
        the border after the waiting lists' ticks."""
        if not len(batch):
            return
        batch.t_in = batch.t.copy()  # taken into custody then
        days = batch.t.astype(np.int64)
        if days.min() <= self._opened:
            raise RuntimeError("a walk-in after its day's entries were handed to the border")
        if days[0] == days[-1] and (days == days[0]).all():  # usually all on one day
            self.walk_ins[int(days[0])].append((batch, src))
            return
        for d in np.unique(days).tolist():
            self.walk_ins[d].append((batch.take(days == d), src))

    def _dispose(self, day: int, batch: Batch) -> None:
        """MPP, then the usual disposition for the rest of a batch in time order; all of it
        leaves custody at its time (the overcrowding check counts those before it)."""
        if not len(batch):
            return
        mpp = self.mpp.enrol(day, batch)
        rest = batch
        if mpp.any():
            m = batch.take(mpp)
            self.custody.leave(m.cell, m.size, m.t_in, m.t, MPP_WAITING)
            rest = batch.take(~mpp)

        def held_at(t: np.ndarray) -> np.ndarray:
            return self.custody.held_at(t, batch.t, batch.size)

        outcome = self.rule.decide_batch(day, rest, held_at, self.g_disp)
        self.custody.leave(rest.cell, rest.size, rest.t_in, rest.t, _OUTCOME_STATE[outcome])

    def _transfer(self, party: Party, desk: AgreementDesk, now: float) -> None:
        """Out of custody to the receiving country (the consequence: see `_count_exits`)."""
        self.rec.add(int(now), self._ix["transferred"], party.cell, party.size, desk.index)
        self.custody.leave([party.cell], [party.size], [party.t_arrival], [now], IN_RECEIVING)
        party.state = IN_RECEIVING
        self.receiving[desk.receiving_country].receive(party, desk.index, now)

    def _count_fallbacks(self, day: int, desk: AgreementDesk, parties: list[Party]) -> None:
        for p in parties:
            self.rec.add(day, self._ix["transfer_fallback"], p.cell, p.size, desk.index)

    # ------------------------------------------------------------------ onward
    def _decisions_abroad(self, day: int) -> None:
        """Transferees' decisions due today: re-attempts from abroad or from home."""
        for country, system in self.receiving.items():
            retry, home = system.decide(day + 1.0)
            origin = NAT_INDEX[country]
            for t, p in retry:
                self.reattempts.file(p.nat, p.group, p.size, IN_RECEIVING, origin, t, day)
            self._home(day, [(t, p, HOME_FROM_ABROAD) for t, p in home])

    def _home(self, day: int, home: list[tuple[float, Party, int]]) -> None:
        """Parties home from a waiting list or from abroad (with the state they are in)."""
        for t, p, state in home:
            self.reattempts.home(p.nat, p.group, p.size, state, t, day)

    def _end_of_day(self, day: int) -> None:
        exits = self.custody.end_of_day(day)
        if exits is not None:
            self._count_exits(day, exits)
        records = self.rec.end_of_day(day)
        if records is None:
            return
        extra, indicators, per_agreement = records  # the recorder's own rows for the day
        extra[0, :, 0] = self.custody.over72
        for desk in self.desks:
            extra[1, :, desk.index] = desk.awaiting
        for system in self.receiving.values():
            extra[2] += np.asarray(system.backlog).T
            extra[3] += np.asarray(system.backlog_cases).T
            if system.queue:
                extra[4:6] += system.backlog_older_than(day, self.rec.n_agr)
        indicators[0] = self.risk.multiplier
        indicators[1] = self.risk.risk
        scale = self.scenario.scale
        for desk in self.desks:
            if day < desk.start_day:
                continue  # undefined before the agreement: NaN
            system = self.receiving[desk.receiving_country]
            per_agreement[:, desk.index] = (
                desk.cap_on(day) / scale,
                system.capacity_at(day),
                system.expected_wait_days(),
                system.median_wait_days(day, desk.index),
            )

    def _count_exits(self, day: int, exits: tuple[np.ndarray, ...]) -> None:
        """Flows, consequences and re-attempts of the day's custody exits, all at once."""
        # integer cells and states, float persons and times; persons by state after, cell
        cell, size, t, dst, persons = exits
        rec, ix = self.rec, self._ix
        for state, metric in _EXIT_FLOWS:
            rec.add_cells(day, ix[metric], persons[state])
        if self.consequence_states:
            rec.add_cells(day, ix["consequences"], persons[self.consequence_states].sum(axis=0))
        m = dst == REMOVED
        if m.any():
            nat = cell[m] // 3
            grp, n = cell[m] % 3, size[m].astype(np.int64)
            self.reattempts.after(REMOVED, nat, grp, n, nat, t[m], day)

    # ------------------------------------------------------------------ run
    def run(self, progress: Progress | None = None) -> RunResult:
        t0 = time.perf_counter()
        self.env.process(self._daily(progress))
        # A run allocates millions of short-lived objects (events, parties, tuples) but makes
        # no reference cycles, so reference counting frees all of them; the cyclic garbage
        # collector, triggered by the allocations, would only traverse the same long-lived
        # objects (the ~200,000 of pandas, pydantic and the model) over and over: 15-25% of
        # the run time. It is paused for the run and restored afterwards.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self.env.run(until=self.cal.days)
        finally:
            if gc_was_enabled:
                gc.enable()
        self._end_of_day(self.cal.days - 1)
        events = next(self.env._eid) if hasattr(self.env, "_eid") else -1
        return RunResult(
            scenario=self.scenario,
            replication=self.ctx.replication,
            calendar=self.cal,
            recorder=self.rec,
            wall_seconds=time.perf_counter() - t0,
            events=events,
        )


_METRICS = (
    "departures",
    "first_departures",
    "reattempts",
    "deterred",
    "stopped_in_mexico",
    "sought_protection",
    "protection_en_route",
    "encounters",
    "apprehensions",
    "port_encounters",
    "processed",
    "removed",
    "released",
    "detained",
    "hhs_referred",
    "transferred",
    "transfer_fallback",
    "consequences",
)


def run(scenario: Scenario, replication: int = 0, progress: Progress | None = None) -> RunResult:
    """Run one replication of `scenario` (seed from the scenario)."""
    return Model(scenario, replication).run(progress)
