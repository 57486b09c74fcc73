"""`migsim attribute`: exact Shapley values on toy value functions, the players' switches,
the attribution's invariants with a cheap fake run, bad input, and one tiny real run."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import numpy as np
import pandas as pd
import pytest

from sim.attribution import players as pl
from sim.attribution import run as at
from sim.attribution.shapley import coalitions, shapley
from sim.cli import main
from tests.conftest import SCENARIOS, scenario

HISTORICAL = str(SCENARIOS / "historical.toml")
MAY, SEP = pd.Period("2019-05", "M"), pd.Period("2019-09", "M")


# ----------------------------------------------------------------------------- Shapley
def test_coalitions_are_every_subset():
    cs = coalitions(["a", "b", "c"])
    assert len(cs) == 8 and len(set(cs)) == 8
    assert cs[0] == frozenset() and cs[-1] == frozenset("abc")


def test_additive_game_gives_each_player_its_own_value():
    a = {"x": 3.0, "y": -5.0, "z": 0.5}
    phi = shapley(list(a), lambda s: sum(a[p] for p in s))
    for p, v in a.items():
        assert float(phi[p]) == pytest.approx(v)


def test_pure_interaction_is_split_equally_and_null_players_get_zero():
    # v = 1 only when both a and b are on: each gets 1/2, c (null) gets 0
    phi = shapley(["a", "b", "c"], lambda s: float({"a", "b"} <= s))
    assert float(phi["a"]) == pytest.approx(0.5) and float(phi["b"]) == pytest.approx(0.5)
    assert float(phi["c"]) == 0.0


def test_glove_game_known_values():
    # v(S) = 1 if S holds a and (b or c): phi = (2/3, 1/6, 1/6)
    phi = shapley(["a", "b", "c"], lambda s: float("a" in s and bool({"b", "c"} & s)))
    assert float(phi["a"]) == pytest.approx(2 / 3)
    assert float(phi["b"]) == pytest.approx(1 / 6) and float(phi["c"]) == pytest.approx(1 / 6)


def test_efficiency_on_a_random_vector_game():
    rng = np.random.default_rng(7)
    players = ["a", "b", "c", "d"]
    values = {c: rng.normal(size=(3, 2)) for c in coalitions(players)}
    phi = shapley(players, values)
    total = sum(phi.values())
    np.testing.assert_allclose(total, values[frozenset(players)] - values[frozenset()], atol=1e-12)


# ----------------------------------------------------------------------------- players
def test_each_player_switches_off_its_mechanism():
    s = scenario("historical")
    off = pl.switch_off(s, {p.name for p in pl.PLAYERS})
    assert off.deterrence.effect == 0
    assert off.deterrence.momentum_nationalities == []
    assert off.origin == s.origin  # the momentum's start is kept: runs stay paired
    assert off.mpp.enrolment == []
    assert off.enforcement.mexico == s.enforcement.mexico[:1]
    assert off.transit_bar.start is None and off.metering.start is None
    assert off.agreements == []
    assert off.departures.trend == {}
    assert off.departures.seasonality == [1.0] * 12
    # nothing else changes
    assert off.mpp.hearings_per_day == s.mpp.hearings_per_day
    assert pl.switch_off(s, ()) is s


def test_deterrence_and_momentum_are_separate_players():
    s = pl.switch_off(scenario("historical"), {"momentum"})
    assert s.deterrence.momentum_nationalities == [] and s.deterrence.effect > 0
    why = pl.inactive(s, dt.date(2019, 10, 1))
    assert "momentum" in why and "deterrence" not in why


def test_agreements_are_inactive_in_a_may_to_september_window():
    s = scenario("historical")
    active, pruned = at.plan(s, MAY, SEP, None)
    assert "agreements" in pruned and "agreements" not in active
    assert "mpp" in active and "enforcement_surge" in active


# ----------------------------------------------------------------------------- invariants
def fake_run(task: at.Task) -> np.ndarray:
    """Additive effects plus an interaction, and replication noise (same rep, same noise)."""
    s = task.scenario
    mpp = bool(s.mpp.enrolment)
    surge = len(s.enforcement.mexico) > 1
    bar = s.transit_bar.start is not None
    v = -1000.0 - 300 * mpp - 500 * surge - 200 * (mpp and bar) - 17.0 * task.rep
    return np.array([v, v / 2, v / 4, v / 8])


def test_attribution_contributions_add_up_and_have_known_values():
    s = scenario("historical")
    usbp = pd.DataFrame(
        {c: [100.0, 40.0] for c in at.SERIES}, index=pd.PeriodIndex([MAY, SEP], freq="M")
    )
    res = at.attribute(
        s,
        MAY,
        SEP,
        5,
        players=["mpp", "enforcement_surge", "transit_bar", "agreements"],
        observed=usbp,
        run=fake_run,
    )
    t = res.table
    assert list(t.columns) == list(at.COLUMNS)
    assert res.pruned.keys() == {"agreements"} and res.runs == 8 * 5
    u = t[t["series"] == "usbp_total"].set_index("mechanism")
    assert u.loc["mpp", "contribution"] == pytest.approx(-300 - 100)  # half the interaction
    assert u.loc["transit_bar", "contribution"] == pytest.approx(-100)
    assert u.loc["enforcement_surge", "contribution"] == pytest.approx(-500)
    assert u.loc["agreements", "contribution"] == 0.0
    assert u.loc["none", "contribution"] == pytest.approx(-1000 - 17 * 2)  # mean rep noise
    for _series, g in t.groupby("series"):
        assert g["contribution"].sum() == pytest.approx(g["simulated_change"].iloc[0])
    assert (t["contribution_lo90"] <= t["contribution"]).all()
    assert (t["contribution"] <= t["contribution_hi90"]).all()
    assert (t["observed_change"] == -60.0).all()
    assert (t["window_start"] == "2019-05").all() and (t["window_end"] == "2019-09").all()


def test_common_random_numbers_same_replications_in_every_coalition():
    seen: list[tuple[frozenset, int]] = []

    def spy(task: at.Task) -> np.ndarray:
        seen.append((len(task.scenario.enforcement.mexico), task.rep))
        return np.zeros(len(at.SERIES))

    at.attribute(scenario("historical"), MAY, SEP, 3, players=["enforcement_surge"], run=spy)
    assert sorted(seen) == sorted(itertools.product([1, 2], range(3)))


def test_window_parsing():
    assert at.window_months("2019-05:2019-09") == (MAY, SEP)
    for bad in ("2019-05", "2019-09:2019-05", "2019-5:2019-09", "x:y"):
        with pytest.raises(ValueError):
            at.window_months(bad)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "extra, message",
    [
        (["--window", "2019-09:2019-05"], "--window"),
        (["--window", "2017-01:2019-05"], "before the scenario"),
        (["--players", "mpp,magic"], "unknown player"),
        (["--players", "agreements"], "no active player"),
        (["--reps", "0"], "--reps"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, extra, message):
    out = tmp_path / "attr"
    assert main(["attribute", HISTORICAL, "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


# ----------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_attribute_end_to_end_tiny(tmp_path):
    out = tmp_path / "attr"
    argv = [
        "attribute",
        HISTORICAL,
        "--scale",
        "0.02",
        "--reps",
        "2",
        "--jobs",
        "1",
        "--players",
        "mpp,enforcement_surge,agreements",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    t = pd.read_csv(out / "attribution.csv")
    assert list(t.columns) == list(at.COLUMNS)
    assert set(t["mechanism"]) == {"mpp", "enforcement_surge", "agreements", "none"}
    assert set(t["series"]) == set(at.SERIES)
    for _series, g in t.groupby("series"):
        assert g["contribution"].sum() == pytest.approx(g["simulated_change"].iloc[0], abs=1e-6)
    assert (t["contribution_lo90"] <= t["contribution"] + 1e-9).all()
    assert (t["contribution"] <= t["contribution_hi90"] + 1e-9).all()
    assert (t.loc[t["mechanism"] == "agreements", "contribution"] == 0).all()
    u = t[t["series"] == "usbp_total"].iloc[0]
    assert u["observed_change"] == pytest.approx(-92360)  # published May -> Sep 2019
    assert (out / "charts" / "attribution_waterfall.png").stat().st_size > 10_000
    m = json.loads((out / "manifest.json").read_text())
    assert m["settings"]["players"] == ["mpp", "enforcement_surge"]
    assert "agreements" in m["settings"]["inactive_players"]
    assert m["settings"]["runs"] == 4 * 2
