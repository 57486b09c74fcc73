"""The routes' response to Mexico's enforcement: `enforcement.port_shift`.

From the surge (the first later hazard step, 7 June 2019), a share of the non-Mexican
parties reaching the border who would cross between ports present at a port of entry
instead. A lever, not a fitted strength: fitted as a 25th strength (round 11, README
"Calibration") it came out at 0.03 with a worse fit than the shipped one. Drawn from a
stream of its own, so with the lever at 0 nothing moves, and with it set only the port
flags of arrivals from the surge on change.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.calendar import SimCalendar
from sim.domain import NAT_INDEX
from sim.party import Batch
from sim.recorder import N_CELLS, Recorder
from sim.scenario.loader import ScenarioError, with_overrides
from sim.travel import Travel
from tests.conftest import scenario

SURGE = dt.date(2019, 6, 7)
MX = NAT_INDEX["mexico"]


def _arrivals(shift: float, first: dt.date, last: dt.date) -> tuple[SimCalendar, dict[int, Batch]]:
    """Each day's border arrivals from `first` to `last`, departures from 90 days before."""
    sc = with_overrides(scenario("historical", "scale=0.1"), {"enforcement.port_shift": shift})
    cal = SimCalendar(sc.origin, sc.start, sc.end)
    travel = Travel(sc, cal, Recorder(cal.days, []), 0)
    d0, d1 = cal.day(first), cal.day(last)
    out = {}
    for day in range(d0 - 90, d1 + 1):
        travel.depart(day, np.ones(N_CELLS), None)
        if day >= d0:
            out[day] = travel.arrivals(day)
    return cal, out


def test_no_shift_by_default_and_none_without_a_surge():
    sc = scenario("historical")
    assert sc.enforcement.port_shift == 0.0 and sc.enforcement.port_shift_from() is None
    shifted = with_overrides(sc, {"enforcement.port_shift": 0.3})
    assert shifted.enforcement.port_shift_from() == SURGE
    one_step = shifted.enforcement.model_copy(update={"mexico": shifted.enforcement.mexico[:1]})
    assert one_step.port_shift_from() is None  # no surge, nothing to respond to
    with pytest.raises(ScenarioError, match="port_shift"):
        with_overrides(sc, {"enforcement.port_shift": 1.5})


def test_from_the_surge_would_be_crossers_go_to_the_ports_and_nothing_else_moves():
    """With the whole share (1.0): before the surge the arrivals are those of a run without
    the lever; from it every non-Mexican arrives at a port, Mexicans as before, and every
    other column of every arrival is unchanged."""
    first, last = SURGE - dt.timedelta(days=10), SURGE + dt.timedelta(days=10)
    cal, plain = _arrivals(0.0, first, last)
    _, shifted = _arrivals(1.0, first, last)
    surge = cal.day(SURGE)
    moved = 0
    for day, a in plain.items():
        b = shifted[day]
        for col in ("nat", "grp", "size", "transited", "sought", "t", "t_in"):
            assert np.array_equal(getattr(a, col), getattr(b, col)), (day, col)
        mexican = a.nat == MX
        if day < surge:
            assert np.array_equal(a.port, b.port), day
        else:
            assert b.port[~mexican].all(), day
            assert np.array_equal(a.port[mexican], b.port[mexican]), day
            moved += int((~a.port & ~mexican).sum())
    assert moved > 100  # (the check had would-be crossers to move)


def test_the_share_of_would_be_crossers_moved_is_the_lever():
    first, last = SURGE, SURGE + dt.timedelta(days=30)
    _, plain = _arrivals(0.0, first, last)
    _, shifted = _arrivals(0.4, first, last)
    crossers = np.concatenate([~a.port & (a.nat != MX) for a in plain.values()])
    moved = np.concatenate([b.port for b in shifted.values()])[crossers]
    n = len(moved)
    assert n > 500
    assert abs(moved.mean() - 0.4) < 4 * np.sqrt(0.4 * 0.6 / n)


def test_a_fragment_carries_the_shift_only_when_set():
    """`migsim calibrate --set enforcement.port_shift=...` fits the rest with the shift in
    place, so its fragment must carry it (and the shipped fragment, without it, does not
    name it); the fragment read back gives the same shift."""
    import tomllib
    from types import SimpleNamespace

    from sim.fitting.fragment import to_toml

    record = {
        "method": "m",
        "objective": "o",
        "observed": "x",
        "command": "c",
        "iterations": 1,
        "replications": 1,
        "scale": 0.2,
        "final_error": {},
    }
    cal = SimpleNamespace(record=record)
    base = scenario("historical")
    assert "port_shift" not in to_toml(cal, base, "h")
    shifted = with_overrides(base, {"enforcement.port_shift": 0.0323})
    text = to_toml(cal, shifted, "h")
    assert tomllib.loads(text)["enforcement"]["port_shift"] == 0.0323
