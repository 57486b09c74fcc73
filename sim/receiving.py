"""The receiving country: transferees decide within about 72 hours, and asylum cases queue.

The asylum system decides `asylum_cases_per_year` cases (a family is one case) in FIFO
order behind the pre-existing backlog, so its backlog is an output of the transfers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from simpy.events import Timeout

from sim.context import Context
from sim.domain import STATE_INDEX
from sim.party import Party
from sim.scenario.schema import ReceivingCountry

ASYLUM_ABROAD = STATE_INDEX["asylum_abroad"]
HOME_FROM_ABROAD = STATE_INDEX["home_after_transfer"]


class ReceivingSystem:
    def __init__(
        self,
        ctx: Context,
        country: str,
        cfg: ReceivingCountry,
        n_agreements: int,
        went_home: Callable[[Party, float], None],
        retry_from_abroad: Callable[[Party, float], None],
    ) -> None:
        self.ctx, self.country, self.cfg = ctx, country, cfg
        self.rs = ctx.rng(f"receiving:{country}")
        self.daily_cases = cfg.asylum_cases_per_year * ctx.scale / 365.0
        self.credit = 0.0
        self.preexisting = int(round(cfg.initial_backlog * ctx.scale))
        self.queue: deque[tuple[Party, int]] = deque()
        self.backlog = [[0] * 15 for _ in range(n_agreements + 1)]  # persons
        self.backlog_cases = [[0] * 15 for _ in range(n_agreements + 1)]  # parties (cases)
        self._went_home, self._retry = went_home, retry_from_abroad
        rec = ctx.rec
        self._applied = rec.index("applied_abroad")
        self._home = rec.index("home_from_abroad")
        self._retry_m = rec.index("retry_from_abroad")
        self._decided = rec.index("asylum_decided")

    def receive(self, party: Party, agreement: int) -> None:
        ev = Timeout(self.ctx.env, self.cfg.decision_hours / 24.0, (party, agreement))
        ev.callbacks.append(self._decide)

    def _decide(self, ev: Timeout) -> None:
        party, agr = ev._value
        now = self.ctx.env.now
        day = int(now)
        u = self.rs.uniform()
        rec = self.ctx.rec
        if u < self.cfg.apply_share:
            rec.add(day, self._applied, party.cell, party.size, agr)
            self.ctx.move(party, ASYLUM_ABROAD)
            self.queue.append((party, agr))
            self.backlog[agr][party.cell] += party.size
            self.backlog_cases[agr][party.cell] += 1
        elif u < self.cfg.apply_share + self.cfg.retry_share:
            rec.add(day, self._retry_m, party.cell, party.size, agr)
            delay = self.rs.exponential() * self.cfg.retry_delay_days
            self._retry(party, now + delay)
        else:
            rec.add(day, self._home, party.cell, party.size, agr)
            self.ctx.move(party, HOME_FROM_ABROAD)
            self._went_home(party, now)

    @property
    def pending_cases(self) -> int:
        return self.preexisting + len(self.queue)

    def tick(self, day: int) -> None:
        self.credit += self.daily_cases
        rec = self.ctx.rec
        while self.credit >= 1.0 and (self.preexisting or self.queue):
            self.credit -= 1.0
            if self.preexisting:
                self.preexisting -= 1
                continue
            party, agr = self.queue.popleft()
            self.backlog[agr][party.cell] -= party.size
            self.backlog_cases[agr][party.cell] -= 1
            rec.add(day, self._decided, party.cell, party.size, agr)
        if not (self.preexisting or self.queue):
            self.credit = min(self.credit, 1.0)
