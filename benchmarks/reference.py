"""The straightforward way, for comparison: one SimPy process per person, `simpy` resources.

This is how a DES of the border is usually first written, and what `sim.model` is measured
against in `bench_full_scale.py`:

- a source process starts one process per *person* at the person's departure time;
- each person's process waits out the journey (`env.timeout`) to its end: stopped in Mexico,
  settled on the way, or arrived at the border;
- at the border the party's first member requests a lane of a `simpy.Resource`, is
  processed for an exponential time and releases the lane; the other members wait for
  that party's event, because a family is processed as a unit in the model too
  (processing every person separately would change the load);
- after processing: unaccompanied children are held 48 h more and go to HHS; adults and
  families are removed, released or detained (scenario shares, the overcrowding rule);
- every person's outcome is counted per day and cell in a `collections.Counter`.

It is fed the *same people* the model simulated (departure times, journey outcomes and
arrival times, every re-attempt as a new departure; see `capture`), so it does no
departure, journey or re-attempt computation of its own. It also leaves out metering,
Remain in Mexico, the agreements, the transit bar and deterrence, and serves the queue
first come, first served: `simpy.PriorityResource`, which would give the model's
priority order, re-sorts its whole queue on every request, which with tens of thousands
waiting in 2019 takes the reference hours rather than minutes. It therefore does less
work than the model; the speed-up measured against it understates the real one.
"""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import simpy

from sim.dispositions import DispositionRule
from sim.domain import GROUPS, UAC
from sim.journey import PROTECTION, STOPPED
from sim.model import Model

COLUMNS = ("start", "kind", "end", "nat", "grp", "size")


def capture(scenario) -> dict[str, np.ndarray]:
    """Run the model once and return the parties it simulated (first departures, extra
    departures and re-attempts), with departure time and journey outcome, as columns.

    The model keeps a journey as a row (end time, code: see `sim.travel._rows`; no
    departure time); here the rows are built with the departure time as one more, trailing
    column, read off as the model files each day's departures (`Travel._file`), and
    dropped before they are filed, so the run is the model's own."""
    from sim import travel

    build, launched = travel._rows, []

    def with_start(out, nat, grp, size, port) -> np.ndarray:  # noqa: ANN001
        return np.column_stack([build(out, nat, grp, size, port), out.start])

    model = Model(scenario)
    file = model.travel._file

    def recording(day: int, rows: np.ndarray, fresh: int) -> None:
        if len(rows):
            code = rows[:, travel._CODE].astype(np.int64)
            launched.append(
                (
                    rows[:, -1],
                    travel._field(code, "kind"),
                    rows[:, travel._TIME],
                    travel._field(code, "nat"),
                    travel._field(code, "grp"),
                    code >> travel._SIZE_SHIFT,
                )
            )
        file(day, np.ascontiguousarray(rows[:, :-1]), fresh)  # the model's own rows

    model.travel._file = recording
    travel._rows = with_start
    try:
        model.run()
    finally:
        travel._rows = build
    cols = [np.concatenate(c) for c in zip(*launched, strict=True)]
    out = dict(zip(COLUMNS, cols, strict=True))
    for c in ("kind", "nat", "grp", "size"):
        out[c] = out[c].astype(np.int64)
    return out


def simulate(parties: dict[str, np.ndarray], scenario, days: int, seed: int = 1) -> dict:
    """Simulate `parties` person by person until time `days`; returns counts and events."""
    sc = scenario
    env = simpy.Environment()
    lanes = max(1, round(sc.border.processing_lanes * sc.scale))
    border = simpy.Resource(env, capacity=lanes)
    capacity = sc.border.holding_capacity * sc.scale
    mean_days = [getattr(sc.border.processing_hours, g) / 24.0 for g in GROUPS]
    hhs_days = sc.border.hhs_hours / 24.0
    rule = DispositionRule(sc, Model(sc).cal)
    overcrowding_release = rule.overcrowding_release
    rnd = random.Random(seed)
    counts: Counter = Counter()
    in_custody = [0]

    def person(end: float, kind: int, nat: int, grp: int, head: bool, party: simpy.Event | None):
        yield env.timeout(max(end - env.now, 0.0))
        cell = nat * 3 + grp
        if kind == STOPPED:
            counts["stopped_in_mexico", int(env.now), cell] += 1
            return
        if kind == PROTECTION:
            counts["protection_en_route", int(env.now), cell] += 1
            return
        counts["encounters", int(env.now), cell] += 1
        in_custody[0] += 1
        if head:
            with border.request() as lane:
                yield lane
                yield env.timeout(rnd.expovariate(1.0 / mean_days[grp]))
            if grp == UAC:
                outcome = "hhs_referred"
            else:
                removal, release = rule.shares[nat][grp]
                u = rnd.random()
                if u < removal:
                    outcome = "removed"
                elif u < removal + release or (
                    in_custody[0] > capacity and rnd.random() < overcrowding_release
                ):
                    outcome = "released"
                else:
                    outcome = "detained"
            if party is not None:
                party.succeed(outcome)
        else:
            outcome = yield party
        counts["processed", int(env.now), cell] += 1
        if outcome == "hhs_referred":
            yield env.timeout(hhs_days)
        in_custody[0] -= 1
        counts[outcome, int(env.now), cell] += 1

    def source():
        order = np.argsort(parties["start"], kind="stable")
        rows = zip(*(parties[c][order].tolist() for c in COLUMNS), strict=True)
        for start, kind, end, nat, grp, size in rows:
            yield env.timeout(max(start - env.now, 0.0))
            party = env.event() if size > 1 else None
            for member in range(size):
                env.process(person(end, kind, nat, grp, member == 0, party))

    env.process(source())
    env.run(until=days)
    return {"counts": counts, "events": next(env._eid)}
