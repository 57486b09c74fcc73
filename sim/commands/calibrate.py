"""`migsim calibrate SCENARIO --out FILE`: structural calibration (see `sim.fitting.calibrate`).

Writes the fitted scenario fragment (point estimate) to FILE, the posterior draws beside it
(`FILE` with suffix `.posterior.csv`), and the study, trials, loss terms and parameter table
to `--storage DIR` (default `results/calibration`), from which an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from sim.cli import UsageError
from sim.scenario.loader import load_scenario

METHOD = (
    "Optuna TPE or CMA-ES over mechanism strengths (prior ranges in sim/fitting/parameters.py); in each "
    "trial the structural demand (base rates, 2-harmonic seasonality, bounded eight-monthly "
    "trend per stream, caravan shock) refitted by damped fixed-point weighted least squares; "
    "posterior by ABC-SMC at a fixed tolerance started from the search (uniform kernel: loss "
    "within the 90% likelihood-ratio threshold tempered for misfit, or the loss's Monte Carlo "
    "band; normal moves of twice the population's covariance, 15% from the prior), "
    "resampled to equally weighted draws"
)
OBJECTIVE = (
    "sum of squared log errors / sigma over the 8 monthly USBP series (sigma 0.15), and "
    "Student-t (4 df) terms, weighted 8, for the FY2019 policy targets (sigma 0.2; MPP court "
    "cases 0.4); each sigma also holds the Monte Carlo noise of the calibration's scale"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate", help="fit demand structure and mechanism strengths to FY2018-FY2019 data"
    )
    p.add_argument("scenario", type=Path, help="policy environment (e.g. historical.toml)")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="fragment to write (e.g. scenarios/calibration.toml)",
    )
    p.add_argument("--through", default="2019-09", help="last observed month used (YYYY-MM)")
    p.add_argument("--trials", type=int, default=60, help="Optuna trials")
    p.add_argument("--reps", type=int, default=1, help="replications per evaluation")
    p.add_argument(
        "--scale",
        type=float,
        default=0.2,
        help="scale of the calibration runs (0.2: a run costs 1.4x one at 0.05, fixed costs dominate, for a quarter of the noise variance)",
    )
    p.add_argument("--prefit", type=int, default=5, help="demand refits before the trials")
    p.add_argument("--inner", type=int, default=2, help="demand refits inside each trial")
    p.add_argument(
        "--check-seeds",
        type=int,
        default=8,
        help="fresh seeds of the before/after fit check, each scenario run as it is (0: none)",
    )
    p.add_argument(
        "--demand-start",
        choices=("rates", "scenario"),
        default="rates",
        help="the pre-fit's start: the scenario's rates alone, or the whole demand it holds "
        "(a fragment's: seasonality, trend, caravans)",
    )
    p.add_argument(
        "--sampler",
        choices=("tpe", "cmaes"),
        default="tpe",
        help="search: Optuna TPE over the prior box, or CMA-ES from the scenario's values",
    )
    p.add_argument(
        "--step",
        type=float,
        default=0.15,
        help="CMA-ES's first step, as a share of each prior's range (small: a local search)",
    )
    p.add_argument(
        "--start",
        type=Path,
        default=None,
        metavar="IDENTIFICATION_CSV",
        help="start the search from the values `migsim identify` confirmed as fitting better "
        "(its identification.csv, taken at SCENARIO's point); the point is also a trial",
    )
    p.add_argument(
        "--posterior-evals",
        type=int,
        default=96,
        help="ABC-SMC evaluations for the posterior, in generations of 48 (0: the search's "
        "trials within the tolerance instead)",
    )
    p.add_argument(
        "--storage", type=Path, default=None, help="study folder (default results/calibration)"
    )
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--scheduler", default=None, help="Dask scheduler ('local' or an address)")
    p.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a lever of SCENARIO"
    )
    p.set_defaults(func=cmd_calibrate)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def print_table(table, free: int, out=sys.stdout) -> None:  # noqa: ANN001
    print(
        f"free parameters: {free} ({len(table)} mechanism strengths + demand structure)", file=out
    )
    if "method" in table.attrs:
        print(
            f"posterior: {table.attrs['method']}; tolerance "
            f"{table.attrs['tolerance']:.1f} above the point's mean loss = the larger of "
            f"chi2(0.9, {len(table)}) x dispersion {table.attrs['dispersion']:.2f} (loss per term) x "
            f"{table.attrs['inflation']:.2f} (autocorrelation of the monthly errors) and 1.645 "
            f"x sqrt(2) x the loss's Monte Carlo sd {table.attrs['noise']:.1f}",
            file=out,
        )
    width = max(len("parameter"), *(len(name) for name in table["parameter"]))
    head = f"{'parameter':{width}s} {'prior':>17s} {'estimate':>10s} {'90% interval':>21s}  constrained"
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in table.itertuples(index=False):
        prior = f"[{r.prior_low:g}, {r.prior_high:g}]"
        interval = f"[{r.lo90:.4g}, {r.hi90:.4g}]"
        print(
            f"{r.parameter:{width}s} {prior:>17s} {r.estimate:10.4g} {interval:>21s}  {r.constrained}",
            file=out,
        )


def cmd_calibrate(args: argparse.Namespace) -> int:
    import pandas as pd

    try:
        through = pd.Period(args.through, "M")
    except ValueError as e:
        raise UsageError(f"--through: {args.through!r} is not YYYY-MM") from e
    if through > pd.Period("2019-09", "M"):
        raise UsageError("--through: the shipped data end in 2019-09; nothing later may be fitted")
    if (
        args.trials < 1
        or args.reps < 1
        or not 0 < args.scale <= 1
        or args.prefit < 0
        or args.inner < 0
        or args.posterior_evals < 0
        or not 0 < args.step <= 1
        or args.check_seeds < 0
    ):
        raise UsageError(
            "--trials >= 1, --reps >= 1, --prefit >= 0, --inner >= 0, --posterior-evals >= 0, "
            "--check-seeds >= 0, 0 < --scale <= 1 and 0 < --step <= 1"
        )
    from sim import observed  # heavy imports only when the command runs
    from sim.batch.executors import open_executor
    from sim.fitting import calibrate
    from sim.fitting.fragment import mape_by_series, to_toml

    base = load_scenario(args.scenario, args.set or ())
    start = None
    if args.start is not None:
        from sim.fitting import parameters as P
        from sim.fitting.slices import confirmed_values

        try:
            start = confirmed_values(args.start, P.current(base))
        except ValueError as e:
            raise UsageError(f"--start: {e}") from e
    storage = args.storage or Path("results") / "calibration"
    from sim.ownership import CALIBRATION_SIGNATURES, check_output_dir, check_output_file

    check_output_file(args.out, "calibration fragment", CALIBRATION_SIGNATURES)
    check_output_dir(storage, "calibration", [args.scenario])
    t0 = time.perf_counter()

    from sim.progress import MessageProgress

    say = MessageProgress()  # a tqdm bar of the trials on a terminal; plain lines otherwise

    with open_executor(args.jobs, args.scheduler) as opened:
        from sim.ownership import prepare_output_dir

        prepare_output_dir(storage, "calibration")
        cal = calibrate(
            base,
            observed.load_usbp(),
            through=through,
            trials=args.trials,
            scale=args.scale,
            reps=args.reps,
            prefit=args.prefit,
            inner=args.inner,
            storage=storage,
            executor=opened.executor,
            jobs=max(1, args.jobs or 1),
            progress=say,
            posterior_evals=args.posterior_evals,
            method=args.sampler,
            start=start,
            step=args.step,
            demand_start=args.demand_start,
        )
        fitted = cal.apply(base)
        check = None
        if args.check_seeds:
            from sim.fitting.check import fit_check
            from sim.fitting.targets import Observed

            say("fit check: the scenario before and after, each as it is, at fresh seeds")
            obs = Observed.from_usbp(observed.load_usbp(), through)
            check = fit_check(base, fitted, obs, args.scale, args.check_seeds, opened.executor)
    say.close()
    wall = time.perf_counter() - t0
    command = (
        f"migsim calibrate {args.scenario.as_posix()} --out {args.out.as_posix()} --through {through} "
        f"--trials {args.trials} --reps {args.reps} --scale {args.scale:g} --prefit {args.prefit} "
        f"--inner {args.inner} --sampler {args.sampler} --step {args.step:g} --posterior-evals {args.posterior_evals}"
        + "".join(f" --set {s}" for s in args.set or ())
        + (f" --start {args.start.as_posix()}" if args.start is not None else "")
        + (f" --demand-start {args.demand_start}" if args.demand_start != "rates" else "")
    )
    cal.record = {
        "method": METHOD,
        "objective": OBJECTIVE,
        "observed": f"USBP monthly apprehensions 2017-10..{through} and FY2019 policy targets "
        "(sim/data; nothing after 2019-09)",
        "iterations": args.trials,
        "replications": args.reps,
        "scale": args.scale,
        "command": command,
        "final_error": mape_by_series(cal),
    }
    header = (
        f"Generated by `{command}`\n"
        f"(this invocation {wall:.0f} s; the study resumes from --storage). Do not edit by hand.\n"
        "FITTED (all values below): undeterred demand (base rates per nationality x group,\n"
        "seasonality from two harmonics, a bounded eight-monthly trend per stream held flat after\n"
        "the last knot, the caravan shock's amplitude) and the mechanism strengths (deterrence:\n"
        "level response and network momentum with its group thresholds; Mexican enforcement,\n"
        "with the size and decay of its surge's announcement (its date is an input);\n"
        "MPP shares, only rising, and waiting behaviour; metering waiting behaviour; the\n"
        "transit bar; re-attempts; processing lanes). Their prior ranges, estimates and 90%\n"
        "intervals, and which the data do not constrain: the `.posterior.csv` beside this file\n"
        "and `migsim calibrate`'s table (README, Calibration).\n"
        "DATA: USBP monthly apprehensions Oct 2017 - Sep 2019, FY2019 policy targets.\n"
        "ASSUMED (not here): dated policy facts and every other lever (historical.toml, schema)."
    )
    _atomic_write(args.out, to_toml(cal, fitted, header))
    posterior = args.out.with_suffix(".posterior.csv")
    _atomic_write(posterior, cal.draws.to_csv(index=False))
    storage.mkdir(parents=True, exist_ok=True)
    cal.table.to_csv(storage / "parameters.csv", index=False)
    cal.trials.to_csv(storage / "trials.csv", index=False)
    cal.terms.to_csv(storage / "loss_terms.csv", index=False)
    if check is not None:
        check.losses.to_csv(storage / "fit_check.csv", index=False)
        check.figures.to_csv(storage / "fit_check_figures.csv", index=False)
    print_table(cal.table, cal.free_parameters)
    err = cal.record["final_error"]
    print(
        f"loss at the point {err['loss']:.1f} (its own seed); USBP MAPE "
        + ", ".join(f"{k} {v:.1f}%" for k, v in err.items() if k != "loss")
    )
    if check is not None:
        print(check.line())
    print(f"{len(cal.draws)} posterior draws -> {posterior}; fragment -> {args.out}; {wall:.0f} s")
    return 0
