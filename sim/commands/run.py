"""`migsim run`: one scenario, one replication, one results folder."""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

from sim.scenario.loader import load_scenario


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


def progress_printer(label: str) -> Callable[[int, int], None]:
    start = time.perf_counter()

    def show(day: int, days: int) -> None:
        elapsed = time.perf_counter() - start
        if elapsed < 2.0 or day == 0:
            return
        frac = day / days
        eta = elapsed * (1 - frac) / frac
        line = f"{label}: day {day}/{days} ({frac:5.1%}), about {eta:.0f} s left"
        if sys.stderr.isatty():
            print(f"\r{line}", end="", file=sys.stderr, flush=True)
        elif day % 120 == 0:
            print(line, file=sys.stderr, flush=True)

    return show


def scenario_source(path: Path, overrides: Sequence[str]) -> dict[str, object]:
    """Where the scenario came from (file, `extends` parent, `--set`), for the manifest:
    `migsim report` diffs the run against its parent with it."""
    parent = tomllib.loads(path.read_text(encoding="utf-8")).get("extends")
    parent_path = (path.parent / parent).resolve() if isinstance(parent, str) else None
    return {
        "scenario_file": str(path.resolve()),
        "scenario_extends": str(parent_path) if parent_path else None,
        "scenario_overrides": list(overrides),
    }


def cmd_run(args: argparse.Namespace) -> int:
    from sim.model import Model

    scenario = load_scenario(args.scenario, args.set or (), seed=args.seed)
    out = Path(args.out) if args.out else Path("results") / scenario.name
    model = Model(scenario, replication=0)
    result = model.run(progress=progress_printer(scenario.name))
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr)
    result.extra_manifest.update(scenario_source(args.scenario, args.set or ()))
    result.write(out, charts=not args.no_charts)
    s = result.summary()
    total = s[s["agreement"] == ""].set_index("indicator")["value"]
    print(
        f"{scenario.name}: {total['people_simulated']:,.0f} people simulated in {result.wall_seconds:.1f} s; "
        f"encounters {total['encounters']:,.0f}, transferred {total['transferred']:,.0f} -> {out}"
    )
    return 0
