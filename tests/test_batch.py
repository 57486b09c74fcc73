"""Batches: paired replications, bit-identical summaries on every executor, resume,
failures as data, interruption, and the Python API."""

from __future__ import annotations

import importlib
import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.batch.tasks import FAIL_ENV
from sim.cli import main
from tests.conftest import ROOT, sigint_default

BASE = str(ROOT / "scenarios/baseline.toml")
ACA = str(ROOT / "scenarios/aca_guatemala.toml")
# small and short: each run well under a second
SMALL = ["scale=0.02", "end=2018-12-01", "warmup_days=30"]
# a window in which the Guatemala agreement transfers people
WITH_TRANSFERS = ["scale=0.02", "start=2019-11-15", "end=2020-01-01", "warmup_days=45"]


def batch_cli(out: Path, *extra: str, sets: list[str] = SMALL, scenarios=(BASE, ACA)) -> int:
    args = ["batch", *scenarios, "--out", str(out), "--quiet", *extra]
    for s in sets:
        args += ["--set", s]
    return main(args)


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


# ----------------------------------------------------------------------------- one folder
@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("batch") / "b"
    assert batch_cli(out, "--reps", "3", "--jobs", "1", sets=WITH_TRANSFERS) == 0
    return out


def test_folder_layout(folder):
    runs = sorted(p.name for p in (folder / "runs").iterdir())
    assert len(runs) == 6 and all(p.endswith(".parquet") for p in runs)
    design = pd.read_parquet(folder / "design.parquet")
    assert list(design["point"]) == ["baseline"] * 3 + ["aca_guatemala"] * 3
    assert list(design["replication"]) == [0, 1, 2] * 2
    assert {f"{k}.parquet" for k in design["key"]} == set(runs)
    assert design["key"].str.fullmatch(r"[0-9a-f]{16}_r\d{3}").all()
    daily = pd.read_parquet(folder / "runs" / runs[0])
    assert list(daily.columns) == ["date", "metric", "nationality", "group", "agreement", "value"]
    m = manifest(folder)
    assert m["status"] == "complete" and m["reps"] == 3 and m["executor"] == "in-process"
    assert m["runs"] == {"total": 6, "already_finished": 0, "finished_now": 6, "failed": 0}
    assert m["reference"] == "baseline" and m["paired"] is True
    assert [p["point"] for p in m["points"]] == ["baseline", "aca_guatemala"]
    assert m["points"][1]["resolved"]["agreements"][0]["name"] == "guatemala"
    assert m["packages"]["pandas"] and len(m["timings"]["per_run"]) == 6
    for chart in ("weekly_encounters", "weekly_in_custody", "difference_weekly_transferred"):
        assert (folder / "charts" / f"{chart}.png").stat().st_size > 1000
    hidden = [p for p in folder.rglob(".*") if p.name != ".migsim-owned"]  # the ownership marker
    assert not hidden, "temporary files left behind"


def test_summary_bands_and_per_agreement_rows(folder):
    s = pd.read_parquet(folder / "summary.parquet")
    assert list(s.columns) == [
        "point", "metric", "agreement", "date", "n", "mean", "median", "q05", "q95"
    ]  # fmt: skip
    # the median wait is undefined until someone applies: fewer replications may hold it
    waits = s["metric"] == "asylum_median_wait_days"
    assert (s.loc[~waits, "n"] == 3).all() and s.loc[waits, "n"].between(1, 3).all()
    assert (s["q05"] <= s["median"] + 1e-9).all() and (s["median"] <= s["q95"] + 1e-9).all()
    aca = s[(s["point"] == "aca_guatemala") & (s["metric"] == "transferred")]
    assert set(aca["agreement"]) == {"", "guatemala"}  # the total and the agreement's own row
    total = aca[aca["agreement"] == ""].set_index("date")["mean"]
    own = aca[aca["agreement"] == "guatemala"].set_index("date")["mean"]
    pd.testing.assert_series_equal(total, own)
    assert total.sum() > 0
    assert s[(s["point"] == "baseline") & (s["metric"] == "transferred")].empty
    # totals over nationality and group: encounters equal apprehensions + port encounters
    enc = s[(s["metric"] == "encounters") & (s["point"] == "baseline")]["mean"].to_numpy()
    app = s[(s["metric"] == "apprehensions") & (s["point"] == "baseline")]["mean"].to_numpy()
    port = s[(s["metric"] == "port_encounters") & (s["point"] == "baseline")]["mean"].to_numpy()
    assert enc == pytest.approx(app + port)


