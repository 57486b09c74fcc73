"""`migsim attribute SCENARIO [--window 2019-05:2019-09] --out DIR`: what each mechanism
contributed to the change in monthly apprehensions over a window, as exact Shapley values
over mechanisms switched off in common-random-number runs (`sim.attribution`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "attribute",
        help="Shapley attribution of a change in apprehensions to the mechanisms",
        description="Run every coalition of mechanisms (players) on and off with common "
        "random numbers and attribute the change between the window's first and last month "
        "by exact Shapley values. Players: deterrence, mpp, enforcement_surge, transit_bar, "
        "metering, agreements, demand_trend, seasonality; those inactive in the window are "
        "left out (contribution 0).",
    )
    p.add_argument("scenario", type=Path, help="e.g. scenarios/historical.toml")
    p.add_argument("--window", default="2019-05:2019-09", help="FIRST:LAST month (YYYY-MM:YYYY-MM)")
    p.add_argument("--reps", type=int, default=10, help="replications per coalition")
    p.add_argument(
        "--scale", type=float, default=None, help="simulation scale (default: the scenario's)"
    )
    p.add_argument("--players", default=None, help="comma-separated players (default: all active)")
    p.add_argument(
        "--posterior",
        type=Path,
        default=None,
        metavar="DRAWS",
        help="posterior draws (.csv from `migsim calibrate`, or .parquet): replication r uses draw r",
    )
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default all cores)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler ('local' or an address)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a lever")
    p.add_argument("--out", type=Path, required=True, help="attribution folder to write")
    p.set_defaults(func=cmd_attribute)


def cmd_attribute(args: argparse.Namespace) -> int:
    # heavy imports (pandas, matplotlib, the model) only when the command runs
    from sim.attribution.command import cmd_attribute as run

    return run(args)
