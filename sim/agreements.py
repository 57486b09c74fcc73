"""Asylum Cooperative Agreements: eligibility, phase-in steps and weekly caps.

A party is eligible when the agreement is active, its nationality is listed, its group is
allowed by the phase-in step in force, and it transited the receiving country without
seeking protection there. Weekly windows start on the agreement's start date; a transfer
happens only if it keeps the week's total within the cap in force that day, so a cap is
never exceeded. Eligible parties without a slot wait in custody up to `max_wait_days`.

The cap in force is set once a day, at the start of the day, by the step's `cap_rule`
(`PhaseStep`): a fixed weekly cap, a share of the receiving country's decision capacity,
or a ceiling on (or a cap shrinking with) its pending cases, read from the receiving
system before that day's decisions. A day whose rule allows 0 sees no transfer.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from simpy.events import Timeout

from sim.context import Context
from sim.domain import COUNTRY_BIT, GROUP_INDEX, NAT_INDEX
from sim.party import Party
from sim.scenario.schema import Agreement


@dataclass(frozen=True)
class Step:
    day: int
    cap: float  # persons per week, already scaled (the most a rule may allow)
    groups: frozenset[int]
    rule: str = "fixed"
    capacity_share: float | None = None
    backlog_ceiling: int | None = None


class ReceivingSignal(Protocol):
    """What a cap rule reads from the receiving country (its state at the start of a day)."""

    pending_cases: int  # at simulation scale

    def capacity_at(self, day: int) -> float: ...  # cases a year, full scale


def rule_cap(
    step: Step, scale: float, apply_share: float, receiving: ReceivingSignal | None, day: int
) -> float:
    """The weekly cap (persons, at simulation scale) that `step`'s rule allows on `day`."""
    full = step.cap / scale  # weekly_cap at full scale
    if step.rule == "fixed" or receiving is None:
        return step.cap
    if step.rule == "capacity_share":
        per_week = step.capacity_share * receiving.capacity_at(day) / 52.0
        return min(full, math.floor(per_week / max(apply_share, 1e-9))) * scale
    pending = receiving.pending_cases / scale
    if step.rule == "backlog_ceiling":
        return step.cap if pending < step.backlog_ceiling else 0.0
    # backlog_shrink
    return math.floor(full * max(0.0, 1.0 - pending / step.backlog_ceiling)) * scale


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
                s.cap_rule,
                s.capacity_share,
                s.backlog_ceiling,
            )
            for s in cfg.phase_in
        ]
        # set by the model once the receiving system exists (a read-only signal)
        self.receiving: ReceivingSignal | None = None
        self.apply_share = 1.0
        self.cap_day, self.cap = -1, 0.0
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

    def cap_on(self, day: int) -> float:
        """The weekly cap in force on `day` (persons at simulation scale), fixed at the first
        call of the day (the desk's tick, at the start of the day)."""
        if day != self.cap_day:
            step = self.step_at(day)
            active = step is not None and self.start_day <= day < self.end_day
            self.cap_day = day
            self.cap = (
                rule_cap(step, self.ctx.scale, self.apply_share, self.receiving, day)
                if active
                else 0.0
            )
        return self.cap

    def _fits(self, party: Party, day: int) -> bool:
        return self.used + party.size <= self.cap_on(day) + 1e-9

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
        """Start of day: the day's cap, new week, new step or end date; serve the waiting
        list first-fit."""
        self.cap_on(day)
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
