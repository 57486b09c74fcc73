"""Sweep files (grid and Latin hypercube designs, validation) and sensitivity analysis."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.batch.sweepfile import load_sweep
from sim.cli import main
from tests.conftest import ROOT

SWEEPS = ROOT / "scenarios" / "sweeps"
ACA = (ROOT / "scenarios" / "aca_guatemala.toml").as_posix()
SHORT = ["scale=0.02", "start=2019-11-15", "end=2020-01-01", "warmup_days=45"]


def write_sweep(tmp_path: Path, body: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'name = "t"\nbase = "{ACA}"\nreps = 1\n{body}')
    return path


GRID = """
[[levers]]
name = "cap"
path = "agreements.guatemala.phase_in.1.weekly_cap"
min = 0
max = 2000
steps = 5

[[levers]]
path = "agreements.guatemala.phase_in.1.groups"
values = [["single_adult"], ["single_adult", "family"]]

[[levers]]
path = "deterrence.effect"
values = [0.0, 0.5, 1.0]
"""

LHS = """
[design]
kind = "lhs"
points = 12
seed = 7

[[levers]]
name = "cap"
path = "agreements.guatemala.phase_in.1.weekly_cap"
min = 0
max = 2000

[[levers]]
name = "effect"
path = "deterrence.effect"
min = 0.2
max = 0.8

[[levers]]
name = "groups"
path = "agreements.guatemala.phase_in.1.groups"
values = [["single_adult"], ["single_adult", "family"]]
"""


# ----------------------------------------------------------------------------- designs
def test_grid_is_the_full_product_in_lever_order(tmp_path):
    points = load_sweep(write_sweep(tmp_path, GRID)).design_points()
    assert len(points) == 5 * 2 * 3
    caps = sorted({p.levers["cap"] for p in points})
    assert caps == [0, 500, 1000, 1500, 2000] and all(isinstance(c, int) for c in caps)
    first = points[0].levers
    assert first == {
        "cap": 0,
        "agreements.guatemala.phase_in.1.groups": ["single_adult"],
        "deterrence.effect": 0.0,
    }
    assert points[1].levers["deterrence.effect"] == 0.5  # the last lever varies fastest
    p = points[-1].scenario
    assert p.agreements[0].phase_in[1].weekly_cap == 2000
    assert p.agreements[0].phase_in[1].groups == ["single_adult", "family"]
    assert p.deterrence.effect == 1.0
    assert len({pt.hash for pt in points}) == 30
    assert {pt.scenario.seed for pt in points} == {points[0].scenario.seed}  # paired


def test_latin_hypercube_has_the_size_bounds_and_strata(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, LHS))
    points = sweep.design_points()
    assert [p.label for p in points] == [f"p{i:03d}" for i in range(12)]
    caps = np.array([p.levers["cap"] for p in points])
    effects = np.array([p.levers["effect"] for p in points])
    assert caps.min() >= 0 and caps.max() <= 2000 and caps.dtype.kind == "i"
    assert effects.min() >= 0.2 and effects.max() <= 0.8
    # one point in each of the 12 equal slices of every continuous lever
    assert sorted(((effects - 0.2) / 0.6 * 12).astype(int)) == list(range(12))
    groups = [tuple(p.levers["groups"]) for p in points]
    assert set(groups) == {("single_adult",), ("single_adult", "family")}
    assert groups.count(("single_adult",)) == 6  # stratified categorical
    again = [p.levers for p in load_sweep(write_sweep(tmp_path, LHS)).design_points()]
    assert again == [p.levers for p in points]  # seeded
    other = load_sweep(write_sweep(tmp_path, LHS.replace("seed = 7", "seed = 8")))
    assert [p.levers for p in other.design_points()] != again


def test_shipped_sweeps():
    caps = load_sweep(SWEEPS / "transfer_caps.toml")
    points = caps.design_points()
    assert len(points) == 10
    assert {p.levers["weekly_cap"] for p in points} == {0, 250, 500, 1000, 2000}
    assert {tuple(p.levers["groups"]) for p in points} == {
        ("single_adult",),
        ("single_adult", "family"),
    }
    assert caps.base.name == "aca_guatemala"
    det = load_sweep(SWEEPS / "deterrence.toml").design_points()
    effects = [p.levers["effect"] for p in det]
    assert effects[0] == 0.0 and effects[-1] == 1.0 and len(effects) == 11


def test_shipped_sensitivity_states_its_run_count_and_answerable_outcomes():
    """The file's comment says how many runs `migsim sensitivity` makes (distinct sample
    scenarios x reps); its outcomes are ones the levers, acting from December 2019, move."""
    import re

    from sim.batch.sensitivity import sample
    from sim.batch.series import known_indicators

    path = SWEEPS / "transfer_caps.toml"
    caps = load_sweep(path)
    points = caps.unit_points(sample("morris", caps))
    distinct = {p.hash for p in points}
    stated = re.search(r"= (\d+) runs \(the report", path.read_text())
    assert stated is not None, "the file must state its run count"
    assert int(stated.group(1)) == len(distinct) * caps.spec.sensitivity.reps
    outcomes = caps.spec.sensitivity.outcomes
    assert set(outcomes) <= known_indicators()
    assert "peak_in_custody" not in outcomes  # its peak (May 2019) precedes the levers


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("body", "field", "needle"),
    [
        ("colour = 1\n" + GRID, ": colour:", "unknown field"),
        (GRID.replace("steps = 5", "stepz = 5"), ": levers.0.stepz:", "unknown field"),
        (
            GRID.replace("phase_in.1.weekly_cap", "phase_in.7.weekly_cap"),
            ": levers.0.path:",
            "out of range",
        ),
        (
            GRID.replace("guatemala.phase_in", "mexico.phase_in"),
            ": levers.0.path:",
            "no item named 'mexico'",
        ),
        (
            GRID.replace("deterrence.effect", "deterrence.efect"),
            ": levers.2.path:",
            "no such lever",
        ),
        (
            GRID.replace("[0.0, 0.5, 1.0]", "[0.0, 4.5]"),
            ": levers.2.values:",
            "less than or equal to 4",
        ),
        (GRID.replace("min = 0\n", "min = -10\n"), ": levers.0.min:", "greater than or equal to 0"),
        (GRID.replace("max = 2000", "max = -1"), ": levers.0:", "above max"),
        (GRID.replace("steps = 5\n", ""), ": levers.0:", "a grid needs"),
        (LHS.replace("points = 12\n", ""), ": design:", "needs `points`"),
        (LHS.replace("min = 0.2", "min = 0.2\nsteps = 3"), ": levers.1.steps:", "grid only"),
        ('[set]\n"deterrence.effect" = 5\n' + GRID, ": set.deterrence.effect:", "less than"),
        ('[sensitivity]\noutcomes = ["bogus"]\n' + GRID, ": sensitivity.outcomes:", "bogus"),
    ],
)
def test_bad_sweep_files_give_one_line_naming_file_and_field(tmp_path, capsys, body, field, needle):
    path = write_sweep(tmp_path, body)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"migsim: error: {path}{field}"), err
    assert needle in err, err
    assert not (tmp_path / "out").exists()


def test_missing_base_and_missing_file(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('name = "t"\nbase = "nowhere.toml"\n' + GRID)
    assert main(["sweep", str(path)]) == 2
    assert f"{path}: base: file not found" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "absent.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


# ----------------------------------------------------------------------------- running
def sets(*extra: str) -> list[str]:
    out = []
    for s in (*SHORT, *extra):
        out += ["--set", s]
    return out


def test_sweep_runs_its_design(tmp_path):
    body = """
