"""`migsim validate`: replications of a scenario against the observed monthly border counts.

In-sample means the shipped FY2018-FY2019 series (the calibration period); months after
September 2019 from `--observed FILE` are scored separately as out-of-sample. The observed
data is checked before anything runs, so a malformed file costs nothing and writes nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser(
        "validate",
        help="compare replications of a scenario with observed monthly border counts",
        description="Run replications 0..reps-1 and compare monthly USBP apprehensions (total, "
        "by family status, by citizenship) and SWB/OFO encounters with the published series.",
    )
    v.add_argument("scenario", type=Path)
    v.add_argument("--reps", type=_positive, default=10, help="replications (default 10)")
    v.add_argument(
        "--out", type=Path, help="validation folder (default results/<scenario name>/validation)"
    )
    v.add_argument(
        "--observed",
        type=Path,
        metavar="FILE",
        help="CSV with the columns of sim/data/usbp_swb_monthly_fy2018_fy2019.csv; months after Sep 2019 are "
        "scored as out-of-sample",
    )
    v.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a lever (repeatable)"
    )
    v.add_argument(
        "--jobs",
        type=_positive,
        help="worker processes (default: all cores, at most --reps; results do not depend on it)",
    )
    v.add_argument(
        "--posterior",
        type=Path,
        metavar="DRAWS.csv",
        help="posterior draws from `migsim calibrate` (e.g. scenarios/calibration.posterior.csv): "
        "replication r uses draw r mod draws",
    )
    v.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    # heavy imports (pandas, matplotlib) only when the command runs: keeps `migsim` fast
    from sim.validation.command import cmd_validate as run

    return run(args)
