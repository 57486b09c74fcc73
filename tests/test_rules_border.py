"""The border queue's order: children, then families, then single adults; FIFO within a
class; plain FIFO when `priority = "fifo"`; `processing_lanes` parties at a time.

`BorderStation` alone, one lane, processing times fixed by the test: the order in which
parties finish is the order the rule serves them.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.border import BorderStation
from sim.lanes import Lanes
from sim.party import Batch
from sim.scenario.schema import Border
from tests.rulekit import context, flow, party

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


def serve(priority, lanes: int = 1, service: float = 1.0, compiled: bool = False):
    """Finish order (labels) and finish times of ARRIVALS with fixed processing times, the
    model's way: the day's entries handed to the station at once, then a day at a time."""
    ctx = context(days=30)
    station = BorderStation(ctx, border_cfg(priority), lanes)
    station.lanes = Lanes(lanes, compiled=compiled)
    parties = [party(group=group, t=t) for _, group, t in ARRIVALS]
    labels = {t: label for label, _, t in ARRIVALS}  # arrival times are distinct
    entries = Batch.of_parties([(p.t_arrival, p) for p in parties])
    done = [station.take_in(0, entries, service=np.full(len(parties), service))]
    done += [station.take_in(day, Batch.empty()) for day in range(1, 30)]
    out = Batch.concat(done)
    return [labels[t] for t in out.t_in.tolist()], out.t.tolist(), ctx


@pytest.mark.parametrize("compiled", [False, True])
def test_children_then_families_then_single_adults_fifo_within_class(compiled):
    order, times, _ = serve(PRIORITY, compiled=compiled)
    assert order == ["S0", "C1", "C2", "F1", "F2", "S1", "S2"]
    # one lane, one day each: back to back from the first arrival
    assert times == pytest.approx([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])


@pytest.mark.parametrize("compiled", [False, True])
def test_fifo_rule_serves_in_arrival_order(compiled):
    order, _, _ = serve("fifo", compiled=compiled)
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
