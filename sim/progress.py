"""Progress bars (tqdm) for long commands, on an interactive terminal only.

A bar is drawn on stderr when stderr is a terminal and never otherwise: captured output,
logs, pipes and tests see no bar (and no carriage returns). tqdm instead of hand-written
redraw code: it handles terminal width, rates, time left and clean closing on Ctrl-C.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm

#: messages of `migsim calibrate` / `backtest` that carry a count: "trials 12/300: ..."
COUNTED = re.compile(r"^(?P<label>[a-z][a-z ]*?) (?P<done>\d+)/(?P<total>\d+)\b")


class _Bar(tqdm):
    """tqdm without its monitor thread (which every bar, even a disabled one, would start
    and leave running): a process with another thread running forks no output helpers and
    no batch workers (`sim.outputhelpers.helpers_wanted`, `sim.batch.executors`)."""

    monitor_interval = 0


def interactive(stream: TextIO | None = None) -> bool:
    """True when `stream` (default stderr) is a terminal: the only place bars are drawn."""
    stream = stream if stream is not None else sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def bar(
    total: int,
    label: str,
    unit: str,
    initial: int = 0,
    stream: TextIO | None = None,
    enabled: bool = True,
) -> tqdm:
    """A tqdm bar on `stream` (default stderr), disabled unless it is a terminal."""
    stream = stream if stream is not None else sys.stderr
    return _Bar(
        total=total,
        initial=initial,
        desc=label,
        unit=unit,
        file=stream,
        disable=not (enabled and interactive(stream)),
        leave=False,
        dynamic_ncols=True,
    )


def day_progress(label: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """For `Model.run(progress=...)`, which reports (day, days): the callback and a close
    function to call after the run."""
    state: dict[str, tqdm] = {}

    def show(day: int, days: int) -> None:
        b = state.get("bar")
        if b is None:
            b = state["bar"] = bar(days, label, "day")
        b.update(day - b.n)

    def close() -> None:
        if "bar" in state:
            state["bar"].close()

    return show, close


class MessageProgress:
    """Progress messages of calibrate and backtest: on a terminal, messages that count
    ("trials 12/300: best loss ...") drive a bar and the others are printed above it;
    elsewhere every message is printed as a plain line, as before."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = interactive(self.stream)
        self._bar: tqdm | None = None
        self._label = ""

    def __call__(self, msg: str) -> None:
        m = COUNTED.match(msg) if self.tty else None
        if m is None:
            if self._bar is not None:
                self._bar.write(msg, file=self.stream)
            else:
                print(msg, file=self.stream, flush=True)
            return
        done, total, label = int(m["done"]), int(m["total"]), m["label"]
        if self._bar is None or label != self._label or total != self._bar.total:
            self.close()
            self._bar, self._label = bar(total, label, "", stream=self.stream), label
        self._bar.update(done - self._bar.n)
        self._bar.set_postfix_str(msg[m.end() :].lstrip(": "), refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
