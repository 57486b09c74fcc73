"""Progress bars: drawn (tqdm) on a terminal's stderr only, never in captured output."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sim.batch.progress import ProgressLine
from sim.cli import main
from sim.progress import MessageProgress, day_progress
from tests.conftest import SCENARIOS


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_batch_bar_on_a_terminal() -> None:
    tty = Terminal()
    line = ProgressLine("batch", 4, skipped=1, stream=tty)
    for ok in (True, False, True):
        line.update(ok)
    text = tty.getvalue()
    assert "1 of 4 runs already finished" in text
    assert "batch" in text and "4/4" in text and "failed=1" in text


def test_no_bar_without_a_terminal() -> None:
    log = io.StringIO()
    line = ProgressLine("batch", 3, skipped=1, stream=log)
    line.update(True)
    line.update(True)
    line.close()
    assert log.getvalue() == "batch: 1 of 3 runs already finished, skipped\n"


def test_calibration_messages_drive_a_bar_on_a_terminal() -> None:
    tty = Terminal()
    say = MessageProgress(tty)
    say("pre-fit of the demand structure: 3 s")
    say("trials 2/10: best loss 51.2 (4 s)")
    say("trials 4/10: best loss 48.0 (8 s)")
    say.close()
    text = tty.getvalue()
    assert "pre-fit of the demand structure: 3 s\n" in text
    assert "4/10" in text and "best loss 48.0" in text


def test_calibration_messages_are_plain_lines_in_a_log() -> None:
    log = io.StringIO()
    say = MessageProgress(log)
    say("trials 2/10: best loss 51.2 (4 s)")
    say("Monte Carlo sd of the loss at the best point: 1.0")
    say.close()
    assert log.getvalue().splitlines() == [
        "trials 2/10: best loss 51.2 (4 s)",
        "Monte Carlo sd of the loss at the best point: 1.0",
    ]


def test_run_bar_is_silent_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    show, close = day_progress("x")
    for day in range(0, 300, 30):
        show(day, 300)
    close()
    assert capsys.readouterr().err == ""


def test_run_command_writes_no_bar_to_captured_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = str(SCENARIOS / "baseline.toml")
    code = main(
        ["run", scenario, "--set", "scale=0.02", "--out", str(tmp_path / "r"), "--no-charts"]
    )
    _, err = capsys.readouterr()
    assert code == 0 and "\r" not in err and "day" not in err


def test_a_bar_leaves_no_thread_behind():
    """tqdm's monitor thread, started by any bar (even a disabled one) and left running,
    would keep `migsim run` from forking its output helpers and a batch from forking its
    workers later in the same process (a notebook)."""
    import io
    import threading

    from tqdm._monitor import TMonitor

    from sim.progress import bar, day_progress

    show, close = day_progress("run")
    show(30, 100)
    close()
    b = bar(3, "runs", "run", stream=io.StringIO())
    b.update(1)
    b.close()
    assert not [t for t in threading.enumerate() if isinstance(t, TMonitor)]
