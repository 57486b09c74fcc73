"""The model: wires departures, journey, border, dispositions, agreements and behaviour.

SimPy drives time. A single long-lived daily process draws the day's departures (numpy,
vectorised over parties), lets the day-stepped queues act (agreement waiting lists, MPP
hearings, metering intake, asylum decisions) and snapshots the stocks. Border arrivals and
processing are continuous-time SimPy events with callbacks; no process per person.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import simpy
from simpy.core import URGENT
from simpy.events import Event, Timeout

from sim.agreements import AgreementDesk
from sim.border import BorderStation
from sim.calendar import SimCalendar
from sim.context import Context
from sim.custody import Custody
from sim.departures import party_intensity
from sim.deterrence import PerceivedRisk
from sim.dispositions import DETAIN, REMOVE, DispositionRule
from sim.domain import FAMILY, GROUPS, NAT_INDEX, NATIONALITIES, STATE_INDEX, UAC
from sim.journey import ARRIVE, PROTECTION, STOPPED, JourneyPlanner
from sim.metering import PortMetering
from sim.mpp import RemainInMexico
from sim.party import Party
from sim.receiving import ReceivingSystem
from sim.recorder import N_CELLS, Recorder
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
IN_RECEIVING = S["in_receiving_country"]
_OUTCOME_STATE = {REMOVE: REMOVED, DETAIN: DETAINED}
_N_NAT, _N_GRP = len(NATIONALITIES), len(GROUPS)
_CELL_NAT = np.repeat(np.arange(_N_NAT), _N_GRP)
_CELL_GRP = np.tile(np.arange(_N_GRP), _N_NAT)

Progress = Callable[[int, int], None]


class Model:
    """One replication of one scenario. `Model(s).run()` returns a `RunResult`."""

    def __init__(self, scenario: Scenario, replication: int = 0) -> None:
        self.scenario = sc = scenario
        origin = scenario.start - dt.timedelta(days=scenario.warmup_days)
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
        self.risk = PerceivedRisk(sc.deterrence, cal)
        self.consequence_set = frozenset(sc.deterrence.consequences)
        self.custody = Custody(ctx, sc.border.holding_capacity * sc.scale)
        lanes = max(1, round(sc.border.processing_lanes * sc.scale))
        self.border = BorderStation(ctx, sc.border, lanes, self._processed)
        self.hhs_days = sc.border.hhs_hours / 24.0
        self.desks = [
            AgreementDesk(ctx, a, i + 1, self._transfer, self._fallback)
            for i, a in enumerate(sc.agreements)
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
        self.mpp = RemainInMexico(ctx, sc.mpp, self._leave_custody, self._cross, self._went_home)
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
        self.rs_disp = ctx.rng("dispositions")
        self.rs_retry = ctx.rng("reattempts")
        self.journey_ends: dict[int, list[tuple[int, int, int, int, int]]] = defaultdict(list)
        self.retries: dict[int, list[tuple[int, int, int, int, int]]] = defaultdict(list)
        self._ix = {m: rec.index(m) for m in _METRICS}

    # ------------------------------------------------------------------ daily process
    def _daily(self, progress: Progress | None):
        days = self.cal.days
        for day in range(days):
            if day > 0:
                self._end_of_day(day - 1)
            mult = self.risk.update(day)
            self._apply_journey_ends(day)
            for desk in self.desks:
                desk.tick(day)
            self.mpp.tick(day)
            self.metering.tick(day)
            for system in self.receiving.values():
                system.tick(day)
            self._depart(day, mult)
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
        self.custody.end_of_day(day)
        rec = self.rec
        extra = np.zeros((len(rec.extra_names), N_CELLS, rec.n_agr))
        extra[0, :, 0] = self.custody.over72
        for desk in self.desks:
            extra[1, :, desk.index] = desk.awaiting
        for system in self.receiving.values():
            extra[2] += np.asarray(system.backlog).T
        indicators = np.stack([self.risk.multiplier, self.risk.risk])
        rec.snapshot(day, extra, indicators)

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
        rec, ix = self.rec, self._ix
        dropped = np.bincount(cells[~keep], weights=size[~keep], minlength=N_CELLS)
        if np.any(mult > 1.0):  # perceived risk below the reference: extra departures
            extra = self.g_extra.poisson(lam * np.maximum(mult - 1.0, 0.0))
            e_cells, e_nat, e_grp, e_t0, e_size, e_port, _ = self._draw_parties(
                extra, day, self.g_extra
            )
            e_out = self.journey.plan(e_t0, e_nat, e_nat, self.g_extra)
            self._launch(
                day, e_nat, e_grp, e_size, e_port, e_out, np.ones(len(e_cells), bool), fresh=True
            )
        self._launch(day, nat, grp, size, port, out, keep, fresh=True)
        for c in np.flatnonzero(dropped):
            rec.add(day, ix["deterred"], int(c), float(dropped[c]))
        self._depart_retries(day)

    def _depart_retries(self, day: int) -> None:
        todo = self.retries.pop(day, None)
        if not todo:
            return
        arr = np.asarray(todo, dtype=np.int64)
        nat, grp, size, src, origin = arr.T
        t0 = day + self.g_retry.random(len(arr))
        port = self.g_retry.random(len(arr)) < self.port_share[nat]
        out = self.journey.plan(t0, nat, origin, self.g_retry)
        rec = self.rec
        for i in range(len(arr)):
            rec.move(int(src[i]), IN_TRANSIT, int(nat[i]) * 3 + int(grp[i]), int(size[i]))
        self._launch(day, nat, grp, size, port, out, np.ones(len(arr), bool), fresh=False)

    def _launch(self, day, nat, grp, size, port, out, keep, fresh: bool) -> None:
        rec, ix, env = self.rec, self._ix, self.env
        cells = nat * 3 + grp
        people = np.bincount(cells[keep], weights=size[keep], minlength=N_CELLS)
        for c in np.flatnonzero(people):
            p = float(people[c])
            rec.add(day, ix["departures"], int(c), p)
            rec.add(day, ix["first_departures" if fresh else "reattempts"], int(c), p)
            if fresh:
                rec.enter(IN_TRANSIT, int(c), int(p))
        now = env.now
        arrive = self._arrive
        kind, when = out.kind, out.time
        sought_any = keep & (out.sought != 0)
        for i in np.flatnonzero(sought_any):
            rec.add(day, ix["sought_protection"], int(cells[i]), float(size[i]))
        idx = np.flatnonzero(keep)
        for i, k, t, n, g, s, tr, so, pt in zip(
            idx.tolist(),
            kind[idx].tolist(),
            when[idx].tolist(),
            nat[idx].tolist(),
            grp[idx].tolist(),
            size[idx].tolist(),
            out.transited[idx].tolist(),
            out.sought[idx].tolist(),
            port[idx].tolist(),
            strict=True,
        ):
            del i
            if k == ARRIVE:
                ev = Timeout(env, t - now, Party(n, g, s, tr, so, pt, IN_TRANSIT))
                ev.callbacks.append(arrive)
            else:
                end_day = int(t)
                if end_day <= day:
                    self._journey_end(k, n, g, s, day)
                else:
                    self.journey_ends[end_day].append((k, n, g, s, end_day))

    def _apply_journey_ends(self, day: int) -> None:
        for k, n, g, s, d in self.journey_ends.pop(day, ()):
            self._journey_end(k, n, g, s, d)

    def _journey_end(self, kind: int, nat: int, grp: int, size: int, day: int) -> None:
        cell = nat * 3 + grp
        rec, ix = self.rec, self._ix
        if kind == STOPPED:
            rec.move(IN_TRANSIT, STOPPED_MX, cell, size)
            rec.add(day, ix["stopped_in_mexico"], cell, size)
            self.risk.outcomes[day, cell] += size
            if "stopped_in_mexico" in self.consequence_set:
                self._count_consequence(cell, size, day)
            self._maybe_retry(nat, grp, size, STOPPED_MX, nat, float(day))
        elif kind == PROTECTION:
            rec.move(IN_TRANSIT, PROTECTED, cell, size)
            rec.add(day, ix["protection_en_route"], cell, size)

    # ------------------------------------------------------------------ border
    def _arrive(self, ev: Timeout) -> None:
        party: Party = ev._value
        now = self.env.now
        if party.at_port and party.group != UAC and self.metering.active(int(now)):
            self.metering.join(party, now)
        else:
            self._custody_in(party, now)

    def _cross(self, party: Party, t: float) -> None:
        """A party waiting in Mexico crosses between ports at time t."""
        ev = Timeout(self.env, max(t - self.env.now, 0.0), party)
        ev.callbacks.append(self._arrive)

    def _custody_in(self, party: Party, now: float) -> None:
        day, rec, ix = int(now), self.rec, self._ix
        rec.add(day, ix["encounters"], party.cell, party.size)
        rec.add(
            day, ix["port_encounters" if party.at_port else "apprehensions"], party.cell, party.size
        )
        self.custody.enter(party, now)
        self.border.admit(party)

    def _processed(self, party: Party, now: float) -> None:
        day = int(now)
        self.rec.add(day, self._ix["processed"], party.cell, party.size)
        self.risk.outcomes[day, party.cell] += party.size
        if party.group == UAC:
            ev = Timeout(self.env, self.hhs_days, party)
            ev.callbacks.append(self._to_hhs)
            return
        if self.desks and self._offer_transfer(party, now):
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

    def _to_hhs(self, ev: Timeout) -> None:
        party: Party = ev._value
        now = self.env.now
        self.rec.add(int(now), self._ix["hhs_referred"], party.cell, party.size)
        self.custody.leave(party, HHS, now)

    def _leave_custody(self, party: Party, state: int, now: float) -> None:
        self.custody.leave(party, state, now)
        if "mpp" in self.consequence_set:
            self._count_consequence(party.cell, party.size, int(now))

    def _dispose(self, party: Party, now: float) -> None:
        day = int(now)
        outcome = self.rule.decide(
            party, day, self.rs_disp.uniform(), self.rs_disp.uniform(), self.custody.overcrowded
        )
        state = _OUTCOME_STATE.get(outcome, RELEASED)
        self.custody.leave(party, state, now)
        name = {REMOVED: "removed", DETAINED: "detained", RELEASED: "released"}[state]
        self.rec.add(day, self._ix[name], party.cell, party.size)
        if name in self.consequence_set:
            self._count_consequence(party.cell, party.size, day)
        if state == REMOVED:
            self._went_home(party, REMOVED, now)

    def _count_consequence(self, cell: int, size: int, day: int) -> None:
        self.risk.consequences[day, cell] += size
        self.rec.add(day, self._ix["consequences"], cell, size)

    # ------------------------------------------------------------------ agreements
    def _transfer(self, party: Party, desk: AgreementDesk, now: float) -> None:
        day = int(now)
        self.rec.add(day, self._ix["transferred"], party.cell, party.size, desk.index)
        self.custody.leave(party, IN_RECEIVING, now)
        if "transferred" in self.consequence_set:
            self._count_consequence(party.cell, party.size, day)
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
            self.retries[day].append((nat, grp, size, state, origin))

    # ------------------------------------------------------------------ run
    def run(self, progress: Progress | None = None) -> RunResult:
        t0 = time.perf_counter()
        self.env.process(self._daily(progress))
        self.env.run(until=self.cal.days)
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
