"""Model runs computed once per code version and shared by every test process.

`shared_run(scenario, replication)` returns the `RunResult` of `Model(scenario,
replication).run()`, cached on disk in pytest's cache folder (`.pytest_cache/migsim-runs`
under the project root, or `$MIGSIM_TEST_CACHE`). The key is the resolved scenario, the
replication and a hash of every source file under `sim/`, so any change to the model or the
scenario is a new key and never reads a stale result. A file lock per key makes concurrent
pytest-xdist workers wait for the one computing it instead of running it twice.

Use it only for fixtures that read a run (invariants, statistics); tests of determinism or
of the run itself must call the model directly.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
from functools import cache
from pathlib import Path

from sim.model import Model
from sim.results import RunResult
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]


@cache
def code_hash() -> str:
    h = hashlib.sha256()
    for path in sorted((ROOT / "sim").rglob("*.py")):
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    base = os.environ.get("MIGSIM_TEST_CACHE")
    path = Path(base) if base else ROOT / ".pytest_cache" / "migsim-runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def key(scenario: Scenario, replication: int) -> str:
    h = hashlib.sha256()
    h.update(code_hash().encode())
    h.update(scenario.model_dump_json().encode())
    h.update(str(replication).encode())
    return h.hexdigest()[:24]


def shared_run(scenario: Scenario, replication: int = 0) -> RunResult:
    folder = cache_dir()
    k = key(scenario, replication)
    target = folder / f"{k}.pkl"
    with open(folder / f"{k}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process computes, the others wait and read
        try:
            if target.is_file():
                try:
                    with open(target, "rb") as f:
                        return pickle.load(f)
                except Exception:  # a truncated or foreign file: recompute it
                    target.unlink(missing_ok=True)
            result = Model(scenario, replication).run()
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            with open(tmp, "wb") as f:
                pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)  # never a partial file under the key
            return result
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
