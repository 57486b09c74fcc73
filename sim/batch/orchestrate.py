"""A batch from start to finish: plan, run (resuming), summarise, chart, record.

Used by the `batch`, `sweep` and `sensitivity` commands and by `sim.batch(...)`. The
summaries are computed from the per-run files (or from the runs of this session when no
folder is written), in design order, so they are identical whatever executor ran them.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.batch.design import Point, check_points, plan, shared_seed
from sim.batch.errors import BatchUsageError
from sim.batch.executors import InlineExecutor, Opened
from sim.batch.manifest import provenance
from sim.batch.outputs import write_charts, write_tables
from sim.batch.progress import ProgressLine
from sim.batch.runner import Session, run_tasks
from sim.batch.series import (
    SERIES_COLUMNS,
    TOTALS_COLUMNS,
    run_series,
    run_totals,
)
from sim.batch.stats import bands, paired_differences
from sim.batch.store import BatchFolder, DamagedRun, write_json, write_parquet
from sim.batch.sweepfile import Sweep, load_sweep
from sim.batch.tasks import RunTask, run_record
from sim.scalecheck import warn_scale
from sim.scenario.loader import load_scenario, resolved_dict, with_overrides
from sim.scenario.schema import Scenario
from sim.summarytext import period_record

if TYPE_CHECKING:
    from matplotlib.axes import Axes

RUN_ID = ["point", "scenario", "hash", "replication"]


@dataclass
class BatchResult:
    """The tables of a batch (the same as in its folder, when one is written)."""

    summary: pd.DataFrame  # point x metric x agreement x date: n, mean, median, q05, q95
    totals: pd.DataFrame  # per-run totals: point, scenario, hash, replication, indicator, ...
    differences: pd.DataFrame  # paired differences of the totals against the reference
    design: pd.DataFrame  # one row per run: point, scenario, hash, replication, seed, levers
    failures: list[dict[str, Any]] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    out: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    def plot(
        self,
        metric: str,
        agreement: str = "",
        points: Sequence[str] | None = None,
        ax: Axes | None = None,
    ) -> Axes:
        """Chart a metric inline (a notebook): per point the mean across replications and
        the q05..q95 band (called a range below 20 replications), with the policy dates and
        the scale; `agreement` picks an agreement's own rows. Returns the matplotlib Axes."""
        from sim.plotting import plot_batch

        return plot_batch(self, metric, agreement=agreement, points=points, ax=ax)


def execute_batch(
    points: Sequence[Point],
    reps: int,
    opened: Opened,
    out: str | Path | None,
    *,
    reference: str | None = None,
    kind: str = "batch",
    charts: bool = True,
    progress: bool = True,
    manifest_extra: Mapping[str, Any] | None = None,
) -> BatchResult:
    """Run `reps` replications of every point; KeyboardInterrupt leaves finished runs."""
    if reps < 1:
        raise BatchUsageError(f"--reps must be at least 1, got {reps}")
    check_points(points)
    labels = [p.label for p in points]
    reference = reference or labels[0]
    if reference not in labels:
        raise BatchUsageError(
            f"--reference {reference!r} is not in this batch (have: {', '.join(labels[:10])})"
        )
    tasks, design = plan(points, reps)
    folder = BatchFolder(out) if out is not None else None
    finished: set[str] = set()
    stored: dict[str, pd.DataFrame] = {}
    if folder is not None:
        folder.prepare()
        write_parquet(folder.root / "design.parquet", design)
        stored = verified_runs(folder, tasks)
        finished = set(stored)
    manifest: dict[str, Any] = {
        "kind": kind,
        **provenance(),
        **dict(manifest_extra or {}),
        "reps": reps,
        "executor": opened.label,
        "reference": reference,
        "paired": shared_seed(points),
        **_scale_and_posterior(points),
        "points": [_point_record(p) for p in points],
        # first and last simulated day of each point, both inclusive (a scenario's `end`
        # in `points[].resolved` is exclusive)
        "periods": {p.label: period_record(p.scenario.start, p.scenario.end) for p in points},
    }
    bar = ProgressLine(kind, len(tasks), len(finished), enabled=progress)
    session = Session()
    started = time.time()
    try:
        run_tasks([t for t in tasks if t.key not in finished], opened, folder, bar, session)
        result, chart_files, skipped = _conclude(
            design, session, folder, stored, points, reps, reference, charts
        )
    except BaseException as e:
        if folder is not None:
            status = "interrupted" if isinstance(e, KeyboardInterrupt) else f"stopped: {e!r}"
            _close_manifest(manifest, status, tasks, finished, session, started)
            write_json(folder.root / "manifest.json", manifest)
        raise
    status = "complete_with_failures" if session.failures else "complete"
    _close_manifest(manifest, status, tasks, finished, session, started)
    manifest["charts"] = chart_files
    if skipped:
        manifest["charts_skipped"] = skipped
    result.manifest, result.failures = manifest, manifest["failures"]
    if folder is not None:
        write_json(folder.root / "manifest.json", manifest)
    return result


