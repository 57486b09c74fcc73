"""Scale and sample size in plain sight: true counts with their scale, warnings naming the
levers a scale distorts and the replications too few for intervals, rounded CSVs, and
periods given by their last simulated day."""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.intervals import few_replications_warning, interval_label, spread
from sim.scalecheck import ScaleWarning, distinct_issues, scale_issues
from tests.conftest import SCENARIOS, scenario

CAP0 = "agreements.guatemala.phase_in.0.weekly_cap"
CAP1 = "agreements.guatemala.phase_in.1.weekly_cap"


# ----------------------------------------------------------------------------- scale
def test_scaled_cap_below_a_whole_party_names_the_lever_and_effective_value() -> None:
    issues = {i.lever: i for i in scale_issues(scenario("aca_guatemala", "scale=0.1"))}
    assert issues[CAP0].given == 25 and issues[CAP0].effective == pytest.approx(20)
    assert issues[CAP1].effective == pytest.approx(60)  # 6.5 simulated persons: 6 fit
    text = issues[CAP0].message()
    assert f"{CAP0} = 25 persons a week" in text and "in effect 20 persons a week" in text
    assert "scale 0.1" in text


def test_a_cap_smaller_than_a_family_says_so() -> None:
    issues = {i.lever: i for i in scale_issues(scenario("aca_families_first", "scale=0.1"))}
    assert "smaller than a family" in issues[CAP0].message()  # 2.5 persons, families allowed


def test_exact_scales_give_no_warning() -> None:
    assert scale_issues(scenario("aca_guatemala")) == []  # full scale
    exact = scenario("aca_guatemala", f"{CAP0}=1000", f"{CAP1}=2000", "scale=0.1")
    assert not [i for i in scale_issues(exact) if i.lever.startswith("agreements")]


def test_a_batch_warns_once_per_lever() -> None:
    runs = [scenario("aca_guatemala", "scale=0.1", f"{CAP1}={c}") for c in (65, 75, 85)]
    issues = [i for i in distinct_issues(runs) if i.lever == CAP1]
    assert len(issues) == 1 and "2 other values" in issues[0].message()


def test_sim_run_warns_with_a_scale_warning() -> None:
    s = scenario("aca_guatemala", "scale=0.02", "end=2018-10-08")
    with pytest.warns(ScaleWarning, match=re.escape(CAP0)):
        sim.run(s)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScaleWarning)
        sim.run(scenario("baseline", "scale=0.02", "end=2018-10-08"))  # nothing distorted


def test_run_prints_true_counts_with_their_scale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(
        ["run", str(SCENARIOS / "aca_guatemala.toml"), "--set", "scale=0.05"]
        + ["--out", str(out), "--no-charts"]
    )
    stdout, stderr = capsys.readouterr()
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    simulated, represented = manifest["people_simulated"], manifest["people_represented"]
    assert represented == round(simulated / 0.05)
    assert f"{simulated:,} persons simulated at scale 0.05 (represents {represented:,})" in stdout
    assert "2018-10-01 to 2020-03-15" in stdout  # the last simulated day, not `end`
    assert manifest["period"] == {"first_day": "2018-10-01", "last_day": "2020-03-15"}
    assert manifest["scale"] == 0.05
    for lever in (CAP0, CAP1):  # each distorted lever once, with its value
        assert stderr.count(f"{lever} = ") == 1
    summary = pd.read_csv(out / "summary.csv", dtype=str, keep_default_na=False)
    value = summary.set_index(["indicator", "agreement"])["value"]
    assert value[("people_simulated", "")] == str(simulated)
    counts = summary[~summary["indicator"].isin(["wall_seconds", "mean_custody_hours"])]
    counts = counts[~counts["indicator"].str.contains("wait_days|capacity")]
    assert counts["value"].str.fullmatch(r"-?\d+").all(), counts[~counts["value"].str.isdigit()]
    assert re.fullmatch(r"\d+\.\d{1,3}", value[("wall_seconds", "")])


def test_check_states_the_last_simulated_day(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(SCENARIOS / "baseline.toml")]) == 0
    assert "2018-10-01 to 2020-03-15 (532 days)" in capsys.readouterr().out


# ----------------------------------------------------------------------------- sample size
def test_spread_is_the_linear_quantiles() -> None:
    x = np.array([[3.0, 1.0, 2.0, 10.0], [1.0, np.nan, 3.0, 5.0]])
    s = spread(x)
    assert s["n"].tolist() == [4, 3]
    assert s["q05"][0] == pytest.approx(np.quantile(x[0], 0.05))
    assert s["q95"][1] == pytest.approx(np.quantile([1.0, 3.0, 5.0], 0.95))
    assert s["mean"][1] == pytest.approx(3.0)


def test_fewer_than_20_replications_make_a_range() -> None:
    assert interval_label(19) == "range over 19 replications"
    assert interval_label(20) == "5–95% interval"
    assert "range over 5 replications" in few_replications_warning(5)
    assert few_replications_warning(20) is None


def test_batch_warns_and_writes_rounded_csv_with_ranges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "batch"
    code = main(
        ["batch", str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "aca_guatemala.toml")]
        + ["--set", "scale=0.02", "--reps", "3", "--jobs", "1", "--out", str(out)]
        + ["--no-charts", "--quiet"]
    )
    stdout, stderr = capsys.readouterr()
    assert code == 0
    assert "range over 3 replications, not 5–95% intervals" in stderr
    assert "2 points x 3 replications at scale 0.02, 2018-10-01 to 2020-03-15" in stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["periods"]["baseline"]["last_day"] == "2020-03-15"
    headline = pd.read_csv(out / "headline.csv", dtype=str, keep_default_na=False)
    assert (headline["interval"] == "range over 3 replications").all()
    for col in ("mean", "median", "q05", "q95"):  # persons: whole numbers, no float noise
        assert headline[col].str.fullmatch(r"-?\d+").all(), headline[col].tolist()
    diffs = headline.loc[headline["point"] != "baseline", "diff_mean"]
    assert diffs.str.fullmatch(r"-?\d+").all()


def test_validate_states_scale_range_and_last_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "validation"
    code = main(
        ["validate", str(SCENARIOS / "historical.toml"), "--reps", "2", "--jobs", "1"]
        + ["--set", "scale=0.02", "--out", str(out)]
    )
    stdout, stderr = capsys.readouterr()
    assert code == 0
    assert "2 replication(s) at scale 0.02 (band: range over 2 replications)" in stdout
    assert "range over 2 replications, not 5–95% intervals" in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    s = scenario("historical")
    last = (s.end - dt.timedelta(days=1)).isoformat()
    assert manifest["period"] == {"first_day": s.start.isoformat(), "last_day": last}
    assert f"{s.start.isoformat()} to {last}" in stdout
    monthly = pd.read_csv(out / "monthly.csv", dtype=str, keep_default_na=False)
    for col in ("sim_mean", "sim_p5", "sim_p95"):  # persons: whole numbers
        assert monthly[col].str.fullmatch(r"-?\d+").all(), monthly[col].tolist()[:5]
