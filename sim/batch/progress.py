"""Progress of a batch: a tqdm bar of runs on an interactive stderr (`sim.progress`).

Nothing is drawn when stderr is not a terminal (logs, CI, captured output); the one line
saying how many runs a resumed batch skips is printed either way. The bar counts runs
finished before (resumed) as done from the start and shows failures as they happen.
"""

from __future__ import annotations

import sys
from typing import TextIO

from sim.progress import bar


class ProgressLine:
    def __init__(
        self,
        label: str,
        total: int,
        skipped: int = 0,
        stream: TextIO | None = None,
        enabled: bool = True,
    ) -> None:
        self.label, self.total, self.skipped = label, total, skipped
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and total > 0
        self.done = self.failed = 0
        if self.enabled and skipped:
            print(f"{label}: {skipped} of {total} runs already finished, skipped", file=self.stream)
        self._bar = bar(
            total, label, "run", initial=skipped, stream=self.stream, enabled=self.enabled
        )

    def update(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if self._bar.disable:
            return
        self._bar.update(1)
        if self.failed:
            self._bar.set_postfix(failed=self.failed)
        if self.skipped + self.done >= self.total:
            self.close()

    def close(self) -> None:
        """Remove the bar (also after Ctrl-C)."""
        self._bar.close()