def test_totals_and_paired_differences(folder):
    t = pd.read_parquet(folder / "totals.parquet")
    d = pd.read_parquet(folder / "differences.parquet")
    enc = t[(t["indicator"] == "encounters") & (t["agreement"] == "")]
    wide = enc.pivot(index="replication", columns="point", values="value")
    paired = wide["aca_guatemala"] - wide["baseline"]
    row = d[(d["indicator"] == "encounters") & (d["agreement"] == "")].iloc[0]
    assert row["point"] == "aca_guatemala" and row["reference"] == "baseline"
    assert row["mean"] == pytest.approx(paired.mean())
    assert row["q05"] <= row["median"] <= row["q95"]
    moved = d[(d["indicator"] == "transferred") & (d["agreement"] == "guatemala")].iloc[0]
    assert moved["q05"] > 0  # transfers against a baseline without any
    headline = pd.read_csv(folder / "headline.csv")
    assert {"point", "indicator", "mean", "q05", "q95", "diff_mean"} <= set(headline.columns)


# ----------------------------------------------------------------------------- determinism
def test_common_random_numbers_pair_replications():
    """Before the agreement starts the two scenarios are the same model: with common random
    numbers every paired difference is exactly zero, while replications differ."""
    res = sim.batch(
        [BASE, ACA], reps=3, overrides={"scale": 0.02, "end": "2018-12-01", "warmup_days": 30}
    )
    assert res.ok and res.out is None
    enc = res.totals[(res.totals["indicator"] == "encounters") & (res.totals["agreement"] == "")]
    assert enc["value"].nunique() > 1  # replications differ
    d = res.differences
    assert not d.empty and (d[["mean", "q05", "q95"]] == 0).all().all()


@pytest.mark.slow
def test_summary_bit_identical_on_every_executor(tmp_path):
    """--jobs 1, --jobs 2 and real Dask clusters give byte-identical tables. In a fresh
    interpreter: Dask leaves threads running in a process that used it (its offload
    executor), and a process with other threads running forks no batch workers and no
    output helpers (unsafe), so the tests after this one in the same pytest worker would
    no longer test those."""
    code = f"from tests.test_batch import executors_agree; executors_agree({str(tmp_path)!r})"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert (tmp_path / "remote" / "summary.parquet").is_file()  # it got to the end


def executors_agree(tmp: str) -> None:
    """The body of `test_summary_bit_identical_on_every_executor` (raises if they differ)."""
    tmp_path = Path(tmp)
    outs = {
        "inline": ["--jobs", "1"],
        "processes": ["--jobs", "2"],
        "dask": ["--scheduler", "local", "--jobs", "2"],
    }
    for name, opts in outs.items():
        assert batch_cli(tmp_path / name, "--reps", "3", "--no-charts", *opts) == 0
    assert manifest(tmp_path / "dask")["executor"] == "dask LocalCluster (2 workers)"
    # a running cluster reached by its address (the path a remote scheduler takes)
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert (
            batch_cli(tmp_path / "remote", "--reps", "3", "--no-charts", "--scheduler", address)
            == 0
        )
    assert manifest(tmp_path / "remote")["executor"] == f"dask {address}"
    for table in ("summary.parquet", "totals.parquet", "differences.parquet"):
        ref = (tmp_path / "inline" / table).read_bytes()
        for name in ("processes", "dask", "remote"):
            assert (tmp_path / name / table).read_bytes() == ref, f"{table} differs on {name}"
    for run in (tmp_path / "inline/runs").iterdir():
        assert (tmp_path / "dask/runs" / run.name).read_bytes() == run.read_bytes()


def test_api_accepts_any_executor_and_matches_in_process():
    overrides = {"scale": 0.02, "end": "2018-12-01", "warmup_days": 30}
    alone = sim.batch([BASE, ACA], reps=2, overrides=overrides)
    with ThreadPoolExecutor(2) as pool:
        threaded = sim.batch([BASE, ACA], reps=2, executor=pool, overrides=overrides)
    pd.testing.assert_frame_equal(alone.summary, threaded.summary, check_exact=True)
    pd.testing.assert_frame_equal(alone.totals, threaded.totals, check_exact=True)
    assert threaded.manifest["executor"] == "ThreadPoolExecutor"
    importlib.import_module("sim.batch.orchestrate")  # a submodule import leaves sim.batch
    assert callable(sim.batch)  # the function


