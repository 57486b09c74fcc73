"""Implementation of `migsim validate`: replications of a scenario against the observed monthly border counts.

In-sample means the shipped FY2018-FY2019 series (the calibration period); months after
September 2019 from `--observed FILE` are scored separately as out-of-sample. The observed
data is checked before anything runs, so a malformed file costs nothing and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from sim.intervals import interval_label
from sim.observed import (
    IN_SAMPLE_END,
    SWB_FILE,
    USBP_FILE,
    load_observed_file,
    load_swb,
    load_usbp,
    shipped_path,
)
from sim.ownership import check_output_dir
from sim.scenario.loader import ScenarioError, load_scenario
from sim.summarytext import period
from sim.validation.compare import Comparison, compare, observed_wide
from sim.validation.output import build_manifest, file_record, write_validation
from sim.validation.report import LEGEND, format_table
from sim.validation.runner import ReplicationOutput, default_jobs, run_replications
from sim.validation.simulated import full_months, summarise


def _span(months: pd.PeriodIndex) -> str:
    if not len(months):
        return "none"
    first, last = months.min(), months.max()
    return str(first) if first == last else f"{first}..{last}"


def _out_of_sample_frame(
    user: pd.DataFrame, source: Path, run_months: pd.PeriodIndex, notes: list[str]
) -> pd.DataFrame:
    """Months of the user file after the in-sample period; notes on what is left out."""
    early = user.index[user.index <= IN_SAMPLE_END]
    if len(early):
        notes.append(
            f"{source}: {len(early)} month(s) {_span(early)} are in the in-sample period "
            f"(up to {IN_SAMPLE_END}) and were ignored; the shipped series is used there"
        )
    late = user[user.index > IN_SAMPLE_END]
    outside = late.index.difference(run_months)
    if len(outside):
        notes.append(
            f"{source}: {len(outside)} month(s) {_span(outside)} are outside the run's full "
            f"months ({_span(run_months)}) and were not compared"
        )
    return late


def _print_block(title: str, comparison: Comparison) -> None:
    print(f"\n{title}")
    if comparison.empty:
        print("  (no months to compare)")
    else:
        print(format_table(comparison.metrics))


def _progress(name: str):  # noqa: ANN202
    def done(out: ReplicationOutput, n: int, reps: int) -> None:
        secs = out.manifest.get("run_seconds", 0.0)
        print(
            f"{name}: replication {out.replication} done ({n}/{reps}, {secs:.1f} s)",
            file=sys.stderr,
            flush=True,
        )

    return done


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.set or ())
    usbp, swb = load_usbp(), load_swb()
    user = load_observed_file(args.observed) if args.observed else None

    run_months = full_months(scenario.start, scenario.end)
    shipped = observed_wide(usbp, swb)
    notes: list[str] = []
    in_months = shipped.index.intersection(run_months)
    late = None
    if user is not None:
        late = _out_of_sample_frame(user, args.observed, run_months, notes)
    late_months = late.index.intersection(run_months) if late is not None else in_months[:0]
    if not len(in_months) and not len(late_months):
        raise ScenarioError(
            args.scenario,
            "start",
            f"the run's full months ({_span(run_months)}) do not overlap the observed months "
            f"({_span(shipped.index)}{'' if user is None else ', ' + _span(user.index)})",
        )
    before = shipped.index[shipped.index < run_months.min()] if len(run_months) else []
    if len(before):
        notes.append(
            f"observed months {_span(before)} precede the run; they only feed the naive forecasts"
        )
    notes.append("SWB and OFO series are published for FY2019 only (no same-month naive)")

    out = args.out or Path("results") / scenario.name / "validation"
    check_output_dir(out, "validation", [args.scenario])  # before the run, not after it
    jobs = args.jobs or default_jobs(args.reps)
    draws_per_rep = None
    if getattr(args, "posterior", None):
        from sim.fitting.posterior import load_draws, per_replication

        draws = load_draws(args.posterior)
        draws_per_rep = per_replication(scenario, draws, args.reps)
        notes.append(
            f"parameters drawn from the posterior {args.posterior} ({len(draws)} draws; "
            "replication r uses draw r mod draws): bands include parameter uncertainty"
        )
    outputs = run_replications(
        scenario, args.reps, jobs, _progress(scenario.name), per_replication=draws_per_rep
    )
    sim = summarise([o.monthly for o in outputs])

    in_sample = compare(sim, shipped.loc[in_months], shipped, "in_sample")
    out_sample = None
    files = [
        file_record(shipped_path(USBP_FILE), "in_sample"),
        file_record(shipped_path(SWB_FILE), "in_sample"),
    ]
    if late is not None:
        history = pd.concat([shipped, observed_wide(late)]).sort_index()
        out_sample = compare(sim, observed_wide(late).loc[late_months], history, "out_of_sample")
        files.append(file_record(args.observed, "out_of_sample"))

    from sim.commands.run import scenario_source
    from sim.validation import stocks

    figures = stocks.summarise(scenario, [o.policy for o in outputs])
    manifest = build_manifest(scenario, outputs, jobs, files, notes)
    manifest.update(scenario_source(args.scenario, args.set or (), scenario))
    write_validation(out, sim, in_sample, out_sample, manifest, scenario, figures)

    print(
        f"{scenario.name}: {args.reps} replication(s) at scale {scenario.scale:g} "
        f"(band: {interval_label(args.reps)}), {period(scenario.start, scenario.end)}, "
        f"run months {_span(run_months)}"
    )
    _print_block(f"In-sample ({_span(in_months)}, shipped FY2018-FY2019 series)", in_sample)
    if out_sample is not None:
        _print_block(f"Out-of-sample ({_span(late_months)}, {args.observed})", out_sample)
    if len(figures):
        print(f"\nStocks and policy figures (FY2019, {args.reps} replication(s), mean)")
        print(stocks.format_table(figures))
    print(f"\n{LEGEND}")
    for note in notes:
        print(f"note: {note}")
    print(f"-> {out}")
    from sim.commands.batch import warn_run_size

    warn_run_size([scenario], args.reps)  # after the runs: an error stays the only line
    return 0
