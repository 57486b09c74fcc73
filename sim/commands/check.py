"""`migsim check SCENARIO [--set ...]`: validate a scenario without running it.

Loads the file and its `extends` parents (bounded reads), applies `--set`, and runs every
schema check (bounds, horizon and size limits); prints one OK line (exit 0) or the usual
one-line error (exit 2). With `--out DIR` it also checks that DIR may be written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.scenario.loader import load_scenario


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="validate a scenario (and an output folder) without running")
    p.add_argument("scenario", type=Path)
    p.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a lever (repeatable)"
    )
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--out", type=Path, help="also check that this run folder may be written")
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    from sim.commands.batch import check_seed
    from sim.ownership import check_output_dir

    check_seed(args.seed)
    s = load_scenario(args.scenario, args.set or (), seed=args.seed)
    out = args.out or Path("results") / s.name
    check_output_dir(out, "run", [args.scenario])
    from sim.scalecheck import print_scale
    from sim.summarytext import period

    print_scale([s])
    print(
        f"OK: {args.scenario}: scenario {s.name}, {period(s.start, s.end)} "
        f"({(s.end - s.start).days:,} days), scale {s.scale:g}, seed {s.seed} -> {out}"
    )
    return 0
