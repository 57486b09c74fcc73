"""`migsim sweep SWEEP.toml`: run a design (grid or Latin hypercube) over levers of a base
scenario, every point paired by replication, summarised like a batch."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.commands.batch import (
    add_execution_args,
    command_line,
    default_out,
    run_and_report,
)

if TYPE_CHECKING:
    from sim.batch.sweepfile import Sweep


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a sweep file's design (grid or Latin hypercube) with replications",
    )
    p.add_argument("sweep", type=Path, metavar="SWEEP.toml")
    p.add_argument("--reps", type=int, help="replications per point (default: the file's reps)")
    p.add_argument("--reference", help="design point to compare with (default: p000)")
    add_execution_args(p)
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.batch.orchestrate import execute_batch, sweep_record
    from sim.batch.sweepfile import load_sweep, parse_sets

    sweep = load_sweep(args.sweep, parse_sets(args.set or ()), args.reps)
    points = sweep.design_points()
    out = args.out or default_out("sweep", [sweep.spec.name])
    return run_and_report(
        args,
        out,
        kind="sweep",
        inputs=[args.sweep, sweep.base_path],
        work=lambda opened: execute_batch(
            points,
            sweep.reps,
            opened,
            out,
            reference=args.reference,
            kind="sweep",
            charts=not args.no_charts,
            progress=not args.quiet,
            manifest_extra={
                "command": command_line(),
                "sweep": sweep_record(sweep),
                "scenario_parents": {"*": base_parent(sweep)},
            },
        ),
    )


def base_parent(sweep: Sweep) -> dict[str, Any]:
    """The sweep's base scenario, recorded for `migsim report` (see `batch.parents`)."""
    from sim.scenario.loader import resolved_dict
    from sim.scenario.parent import record_parent

    return record_parent(sweep.base_path, resolved_dict(sweep.base))
