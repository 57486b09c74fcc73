"""Asylum Cooperative Agreements: eligibility, phase-in steps and weekly caps.

A party is eligible when the agreement is active, its nationality is listed, its group is
allowed by the phase-in step in force, and it transited the receiving country without
seeking protection there. Weekly windows start on the agreement's start date; a transfer
happens only if it keeps the week's total within the cap of the step in force, so a cap is
never exceeded. Eligible parties without a slot wait in custody up to `max_wait_days`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from simpy.events import Timeout

from sim.context import Context
from sim.domain import COUNTRY_BIT, GROUP_INDEX, NAT_INDEX
from sim.party import Party
from sim.scenario.schema import Agreement


@dataclass(frozen=True)
class Step:
    day: int
    cap: float  # persons per week, already scaled
    groups: frozenset[int]


class AgreementDesk:
    def __init__(
        self,
        ctx: Context,
        cfg: Agreement,
        index: int,
        transfer: Callable[[Party, AgreementDesk, float], None],
        fallback: Callable[[Party, AgreementDesk, float], None],
    ) -> None:
        cal = ctx.cal
        self.ctx, self.cfg, self.index = ctx, cfg, index
        self.name = cfg.name
        self.start_day = cal.day(cfg.start)
        self.end_day = cal.day(cfg.end) if cfg.end is not None else 10**9
        self.steps = [
            Step(
                cal.day(s.from_),
                s.weekly_cap * ctx.scale,
                frozenset(GROUP_INDEX[g] for g in s.groups),
            )
            for s in cfg.phase_in
        ]
        self.nats = frozenset(NAT_INDEX[n] for n in cfg.eligible_nationalities)
        self.bit = COUNTRY_BIT[cfg.receiving_country]
        self.receiving_country = cfg.receiving_country
        self.max_wait = cfg.max_wait_days
        self.referral = cfg.referral_share
        self._transfer, self._fallback = transfer, fallback
        self.week = -1
        self.used = 0.0
        self.waiting: deque[tuple[Party, object]] = deque()
        self.awaiting = [0] * 15  # persons waiting, by cell
        self.rs = ctx.rng(f"agreement:{cfg.name}")
        self._referred = ctx.rec.index("transfer_referred")

    def step_at(self, day: int) -> Step | None:
        found = None
        for s in self.steps:
            if s.day <= day:
                found = s
        return found

    def eligible(self, party: Party, day: int) -> bool:
        if not (self.start_day <= day < self.end_day) or party.nat not in self.nats:
            return False
        step = self.step_at(day)
        if step is None or party.group not in step.groups:
            return False
        return bool(party.transited & self.bit) and not (party.sought & self.bit)

    def _roll_week(self, day: int) -> None:
        week = (day - self.start_day) // 7
        if week != self.week:
            self.week, self.used = week, 0.0

    def _fits(self, party: Party, day: int) -> bool:
        step = self.step_at(day)
        return step is not None and self.used + party.size <= step.cap + 1e-9

    def consider(self, party: Party, now: float) -> bool:
        """Is the processed party eligible and referred for transfer under this agreement?"""
        day = int(now)
        if not self.eligible(party, day) or self.rs.uniform() >= self.referral:
            return False
        self.ctx.rec.add(day, self._referred, party.cell, party.size, self.index)
        return True

    def try_transfer(self, party: Party, now: float) -> bool:
        """Transfer now if this week's cap leaves room for the whole party."""
        day = int(now)
        self._roll_week(day)
        if not self._fits(party, day):
            return False
        self.used += party.size
        self._transfer(party, self, now)
        return True

    def wait(self, party: Party) -> None:
        """Hold the party in custody for a slot, at most `max_wait_days`."""
        ticket = party.waiting = object()
        self.waiting.append((party, ticket))
        self.awaiting[party.cell] += party.size
        ev = Timeout(self.ctx.env, self.max_wait, (party, ticket))
        ev.callbacks.append(self._deadline)

    def _leave_wait(self, party: Party) -> None:
        party.waiting = None
        self.awaiting[party.cell] -= party.size

    def _deadline(self, ev: Timeout) -> None:
        party, ticket = ev._value
        if party.waiting is ticket:
            self._leave_wait(party)
            self._fallback(party, self, self.ctx.env.now)

    def tick(self, day: int) -> None:
        """Start of day: new week, new step or end date; serve the waiting list first-fit."""
        if not self.waiting:
            return
        now = float(day)
        still: deque[tuple[Party, object]] = deque()
        self._roll_week(day)
        for entry in self.waiting:
            party, ticket = entry
            if party.waiting is not ticket:
                continue
            if not self.eligible(party, day):
                self._leave_wait(party)
                self._fallback(party, self, now)
            elif self._fits(party, day):
                self._leave_wait(party)
                self.used += party.size
                self._transfer(party, self, now)
            else:
                still.append(entry)
        self.waiting = still
