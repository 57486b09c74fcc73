"""`migsim sensitivity SWEEP.toml --method morris|sobol`: which levers matter for which
outcomes (SALib), from the levers and ranges of a sweep file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli import UsageError
from sim.commands.batch import (
    add_execution_args,
    command_line,
    default_out,
    run_and_report,
)
from sim.commands.sweep import base_parent

if TYPE_CHECKING:
    import pandas as pd

    from sim.batch.executors import Opened
    from sim.batch.orchestrate import BatchResult


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sensitivity",
        help="Morris or Sobol sensitivity indices of outcomes to a sweep file's levers",
    )
    p.add_argument("sweep", type=Path, metavar="SWEEP.toml")
    p.add_argument("--method", choices=("morris", "sobol"), default="morris")
    p.add_argument(
        "--outcome",
        action="append",
        help="per-run total to analyse, e.g. encounters, transferred, peak_in_custody "
        "(repeatable; default: the file's sensitivity.outcomes)",
    )
    p.add_argument(
        "--reps",
        type=int,
        help="replications per sample point (default: the file's sensitivity.reps, else reps)",
    )
    add_execution_args(p)
    p.set_defaults(func=cmd_sensitivity)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from sim.batch.errors import BatchUsageError
    from sim.batch.orchestrate import sweep_record
    from sim.batch.sensitivity import IncompleteDesign, import_salib, run_sensitivity
    from sim.batch.series import known_indicators
    from sim.batch.sweepfile import load_sweep, parse_sets

    try:
        import_salib()
    except BatchUsageError as e:
        raise UsageError(str(e)) from None
    unknown = [o for o in args.outcome or () if o not in known_indicators()]
    if unknown:
        raise UsageError(f"--outcome {unknown[0]!r} is not a per-run total (see totals.parquet)")
    sweep = load_sweep(args.sweep, parse_sets(args.set or ()))
    out = args.out or default_out("sensitivity", [f"{sweep.spec.name}_{args.method}"])
    tables: dict[str, pd.DataFrame] = {}

    def work(opened: Opened) -> BatchResult:
        result, tables["indices"] = run_sensitivity(
            sweep,
            args.method,
            opened,
            out,
            outcomes=args.outcome,
            reps=args.reps,
            charts=not args.no_charts,
            progress=not args.quiet,
            manifest_extra={
                "command": command_line(),
                "sweep": sweep_record(sweep),
                "scenario_parents": {"*": base_parent(sweep)},
            },
        )
        return result

    try:
        status = run_and_report(
            args, out, work, kind="sensitivity", inputs=[args.sweep, sweep.base_path]
        )
    except IncompleteDesign as e:
        print(f"migsim: {e}", file=sys.stderr)
        return 1
    table = tables["indices"]
    key = "mu_star" if args.method == "morris" else "ST"
    print(table[["outcome", "lever", key]].to_string(index=False))
    print(
        f"indices: {out / f'sensitivity_{args.method}.csv'} (table: .parquet; chart: "
        f"charts/sensitivity_{args.method}.png; report: migsim report {out})"
    )
    return status
