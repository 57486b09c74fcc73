"""Run replications 0..n-1 of a scenario, in worker processes when asked.

Each worker returns only the small monthly frame and the run's manifest, not the whole
`RunResult`, so parallel runs do not ship daily tables between processes. Results do not
depend on the number of jobs: every replication draws from its own seeded streams.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.scenario.schema import Scenario
from sim.validation.simulated import replication_monthly


@dataclass
class ReplicationOutput:
    replication: int
    monthly: pd.DataFrame  # month x series, persons
    manifest: dict  # RunResult.manifest() without the resolved scenario
    policy: np.ndarray  # the run's counterpart of each covered policy figure (`stocks`)


def run_one(scenario: Scenario, replication: int) -> ReplicationOutput:
    from sim.model import Model
    from sim.validation.stocks import replication_figures

    result = Model(scenario, replication=replication).run()
    manifest = {k: v for k, v in result.manifest().items() if k != "scenario"}
    return ReplicationOutput(
        replication, replication_monthly(result), manifest, replication_figures(result)
    )


def default_jobs(reps: int) -> int:
    """All cores, but never more workers than replications."""
    return max(1, min(reps, os.cpu_count() or 1))


def run_replications(
    scenario: Scenario,
    reps: int,
    jobs: int = 1,
    done: Callable[[ReplicationOutput, int, int], None] | None = None,
    per_replication: list[Scenario] | None = None,
) -> list[ReplicationOutput]:
    """Replications 0..reps-1, ordered by replication; `done(output, n_done, reps)` reports.
    `per_replication[r]`, when given, replaces `scenario` for replication r (posterior draws)."""
    outputs: list[ReplicationOutput] = []
    pick = (lambda r: per_replication[r]) if per_replication else (lambda r: scenario)
    if jobs <= 1 or reps == 1:
        for r in range(reps):
            outputs.append(run_one(pick(r), r))
            if done:
                done(outputs[-1], len(outputs), reps)
        return outputs
    pool = ProcessPoolExecutor(max_workers=min(jobs, reps))
    try:
        futures: list[Future[ReplicationOutput]] = [
            pool.submit(run_one, pick(r), r) for r in range(reps)
        ]
        for fut in as_completed(futures):
            outputs.append(fut.result())
            if done:
                done(outputs[-1], len(outputs), reps)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return sorted(outputs, key=lambda o: o.replication)
