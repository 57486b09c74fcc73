"""Batches of runs: replications, sweeps, uncertainty bands and sensitivity indices.

One folder per batch (`runs/`, `design.parquet`, `summary.parquet`, `manifest.json`,
`charts/`); see `sim.batch.orchestrate`. This module stays import-light on purpose:
`sim/__init__.py` imports `batch` from here when `sim` is imported, so that `sim.batch`
stays the function even after submodules of this package are imported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.batch.orchestrate import BatchResult
    from sim.scenario.schema import Scenario

__all__ = ["batch", "sweep"]


def batch(
    scenarios: str | Path | Scenario | Sequence[str | Path | Scenario],
    reps: int = 10,
    executor: Executor | None = None,
    out: str | Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
    reference: str | None = None,
    charts: bool = True,
    progress: bool = False,
) -> BatchResult:
    """Run every scenario `reps` times with common random numbers; returns DataFrames.

    `executor` is any `concurrent.futures.Executor` (a `ProcessPoolExecutor`, a Dask
    client's `get_executor()`, ...); None runs in this process. With `out`, the batch
    folder is written (and finished runs found there are reused); without, nothing is
    written. `overrides` (dotted lever paths) and `seed` apply to every scenario.
    """
    from sim.batch.orchestrate import run_scenarios

    return run_scenarios(
        scenarios,
        reps=reps,
        executor=executor,
        out=out,
        overrides=overrides,
        seed=seed,
        reference=reference,
        charts=charts,
        progress=progress,
    )


def sweep(
    sweep_file: str | Path,
    reps: int | None = None,
    executor: Executor | None = None,
    out: str | Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    charts: bool = True,
    progress: bool = False,
) -> BatchResult:
    """Run the design of a sweep file (grid or Latin hypercube); like `batch`."""
    from sim.batch.orchestrate import run_sweep

    return run_sweep(
        sweep_file,
        reps=reps,
        executor=executor,
        out=out,
        overrides=overrides,
        charts=charts,
        progress=progress,
    )
