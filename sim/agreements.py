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

A stage: the desk says whether a party is eligible and referred, transfers it or puts it
on its waiting list, and returns (from `tick` and `expire`) the parties transferred from
the list and those falling back; the model routes them onward.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sim.context import Context
from sim.domain import COUNTRY_BIT, GROUP_INDEX, NAT_INDEX, STATE_INDEX
from sim.party import Batch, Party
from sim.recorder import N_CELLS
from sim.scenario.schema import Agreement

IN_CUSTODY = STATE_INDEX["in_custody"]


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
    def __init__(self, ctx: Context, cfg: Agreement, index: int) -> None:
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
        self.week = -1
        self.used = 0.0
        # (party, ticket, deadline) in the order they started waiting
        self.waiting: deque[tuple[Party, object, float]] = deque()
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

    def eligible_rows(self, batch: Batch, day: int) -> np.ndarray:
        """`eligible` for every row of a batch processed on `day` (a mask)."""
        step = self.step_at(day)
        if not (self.start_day <= day < self.end_day) or step is None:
            return np.zeros(len(batch), dtype=bool)
        return (
            np.isin(batch.nat, list(self.nats))
            & np.isin(batch.grp, list(step.groups))
            & ((batch.transited & self.bit) != 0)
            & ((batch.sought & self.bit) == 0)
        )

    def refer(self, day: int, cell: int, size: int) -> bool:
        """Is an eligible party referred (drawn with `referral_share`)? Counted if so."""
        if self.rs.uniform() >= self.referral:
            return False
        self.ctx.rec.add(day, self._referred, cell, size, self.index)
        return True

    def refer_rows(self, day: int, eligible: np.ndarray, cell, size) -> np.ndarray:
        """`refer` for the eligible rows of a batch (a mask), in order: the same draws from
        the desk's own stream, so the same numbers; the referred counted at once (whole
        persons: the same sums). Returns the mask of the referred."""
        rows = np.flatnonzero(eligible)
        referred = np.zeros(len(eligible), dtype=bool)
        if not len(rows):
            return referred
        hit = rows[self.rs.uniforms(len(rows)) < self.referral]
        if len(hit):
            referred[hit] = True
            persons = np.bincount(cell[hit], size[hit], N_CELLS)
            self.ctx.rec.add_cells(day, self._referred, persons, self.index)
        return referred

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

    def consider(self, party: Party, now: float) -> bool:
        """Is the processed party eligible and referred for transfer under this agreement?"""
        day = int(now)
        return self.eligible(party, day) and self.refer(day, party.cell, party.size)

    def try_transfer(self, size: int, now: float) -> bool:
        """Take a slot now if this week's cap leaves room for the whole party (`size`)."""
        day = int(now)
        self._roll_week(day)
        if self.used + size > self.cap_on(day) + 1e-9:
            return False
        self.used += size
        return True

    def wait(self, party: Party, now: float) -> None:
        """Hold the party in custody for a slot, at most `max_wait_days`."""
        ticket = party.waiting = object()
        self.waiting.append((party, ticket, now + self.max_wait))
        self.awaiting[party.cell] += party.size

    def _leave_wait(self, party: Party) -> None:
        party.waiting = None
        self.awaiting[party.cell] -= party.size

    def expire(self, until: float) -> list[tuple[float, Party]]:
        """Parties whose longest wait ends before `until`: they fall back, at that time."""
        out = []
        waiting = self.waiting
        while waiting and waiting[0][2] < until:  # deadlines in the order of the list
            party, ticket, deadline = waiting.popleft()
            if party.waiting is ticket:
                self._leave_wait(party)
                out.append((deadline, party))
        return out

    def tick(self, day: int) -> tuple[list[Party], list[Party]]:
        """Start of day: the day's cap, new week, new step or end date; serve the waiting
        list first-fit. Returns the parties transferred and those falling back (now)."""
        self.cap_on(day)
        transferred: list[Party] = []
        fallback: list[Party] = []
        if not self.waiting:
            return transferred, fallback
        still: deque[tuple[Party, object, float]] = deque()
        self._roll_week(day)
        for entry in self.waiting:
            party, ticket, _ = entry
            if party.waiting is not ticket:
                continue
            if not self.eligible(party, day):
                self._leave_wait(party)
                fallback.append(party)
            elif self.used + party.size <= self.cap_on(day) + 1e-9:
                self._leave_wait(party)
                self.used += party.size
                transferred.append(party)
            else:
                still.append(entry)
        self.waiting = still
        return transferred, fallback


def refer(
    desks: list[AgreementDesk], day: int, done: Batch
) -> tuple[np.ndarray, list[tuple[Party, AgreementDesk, float]]]:
    """The agreements' stage for the day's completions (adults and families, in time
    order): each eligible party is referred or not by each agreement; a referred party is
    transferred under the first with room in its weekly cap, else waits at the first.
    Returns the mask of the parties not referred, and the transfers (party, desk, time).
    Only the eligible parties (a few a day) are looked at one by one: caps bind in order."""
    others = np.ones(len(done), dtype=bool)
    transfers: list[tuple[Party, AgreementDesk, float]] = []
    masks = [desk.eligible_rows(done, day) for desk in desks]
    if not any(m.any() for m in masks):
        return others, transfers
    # each desk draws for its eligible parties in their order, from a stream of its own:
    # the same numbers as party by party, desk after desk
    cell, size, t = done.cell, done.size, done.t
    referred = [d.refer_rows(day, m, cell, size) for d, m in zip(desks, masks, strict=True)]
    rows = np.flatnonzero(np.logical_or.reduce(referred))
    if not len(rows):
        return others, transfers
    others[rows] = False
    for i, party in zip(rows.tolist(), done.take(rows).parties(IN_CUSTODY), strict=True):
        now = float(t[i])
        mine = [d for d, r in zip(desks, referred, strict=True) if r[i]]
        for desk in mine:
            if desk.try_transfer(party.size, now):
                transfers.append((party, desk, now))
                break
        else:
            mine[0].wait(party, now)
    return others, transfers
