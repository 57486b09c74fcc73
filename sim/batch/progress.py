"""A plain-text progress line on stderr: runs done, failures, time left.

On a terminal the line is redrawn in place; otherwise (logs, CI) a line is printed at most
every few seconds. The estimate uses only runs finished in this session, so resumed runs
do not make it optimistic.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s" if m else f"{s}s"


class ProgressLine:
    def __init__(
        self,
        label: str,
        total: int,
        skipped: int = 0,
        stream: TextIO | None = None,
        enabled: bool = True,
        every: float = 5.0,
    ) -> None:
        self.label, self.total, self.skipped = label, total, skipped
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and total > 0
        self.every = every
        self.done = self.failed = 0
        self.start = time.perf_counter()
        self._last_print = float("-inf")
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        if self.enabled and skipped:
            print(f"{label}: {skipped} of {total} runs already finished, skipped", file=self.stream)

    def text(self) -> str:
        finished = self.skipped + self.done
        elapsed = time.perf_counter() - self.start
        todo = self.total - finished
        line = f"{self.label}: {finished}/{self.total} runs ({finished / self.total:.0%})"
        if self.failed:
            line += f", {self.failed} failed"
        line += f", {_clock(elapsed)} elapsed"
        if self.done and todo:
            line += f", about {_clock(elapsed / self.done * todo)} left"
        return line

    def update(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if not self.enabled:
            return
        now = time.perf_counter()
        last = self.skipped + self.done >= self.total
        if self._tty:
            print(f"\r\033[K{self.text()}", end="\n" if last else "", file=self.stream, flush=True)
        elif last or now - self._last_print >= self.every:
            print(self.text(), file=self.stream, flush=True)
            self._last_print = now

    def close(self) -> None:
        """End an unfinished in-place line (e.g. after Ctrl-C)."""
        if self.enabled and self._tty and self.skipped + self.done < self.total:
            print(file=self.stream, flush=True)
