"""The journey north, computed for a whole day's departures at once with numpy.

A party's route is fixed when it sets out, and so is its fate on the way: the legs'
durations, whether it applies for protection in a transit country (and stays), and whether
Mexican enforcement stops it. The enforcement hazard is a dated schedule known in advance,
so the stop time is exact: the cumulative hazard is inverted on a daily grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.calendar import SimCalendar
from sim.domain import COUNTRY_BIT, NAT_INDEX
from sim.scenario.schema import Scenario

ARRIVE, STOPPED, PROTECTION = 0, 1, 2
_HORIZON_PAD = 400  # days of schedule beyond the end, for journeys still under way


@dataclass
class Outcomes:
    """Fate of each party in a batch; all arrays have one entry per party."""

    kind: np.ndarray  # ARRIVE / STOPPED / PROTECTION
    time: np.ndarray  # arrival, stop or protection time (days)
    transited: np.ndarray  # bitmask of transit countries entered
    sought: np.ndarray  # bitmask of countries where the party applied for protection


class JourneyPlanner:
    def __init__(self, scenario: Scenario, cal: SimCalendar) -> None:
        j = scenario.journey
        self.routes = {
            NAT_INDEX[nat]: (
                np.cumsum([r.share for r in routes]),
                [[(leg.country, leg.mean_days, leg.cv) for leg in r.legs] for r in routes],
            )
            for nat, routes in j.routes.items()
        }
        self.protection = {
            c: (p.apply_probability, p.continue_share) for c, p in j.protection.items()
        }
        n = cal.days + _HORIZON_PAD
        hazard = np.zeros(n)
        for step in scenario.enforcement.mexico:
            hazard[max(cal.day(step.from_), 0) :] = step.daily_hazard
        self.grid = np.arange(n + 1, dtype=float)
        self.cum_hazard = np.concatenate([[0.0], np.cumsum(hazard)])

    def _H(self, t: np.ndarray) -> np.ndarray:
        return np.interp(t, self.grid, self.cum_hazard)

    def _H_inv(self, h: np.ndarray) -> np.ndarray:
        return np.interp(h, self.cum_hazard, self.grid)

    def plan(
        self, t0: np.ndarray, nat: np.ndarray, origin: np.ndarray, rng: np.random.Generator
    ) -> Outcomes:
        """Outcomes for parties of nationality `nat` leaving `origin` (a nationality code) at `t0`."""
        n = len(t0)
        kind = np.zeros(n, dtype=np.int8)
        time = t0.astype(float).copy()
        transited = np.zeros(n, dtype=np.int64)
        sought = np.zeros(n, dtype=np.int64)
        u_route = rng.random(n)
        for o in np.unique(origin):
            cum_shares, routes = self.routes[int(o)]
            in_origin = origin == o
            choice = np.searchsorted(cum_shares, u_route * cum_shares[-1], side="right")
            for r, legs in enumerate(routes):
                idx = np.flatnonzero(in_origin & (choice == r))
                if len(idx):
                    self._travel(idx, legs, nat, time, kind, transited, sought, rng)
        return Outcomes(kind, time, transited, sought)

    def _travel(self, idx, legs, nat, time, kind, transited, sought, rng) -> None:
        alive = idx
        for country, mean, cv in legs:
            if not len(alive):
                return
            m = len(alive)
            if cv > 0 and mean > 0:
                shape = 1.0 / (cv * cv)
                dur = rng.gamma(shape, mean / shape, m)
            else:
                dur = np.full(m, float(mean))
            u_apply, u_stay, e_stop = rng.random(m), rng.random(m), rng.standard_exponential(m)
            bit = COUNTRY_BIT[country]
            transit = nat[alive] != NAT_INDEX.get(country, -1)
            apply_p, cont = self.protection.get(country, (0.0, 1.0))
            applied = transit & (u_apply < apply_p)
            sought[alive[applied]] |= bit
            stays = applied & (u_stay >= cont)
            transited[alive[transit]] |= bit
            kind[alive[stays]] = PROTECTION
            alive, dur, e_stop, transit = (
                alive[~stays],
                dur[~stays],
                e_stop[~stays],
                transit[~stays],
            )
            if country == "mexico":
                exposed = transit  # Mexico does not stop its own nationals
                h0 = self._H(time[alive])
                h1 = self._H(time[alive] + dur)
                stop = exposed & ((h1 - h0) > e_stop)
                stopped = alive[stop]
                time[stopped] = self._H_inv(h0[stop] + e_stop[stop])
                kind[stopped] = STOPPED
                time[alive[~stop]] += dur[~stop]
                alive = alive[~stop]
            else:
                time[alive] += dur
