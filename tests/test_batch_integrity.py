"""A batch store verifies itself; workers die with the driver; bad options fail cleanly.

Issue 10: every `runs/<key>.parquet` records what it is (scenario hash, seed, replication,
sha256 of its table) in its Parquet schema metadata. A resumed batch verifies each one and
recomputes, with a one-line warning naming the file, any that is unreadable, truncated,
empty, random bytes, without that record, a copy of another replication, or altered, so
`summary.parquet` is always computed from verified runs. After `kill -9` of a `--jobs 2`
driver its worker processes and the resource tracker exit. An unreachable `--scheduler`
and a seed outside numpy's range give one line and exit status 2, writing nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.batch.store import RUN_META_KEY, DamagedRun, verify_run
from tests.conftest import ROOT

BASE = str(ROOT / "scenarios/baseline.toml")
SMALL = ["--set", "scale=0.02", "--set", "end=2018-12-01", "--set", "warmup_days=30"]
REPS = 6


def limits() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
    resource.setrlimit(resource.RLIMIT_CPU, (300, 300))


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}


def migsim(cwd: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        env=env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limits,
    )


def batch(cwd: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["batch", BASE, "--reps", str(REPS), "--jobs", "1", "--no-charts", "--quiet"]
    return migsim(cwd, *args, *SMALL, "--out", str(out), *extra)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished batch folder, never modified by the tests (they copy it)."""
    root = tmp_path_factory.mktemp("clean")
    result = batch(root, root / "b")
    assert result.returncode == 0, result.stderr
    return root / "b"


def copy_of(clean: Path, tmp_path: Path) -> Path:
    out = tmp_path / "b"
    shutil.copytree(clean, out)
    return out


def run_files(folder: Path) -> list[Path]:
    design = pd.read_parquet(folder / "design.parquet")
    return [folder / "runs" / f"{k}.parquet" for k in design["key"]]


def warnings(stderr: str) -> list[str]:
    """Warnings about stored run files (not those about the scale or replications)."""
    return [
        line
        for line in stderr.splitlines()
        if line.startswith("migsim: warning:") and "/runs/" in line
    ]


# ----------------------------------------------------------------------------- the stamp
def test_each_run_records_what_it_is(clean: Path) -> None:
    design = pd.read_parquet(clean / "design.parquet")
    for row in design.itertuples():
        path = clean / "runs" / f"{row.key}.parquet"
        meta = json.loads(pq.read_schema(path).metadata[RUN_META_KEY])
        assert meta["hash"] == row.hash and meta["replication"] == row.replication
        assert meta["seed"] == row.seed and len(meta["sha256"]) == 64
        expected = {"hash": row.hash, "seed": row.seed, "replication": row.replication}
        assert len(verify_run(path.read_bytes(), expected)) == meta["rows"]


def test_verify_run_refuses_another_replication(clean: Path) -> None:
    a, b = run_files(clean)[:2]
    meta = json.loads(pq.read_schema(b).metadata[RUN_META_KEY])
    with pytest.raises(DamagedRun, match="replication"):
        verify_run(a.read_bytes(), {**meta})


# ----------------------------------------------------------------------------- resume
def damage(files: list[Path]) -> dict[str, str]:
    """Six kinds of damage, one per replication; returns file name -> expected words."""
    truncated, swapped, noise, empty, foreign, altered = files
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    shutil.copy(files[0].with_name("keep.bin"), swapped)  # replication 0 under the name of 1
    noise.write_bytes(os.urandom(5000))
    empty.write_bytes(b"")
    pd.read_parquet(foreign).to_parquet(foreign, index=False)  # same table, no record
    table = pq.read_table(altered)
    values = pa.array(table.column("value").to_numpy() + 1.0)
    table = table.set_column(table.schema.get_field_index("value"), "value", values)
    pq.write_table(table, altered)  # the record is kept, the content changed
    return {
        truncated.name: "not a readable Parquet file",
        swapped.name: "replication 0, not 1",
        noise.name: "not a readable Parquet file",
        empty.name: "empty",
        foreign.name: "no run metadata",
        altered.name: "checksum",
    }


