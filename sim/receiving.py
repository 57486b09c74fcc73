"""The receiving country: transferees decide within about 72 hours, and asylum cases queue.

The asylum system decides cases (a family is one case) in FIFO order behind the
pre-existing backlog (`initial_backlog` cases, counted on `backlog_date`: no decision is
made before that date), at a capacity that may change over time: a dated schedule plus what
funded capacity building adds (`ReceivingCountry.cases_per_year`). Its backlog, the age of
the pending cases and the waits are outputs of the transfers.

Who applies may depend on the queue: the apply share is `apply_share x (reference_wait /
W) ^ apply_wait_elasticity`, W the expected wait (pending cases / decisions a day) on the
day the transferee decides, capped so that apply + retry <= 1 (the rest go home).

A stage: `receive` takes transferees; `decide` returns, in time order, those whose
decisions fell before a time and who set out again or went home, for the model to route.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import deque
from itertools import count

import numpy as np

from sim.context import Context
from sim.domain import STATE_INDEX
from sim.party import Party
from sim.scenario.schema import ReceivingCountry

ASYLUM_ABROAD = STATE_INDEX["asylum_abroad"]
HOME_FROM_ABROAD = STATE_INDEX["home_after_transfer"]
#: age bins of the backlog, days since the application (the age profile's thresholds)
AGE_BINS = (180, 365)


def capacity_by_day(cfg: ReceivingCountry, origin: dt.date, days: int) -> np.ndarray:
    """Decision capacity (cases a year, full scale) on each simulated day."""
    return np.array([cfg.cases_per_year(origin + dt.timedelta(days=d)) for d in range(days)])


class ReceivingSystem:
    def __init__(
        self,
        ctx: Context,
        country: str,
        cfg: ReceivingCountry,
        n_agreements: int,
    ) -> None:
        self.ctx, self.country, self.cfg = ctx, country, cfg
        self.rs = ctx.rng(f"receiving:{country}")
        self.capacity = capacity_by_day(cfg, ctx.cal.origin, ctx.cal.days)
        self.opens = ctx.cal.day(cfg.backlog_date)  # no decision before the backlog's date
        self.daily_cases = self.capacity[0] * ctx.scale / 365.0
        self.credit = 0.0
        self.preexisting = int(round(cfg.initial_backlog * ctx.scale))
        self.queue: deque[tuple[Party, int, int]] = deque()  # (party, agreement, day applied)
        self.backlog = [[0] * 15 for _ in range(n_agreements + 1)]  # persons
        self.backlog_cases = [[0] * 15 for _ in range(n_agreements + 1)]  # parties (cases)
        self.waits: list[list[int]] = [[] for _ in range(n_agreements + 1)]  # decided, days
        self._deciding: list[tuple[float, int, Party, int]] = []  # (time, seq, party, agr)
        self._seq = count()
        rec = ctx.rec
        self._applied = rec.index("applied_abroad")
        self._home = rec.index("home_from_abroad")
        self._retry_m = rec.index("retry_from_abroad")
        self._decided = rec.index("asylum_decided")
        self._waited = rec.index("asylum_wait_days")

    def capacity_at(self, day: int) -> float:
        """Decision capacity on `day`, cases a year at full scale."""
        return float(self.capacity[day])

    def receive(self, party: Party, agreement: int, now: float) -> None:
        """A transferee arrives at `now`; it decides `decision_hours` later."""
        t = now + self.cfg.decision_hours / 24.0
        heapq.heappush(self._deciding, (t, next(self._seq), party, agreement))

    def expected_wait_days(self) -> float:
        """The wait a new applicant faces: pending cases / decisions a day (FIFO)."""
        return self.pending_cases / max(self.daily_cases, 1e-12)

    def apply_share(self) -> float:
        cfg = self.cfg
        if cfg.apply_wait_elasticity == 0.0:
            return cfg.apply_share
        wait = max(self.expected_wait_days(), 1.0)
        share = cfg.apply_share * (cfg.reference_wait_days / wait) ** cfg.apply_wait_elasticity
        return min(share, 1.0 - cfg.retry_share)

    def decide(self, until: float) -> tuple[list[tuple[float, Party]], list[tuple[float, Party]]]:
        """The decisions due before `until`, in time order: returns those who set out again
        from here (with the time they do) and those who went home (with the time)."""
        retry: list[tuple[float, Party]] = []
        home: list[tuple[float, Party]] = []
        deciding = self._deciding
        while deciding and deciding[0][0] < until:
            now, _, party, agr = heapq.heappop(deciding)
            self._decide(party, agr, now, retry, home)
        return retry, home

    def _decide(self, party: Party, agr: int, now: float, retry: list, home: list) -> None:
        day = int(now)
        u = self.rs.uniform()
        rec = self.ctx.rec
        apply = self.apply_share()
        if u < apply:
            rec.add(day, self._applied, party.cell, party.size, agr)
            self.ctx.move(party, ASYLUM_ABROAD)
            self.queue.append((party, agr, day))
            self.backlog[agr][party.cell] += party.size
            self.backlog_cases[agr][party.cell] += 1
        elif u < apply + self.cfg.retry_share:
            rec.add(day, self._retry_m, party.cell, party.size, agr)
            delay = self.rs.exponential() * self.cfg.retry_delay_days
            retry.append((now + delay, party))
        else:
            rec.add(day, self._home, party.cell, party.size, agr)
            self.ctx.move(party, HOME_FROM_ABROAD)
            home.append((now, party))

    @property
    def pending_cases(self) -> int:
        return self.preexisting + len(self.queue)

    def tick(self, day: int) -> None:
        self.daily_cases = self.capacity[day] * self.ctx.scale / 365.0
        if day < self.opens:
            return
        self.credit += self.daily_cases
        rec = self.ctx.rec
        while self.credit >= 1.0 and (self.preexisting or self.queue):
            self.credit -= 1.0
            if self.preexisting:
                self.preexisting -= 1
                continue
            party, agr, applied = self.queue.popleft()
            self.backlog[agr][party.cell] -= party.size
            self.backlog_cases[agr][party.cell] -= 1
            rec.add(day, self._decided, party.cell, party.size, agr)
            rec.add(day, self._waited, party.cell, party.size * (day - applied), agr)
            self.waits[agr].append(day - applied)
        if not (self.preexisting or self.queue):
            self.credit = min(self.credit, 1.0)

    def backlog_older_than(self, day: int, n_agreements: int) -> np.ndarray:
        """Persons pending longer than each of `AGE_BINS` days: [bin, cell, agreement]."""
        out = np.zeros((len(AGE_BINS), 15, n_agreements))
        for party, agr, applied in self.queue:  # FIFO: oldest first
            age = day - applied
            if age <= AGE_BINS[0]:
                break
            for b, limit in enumerate(AGE_BINS):
                if age > limit:
                    out[b, party.cell, agr] += party.size
        return out

    def median_wait_days(self, day: int, agreement: int) -> float:
        """Median wait of this agreement's applicants so far: decided cases count their
        wait, pending ones their age plus their FIFO position at today's capacity."""
        waits = list(self.waits[agreement])
        rate = max(self.daily_cases, 1e-12)
        position = self.preexisting
        for _party, agr, applied in self.queue:
            position += 1
            if agr == agreement:
                waits.append(day - applied + position / rate)
        return float(np.median(waits)) if waits else float("nan")
