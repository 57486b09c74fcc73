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
from sim.domain import COUNTRIES, COUNTRY_BIT, NAT_INDEX
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
    start: np.ndarray  # departure time (days)

    def take(self, mask: np.ndarray) -> Outcomes:
        return Outcomes(
            self.kind[mask],
            self.time[mask],
            self.transited[mask],
            self.sought[mask],
            self.start[mask],
        )


class JourneyPlanner:
    """Routes are tables of legs (one row per route, padded to the longest route), and what
    depends only on the route and the nationality (who is in transit where, the chance of
    applying for protection, the transit bits up to each leg) is tabulated once. A batch is
    then planned with a few gathers over [party, leg] arrays and sparse work for the few who
    apply for protection: a few dozen numpy operations per batch, whatever the mix of
    origins, routes and legs."""

    def __init__(self, scenario: Scenario, cal: SimCalendar) -> None:
        j = scenario.journey
        n_nat = len(NAT_INDEX)
        # per origin (a nationality code): cumulative route shares (padded with +inf) and
        # the routes' rows in the leg tables
        rows: list[list[tuple[int, float, float]]] = []
        width = max((len(r) for r in j.routes.values()), default=1)
        self.route_cum = np.full((n_nat, width), np.inf)
        self.route_row = np.full((n_nat, width), -1)
        for nat, routes in j.routes.items():
            o = NAT_INDEX[nat]
            self.route_cum[o, : len(routes)] = np.cumsum([r.share for r in routes])
            self.route_row[o, : len(routes)] = np.arange(len(rows), len(rows) + len(routes))
            rows += [
                [(COUNTRIES.index(leg.country), leg.mean_days, leg.cv) for leg in r.legs]
                for r in routes
            ]
        self.route_total = np.where(np.isinf(self.route_cum), 0.0, self.route_cum).max(axis=1)
        self.routed = self.route_total > 0  # origins with some route
        n_routes, k = len(rows), max((len(r) for r in rows), default=1)
        self.legs = k
        country = np.full((n_routes, k), -1)  # -1: past the end of the route
        self.leg_mean = np.zeros((n_routes, k))  # 0 past the end: no time
        self.leg_shape = np.zeros((n_routes, k))  # gamma shape 1/cv^2; 0: fixed duration
        for r, legs in enumerate(rows):
            for i, (c, mean, cv) in enumerate(legs):
                country[r, i], self.leg_mean[r, i] = c, mean
                self.leg_shape[r, i] = 1.0 / (cv * cv) if cv > 0 and mean > 0 else 0.0
        self.leg_scale = np.divide(
            self.leg_mean,
            self.leg_shape,
            out=np.zeros_like(self.leg_mean),
            where=self.leg_shape > 0,
        )
        # gamma draws are faster with one shape at a time, and routes use only a few shapes
        self.shapes = np.unique(self.leg_shape[self.leg_shape > 0])
        # each leg's shape class (an index into `shapes`), -1 for fixed durations
        self.leg_class = np.where(
            self.leg_shape > 0, np.searchsorted(self.shapes, self.leg_shape), -1
        ).astype(np.int8 if len(self.shapes) < 127 else np.int64)
        has_leg = country >= 0
        country_nat = np.array([NAT_INDEX.get(c, -1) for c in COUNTRIES])
        country_bit = np.array([COUNTRY_BIT[c] for c in COUNTRIES])
        prot = [j.protection.get(c) for c in COUNTRIES]
        apply_p = np.array([p.apply_probability if p else 0.0 for p in prot])
        self.leg_bit = np.where(has_leg, country_bit[country], 0)
        self.leg_continue = np.where(
            has_leg, np.array([p.continue_share if p else 1.0 for p in prot])[country], 1.0
        )
        # by [route * n_nat + nationality, leg]: in transit (not the party's own country)
        transit = has_leg[:, None, :] & (
            country_nat[country][:, None, :] != np.arange(n_nat)[None, :, None]
        )
        self.transit = transit.reshape(n_routes * n_nat, k)
        self.apply_p = np.where(self.transit, np.repeat(apply_p[country], n_nat, axis=0), 0.0)
        # transit bits of the legs up to each leg (the last column: the whole route)
        bits = np.where(self.transit, np.repeat(self.leg_bit, n_nat, axis=0), 0)
        upto = np.bitwise_or.accumulate(bits, axis=1) if k else bits
        self.transited_upto = np.concatenate([upto, upto[:, -1:]], axis=1).astype(np.int64)
        # each route's Mexican legs, in order (usually one), padded with -1
        mexico = COUNTRIES.index("mexico")
        legs_in_mexico = [[i for i, leg in enumerate(r) if leg[0] == mexico] for r in rows]
        self.mexican_legs = np.full((n_routes, max(map(len, legs_in_mexico), default=0)), -1)
        for r, legs in enumerate(legs_in_mexico):
            self.mexican_legs[r, : len(legs)] = legs
        # by [route * n_nat + nationality, n-th Mexican leg]: that leg where the party is in
        # transit on it (Mexican enforcement may stop it there), else -1
        rn_legs = np.repeat(self.mexican_legs, n_nat, axis=0)
        on_leg = rn_legs >= 0
        in_transit = self.transit[np.arange(len(rn_legs))[:, None], np.where(on_leg, rn_legs, 0)]
        self.exposed_leg = np.where(on_leg & in_transit, rn_legs, -1)
        self.all_routed = bool(self.routed.all())
        self.shape_list = self.shapes.tolist()
        n = cal.days + _HORIZON_PAD
        hazard = np.zeros(n)
        for step in scenario.enforcement.mexico:
            hazard[max(cal.day(step.from_), 0) :] = step.daily_hazard
        self.grid = np.arange(n + 1, dtype=float)
        self.cum_hazard = np.concatenate([[0.0], np.cumsum(hazard)])
        self.slope = np.diff(self.cum_hazard)  # as np.interp's: the rise over one day
        self.compiled = False  # see `use_kernel`

    def use_kernel(self) -> None:
        """Plan with the compiled kernel (`sim.journey_kernel`: the same numbers) from now
        on, loaded now rather than in the run (`sim.kernels.use_compiled` decides)."""
        from sim.journey_kernel import warm

        warm()
        self.compiled = True

    def _H(self, t: np.ndarray) -> np.ndarray:
        """The cumulative hazard at times `t`: `np.interp` on the daily grid, computed as
        np.interp does (slope times the offset into the day, plus the day's value), without
        its binary search: the grid is the days themselves (several times faster for a
        block's parties; the same numbers, tested against np.interp)."""
        if not len(t) or t.min() < 0.0 or not t.max() < self.grid[-1]:
            return np.interp(t, self.grid, self.cum_hazard)
        day = t.astype(np.int64)
        return self.slope[day] * (t - day) + self.cum_hazard[day]

    def _H_inv(self, h: np.ndarray) -> np.ndarray:
        return np.interp(h, self.cum_hazard, self.grid)

    def _durations(self, route: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Leg durations [party, leg]: the mean where fixed, else gamma draws, one call per
        shape class (in the classes' order) for that class's legs in row-major order. The
        legs of each class are found by a mask per class: a few times faster than one
        stable sort of the classes for a block's 100,000 legs, and no slower for a day's."""
        dur = self.leg_mean[route]
        if not len(self.shapes):
            return dur
        cls = self.leg_class[route].ravel()
        flat, scale = dur.reshape(-1), None
        for c, shape in enumerate(self.shape_list):
            at = (cls == c).nonzero()[0]  # row-major order
            if not len(at):
                continue  # (a draw of none takes no number from the stream)
            if scale is None:
                scale = self.leg_scale[route].reshape(-1)
            flat[at] = rng.standard_gamma(shape, len(at)) * scale[at]
        return dur

    def plan(
        self, t0: np.ndarray, nat: np.ndarray, origin: np.ndarray, rng: np.random.Generator
    ) -> Outcomes:
        """Outcomes for parties of nationality `nat` leaving `origin` (a nationality code) at `t0`.

        Legs are travelled in order; on each, a party in transit may apply for protection
        and stay, and on the Mexican leg Mexican enforcement may stop it. Leg durations are
        drawn for every leg of the route (those after the journey's end are ignored); other
        random numbers only where something can happen.
        """
        n, legs = len(t0), self.legs
        if n and not self.all_routed and not self.routed[origin].all():
            missing = sorted({int(o) for o in origin[self.route_total[origin] <= 0]})
            raise ValueError(f"no journey.routes for origin(s) {missing}")
        if self.compiled:
            return self._plan_compiled(t0, nat, origin, rng)
        u = rng.random(n) * self.route_total[origin]
        pick = np.zeros(n, dtype=np.int64)
        for j in range(self.route_cum.shape[1] - 1):
            pick += u >= self.route_cum[origin, j]
        route = self.route_row[origin, pick]
        rn = route * len(NAT_INDEX) + nat  # row of the [route, nationality] tables
        dur = self._durations(route, rng)
        ends = dur.cumsum(axis=1)  # when each leg ends, less t0
        time = t0 + ends[:, -1]  # arrival, for those who arrive
        end_leg = np.full(n, legs)  # the leg on which the journey ends (legs: arrived)
        kind = np.zeros(n, dtype=np.int8)  # ARRIVE
        # protection seeking in transit countries: apply, then stay or continue (sparse; a
        # draw of none takes no number from the stream, so none is made)
        p_apply = self.apply_p[rn].ravel()
        may = (p_apply > 0.0).nonzero()[0]
        applied = may[rng.random(len(may)) < p_apply[may]] if len(may) else may
        if len(applied):
            who, leg_of = np.divmod(applied, legs)
            stays = rng.random(len(applied)) >= self.leg_continue[route[who], leg_of]
            np.minimum.at(end_leg, who[stays], leg_of[stays])
            settled = (end_leg < legs).nonzero()[0]
            if len(settled):
                kind[settled] = PROTECTION
                leg = end_leg[settled]
                # the leg's start, never before departure: `(t0 + ends) - dur` could round
                # to an ulp below t0 on the first leg (the sum before the leg is then 0)
                start = t0[settled]
                time[settled] = np.maximum(start + (ends[settled, leg] - dur[settled, leg]), start)
        # Mexican enforcement on the Mexican leg(s), for those still travelling there; it
        # does not stop Mexico's own nationals; the stop time inverts the cumulative hazard
        for nth in range(self.exposed_leg.shape[1]):  # a route's first Mexican leg, ...
            leg = self.exposed_leg[rn, nth]
            exposed = ((leg >= 0) & (end_leg > leg)).nonzero()[0]
            if not len(exposed):
                continue
            leg = leg[exposed]
            e_stop = rng.standard_exponential(len(exposed))
            end = t0[exposed] + ends[exposed, leg]
            k = len(exposed)  # the hazard at the leg's start and end, in one call
            h = self._H(np.concatenate([end - dur[exposed, leg], end]))
            h0 = h[:k]
            stop = (h[k:] - h0) > e_stop
            stopped = exposed[stop]
            if len(stopped):
                end_leg[stopped] = leg[stop]
                kind[stopped] = STOPPED
                time[stopped] = self._H_inv(h0[stop] + e_stop[stop])
        transited = self.transited_upto[rn, end_leg]
        sought = np.zeros(n, dtype=np.int64)
        if len(applied):
            on_way = leg_of <= end_leg[who]  # applied before the journey ended
            w = who[on_way]
            np.bitwise_or.at(sought, w, self.leg_bit[route[w], leg_of[on_way]])
        return Outcomes(kind, time, transited, sought, t0)

    def _plan_compiled(self, t0, nat, origin, rng) -> Outcomes:
        """`plan` by the compiled kernel (the same draws and operations: the same numbers)."""
        from sim.journey_kernel import plan

        t0 = np.ascontiguousarray(t0, dtype=np.float64)
        kind, time, transited, sought, stopped, stop_h = plan(
            t0,
            np.ascontiguousarray(nat, dtype=np.int64),
            np.ascontiguousarray(origin, dtype=np.int64),
            rng,
            len(NAT_INDEX),
            self.route_cum,
            self.route_total,
            self.route_row,
            self.leg_mean,
            self.leg_class,
            self.leg_scale,
            self.shapes,
            self.apply_p,
            self.leg_continue,
            self.exposed_leg,
            self.transited_upto,
            self.leg_bit,
            self.slope,
            self.cum_hazard,
            self.grid[-1],
        )
        if len(stopped):
            time[stopped] = self._H_inv(stop_h)
        return Outcomes(kind, time, transited, sought, t0)
