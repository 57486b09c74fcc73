"""Journey planning compiled with numba: `JourneyPlanner.plan` (`sim.journey`) in one call,
for runs large enough to repay numba's load (`sim.kernels.use_compiled`).

It is the same rule making the same random draws in the same order from the same stream
(numba's `np.random.Generator` methods are numpy's algorithms on the generator's own bit
generator), and the same floating-point operations, so it returns the same numbers; the
numpy planner stays the reference it is tested against. What it saves is numpy's cost per
call: a day's re-attempts and extra departures (about 700 parties at full scale) are
planned by some sixty numpy calls over [party, leg] arrays, about 250 microseconds a
day, most of it call overhead; here it is one call and one pass over the legs.

Only the times of Mexican enforcement stops are left to the caller: they invert the
cumulative hazard with `np.interp`, whose search among tied values (days without
enforcement) is numpy's own.
"""

from __future__ import annotations

import numpy as np
from numba import njit

ARRIVE, STOPPED, PROTECTION = 0, 1, 2  # as in sim.journey


@njit(cache=True)
def _cum_hazard(t, slope, cum, last):
    """`np.interp(t, grid, cum)` on the daily grid 0..last (see `JourneyPlanner._H`)."""
    if t < 0.0:
        return cum[0]
    if not t < last:
        return cum[len(cum) - 1]
    day = np.int64(t)
    return slope[day] * (t - day) + cum[day]


@njit(cache=True)
def plan(
    t0, nat, origin, rng, n_nat, route_cum, route_total, route_row, leg_mean, leg_class,
    leg_scale, shapes, apply_p, leg_continue, exposed_leg, transited_upto, leg_bit, slope,
    cum, last,
):  # fmt: skip
    """(kind, time, transited, sought, stopped, stop_h): the outcomes as `plan`'s, but for
    the stop times of the parties `stopped` (in the order numpy sets them), whose
    cumulative hazards at the stop are `stop_h`."""
    n, legs = len(t0), leg_mean.shape[1]
    # the route: a uniform against the origin's cumulative shares
    route = np.empty(n, dtype=np.int64)
    rn = np.empty(n, dtype=np.int64)
    for i in range(n):
        o = origin[i]
        u = rng.random() * route_total[o]
        pick = 0
        for j in range(route_cum.shape[1] - 1):
            if u >= route_cum[o, j]:
                pick += 1
        r = route_row[o, pick]
        route[i] = r
        rn[i] = r * n_nat + nat[i]
    # leg durations: the mean where fixed; gamma draws one shape class after another, each
    # class's legs in row-major order
    dur = np.empty((n, legs))
    for i in range(n):
        r = route[i]
        for j in range(legs):
            c = leg_class[r, j]
            dur[i, j] = (
                rng.standard_gamma(shapes[0]) * leg_scale[r, j] if c == 0 else leg_mean[r, j]
            )
    for c in range(1, len(shapes)):
        shape = shapes[c]
        for i in range(n):
            r = route[i]
            for j in range(legs):
                if leg_class[r, j] == c:
                    dur[i, j] = rng.standard_gamma(shape) * leg_scale[r, j]
    # protection: who applies (a draw for every leg where one may), after every duration
    ends = np.empty((n, legs))
    time = np.empty(n)
    end_leg = np.full(n, legs)
    kind = np.zeros(n, dtype=np.int8)
    applied = np.empty(n * legs, dtype=np.int64)
    n_applied = 0
    for i in range(n):
        acc = dur[i, 0]
        ends[i, 0] = acc
        for j in range(1, legs):
            acc = acc + dur[i, j]
            ends[i, j] = acc
        time[i] = t0[i] + acc
        k = rn[i]
        for j in range(legs):
            p = apply_p[k, j]
            if p > 0.0 and rng.random() < p:  # (a draw only where one may apply)
                applied[n_applied] = i * legs + j
                n_applied += 1
    # then who stays (a draw for each who applied, in the same order)
    for a in range(n_applied):
        i, j = applied[a] // legs, applied[a] % legs
        if rng.random() >= leg_continue[route[i], j] and j < end_leg[i]:
            end_leg[i] = j
    if n_applied:
        for i in range(n):
            if end_leg[i] < legs:
                kind[i] = PROTECTION
                leg = end_leg[i]
                start = t0[i]
                x = start + (ends[i, leg] - dur[i, leg])
                time[i] = x if x > start else start
    # Mexican enforcement on the Mexican leg(s) of those still travelling there: an
    # exponential for each party exposed, in party order, one Mexican leg after the other
    stopped = np.empty(n, dtype=np.int64)
    stop_h = np.empty(n)
    n_stopped = 0
    for nth in range(exposed_leg.shape[1]):
        for i in range(n):
            leg = exposed_leg[rn[i], nth]
            if leg >= 0 and end_leg[i] > leg:
                e = rng.standard_exponential()
                end = t0[i] + ends[i, leg]
                h0 = _cum_hazard(end - dur[i, leg], slope, cum, last)
                h1 = _cum_hazard(end, slope, cum, last)
                if (h1 - h0) > e:
                    end_leg[i] = leg
                    kind[i] = STOPPED
                    stopped[n_stopped] = i
                    stop_h[n_stopped] = h0 + e
                    n_stopped += 1
    transited = np.empty(n, dtype=np.int64)
    sought = np.zeros(n, dtype=np.int64)
    for i in range(n):
        transited[i] = transited_upto[rn[i], end_leg[i]]
    for a in range(n_applied):
        i, j = applied[a] // legs, applied[a] % legs
        if j <= end_leg[i]:  # applied before the journey ended
            sought[i] |= leg_bit[route[i], j]
    return kind, time, transited, sought, stopped[:n_stopped], stop_h[:n_stopped]


def warm() -> None:
    """Load (or compile into the cache) the kernel for the planner's array types, by
    planning nobody: no random number is drawn."""
    f, i = np.empty((0, 1)), np.empty((0, 1), dtype=np.int64)
    plan(
        np.empty(0), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64),
        np.random.default_rng(0), 1, f, np.empty(0), i, f, np.empty((0, 1), dtype=np.int8),
        f, np.empty(0), f, f, i, i, i, np.empty(0), np.zeros(1), 0.0,
    )  # fmt: skip
