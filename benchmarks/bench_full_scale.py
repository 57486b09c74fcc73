"""Benchmark (`make bench`): the project's performance figures against their targets.

All of them are measured in one run and printed at its end, side by side in one table, each
with its target and PASS/FAIL.

Every figure is measured on the historical scenario (`scenarios/historical.toml`, or
`aca_guatemala.toml` where there is none; `--scenario` to choose), each run in a fresh
subprocess so that its imports, caches and peak memory are its own. "Median of N" is the
median over `--runs` (default 3) such subprocesses.

Figures (the table's rows):

- **simulation, full scale**: wall and CPU time of the simulation proper (`Model.run`, i.e.
  `env.run`, without imports and scenario loading, which are reported apart) at scale 1:
  every person, with the warm-up, with the compiled kernels, journeys and lanes (`Model`'s
  default for a run this large in a process that plays many, as in calibration, backtests
  and attribution; their load is in the set-up). Median of N. Target: wall <= 3 s.
- **simulation, scale 0.1**: the same at `scale = 0.1`. Median of N. No target.
- **peak memory, full scale**: the max RSS (`ru_maxrss`, from `wait4`) of the largest
  process of `migsim run` at full scale (the run itself, or its first output helper, which
  holds pandas, pyarrow, matplotlib and the daily table: 250-280 MB either way),
  in the runs timed below. Median of N. Target <= 400 MB. `migsim run` is a process's only
  simulation, so it leaves numba out where the run would not repay its load
  (`sim.kernels.COMPILED_ALONE_FROM_ARRIVALS`); the simulation row's notes give the peak of
  the model alone with the compiled kernels (as calibration runs it): LLVM adds
  110-190 MB, most of it file-backed pages of `libllvmlite.so`, whose resident share
  depends on the page cache (329 to 405 MB for the same code and the same anonymous
  memory, on this machine).
- **charts, full scale**: `sim.charts.write_run_charts(result, folder)` on the full-scale
  result, timed in the same fresh processes right after the run (the first charts of the
  process, as in `migsim run`; the daily table they read is built first and
  `import sim.charts` is timed apart, as `migsim run` pays both anyway). Median of N.
  Target < 1 s.
- **`migsim run`, full scale / scale 0.1**: the wall time of the whole command
  `migsim run SCENARIO --out TMP` (start-up, imports, loading, simulation, the results
  folder and its charts), at full scale and with `--set scale=0.1`, each into a fresh
  temporary folder. Median of N. Targets: <= 5 s and <= 2 s. On Linux the command writes
  its tables and charts in two helper processes forked as it starts (`sim.outputhelpers`:
  pandas and matplotlib are imported while the model runs, on the machine's second core,
  and the run's own process imports neither); the notes give the same command writing
  them in its own process (`MIGSIM_OUTPUT_INLINE=1`), run alternately with it.
- **speed-up over the reference**: the gain over the straightforward way (`reference.py`:
  one SimPy process per person and a `simpy.Resource` for the border), measured on the
  same people: the model's parties of the first `--ref-days` days (default: the whole
  run) are captured once and replayed person by person. The model is timed on exactly the
  same people (a run of the same scenario ending after those days; departures do not
  depend on the end date). The reference does less than the model (no metering, MPP,
  agreements, deterrence, and a first-come first-served queue), so the ratio understates
  the gain. The cyclic garbage collector is paused during the reference's run as it is
  during the model's (see `sim.model.Model.run`), so the ratio measures the design, not
  that setting. Reference wall / model wall, the model's the median of N, the
  reference's the median of `--ref-runs` (default 1: at about half a minute to a minute a
  run, the reference is the slowest part of the bench, and it varies little). Target >= 20x.
- **calibration throughput**: `migsim calibrate SCENARIO --trials N --posterior-evals 0
  --check-seeds 0 --jobs 2` at the command's own defaults otherwise (scale 0.2, one replication, two
  demand refits per trial), with its fragment and study in a temporary folder (never
  `results/`). One trial (one evaluation of a set of mechanism strengths) is
  `reps x (inner + 1)` simulation runs (`sim.fitting.calibrate.fit_demand`: `inner` refits
  of the demand, then the runs that score it). The rate is read from the study's own
  trial timestamps (`optuna.db`): trials after the first batch (whose time includes the
  start of the worker processes) over the time they took, i.e. the steady state of a long
  calibration; reported as trials and simulation runs an hour. The command's whole wall
  time (pre-fit, trials, the loss's noise estimate, the summary) is in the notes. One run
  (it takes about a minute). No target.
- **batch speed-up**: `migsim batch SCENARIO --reps R --set scale=S --no-charts` (default
  8 replications at scale 0.25: chosen when a run took about 2 s, so that a batch's runs,
  not its start-up, dominate what is compared; since 8 Dec, with the compiled kernels, a
  run takes 1.0-1.2 s in a batch) with `--jobs 1` and
  `--jobs 2`: wall(jobs 1) / wall(jobs 2) of the whole command. The batch charts (drawn
  once, by the parent, after the runs) are left out: they are the same serial work with
  either setting and are measured by the charts row. `--batch-runs` pairs (default 3),
  run alternately; median wall over median wall (one pair varied from 1.56x to 1.78x on a
  quiet machine). Target >= 1.8x. What keeps it below 2x: the driver's start-up (about
  0.45 s) and summary (0.2 s), numba's load in each worker (0.4 s alone, 0.5 s two at a
  time, against once for `--jobs 1`), and runs 5-11% slower two at a time; the faster the
  runs, the more these weigh.

Wall times depend on what else the machine runs: the header gives the load average at the
start, and the CPU times (of the command's whole process tree for the commands) tell how
much of a slow wall time was waiting. `--skip-run`, `--no-reference`, `--skip-calibration`
and `--skip-batch` leave out the slow parts; `--json PATH` also writes the table as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent

#: the table's rows, in order: id -> title
FIGURES: dict[str, str] = {
    "sim_full": "simulation, full scale (wall)",
    "charts": "charts: write_run_charts, full scale",
    "run_full": "migsim run, full scale, with charts",
    "run_small": "migsim run, scale 0.1, with charts",
    "peak_mb": "peak memory, full scale",
    "ratio": "speed-up over benchmarks/reference.py",
    "sim_small": "simulation, scale 0.1 (wall)",
    "calibration": "calibration throughput",
    "batch_speedup": "batch speed-up, --jobs 2 vs --jobs 1",
}

#: the targets of the performance issue: id -> (comparison, target, unit)
TARGETS: dict[str, tuple[str, float, str]] = {
    "sim_full": ("<=", 3.0, "s"),
    "charts": ("<", 1.0, "s"),
    "run_full": ("<=", 5.0, "s"),
    "run_small": ("<=", 2.0, "s"),
    "peak_mb": ("<=", 400.0, "MB"),
    "ratio": (">=", 20.0, "x"),
    "batch_speedup": (">=", 1.8, "x"),
}


def default_scenario() -> Path:
    for name in ("historical.toml", "aca_guatemala.toml"):
        if (ROOT / "scenarios" / name).exists():
            return ROOT / "scenarios" / name
    raise SystemExit("no scenarios/historical.toml or scenarios/aca_guatemala.toml")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _truncated(path: str, days: int | None, overrides: list[str]):
    """The scenario, ending `days` days after its first (warm-up) day if `days` is set."""
    from sim.scenario.loader import load_scenario

    sc = load_scenario(path, overrides)
    if days is None:
        return sc
    origin = sc.start - dt.timedelta(days=sc.warmup_days)
    end = origin + dt.timedelta(days=days)
    if end >= sc.end:
        return sc
    if end <= sc.start:
        raise SystemExit(f"--ref-days must exceed the warm-up ({sc.warmup_days} days)")
    return load_scenario(path, [*overrides, f"end={end.isoformat()}"])


# ----------------------------------------------------------------------------- pure helpers
def verdict(value: float | None, op: str, target: float) -> str:
    """'PASS' or 'FAIL' of `value op target`; '-' when nothing was measured."""
    if value is None:
        return "-"
    ok = {"<=": value <= target, "<": value < target, ">=": value >= target, ">": value > target}
    if op not in ok:
        raise ValueError(f"unknown comparison {op!r}")
    return "PASS" if ok[op] else "FAIL"


def row(fid: str, value: float | None, unit: str, notes: str = "", fmt: str = ".2f") -> dict:
    """One line of the table: figure `fid` of `FIGURES`, checked against its `TARGETS`."""
    target, status = "-", "-"
    if fid in TARGETS:
        op, goal, goal_unit = TARGETS[fid]
        target = f"{op} {goal:g} {goal_unit}"
        status = verdict(value, op, goal)
    shown = "-" if value is None else f"{value:{fmt}} {unit}".strip()
    return {
        "id": fid,
        "figure": FIGURES[fid],
        "value": value,
        "unit": unit,
        "shown": shown,
        "target": target,
        "status": status,
        "notes": notes,
    }


def not_measured(fid: str, status: str, why: str) -> dict:
    """A row without a value: 'SKIP' (left out on request) or 'ERROR' (its run failed)."""
    r = row(fid, None, "")
    r.update(shown="skipped" if status == "SKIP" else "error", status=status, notes=why)
    return r


def in_order(rows: Sequence[dict]) -> list[dict]:
    """The rows in the order of `FIGURES`."""
    rank = {fid: i for i, fid in enumerate(FIGURES)}
    return sorted(rows, key=lambda r: rank[r["id"]])


def format_table(rows: Sequence[dict], header: Sequence[str] = ()) -> str:
    """The rows as an aligned text table (figure, measured, target, status, notes)."""
    cols = [("figure", "figure"), ("shown", "measured"), ("target", "target"), ("status", "")]
    widths = [max(len(title), *(len(str(r[k])) for r in rows)) for k, title in cols]
    lines = list(header)
    head = "  ".join(t.ljust(w) for (_, t), w in zip(cols, widths, strict=True)) + "  notes"
    lines += [head, "-" * len(head)]
    for r in rows:
        cells = [str(r[k]).ljust(w) for (k, _), w in zip(cols, widths, strict=True)]
        cells[1] = str(r["shown"]).rjust(widths[1])
        lines.append("  ".join(cells) + "  " + r["notes"])
    return "\n".join(line.rstrip() for line in lines)


def calibration_rates(
    trials: Sequence[tuple[int, dt.datetime, dt.datetime]], jobs: int, runs_per_trial: int
) -> dict:
    """Trials and simulation runs an hour from the study's (number, start, complete) times.

    `migsim calibrate` asks and evaluates its trials in batches of `jobs`; the first batch
    also pays for starting the workers, so the steady-state rate is the trials after it
    over the time from its end to the last completion. With no later batch, the rate is
    over all trials, from the first start."""
    if not trials:
        raise ValueError("no completed trials")
    ordered = sorted(trials)
    first = ordered[:jobs]
    rest = ordered[jobs:]
    if rest:
        since = max(c for _, _, c in first)
        n, steady = len(rest), True
    else:
        since = min(s for _, s, _ in ordered)
        n, steady = len(ordered), False
    seconds = (max(c for _, _, c in ordered) - since).total_seconds()
    if seconds <= 0:
        raise ValueError("trials took no time")
    per_hour = n * 3600.0 / seconds
    return {
        "trials_per_hour": per_hour,
        "runs_per_hour": per_hour * runs_per_trial,
        "seconds_per_trial": seconds / n,
        "trials_timed": n,
        "steady_state": steady,
    }


def medians(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


# ----------------------------------------------------------------------------- children
def child_model(args) -> dict:
    from sim.metrics import FLOW_INDEX
    from sim.model import Model

    sc = _truncated(args.scenario, args.days, args.set)
    t0 = time.perf_counter()
    model = Model(sc)
    setup = time.perf_counter() - t0
    c0 = time.process_time()
    result = model.run()
    cpu = time.process_time() - c0
    flows = result.recorder.flow_array()
    out = {
        "wall": result.wall_seconds,
        "cpu": cpu,
        "setup": setup,
        "events": result.events,
        "people": float(flows[:, FLOW_INDEX["first_departures"]].sum()),
        "departures": float(flows[:, FLOW_INDEX["departures"]].sum()),
        "encounters": float(flows[:, FLOW_INDEX["encounters"]].sum()),
        # a benchmark counter of the border; NaN if the model no longer keeps it
        "arrivals_without_event": float(
            getattr(getattr(model, "border", None), "fast_admitted", float("nan"))
        ),
        "peak_mb": _peak_mb(),
    }
    if args.charts:
        out.update(_time_charts(result))
    return out


def _time_charts(result) -> dict:
    """`write_run_charts` on `result`, the first charts of this process (as in `migsim
    run`), with the daily table they read built first and the import timed apart."""
    t0 = time.perf_counter()
    result.daily  # noqa: B018  (cached: `migsim run` builds it for daily.parquet first)
    daily = time.perf_counter() - t0
    t0 = time.perf_counter()
    from sim.charts import write_run_charts

    imported = time.perf_counter() - t0
    folder = Path(tempfile.mkdtemp(prefix="migsim-bench-charts-"))
    try:
        c0, t0 = time.process_time(), time.perf_counter()
        written = write_run_charts(result, folder)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "charts": wall,
        "charts_cpu": cpu,
        "charts_import": imported,
        "charts_daily": daily,
        "charts_written": float(len(written)),
        "peak_mb_with_charts": _peak_mb(),
    }


def child_capture(args) -> dict:
    import numpy as np

    sys.path.insert(0, str(HERE))
    from reference import capture

    parties = capture(_truncated(args.scenario, args.days, args.set))
    np.savez(args.out, **parties)
    return {"parties": len(parties["start"]), "persons": int(parties["size"].sum())}


def child_reference(args) -> dict:
    import numpy as np

    sys.path.insert(0, str(HERE))
    from reference import simulate

    sc = _truncated(args.scenario, args.days, args.set)
    with np.load(args.out) as f:
        parties = {k: f[k] for k in f.files}
    days = (sc.end - sc.start).days + sc.warmup_days
    gc_was_enabled = gc.isenabled()
    gc.disable()
    c0, t0 = time.process_time(), time.perf_counter()
    try:
        out = simulate(parties, sc, days)
    finally:
        if gc_was_enabled:
            gc.enable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    encounters = sum(v for (m, _, _), v in out["counts"].items() if m == "encounters")
    return {
        "wall": wall,
        "cpu": cpu,
        "events": out["events"],
        "departures": float(parties["size"].sum()),
        "encounters": float(encounters),
        "peak_mb": _peak_mb(),
    }


CHILDREN = {"model": child_model, "capture": child_capture, "reference": child_reference}


class ChildFailed(Exception):
    """A measured subprocess failed (its stderr has been shown)."""


def spawn(kind: str, scenario: str, overrides: list[str], days=None, out=None, charts=False):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--scenario", scenario]
    cmd += [f"--set={o}" for o in overrides]
    if days is not None:
        cmd += ["--days", str(days)]
    if out is not None:
        cmd += ["--out", str(out)]
    if charts:
        cmd += ["--charts"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise ChildFailed(f"benchmark child {kind!r} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def migsim() -> list[str]:
    """The `migsim` command of this interpreter's environment."""
    script = Path(sys.executable).with_name("migsim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sim"]


