"""Scenario loading: inheritance and overrides work, and every bad input is a clean exit.

The CLI contract for bad input: exit status 2, one line on stderr naming the file (or
`--set`), the field and the problem, no traceback, and no results folder left behind.
The error cases run `python -m sim run` for real; they fail while loading, before the model.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sim.scenario.loader import ScenarioError, load_scenario, read_raw, resolved_dict
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

AGREEMENT = """\
extends = "aca_guatemala.toml"
name = "bad_agreement"

[[agreements]]
name = "guatemala"
receiving_country = "guatemala"
eligible_nationalities = ["honduras", "el_salvador"]
start = 2019-11-21
end = {end}

[[agreements.phase_in]]
from = 2019-11-21
weekly_cap = {cap}
groups = {groups}
"""


def agreement(end: str = "2020-03-16", cap: str = "25", groups: str = '["single_adult"]') -> str:
    return AGREEMENT.format(end=end, cap=cap, groups=groups)


# (case id, files to write, extra CLI args, strings stderr must contain: file, field, problem)
BAD_FILES: list[tuple[str, dict[str, str | bytes], list[str], list[str]]] = [
    (
        "toml_syntax",
        {"bad.toml": 'extends = "baseline.toml"\nname = \n'},
        [],
        ["bad.toml", "line 2", "TOML syntax error"],
    ),
    (
        "syntax_error_in_parent",
        {"parent.toml": "[deterrence\neffect = 0.1\n", "bad.toml": 'extends = "parent.toml"\n'},
        [],
        ["parent.toml", "line 1", "TOML syntax error"],
    ),
    (
        "unknown_top_level_key",
        {"bad.toml": 'extends = "baseline.toml"\ncolour = "red"\n'},
        [],
        ["bad.toml", "colour", "unknown field"],
    ),
    (
        "unknown_nested_key",
        {"bad.toml": 'extends = "baseline.toml"\n[deterrence]\neffekt = 0.3\n'},
        [],
        ["bad.toml", "deterrence.effekt", "unknown field"],
    ),
    (
        "unknown_key_in_item_table",
        {"bad.toml": 'extends = "baseline.toml"\n[departures.rates.mexico]\nfamly = 3\n'},
        [],
        ["bad.toml", "departures.rates.mexico.famly", "unknown field"],
    ),
    (
        "unknown_nationality",
        {"bad.toml": 'extends = "baseline.toml"\n[departures.rates.narnia]\nfamily = 3\n'},
        [],
        ["bad.toml", "departures.rates.narnia", "mexico"],
    ),
    (
        "wrong_type_weekly_cap",
        {"bad.toml": agreement(cap='"many"')},
        [],
        ["bad.toml", "agreements.guatemala.phase_in.0.weekly_cap", "valid integer"],
    ),
    (
        "negative_weekly_cap",
        {"bad.toml": agreement(cap="-5")},
        [],
        ["bad.toml", "agreements.guatemala.phase_in.0.weekly_cap", "greater than or equal to 0"],
    ),
    (
        "negative_holding_capacity",
        {"bad.toml": 'extends = "baseline.toml"\n[border]\nholding_capacity = -1\n'},
        [],
        ["bad.toml", "border.holding_capacity", "greater than or equal to 0"],
    ),
    (
        "wrong_type_section",
        {"bad.toml": 'extends = "baseline.toml"\ndeterrence = 3\n'},
        [],
        ["bad.toml", "deterrence", "valid dictionary"],
    ),
    (
        "bad_priority_group",
        {"bad.toml": 'extends = "baseline.toml"\n[border]\npriority = ["kids"]\n'},
        [],
        ["bad.toml", "border.priority.0", "single_adult"],
    ),
    (
        "scenario_end_before_start",
        {"bad.toml": 'extends = "baseline.toml"\nend = 2018-01-01\n'},
        [],
        ["bad.toml", "end", "not after start"],
    ),
    (
        "agreement_end_before_start",
        {"bad.toml": agreement(end="2019-01-01")},
        [],
        ["bad.toml", "agreements.guatemala.end", "not after start"],
    ),
    (
        "unaccompanied_child_in_agreement",
        {"bad.toml": agreement(groups='["single_adult", "unaccompanied_child"]')},
        [],
        ["bad.toml", "agreements.guatemala.phase_in.0.groups", "unaccompanied_child"],
    ),
    (
        "missing_extends_file",
        {"bad.toml": 'extends = "no_such_parent.toml"\nname = "x"\n'},
        [],
        ["bad.toml", "extends", "file not found", "no_such_parent.toml"],
    ),
    (
        "extends_not_a_string",
        {"bad.toml": 'extends = 3\nname = "x"\n'},
        [],
        ["bad.toml", "extends", "file name"],
    ),
    (
        "extends_cycle",
        {"bad.toml": 'extends = "loop.toml"\n', "loop.toml": 'extends = "bad.toml"\n'},
        [],
        ["bad.toml", "extends", "cycle", "loop.toml"],
    ),
    (
        "scenario_file_missing",
        {},
        [],
        ["bad.toml", "file not found"],
    ),
    (
        "not_utf8",
        {"bad.toml": b"\xff\xfename = 1\n"},
        [],
        ["bad.toml", "UTF-8"],
    ),
]

# (case id, --set assignment, strings stderr must contain); scenario: aca_guatemala.toml
BAD_SETS: list[tuple[str, str, list[str]]] = [
    ("unknown_lever", "deterrence.efect=0.4", ["--set", "deterrence.efect", "no such lever"]),
    ("unknown_section", "nope.x=1", ["--set", "nope.x", "no such lever"]),
    (
        "unknown_agreement_name",
        "agreements.honduras.phase_in.0.weekly_cap=5",
        ["--set", "agreements.honduras.phase_in.0.weekly_cap", "no item named 'honduras'"],
    ),
    (
        "index_out_of_range",
        "agreements.guatemala.phase_in.5.weekly_cap=5",
        ["--set", "agreements.guatemala.phase_in.5.weekly_cap", "out of range"],
    ),
    ("wrong_value_type", "deterrence.effect=lots", ["--set", "deterrence.effect", "valid number"]),
    (
        "value_out_of_bounds",
        "border.holding_capacity=-1",
        ["--set", "border.holding_capacity", "greater than or equal to 0"],
    ),
    ("not_key_value", "deterrence.effect", ["--set", "deterrence.effect", "KEY=VALUE"]),
    ("into_a_value", "metering.start.day=3", ["--set", "metering.start", "not a table"]),
]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with copies of the real scenarios (their whole `extends` chain), so bad
    files can extend baseline.toml or aca_guatemala.toml by a relative name."""
    for path in SCENARIOS.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def run_cli(cwd: Path, scenario: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m sim run` as a user would type it, from `cwd`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "sim", "run", scenario, "--out", str(cwd / "out"), *extra]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def assert_bad_input(result: subprocess.CompletedProcess[str], out: Path, needles: list[str]):
    err = result.stderr
    assert result.returncode == 2, (result.returncode, err)
    assert "Traceback" not in err, err
    assert err.strip() and "\n" not in err.strip(), f"expected one line on stderr, got:\n{err}"
    for needle in needles:
        assert needle in err, f"{needle!r} not in stderr: {err}"
    assert not out.exists(), "a results folder was left behind"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("files", "extra", "needles"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_bad_scenario_file(
    workdir: Path, files: dict[str, str | bytes], extra: list[str], needles: list[str]
) -> None:
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode()
        (workdir / name).write_bytes(data)
    assert_bad_input(run_cli(workdir, "bad.toml", *extra), workdir / "out", needles)


@pytest.mark.parametrize(
    ("assignment", "needles"),
    [case[1:] for case in BAD_SETS],
    ids=[case[0] for case in BAD_SETS],
)
def test_bad_set_override(workdir: Path, assignment: str, needles: list[str]) -> None:
    result = run_cli(workdir, "aca_guatemala.toml", "--set", assignment)
    assert_bad_input(result, workdir / "out", needles)


def test_error_names_the_file_that_set_the_bad_value(workdir: Path) -> None:
    """An error inherited from a parent file is reported against the parent."""
    (workdir / "parent.toml").write_text(
        'extends = "baseline.toml"\n[deterrence]\neffect = 5\n', encoding="utf-8"
    )
    (workdir / "child.toml").write_text('extends = "parent.toml"\nname = "child"\n')
    with pytest.raises(ScenarioError) as e:
        load_scenario(workdir / "child.toml")
    assert Path(e.value.source).name == "parent.toml"
    assert e.value.field == "deterrence.effect"
    assert "less than or equal to 4" in e.value.problem


# ----------------------------------------------------------------------------- positive
def test_aca_guatemala_inherits_deterrence_from_baseline_chain() -> None:
    base = load_scenario(SCENARIOS / "baseline.toml")
    aca = load_scenario(SCENARIOS / "aca_guatemala.toml")
    assert "effect" not in tomllib.loads((SCENARIOS / "aca_guatemala.toml").read_text())
    assert aca.deterrence.effect == base.deterrence.effect
    assert aca.deterrence.effect > 0  # set in a file, not the schema default
    assert aca.name == "aca_guatemala" and [a.name for a in aca.agreements] == ["guatemala"]


@pytest.mark.parametrize(
    "name", ["aca_guatemala", "aca_high_cap", "aca_families_first", "all_three_agreements"]
)
def test_extends_overrides_only_what_it_sets(name: str) -> None:
    """A child differs from its parent in exactly the top-level keys it writes."""
    raw = tomllib.loads((SCENARIOS / f"{name}.toml").read_text(encoding="utf-8"))
    parent = resolved_dict(load_scenario(SCENARIOS / raw.pop("extends")))
    child = resolved_dict(load_scenario(SCENARIOS / f"{name}.toml"))
    inherited = [k for k in child if k not in raw]
    assert inherited and all(child[k] == parent[k] for k in inherited)
    assert child["name"] == name != parent["name"]


def test_child_of_child_inherits_through_the_chain() -> None:
    high = load_scenario(SCENARIOS / "aca_high_cap.toml")
    aca = load_scenario(SCENARIOS / "aca_guatemala.toml")
    assert high.deterrence == aca.deterrence and high.start == aca.start
    assert [s.weekly_cap for s in high.agreements[0].phase_in] == [500, 2000]


def test_set_overrides_take_effect() -> None:
    s = load_scenario(
        SCENARIOS / "aca_guatemala.toml",
        ["agreements.guatemala.phase_in.0.weekly_cap=100", "deterrence.effect=0.4"],
    )
    assert s.agreements[0].phase_in[0].weekly_cap == 100
    assert s.agreements[0].phase_in[1].weekly_cap == 65  # untouched
    assert s.deterrence.effect == 0.4


def test_set_accepts_indices_lists_and_dates() -> None:
    s = load_scenario(
        SCENARIOS / "aca_guatemala.toml",
        [
            "agreements.0.phase_in.1.weekly_cap=7",
            'agreements.guatemala.phase_in.1.groups=["family"]',
            "transit_bar.start=2019-09-01",
            "receiving.honduras.apply_share=0.1",
        ],
    )
    step = s.agreements[0].phase_in[1]
    assert (step.weekly_cap, step.groups) == (7, ["family"])
    assert s.transit_bar.start.isoformat() == "2019-09-01"
    assert s.receiving["honduras"].apply_share == 0.1
    assert s.receiving["guatemala"].apply_share == 0.03


def test_seed_override() -> None:
    assert load_scenario(SCENARIOS / "baseline.toml", seed=7).seed == 7


def standard_scenarios() -> list[Path]:
    """Runnable scenario files (fragments such as calibration.toml have no name)."""
    return [p for p in sorted(SCENARIOS.glob("*.toml")) if "name" in read_raw(p)[0]]


@pytest.mark.parametrize("path", standard_scenarios(), ids=lambda p: p.stem)
def test_resolved_config_round_trips(path: Path) -> None:
    s = load_scenario(path)
    assert Scenario.model_validate(resolved_dict(s)) == s


def test_round_trip_after_overrides() -> None:
    s = load_scenario(SCENARIOS / "aca_guatemala.toml", ["deterrence.effect=0.4"], seed=3)
    assert Scenario.model_validate(resolved_dict(s)) == s
