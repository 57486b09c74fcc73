"""The usual outcome of processing for adults and families: removal, release or detention.

Shares come from the scenario by nationality x group; the transit bar moves part of the
release share to removal for people who crossed a third country without seeking
protection there; when custody is over capacity some would-be detentions become releases.
"""

from __future__ import annotations

from sim.calendar import SimCalendar
from sim.domain import GROUPS, NATIONALITIES
from sim.party import Party
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

    def barred(self, party: Party, day: int) -> bool:
        """Transited a third country without seeking protection in any of them."""
        return self.bar_on[day] and party.transited != 0 and (party.sought & party.transited) == 0

    def decide(self, party: Party, day: int, u: float, u2: float, overcrowded: bool) -> int:
        outcome = self.usual(party, day, u)
        if outcome == DETAIN and overcrowded and u2 < self.overcrowding_release:
            return RELEASE
        return outcome

    def usual(self, party: Party, day: int, u: float) -> int:
        """The outcome before the overcrowding rule, which only turns DETAIN into RELEASE
        (so the model looks at the occupancy, and draws `u2`, only for would-be detentions)."""
        removal, release = self.shares[party.nat][party.group]
        # self.barred(party, day), inlined
        if self.bar_on[day] and party.transited and not party.sought & party.transited:
            k = self.bar_shift[day]
            removal += release * k
            release *= 1.0 - k
        if u < removal:
            return REMOVE
        if u < removal + release:
            return RELEASE
        return DETAIN
