"""The output helpers of `migsim run` (`sim.outputhelpers`): the same files as tables and
charts written in-process, the run's own process never imports pandas or matplotlib, and no
helper outlives the run, whether it succeeds, fails or is interrupted."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import sim.charts
from sim.outputhelpers import INLINE_ENV, OutputHelpers, helpers_wanted
from sim.ownership import OutputError
from sim.results import RunResult
from tests.conftest import ROOT, imports_of_cli, scenario
from tests.runcache import shared_run

pytestmark = pytest.mark.skipif(not helpers_wanted(), reason="output helpers: Linux only")


@pytest.fixture(autouse=True)
def single_threaded() -> None:
    """The helpers are forked only from a process with no other thread running: wait a
    little for threads a test before this one left finishing (a browser test's child
    watcher), and name any that stay, rather than failing on a helper refused."""
    deadline = time.monotonic() + 10
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    assert not others, f"threads left running by an earlier test: {others}"


@pytest.fixture(scope="module")
def aca() -> RunResult:
    return shared_run(scenario("aca_guatemala", "scale=0.02"))


def _files(folder: Path) -> dict[str, bytes]:
    """The tables and the charts (not the manifest: it records the run's own process)."""
    files = [folder / "daily.parquet", folder / "summary.csv"]
    return {p.name: p.read_bytes() for p in files + sorted((folder / "charts").iterdir())}


def _fresh(result: RunResult) -> RunResult:
    """The same run without its cached tables (as a run has them before writing)."""
    return dataclasses.replace(result)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _wait_gone(pids: list[int], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(_alive(p) for p in pids)


def test_helpers_write_the_same_files_and_exit(aca: RunResult, tmp_path: Path) -> None:
    inline = _fresh(aca)
    inline.write(tmp_path / "inline", charts=True)
    helped = _fresh(aca)
    helpers = OutputHelpers.start()
    assert helpers is not None
    try:
        helped.write(tmp_path / "helped", charts=True, helpers=helpers)
    finally:
        helpers.close()
    assert "daily" not in vars(helped)  # the table was built in the helpers only
    files = _files(tmp_path / "inline")
    assert len(files) == 6 and _files(tmp_path / "helped") == files  # byte for byte
    assert helped.totals() == inline.totals()  # the helpers' summary, back in the run
    assert helped.summary().equals(inline.summary())
    manifests = [
        json.loads((tmp_path / d / "manifest.json").read_text()) for d in ("inline", "helped")
    ]
    assert manifests[0]["charts_skipped"] == manifests[1]["charts_skipped"]
    assert helpers.second_pid is not None
    assert not _alive(helpers.pid) and not _alive(helpers.second_pid)


def test_a_helper_killed_before_the_files_means_the_run_writes_them(
    aca: RunResult, tmp_path: Path
) -> None:
    _fresh(aca).write(tmp_path / "inline", charts=True)
    helpers = OutputHelpers.start()
    assert helpers is not None
    os.kill(helpers.pid, signal.SIGKILL)
    try:
        _fresh(aca).write(tmp_path / "helped", charts=True, helpers=helpers)
    finally:
        helpers.close()
    assert _files(tmp_path / "helped") == _files(tmp_path / "inline")


@pytest.mark.parametrize("what", ["table", "chart"])
def test_an_error_in_a_helper_fails_the_write_and_leaves_nothing(
    what: str, aca: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helpers are forked after the patch, so they write no Parquet file, or no PNG:
    a full disk."""

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "somewhere")

    if what == "chart":
        monkeypatch.setattr(sim.charts, "_write_png_bytes", full)
    else:
        import pandas as pd

        monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    helpers = OutputHelpers.start()
    assert helpers is not None
    try:
        with pytest.raises(OutputError, match="No space left on device"):
            _fresh(aca).write(tmp_path / "out", charts=True, helpers=helpers)
    finally:
        helpers.close()
    assert list(tmp_path.iterdir()) == []  # no results folder, no temporary leftovers
    assert not _alive(helpers.pid)


def test_no_process_to_spare_means_no_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork that fails is no error: `start` gives None and the run writes its files."""

    def no_fork() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert OutputHelpers.start() is None


def test_no_helpers_from_a_process_with_other_threads() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert OutputHelpers.start() is None
    finally:
        stop.set()
        other.join()
    helpers = OutputHelpers.start()
    assert helpers is not None
    helpers.close()


def test_a_run_without_files_due_ends_both_helpers() -> None:
    helpers = OutputHelpers.start()
    assert helpers is not None
    deadline = time.monotonic() + 30
    while not _children(helpers.pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # the first helper forks the second once its imports are done
    second = _children(helpers.pid)
    assert len(second) == 1
    helpers.close()  # the run failed before its files: the helpers see the pipe close
    assert not _alive(helpers.pid)
    assert _wait_gone(second)


@pytest.mark.slow
def test_an_interrupted_run_leaves_no_helper(tmp_path: Path) -> None:
    """Ctrl-C during the simulation: the run stops with nothing written, and its helpers
    (which ignore the interrupt) exit as their pipe closes."""
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "run", "scenarios/historical.toml", "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not _children(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    helpers = _children(proc.pid)
    assert helpers, "no output helper was started"
    time.sleep(1.0)  # into the simulation, with the second helper forked
    family = helpers + [c for h in helpers if _alive(h) for c in _children(h)]
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "Traceback" not in err
    assert not out.exists()
    assert _wait_gone(family)


@pytest.mark.parametrize("inline", [False, True])
def test_migsim_run_itself_imports_neither_pandas_nor_matplotlib(
    inline: bool, tmp_path: Path
) -> None:
    """With the helpers, the run's own process never imports pandas or matplotlib (0.5 s
    of imports); with `MIGSIM_OUTPUT_INLINE` it does (the probe can see them)."""
    env = {k: v for k, v in os.environ.items() if k != INLINE_ENV}
    if inline:
        env[INLINE_ENV] = "1"
    args = ["run", "scenarios/aca_guatemala.toml", "--set", "scale=0.02", "--out"]
    imported = imports_of_cli([*args, str(tmp_path / "run")], ["pandas", "matplotlib"], env)
    assert imported == ([0, 1, 1] if inline else [0, 0, 0])
    folder = tmp_path / "run"
    assert {p.name for p in folder.iterdir()} >= {"daily.parquet", "summary.csv", "manifest.json"}
    assert len(list((folder / "charts").iterdir())) == 4
