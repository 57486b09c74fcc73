"""The data behind batch and sweep charts: weeks are the weeks caps count (from each
agreement's start), so no weekly transfer total in a chart exceeds its cap; points are
named by lever values and identical points are drawn once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.batch.names import distinct, names, same_as, value_text
from sim.batch.series import run_series
from sim.batch.stats import weekly, weekly_transfers
from sim.model import Model
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def _daily(start: str, days: int, metric: str, value: float, agreement: str = "") -> pd.DataFrame:
    dates = pd.date_range(start, periods=days, freq="D").astype("datetime64[s]")
    return pd.DataFrame(
        {"metric": metric, "agreement": agreement, "date": dates, "value": value}
    ).assign(point="p", replication=0)


def test_weeks_start_on_the_agreement_not_the_report() -> None:
    # an agreement from Thursday 2019-11-21 with a cap of 100 a week that fills its cap on
    # the last day of one week (Wednesday) and the first day of the next (Thursday); the
    # report starts on Monday 2019-11-18
    days = _daily("2019-11-18", 84, "transferred", 0.0, "g")
    since = (days["date"] - pd.Timestamp("2019-11-21")).dt.days
    days.loc[(since >= 0) & (since % 14 == 6), "value"] = 100.0  # Wednesday of even weeks
    days.loc[(since >= 0) & (since % 14 == 7), "value"] = 100.0  # Thursday of odd weeks
    cap = _daily("2019-11-21", 81, "transfer_cap", 100.0, "g")
    series = pd.concat([days, cap], ignore_index=True)
    weeks = weekly_transfers(series, {("p", "g"): pd.Timestamp("2019-11-21")})
    assert (weeks["week"].dt.day_of_week == 3).all()  # Thursdays, like the agreement's start
    assert weeks["transferred"].max() == 100.0 and len(weeks) >= 10
    # counted from the report's first day (the old charts), a week holds both days: 200
    total = days.assign(agreement="")
    assert weekly(total, ["transferred"], set())["value"].max() == 200.0
    aligned = weekly(total, ["transferred"], set(), {"p": pd.Timestamp("2019-11-21")})
    assert aligned["value"].max() == 100.0
    assert (aligned["week"].dt.day_of_week == 3).all()


def test_sparse_transfer_rows_still_fill_their_week() -> None:
    """A transfer series may skip days without transfers: weeks are told by the cap."""
    cap = _daily("2019-11-21", 28, "transfer_cap", 100.0, "g")
    sparse = _daily("2019-11-23", 1, "transferred", 60.0, "g")  # the first week's 3rd day
    weeks = weekly_transfers(
        pd.concat([cap, sparse], ignore_index=True), {("p", "g"): pd.Timestamp("2019-11-21")}
    )
    assert list(weeks["transferred"]) == [60.0, 0.0, 0.0, 0.0]
    assert list(weeks["cap"]) == [100.0] * 4


def test_partial_weeks_are_dropped_at_both_ends() -> None:
    daily = _daily("2019-11-18", 30, "encounters", 1.0)
    out = weekly(daily, ["encounters"], set(), {"p": pd.Timestamp("2019-11-21")})
    assert list(out["value"]) == [7.0] * len(out)
    assert out["week"].min() == pd.Timestamp("2019-11-21")
    assert out["week"].max() + pd.Timedelta(days=6) <= pd.Timestamp("2019-12-17")


@pytest.mark.parametrize("scenario", ["aca_guatemala.toml", "all_three_agreements.toml"])
def test_no_weekly_transfer_total_exceeds_its_cap(scenario: str) -> None:
    """What the batch transfers chart draws, from real runs whose report starts mid-week of
    the agreement (the bug: the cap-1,000 line reached 1,150 a week)."""
    s = load_scenario(
        ROOT / "scenarios" / scenario, ["scale=0.05", "start=2019-11-01", "end=2020-02-15"]
    )
    parts = []
    for rep in range(2):
        series = run_series(Model(s, replication=rep).run().daily)
        parts.append(series.assign(point="p000", replication=rep))
    long = pd.concat(parts, ignore_index=True)
    starts = {("p000", a.name): pd.Timestamp(a.start) for a in s.agreements}
    weeks = weekly_transfers(long, starts)
    assert weeks["transferred"].sum() > 0, "the test needs transfers to mean anything"
    over = weeks[weeks["transferred"] > weeks["cap"] * (1 + 1e-9) + 1e-6]
    assert over.empty, over.head().to_string()
    for agr, start in ((k[1], v) for k, v in starts.items()):
        w = weeks[weeks["agreement"] == agr]["week"]
        assert ((w - start).dt.days % 7 == 0).all()


def test_points_are_named_by_lever_values_and_repeats_found() -> None:
    records = [
        {"point": "p000", "hash": "a", "levers": {"cap": 1000, "groups": ["single_adult"]}},
        {"point": "p001", "hash": "b", "levers": {"cap": 0.5, "groups": []}},
        {"point": "p002", "hash": "a", "levers": {"cap": 1000, "groups": ["single_adult"]}},
        {"point": "baseline", "hash": "c"},
    ]
    shown = names(records)
    assert shown["p000"] == "cap 1,000 · groups single_adult"
    assert shown["p001"] == "cap 0.5 · groups none"
    assert shown["baseline"] == "baseline"
    assert same_as(records) == {"p002": "p000"}
    assert distinct(records) == ["p000", "p001", "baseline"]
    assert value_text(["single_adult", "family"]) == "single_adult+family"
