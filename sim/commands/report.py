"""`migsim report RESULTS_DIR`: one self-contained HTML file for a run, batch, sweep, sensitivity, validation, backtest or attribution
folder (charts embedded, no network needed), to hand to colleagues."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a run, batch, sweep, sensitivity, validation, backtest or attribution folder",
        description="Detects the folder's kind from its files and writes one HTML file with "
        "the headline numbers (with intervals where there are replications), the charts, the "
        "scenario and its differences from the scenario it extends, and the manifest.",
    )
    p.add_argument("folder", type=Path, metavar="RESULTS_DIR")
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="HTML file to write (default RESULTS_DIR/report.html)",
    )
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    # heavy imports (pandas) only when the command runs: keeps `migsim` fast
    from sim.report import ReportError, write_report

    try:
        kind, path = write_report(args.folder, args.out)
    except ReportError as e:
        raise UsageError(str(e)) from None
    print(f"{kind} report -> {path}")
    return 0
