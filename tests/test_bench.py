"""The benchmark's pure helpers (`benchmarks/bench_full_scale.py`); nothing here is timed."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sqlite3

import pytest

from tests.conftest import ROOT


def _load():
    path = ROOT / "benchmarks" / "bench_full_scale.py"
    spec = importlib.util.spec_from_file_location("bench_full_scale", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load()
T0 = dt.datetime(2026, 1, 1, 12, 0, 0)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("value", "op", "target", "expected"),
    [
        (3.0, "<=", 3.0, "PASS"),
        (3.01, "<=", 3.0, "FAIL"),
        (1.0, "<", 1.0, "FAIL"),
        (0.99, "<", 1.0, "PASS"),
        (20.0, ">=", 20.0, "PASS"),
        (19.9, ">=", 20.0, "FAIL"),
        (None, ">=", 20.0, "-"),
    ],
)
def test_verdict(value, op, target, expected):
    assert bench.verdict(value, op, target) == expected


def test_verdict_rejects_unknown_comparison():
    with pytest.raises(ValueError):
        bench.verdict(1.0, "==", 1.0)


def test_every_target_names_a_figure():
    assert set(bench.TARGETS) <= set(bench.FIGURES)


def test_row_checks_its_target_and_formats_its_value():
    r = bench.row("sim_full", 16.314, "s", "CPU 14.8 s")
    assert (r["figure"], r["shown"], r["target"], r["status"]) == (
        bench.FIGURES["sim_full"],
        "16.31 s",
        "<= 3 s",
        "FAIL",
    )
    assert bench.row("ratio", 21.04, "x", fmt=".1f")["status"] == "PASS"
    free = bench.row("sim_small", 2.3, "s")  # no target
    assert (free["target"], free["status"]) == ("-", "-")


def test_rows_not_measured_and_the_table_order():
    rows = [
        bench.not_measured("batch_speedup", "SKIP", "--skip-batch"),
        bench.row("peak_mb", 196.0, "MB", fmt=".0f"),
        bench.not_measured("sim_full", "ERROR", "child failed"),
    ]
    ordered = bench.in_order(rows)
    assert [r["id"] for r in ordered] == ["sim_full", "peak_mb", "batch_speedup"]
    assert (ordered[0]["shown"], ordered[0]["status"]) == ("error", "ERROR")
    assert (ordered[2]["shown"], ordered[2]["status"]) == ("skipped", "SKIP")


def test_format_table_aligns_columns():
    rows = [bench.row("sim_full", 2.5, "s", "note one"), bench.row("peak_mb", 196, "MB", fmt=".0f")]
    text = bench.format_table(rows, ["header line", ""])
    lines = text.splitlines()
    assert lines[0] == "header line"
    assert lines[2].startswith("figure") and lines[2].endswith("notes")
    assert set(lines[3]) == {"-"}
    body = lines[4:]
    assert len(body) == 2
    # the status column starts at the same place on every line
    assert body[0].index("PASS") == body[1].index("PASS")
    assert body[0].endswith("note one")


def test_calibration_rates_leave_out_the_first_batch():
    # batches of 2: the first (with the workers' start-up) ends at 20 s, then 15 s a batch
    trials = [
        (0, at(0), at(20)),
        (1, at(0), at(19)),
        (2, at(20), at(35)),
        (3, at(20), at(34)),
        (4, at(35), at(50)),
        (5, at(35), at(49)),
    ]
    r = bench.calibration_rates(trials, jobs=2, runs_per_trial=3)
    assert r["steady_state"] and r["trials_timed"] == 4
    assert r["seconds_per_trial"] == pytest.approx(7.5)
    assert r["trials_per_hour"] == pytest.approx(480.0)
    assert r["runs_per_hour"] == pytest.approx(1440.0)


def test_calibration_rates_with_a_single_batch_use_all_trials():
    r = bench.calibration_rates([(1, at(0), at(10)), (0, at(0), at(9))], jobs=2, runs_per_trial=3)
    assert not r["steady_state"] and r["trials_timed"] == 2
    assert r["trials_per_hour"] == pytest.approx(720.0)
    with pytest.raises(ValueError):
        bench.calibration_rates([], jobs=2, runs_per_trial=3)


def test_study_trials_reads_completed_trials(tmp_path):
    db = tmp_path / "optuna.db"
    with sqlite3.connect(db) as con:
        con.execute(
            "CREATE TABLE trials (trial_id INTEGER, number INTEGER, state TEXT, "
            "datetime_start TEXT, datetime_complete TEXT)"
        )
        con.executemany(
            "INSERT INTO trials VALUES (?, ?, ?, ?, ?)",
            [
                (1, 0, "COMPLETE", "2026-12-02 13:10:27.208820", "2026-12-02 13:10:48.238182"),
                (2, 1, "RUNNING", "2026-12-02 13:10:27.317847", None),
            ],
        )
    con.close()
    assert bench.study_trials(db) == [
        (
            0,
            dt.datetime(2026, 12, 2, 13, 10, 27, 208820),
            dt.datetime(2026, 12, 2, 13, 10, 48, 238182),
        )
    ]


def test_calibrate_defaults_are_the_commands():
    d = bench.calibrate_defaults()
    assert 0 < d.scale <= 1 and d.reps >= 1 and d.inner >= 0


def test_batch_speedup_is_a_ratio_of_medians():
    # an outlier pair (a load spike during one --jobs 2 run) does not decide the figure
    assert bench.batch_speedup([10.0, 12.0, 11.0], [6.0, 9.5, 6.2]) == pytest.approx(11.0 / 6.2)
    with pytest.raises(ValueError):
        bench.batch_speedup([], [1.0])


def test_reference_captures_every_departure_the_model_makes():
    """`benchmarks/reference.py` is fed the model's own parties (`capture`): one row per
    departing party, first departures, extra departures and re-attempts alike, and the
    run it watches is the model's (its departures unchanged by the watching)."""
    import sys

    import numpy as np

    from sim.model import Model
    from sim.scenario.loader import load_scenario

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from reference import COLUMNS, capture
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    sc = load_scenario(ROOT / "scenarios" / "historical.toml", ["scale=0.02"])
    parties = capture(sc)
    assert set(parties) == set(COLUMNS)
    from sim.metrics import FLOW_INDEX

    result = Model(sc).run()  # every simulated day, the warm-up before `start` included
    departures = result.flows[:, FLOW_INDEX["departures"]].sum()
    assert parties["size"].sum() == departures
    assert (parties["end"] >= parties["start"]).all() and np.isin(parties["kind"], [0, 1, 2]).all()
