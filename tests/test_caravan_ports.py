"""Where a dated event's own members present themselves: the caravans went to the ports.

`Shock.port_of_entry_share` sends the departures a shock adds (its members) to the ports
of entry with their own share, so they join a metering list; everyone else keeps their
nationality's share. `departures.events` adds a documented group departure of documented
size (the October 2018 caravan, an input of `historical.toml`): people who left, as they
are (no deterrence multiplier), drawn from a stream of their own. A lever for scenarios, not a fitted strength: calibrated with the caravans' members at the
ports (round 9, README "Calibration"), the December 2018 waitlist rose towards its target
but the February 2019 one overshot it, and the fit was no better.
"""

from __future__ import annotations

import datetime as dt
import tomllib

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim.calendar import SimCalendar
from sim.departures import port_share, sized_events
from sim.domain import GROUP_INDEX, NAT_INDEX
from sim.fitting.demand import Demand, knots_for
from sim.fitting.fragment import shock_lines
from sim.recorder import Recorder
from sim.scenario.schema import Departures, Event, Shock
from sim.travel import _CODE, _MASK, _SHIFT, BLOCK, Travel, _field
from tests.conftest import scenario

HN, FAM = NAT_INDEX["honduras"], GROUP_INDEX["family"]
WINDOW = (dt.date(2018, 11, 1), dt.date(2019, 1, 1))


def _shock(name: str, multiplier: float, share: float | None, nats=("honduras",)) -> Shock:
    return Shock(
        name=name,
        start=WINDOW[0],
        end=WINDOW[1],
        multiplier=multiplier,
        nationalities=list(nats),
        groups=["family"],
        port_of_entry_share=share,
    )


def _with_shocks(*shocks: Shock, scale: float = 1.0):
    base = scenario("historical", f"scale={scale}")
    dep = base.departures.model_copy(update={"shocks": list(shocks)})
    return base.model_copy(update={"departures": dep})


def _journeys(sc, first: dt.date, days: int) -> np.ndarray:
    """Rows of the undeterred journeys (`sim.travel._rows`) setting out over `days` days."""
    cal = SimCalendar(sc.origin, sc.start, sc.end)
    travel = Travel(sc, cal, Recorder(cal.days, []), 0)
    d0 = cal.day(first)
    return np.concatenate([travel._undeterred(d)[3] for d in range(d0, d0 + days)])


def _col(rows: np.ndarray, name: str) -> np.ndarray:
    """One field of journeys' rows."""
    return _field(rows[:, _CODE].astype(np.int64), name)


def _clear_port(code: np.ndarray) -> np.ndarray:
    return code & ~(_MASK["port"] << _SHIFT["port"])


def test_a_port_share_needs_members_and_lies_in_zero_one() -> None:
    with pytest.raises(ValidationError, match="multiplier of at least 1"):
        _shock("lull", 0.8, 0.5)
    with pytest.raises(ValidationError):
        _shock("caravans", 1.2, 1.5)
    assert _shock("caravans", 1.2, None).port_of_entry_share is None


def test_members_present_at_ports_with_the_shocks_share_the_rest_with_their_own() -> None:
    base = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    cal = SimCalendar(dt.date(2018, 10, 1), dt.date(2018, 10, 1), dt.date(2019, 3, 1))
    a = _shock("caravans", 1.5, 1.0, nats=("honduras", "guatemala"))
    b = _shock("other_event", 2.0, 0.0)
    dep = Departures(shocks=[a, b])
    share = port_share(dep, cal, base)
    inside, outside = cal.day(dt.date(2018, 12, 1)), cal.day(dt.date(2019, 2, 1))
    gt = NAT_INDEX["guatemala"]
    # Honduran families: M = 1.5 x 2 = 3; a's members 0.5 / 3 at 1, b's 1 / 3 at 0
    assert share[inside, HN, FAM] == pytest.approx(
        base[HN] + 0.5 / 3 * (1 - base[HN]) + 1 / 3 * (0 - base[HN])
    )
    assert share[inside, gt, FAM] == pytest.approx(base[gt] + 0.5 / 1.5 * (1 - base[gt]))
    assert share[outside, HN, FAM] == base[HN]
    assert (share[:, :, GROUP_INDEX["single_adult"]] == base[None, :]).all()
    assert port_share(Departures(shocks=[_shock("caravans", 1.5, None)]), cal, base) is None


def test_caravan_members_go_to_the_ports_in_a_run() -> None:
    """A caravan tripling Honduran family departures, its members all at the ports: inside
    its window two thirds of those families are members, so the share at ports is
    base + 2/3 (1 - base); before it, the base share."""
    sc = _with_shocks(_shock("caravans", 3.0, 1.0))
    hn = sc.border.port_of_entry_share["honduras"]
    for first, expected in ((WINDOW[0], hn + 2 / 3 * (1 - hn)), (dt.date(2018, 8, 1), hn)):
        rows = _journeys(sc, first, 2 * BLOCK)
        mine = rows[(_col(rows, "nat") == HN) & (_col(rows, "grp") == FAM)]
        share = _col(mine, "port").mean()
        se = np.sqrt(expected * (1 - expected) / len(mine))
        assert len(mine) > 500
        assert abs(share - expected) < 4 * se, (first, share, expected)


