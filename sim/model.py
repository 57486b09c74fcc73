"""The model: wires departures, journey, border, dispositions, agreements and behaviour.

SimPy drives time. A single long-lived daily process draws the day's departures (numpy,
vectorised over parties), lets the day-stepped queues act (agreement waiting lists, MPP
hearings, metering intake, asylum decisions) and snapshots the stocks. Border arrivals and
processing are continuous-time SimPy events with callbacks; no process per person.

How a full-scale run (about 1.6 million people) stays at seconds:

- Parties in transit are rows of numpy arrays filed under the day their journey ends
  (`DayBuckets`), not objects with a pending event: the event heap holds about one day of
  events instead of a month's (a pop from a heap of 80,000 costs several times one from a
  heap of 5,000), and no Python object exists before a party reaches the border.
- Each day's border entries are therefore all known at the daily tick. What depends only
  on the day is done for all of them at once with numpy there: the metering split, the
  encounter counts, the custody ledger and cohorts, the processing-time draws. The border
  then needs no arrival event for a party that is sure to find a free lane (see
  `BorderStation.open_day`); only processing completions are events.
- Custody exits are logged as tuples and totalled once a day (flows by outcome,
  consequences, person-days held, re-attempts after removal): see `sim.custody`.
- Deterrence reads its daily inputs from the recorder's flows instead of keeping arrays
  updated party by party.
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

from sim.agreements import AgreementDesk
from sim.border import BorderStation
from sim.calendar import SimCalendar
from sim.context import At, Context, schedule_at
from sim.custody import Custody
from sim.departures import party_intensity
from sim.deterrence import PerceivedRisk
from sim.dispositions import DETAIN, RELEASE, REMOVE, DispositionRule
from sim.domain import FAMILY, GROUPS, NAT_INDEX, NATIONALITIES, STATE_INDEX, UAC
from sim.journey import ARRIVE, PROTECTION, STOPPED, DayBuckets, JourneyPlanner
from sim.metering import PortMetering
from sim.metrics import AGREEMENT_INDICATORS
from sim.mpp import RemainInMexico
from sim.party import Party
from sim.receiving import ReceivingSystem
from sim.recorder import N_CELLS, N_STATES, Recorder
from sim.results import RunResult
from sim.rng import stream
from sim.scenario.schema import Scenario

S = STATE_INDEX
IN_TRANSIT, STOPPED_MX, PROTECTED = S["in_transit"], S["home_after_stop"], S["settled_en_route"]
REMOVED, RELEASED, DETAINED, HHS = (
    S["home_after_removal"],
    S["in_us_released"],
    S["in_detention"],
    S["in_hhs"],
)
IN_RECEIVING, IN_CUSTODY = S["in_receiving_country"], S["in_custody"]
_OUTCOME_STATE = {REMOVE: REMOVED, DETAIN: DETAINED}
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
    "mpp": S["mpp_waiting"],
    "transferred": IN_RECEIVING,
}
_N_NAT, _N_GRP = len(NATIONALITIES), len(GROUPS)
_CELL_NAT = np.repeat(np.arange(_N_NAT), _N_GRP)
_CELL_GRP = np.tile(np.arange(_N_GRP), _N_NAT)

Progress = Callable[[int, int], None]


class Model:
    """One replication of one scenario. `Model(s).run()` returns a `RunResult`."""

    def __init__(self, scenario: Scenario, replication: int = 0) -> None:
        self.scenario = sc = scenario
        origin = scenario.origin
        self.cal = cal = SimCalendar(origin, scenario.start, scenario.end)
        self.env = simpy.Environment()
        agreements = [a.name for a in sc.agreements]
        self.rec = rec = Recorder(cal.days, agreements)
        self.ctx = ctx = Context(self.env, cal, rec, sc.seed, replication, sc.scale)
        self.lam = party_intensity(sc.departures, cal, sc.scale).reshape(cal.days, N_CELLS)
        self.family_extra = sc.departures.family_extra_members
        self.port_share = np.array(
            [sc.border.port_of_entry_share.get(n, 0.0) for n in NATIONALITIES]
        )
        self.journey = JourneyPlanner(sc, cal)
        self.rule = DispositionRule(sc, cal)
        self.risk = PerceivedRisk(
            sc.deterrence, cal, self._observed, sc.enforcement.announcements()
        )
        self.consequence_set = frozenset(sc.deterrence.consequences)
        self.consequence_states = [
            _CONSEQUENCE_STATE[c] for c in self.consequence_set if c in _CONSEQUENCE_STATE
        ]
        self.custody = Custody(ctx, sc.border.holding_capacity * sc.scale)
        lanes = max(1, round(sc.border.processing_lanes * sc.scale))
        self.border = BorderStation(ctx, sc.border, lanes, self._processed)
        self.hhs_days = sc.border.hhs_hours / 24.0
        self.desks = [
            AgreementDesk(ctx, a, i + 1, self._transfer, self._fallback)
            for i, a in enumerate(sc.agreements)
        ]
        # days on which some agreement is in force: elsewhere no desk is consulted at all
        self.agreements_on = [
            any(d.start_day <= day < d.end_day for d in self.desks) for day in range(cal.days)
        ]
        self.receiving = {
            c: ReceivingSystem(
                ctx,
                c,
                cfg,
                len(self.desks),
                lambda p, t: self._went_home(p, S["home_after_transfer"], t),
                self._retry_from(c),
            )
            for c, cfg in sc.receiving.items()
            if any(d.receiving_country == c for d in self.desks)
        }
        for desk in self.desks:  # the cap rules read the receiving system's state
            desk.receiving = self.receiving[desk.receiving_country]
            desk.apply_share = sc.receiving[desk.receiving_country].apply_share
        self.mpp = RemainInMexico(ctx, sc.mpp, self.custody.leave, self._cross, self._went_home)
        self.metering_exempt = np.zeros(N_CELLS, dtype=bool)
        for key in sc.metering.exempt:
            nat_name, group_name = key.split(".")
            self.metering_exempt[NAT_INDEX[nat_name] * 3 + GROUPS.index(group_name)] = True
        self.metering = PortMetering(
            ctx,
            sc.metering,
            self._custody_in,
            self._cross,
            lambda p, t: self._went_home(p, S["home_gave_up"], t),
        )
        re = sc.reattempts
        self.reattempt = {
            REMOVED: (re.removed.probability, re.removed.mean_delay_days),
            STOPPED_MX: (re.stopped_in_mexico.probability, re.stopped_in_mexico.mean_delay_days),
            S["home_after_transfer"]: (
                re.home_from_abroad.probability,
                re.home_from_abroad.mean_delay_days,
            ),
            S["home_gave_up"]: (re.gave_up.probability, re.gave_up.mean_delay_days),
        }
        # numpy generators for the vectorised daily draws; block streams for per-event draws
        self.g_count = stream(sc.seed, "departures", replication)
        self.g_party = stream(sc.seed, "parties", replication)
        self.g_extra = stream(sc.seed, "departures_extra", replication)
        self.g_journey = stream(sc.seed, "journey", replication)
        self.g_retry = stream(sc.seed, "journey_retry", replication)
        self.g_service = stream(sc.seed, "processing", replication)
        self.g_reattempt = stream(sc.seed, "reattempts_daily", replication)
        self.rs_disp = ctx.rng("dispositions")
        self.rs_retry = ctx.rng("reattempts")
        self.rs_service = ctx.rng("processing_late")
        # parties in transit, by the day their journey ends: arrivals at the border
        # (time, nat, group, size, transited, sought, at_port) and stops or settling on the
        # way (kind, nat, group, size); parties setting out again (nat, group, size, state,
        # origin)
        self.arrivals = DayBuckets()
        self.journey_ends = DayBuckets()
        self.retries = DayBuckets()
        self._launched: list[tuple[np.ndarray, ...]] = []  # today's batches, until filed
        # parties entering custody from a waiting list in Mexico, by day: (time, party)
        self.walk_ins: defaultdict[int, list[tuple[float, Party]]] = defaultdict(list)
        self._opened = -1  # last day whose border entries were handed to the station
        self._ix = {m: rec.index(m) for m in _METRICS}
        self._processed_ix = self._ix["processed"]

    # ------------------------------------------------------------------ daily process
    def _daily(self, progress: Progress | None):
        days = self.cal.days
        for day in range(days):
            if day > 0:
                self._end_of_day(day - 1)
            mult = self.risk.update(day)
            for desk in self.desks:
                desk.tick(day)
            self.mpp.tick(day)
            self.metering.tick(day)
            for system in self.receiving.values():
                system.tick(day)
            self._depart(day, mult)
            self._journeys_end(day)
            self._open_border(day)
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

    def _end_of_day(self, day: int) -> None:
        exits = self.custody.end_of_day(day)
        if exits is not None:
            self._count_exits(day, exits)
        rec = self.rec
        extra = np.zeros((len(rec.extra_names), N_CELLS, rec.n_agr))
        extra[0, :, 0] = self.custody.over72
        for desk in self.desks:
            extra[1, :, desk.index] = desk.awaiting
        for system in self.receiving.values():
            extra[2] += np.asarray(system.backlog).T
            extra[3] += np.asarray(system.backlog_cases).T
            if system.queue:
                extra[4:6] += system.backlog_older_than(day, rec.n_agr)
        indicators = np.stack([self.risk.multiplier, self.risk.risk])
        per_agreement = None
        if self.desks:
            per_agreement = np.full((len(AGREEMENT_INDICATORS), rec.n_agr), np.nan)
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
        rec.snapshot(day, extra, indicators, per_agreement)

    # ------------------------------------------------------------------ departures
    def _draw_parties(self, counts: np.ndarray, day: int, gen: np.random.Generator):
        total = int(counts.sum())
        cells = np.repeat(np.arange(N_CELLS), counts)
        nat, grp = _CELL_NAT[cells], _CELL_GRP[cells]
        t0 = day + gen.random(total)
        size = np.where(grp == FAMILY, 2 + gen.poisson(self.family_extra, total), 1)
        port = gen.random(total) < self.port_share[nat]
        keep_u = gen.random(total)
        return cells, nat, grp, t0, size, port, keep_u

    def _depart(self, day: int, mult: np.ndarray) -> None:
        lam = self.lam[day]
        counts = self.g_count.poisson(lam)
        cells, nat, grp, t0, size, port, keep_u = self._draw_parties(counts, day, self.g_party)
        out = self.journey.plan(t0, nat, nat, self.g_journey)
        keep = keep_u < mult[cells]
        dropped = np.bincount(cells[~keep], weights=size[~keep], minlength=N_CELLS)
        if np.any(mult > 1.0):  # perceived risk below the reference: extra departures
            extra = self.g_extra.poisson(lam * np.maximum(mult - 1.0, 0.0))
            e_cells, e_nat, e_grp, e_t0, e_size, e_port, _ = self._draw_parties(
                extra, day, self.g_extra
            )
            e_out = self.journey.plan(e_t0, e_nat, e_nat, self.g_extra)
            self._launch(day, e_nat, e_grp, e_size, e_port, e_out, fresh=True)
        self._launch(day, nat[keep], grp[keep], size[keep], port[keep], out.take(keep), fresh=True)
        self.rec.add_cells(day, self._ix["deterred"], dropped)
        self._depart_retries(day)
        self._file_journeys()

    def _depart_retries(self, day: int) -> None:
        rows = self.retries.pop(day)
        if rows is None:
            return
        nat, grp, size, src, origin = rows.T.astype(np.int64)
        t0 = day + self.g_retry.random(len(rows))
        port = self.g_retry.random(len(rows)) < self.port_share[nat]
        out = self.journey.plan(t0, nat, origin, self.g_retry)
        self.rec.move_cells(src, IN_TRANSIT, nat * 3 + grp, size)
        self._launch(day, nat, grp, size, port, out, fresh=False)

    def _launch(self, day, nat, grp, size, port, out, fresh: bool) -> None:
        """Count a batch of departures and file each party under the day its journey ends."""
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

    def _file_journeys(self) -> None:
        """File the day's departures (all batches at once) under the day their journeys end."""
        if not self._launched:
            return
        columns = (np.concatenate(c) for c in zip(*self._launched, strict=True))
        kind, time, nat, grp, size, transited, sought, port = columns
        self._launched.clear()
        end_day = time.astype(np.int64)  # journeys take time: never before departure
        due = end_day < self.cal.days
        arrive = due & (kind == ARRIVE)
        self.arrivals.add(
            end_day[arrive],
            time[arrive],
            nat[arrive],
            grp[arrive],
            size[arrive],
            transited[arrive],
            sought[arrive],
            port[arrive],
        )
        ended = due & (kind != ARRIVE)
        self.journey_ends.add(end_day[ended], kind[ended], nat[ended], grp[ended], size[ended])

    def _journeys_end(self, day: int) -> None:
        """Parties stopped in Mexico or settling in a transit country today."""
        rows = self.journey_ends.pop(day)
        if rows is None:
            return
        kind, nat, grp, size = rows.T.astype(np.int64)
        cells = nat * 3 + grp
        rec, ix = self.rec, self._ix
        stop = kind == STOPPED
        if stop.any():
            rec.move_cells(IN_TRANSIT, STOPPED_MX, cells[stop], size[stop])
            people = np.bincount(cells[stop], size[stop], N_CELLS)
            rec.add_cells(day, ix["stopped_in_mexico"], people)
            if "stopped_in_mexico" in self.consequence_set:
                rec.add_cells(day, ix["consequences"], people)
            n = int(stop.sum())
            self._retry_batch(
                nat[stop], grp[stop], size[stop], STOPPED_MX, nat[stop], np.full(n, float(day)), day
            )
        settle = kind == PROTECTION
        if settle.any():
            rec.move_cells(IN_TRANSIT, PROTECTED, cells[settle], size[settle])
            people = np.bincount(cells[settle], size[settle], N_CELLS)
            rec.add_cells(day, ix["protection_en_route"], people)

    # ------------------------------------------------------------------ border
    def _open_border(self, day: int) -> None:
        """Hand today's border entries, all known by now, to metering, custody and the station.

        Arriving parties were filed under this day when they set out; at a port, when
        metering is on, they join the waiting list (in time order, served from tomorrow's
        tick, so joining now or at their arrival time is the same). The rest enter custody
        at their arrival times, with the parties admitted from waiting lists today.
        """
        rows = self.arrivals.pop(day)
        times, service = np.empty(0), np.empty(0)
        size = np.empty(0, dtype=np.int64)
        parties: list[Party] = []
        if rows is not None:
            rows = rows[np.argsort(rows[:, 0], kind="stable")]
            times = rows[:, 0]
            nat, grp, size, transited, sought, port = rows[:, 1:].T.astype(np.int64)
            if self.metering.active(day):
                metered = (port != 0) & (grp != UAC) & ~self.metering_exempt[nat * 3 + grp]
                if metered.any():
                    self._join_metering(rows[metered])
                    direct = ~metered
                    times, nat, grp, size = times[direct], nat[direct], grp[direct], size[direct]
                    transited, sought, port = transited[direct], sought[direct], port[direct]
            cells = nat * 3 + grp
            rec, ix = self.rec, self._ix
            rec.add_cells(day, ix["encounters"], np.bincount(cells, size, N_CELLS))
            at_port = port != 0
            rec.add_cells(
                day, ix["port_encounters"], np.bincount(cells[at_port], size[at_port], N_CELLS)
            )
            rec.add_cells(
                day, ix["apprehensions"], np.bincount(cells[~at_port], size[~at_port], N_CELLS)
            )
            self.custody.enter_batch(day, cells, size)
            service = self.g_service.standard_exponential(len(times)) * self.border.mean_days[grp]
            parties = [
                Party(n, g, s, tr, so, pt, IN_CUSTODY, t, sv)
                for n, g, s, tr, so, pt, t, sv in zip(
                    nat.tolist(),
                    grp.tolist(),
                    size.tolist(),
                    transited.tolist(),
                    sought.tolist(),
                    at_port.tolist(),
                    times.tolist(),
                    service.tolist(),
                    strict=True,
                )
            ]
        walk_ins = self.walk_ins.pop(day, None)
        if walk_ins:  # few: merged in time order with the rest
            mean = self.border.mean_days
            for _, party in walk_ins:
                party.service = self.rs_service.exponential() * mean[party.group]
            times = np.concatenate([times, [t for t, _ in walk_ins]])
            service = np.concatenate([service, [p.service for _, p in walk_ins]])
            size = np.concatenate([size, [p.size for _, p in walk_ins]])
            parties += [party for _, party in walk_ins]
            order = np.argsort(times, kind="stable")
            times, service, size = times[order], service[order], size[order]
            parties = [parties[i] for i in order.tolist()]
        self._opened = day
        self.custody.expect(times, size)
        self.border.open_day(day, times, service, parties)

    def _join_metering(self, rows: np.ndarray) -> None:
        for t, n, g, s, tr, so, _ in rows.tolist():
            party = Party(int(n), int(g), int(s), int(tr), int(so), True, IN_TRANSIT)
            self.metering.join(party, t)

    def _cross(self, party: Party, t: float) -> None:
        """A party waiting in Mexico crosses between ports at time t (today, at the tick)."""
        self._custody_in(party, max(t, self.env.now))

    def _custody_in(self, party: Party, now: float) -> None:
        """A party from a waiting list in Mexico is taken into custody at `now`."""
        day, rec, ix = int(now), self.rec, self._ix
        rec.add(day, ix["encounters"], party.cell, party.size)
        rec.add(
            day, ix["port_encounters" if party.at_port else "apprehensions"], party.cell, party.size
        )
        self.custody.enter(party, now)
        if day > self._opened:
            self.walk_ins[day].append((now, party))
        else:  # today's entries were handed over already: one event of its own
            party.service = self.rs_service.exponential() * self.border.mean_days[party.group]
            schedule_at(self.env, now, self._late_entry, party)

    def _late_entry(self, ev: At) -> None:
        party: Party = ev._value
        self.custody.occupancy += party.size
        self.border.admit(party)

    def _processed(self, party: Party, now: float) -> None:
        """Processing finished: children go to HHS; adults and families are transferred
        under an agreement, enrolled in MPP or get the usual disposition."""
        day = int(now)
        rec = self.rec
        # rec.add(day, processed, cell, size), inlined: this runs once per party
        rec.flows[day * rec.stride + self._processed_ix + party.cell * rec.n_agr] += party.size
        if party.group == UAC:
            self.custody.leave_at(party, HHS, now + self.hhs_days)
            return
        if self.agreements_on[day] and self._offer_transfer(party, now):
            return
        if self.mpp.offer(party, now):
            return
        self._dispose(party, now)

    def _offer_transfer(self, party: Party, now: float) -> bool:
        """Transfer under the first agreement with a free slot, else wait for the first one."""
        referred = [desk for desk in self.desks if desk.consider(party, now)]
        for desk in referred:
            if desk.try_transfer(party, now):
                return True
        if referred:
            referred[0].wait(party)
            return True
        return False

    def _dispose(self, party: Party, now: float) -> None:
        """The usual disposition (`DispositionRule.decide`, with the occupancy looked at and
        the second uniform drawn only for would-be detentions)."""
        rule, rs = self.rule, self.rs_disp
        outcome = rule.usual(party, int(now), rs.uniform())
        if (
            outcome == DETAIN
            and self.custody.overcrowded(now)
            and rs.uniform() < rule.overcrowding_release
        ):
            outcome = RELEASE
        # the flow by outcome, the consequence and a re-attempt after removal are counted
        # when the day's custody exits are totalled (`_count_exits`)
        self.custody.leave(party, _OUTCOME_STATE.get(outcome, RELEASED), now)

    def _count_exits(self, day: int, exits: np.ndarray) -> None:
        """Flows, consequences and re-attempts of the day's custody exits, all at once."""
        cell, size, t, dst = exits
        cell, dst = cell.astype(np.int64), dst.astype(np.int64)
        rec, ix = self.rec, self._ix
        persons = np.bincount(dst * N_CELLS + cell, size, N_STATES * N_CELLS)
        persons = persons.reshape(N_STATES, N_CELLS)  # by state after custody, cell
        for state, metric in _EXIT_FLOWS:
            rec.add_cells(day, ix[metric], persons[state])
        if self.consequence_states:
            rec.add_cells(day, ix["consequences"], persons[self.consequence_states].sum(axis=0))
        m = dst == REMOVED
        if m.any():
            nat = cell[m] // 3
            self._retry_batch(nat, cell[m] % 3, size[m].astype(np.int64), REMOVED, nat, t[m], day)

    # ------------------------------------------------------------------ agreements
    def _transfer(self, party: Party, desk: AgreementDesk, now: float) -> None:
        day = int(now)
        self.rec.add(day, self._ix["transferred"], party.cell, party.size, desk.index)
        self.custody.leave(party, IN_RECEIVING, now)  # the consequence: see `_count_exits`
        self.receiving[desk.receiving_country].receive(party, desk.index)

    def _fallback(self, party: Party, desk: AgreementDesk, now: float) -> None:
        self.rec.add(int(now), self._ix["transfer_fallback"], party.cell, party.size, desk.index)
        if not self.mpp.offer(party, now):
            self._dispose(party, now)

    def _retry_from(self, country: str) -> Callable[[Party, float], None]:
        origin = NAT_INDEX[country]

        def retry(party: Party, t: float) -> None:
            self._schedule_retry(party.nat, party.group, party.size, IN_RECEIVING, origin, t)

        return retry

    # ------------------------------------------------------------------ re-attempts
    def _went_home(self, party: Party, state: int, now: float) -> None:
        self._maybe_retry(party.nat, party.group, party.size, state, party.nat, now)

    def _maybe_retry(
        self, nat: int, grp: int, size: int, state: int, origin: int, now: float
    ) -> None:
        p, delay = self.reattempt[state]
        if p > 0.0 and self.rs_retry.uniform() < p:
            self._schedule_retry(
                nat, grp, size, state, origin, now + self.rs_retry.exponential() * delay
            )

    def _schedule_retry(
        self, nat: int, grp: int, size: int, state: int, origin: int, t: float
    ) -> None:
        day = max(int(t), int(self.env.now) + 1)
        if day < self.cal.days:
            self.retries.add_one(day, (nat, grp, size, state, origin))

    def _retry_batch(self, nat, grp, size, state: int, origin, t: np.ndarray, day: int) -> None:
        """`_maybe_retry` for a batch of parties that reached `state` on `day`, at times `t`."""
        p, delay = self.reattempt[state]
        if p <= 0.0 or not len(t):
            return
        g = self.g_reattempt
        go = g.random(len(t)) < p
        n = int(go.sum())
        if not n:
            return
        when = t[go] + g.standard_exponential(n) * delay
        due = np.maximum(when.astype(np.int64), day + 1)
        ok = due < self.cal.days
        sel = np.flatnonzero(go)[ok]
        self.retries.add(
            due[ok], nat[sel], grp[sel], size[sel], np.full(len(sel), state), origin[sel]
        )

    def _observed(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Deterrence inputs of `day`: persons processed or stopped, and consequences."""
        rec, ix = self.rec, self._ix
        outcomes = rec.cells(day, ix["processed"]) + rec.cells(day, ix["stopped_in_mexico"])
        return outcomes, rec.cells(day, ix["consequences"])

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