def timed_command(args: list[str], env: dict[str, str] | None = None) -> dict:
    """Wall time of `migsim ARGS` in a subprocess, and the CPU time of its process tree
    (the waited-for descendants: worker processes and output helpers included)."""
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*migsim(), *args], stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this command's own usage
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.stderr.write(err.read()[-4000:])
            raise ChildFailed(f"`migsim {' '.join(args)}` failed ({proc.returncode})")
    # the CPU of the command and of the processes it waited for (workers, output helpers);
    # the peak: the largest of those processes' max RSS (KiB on Linux)
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall": wall, "cpu": cpu, "peak_mb": usage.ru_maxrss / 1024.0}


def in_fresh_dir(run: Callable[[Path], dict]) -> dict:
    """`run(tmp)` with `tmp` a fresh temporary folder, removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="migsim-bench-"))
    try:
        return run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------- sections
def bench_model(scenario: str, runs: int, out: list[dict]) -> list[dict]:
    full = [spawn("model", scenario, [], charts=True) for _ in range(runs)]
    m = medians(full)
    print(f"Full scale ({m['people']:,.0f} people, {m['departures']:,.0f} departures)")
    _report_model(m)
    print(
        f"  charts               {m['charts']:8.2f} s   (CPU {m['charts_cpu']:.2f} s; "
        f"import sim.charts {m['charts_import']:.2f} s; daily table {m['charts_daily']:.2f} s)"
    )
    print()
    out.append(
        row(
            "sim_full",
            m["wall"],
            "s",
            f"CPU {m['cpu']:.2f} s; {m['people'] / 1e6:.2f} M people, "
            f"{m['events']:,} SimPy events, {m['people'] / m['wall']:,.0f} people/s; "
            f"compiled kernels, process peak {m['peak_mb']:.0f} MB "
            f"({m['peak_mb_with_charts']:.0f} MB after its charts)",
        )
    )
    out.append(
        row(
            "charts",
            m["charts"],
            "s",
            f"CPU {m['charts_cpu']:.2f} s, {m['charts_written']:.0f} charts; first in the "
            f"process; + import sim.charts {m['charts_import']:.2f} s",
        )
    )
    return full


def bench_small(scenario: str, runs: int, out: list[dict]) -> None:
    small = medians([spawn("model", scenario, ["scale=0.1"]) for _ in range(runs)])
    print(f"Scale 0.1 ({small['people']:,.0f} people simulated)")
    _report_model(small)
    print()
    out.append(
        row(
            "sim_small",
            small["wall"],
            "s",
            f"CPU {small['cpu']:.2f} s; {small['people'] / 1e3:,.0f} k people",
        )
    )


def bench_reference(
    scenario: str, runs: int, ref_runs: int, days, full: list[dict] | None, out: list[dict]
):
    with tempfile.TemporaryDirectory(prefix="migsim-bench-") as tmp:
        npz = Path(tmp) / "people.npz"
        cap = spawn("capture", scenario, [], days, npz)
        same = (
            full
            if days is None and full
            else [spawn("model", scenario, [], days) for _ in range(runs)]
        )
        ref = [spawn("reference", scenario, [], days, npz) for _ in range(ref_runs)]
    mm, rr = medians(same), medians(ref)
    span = "the whole run" if days is None else f"the first {days} days"
    print(
        f"Against the straightforward way (one SimPy process per person, simpy.Resource), "
        f"on the same people: the {cap['persons']:,} persons ({cap['parties']:,} parties, "
        f"every attempt) setting out in {span}"
    )
    print(
        f"  {'':22s}{'wall s':>9s}{'persons/s':>12s}{'events':>12s}{'events/s':>12s}{'peak MB':>9s}"
    )
    for label, r in (("model", mm), ("reference", rr)):
        print(
            f"  {label:22s}{r['wall']:9.2f}{cap['persons'] / r['wall']:12,.0f}"
            f"{r['events']:12,.0f}{r['events'] / r['wall']:12,.0f}{r['peak_mb']:9.0f}"
        )
    print(
        f"  encounters: model {mm['encounters']:,.0f}, reference {rr['encounters']:,.0f} "
        f"(the reference has no metering or MPP)"
    )
    ratio = rr["wall"] / mm["wall"]
    print(f"  speed-up: {ratio:.1f}x (reference wall / model wall)")
    print()
    out.append(
        row(
            "ratio",
            ratio,
            "x",
            f"reference {rr['wall']:.1f} s ({ref_runs} run{'s' if ref_runs > 1 else ''}) / "
            f"model {mm['wall']:.2f} s on the same "
            f"{cap['persons'] / 1e6:.2f} M persons ({span})",
            fmt=".1f",
        )
    )


def bench_run(scenario: str, runs: int, out: list[dict]) -> None:
    """The whole command as a user runs it (on Linux its tables and charts are written by
    two helper processes, `sim.outputhelpers`), alternating with the same command writing
    them in its own process (`MIGSIM_OUTPUT_INLINE=1`, in the notes): what the helpers
    save."""
    inline_env = {**os.environ, "MIGSIM_OUTPUT_INLINE": "1"}
    for label, key, sets in (("full scale", "run_full", []), ("scale 0.1", "run_small", ["0.1"])):
        extra = [f"--set=scale={s}" for s in sets]
        times, inline = [], []
        for _ in range(runs):
            for env, into in ((None, times), (inline_env, inline)):
                into.append(
                    in_fresh_dir(
                        lambda tmp, extra=extra, env=env: timed_command(
                            ["run", scenario, *extra, "--out", str(tmp / "run")], env
                        )
                    )
                )
        m, mi = medians(times), medians(inline)
        print(
            f"migsim run, {label}, with charts: wall {m['wall']:.2f} s (CPU {m['cpu']:.2f} s; "
            f"peak {m['peak_mb']:.0f} MB); written in-process: wall {mi['wall']:.2f} s "
            f"(CPU {mi['cpu']:.2f} s; peak {mi['peak_mb']:.0f} MB)"
        )
        if key == "run_full":
            out.append(
                row(
                    "peak_mb",
                    m["peak_mb"],
                    "MB",
                    "max RSS of migsim run's largest process (the run or its first output "
                    f"helper); written in-process {mi['peak_mb']:.0f} MB",
                    fmt=".0f",
                )
            )
        out.append(
            row(
                key,
                m["wall"],
                "s",
                f"CPU {m['cpu']:.2f} s; the whole command (start-up, simulation, folder, "
                f"charts by the helpers); charts in-process {mi['wall']:.2f} s",
            )
        )
    print()


def calibrate_defaults() -> argparse.Namespace:
    """`migsim calibrate`'s own defaults (replications, refits, scale)."""
    from sim.commands import calibrate

    ap = argparse.ArgumentParser()
    calibrate.add_parser(ap.add_subparsers())
    return ap.parse_args(["calibrate", "scenario.toml", "--out", "fragment.toml"])