def test_a_share_equal_to_the_nationalitys_changes_no_draw() -> None:
    """The members' share only moves the threshold each party's uniform is compared with:
    at the nationality's own share every journey is the same as with no share at all."""
    hn = _with_shocks(_shock("caravans", 1.5, None)).border.port_of_entry_share["honduras"]
    same = _journeys(_with_shocks(_shock("caravans", 1.5, hn)), WINDOW[0], BLOCK)
    none = _journeys(_with_shocks(_shock("caravans", 1.5, None)), WINDOW[0], BLOCK)
    other = _journeys(_with_shocks(_shock("caravans", 1.5, 1.0)), WINDOW[0], BLOCK)
    assert np.array_equal(same, none)
    assert not np.array_equal(other, none)
    for rows in (other, none):  # all but the port: the port bit cleared from the codes
        rows[:, _CODE] = _clear_port(rows[:, _CODE].astype(np.int64))
    assert np.array_equal(other, none)


def test_a_demand_refit_and_its_fragment_keep_the_caravans_port_share() -> None:
    """The share is a lever of the caravans' shock, whose multiplier the demand fit
    rewrites: the refit keeps it, and the fragment writes it back as TOML (and leaves an
    unset one out: TOML has no null)."""
    base = _with_shocks(_shock("caravans", 1.1, 0.7))
    refitted = Demand.of_scenario(base, knots_for(pd.Period("2019-08", "M"))).apply(base)
    (again,) = refitted.departures.shocks
    assert again.port_of_entry_share == pytest.approx(0.7)
    for shock in (again, _shock("caravans", 1.1, None)):
        text = "\n".join(shock_lines(shock))
        (read,) = tomllib.loads(text)["departures"]["shocks"]
        assert Shock(**read) == shock


def _event(persons: float = 7000.0, share: float | None = 1.0) -> Event:
    return Event(
        name="caravan_october_2018",
        start=dt.date(2018, 10, 12),
        end=dt.date(2018, 11, 2),
        persons=persons,
        nationalities=["honduras", "guatemala", "el_salvador"],
        groups=["single_adult", "family"],
        port_of_entry_share=share,
    )


def _with_events(*events: Event, scale: float = 1.0):
    base = scenario("historical", f"scale={scale}")
    dep = base.departures.model_copy(update={"events": list(events)})
    return base.model_copy(update={"departures": dep})


def test_an_event_sets_out_its_documented_size_over_its_window_in_its_cells() -> None:
    sc = _with_events(_event(7000.0))
    cal = SimCalendar(sc.origin, sc.start, sc.end)
    ((event, persons),) = sized_events(sc.departures, cal)
    assert persons.sum() == pytest.approx(7000.0)
    days = persons.sum(axis=(1, 2)).nonzero()[0]
    assert (days[0], days[-1]) == (cal.day(dt.date(2018, 10, 12)), cal.day(dt.date(2018, 11, 1)))
    by_cell = persons.sum(axis=0)
    assert by_cell[NAT_INDEX["mexico"]].sum() == 0
    assert by_cell[:, GROUP_INDEX["unaccompanied_child"]].sum() == 0
    assert (by_cell[[NAT_INDEX[n] for n in event.nationalities]][:, :2] > 0).all()
    with pytest.raises(ValidationError):
        _event(0.0)
    with pytest.raises(ValidationError, match="end must be after start"):
        Event(
            name="x",
            start=dt.date(2019, 1, 2),
            end=dt.date(2019, 1, 1),
            persons=1.0,
            nationalities=["honduras"],
        )


def _travel(sc) -> tuple[Travel, SimCalendar, Recorder]:
    cal = SimCalendar(sc.origin, sc.start, sc.end)
    rec = Recorder(cal.days, [])
    return Travel(sc, cal, rec, 0), cal, rec


def test_event_members_leave_whatever_the_deterrence_and_go_to_the_ports() -> None:
    """With every undeterred departure deterred (multiplier 0), the window's departures
    are the event's members alone: about its size in persons, all presenting at ports;
    and the undeterred parties are the same draws as without the event."""
    sc = _with_events(_event(7000.0, 1.0), scale=0.5)
    travel, cal, rec = _travel(sc)
    d0, d1 = cal.day(dt.date(2018, 10, 12)), cal.day(dt.date(2018, 11, 2))
    same, plain = _travel(sc)[0], _travel(_with_events(scale=0.5))[0]
    for day in range(d0, d1):
        assert np.array_equal(same._undeterred(day)[3], plain._undeterred(day)[3])
    filed = []
    for day in range(d0, d1):
        travel.depart(day, np.zeros(15), None)
    people = sum(rec.cells(day, rec.index("departures")).sum() for day in range(d0, d1))
    assert abs(people - 7000 * 0.5) < 4 * np.sqrt(7000 * 0.5 * 3)  # Poisson in parties
    for day in range(d1, d1 + 120):
        rows = travel._ending(day, arrive=True)
        if rows is not None:
            filed.append(rows)
    arrived = np.concatenate(filed)
    assert len(arrived) > 500 and (_col(arrived, "port") == 1).all()  # every member at a port
