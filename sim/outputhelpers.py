"""A run's tables and charts written by two helper processes, forked before the run starts.

After the simulation, a results folder costs pandas' import (about 0.27 s), the tidy daily
table and its Parquet file, the summary, matplotlib's import (about 0.27 s) and about 0.7 s
of charts, all of it holding one interpreter's lock. `migsim run` forks a helper as it
starts. The helper imports pandas, pyarrow and matplotlib while the model runs (on the
machine's second core), then forks a second helper. When the run is done, it sends its
result (the recorder's arrays: about 12 MB, 0.01 s to pickle) to the first helper, which
passes it on. The first writes `daily.parquet` and `summary.csv` and draws the dispositions
chart; the second draws the other charts; the run writes its manifest meanwhile. The run's
own process never imports pandas or matplotlib, and the files are the same bytes as those
written in its own process (tested).

Only on Linux, where forking a process that has loaded numpy is safe and cheap, and from a
process with no other thread running (as the batch's workers). Elsewhere, or with
`MIGSIM_OUTPUT_INLINE=1`, the run writes everything itself. A helper ignores Ctrl-C (the
run handles it, and stops its helpers) and exits when its pipe closes, so a run that dies
leaves none behind. A helper that is gone when the files are due (killed, out of memory)
costs only time: the run writes them itself.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.chartlist import RUN_CHARTS

if TYPE_CHECKING:
    from sim.results import RunResult

#: the charts each helper draws (the first also writes the tables): about even shares
SHARES: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("dispositions_by_group.png",),
    ("encounters_by_nationality.png", "custody.png", "transfers_vs_cap.png"),
)
assert sorted(SHARES[0] + SHARES[1]) == sorted(RUN_CHARTS)

#: set to anything to write the tables and charts in the run's own process
INLINE_ENV = "MIGSIM_OUTPUT_INLINE"


def helpers_wanted() -> bool:
    """On Linux, from a single-threaded process (forking one with other threads running
    is unsafe: a lock one of them holds stays held in the child), unless turned off."""
    return (
        sys.platform == "linux" and threading.active_count() == 1 and not os.environ.get(INLINE_ENV)
    )


class OutputHelpers:
    """Two output helpers: `start` before the run, `submit` and `collect` once after it,
    `close` always."""

    def __init__(self, pid: int, conn: Connection) -> None:
        self.pid = pid  # the first helper; it forks, waits for and reports the second
        self._conn = conn
        self.second_pid: int | None = None
        self._reaped = False

    @classmethod
    def start(cls) -> OutputHelpers | None:
        """Fork the first helper, or None where helpers are not used or cannot be started."""
        if not helpers_wanted():
            return None
        ours, theirs = Pipe()
        try:
            pid = os.fork()
        except OSError:  # no process to spare (a limit, memory): the run writes them
            ours.close()
            theirs.close()
            return None
        if pid == 0:  # the helper
            ours.close()
            _serve_and_exit(theirs, fork_second=True)
        theirs.close()
        return cls(pid, ours)

    def submit(self, result: RunResult, folder: Path) -> bool:
        """Ask the helpers to write the result's tables into `folder` and its charts into
        `folder/charts` (both must exist); False if the helpers are gone (the caller then
        writes them)."""
        try:
            _, self.second_pid = self._conn.recv()  # sent once the imports are done
            self._conn.send_bytes(pickle.dumps((result, folder), pickle.HIGHEST_PROTOCOL))
        except (EOFError, OSError):
            self.kill()
            return False
        return True

    def collect(self) -> list[tuple[str, str, float]] | None:
        """Wait for what `submit` asked for: the summary's rows (indicator, agreement,
        value), or None if a helper is gone (the caller then writes everything). An error
        in a helper (a full disk, a bug) is raised here."""
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError):
            status, value = "gone", None
        if status == "gone":
            self.kill()
            return None
        self._reap()
        if status == "error":
            raise value
        return value

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
    """A helper's life: import what writing takes, (fork the second helper,) write one
    share when asked, report, exit. Never returns: `os._exit` skips the run's own exit
    handlers, which are not the helper's to run."""
    code = 0
    second: tuple[int, Connection] | None = None
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        import pyarrow.parquet  # noqa: F401  (pandas' Parquet engine, imported on first use)

        import sim.charts  # noqa: F401  (pandas and matplotlib: the point of starting early)
        import sim.results  # noqa: F401

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
            job = conn.recv_bytes()
        except EOFError:  # the run ended without writing
            job = None
        if second is not None and job is not None:
            second[1].send_bytes(job)  # as received: pickled once, by the run
        if job is not None:
            result, folder = pickle.loads(job)
            share = SHARES[0] if fork_second else SHARES[1]
            conn.send(_write_share(result, folder, share, tables=fork_second, second=second))
    except BaseException:  # a helper must never fall through into the run's code
        code = 1
    finally:
        if second is not None:  # the second exits on its pipe's end, if not already gone
            second[1].close()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(second[0], 0)
        os._exit(code)


def _write_share(
    result: RunResult,
    folder: Path,
    share: Sequence[str],
    tables: bool,
    second: tuple[int, Connection] | None,
) -> tuple[str, Any]:
    """Write the tables (the first helper) and draw `share` of the charts; the first helper
    then waits for the second's report. Reports ("done", the summary's rows or None)."""
    from sim.charts import write_run_charts

    try:
        rows = result.write_tables(folder) if tables else None
        write_run_charts(result, folder / "charts", only=share)
    except BaseException as e:
        if second is not None:  # it must not go on writing into a folder about to go
            with contextlib.suppress(ProcessLookupError):
                os.kill(second[0], signal.SIGKILL)
            os.waitpid(second[0], 0)
        return ("error", _picklable(e))
    if second is None:
        return ("done", None)
    pid, conn = second
    try:
        status, value = conn.recv()
    except EOFError:  # killed: the run writes everything itself
        status, value = "gone", None
    os.waitpid(pid, 0)
    return ("done", rows) if status == "done" else (status, value)


def _picklable(e: BaseException) -> BaseException:
    """`e` if it survives the pipe, else a RuntimeError carrying its traceback."""
    try:
        pickle.loads(pickle.dumps(e))
        return e
    except Exception:
        return RuntimeError("".join(traceback.format_exception(e)))
