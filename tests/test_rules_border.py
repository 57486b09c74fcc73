"""The border queue's order: children, then families, then single adults; FIFO within a
class; plain FIFO when `priority = "fifo"`; `processing_lanes` parties at a time.

`BorderStation` alone, one lane, processing times fixed by the test: the order in which
parties finish is the order the rule serves them.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.border import BorderStation
from sim.scenario.schema import Border
from tests.rulekit import at, context, flow, party

PRIORITY = ["unaccompanied_child", "family", "single_adult"]


def border_cfg(priority) -> Border:
    return Border(
        processing_lanes=1,
        processing_hours={"single_adult": 22, "family": 30, "unaccompanied_child": 30},
        holding_capacity=4000,
        priority=priority,
        port_of_entry_share={"mexico": 0.0},
        hhs_hours=48,
    )


# label, group, arrival time (days); the first one occupies the only lane
ARRIVALS = [
    ("S0", "single_adult", 0.00),
    ("S1", "single_adult", 0.10),
    ("F1", "family", 0.15),
    ("C1", "unaccompanied_child", 0.20),
    ("S2", "single_adult", 0.25),
    ("C2", "unaccompanied_child", 0.30),
    ("F2", "family", 0.35),
]


def serve(priority, lanes: int = 1, service: float = 1.0, via_open_day: bool = False):
    """Finish order (labels) and finish times of ARRIVALS with fixed processing times."""
    ctx = context(days=30)
    done: list[tuple[str, float]] = []
    labels = {}

    def processed(p, now):
        done.append((labels[id(p)], now))

    station = BorderStation(ctx, border_cfg(priority), lanes, processed)
    parties = []
    for label, group, t in ARRIVALS:
        p = party(group=group, t=t, service=service)
        labels[id(p)] = label
        parties.append(p)
    if via_open_day:  # the model's path: the day's entries handed over at the daily tick
        times = np.array([t for _, _, t in ARRIVALS])
        station.open_day(0, times, np.full(len(times), service), parties)
    else:
        for p in parties:
            at(ctx, p.t_arrival, station.admit, p)
    ctx.env.run(until=30)
    return [label for label, _ in done], [t for _, t in done], ctx


@pytest.mark.parametrize("via_open_day", [False, True])
def test_children_then_families_then_single_adults_fifo_within_class(via_open_day):
    order, times, _ = serve(PRIORITY, via_open_day=via_open_day)
    assert order == ["S0", "C1", "C2", "F1", "F2", "S1", "S2"]
    # one lane, one day each: back to back from the first arrival
    assert times == pytest.approx([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])


@pytest.mark.parametrize("via_open_day", [False, True])
def test_fifo_rule_serves_in_arrival_order(via_open_day):
    order, _, _ = serve("fifo", via_open_day=via_open_day)
    assert order == ["S0", "S1", "F1", "C1", "S2", "C2", "F2"]


def test_reversed_priority_list_is_obeyed():
    order, _, _ = serve(["single_adult", "family", "unaccompanied_child"])
    assert order == ["S0", "S1", "S2", "F1", "F2", "C1", "C2"]


def test_queue_wait_is_recorded_in_person_days():
    # FIFO, one lane, 1 day each: S1 waits 1.0 - 0.10, F1 (3 persons) waits 2.0 - 0.15, ...
    _, times, ctx = serve("fifo")
    starts = [0.0, *times[:-1]]
    sizes = [1, 1, 3, 1, 1, 1, 3]
    expected = sum(
        (s - t) * n for (_, _, t), s, n in zip(ARRIVALS, starts, sizes, strict=True) if s > t
    )
    assert flow(ctx, "queue_wait_days") == pytest.approx(expected)


def test_lanes_serve_that_many_at_once():
    order, times, _ = serve("fifo", lanes=3, service=1.0)
    # three lanes: S0, S1, F1 start on arrival; C1 starts when S0 ends (t = 1.0), ...
    assert order == ["S0", "S1", "F1", "C1", "S2", "C2", "F2"]
    assert times == pytest.approx([1.0, 1.10, 1.15, 2.0, 2.10, 2.15, 3.0])
