"""Where runs execute: in this process, local processes, or a Dask cluster.

Anything with the `concurrent.futures.Executor` interface works; these are the ones the
CLI builds. Dask is an optional extra, imported only when a scheduler is asked for.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sim.batch.errors import BatchUsageError


class InlineExecutor(Executor):
    """Runs each task when it is submitted, in this process (`--jobs 1`).

    Simple to debug, no pickling, and each run is saved before the next one starts.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as e:  # KeyboardInterrupt propagates: it is not a run failure
            fut.set_exception(e)
        return fut


@dataclass
class Opened:
    """An executor ready to use, how many tasks to keep in flight, and a label for the manifest."""

    executor: Executor
    window: int
    label: str


def default_jobs() -> int:
    return os.cpu_count() or 1


@contextmanager
def open_executor(jobs: int | None = None, scheduler: str | None = None) -> Iterator[Opened]:
    """`jobs` local processes (1 = in-process), or a Dask scheduler ('local' or an address)."""
    if scheduler:
        with _dask(scheduler, jobs) as opened:
            yield opened
        return
    n = jobs or default_jobs()
    if n <= 1:
        yield Opened(InlineExecutor(), 1, "in-process")
        return
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield Opened(pool, 2 * n, f"processes ({n} workers)")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def import_dask() -> Any:
    """The `dask.distributed` module, or a clear `BatchUsageError`."""
    try:
        import dask.distributed as dd
    except ImportError:
        raise BatchUsageError(
            "--scheduler needs Dask, an optional extra: pip install 'migsim[dask]'"
        ) from None
    return dd


@contextmanager
def _dask(scheduler: str, jobs: int | None) -> Iterator[Opened]:
    dd = import_dask()
    if scheduler == "local":
        n = jobs or default_jobs()
        cluster = dd.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = dd.Client(cluster)
        label = f"dask LocalCluster ({n} workers)"
    else:
        if jobs is not None:
            raise BatchUsageError(
                "--jobs does not apply to a remote --scheduler (it has its workers)"
            )
        cluster = None
        client = dd.Client(scheduler, timeout="30s")
        label = f"dask {scheduler}"
    try:
        threads = sum(client.nthreads().values()) or 1
        yield Opened(client.get_executor(), 2 * threads, label)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
