"""The six logic errors of the structural-calibration issue, each pinned so that the old
behaviour fails."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim.calendar import SimCalendar
from sim.departures import party_intensity, trend_for
from sim.dispositions import DispositionRule
from sim.scenario.schema import Deterrence, Metering, Scenario
from tests.conftest import run, scenario, total


def _small(*overrides: str) -> Scenario:
    return scenario(
        "historical",
        "scale=0.05",
        "start=2019-04-01",
        "end=2019-10-01",
        "warmup_days=90",
        *overrides,
    )


def test_stop_in_mexico_is_a_consequence_by_default() -> None:
    """Old: stops entered the denominator of perceived risk but not the numerator."""
    assert "stopped_in_mexico" in Deterrence().consequences


def test_stronger_mexican_enforcement_raises_perceived_risk() -> None:
    """Old: doubling enforcement lowered perceived risk (0.432 vs 0.474) and raised departures."""
    surge = run(_small("deterrence.effect=1.0"))
    flat = run(_small("deterrence.effect=1.0", "enforcement.mexico.1.daily_hazard=0.0055"))

    def risk(result) -> float:  # noqa: ANN001
        d = result.daily
        d = d[
            (d["metric"] == "perceived_risk")
            & (d["nationality"] == "honduras")
            & (d["group"] == "single_adult")
            & (d["date"] >= "2019-09-01")
        ]
        return float(d["value"].mean())

    assert risk(surge) > risk(flat) + 0.01


def test_metering_intake_is_4200_a_month() -> None:
    """Old: 330 a day, against the cited 4,200 a month (138 a day)."""
    assert Metering().daily_intake == pytest.approx(4200 / 30.4, abs=0.5)


def test_mexican_single_adults_are_not_metered() -> None:
    """Old: every non-child port arrival was metered, Mexican single adults included."""
    r = run(_small())
    joined = total(r, "metering_joined", nationality="mexico", group="single_adult").sum()
    at_port = total(r, "port_encounters", nationality="mexico", group="single_adult").sum()
    assert at_port > 0 and joined == 0
    assert total(r, "metering_joined", nationality="honduras", group="family").sum() > 0


def test_demand_holds_its_trend_after_the_last_knot_and_never_replays_a_year() -> None:
    """Old: the calibration clamp copied the last fitted month, and `last_year` replayed the
    FY2019 surge after September 2019. Now past the last knot only seasonality moves demand."""
    cal = SimCalendar(dt.date(2019, 6, 1), dt.date(2019, 6, 1), dt.date(2020, 6, 1))
    knots = {"2018-10": 0.0, "2019-04": 0.3, "2019-08": 0.1}
    t = trend_for(knots, cal)
    after = np.asarray(cal.dates >= pd.Timestamp("2019-08-15"))
    assert np.allclose(t[after], 0.1)
    s = scenario("historical")
    dep = s.departures.model_copy(
        update={"trend": {"honduras.family": knots}, "seasonality": [1.0] * 12, "level": {}}
    )
    lam = party_intensity(dep, cal, 1.0)
    h = lam[:, 2, 1] * cal.days_in_month  # honduras families, per month
    assert np.allclose(h[after], h[after][0])  # flat: no replay of the spring 2019 surge


def test_trend_may_not_move_faster_than_20_percent_in_three_months() -> None:
    base = scenario("historical").departures.model_dump(by_alias=True)
    base["trend"] = {"honduras.family": {"2019-01": 0.0, "2019-04": 0.25}}
    with pytest.raises(ValueError, match="20% over three months"):
        type(scenario("historical").departures).model_validate(base)


def test_asylum_backlog_cases_is_filled() -> None:
    """Old: declared in the recorder and never filled (always 0)."""
    s = scenario(
        "aca_guatemala",
        "scale=0.2",
        "start=2019-11-01",
        "end=2020-02-01",
        "receiving.guatemala.apply_share=0.5",
    )
    d = run(s).daily
    cases = d[d["metric"] == "asylum_backlog_cases"].groupby("date", observed=True)["value"].sum()
    persons = d[d["metric"] == "asylum_backlog"].groupby("date", observed=True)["value"].sum()
    assert cases.max() > 0
    assert (cases.reindex(persons.index, fill_value=0) <= persons + 1e-9).all()


@pytest.mark.parametrize(
    ("day", "share"),
    [
        ("2019-07-15", 0.0),
        ("2019-07-16", 1.0),
        ("2019-07-23", 1.0),
        ("2019-07-24", 0.0),
        ("2019-08-15", 0.0),
        ("2019-08-16", 0.75),
        ("2019-09-08", 0.75),
        ("2019-09-09", 0.0),
        ("2019-09-10", 0.0),
        ("2019-09-11", 1.0),
    ],
)
def test_transit_bar_follows_the_court_rulings(day: str, share: float) -> None:
    """Old: in force border-wide from 2019-07-16 although enjoined on 2019-07-24 and applied
    border-wide only from the Supreme Court's stay of 2019-09-11."""
    s = scenario("historical")
    cal = SimCalendar(dt.date(2019, 6, 1), dt.date(2019, 6, 1), dt.date(2019, 12, 1))
    rule = DispositionRule(s, cal)
    assert rule.bar_cover[cal.day(dt.date.fromisoformat(day))] == pytest.approx(share)