def _conclude(
    design: pd.DataFrame,
    session: Session,
    folder: BatchFolder | None,
    stored: Mapping[str, pd.DataFrame],
    points: Sequence[Point],
    reps: int,
    reference: str,
    charts: bool,
) -> tuple[BatchResult, list[str], dict[str, str]]:
    """Summaries over this session's runs and the verified ones finished before (`stored`:
    their series); tables and charts (written, and skipped with the reason)."""
    series = {**stored, **session.series}
    labels = [p.label for p in points]
    result = summarise(design, series, labels, reference, session.totals)
    chart_files: list[str] = []
    skipped: dict[str, str] = {}
    if folder is not None:
        result.out = folder.root
        write_tables(folder, result.summary, result.totals, result.differences, labels, reference)
        if charts:
            chart_files, skipped = write_charts(
                folder, design, series, result.totals, result.differences, points, reference, reps
            )
    return result, chart_files, skipped


def verified_runs(folder: BatchFolder, tasks: Sequence[RunTask]) -> dict[str, pd.DataFrame]:
    """The series of the stored runs that are verified to be the tasks' runs (`verify_run`).

    A stored run that is not (unreadable, truncated, empty, of another replication, ...)
    gets a one-line warning naming its file and is left out, so it is recomputed.
    """
    out: dict[str, pd.DataFrame] = {}
    by_key = {t.key: t for t in tasks}
    for key in sorted(folder.finished(set(by_key))):
        try:
            daily = folder.load_verified(key, run_record(by_key[key]))
        except DamagedRun as e:
            print(
                f"migsim: warning: {folder.run_path(key)}: {e}; recomputing this run",
                file=sys.stderr,
            )
            continue
        out[key] = run_series(daily)
    return out


def summarise(
    design: pd.DataFrame,
    series: Mapping[str, pd.DataFrame],
    points: Sequence[str],
    reference: str,
    run_totals_by_key: Mapping[str, pd.DataFrame] | None = None,
) -> BatchResult:
    """Bands of the daily series, per-run totals and paired differences (design order).
    `run_totals_by_key` holds totals the workers computed already (`run_totals` of the
    same series); the others (runs stored by an earlier session) are computed here."""
    known = run_totals_by_key or {}
    rows = design[design["key"].isin(list(series))]
    by_point: dict[str, list[pd.DataFrame]] = {}
    totals = []
    for r in rows.itertuples(index=False):
        s = series[r.key]
        by_point.setdefault(r.point, []).append(s.assign(point=r.point, replication=r.replication))
        t = known[r.key].copy() if r.key in known else run_totals(s)
        for i, col in enumerate(RUN_ID):
            t.insert(i, col, getattr(r, col))
        totals.append(t)
    keys = ["metric", "agreement", "date"]
    summary = pd.concat(
        [bands(pd.concat(by_point[p], ignore_index=True), keys, points) for p in by_point]
        or [bands(pd.DataFrame(columns=["point", "replication", *SERIES_COLUMNS]), keys, points)],
        ignore_index=True,
    )
    total = (
        pd.concat(totals, ignore_index=True)
        if totals
        else pd.DataFrame(columns=[*RUN_ID, *TOTALS_COLUMNS])
    )
    diffs = paired_differences(total, ["indicator", "agreement"], points, reference)
    return BatchResult(summary, total, diffs, design)