@pytest.mark.parametrize(("processes", "expected"), [(1, 5), (2, 3), (4, 2), (None, None)])
def test_each_process_is_told_its_share_of_the_runs(processes, expected):
    """A worker decides whether numba repays its load from the runs it will play
    (`sim.kernels.use_compiled`): its share of the batch, or None on a cluster."""
    from concurrent.futures import Future

    from sim.batch.executors import Opened
    from sim.batch.progress import ProgressLine
    from sim.batch.runner import Session, run_tasks
    from sim.batch.tasks import RunOutcome, RunTask

    seen = []

    class Recording(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            task, runs = args
            seen.append(runs)
            fut: Future = Future()
            fut.set_result(RunOutcome(task.key, 0.0))
            return fut

    tasks = [RunTask(f"k{i}", "p", i, {}) for i in range(5)]
    session = Session()
    run_tasks(
        tasks,
        Opened(Recording(), 0, "x", processes),
        None,
        ProgressLine("t", 5, enabled=False),
        session,
    )
    assert seen == [expected] * 5


# ----------------------------------------------------------------------------- resume
def test_rerun_skips_finished_runs_and_matches_an_uninterrupted_batch(tmp_path):
    part = tmp_path / "part"
    assert batch_cli(part, "--reps", "2", "--jobs", "1", "--no-charts") == 0
    before = {p.name: p.stat().st_mtime_ns for p in (part / "runs").iterdir()}
    time.sleep(0.01)
    assert batch_cli(part, "--reps", "4", "--jobs", "2", "--no-charts") == 0
    m = manifest(part)
    assert m["runs"] == {"total": 8, "already_finished": 4, "finished_now": 4, "failed": 0}
    assert len(m["timings"]["per_run"]) == 4
    after = {p.name: p.stat().st_mtime_ns for p in (part / "runs").iterdir()}
    assert len(after) == 8 and all(after[k] == v for k, v in before.items())

    whole = tmp_path / "whole"
    assert batch_cli(whole, "--reps", "4", "--jobs", "1", "--no-charts") == 0
    for table in ("summary.parquet", "totals.parquet", "differences.parquet"):
        assert (part / table).read_bytes() == (whole / table).read_bytes()


@pytest.mark.slow
def test_ctrl_c_keeps_finished_runs_and_a_rerun_completes(tmp_path):
    out = tmp_path / "b"
    args = ["batch", BASE, "--reps", "16", "--jobs", "1", "--no-charts"]
    for s in SMALL:
        args += ["--set", s]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *args, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        preexec_fn=sigint_default,  # else, from a background job, it would finish every run
    )
    runs = out / "runs"
    deadline = time.monotonic() + 60
    while len(list(runs.glob("*.parquet")) if runs.is_dir() else []) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, "batch ended too early"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    done = sorted(runs.glob("*.parquet"))
    assert 2 <= len(done) < 16
    assert not [p for p in out.rglob(".*") if p.name != ".migsim-owned"], (
        "partial files left behind"
    )
    for p in done:
        pd.read_parquet(p)  # every finished run is complete
    assert manifest(out)["status"] == "interrupted"
    assert not (out / "summary.parquet").exists()

    assert main([*args, "--out", str(out), "--quiet"]) == 0
    m = manifest(out)
    assert m["runs"]["already_finished"] == len(done)
    assert m["runs"]["finished_now"] == 16 - len(done)
    whole = tmp_path / "whole"
    assert main([*args, "--out", str(whole), "--quiet"]) == 0
    assert (out / "summary.parquet").read_bytes() == (whole / "summary.parquet").read_bytes()


# ----------------------------------------------------------------------------- failures
def test_a_failing_run_is_recorded_and_the_rest_complete(tmp_path, monkeypatch, capsys):
    out = tmp_path / "b"
    monkeypatch.setenv(FAIL_ENV, "aca_guatemala:1")
    assert batch_cli(out, "--reps", "2", "--jobs", "1", "--no-charts") == 1
    assert "failed: aca_guatemala replication 1: RuntimeError" in capsys.readouterr().err
    design = pd.read_parquet(out / "design.parquet").set_index(["point", "replication"])
    bad = design.loc[("aca_guatemala", 1), "key"]
    assert not (out / "runs" / f"{bad}.parquet").exists()
    err = json.loads((out / "runs" / f"{bad}.error.json").read_text())
    assert err["type"] == "RuntimeError" and "injected failure" in err["message"]
    assert "Traceback" in err["traceback"]
    assert len(list((out / "runs").glob("*.parquet"))) == 3
    m = manifest(out)
    assert m["status"] == "complete_with_failures"
    assert [(f["key"], f["point"], f["replication"]) for f in m["failures"]] == [
        (bad, "aca_guatemala", 1)
    ]
    s = pd.read_parquet(out / "summary.parquet")
    assert set(s.loc[s["point"] == "aca_guatemala", "n"]) == {1}
    assert set(s.loc[s["point"] == "baseline", "n"]) == {2}

    monkeypatch.delenv(FAIL_ENV)  # rerunning retries the failed run only
    assert batch_cli(out, "--reps", "2", "--jobs", "1", "--no-charts") == 0
    assert manifest(out)["runs"]["finished_now"] == 1
    assert not (out / "runs" / f"{bad}.error.json").exists()


# ----------------------------------------------------------------------------- bad input
def test_missing_dask_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    assert batch_cli(tmp_path / "b", "--reps", "1", "--scheduler", "local") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install 'migsim[dask]'" in err
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    ("extra", "scenarios", "needle"),
    [
        (["--reference", "nope"], (BASE, ACA), "--reference 'nope'"),
        ([], (BASE, BASE), "'baseline' twice"),
        (["--jobs", "0"], (BASE,), "--jobs must be at least 1"),
        (["--set", "deterrence.effect=5"], (BASE,), "deterrence.effect"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, extra, scenarios, needle):
    assert batch_cli(tmp_path / "b", "--reps", "1", *extra, scenarios=scenarios) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("migsim: error:") and needle in err and "\n" not in err
