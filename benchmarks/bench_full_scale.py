"""Full-scale benchmark (`make bench`): how long one replication takes, measured here.

1. The model on the historical scenario (`scenarios/historical.toml`, or
   `aca_guatemala.toml` where there is none) at full scale: every person, with the
   warm-up. Median of `--runs` runs, each in a fresh subprocess, so that a run's peak
   memory (the child's `ru_maxrss`) and its caches are its own.
2. The same at scale 0.1.
3. The gain over the straightforward way (`reference.py`: one SimPy process per person and
   a `simpy.Resource` for the border), measured on the same people: the model's parties
   of the first `--ref-days` days (default: the whole run) are captured once and replayed
   person by person. The model is timed on exactly the same people (a run of the same
   scenario ending after those days; departures do not depend on the end date). The
   reference does less than the model (no metering, MPP, agreements, deterrence, and a
   first-come first-served queue), so the ratio understates the gain.

Times are the simulation proper (`env.run`), without imports and scenario loading, which
are reported separately. The cyclic garbage collector is paused during the reference's
run as it is during the model's (see `sim.model.Model.run`), so the ratio measures the
design, not that setting.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent


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
    return {
        "wall": result.wall_seconds,
        "cpu": cpu,
        "setup": setup,
        "events": result.events,
        "people": float(flows[:, FLOW_INDEX["first_departures"]].sum()),
        "departures": float(flows[:, FLOW_INDEX["departures"]].sum()),
        "encounters": float(flows[:, FLOW_INDEX["encounters"]].sum()),
        "arrivals_without_event": model.border.fast_admitted,
        "peak_mb": _peak_mb(),
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


def spawn(kind: str, scenario: str, overrides: list[str], days=None, out=None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--scenario", scenario]
    cmd += [f"--set={o}" for o in overrides]
    if days is not None:
        cmd += ["--days", str(days)]
    if out is not None:
        cmd += ["--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark child {kind!r} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def medians(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


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
    ap.add_argument("--no-reference", action="store_true", help="skip the reference")
    ap.add_argument("--set", action="append", default=[], help=argparse.SUPPRESS)
    ap.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    ap.add_argument("--days", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.scenario = args.scenario or str(default_scenario())
        print(json.dumps(CHILDREN[args.child](args), default=float))
        return

    scenario = args.scenario or str(default_scenario())
    name = Path(scenario).name
    print(f"migsim benchmark: {name}, median of {args.runs} runs, each in a fresh process")
    print()

    full = [spawn("model", scenario, []) for _ in range(args.runs)]
    m = medians(full)
    print(f"Full scale ({m['people']:,.0f} people, {m['departures']:,.0f} departures)")
    _report_model(m)
    print()

    small = medians([spawn("model", scenario, ["scale=0.1"]) for _ in range(args.runs)])
    print(f"Scale 0.1 ({small['people']:,.0f} people simulated)")
    _report_model(small)
    print()

    if args.no_reference:
        return
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "people.npz"
        days = args.ref_days
        cap = spawn("capture", scenario, [], days, npz)
        same = (
            full if days is None else [spawn("model", scenario, [], days) for _ in range(args.runs)]
        )
        ref = [spawn("reference", scenario, [], days, npz) for _ in range(args.runs)]
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
    print(f"  speed-up: {rr['wall'] / mm['wall']:.1f}x (reference wall / model wall)")


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
