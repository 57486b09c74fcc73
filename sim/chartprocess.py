"""A run's charts drawn by two helper processes, forked before the run starts.

The four run charts cost matplotlib's import (about 0.27 s) and about 0.6 s of drawing, all
of it holding one interpreter's lock, after the simulation. `migsim run` forks a helper as
it starts. The helper imports matplotlib while the model runs (on the machine's second
core), then forks a second helper. When the run is done, it sends its daily table (a few
MB) to the first, which passes it on, and each draws half of the charts into the results
folder's temporary copy while the run writes its tables. The files are the same bytes as
charts drawn in the run's own process (tested).

Only on Linux, where forking a process that has loaded numpy is safe and cheap, and from a
process with no other thread running (as the batch's workers). Elsewhere, or with
`MIGSIM_CHARTS_INLINE=1`, the run draws its charts itself. A helper ignores Ctrl-C
(the run handles it, and stops its helpers) and exits when its pipe closes, so a run that
dies leaves none behind. A helper that is gone when the charts are due (killed, out of
memory) costs only time: the run draws the charts itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from pathlib import Path

import pandas as pd

from sim.chartlist import RUN_CHARTS
from sim.scenario.schema import Scenario

#: the charts each helper draws: the dispositions chart costs about as much as the others
SHARES: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("dispositions_by_group.png",),
    ("encounters_by_nationality.png", "custody.png", "transfers_vs_cap.png"),
)
assert sorted(SHARES[0] + SHARES[1]) == sorted(RUN_CHARTS)


@dataclass(frozen=True)
class ChartInput:
    """What the run charts read of a `RunResult`: sent to the helpers in its place (the
    result's recorder holds every party)."""

    scenario: Scenario
    replication: int
    daily: pd.DataFrame

    def series(self, metric: str, by: str | None = None) -> pd.Series | pd.DataFrame:
        from sim.results import daily_series

        return daily_series(self.daily, metric, by)


def helpers_wanted() -> bool:
    """On Linux, from a single-threaded process (forking one with other threads running
    is unsafe: a lock one of them holds stays held in the child), unless turned off."""
    return (
        sys.platform == "linux"
        and threading.active_count() == 1
        and not os.environ.get("MIGSIM_CHARTS_INLINE")
    )


class ChartHelpers:
    """Two chart helpers: `start` before the run, `submit` and `collect` once after it,
    `close` always."""

    def __init__(self, pid: int, conn: Connection) -> None:
        self.pid = pid  # the first helper; it forks, waits for and reports the second
        self._conn = conn
        self.second_pid: int | None = None
        self._reaped = False

    @classmethod
    def start(cls) -> ChartHelpers | None:
        """Fork the first helper, or None where helpers are not used or cannot be started."""
        if not helpers_wanted():
            return None
        ours, theirs = Pipe()
        try:
            pid = os.fork()
        except OSError:  # no process to spare (a limit, memory): the run draws them
            ours.close()
            theirs.close()
            return None
        if pid == 0:  # the helper
            ours.close()
            _serve_and_exit(theirs, fork_second=True)
        theirs.close()
        return cls(pid, ours)

    def submit(self, charts: ChartInput, folder: Path) -> bool:
        """Ask the helpers to draw the charts into `folder` (it must exist); False if the
        helpers are gone (the caller then draws them)."""
        try:
            _, self.second_pid = self._conn.recv()  # sent once matplotlib is imported
            self._conn.send((charts, folder))
        except (EOFError, OSError):
            self.kill()
            return False
        return True

    def collect(self) -> bool:
        """Wait for the charts asked for by `submit`: False if a helper is gone (the caller
        then draws them all). An error in a helper (a full disk, a bug) is raised here."""
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError):
            status, value = "gone", None
        if status == "gone":
            self.kill()
            return False
        self._reap()
        if status == "error":
            raise value
        return True

    def kill(self) -> None:
        """Stop both helpers now (the run failed or was interrupted), before the
        temporary folder they write into is removed. (Once the first has exited, the
        second has too: the first waits for it, whatever happens.)"""
        if not self._reaped:
            for pid in (self.pid, self.second_pid):
                if pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        self._reap()

    def close(self) -> None:
        """Release the helpers; an idle helper sees its pipe close and exits."""
        self._conn.close()
        self._reap()

    def _reap(self) -> None:
        if self._reaped:
            return
        self._conn.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self._reaped = True


def _serve_and_exit(conn: Connection, fork_second: bool) -> None:
    """A helper's life: import the charts, (fork the second helper,) draw one share of the
    charts when asked, report, exit. Never returns: `os._exit` skips the run's own exit
    handlers, which are not the helper's to run."""
    code = 0
    second: tuple[int, Connection] | None = None
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        import sim.charts  # noqa: F401  (matplotlib: the point of starting early)

        if fork_second:
            ours, theirs = Pipe()
            pid = os.fork()
            if pid == 0:
                conn.close()  # the run must see EOF once the first helper is gone
                ours.close()
                _serve_and_exit(theirs, fork_second=False)
            theirs.close()
            second = (pid, ours)
            conn.send(("ready", pid))
        try:
            job = conn.recv()
        except EOFError:  # the run ended without charts
            job = None
        if second is not None and job is not None:
            second[1].send(job)
        if job is not None:
            conn.send(_draw_share(job, SHARES[0] if fork_second else SHARES[1], second))
    except BaseException:  # a helper must never fall through into the run's code
        code = 1
    finally:
        if second is not None:  # the second exits on its pipe's end, if not already gone
            second[1].close()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(second[0], 0)
        os._exit(code)


def _draw_share(
    job: tuple[ChartInput, Path],
    share: Sequence[str],
    second: tuple[int, Connection] | None,
) -> tuple[str, object]:
    """Draw `share` of the charts; the first helper adds the second's report to its own."""
    from sim.charts import write_run_charts

    charts, folder = job
    try:
        written = [p.name for p in write_run_charts(charts, folder, only=share)]
    except BaseException as e:
        if second is not None:  # it must not go on writing into a folder about to go
            with contextlib.suppress(ProcessLookupError):
                os.kill(second[0], signal.SIGKILL)
            os.waitpid(second[0], 0)
        return ("error", _picklable(e))
    if second is None:
        return ("done", written)
    pid, conn = second
    try:
        status, value = conn.recv()
    except EOFError:  # killed: the run draws the charts itself
        status, value = "gone", None
    os.waitpid(pid, 0)
    return ("done", written + list(value)) if status == "done" else (status, value)


def _picklable(e: BaseException) -> BaseException:
    """`e` if it survives the pipe, else a RuntimeError carrying its traceback."""
    import pickle

    try:
        pickle.loads(pickle.dumps(e))
        return e
    except Exception:
        return RuntimeError("".join(traceback.format_exception(e)))
