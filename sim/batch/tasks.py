"""One run as a picklable task, and the function workers execute.

A task carries the resolved scenario as plain data plus the replication, so it can travel
to another process or a Dask worker. The worker returns the run's daily table as Parquet
bytes (the driver writes the file, so workers need no shared filesystem), stamped with
what the run is and a checksum of its table (`sim.batch.store.stamp_run`), its reduced
series and its headline totals (computed here, so that with several workers the driver
does not compute them one run after another at the end). A model error is returned as
data, never raised, so one bad run cannot stop a batch.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.batch.series import daily_to_parquet, run_series, run_totals
from sim.batch.store import stamp_run

#: Test hook (documented in the README): a comma-separated list of `SCENARIO_NAME:REP`
#: (or `SCENARIO_NAME:*`) runs that raise inside the worker, to exercise failure handling.
FAIL_ENV = "MIGSIM_BATCH_FAIL"


@dataclass(frozen=True)
class RunTask:
    """Replication `replication` of the resolved scenario `scenario` (a JSON-ready dict)."""

    key: str
    point: str
    replication: int
    scenario: dict[str, Any]


@dataclass
class RunOutcome:
    """What came back from a worker: Parquet bytes and reduced series, or an error."""

    key: str
    seconds: float
    parquet: bytes | None = None
    series: pd.DataFrame | None = None
    totals: pd.DataFrame | None = None  # `run_totals(series)`
    error: dict[str, Any] | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.error is None


def warm_up() -> None:
    """Import what `execute` needs (before forking workers: see `worker_context`)."""
    import sim.model  # noqa: F401
    import sim.scenario.loader  # noqa: F401


def execute(task: RunTask, runs: int | None = None) -> RunOutcome:
    """Run one task (in whatever process the executor chose), one of about `runs` this
    process will play (None: not known)."""
    from sim.model import Model
    from sim.scenario.loader import scenario_hash
    from sim.scenario.schema import Scenario

    t0 = time.perf_counter()
    try:
        scenario = Scenario.model_validate(task.scenario)
        if not task.key.startswith(scenario_hash(scenario)):
            # e.g. a remote Dask worker with another migsim: it would run something else
            raise RuntimeError("this worker resolves the scenario differently (migsim version?)")
        _maybe_inject_failure(scenario.name, task.replication)
        result = Model(scenario, task.replication, runs=runs).run()
        data, daily = stamp_run(daily_to_parquet(result.daily), run_record(task))
        series = run_series(daily)
        totals = run_totals(series)
    except Exception as e:  # a failed run is data: the batch goes on
        return RunOutcome(task.key, time.perf_counter() - t0, error=error_record(e))
    return RunOutcome(
        task.key, time.perf_counter() - t0, parquet=data, series=series, totals=totals
    )


def run_record(task: RunTask) -> dict[str, Any]:
    """What a stored run records about itself (and what a resumed batch expects of it)."""
    return {
        "key": task.key,
        "hash": task.key.rsplit("_r", 1)[0],
        "seed": task.scenario["seed"],
        "replication": task.replication,
    }


def error_record(e: BaseException, where: str = "model") -> dict[str, Any]:
    """A JSON-ready description of an exception."""
    return {
        "where": where,
        "type": type(e).__name__,
        "message": str(e),
        "traceback": "".join(traceback.format_exception(e)),
    }


def _maybe_inject_failure(name: str, replication: int) -> None:
    spec = os.environ.get(FAIL_ENV, "")
    for item in filter(None, (s.strip() for s in spec.split(","))):
        target, _, rep = item.partition(":")
        if target == name and rep in ("*", str(replication)):
            raise RuntimeError(
                f"injected failure for {name} replication {replication} ({FAIL_ENV})"
            )
