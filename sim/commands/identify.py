"""`migsim identify SCENARIO --out DIR`: likelihood slices of the calibration's loss along
each mechanism strength at the scenario's values (`sim.fitting.slices`): which strengths the
data identify, and whether the search stopped short along any of them.

Writes, atomically (a marked temporary folder swapped in at the end): `slices.csv` (every
evaluation: parameter, value, seed, loss and its USBP and policy parts, policy figures
within a factor of 1.3, simulated May -> Sep 2019 change), `identification.csv` (the verdict
per strength), `charts/slices.png` and `manifest.json`. While it runs, finished evaluations
are kept in `DIR/unfinished/`, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from sim.cli import UsageError, comma_names

KIND = "identification"
CHECKPOINT = "unfinished"  # evaluations of an interrupted run, inside the output folder


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "identify",
        help="likelihood slices: which mechanism strengths the data identify",
        description="Set each mechanism strength in turn to values spread over its prior "
        "(the others at the scenario's values, the demand refitted at each value, common "
        "seeds) and score the calibration's loss: a flat slice means the data do not "
        "identify the strength.",
    )
    p.add_argument("scenario", type=Path, help="e.g. scenarios/historical.toml")
    p.add_argument("--out", type=Path, required=True, help="identification folder to write")
    p.add_argument("--through", default="2019-09", help="last observed month used (YYYY-MM)")
    p.add_argument("--points", type=int, default=7, help="values per strength (default 7)")
    p.add_argument("--seeds", type=int, default=3, help="common seeds per value (default 3)")
    p.add_argument("--scale", type=float, default=0.2, help="scale of the runs (default 0.2)")
    p.add_argument(
        "--confirm-seeds",
        type=int,
        default=4,
        help="more seeds for a value that looks better than the point (default 4; 0: none)",
    )
    p.add_argument("--reps", type=int, default=1, help="replications per evaluation")
    p.add_argument(
        "--prefit",
        type=int,
        default=0,
        help="demand refits at the point before the slices, from the scenario's own demand "
        "(default 0: the slices start from the demand as the scenario holds it)",
    )
    p.add_argument("--inner", type=int, default=2, help="demand refits at each value")
    p.add_argument(
        "--params", default=None, help="comma-separated strengths (default: all of them)"
    )
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default all cores)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler ('local' or an address)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a lever")
    p.set_defaults(func=cmd_identify)


def _params(text: str | None) -> list[str] | None:
    from sim.fitting import parameters as P

    return comma_names(text, "--params", P.BY_NAME, "strength", "see `migsim calibrate`'s table")


def cmd_identify(args: argparse.Namespace) -> int:
    import pandas as pd

    try:
        through = pd.Period(args.through, "M")
    except ValueError:
        raise UsageError(f"--through: {args.through!r} is not YYYY-MM") from None
    if through > pd.Period("2019-09", "M"):
        raise UsageError("--through: the shipped data end in 2019-09; nothing later may be fitted")
    if (
        args.points < 2
        or args.seeds < 2
        or args.confirm_seeds < 0
        or args.reps < 1
        or args.prefit < 0
        or args.inner < 0
    ):
        raise UsageError(
            "--points >= 2, --seeds >= 2 (the noise of a difference needs two), "
            "--confirm-seeds >= 0, --reps >= 1, --prefit >= 0, --inner >= 0"
        )
    if not 0 < args.scale <= 1:
        raise UsageError(f"--scale must be in (0, 1], got {args.scale:g}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    names = _params(args.params)

    from sim import observed
    from sim.batch.executors import open_executor
    from sim.batch.manifest import provenance
    from sim.chartstyle import Provenance
    from sim.fitting.slice_chart import slice_chart
    from sim.fitting.slices import SliceSettings, slices
    from sim.ownership import building, check_output_dir, prepare_output_dir
    from sim.scenario.loader import load_scenario, resolved_dict, scenario_hash

    base = load_scenario(args.scenario, args.set or ())
    out = Path(args.out)
    check_output_dir(out, KIND, [args.scenario])  # before any run, not after
    settings = SliceSettings(
        points=args.points,
        seeds=args.seeds,
        scale=args.scale,
        reps=args.reps,
        prefit=args.prefit,
        inner=args.inner,
        confirm_seeds=args.confirm_seeds,
    )

    def say(msg: str) -> None:
        print(msg, file=sys.stderr)

    # finished evaluations are kept in the (owned) output folder as they arrive, so an
    # interrupted run resumes; the finished folder swapped in at the end replaces them
    prepare_output_dir(out, KIND)
    with building(out, KIND) as tmp:
        with open_executor(args.jobs, args.scheduler) as opened:
            result = slices(
                base,
                observed.load_usbp(),
                through=through,
                settings=settings,
                parameters=names,
                executor=opened.executor,
                progress=say,
                checkpoint=out / CHECKPOINT,
            )
            label = opened.label
        result.frame.to_csv(tmp / "slices.csv", index=False)
        result.table.to_csv(tmp / "identification.csv", index=False)
        prov = Provenance(base.name, settings.scale, settings.reps, base.seed)
        slice_chart(result, tmp / "charts" / "slices.png", prov)
        manifest = {
            "kind": KIND,
            "command": _command(args),
            **provenance(),
            "settings": {
                "through": str(through),
                **asdict(settings),
                "parameters": names or "all",
                "executor": label,
                "evaluations": result.evaluations,
                "threshold": round(result.threshold, 3),
                "dispersion": round(result.dispersion, 4),
                "inflation": round(result.inflation, 4),
                "point_loss": round(result.point_loss, 2),
                "observed": f"USBP monthly apprehensions 2017-10..{through} and the FY2019 "
                "policy targets that end by then (sim/data; nothing after 2019-09)",
            },
            "scenario_name": base.name,
            "scenario_hash": scenario_hash(base),
            "scenario": resolved_dict(base),
            "wall_seconds": round(result.seconds, 1),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    print_table(result)
    print(f"{result.evaluations} evaluations -> {out} ({result.seconds:.0f} s)")
    return 0


def print_table(result, out=sys.stdout) -> None:  # noqa: ANN001
    """The verdict per strength, as `migsim calibrate` prints its posterior table."""
    print(
        f"point loss {result.point_loss:.1f} (mean over the seeds); threshold "
        f"{result.threshold:.1f} = chi2(0.9, 1) x dispersion {result.dispersion:.2f} x "
        f"autocorrelation {result.inflation:.2f}, plus the noise of each difference",
        file=out,
    )
    width = max(len("parameter"), *(len(name) for name in result.table["parameter"]))
    head = (
        f"{'parameter':{width}s} {'prior':>15s} {'estimate':>9s} {'slice interval':>20s} "
        f"{'width':>5s}  verdict"
    )
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in result.table.itertuples(index=False):
        prior = f"[{r.prior_low:g}, {r.prior_high:g}]"
        interval = f"[{r.slice_lo:.4g}, {r.slice_hi:.4g}]"
        extra = (
            f" (best {r.better_value:.4g}: loss {r.better_by:.1f} lower)"
            if r.better_by == r.better_by  # not NaN
            else ""
        )
        print(
            f"{r.parameter:{width}s} {prior:>15s} {r.estimate:9.4g} {interval:>20s} "
            f"{r.width_vs_prior:5.2f}  {r.verdict}{extra}",
            file=out,
        )


def _command(args: argparse.Namespace) -> str:
    parts = [
        "migsim identify",
        Path(args.scenario).as_posix(),
        f"--through {args.through}",
        f"--points {args.points}",
        f"--seeds {args.seeds}",
        f"--confirm-seeds {args.confirm_seeds}",
        f"--scale {args.scale:g}",
        f"--reps {args.reps}",
        f"--prefit {args.prefit}",
        f"--inner {args.inner}",
    ]
    if args.params:
        parts.append(f"--params {args.params}")
    parts += [f"--set {s}" for s in args.set or ()]
    parts.append(f"--out {Path(args.out).as_posix()}")
    return " ".join(parts)