def _scale_and_posterior(points: Sequence[Point]) -> dict[str, Any]:
    """What reports state up front: the simulation scale (one value, or per point when
    they differ) and whether replications draw parameters from a calibration posterior."""
    scales = {p.label: p.scenario.scale for p in points}
    scale: Any = next(iter(scales.values())) if len(set(scales.values())) == 1 else scales
    drawn = [len(p.draws) for p in points if p.draws]
    posterior = {"draws": max(drawn)} if drawn else None
    return {"scale": scale, "posterior": posterior}


def _point_record(p: Point) -> dict[str, Any]:
    return {
        "point": p.label,
        "scenario": p.scenario.name,
        "hash": p.hash,
        "seed": p.scenario.seed,
        "source": p.source,
        "levers": p.levers,
        "resolved": resolved_dict(p.scenario),
    }


def _close_manifest(
    manifest: dict[str, Any],
    status: str,
    tasks: Sequence[RunTask],
    finished: set[str],
    session: Session,
    started: float,
) -> None:
    secs = session.seconds
    order = {t.key: i for i, t in enumerate(tasks)}
    failures = sorted(session.failures, key=lambda f: order.get(f["key"], len(order)))
    manifest.update(
        {
            "status": status,
            "runs": {
                "total": len(tasks),
                "already_finished": len(finished),
                "finished_now": len(secs),
                "failed": len(session.failures),
            },
            "timings": {
                "started": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
                "wall_seconds": round(time.time() - started, 3),
                "run_seconds_total": round(sum(secs.values()), 3),
                "run_seconds_mean": round(sum(secs.values()) / len(secs), 3) if secs else None,
                "per_run": secs,
            },
            "failures": failures,
        }
    )


# ----------------------------------------------------------------------------- entry points
def scenario_points(
    scenarios: str | Path | Scenario | Sequence[str | Path | Scenario],
    overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> list[Point]:
    """One point per scenario file (or `Scenario`), with overrides and seed applied to all."""
    items = [scenarios] if isinstance(scenarios, str | Path | Scenario) else list(scenarios)
    if not items:
        raise BatchUsageError("no scenarios given")
    changes = {**dict(overrides or {}), **({"seed": seed} if seed is not None else {})}
    points = []
    for item in items:
        s = item if isinstance(item, Scenario) else load_scenario(item)
        if changes:
            s = with_overrides(s, changes)
        points.append(Point(s.name, s, {}, "" if isinstance(item, Scenario) else str(item)))
    return points


def user_executor(executor: Executor | None) -> Opened:
    """Wrap an executor passed by a caller (None: in this process); all tasks are submitted
    at once (window 0), the executor queues them."""
    if executor is None:
        return Opened(InlineExecutor(), 1, "in-process", 1)
    return Opened(executor, 0, type(executor).__name__)


def sweep_record(sweep: Sweep) -> dict[str, Any]:
    return {
        "file": str(sweep.path),
        "base": str(sweep.base_path),
        "spec": sweep.spec.model_dump(mode="json", by_alias=True),
    }


def run_scenarios(
    scenarios: Any,
    *,
    reps: int,
    executor: Executor | None,
    out: str | Path | None,
    overrides: Mapping[str, Any] | None,
    seed: int | None,
    reference: str | None,
    charts: bool,
    progress: bool,
) -> BatchResult:
    """`sim.batch(...)`."""
    points = scenario_points(scenarios, overrides, seed)
    warn_scale([p.scenario for p in points])
    return execute_batch(
        points,
        reps,
        user_executor(executor),
        out,
        reference=reference,
        charts=charts,
        progress=progress,
        manifest_extra={"command": "sim.batch(...)"},
    )


def run_sweep(
    sweep_file: str | Path,
    *,
    reps: int | None,
    executor: Executor | None,
    out: str | Path | None,
    overrides: Mapping[str, Any] | None,
    charts: bool,
    progress: bool,
) -> BatchResult:
    """`sim.batch.sweep(...)` (the function in `sim/batch/__init__.py`)."""
    sweep = load_sweep(sweep_file, overrides, reps)
    points = sweep.design_points()
    warn_scale([p.scenario for p in points])
    return execute_batch(
        points,
        sweep.reps,
        user_executor(executor),
        out,
        kind="sweep",
        charts=charts,
        progress=progress,
        manifest_extra={
            "command": "from sim.batch import sweep; sweep(...)",
            "sweep": sweep_record(sweep),
        },
    )
