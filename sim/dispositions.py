"""The usual outcome of processing for adults and families: removal, release or detention.

Shares come from the scenario by nationality x group; the transit bar moves part of the
release share to removal for people who crossed a third country without seeking
protection there; when custody is over capacity some would-be detentions become releases.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.calendar import SimCalendar
from sim.domain import GROUPS, NATIONALITIES
from sim.party import Batch, Party
from sim.scenario.schema import Scenario

REMOVE, RELEASE, DETAIN = 0, 1, 2


class DispositionRule:
    def __init__(self, scenario: Scenario, cal: SimCalendar) -> None:
        d = scenario.dispositions
        self.shares: list[list[tuple[float, float]]] = []
        for nat in NATIONALITIES:
            row = []
            for g in GROUPS[:2]:
                s = d.shares.get(nat, {}).get(g)
                row.append((s.removal, s.release) if s else (0.0, 1.0))
            self.shares.append(row)
        self.overcrowding_release = d.overcrowding_release_share
        self.capacity = scenario.border.holding_capacity * scenario.scale  # persons held
        bar = scenario.transit_bar
        self.bar_day = cal.day(bar.start) if bar.start is not None else None
        self.bar_mult = bar.release_multiplier
        # the share of arrivals the bar applies to, by day (border-wide from its start, then
        # the dated court rulings), and the release share it moves to removal: list lookups
        # in the once-per-party `usual`
        cover = [0.0] * cal.days
        if self.bar_day is not None:
            cover = cal.step_values(
                [(bar.start, 1.0)]
                + [(s.from_, s.share) for s in bar.coverage if s.from_ > bar.start]
            ).tolist()
        self.bar_cover = cover
        self.bar_shift = [c * (1.0 - self.bar_mult) for c in cover]
        self.bar_on = [c > 0.0 for c in cover]
        # [nationality, adult group] tables for whole batches
        self.removal = np.array([[r for r, _ in row] for row in self.shares])
        self.release = np.array([[r for _, r in row] for row in self.shares])

    def usual_batch(
        self, day: int, nat: np.ndarray, grp: np.ndarray, transited, sought, u: np.ndarray
    ) -> np.ndarray:
        """`usual` for a batch of adults and families processed on `day` (uniforms `u`)."""
        removal, release = self.removal[nat, grp], self.release[nat, grp]
        if self.bar_on[day]:
            k = np.where(_barred(transited, sought), self.bar_shift[day], 0.0)
            removal = removal + release * k
            release = release * (1.0 - k)
        return np.where(u < removal, REMOVE, np.where(u < removal + release, RELEASE, DETAIN))

    def barred(self, party: Party, day: int) -> bool:
        """Transited a third country without seeking protection in any of them."""
        return self.bar_on[day] and bool(_barred(party.transited, party.sought))

    def usual(self, party: Party, day: int, u: float) -> int:
        """`usual_batch` for one party (the rule is written once, for batches)."""
        one = (np.array([v]) for v in (party.nat, party.group, party.transited, party.sought))
        return int(self.usual_batch(day, *one, np.array([u]))[0])

    def decide(self, party: Party, day: int, u: float, u2: float, overcrowded: bool) -> int:
        """`decide_batch` for one party, with the occupancy check's answer given."""
        outcome = self.usual(party, day, u)
        if outcome == DETAIN and overcrowded and u2 < self.overcrowding_release:
            return RELEASE
        return outcome

    def decide_batch(
        self, day: int, batch: Batch, held_at: Callable[[np.ndarray], np.ndarray], g
    ) -> np.ndarray:
        """The outcome of each party of a batch processed on `day` (in time order): the usual
        draw, then a would-be detention becomes a release with `overcrowding_release`
        where custody holds more than its capacity at that instant (`held_at(times)`).
        `g`: the numpy generator of the draws."""
        u = g.random(len(batch))
        outcome = self.usual_batch(day, batch.nat, batch.grp, batch.transited, batch.sought, u)
        detain = np.flatnonzero(outcome == DETAIN)
        if len(detain):
            crowded = held_at(batch.t[detain]) > self.capacity
            if crowded.any():
                u2 = g.random(len(detain))
                outcome[detain[crowded & (u2 < self.overcrowding_release)]] = RELEASE
        return outcome


def _barred(transited, sought):
    """Crossed a third country without seeking protection in any of those crossed."""
    return (transited != 0) & ((sought & transited) == 0)