[[levers]]
name = "cap"
path = "agreements.guatemala.phase_in.1.weekly_cap"
values = [0, 2000]
"""
    path = write_sweep(tmp_path, body)
    out = tmp_path / "out"
    args = ["sweep", str(path), "--reps", "2", "--jobs", "1", "--out", str(out), "--quiet"]
    assert main([*args, "--no-charts", *sets()]) == 0
    design = pd.read_parquet(out / "design.parquet")
    assert list(design["point"]) == ["p000", "p000", "p001", "p001"]
    assert list(design["cap"]) == [0, 0, 2000, 2000]
    m = json.loads((out / "manifest.json").read_text())
    assert m["kind"] == "sweep" and m["sweep"]["spec"]["levers"][0]["name"] == "cap"
    d = pd.read_parquet(out / "differences.parquet")
    moved = d[(d["indicator"] == "transferred") & (d["agreement"] == "")]
    assert moved["point"].tolist() == ["p001"] and (moved["q05"] > 0).all()


def test_sensitivity_morris_on_a_small_design(tmp_path):
    body = """
[[levers]]
name = "cap"
path = "agreements.guatemala.phase_in.1.weekly_cap"
min = 0
max = 2000

[[levers]]
name = "referral"
path = "agreements.guatemala.referral_share"
min = 0.1
max = 0.9

[sensitivity]
outcomes = ["encounters", "transferred", "peak_in_custody"]
trajectories = 2
"""
    path = write_sweep(tmp_path, body)
    out = tmp_path / "out"
    args = ["sensitivity", str(path), "--method", "morris", "--jobs", "1", "--quiet"]
    assert main([*args, "--out", str(out), *sets()]) == 0
    table = pd.read_csv(out / "sensitivity_morris.csv")
    assert len(table) == 3 * 2
    assert list(table["lever"]) == ["cap", "referral"] * 3
    assert {"mu", "mu_star", "sigma", "mu_star_conf"} <= set(table.columns)
    pd.testing.assert_frame_equal(table, pd.read_parquet(out / "sensitivity_morris.parquet"))
    transferred = table[table["outcome"] == "transferred"].set_index("lever")["mu_star"]
    assert (transferred > 0).all()
    assert (out / "charts" / "sensitivity_morris.png").stat().st_size > 1000
    sample = pd.read_parquet(out / "sample_morris.parquet")
    assert len(sample) == 2 * 3  # trajectories x (levers + 1), on the 4-level Morris grid
    levels = sample[["cap", "referral"]].to_numpy() * 3
    assert np.allclose(levels, np.round(levels))


def test_sensitivity_without_salib_is_a_clear_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "SALib", None)
    path = write_sweep(tmp_path, GRID)
    assert main(["sensitivity", str(path), "--method", "morris"]) == 2
    assert "pip install 'migsim[sensitivity]'" in capsys.readouterr().err
