"""`migsim backtest`: scores on a toy case, no reading past the origin (with a cheap fake
calibration), bad input, and one tiny end-to-end run with the real calibration."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import sim.fitting
import sim.observed
from sim.backtest import run as bt
from sim.backtest.scores import SCORE_COLUMNS, naive_scale, score_table
from sim.cli import main
from tests.conftest import SCENARIOS

HISTORICAL = str(SCENARIOS / "historical.toml")


# ----------------------------------------------------------------------------- scores
def test_scores_on_a_toy_case():
    # two origins, one series, horizons 1 and 2; observed 100/200 at both
    table = pd.DataFrame(
        {
            "origin": ["a", "a", "b", "b"],
            "horizon": [1, 2, 1, 2],
            "series": "s",
            "observed": [100.0, 200.0, 100.0, np.nan],  # the last month has no observation
            "model": [110.0, 150.0, 80.0, 999.0],
            "model_lo90": [90.0, 160.0, 85.0, 0.0],
            "model_hi90": [120.0, 250.0, 95.0, 1e9],
            "persistence": [100.0, 100.0, 100.0, 100.0],
            "seasonal_naive": [50.0, 50.0, 50.0, 50.0],
            "statistical": [100.0, 200.0, 100.0, 100.0],
            "statistical_lo90": np.nan,
            "statistical_hi90": np.nan,
            "mase_scale": [10.0, 10.0, 20.0, 20.0],
        }
    )
    s = score_table(table)
    assert list(s.columns) == list(SCORE_COLUMNS)
    get = s.set_index(["method", "horizon"])
    # model, horizon 1: errors 10/100 and 20/100 -> MAPE 15%; MASE (10/10 + 20/20)/2 = 1
    assert get.loc[("model", "1"), "mape"] == pytest.approx(15.0)
    assert get.loc[("model", "1"), "mase"] == pytest.approx(1.0)
    assert get.loc[("model", "1"), "coverage90"] == pytest.approx(
        0.5
    )  # 100 in [90,120], not [85,95]
    # horizon 2: only origin a is scored (b has no observation): 50/200 = 25%, MASE 5
    assert get.loc[("model", "2"), "n"] == 1
    assert get.loc[("model", "2"), "mape"] == pytest.approx(25.0)
    assert get.loc[("model", "2"), "mase"] == pytest.approx(5.0)
    assert get.loc[("model", "2"), "coverage90"] == 1.0  # 200 in [160, 250]
    # pooled over all scored months: (10 + 20 + 25) / 3
    assert get.loc[("model", "all"), "mape"] == pytest.approx(55 / 3)
    assert get.loc[("persistence", "2"), "mape"] == pytest.approx(50.0)
    assert np.isnan(get.loc[("persistence", "1"), "coverage90"])
    assert get.loc[("statistical", "1-3"), "mape"] == 0.0


def test_naive_scale_is_the_in_sample_one_step_mae():
    assert naive_scale([10, 14, 11, 11]) == pytest.approx((4 + 3 + 0) / 3)
    assert np.isnan(naive_scale([5]))


# ----------------------------------------------------------------------------- no look-ahead
class FakeCalibration:
    """A calibration whose 'fit' is the mean of every observed value it was given."""

    def __init__(self, level: float) -> None:
        self.point = {"level": level}
        self.table = pd.DataFrame({"parameter": ["level"], "estimate": [level]})
        self.draws = pd.DataFrame({"level": [level, 1.1 * level]})

    def apply(self, scenario, values=None):  # noqa: ANN001
        level = float(self.point["level"] if values is None else dict(values)["level"])
        return scenario.model_copy(update={"description": f"level={level!r}"})


def fake_calibrate(
    base, observed, *, through, trials, scale, reps, storage=None, executor=None, progress=None
):  # noqa: ANN001
    months = pd.PeriodIndex(observed.index, freq="M")
    assert months.max() <= through, "calibrate was given data after its origin"
    return FakeCalibration(float(observed.drop(columns=["fiscal_year"]).to_numpy().mean()))


def fake_monthly(scenario, reps, *, executor=None, draws=None, apply=None):  # noqa: ANN001
    months = pd.period_range(scenario.start, scenario.end, freq="M")[:-1]
    rows = []
    for r in range(reps):
        sc = apply(scenario, draws.iloc[r % len(draws)]) if draws is not None else scenario
        level = float(re.match(r"level=(.*)", sc.description).group(1))
        for i, m in enumerate(months):
            for s in bt.BACKTEST_SERIES:
                rows.append((r, m, s, level * (1 + 0.01 * i) + r))
    return pd.DataFrame(rows, columns=["rep", "month", "series", "value"])


def _backtest(tmp_path, monkeypatch, observed: pd.DataFrame, name: str) -> pd.DataFrame:
    monkeypatch.setattr(sim.fitting, "calibrate", fake_calibrate)
    monkeypatch.setattr(sim.fitting, "monthly", fake_monthly)
    monkeypatch.setattr(sim.observed, "load_usbp", lambda: observed.copy())
    out = tmp_path / name
    argv = [
        "backtest",
        HISTORICAL,
        "--origins",
        "2019-03",
        "--horizon",
        "4",
        "--trials",
        "1",
        "--reps",
        "3",
        "--jobs",
        "1",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    return pd.read_csv(out / "backtest.csv")


def test_backtest_never_reads_past_its_origin(tmp_path, monkeypatch):
    usbp = sim.observed.load_usbp()
    changed = usbp.copy()
    after = changed.index > pd.Period("2019-03", "M")
    counts = [c for c in changed.columns if c != "fiscal_year"]
    changed.loc[after, counts] = changed.loc[after, counts] * 10 + 12345
    a = _backtest(tmp_path, monkeypatch, usbp, "a")
    b = _backtest(tmp_path, monkeypatch, changed, "b")
    assert list(a.columns) == list(bt.COLUMNS)
    assert len(a) == 4 * len(bt.BACKTEST_SERIES)
    forecasts = [c for c in bt.COLUMNS if c != "observed"]
    pd.testing.assert_frame_equal(a[forecasts], b[forecasts])
    # ... while the truth it is scored against did change
    assert not np.allclose(a["observed"], b["observed"])
    # the model used the posterior draws: the band spans draws and replications
    assert (a["model_lo90"] < a["model_hi90"]).all()


def test_backtest_calibration_starts_from_nothing_fitted(tmp_path, monkeypatch):
    """The shipped scenario extends a calibration that saw every month up to Sep 2019: the
    backtest must not start from it. Two bases that differ only in fitted values give the
    calibration the same starting scenario."""
    from sim.fitting import parameters as P
    from sim.scenario.loader import load_scenario

    seen = []

    def spy(base, observed, **kw):  # noqa: ANN001
        seen.append(base)
        return fake_calibrate(base, observed, **bt._accepted(fake_calibrate, kw))

    monkeypatch.setattr(sim.fitting, "calibrate", spy)
    monkeypatch.setattr(sim.fitting, "monthly", fake_monthly)
    hist = load_scenario(HISTORICAL)
    other = P.apply(hist, {"deterrence.effect": 3.9, "deterrence.momentum_rate": 0.1})
    other = other.model_copy(
        update={"departures": other.departures.model_copy(update={"trend": {}})}
    )
    for base in (hist, other):
        bt.run_origin(
            base, bt.truncate(sim.observed.load_usbp(), pd.Period("2019-03", "M")),
            pd.Period("2019-03", "M"), 2,
            trials=1, reps=1, cal_reps=1, scale=0.02,
        )  # fmt: skip
    assert seen[0] == seen[1]
    start = P.current(seen[0])
    for p in P.PARAMETERS:
        assert start[p.name] == pytest.approx(P.prior_centre(p), rel=1e-6), p.name
    assert seen[0].departures.trend == {} and seen[0].departures.level == {}
    assert seen[0].calibration is None


def test_truncate_keeps_only_months_up_to_the_origin():
    usbp = sim.observed.load_usbp()
    t = bt.truncate(usbp.reset_index(), pd.Period("2019-03", "M"))
    assert t.index.max() == pd.Period("2019-03", "M") and t.index.min() == usbp.index.min()


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "extra, message",
    [
        (["--origins", "2019-13"], "not a month"),
        (["--origins", "2019-09"], "no observed month"),
        (["--origins", "2018-02"], "fewer than"),
        (["--horizon", "0"], "--horizon"),
        (["--scale", "2"], "--scale"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, extra, message):
    out = tmp_path / "bt"
    assert main(["backtest", HISTORICAL, "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()


def test_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    assert main(["backtest", HISTORICAL, "--trials", "1", "--out", str(out)]) == 2
    assert (out / "thesis.docx").read_text() == "precious"


# ----------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_backtest_end_to_end_tiny(tmp_path):
    out = tmp_path / "bt"
    argv = [
        "backtest",
        HISTORICAL,
        "--origins",
        "2019-06",
        "--horizon",
        "3",
        "--trials",
        "2",
        "--prefit",
        "1",
        "--inner",
        "1",
        "--reps",
        "2",
        "--scale",
        "0.02",
        "--jobs",
        "1",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    table = pd.read_csv(out / "backtest.csv")
    assert list(table.columns) == list(bt.COLUMNS)
    assert len(table) == 3 * len(bt.BACKTEST_SERIES)
    assert set(table["series"]) == set(bt.BACKTEST_SERIES)
    assert (table["origin"] == "2019-06").all() and sorted(set(table["horizon"])) == [1, 2, 3]
    assert table["observed"].notna().all()  # Jul-Sep 2019 are observed
    assert (table["model_lo90"] <= table["model"]).all() and (
        table["model"] <= table["model_hi90"]
    ).all()
    for col in ("model", "persistence", "seasonal_naive", "statistical"):
        assert (table[col] > 0).all()
    scores = pd.read_csv(out / "scores.csv", dtype={"horizon": str})
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert set(scores["method"]) == {"model", "persistence", "seasonal_naive", "statistical"}
    assert {"1", "2", "3", "1-3", "all"} <= set(scores["horizon"])
    assert (out / "charts" / "backtest_2019-06.png").stat().st_size > 10_000
    for f in ("parameters.csv", "draws.csv"):
        assert (out / "calibration_2019-06" / f).is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["origins"] == ["2019-06"]
    assert manifest["calibrations"]["2019-06"]["through"] == "2019-06"
    # the posterior's provenance per origin: the search's trials (no ABC asked for here)
    assert "trials within" in manifest["calibrations"]["2019-06"]["posterior_method"]
    assert manifest["calibrations"]["2019-06"]["posterior_ess"] >= 0
    assert manifest["scenario"]["name"] == "historical"
