"""Hostile numbers in scenario files and on the command line are stopped before the run.

Issue 10: every number in the schema is finite and bounded (shares in [0, 1], durations
positive and at most ten years, rates not absurd, counts integers, no booleans for
numbers), and a horizon or size that would be absurd is refused up front saying how big it
would be. Each case runs the real CLI in a subprocess (memory and CPU limited, with a
timeout, so a missing bound fails the test instead of the machine) and checks the contract:
exit status 2, one line on stderr naming the file and the field, no traceback, nothing
written.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sim.scenario.loader import load_scenario, read_raw
from sim.scenario.schema import MAX_HORIZON_DAYS, MAX_PERSONS, SEED_LIMIT
from tests.bounded import migsim
from tests.conftest import SCENARIOS

HEAD = 'extends = "baseline.toml"\nname = "bad"\n'


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """Copies of the shipped scenarios, so a bad file can extend baseline.toml."""
    for path in SCENARIOS.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def assert_refused(result: subprocess.CompletedProcess[str], needles: list[str]) -> None:
    err = result.stderr
    assert result.returncode == 2, (result.returncode, err[-2000:])
    assert "Traceback" not in err, err
    assert err.strip() and "\n" not in err.strip(), f"expected one line on stderr, got:\n{err}"
    for needle in needles:
        assert needle in err, f"{needle!r} not in stderr: {err}"


def leg(value: str) -> str:
    return (
        '[[journey.routes.mexico]]\nshare = 1.0\n[[journey.routes.mexico.legs]]\ncountry = "mexico"\n'
        f"mean_days = {value}\n"
    )


HOURS = "[border.processing_hours]\nsingle_adult = {}\nfamily = 30\nunaccompanied_child = 30\n"
SEASON = "[departures]\nseasonality = [{}]\n"

# (case id, body after `extends`/`name`, strings stderr must contain besides "bad.toml")
BAD_NUMBERS: list[tuple[str, str, list[str]]] = [
    ("leg_mean_days_inf", leg("inf"), ["journey.routes.mexico.0.legs.0.mean_days", "finite"]),
    ("leg_mean_days_nan", leg("nan"), ["journey.routes.mexico.0.legs.0.mean_days", "finite"]),
    ("leg_mean_days_1e400", leg("1e400"), ["mean_days", "finite"]),
    ("leg_mean_days_absurd", leg("1e6"), ["mean_days", "less than or equal to 3650"]),
    ("leg_mean_days_negative", leg("-3"), ["mean_days", "greater than or equal to 0"]),
    (
        "processing_hours_inf",
        HOURS.format("inf"),
        ["border.processing_hours.single_adult", "finite"],
    ),
    ("processing_hours_absurd", HOURS.format("1e7"), ["processing_hours.single_adult", "8760"]),
    (
        "processing_lanes_true",
        "[border]\nprocessing_lanes = true\n",
        ["border.processing_lanes", "not true/false"],
    ),
    (
        "processing_lanes_fraction",
        "[border]\nprocessing_lanes = 2.5\n",
        ["border.processing_lanes", "integer"],
    ),
    ("processing_lanes_zero", "[border]\nprocessing_lanes = 0\n", ["border.processing_lanes"]),
    ("hhs_hours_inf", "[border]\nhhs_hours = inf\n", ["border.hhs_hours", "finite"]),
    (
        "holding_capacity_true",
        "[border]\nholding_capacity = false\n",
        ["border.holding_capacity", "not true/false"],
    ),
    (
        "rate_1e400",
        "[departures.rates.mexico]\nsingle_adult = 1e400\n",
        ["departures.rates.mexico.single_adult", "finite"],
    ),
    (
        "rate_negative",
        "[departures.rates.guatemala]\nfamily = -10\n",
        ["departures.rates.guatemala.family", "greater than or equal to 0"],
    ),
    (
        "rate_nan",
        "[departures.rates.honduras]\nunaccompanied_child = nan\n",
        ["departures.rates.honduras.unaccompanied_child", "finite"],
    ),
    (
        "rate_absurd",
        "[departures.rates.mexico]\nsingle_adult = 1e9\n",
        ["departures.rates.mexico.single_adult", "less than or equal to"],
    ),
    ("seasonality_negative", SEASON.format("1, " * 11 + "-1"), ["departures.seasonality", "Dec"]),
    ("seasonality_zero", SEASON.format("0, " + "1, " * 11), ["departures.seasonality", "Jan"]),
    ("seasonality_nan", SEASON.format("1, " * 11 + "nan"), ["departures.seasonality", "finite"]),
    ("seasonality_1e400", SEASON.format("1e400, " + "1, " * 11), ["seasonality", "finite"]),
    ("seasonality_huge", SEASON.format("1e6, " + "1, " * 11), ["seasonality", "<= 10"]),
    ("seasonality_11_values", SEASON.format("1, " * 10 + "1"), ["seasonality", "12"]),
    ("seasonality_booleans", SEASON.format("true, " * 12), ["seasonality", "not true/false"]),
    (
        "level_nan",
        '[departures.level.all]\n"2019-01" = nan\n',
        ["departures.level.all.2019-01", "finite"],
    ),
    (
        "level_negative",
        '[departures.level.mexico]\n"2019-01" = -1\n',
        ["departures.level", "2019-01"],
    ),
    ("level_1e400", '[departures.level.all]\n"2019-01" = 1e400\n', ["departures.level", "finite"]),
    ("memory_days_inf", "[deterrence]\nmemory_days = inf\n", ["deterrence.memory_days", "finite"]),
    ("memory_days_zero", "[deterrence]\nmemory_days = 0\n", ["deterrence.memory_days"]),
    (
        "delay_days_bool",
        "[deterrence]\ndelay_days = true\n",
        ["deterrence.delay_days", "not true/false"],
    ),
    ("effect_nan", "[deterrence]\neffect = nan\n", ["deterrence.effect", "finite"]),
    (
        "hazard_above_one",
        "[[enforcement.mexico]]\nfrom = 2000-01-01\ndaily_hazard = 2\n",
        ["enforcement.mexico.0.daily_hazard", "less than or equal to 1"],
    ),
    (
        "mpp_give_up_inf",
        "[mpp]\ngive_up_days = inf\n",
        ["mpp.give_up_days", "finite"],
    ),
    (
        "reattempt_delay_inf",
        "[reattempts.removed]\nprobability = 0.2\nmean_delay_days = inf\n",
        ["reattempts.removed.mean_delay_days", "finite"],
    ),
    (
        "receiving_decision_inf",
        "[receiving.guatemala]\ndecision_hours = inf\n",
        ["receiving.guatemala.decision_hours", "finite"],
    ),
    ("horizon_300_years", "end = 2319-01-01\n", ["end", "300 years", f"{MAX_HORIZON_DAYS:,}"]),
    ("scale_huge", "scale = 1000\n", ["scale", "less than or equal to 1"]),
    ("scale_nan", "scale = nan\n", ["scale", "finite"]),
    (
        "persons_absurd",
        "[departures.rates.mexico]\nsingle_adult = 9000000\nfamily = 9000000\n",
        ["departures.rates", "persons", f"{MAX_PERSONS:,}"],
    ),
    ("seed_2_to_70", f"seed = {2**70}\n", ["seed", "2**63"]),
    ("seed_negative", "seed = -1\n", ["seed", "2**63"]),
    ("seed_bool", "seed = true\n", ["seed", "not true/false"]),
    ("warmup_fraction", "warmup_days = 1.5\n", ["warmup_days", "integer"]),
]


@pytest.mark.parametrize(
    ("body", "needles"), [c[1:] for c in BAD_NUMBERS], ids=[c[0] for c in BAD_NUMBERS]
)
def test_bad_number_in_a_file_is_refused(workdir: Path, body: str, needles: list[str]) -> None:
    (workdir / "bad.toml").write_text(HEAD + body, encoding="utf-8")
    before = listing(workdir)
    result = migsim(workdir, "run", "bad.toml", "--out", "out", "--no-charts")
    assert_refused(result, ["bad.toml", *needles])
    assert not (workdir / "out").exists()
    assert listing(workdir) == before, "a file was written or changed"


BAD_SETS: list[tuple[str, list[str], list[str]]] = [
    ("lanes_true", ["--set", "border.processing_lanes=true"], ["--set", "processing_lanes"]),
    ("hhs_1e400", ["--set", "border.hhs_hours=1e400"], ["--set", "border.hhs_hours", "finite"]),
    ("memory_inf", ["--set", "deterrence.memory_days=inf"], ["--set", "memory_days", "finite"]),
    ("scale_inf", ["--set", "scale=inf"], ["--set", "scale", "finite"]),
    ("horizon", ["--set", "end=2400-01-01"], ["--set", "end", "years"]),
    ("seed_flag_2_to_70", ["--seed", str(2**70)], ["--seed", "2**63"]),
    ("seed_flag_negative", ["--seed=-5"], ["--seed", "2**63"]),
]


@pytest.mark.parametrize(
    ("args", "needles"), [c[1:] for c in BAD_SETS], ids=[c[0] for c in BAD_SETS]
)
def test_bad_number_on_the_command_line_is_refused(
    workdir: Path, args: list[str], needles: list[str]
) -> None:
    before = listing(workdir)
    result = migsim(workdir, "run", "baseline.toml", "--out", "out", "--no-charts", *args)
    assert_refused(result, needles)
    assert listing(workdir) == before


# ----------------------------------------------------------------------------- in process
def test_every_shipped_scenario_is_within_bounds() -> None:
    for path in sorted(SCENARIOS.glob("*.toml")):
        if "name" not in read_raw(path)[0]:  # a fragment written by `migsim calibrate`
            continue
        load_scenario(path)


def test_bounds_are_documented_in_levers() -> None:
    from sim.scenario.introspect import levers

    by_path = {lv.path: lv for lv in levers()}
    assert "<= 3650" in by_path["journey.routes.<nationality>[].legs[].mean_days"].bounds
    assert "<= 8760" in by_path["border.hhs_hours"].bounds
    assert f"< {SEED_LIMIT}" in by_path["seed"].bounds


def test_limits_are_generous_for_real_use() -> None:
    """Ten years at full scale with the calibrated rates is well inside the size limit."""
    s = load_scenario(SCENARIOS / "historical.toml", ["end=2028-01-01", "scale=1"])
    assert s.days > 3000
