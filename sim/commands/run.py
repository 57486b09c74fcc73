"""`migsim run`: one scenario, one replication, one results folder."""

from __future__ import annotations

import argparse
import tomllib
from collections.abc import Sequence
from pathlib import Path

from sim.progress import day_progress
from sim.scalecheck import print_scale
from sim.scenario.loader import load_scenario, resolved_dict
from sim.scenario.schema import Scenario
from sim.summarytext import period, persons_simulated


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("run", help="run one scenario and write its results folder")
    r.add_argument("scenario", type=Path)
    r.add_argument("--out", help="results folder (default results/<scenario name>)")
    r.add_argument("--seed", type=int, help="override the scenario's seed")
    r.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a lever (repeatable)"
    )
    r.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    r.set_defaults(func=cmd_run)


def scenario_source(
    path: Path, overrides: Sequence[str], scenario: Scenario | None = None
) -> dict[str, object]:
    """Where the scenario came from (file, `extends` parent, `--set`), for the manifest:
    `migsim report` diffs the run against its parent with it."""
    from sim.safeio import read_text
    from sim.scenario.parent import record_parent

    parent = tomllib.loads(read_text(path)).get("extends")
    parent_path = (path.parent / parent).resolve() if isinstance(parent, str) else None
    return {
        "scenario_file": str(path.resolve()),
        "scenario_extends": str(parent_path) if parent_path else None,
        "scenario_overrides": list(overrides),
        # the parent as resolved now, so `migsim report` never has to open a path named
        # in a manifest (a folder from someone else could name /dev/zero)
        "scenario_parent": record_parent(parent_path, resolved_dict(scenario))
        if parent_path and scenario is not None
        else None,
    }


def cmd_run(args: argparse.Namespace) -> int:
    from sim.commands.batch import check_seed
    from sim.model import Model
    from sim.outputhelpers import OutputHelpers
    from sim.ownership import check_output_dir

    check_seed(args.seed)
    scenario = load_scenario(args.scenario, args.set or (), seed=args.seed)
    out = Path(args.out) if args.out else Path("results") / scenario.name
    check_output_dir(out, "run", [args.scenario])  # before the run, not after it
    # forked now, so that pandas and matplotlib are imported while the model is set up and
    # runs (`sim.outputhelpers`)
    helpers = None if args.no_charts else OutputHelpers.start()
    try:
        model = Model(scenario, replication=0, runs=1)
        show, close = day_progress(scenario.name)  # a bar on a terminal only
        try:
            result = model.run(progress=show)
        finally:
            close()
        result.extra_manifest.update(scenario_source(args.scenario, args.set or (), scenario))
        result.write(out, charts=not args.no_charts, helpers=helpers)
    finally:
        if helpers is not None:
            helpers.close()
    total = result.totals()
    print(
        f"{scenario.name}: {period(scenario.start, scenario.end)}, "
        f"{persons_simulated(result.people_simulated, scenario.scale)} "
        f"in {result.wall_seconds:.1f} s; encounters {total['encounters']:,.0f}, "
        f"transferred {total['transferred']:,.0f} (persons at full scale) -> {out}"
    )
    print_scale([scenario])  # after the run: an error is always the only line on stderr
    return 0
