"""Drive tasks through an executor and save each run as soon as it finishes.

At most `window` tasks are in flight (0: no limit), so the in-process executor saves every run before
starting the next and a Ctrl-C loses at most the runs in flight. Results are handled as
they complete, but nothing downstream depends on that order: they are stored by key.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.batch.executors import Opened
from sim.batch.progress import ProgressLine
from sim.batch.store import BatchFolder
from sim.batch.tasks import RunOutcome, RunTask, error_record, execute


@dataclass
class Session:
    """What happened to the runs attempted in this session."""

    series: dict[str, pd.DataFrame] = field(default_factory=dict)
    totals: dict[str, pd.DataFrame] = field(default_factory=dict)  # computed by the workers
    seconds: dict[str, float] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)


def run_tasks(
    tasks: Sequence[RunTask],
    opened: Opened,
    folder: BatchFolder | None,
    progress: ProgressLine,
    session: Session,
) -> None:
    """Run `tasks`, filling `session`; failures are recorded, not raised. KeyboardInterrupt
    propagates after cancelling what has not started (finished runs are already on disk)."""
    queue = deque(tasks)
    pending: dict[Future, RunTask] = {}
    # about how many runs each process will play (it decides whether numba repays its load)
    runs = -(-len(tasks) // opened.processes) if opened.processes else None
    try:
        while queue or pending:
            while queue and (not opened.window or len(pending) < opened.window):
                task = queue.popleft()
                try:
                    pending[opened.executor.submit(execute, task, runs)] = task
                except Exception as e:  # a broken executor: the rest cannot run
                    for t in (task, *queue):
                        _record(session, t, _failed(t, e, "executor"), folder, progress)
                    queue.clear()
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: pending[f].key):
                task = pending.pop(fut)
                _record(session, task, _outcome(fut, task), folder, progress)
    except BaseException:
        for fut in pending:
            fut.cancel()
        raise
    finally:
        progress.close()


def _outcome(fut: Future, task: RunTask) -> RunOutcome:
    exc = fut.exception() if not fut.cancelled() else None
    if isinstance(exc, KeyboardInterrupt):  # Ctrl-C reached a worker process too
        raise KeyboardInterrupt
    if fut.cancelled():
        return _failed(task, RuntimeError("cancelled by the executor"), "executor")
    if exc is not None:
        return _failed(task, exc, "executor")
    return fut.result()


def _failed(task: RunTask, e: BaseException, where: str) -> RunOutcome:
    return RunOutcome(task.key, 0.0, error=error_record(e, where))


def _record(
    session: Session,
    task: RunTask,
    outcome: RunOutcome,
    folder: BatchFolder | None,
    progress: ProgressLine,
) -> None:
    if outcome.ok:
        if folder is not None and outcome.parquet is not None:
            folder.save_run(task.key, outcome.parquet)
        session.series[task.key] = outcome.series
        if outcome.totals is not None:
            session.totals[task.key] = outcome.totals
        session.seconds[task.key] = round(outcome.seconds, 3)
    else:
        info = {"key": task.key, "point": task.point, "replication": task.replication}
        record = {**info, **(outcome.error or {})}
        # model errors are reproducible facts about the run; executor errors are not
        if folder is not None and record.get("where") == "model":
            folder.save_error(task.key, record)
            record["error_file"] = str(folder.error_path(task.key).relative_to(folder.root))
        session.failures.append({k: v for k, v in record.items() if k != "traceback"})
    progress.update(outcome.ok)
