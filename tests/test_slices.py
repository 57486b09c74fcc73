"""Likelihood slices (`migsim identify`): grids, intervals, verdicts, and the command."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.fitting import parameters as P
from sim.fitting.slices import confirmed_values, differences, grid, interval, judge
from tests.conftest import ROOT, SCENARIOS, scenario


def test_grid_spreads_over_the_prior_on_its_own_scale_without_the_estimate() -> None:
    lin = P.BY_NAME["deterrence.effect"]  # uniform on [0, 4]
    assert grid(lin, 2.0, 5).tolist() == [0.0, 1.0, 3.0, 4.0]  # 2.0 is the point itself
    log = P.BY_NAME["deterrence.memory_days"]  # log-uniform on [20, 150]
    g = grid(log, 47.36, 3)
    assert g == pytest.approx([20.0, math.sqrt(20 * 150), 150.0])
    ints = P.BY_NAME["deterrence.delay_days"]  # integers on [7, 45]
    g = grid(ints, 34, 4)
    assert np.all(g == np.round(g)) and g[0] == 7 and g[-1] == 45
    with pytest.raises(ValueError):
        grid(lin, 2.0, 1)


def test_unit_scale_round_trips() -> None:
    for name in ("deterrence.effect", "deterrence.memory_days"):
        p = P.BY_NAME[name]
        for u in (0.0, 0.3, 1.0):
            assert p.to_unit(p.from_unit(u)) == pytest.approx(u)


def _frame(name: str, values, deltas, seeds: int = 2, noise: float = 0.0) -> pd.DataFrame:
    """Slice rows whose loss is 100 + delta at every seed (plus +-noise alternating)."""
    rows = [("", np.nan, s, 100.0) for s in range(seeds)]
    for v, d in zip(values, deltas, strict=True):
        for s in range(seeds):
            rows.append((name, v, s, 100.0 + d + (noise if s % 2 else -noise)))
    frame = pd.DataFrame(rows, columns=["parameter", "value", "seed", "loss"])
    frame["stocks_within"] = 15
    frame["change_may_sep"] = -80_000.0
    return frame


def test_interval_interpolates_the_crossing_and_reaches_the_prior_when_flat() -> None:
    p = P.BY_NAME["deterrence.effect"]  # [0, 4], estimate 2
    # rises of 20 one unit either side, threshold 10: the crossings are half way
    d = differences(_frame(p.name, [0.0, 1.0, 3.0, 4.0], [80.0, 20.0, 20.0, 80.0]))
    lo, hi = interval(p, d, 2.0, threshold=10.0)
    assert (lo, hi) == (pytest.approx(1.5), pytest.approx(2.5))
    # flat: every value within the threshold, the interval is the whole grid (the prior)
    d = differences(_frame(p.name, [0.0, 1.0, 3.0, 4.0], [1.0, 0.5, 0.5, 1.0]))
    assert interval(p, d, 2.0, threshold=10.0) == (0.0, 4.0)
    # the noise of a difference widens the allowance: a rise of 12 with se 5 is inside
    d = differences(_frame(p.name, [0.0, 1.0, 3.0, 4.0], [80.0, 12.0, 12.0, 80.0], noise=5.0))
    lo, hi = interval(p, d, 2.0, threshold=10.0)
    assert lo < 1.0 + 1e-9 and hi > 3.0 - 1e-9


def test_judge_calls_a_flat_slice_not_identified_and_flags_a_better_value() -> None:
    flat, steep = P.BY_NAME["deterrence.effect"], P.BY_NAME["deterrence.momentum_rate"]
    point = {flat.name: 2.0, steep.name: 0.5}
    frame = pd.concat(
        [
            _frame(flat.name, [0.0, 1.0, 3.0, 4.0], [1.0, 0.0, 0.0, 1.0]),
            # momentum_rate on [0, 2]: 1.0 fits better than the point by 30 (noise-free)
            _frame(steep.name, [0.0, 1.0, 1.5, 2.0], [300.0, -30.0, 50.0, 400.0]).query(
                "parameter != ''"
            ),
        ],
        ignore_index=True,
    )
    table = judge(frame, point, [flat, steep], threshold=10.0).set_index("parameter")
    assert table.at[flat.name, "verdict"] == "not identified (flat slice)"
    assert table.at[flat.name, "width_vs_prior"] == pytest.approx(1.0)
    assert math.isnan(table.at[flat.name, "better_value"])
    assert table.at[steep.name, "verdict"] == "constrained; a grid value fits better"
    assert table.at[steep.name, "better_value"] == 1.0
    assert table.at[steep.name, "better_by"] == pytest.approx(30.0)
    assert table.at[steep.name, "width_vs_prior"] < 0.5


@pytest.mark.slow
def test_identify_end_to_end_flat_where_a_mechanism_is_inactive(tmp_path: Path) -> None:
    """Fitted through 2019-03, the transit bar (from 2019-07-16) cannot touch the loss: with
    common seeds its slice is exactly flat; deterrence's is not. Tiny settings."""
    out = tmp_path / "identification"
    cmd = [
        sys.executable, "-m", "sim", "identify", str(SCENARIOS / "historical.toml"),
        "--out", str(out), "--through", "2019-03", "--points", "2", "--seeds", "2",
        "--scale", "0.05", "--prefit", "0", "--inner", "0", "--jobs", "1",
        "--params", "transit_bar.release_multiplier,deterrence.effect",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(out / "slices.csv")
    assert len(frame) == 2 + 2 * 2 * 2  # the point and 2 strengths x 2 values, 2 seeds each
    point = frame[frame["parameter"].isna()].set_index("seed")["loss"]
    bar = frame[frame["parameter"] == "transit_bar.release_multiplier"]
    assert np.array_equal(bar["loss"].to_numpy(), point.reindex(bar["seed"]).to_numpy())
    table = pd.read_csv(out / "identification.csv").set_index("parameter")
    assert table.at["transit_bar.release_multiplier", "verdict"] == "not identified (flat slice)"
    det = frame[frame["parameter"] == "deterrence.effect"]  # moves the loss at every value
    assert (det["loss"].to_numpy() != point.reindex(det["seed"]).to_numpy()).all()
    assert table.at["deterrence.effect", "max_rise"] != 0
    assert set(frame["stocks_within"]) <= set(range(0, 22))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "identification"
    assert manifest["settings"]["evaluations"] == len(frame)
    assert manifest["settings"]["through"] == "2019-03"
    assert (out / "charts" / "slices.png").stat().st_size > 10_000
    assert "not identified (flat slice)" in done.stdout


def test_identify_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "sim", "identify", str(SCENARIOS / "historical.toml")]
    cases = [
        (["--out", str(tmp_path / "a"), "--params", "no.such"], "--params: unknown strength"),
        (["--out", str(tmp_path / "b"), "--seeds", "1"], "--seeds >= 2"),
        (["--out", str(tmp_path / "c"), "--through", "2019-10"], "nothing later may be fitted"),
    ]
    for extra, message in cases:
        done = subprocess.run(base + extra, capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 2
        assert message in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert not Path(extra[1]).exists()
    # a folder migsim did not write is refused before any work
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter.docx").write_text("mine")
    done = subprocess.run(base + ["--out", str(mine)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and (mine / "chapter.docx").read_text() == "mine"


@pytest.mark.slow
def test_an_interrupted_identify_resumes_and_gives_the_same_slices(tmp_path, monkeypatch):
    """Stopped after a few evaluations, a rerun with the same checkpoint evaluates only the
    rest (and the point again) and gives the slices of an uninterrupted run."""
    from sim import observed
    from sim.fitting import slices as sl
    from sim.scenario.loader import load_scenario

    base = load_scenario(SCENARIOS / "historical.toml")
    settings = sl.SliceSettings(points=2, seeds=2, scale=0.05, prefit=0, inner=0)
    kw = dict(
        through=pd.Period("2019-03", "M"),
        settings=settings,
        parameters=["deterrence.effect", "metering.cross_share"],
    )
    usbp = observed.load_usbp()
    clean = sl.slices(base, usbp, **kw)
    real, calls = sl.evaluate, []

    def stops_after_five(task):  # noqa: ANN001, ANN202
        if len(calls) == 5:
            raise KeyboardInterrupt
        calls.append(task)
        return real(task)

    monkeypatch.setattr(sl, "evaluate", stops_after_five)
    with pytest.raises(KeyboardInterrupt):
        sl.slices(base, usbp, checkpoint=tmp_path / "ck", **kw)
    kept = (tmp_path / "ck" / "rows.csv").read_text().splitlines()
    assert len(kept) == 5 - settings.seeds  # the point's evaluations are not kept
    calls.clear()
    monkeypatch.setattr(sl, "evaluate", lambda t: calls.append(t) or real(t))
    resumed = sl.slices(base, usbp, checkpoint=tmp_path / "ck", **kw)
    assert len(calls) == clean.evaluations - len(kept)
    pd.testing.assert_frame_equal(resumed.frame, clean.frame)
    pd.testing.assert_frame_equal(resumed.table, clean.table)
    # another setting is another run: the kept evaluations are not reused for it
    other = {**kw, "settings": replace(settings, points=3)}
    calls.clear()
    fresh = sl.slices(base, usbp, checkpoint=tmp_path / "ck", **other)
    assert len(calls) == fresh.evaluations == settings.seeds * (1 + 2 * 3)


def _identification(tmp_path: Path, **better: float) -> tuple[Path, dict[str, float]]:
    """An identification table taken at the shipped point, with `better` confirmed values."""
    point = P.current(scenario("historical"))
    rows = [
        {"parameter": p.name, "estimate": point[p.name], "better_value": better.get(p.name)}
        for p in P.PARAMETERS
    ]
    path = tmp_path / "identification.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path, point


def test_a_calibration_starts_only_from_values_confirmed_at_its_own_point(tmp_path) -> None:
    name = "deterrence.momentum_threshold.unaccompanied_child"
    path, point = _identification(tmp_path, **{name: 0.17, "deterrence.delay_days": 26.0})
    got = confirmed_values(path, point)
    assert got == {name: 0.17, "deterrence.delay_days": 26}
    assert isinstance(got["deterrence.delay_days"], int)
    # slices taken about another point say nothing about where to go from this one
    moved = dict(point, **{"deterrence.effect": point["deterrence.effect"] + 0.5})
    with pytest.raises(ValueError, match=r"identification.csv: estimate of deterrence.effect"):
        confirmed_values(path, moved)
    table = pd.read_csv(path)
    table.loc[0, "parameter"] = "deterrence.nonsense"
    table.to_csv(path, index=False)
    with pytest.raises(ValueError, match="'deterrence.nonsense' is not a calibrated strength"):
        confirmed_values(path, point)
    path, point = _identification(tmp_path, **{name: 1.5})
    with pytest.raises(ValueError, match="better_value of .*unaccompanied_child is outside"):
        confirmed_values(path, point)
    path.write_text("parameter,estimate\n")
    with pytest.raises(ValueError, match="no column better_value"):
        confirmed_values(path, point)


def test_calibrate_refuses_a_bad_start_in_one_line_before_any_work(tmp_path: Path) -> None:
    path, _ = _identification(tmp_path, **{"deterrence.effect": 9.0})
    out, store = tmp_path / "fragment.toml", tmp_path / "study"
    cmd = [
        sys.executable, "-m", "sim", "calibrate", str(SCENARIOS / "historical.toml"),
        "--out", str(out), "--storage", str(store), "--start", str(path),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "--start:" in done.stderr and "deterrence.effect is outside" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not out.exists() and not store.exists()
    cmd[cmd.index("--start") : cmd.index("--start") + 2] = ["--step", "0"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "0 < --step <= 1" in done.stderr
    assert not out.exists() and not store.exists()


@pytest.mark.slow
def test_a_started_calibration_also_tries_the_point_it_moves_from(tmp_path: Path) -> None:
    """Trial 0 is the start (the point with the confirmed value), trial 1 the scenario's
    own point: the new point must beat the old one on the loss to replace it."""
    from sim import observed
    from sim.fitting.calibrate import calibrate

    name = "deterrence.momentum_threshold.unaccompanied_child"
    base = scenario("historical")
    path, point = _identification(tmp_path, **{name: 0.17})
    cal = calibrate(
        base, observed.load_usbp(), through=pd.Period("2019-03", "M"), trials=2, scale=0.02,
        prefit=0, inner=0, storage=tmp_path / "study", start=confirmed_values(path, point),
    )  # fmt: skip
    search = cal.trials[cal.trials["stage"] == "search"].sort_values("trial")
    assert search[name].tolist() == pytest.approx([0.17, min(max(point[name], 0.0), 1.0)])
    others = [p.name for p in P.PARAMETERS if p.name != name]
    first, second = search.iloc[0], search.iloc[1]
    assert all(first[n] == pytest.approx(second[n]) for n in others)


@pytest.mark.slow
def test_a_calibration_can_start_its_demand_where_the_scenario_left_it(tmp_path: Path) -> None:
    """`--demand-start scenario`: with no refit, every trial scores the demand the scenario
    holds (its fragment's seasonality, trend and caravans), where the default starts from
    its rates alone and ends elsewhere."""
    import json

    from sim import observed
    from sim.fitting.calibrate import calibrate
    from sim.fitting.demand import Demand, knots_for

    base = scenario("historical")
    knots = knots_for(pd.Period("2019-02", "M"))
    demands = {}
    for start in ("scenario", "rates"):
        cal = calibrate(
            base, observed.load_usbp(), through=pd.Period("2019-03", "M"), trials=1,
            scale=0.02, prefit=0, inner=0, storage=tmp_path / start, demand_start=start,
        )  # fmt: skip
        demands[start] = np.array(json.loads(cal.trials["demand"].iloc[0]))
    assert np.allclose(demands["scenario"], Demand.of_scenario(base, knots).to_vector())
    assert np.allclose(demands["rates"], Demand.initial(base, knots).to_vector())
    assert not np.allclose(demands["scenario"], demands["rates"])
