"""The chart helpers of `migsim run` (`sim.chartprocess`): the same files as charts drawn
in-process, and no helper outlives the run, whether it succeeds, fails or is interrupted."""

from __future__ import annotations

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
from sim.chartprocess import ChartHelpers, helpers_wanted
from sim.ownership import OutputError
from sim.results import RunResult
from tests.conftest import ROOT, scenario
from tests.runcache import shared_run

pytestmark = pytest.mark.skipif(not helpers_wanted(), reason="chart helpers: Linux only")


@pytest.fixture(scope="module")
def aca() -> RunResult:
    return shared_run(scenario("aca_guatemala", "scale=0.02"))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "charts").iterdir())}


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
    aca.write(tmp_path / "inline", charts=True)
    helpers = ChartHelpers.start()
    assert helpers is not None
    try:
        aca.write(tmp_path / "helped", charts=True, helpers=helpers)
    finally:
        helpers.close()
    inline, helped = _files(tmp_path / "inline"), _files(tmp_path / "helped")
    assert len(inline) == 4 and helped == inline  # byte for byte
    manifests = [
        json.loads((tmp_path / d / "manifest.json").read_text()) for d in ("inline", "helped")
    ]
    assert manifests[0]["charts_skipped"] == manifests[1]["charts_skipped"]
    assert helpers.second_pid is not None
    assert not _alive(helpers.pid) and not _alive(helpers.second_pid)


def test_a_helper_killed_before_the_charts_means_the_run_draws_them(
    aca: RunResult, tmp_path: Path
) -> None:
    aca.write(tmp_path / "inline", charts=True)
    helpers = ChartHelpers.start()
    assert helpers is not None
    os.kill(helpers.pid, signal.SIGKILL)
    try:
        aca.write(tmp_path / "helped", charts=True, helpers=helpers)
    finally:
        helpers.close()
    assert _files(tmp_path / "helped") == _files(tmp_path / "inline")


def test_an_error_in_a_helper_fails_the_write_and_leaves_nothing(
    aca: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helpers are forked after the patch, so they write no PNG: a full disk."""

    def full(path: Path, rgba: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(sim.charts, "_write_png_bytes", full)
    helpers = ChartHelpers.start()
    assert helpers is not None
    try:
        with pytest.raises(OutputError, match="No space left on device"):
            aca.write(tmp_path / "out", charts=True, helpers=helpers)
    finally:
        helpers.close()
    assert list(tmp_path.iterdir()) == []  # no results folder, no temporary leftovers
    assert not _alive(helpers.pid)


def test_no_process_to_spare_means_no_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork that fails is no error: `start` gives None and the run draws its charts."""

    def no_fork() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert ChartHelpers.start() is None


def test_no_helpers_from_a_process_with_other_threads() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert ChartHelpers.start() is None
    finally:
        stop.set()
        other.join()
    helpers = ChartHelpers.start()
    assert helpers is not None
    helpers.close()


def test_a_run_without_charts_due_ends_both_helpers() -> None:
    helpers = ChartHelpers.start()
    assert helpers is not None
    deadline = time.monotonic() + 30
    while not _children(helpers.pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # the first helper forks the second once matplotlib is imported
    second = _children(helpers.pid)
    assert len(second) == 1
    helpers.close()  # the run failed before its charts: the helpers see the pipe close
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
    assert helpers, "no chart helper was started"
    time.sleep(1.0)  # into the simulation, with the second helper forked
    family = helpers + [c for h in helpers if _alive(h) for c in _children(h)]
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "Traceback" not in err
    assert not out.exists()
    assert _wait_gone(family)
