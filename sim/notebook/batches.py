"""Batches, sweeps and sensitivity from a notebook, without the executor plumbing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.batch import sweep
from sim.batch.sweepfile import load_sweep

if TYPE_CHECKING:
    from sim.batch.orchestrate import BatchResult
    from sim.batch.sweepfile import Sweep

__all__ = ["batch_rows", "load_sweep", "sensitivity", "sweep"]


def batch_rows(result: BatchResult, metric: str) -> pd.DataFrame:
    """One metric's daily rows with every breakdown (nationality, group, agreement) from
    each run of a batch written with `out=`, tagged with `point` and `replication`: the
    batch's own tables keep totals only, this reads the runs themselves."""
    from sim.lookup import check_metric

    check_metric(metric)
    if result.out is None:
        raise ValueError("the batch was run without `out=`, so its runs were not kept")
    parts = [
        pd.read_parquet(
            result.out / "runs" / f"{r.key}.parquet", filters=[("metric", "==", metric)]
        ).assign(point=r.point, replication=r.replication)
        for r in result.design.itertuples()
    ]
    return pd.concat(parts, ignore_index=True)


def sensitivity(
    sweep_file: str | Path | Sweep,
    method: str = "morris",
    executor: Executor | None = None,
    out: str | Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    outcomes: Sequence[str] | None = None,
    reps: int | None = None,
) -> tuple[BatchResult, pd.DataFrame]:
    """Morris or Sobol indices of a sweep file's outcomes (like `migsim sensitivity`):
    returns the batch of runs and the indices table. No charts, no progress line."""
    from sim.batch.orchestrate import user_executor
    from sim.batch.sensitivity import run_sensitivity
    from sim.batch.sweepfile import Sweep

    spec = sweep_file if isinstance(sweep_file, Sweep) else load_sweep(sweep_file, overrides)
    return run_sensitivity(
        spec,
        method,
        user_executor(executor),
        out,
        outcomes=outcomes,
        reps=reps,
        charts=False,
        progress=False,
    )
