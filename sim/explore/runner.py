"""Background runs for the page: one job at a time, a newer one cancels the older.

A job runs the baseline and the changed scenario, replication r of each with the same
seeds (common random numbers), in a worker thread, so the web server keeps answering
(the progress bar polls `Job.fraction`). A new job cancels the running one: the model's
progress callback raises `Cancelled` at its next report (every 30 simulated days), and the
new job waits for the old thread to end, so two runs never compete for the CPU. Finished
replications are cached by scenario (name and description aside) and replication, so the
baseline is computed once per scale and an unchanged setting costs nothing.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.explore.compare import Outcome, outcome_of
from sim.model import Model
from sim.results import RunResult
from sim.scenario.loader import resolved_dict
from sim.scenario.schema import Scenario

CACHE_SIZE = 64  # replications kept (a few MB each at most: only the page's series)
JOBS_KEPT = 8


class Cancelled(Exception):
    """Raised inside a run whose job was superseded."""


def cache_key(s: Scenario, replication: int) -> str:
    """Same levers and seed, same replication: the same run (names do not matter)."""
    data = resolved_dict(s)
    data.pop("name", None)
    data.pop("description", None)
    return json.dumps(data, sort_keys=True, default=str) + f"#r{replication}"


@dataclass
class Job:
    """One press of Run: the baseline and changed replications and their progress."""

    id: int
    baseline: Scenario
    changed: Scenario
    reps: int
    label: str = ""
    settings: Any = None  # the page's settings that made it (for the report's scenario file)
    state: str = "queued"  # queued, running, done, cancelled, failed
    fraction: float = 0.0
    step: str = ""
    error: str = ""
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0
    base_out: list[Outcome] = field(default_factory=list)
    changed_out: list[Outcome] = field(default_factory=list)
    first_run: RunResult | None = None  # changed replication 0, for the report
    view: Any = None  # what the page shows of it, built by the registry's `finish`
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


class Jobs:
    """The app's job registry: the only mutable state of a page server."""

    def __init__(
        self,
        extract: Callable[[RunResult], Outcome] = outcome_of,
        finish: Callable[[Job], Any] | None = None,
    ) -> None:
        self._extract, self._finish = extract, finish
        self._lock = threading.Lock()
        self._jobs: OrderedDict[int, Job] = OrderedDict()
        self._cache: OrderedDict[str, Outcome] = OrderedDict()
        self._thread: threading.Thread | None = None
        self._next = 1

    def submit(
        self,
        baseline: Scenario,
        changed: Scenario,
        reps: int,
        label: str = "",
        settings: Any = None,
    ) -> Job:
        """Start a job; any running job is cancelled (it stops within ~30 simulated days)."""
        with self._lock:
            for old in self._jobs.values():
                old.cancel.set()
            job = Job(self._next, baseline, changed, reps, label, settings)
            self._next += 1
            self._jobs[job.id] = job
            while len(self._jobs) > JOBS_KEPT:
                self._jobs.popitem(last=False)
            previous = self._thread
            self._thread = threading.Thread(
                target=self._work, args=(job, previous), name=f"explore-job-{job.id}", daemon=True
            )
            self._thread.start()
        return job

    def get(self, job_id: int | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id is not None else None

    def latest(self) -> Job | None:
        with self._lock:
            return next(reversed(self._jobs.values()), None)

    def wait(self, timeout: float | None = None) -> None:
        """Until the current job's thread ends (for tests and shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def cancel_all(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.cancel.set()

    # ------------------------------------------------------------------ worker
    def _cached(self, key: str) -> Outcome | None:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
            return hit

    def _store(self, key: str, out: Outcome) -> None:
        with self._lock:
            self._cache[key] = out
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def _work(self, job: Job, previous: threading.Thread | None) -> None:
        if previous is not None:
            previous.join()  # cancelled: ends at its next progress report
        if job.cancel.is_set():
            job.state = "cancelled"
            return
        job.state, job.started = "running", time.perf_counter()
        plan = [
            (which, s, r)
            for r in range(job.reps)
            for which, s in (("baseline", job.baseline), ("changed", job.changed))
        ]
        keys = [cache_key(s, r) for _, s, r in plan]
        first = cache_key(job.changed, 0)  # the report needs this run in full: always run
        todo: list[int] = []
        for i, key in enumerate(keys):
            if key not in keys[:i] and (key == first or self._cached(key) is None):
                todo.append(i)
        done: dict[str, Outcome] = {}
        ran = 0
        try:
            for i, (which, s, r) in enumerate(plan):
                key = keys[i]
                out = done.get(key) or (None if i in todo else self._cached(key))
                if out is None:
                    out = self._run(job, s, r, ran, len(todo), which, key == first)
                    self._store(key, out)
                    ran += 1
                done[key] = out
                (job.base_out if which == "baseline" else job.changed_out).append(out)
            if self._finish is not None:
                job.view = self._finish(job)
        except Cancelled:
            job.state = "cancelled"
            return
        except Exception as e:  # the server carries on; the page shows the error
            traceback.print_exc(file=sys.stderr)
            job.state, job.error = "failed", f"{type(e).__name__}: {e}"
            return
        job.fraction, job.seconds, job.state = 1.0, time.perf_counter() - job.started, "done"

    def _run(
        self, job: Job, s: Scenario, rep: int, k: int, n: int, which: str, keep: bool
    ) -> Outcome:
        job.step = f"{which} replication {rep + 1} of {job.reps}"

        def progress(day: int, days: int) -> None:
            if job.cancel.is_set():
                raise Cancelled
            job.fraction = (k + day / max(days, 1)) / n

        result = Model(s, rep).run(progress=progress)
        if job.cancel.is_set():
            raise Cancelled
        if keep:
            job.first_run = result
        out = self._extract(result)
        job.fraction = (k + 1) / n
        return out
