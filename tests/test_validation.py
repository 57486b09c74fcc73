"""Validation: metrics and naive forecasts on hand-computed values; aggregation; the CLI."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.validation import metrics as m
from sim.validation.compare import compare
from sim.validation.naive import last_month, same_month_last_year
from sim.validation.report import verdict
from sim.validation.runner import run_replications
from sim.validation.series import SERIES
from sim.validation.simulated import full_months, simulated_monthly, summarise
from tests.conftest import ROOT, run, scenario

P = pd.Period
SIM = [110.0, 180.0, 400.0]
OBS = [100.0, 200.0, 400.0]


# ----------------------------------------------------------------------------- metrics
def test_mape_by_hand():
    # |10|/100, |20|/200, 0/400 -> mean(0.1, 0.1, 0) = 6.667 %
    assert m.mape(SIM, OBS) == pytest.approx(100 * 0.2 / 3)
    assert m.mape([5, 110], [0, 100]) == pytest.approx(10.0)  # obs = 0 skipped
    assert math.isnan(m.mape([1.0], [0.0]))


def test_total_error_by_hand():
    assert m.total_error(SIM, OBS) == pytest.approx(100 * (690 - 700) / 700)  # -1.4286 %
    assert m.total_error([120, 120], [100, 100]) == pytest.approx(20.0)


def test_correlation_by_hand():
    # deviations obs (-400/3, -100/3, 500/3), sim (-120, -50, 170):
    # r = 46000 / sqrt(140000/3 * 45800) = 0.994997
    assert m.correlation(SIM, OBS) == pytest.approx(46000 / math.sqrt(140000 / 3 * 45800))
    assert m.correlation(SIM, OBS) == pytest.approx(0.994997, abs=1e-6)
    assert m.correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(m.correlation([1, 2, 3], [5, 5, 5]))  # flat series
    assert math.isnan(m.correlation([1, 2], [1, 2]))  # too short


def test_ard_is_total_normalised():
    # (10 + 20 + 0) / 700
    assert m.ard(SIM, OBS) == pytest.approx(30 / 700)
    # differs from MAPE/100 when months differ in size: (10 + 30) / 200 vs mean(0.1, 0.3)/...
    assert m.ard([110, 70], [100, 100]) == pytest.approx(0.2)
    assert m.ard([110, 130], [100, 300]) == pytest.approx(180 / 400)
    assert m.mape([110, 130], [100, 300]) == pytest.approx(100 * (0.1 + 170 / 300) / 2)


def test_flee_ard_across_components():
    sim = [[10, 20], [30, 30]]
    obs = [[10, 30], [20, 20]]
    # month 1: (0 + 10) / 40 = 0.25; month 2: (10 + 10) / 40 = 0.5 -> mean 0.375
    assert m.flee_ard(sim, obs) == pytest.approx(0.375)
    # one component: Flee's definition is MAPE / 100
    assert m.flee_ard([[110], [130]], [[100], [300]]) == pytest.approx(
        m.mape([110, 130], [100, 300]) / 100
    )


def test_metrics_ignore_missing_months():
    assert m.mape([110, np.nan], [100, 100]) == pytest.approx(10.0)


# ----------------------------------------------------------------------------- naives
HISTORY = pd.Series(
    [50.0, 100.0, 200.0, 100.0, 100.0, 200.0, 400.0],
    index=pd.PeriodIndex(
        ["2018-01", "2018-02", "2018-03", "2018-12", "2019-01", "2019-02", "2019-03"], freq="M"
    ),
)
MONTHS = pd.period_range("2019-01", "2019-03", freq="M")


def test_same_month_last_year():
    assert same_month_last_year(HISTORY, MONTHS).tolist() == [50.0, 100.0, 200.0]


def test_last_month_carried_forward():
    assert last_month(HISTORY, MONTHS).tolist() == [100.0, 100.0, 200.0]
    # no 2018-11 in the history -> nan
    assert math.isnan(last_month(HISTORY, pd.PeriodIndex([P("2018-12", "M")])).iloc[0])


def _toy_sim(values: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "series": "usbp_total",
            "month": MONTHS,
            "sim_mean": values,
            "sim_p5": values,
            "sim_p95": values,
            "reps": 1,
        }
    )


def test_compare_scores_model_and_naives():
    history = HISTORY.to_frame("usbp_total")
    observed = history.loc[MONTHS]
    c = compare(_toy_sim(SIM), observed, history, "in_sample")
    row = c.metrics.set_index("series").loc["usbp_total"]
    assert row["months"] == 3
    assert row["mape"] == pytest.approx(100 * 0.2 / 3)
    # same-month naive 50, 100, 200 vs 100, 200, 400: 50 % every month
    assert row["naive_same_month_mape"] == pytest.approx(50.0)
    assert row["naive_same_month_ard"] == pytest.approx(350 / 700)
    # last-month naive 100, 100, 200: errors 0, 50 %, 50 %
    assert row["naive_last_month_mape"] == pytest.approx(100 / 3)
    assert row["beats_naive"] == "yes"
    assert row["beats_naive_same_month"] == row["beats_naive_last_month"] == "yes"
    assert set(c.monthly.columns) >= {"observed", "sim_mean", "naive_same_month"}

    worse = compare(_toy_sim([300.0, 300.0, 300.0]), observed, history, "in_sample")
    assert worse.metrics.loc[0, "beats_naive"] == "no"
    # errors 10 %, 10 %, 25 % (MAPE 15 %) beat both naives (50 %, 33 %)
    mixed = compare(_toy_sim([110.0, 220.0, 300.0]), observed, history, "in_sample").metrics
    assert mixed.loc[0, "beats_naive_same_month"] == "yes"
    assert mixed.loc[0, "beats_naive_last_month"] == "yes"
    mixed = compare(_toy_sim([100.0, 100.0, 200.0]), observed, history, "in_sample").metrics
    # identical to the last-month naive on 2/3 months -> 33 % vs 33 %: not better
    assert mixed.loc[0, "beats_naive_last_month"] == "no"
    assert mixed.loc[0, "beats_naive_same_month"] == "yes"
    assert verdict(mixed.loc[0]) == "no (beats same-month)"


def test_beats_naive_uses_only_months_where_the_naive_exists():
    # no same-month (2018-01) and no last-month (2018-12) value for 2019-01
    history = HISTORY.drop([P("2018-01", "M"), P("2018-12", "M")]).to_frame("usbp_total")
    # model is far off in 2019-01 only; on 2019-02..03 it is exact
    c = compare(_toy_sim([1000.0, 200.0, 400.0]), history.loc[MONTHS], history, "in_sample")
    row = c.metrics.iloc[0]
    assert row["naive_same_month_months"] == 2 and row["naive_last_month_months"] == 2
    assert row["mape"] == pytest.approx(300.0)
    assert row["beats_naive"] == "yes"


# ----------------------------------------------------------------------------- aggregation
def test_full_months():
    fm = full_months(dt.date(2018, 10, 1), dt.date(2020, 3, 16))
    assert (str(fm[0]), str(fm[-1]), len(fm)) == ("2018-10", "2020-02", 17)
    fm = full_months(dt.date(2018, 10, 2), dt.date(2020, 3, 1))
    assert (str(fm[0]), str(fm[-1])) == ("2018-11", "2020-02")
    assert len(full_months(dt.date(2019, 1, 15), dt.date(2019, 2, 10))) == 0


def test_summarise_mean_and_band():
    months = pd.period_range("2019-01", "2019-02", freq="M", name="month")
    reps = [
        pd.DataFrame({s.name: [0.0, 5.0] for s in SERIES}, index=months),
        pd.DataFrame({s.name: [10.0, 5.0] for s in SERIES}, index=months),
    ]
    out = summarise(reps)
    row = out[(out["series"] == "usbp_total") & (out["month"] == months[0])].iloc[0]
    assert (row["sim_mean"], row["sim_p5"], row["sim_p95"]) == (5.0, 0.5, 9.5)
    assert len(out) == 2 * len(SERIES)


SMALL = ("scale=0.02", "end=2019-03-10")


def test_simulated_monthly_from_run_results():
    sc = scenario("baseline", *SMALL)
    results = [run(sc, 0), run(sc, 1)]
    out = simulated_monthly(results).pivot(index="month", columns="series", values="sim_mean")
    assert [str(p) for p in out.index] == ["2018-10", "2018-11", "2018-12", "2019-01", "2019-02"]
    groups = ["single_adults", "family_unit_individuals", "unaccompanied_children"]
    nats = ["mexico", "guatemala", "honduras", "el_salvador", "other"]
    np.testing.assert_allclose(out[groups].sum(axis=1), out["usbp_total"])
    np.testing.assert_allclose(out[nats].sum(axis=1), out["usbp_total"])
    np.testing.assert_allclose(out["swb_total"], out["usbp_total"] + out["ofo_total"])
    daily = results[0].daily
    oct_ = daily[(daily["metric"] == "apprehensions") & (daily["date"].dt.month == 10)]
    oct_ = oct_[oct_["date"].dt.year == 2018]["value"].sum()
    oct_1 = results[1].daily
    oct_1 = oct_1[(oct_1["metric"] == "apprehensions") & (oct_1["date"] < "2018-11-01")]
    assert out.loc[P("2018-10", "M"), "usbp_total"] == pytest.approx(
        (oct_ + oct_1["value"].sum()) / 2
    )


def test_parallel_and_serial_replications_agree():
    sc = scenario("baseline", *SMALL)
    serial = run_replications(sc, 2, jobs=1)
    parallel = run_replications(sc, 2, jobs=2)
    assert [o.replication for o in parallel] == [0, 1]
    for a, b in zip(serial, parallel, strict=True):
        pd.testing.assert_frame_equal(a.monthly, b.monthly)


# ----------------------------------------------------------------------------- CLI
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", "validate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


BASELINE = str(ROOT / "scenarios/baseline.toml")


def test_cli_validate_writes_folder_and_prints_table(tmp_path):
    out = tmp_path / "validation"
    p = _cli(BASELINE, "--reps", "2", "--set", "scale=0.02", "--out", str(out), "--jobs", "2")
    assert p.returncode == 0, p.stderr
    for head in ("series", "MAPE %", "total err %", "corr", "ARD", "same-month", "beats naive"):
        assert head in p.stdout
    assert "usbp_total" in p.stdout and "family_status" in p.stdout
    assert "Out-of-sample" not in p.stdout
    files = sorted(f.name for f in out.iterdir() if f.name != ".migsim-owned")
    assert files == ["charts", "manifest.json", "metrics.csv", "monthly.csv", "policy_targets.csv"]
    figures = pd.read_csv(out / "policy_targets.csv")
    assert len(figures) == 21 and (figures["observed"] > 0).all()
    assert (figures["sim_min"] <= figures["sim_mean"]).all()
    assert (figures["sim_mean"] <= figures["sim_max"]).all()
    assert "Stocks and policy figures" in p.stdout
    assert f"{int(figures['within_1_3'].sum())} of 21 within a factor of 1.3" in p.stdout
    assert sorted(f.name for f in (out / "charts").iterdir()) == [
        "citizenship.png",
        "family_status.png",
        "swb.png",
        "total.png",
    ]
    metrics = pd.read_csv(out / "metrics.csv")
    assert list(metrics["series"]) == [s.name for s in SERIES] + ["family_status", "citizenship"]
    # the folder is migsim's, policy_targets.csv included: validating again replaces it
    again = _cli(BASELINE, "--reps", "2", "--set", "scale=0.02", "--out", str(out), "--jobs", "2")
    assert again.returncode == 0, again.stderr
    assert (out / "policy_targets.csv").is_file()
    assert (metrics.loc[metrics["kind"] == "series", "months"] == 12).all()
    monthly = pd.read_csv(out / "monthly.csv")
    assert set(monthly["month"]) == {
        str(p) for p in pd.period_range("2018-10", "2020-02", freq="M")
    }
    assert (monthly.dropna(subset=["observed"])["sample"] == "in_sample").all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["reps"] == 2 and [r["replication"] for r in manifest["replications"]] == [0, 1]
    assert manifest["scenario_hash"] and manifest["packages"]["pandas"]
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".")]  # no temp folder left


def test_cli_validate_out_of_sample(tmp_path):
    out = tmp_path / "v"
    obs = ROOT / "tests/data/synthetic_fy2020.csv"
    p = _cli(
        BASELINE,
        "--reps",
        "1",
        "--set",
        "scale=0.02",
        "--out",
        str(out),
        "--observed",
        str(obs),
        "--jobs",
        "1",
    )
    assert p.returncode == 0, p.stderr
    assert "Out-of-sample (2019-10..2020-02" in p.stdout
    assert "2019-09 are in the in-sample period" in p.stdout  # ignored, with a note
    assert "2020-03..2020-04 are outside the run" in p.stdout
    oos = pd.read_csv(out / "metrics_out_of_sample.csv")
    usbp = oos.set_index("series").loc["usbp_total"]
    assert usbp["months"] == 5 and usbp["observed_total"] == 35000 + 33000 + 32000 + 29000 + 30000
    assert "swb_total" not in set(oos["series"])
    monthly = pd.read_csv(out / "monthly.csv")
    row = monthly[(monthly["series"] == "usbp_total") & (monthly["month"] == "2019-10")].iloc[0]
    assert row["sample"] == "out_of_sample"
    assert row["naive_last_month"] == 40510  # Sep 2019 from the shipped series
    assert row["naive_same_month"] == 51010  # Oct 2018


def _main(capsys, *args: str) -> tuple[int, str]:
    """The CLI in-process (fast): exit status and stderr."""
    try:
        code = main(["validate", *args])
    except SystemExit as e:  # argparse usage errors
        code = e.code
    return code, capsys.readouterr().err


def test_cli_malformed_observed_file_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    text = (ROOT / "tests/data/synthetic_fy2020.csv").read_text().replace("35000", "35k00")
    bad.write_text(text)
    out = tmp_path / "v"
    code, err = _main(capsys, BASELINE, "--reps", "1", "--out", str(out), "--observed", str(bad))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "column usbp_total" in lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_cli_no_overlap_exits_2(tmp_path, capsys):
    out = tmp_path / "v"
    sets = ("--set", "start=2020-04-01", "--set", "end=2020-06-01")
    code, err = _main(capsys, BASELINE, *sets, "--out", str(out))
    assert code == 2 and "do not overlap the observed months" in err
    assert not out.exists()


def test_cli_bad_reps_exits_2(capsys):
    code, err = _main(capsys, BASELINE, "--reps", "0")
    assert code == 2 and "at least 1" in err


def test_policy_figures_compare_only_what_the_run_covers_and_flag_the_factor():
    """A run starting in March 2019 cannot be compared with FY2019 totals or the December
    waitlist; ratios and the within-1.3 flag follow from the replications' mean."""
    from sim.scenario.loader import load_scenario
    from sim.validation import stocks

    full = load_scenario(BASELINE)
    assert len(stocks.covered(full)) == 21
    late = full.model_copy(update={"start": dt.date(2019, 3, 1)})
    rows = stocks.covered(late)
    assert len(rows) and (rows["period_start"] >= dt.date(2019, 3, 1)).all()
    assert "usbp_family_unit_individuals" not in set(rows["target"])
    n = len(rows)
    obs = rows["value"].to_numpy(dtype=float)
    reps = [obs * 1.2, obs * 1.3]  # mean 1.25x: inside
    table = stocks.summarise(late, reps)
    assert np.allclose(table["ratio"], 1.25) and table["within_1_3"].all()
    table = stocks.summarise(late, [obs * 0.7, obs * 0.7])
    assert not table["within_1_3"].any() and (table["sim_max"] == obs * 0.7).all()
    assert f"0 of {n} within" in stocks.format_table(table)
