"""Where runs execute: in this process, local processes, or a Dask cluster.

Anything with the `concurrent.futures.Executor` interface works; these are the ones the
CLI builds. Dask is an optional extra, imported only when a scheduler is asked for.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
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
    """An executor ready to use, how many tasks to keep in flight, a label for the manifest,
    and how many processes share the runs (None: not known, as on a Dask cluster), so a
    worker knows about how many runs it will play (`sim.kernels.use_compiled`)."""

    executor: Executor
    window: int
    label: str
    processes: int | None = None


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
        yield Opened(InlineExecutor(), 1, "in-process", 1)
        return
    pool = ProcessPoolExecutor(
        max_workers=n,
        mp_context=worker_context(),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        yield Opened(pool, 2 * n, f"processes ({n} workers)", n)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def worker_context() -> multiprocessing.context.BaseContext:
    """How workers start. On Linux, from a single-threaded driver: forked from it once it
    has imported the model (`sim.batch.tasks.warm_up`), so a worker starts in
    milliseconds instead of importing pandas, pydantic, SimPy and the model again (about a
    second each, which at two workers is most of what keeps a batch from running twice as
    fast). The pool forks its workers before it starts its own manager thread. Elsewhere,
    or with other threads running (forking those is unsafe), workers are spawned."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        from sim.batch.tasks import warm_up

        warm_up()
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


PARENT_POLL_SECONDS = 0.5


def die_with_parent(driver: int) -> None:
    """Worker initializer: exit when the driver dies, even by `kill -9` (which runs no
    cleanup in the driver). On Linux the kernel sends SIGKILL when the parent goes
    (PR_SET_PDEATHSIG); everywhere a daemon thread also polls the parent pid. With the
    workers gone, the multiprocessing resource tracker sees its pipe close and exits too."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != driver:  # the driver died before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(driver,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def import_dask() -> Any:
    """The `dask.distributed` module, or a clear `BatchUsageError`."""
    try:
        import dask.distributed as dd
    except ImportError:
        raise BatchUsageError(
            "--scheduler needs Dask, an optional extra: pip install 'migsim[dask]'"
        ) from None
    return dd


#: how long `--scheduler ADDRESS` may take to answer before the batch gives up
CONNECT_TIMEOUT_SECONDS = 5


def _connect(dd: Any, address: str) -> Any:
    """A client of the scheduler at `address`, or one clear `BatchUsageError` within
    `CONNECT_TIMEOUT_SECONDS` (not dask's 30 s and its traceback)."""
    import dask

    timeout = f"{CONNECT_TIMEOUT_SECONDS}s"
    quiet = [logging.getLogger(name) for name in ("distributed", "tornado", "asyncio")]
    levels = [lg.level for lg in quiet]
    for lg in quiet:
        lg.setLevel(logging.CRITICAL)
    try:
        with dask.config.set({"distributed.comm.timeouts.connect": timeout}):
            return dd.Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError, TypeError) as e:
        problem = (str(e).strip().splitlines() or [type(e).__name__])[0]
        if isinstance(e, OSError | TimeoutError):
            problem = f"no answer within {CONNECT_TIMEOUT_SECONDS} s"
        raise BatchUsageError(
            f"--scheduler {address}: cannot connect to a Dask scheduler ({problem})"
        ) from None
    finally:
        for lg, level in zip(quiet, levels, strict=True):
            lg.setLevel(level)


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
        client = _connect(dd, scheduler)
        label = f"dask {scheduler}"
    try:
        threads = sum(client.nthreads().values()) or 1
        yield Opened(client.get_executor(), 2 * threads, label)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
