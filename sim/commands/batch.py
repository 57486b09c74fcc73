"""`migsim batch`: every scenario N times with common random numbers, summarised with bands.

Also holds the execution options and the run-and-report step shared by `sweep` and
`sensitivity`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli import UsageError

if TYPE_CHECKING:
    from sim.batch.executors import Opened
    from sim.batch.orchestrate import BatchResult
    from sim.scenario.schema import Scenario


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="run scenarios many times (paired by replication) and summarise them",
        description="Run every scenario --reps times. Replication r of every scenario uses "
        "the same random streams, so differences between scenarios are paired.",
    )
    p.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO")
    p.add_argument("--reps", type=int, default=10, help="replications per scenario (default 10)")
    p.add_argument("--seed", type=int, help="one seed for every scenario (keeps runs paired)")
    p.add_argument("--reference", help="scenario the others are compared with (default: the first)")
    add_execution_args(p)
    p.set_defaults(func=cmd_batch)


def add_execution_args(p: argparse.ArgumentParser) -> None:
    """Options every batch-like command shares: where runs execute and where results go."""
    p.add_argument(
        "--jobs", type=int, help="local worker processes (default: all cores; 1 = in-process)"
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a Dask scheduler (tcp://host:port), or 'local' to start a LocalCluster "
        "(with --jobs workers); needs the dask extra",
    )
    p.add_argument("--out", type=Path, help="batch folder (rerunning into it resumes)")
    p.add_argument(
        "--posterior",
        type=Path,
        metavar="DRAWS.csv",
        help="posterior draws from `migsim calibrate`: replication r uses draw r mod draws",
    )
    p.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a lever in every run"
    )
    p.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    p.add_argument("--quiet", action="store_true", help="no progress line")


def default_out(prefix: str, names: Sequence[str]) -> Path:
    label = "+".join(names) if len(names) <= 3 else f"{names[0]}+{len(names) - 1}_more"
    return Path("results") / f"{prefix}_{label}"


def run_and_report(
    args: argparse.Namespace,
    out: Path,
    work: Callable[[Opened], BatchResult],
    kind: str = "batch",
    inputs: Sequence[Path] = (),
) -> int:
    """Open the executor, call `work(opened)` (which returns a BatchResult), print a line.

    `out` is checked first (`sim.ownership`: only an empty folder or a migsim folder of the
    same `kind` is written, or resumed; never one holding the `inputs`), and marked.
    Exit status: 0 if every run finished, 1 if some failed (recorded in the folder), 2 for
    bad options (a missing optional extra included) or a refused folder.
    """
    from sim.batch.errors import BatchUsageError
    from sim.batch.executors import open_executor
    from sim.ownership import check_output_dir, prepare_output_dir

    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    check_output_dir(out, kind, inputs)
    try:
        with open_executor(args.jobs, args.scheduler) as opened:
            prepare_output_dir(out, kind)
            result = work(opened)
    except BatchUsageError as e:
        raise UsageError(str(e)) from None
    runs = result.manifest["runs"]
    secs = result.manifest["timings"]["wall_seconds"]
    print(
        f"{result.manifest['kind']}: {runs['total']} runs ({runs['finished_now']} run now, "
        f"{runs['already_finished']} already finished, {runs['failed']} failed), "
        f"{run_size(result.manifest)}, in {secs:.1f} s on {result.manifest['executor']} -> {out}"
    )
    warn_run_size(batch_scenarios(result.manifest), result.manifest["reps"])
    for f in result.failures[:5]:
        print(
            f"  failed: {f['point']} replication {f['replication']}: {f['type']}: {f['message']}",
            file=sys.stderr,
        )
    return 1 if result.failures else 0


def batch_scenarios(manifest: dict[str, Any]) -> list[Scenario]:
    """The resolved scenario of every point of a batch, from its manifest."""
    from sim.scenario.schema import Scenario

    return [Scenario.model_validate(p["resolved"]) for p in manifest.get("points", [])]


def warn_run_size(scenarios: Sequence[Scenario], reps: int) -> None:
    """Levers the scale distorts, and too few replications for intervals (`sim.scalecheck`,
    `sim.intervals`), each on one stderr line; printed with the summary, after the runs, so
    that an error before or during them stays the only line on stderr."""
    from sim.intervals import few_replications_warning
    from sim.scalecheck import print_scale

    print_scale(scenarios)
    warning = few_replications_warning(reps)
    if warning:
        print(warning, file=sys.stderr)


def run_size(manifest: dict[str, Any]) -> str:
    """`3 points x 5 replications at scale 0.1, 2018-10-01 to 2020-03-15` from a batch
    manifest (the period when every point shares it)."""
    from sim.summarytext import scale_phrase

    points = manifest.get("points", [])
    scales = [p["resolved"]["scale"] for p in points if "scale" in p.get("resolved", {})]
    text = (
        f"{len(points)} point{'s' * (len(points) != 1)} x {manifest.get('reps', '?')} "
        f"replications at {scale_phrase(scales)}"
    )
    periods = {(p["first_day"], p["last_day"]) for p in manifest.get("periods", {}).values()}
    if len(periods) == 1:
        ((first, last),) = periods
        text += f", {first} to {last}"
    return text


def warn_unpaired(points: Sequence[Any]) -> None:
    from sim.batch.design import shared_seed

    if not shared_seed(points):
        print(
            "migsim: warning: the scenarios have different seeds, so differences are not "
            "paired by replication (use --seed to give them one)",
            file=sys.stderr,
        )


def cmd_batch(args: argparse.Namespace) -> int:
    from sim.batch.orchestrate import execute_batch, scenario_points
    from sim.batch.sweepfile import parse_sets

    check_seed(args.seed)
    points = scenario_points(args.scenarios, parse_sets(args.set or ()), args.seed)
    if args.posterior:
        import dataclasses

        from sim.fitting.posterior import load_draws, per_replication

        draws = load_draws(args.posterior)
        points = [
            dataclasses.replace(p, draws=tuple(per_replication(p.scenario, draws, args.reps)))
            for p in points
        ]
        print(
            f"parameters from the posterior {args.posterior} ({len(draws)} draws): replication r "
            "of every scenario uses draw r mod draws, so differences stay paired",
            file=sys.stderr,
        )
    warn_unpaired(points)
    out = args.out or default_out("batch", [p.label for p in points])
    extra: dict[str, Any] = {"command": command_line(), "scenario_parents": parents(points)}
    if args.posterior:
        extra["posterior_file"] = str(args.posterior)
    return run_and_report(
        args,
        out,
        inputs=args.scenarios,
        work=lambda opened: execute_batch(
            points,
            args.reps,
            opened,
            out,
            reference=args.reference,
            charts=not args.no_charts,
            progress=not args.quiet,
            manifest_extra=extra,
        ),
    )


def parents(points: Sequence[Any]) -> dict[str, Any]:
    """Each scenario's `extends` parent as it reads now, recorded in the manifest so that
    `migsim report` never opens a path named in a manifest."""
    from sim.scenario.loader import resolved_dict
    from sim.scenario.parent import extends_of, record_parent

    out: dict[str, Any] = {}
    for p in points:
        if p.source:
            extends, problem = extends_of(p.source)
            if problem is None:
                out[p.label] = record_parent(extends, resolved_dict(p.scenario))
    return out


def check_seed(seed: int | None) -> None:
    """`--seed` must be a numpy seed (checked before anything is written)."""
    from sim.scenario.schema import SEED_LIMIT

    if seed is not None and not 0 <= seed < SEED_LIMIT:
        raise UsageError(f"--seed {seed} is outside numpy's seed range [0, 2**63)")


def command_line() -> str:
    import shlex

    return shlex.join(["migsim", *sys.argv[1:]]) if sys.argv else "migsim"