def study_trials(db: Path) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """(number, start, complete) of the completed trials in an Optuna SQLite study."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT number, datetime_start, datetime_complete FROM trials WHERE state = 'COMPLETE'"
        ).fetchall()
    return [(n, dt.datetime.fromisoformat(s), dt.datetime.fromisoformat(c)) for n, s, c in rows]


def bench_calibration(scenario: str, trials: int, jobs: int, out: list[dict]) -> None:
    d = calibrate_defaults()
    runs_per_trial = d.reps * (d.inner + 1)

    def run(tmp: Path) -> dict:
        args = ["calibrate", scenario, "--out", str(tmp / "cal.toml")]
        args += ["--storage", str(tmp / "study"), "--trials", str(trials)]
        # no fit check: the whole command stays the calibration alone, comparable over time
        args += ["--posterior-evals", "0", "--check-seeds", "0", "--jobs", str(jobs)]
        timing = timed_command(args)
        return {**timing, "trials": study_trials(tmp / "study" / "optuna.db")}

    m = in_fresh_dir(run)
    rates = calibration_rates(m["trials"], jobs, runs_per_trial)
    how = "steady state, after the first batch" if rates["steady_state"] else "all trials"
    print(
        f"migsim calibrate, {trials} trials at scale {d.scale:g}, --jobs {jobs}: "
        f"{rates['trials_per_hour']:,.0f} trials/h, {rates['runs_per_hour']:,.0f} runs/h "
        f"({rates['seconds_per_trial']:.1f} s a trial, {how}); "
        f"whole command {m['wall']:.0f} s (CPU {m['cpu']:.0f} s)"
    )
    print()
    out.append(
        row(
            "calibration",
            rates["trials_per_hour"],
            "trials/h",
            f"--jobs {jobs}: {rates['runs_per_hour']:,.0f} runs/h ({runs_per_trial} runs a trial at scale "
            f"{d.scale:g}; {how}); whole command {m['wall']:.0f} s for {trials} trials",
            fmt=",.0f",
        )
    )


def batch_speedup(ones: Sequence[float], twos: Sequence[float]) -> float:
    """Median wall with `--jobs 1` over median wall with `--jobs 2`."""
    if not ones or not twos:
        raise ValueError("no batch timings")
    return statistics.median(ones) / statistics.median(twos)


def bench_batch(scenario: str, reps: int, scale: float, runs: int, out: list[dict]) -> None:
    def batch(jobs: int) -> dict:
        def run(tmp: Path) -> dict:
            args = ["batch", scenario, "--reps", str(reps), "--jobs", str(jobs)]
            args += [f"--set=scale={scale:g}", "--no-charts", "--quiet", "--out", str(tmp / "b")]
            return timed_command(args)

        return in_fresh_dir(run)

    # alternately, so that a change in the machine's load falls on both settings alike
    pairs = [(batch(1), batch(2)) for _ in range(runs)]
    ones, twos = [p[0] for p in pairs], [p[1] for p in pairs]
    speedup = batch_speedup([r["wall"] for r in ones], [r["wall"] for r in twos])
    one = {k: statistics.median(r[k] for r in ones) for k in ("wall", "cpu")}
    two = {k: statistics.median(r[k] for r in twos) for k in ("wall", "cpu")}
    print(
        f"migsim batch, {reps} replications at scale {scale:g}, median of {runs}: --jobs 1 "
        f"{one['wall']:.1f} s (CPU {one['cpu']:.1f} s), --jobs 2 {two['wall']:.1f} s (CPU "
        f"{two['cpu']:.1f} s): speed-up {speedup:.2f}x (each pair: "
        + ", ".join(f"{a['wall'] / b['wall']:.2f}x" for a, b in pairs)
        + ")"
    )
    print()
    out.append(
        row(
            "batch_speedup",
            speedup,
            "x",
            f"{reps} reps at scale {scale:g}, no charts, median of {runs}: {one['wall']:.1f} s "
            f"(CPU {one['cpu']:.1f}) vs {two['wall']:.1f} s (CPU {two['cpu']:.1f}: "
            f"{two['cpu'] / one['cpu'] - 1:+.0%} with the workers)",
        )
    )


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "host": platform.node(),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "commit": commit or "unknown",
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


# ----------------------------------------------------------------------------- report
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default=None, help="scenario file (default: historical)")
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    ap.add_argument(
        "--ref-days",
        type=int,
        default=None,
        help="compare with the reference on the first N simulated days (default: all)",
    )
    ap.add_argument(
        "--ref-runs", type=int, default=1, help="runs of the reference (median; default 1)"
    )
    ap.add_argument("--no-reference", action="store_true", help="skip the reference")
    ap.add_argument("--skip-run", action="store_true", help="skip timing `migsim run`")
    ap.add_argument("--skip-calibration", action="store_true", help="skip `migsim calibrate`")
    ap.add_argument("--skip-batch", action="store_true", help="skip `migsim batch`")
    ap.add_argument(
        "--cal-trials",
        type=int,
        default=6,
        help="calibration trials (default 6; best a multiple of --cal-jobs)",
    )
    ap.add_argument("--cal-jobs", type=int, default=2, help="calibration --jobs (default 2)")
    ap.add_argument("--batch-reps", type=int, default=8, help="batch replications (default 8)")
    ap.add_argument("--batch-scale", type=float, default=0.25, help="batch scale (default 0.25)")
    ap.add_argument(
        "--batch-runs", type=int, default=3, help="pairs of batch runs (default 3; median)"
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the table as JSON here")
    ap.add_argument("--set", action="append", default=[], help=argparse.SUPPRESS)
    ap.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    ap.add_argument("--days", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--charts", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.scenario = args.scenario or str(default_scenario())
        print(json.dumps(CHILDREN[args.child](args), default=float))
        return
    counts = (args.runs, args.ref_runs, args.cal_trials, args.cal_jobs)
    if min(*counts, args.batch_reps, args.batch_runs) < 1:
        ap.error(
            "--runs, --ref-runs, --cal-trials, --cal-jobs, --batch-reps and --batch-runs "
            "must be >= 1"
        )

    sys.stdout.reconfigure(line_buffering=True)  # progress shows under `make`, in a pipe
    started = time.perf_counter()
    box = machine()
    scenario = args.scenario or str(default_scenario())
    name = Path(scenario).name
    print(f"migsim benchmark: {name}, median of {args.runs} runs, each in a fresh process")
    print()

    rows: list[dict] = []
    errors = 0

    def section(fids: list[str], work: Callable[[], object], skip: str | None = None):
        """Run `work` unless `skip` (the flag that skips it); if one of its subprocesses
        fails, its figures are marked ERROR and the other sections still run."""
        nonlocal errors
        if skip:
            rows.extend(not_measured(f, "SKIP", skip) for f in fids)
            return None
        try:
            return work()
        except ChildFailed as e:
            errors += 1
            print(f"  {e}\n")
            rows[:] = [r for r in rows if r["id"] not in fids]  # no half-measured section
            rows.extend(not_measured(f, "ERROR", str(e)) for f in fids)
            return None

    full = section(["sim_full", "charts"], lambda: bench_model(scenario, args.runs, rows))
    section(["sim_small"], lambda: bench_small(scenario, args.runs, rows))
    section(
        ["ratio"],
        lambda: bench_reference(scenario, args.runs, args.ref_runs, args.ref_days, full, rows),
        "--no-reference" if args.no_reference else None,
    )
    section(
        ["run_full", "peak_mb", "run_small"],
        lambda: bench_run(scenario, args.runs, rows),
        "--skip-run" if args.skip_run else None,
    )
    section(
        ["calibration"],
        lambda: bench_calibration(scenario, args.cal_trials, args.cal_jobs, rows),
        "--skip-calibration" if args.skip_calibration else None,
    )
    section(
        ["batch_speedup"],
        lambda: bench_batch(scenario, args.batch_reps, args.batch_scale, args.batch_runs, rows),
        "--skip-batch" if args.skip_batch else None,
    )
    rows = in_order(rows)

    total = time.perf_counter() - started
    header = [
        f"migsim benchmark, {name}: {box['date']}, commit {box['commit']}",
        f"machine {box['host']}: nproc {box['nproc']}, {box['cpu']}, Python {box['python']}, "
        f"{box['platform']}; load average (1/5/15 min) at start "
        f"{' / '.join(map(str, box['load_average']))}, at the end "
        f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"medians of {args.runs} fresh processes unless noted; bench took {total / 60:.1f} min",
    ]
    if box["load_average"][0] > 0.5:  # the bench itself loads about one core
        header.append(
            "note: other work was running on this machine at the start: wall times and the "
            "batch speed-up may be pessimistic; the CPU times in the notes are steadier"
        )
    header.append("")
    print(format_table(rows, header))
    if args.json is not None:
        report = {
            "scenario": name,
            "machine": box,
            "runs": args.runs,
            "bench_seconds": round(total, 1),
            "rows": [{k: v for k, v in r.items() if k != "shown"} for r in rows],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\n-> {args.json}")
    if errors:
        raise SystemExit(f"{errors} benchmark section(s) failed")


def _report_model(m: dict) -> None:
    print(
        f"  wall time            {m['wall']:8.2f} s   (CPU {m['cpu']:.2f} s; setup {m['setup']:.2f} s)"
    )
    print(f"  people per second    {m['people'] / m['wall']:11,.0f}")
    print(
        f"  SimPy events         {m['events']:11,.0f}   ({m['events'] / m['wall']:,.0f} per second)"
    )
    print(
        f"  arrivals w/o event   {m['arrivals_without_event']:11,.0f}   "
        "(parties sure to find a free lane)"
    )
    print(f"  peak memory          {m['peak_mb']:8.0f} MB (max RSS of the run's process)")


if __name__ == "__main__":
    main()