def test_damaged_runs_are_recomputed_with_a_warning(clean: Path, tmp_path: Path) -> None:
    out = copy_of(clean, tmp_path)
    files = run_files(out)
    shutil.copy(files[0], files[0].with_name("keep.bin"))
    expected = damage(files)
    files[0].with_name("keep.bin").unlink()
    result = batch(tmp_path, out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = warnings(result.stderr)
    assert len(lines) == len(expected), result.stderr
    for name, words in expected.items():
        line = next((ln for ln in lines if name in ln), None)
        assert line is not None, f"no warning names {name}: {result.stderr}"
        assert words in line and "recomputing" in line, line
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"]["finished_now"] == REPS and manifest["runs"]["already_finished"] == 0
    # the summary is the clean batch's, and the stored runs are whole again
    assert (out / "summary.parquet").read_bytes() == (clean / "summary.parquet").read_bytes()
    again = batch(tmp_path, out)
    assert again.returncode == 0 and not warnings(again.stderr), again.stderr
    assert "6 already finished" in again.stdout


def test_swapped_replications_are_detected(clean: Path, tmp_path: Path) -> None:
    out = copy_of(clean, tmp_path)
    a, b = run_files(out)[2:4]
    tmp = a.with_name("swap.bin")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    result = batch(tmp_path, out)
    assert result.returncode == 0, result.stderr
    lines = warnings(result.stderr)
    assert sorted(Path(ln.split(": ")[2]).name for ln in lines) == sorted([a.name, b.name])
    assert (out / "summary.parquet").read_bytes() == (clean / "summary.parquet").read_bytes()


def test_a_run_of_another_scenario_is_detected(clean: Path, tmp_path: Path) -> None:
    """A run file of the same replication of a different scenario (other hash)."""
    out = copy_of(clean, tmp_path)
    other = tmp_path / "other"
    assert batch(tmp_path, other, "--set", "deterrence.effect=0.05").returncode == 0
    target = run_files(out)[1]
    shutil.copy(run_files(other)[1], target)
    result = batch(tmp_path, out)
    assert result.returncode == 0, result.stderr
    (line,) = warnings(result.stderr)
    assert target.name in line and "hash" in line
    assert (out / "summary.parquet").read_bytes() == (clean / "summary.parquet").read_bytes()


def test_a_missing_run_is_recomputed(clean: Path, tmp_path: Path) -> None:
    out = copy_of(clean, tmp_path)
    run_files(out)[3].unlink()
    result = batch(tmp_path, out)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "1 run now, 5 already finished" in result.stdout
    assert (out / "summary.parquet").read_bytes() == (clean / "summary.parquet").read_bytes()


# ----------------------------------------------------------------------------- orphans
def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for f in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            out |= {int(x) for x in f.read_text().split()}
    return out


def _descendants(pid: int) -> set[int]:
    seen: set[int] = set()
    todo = [pid]
    while todo:
        for c in _children(todo.pop()):
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return seen


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # a zombie has exited


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_driver(tmp_path: Path) -> None:
    # enough work to outlast the test's look at the workers (a run at 0.1 takes 0.3 s)
    args = ["batch", BASE, "--reps", "40", "--jobs", "2", "--no-charts", "--quiet"]
    args += ["--set", "scale=0.1", "--out", str(tmp_path / "b")]
    driver = subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=tmp_path,
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=limits,
    )
    try:
        deadline = time.monotonic() + 90
        kids: set[int] = set()
        while len(kids) < 2:  # two workers (and, when they are spawned, a resource tracker)
            assert driver.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline, f"workers never started: {kids}"
            time.sleep(0.2)
            kids = _descendants(driver.pid)
        time.sleep(1.0)  # the workers are running tasks
        kids |= _descendants(driver.pid)
    except BaseException:
        os.killpg(driver.pid, signal.SIGKILL)
        raise
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait(timeout=10)
    deadline = time.monotonic() + 10
    while any(_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = {k for k in kids if _alive(k)}
    for k in left:  # do not leave them behind for the next test
        os.kill(k, signal.SIGKILL)
    assert not left, f"still running 10 s after the driver was killed: {left}"


# ----------------------------------------------------------------------------- clean failures
def assert_refused(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    err = result.stderr
    assert result.returncode == 2, (result.returncode, err[-2000:])
    assert "Traceback" not in err, err
    assert err.strip() and "\n" not in err.strip(), f"expected one line on stderr, got:\n{err}"
    for needle in needles:
        assert needle in err, f"{needle!r} not in stderr: {err}"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_and_fast(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    address = f"tcp://127.0.0.1:{closed_port()}"
    t0 = time.monotonic()
    result = migsim(
        tmp_path, "batch", BASE, "--reps", "1", "--scheduler", address, "--out", "b", *SMALL
    )
    assert time.monotonic() - t0 < 25
    assert_refused(result, "--scheduler", address, "cannot connect")
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("seed", [2**70, 2**63, -1])
def test_a_seed_outside_numpys_range_is_refused(tmp_path: Path, seed: int) -> None:
    result = migsim(tmp_path, "batch", BASE, "--reps", "1", f"--seed={seed}", "--out", "b")
    assert_refused(result, "--seed", str(seed), "2**63")
    assert not (tmp_path / "b").exists()


def test_a_seed_outside_numpys_range_in_a_file_is_refused(tmp_path: Path) -> None:
    for path in (ROOT / "scenarios").glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "baseline.toml"\nname = "bad"\nseed = {2**70}\n')
    result = migsim(tmp_path, "batch", "bad.toml", "--reps", "1", "--out", "b")
    assert_refused(result, "bad.toml", "seed", "2**63")
    assert not (tmp_path / "b").exists()


def test_workers_are_forked_only_from_a_single_threaded_driver() -> None:
    """Forking a process with other threads running can deadlock the child: then workers
    are spawned (and on Linux, single-threaded, forked from the warmed-up driver)."""
    import threading

    from sim.batch.executors import worker_context

    if not sys.platform.startswith("linux"):
        assert worker_context().get_start_method() == "spawn"
        return
    if threading.active_count() == 1:
        assert worker_context().get_start_method() == "fork"
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert worker_context().get_start_method() == "spawn"
    finally:
        stop.set()
        other.join()
