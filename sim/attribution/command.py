"""`migsim attribute`: Shapley attribution of a window's change to the mechanisms.

Writes, atomically (a marked temporary folder swapped in at the end, `sim.results`):
`attribution.csv` (columns of `sim.attribution.run.COLUMNS`; a row per player, inactive
players with 0, and the baseline row `mechanism = "none"`, so that `contribution` adds up
to `simulated_change` per series), `values.csv` (v(S) per coalition, replication and
series, for audit), `charts/attribution_waterfall.png` and `manifest.json`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

from sim import observed as obs_data
from sim.attribution import run as at
from sim.attribution.charts import waterfall
from sim.attribution.players import BY_NAME
from sim.chartstyle import Provenance
from sim.cli import UsageError, comma_names
from sim.ownership import building, check_output_dir
from sim.results import _git_commit, _version
from sim.scenario.loader import ScenarioError, load_scenario, resolved_dict, scenario_hash

KIND = "attribution"
PARQUET_LIMIT = 50_000_000


def _players(text: str | None) -> list[str] | None:
    return comma_names(text, "--players", BY_NAME, "player", f"players: {', '.join(BY_NAME)}")


def _load_draws(path: Path) -> pd.DataFrame:
    """Posterior draws from `migsim calibrate` (.csv) or the same table as parquet."""
    from sim.fitting import parameters as P
    from sim.fitting.posterior import load_draws

    if path.suffix.lower() != ".parquet":
        return load_draws(path)
    from sim.safeio import UnsafeFile, check_regular

    try:
        check_regular(path, PARQUET_LIMIT)
        draws = pd.read_parquet(path)
    except (OSError, UnsafeFile, ValueError) as e:
        raise ScenarioError(str(path), "posterior", f"cannot read the draws ({e})") from None
    missing = [p.name for p in P.PARAMETERS if p.name not in draws.columns]
    if missing:
        raise ScenarioError(str(path), missing[0], "column missing from the posterior draws")
    if draws.empty:
        raise ScenarioError(str(path), "posterior", "no draws")
    return draws


def cmd_attribute(args: argparse.Namespace) -> int:
    try:
        first, last = at.window_months(args.window)
    except ValueError as e:
        raise UsageError(f"--window: {e}") from None
    if args.reps < 1:
        raise UsageError(f"--reps must be at least 1, got {args.reps}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    if args.scale is not None and not 0 < args.scale <= 1:
        raise UsageError(f"--scale must be in (0, 1], got {args.scale:g}")
    requested = _players(args.players)
    overrides = list(args.set or ())
    if args.scale is not None:
        overrides.append(f"scale={args.scale}")
    base = load_scenario(args.scenario, overrides)
    try:
        at.check_window(base, first, last)
    except ValueError as e:
        raise UsageError(f"--window: {e}") from None
    active, pruned = at.plan(base, first, last, requested)
    if not active:
        raise UsageError(
            "no active player in the window: " + "; ".join(f"{k}: {v}" for k, v in pruned.items())
        )
    per_rep = None
    if args.posterior is not None:
        from sim.fitting.posterior import per_replication

        draws = _load_draws(args.posterior)
        per_rep = per_replication(base, draws, args.reps)
    out = Path(args.out)
    check_output_dir(out, KIND, [args.scenario])  # before any run, not after

    def say(msg: str) -> None:
        print(msg, file=sys.stderr)

    for name, why in pruned.items():
        say(f"{name}: inactive ({why}); contribution 0, left out of the coalitions")
    from sim.batch.executors import open_executor

    t0 = time.perf_counter()
    with building(out, KIND) as tmp:
        with open_executor(args.jobs, args.scheduler) as opened:
            result = at.attribute(
                base,
                first,
                last,
                args.reps,
                players=requested,
                per_replication=per_rep,
                observed=obs_data.load_usbp(),
                executor=opened.executor,
                progress=say,
            )
            label = opened.label
        result.table.to_csv(tmp / "attribution.csv", index=False)
        _values_frame(result).to_csv(tmp / "values.csv", index=False)
        wall = time.perf_counter() - t0
        note = (
            "Replications paired by common random numbers; exact Shapley values over "
            f"{len(result.players)} mechanisms "
            f"({2 ** len(result.players)} coalitions); bars: 90% interval over replications"
            + (" and posterior draws" if per_rep is not None else "")
            + (f". Inactive in the window, contribution 0: {', '.join(pruned)}" if pruned else "")
            + "."
        )
        prov = Provenance(base.name, base.scale, args.reps, base.seed)
        waterfall(result.table, tmp / "charts" / "attribution_waterfall.png", note, prov)
        manifest = {
            "kind": KIND,
            "command": _command(args),
            "migsim_version": _version("migsim"),
            "git_commit": _git_commit(),
            "settings": {
                "window": [str(first), str(last)],
                "reps": args.reps,
                "scale": base.scale,
                "players": result.players,
                "inactive_players": pruned,
                "coalitions": 2 ** len(result.players),
                "runs": result.runs,
                "posterior": str(args.posterior) if args.posterior else None,
                "executor": label,
                "baseline_row": "mechanism 'none' = the change with every player off; "
                "contributions of all rows add up to simulated_change",
            },
            "scenario_name": base.name,
            "scenario_hash": scenario_hash(base),
            "scenario": resolved_dict(base),
            "wall_seconds": round(wall, 1),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    _print(result.table)
    print(
        f"attribution over {len(result.players)} mechanisms, {result.runs} runs -> {out} ({wall:.0f} s)"
    )
    return 0


def _values_frame(result: at.Attribution) -> pd.DataFrame:
    rows = []
    for coalition, v in result.values.items():
        on = ",".join(p for p in result.players if p in coalition)
        for r in range(v.shape[0]):
            for j, s in enumerate(at.SERIES):
                rows.append({"coalition_on": on, "rep": r, "series": s, "change": float(v[r, j])})
    return pd.DataFrame(rows)


def _command(args: argparse.Namespace) -> str:
    parts = [
        "migsim attribute",
        Path(args.scenario).as_posix(),
        f"--window {args.window}",
        f"--reps {args.reps}",
    ]
    if args.scale is not None:
        parts.append(f"--scale {args.scale:g}")
    if args.players:
        parts.append(f"--players {args.players}")
    if args.posterior:
        parts.append(f"--posterior {Path(args.posterior).as_posix()}")
    parts += [f"--set {s}" for s in args.set or ()]
    parts.append(f"--out {Path(args.out).as_posix()}")
    return " ".join(parts)


def _print(table: pd.DataFrame) -> None:
    t = table[table["series"] == "usbp_total"]
    if t.empty:
        return
    r0 = t.iloc[0]
    print(
        f"USBP apprehensions {r0.window_start} -> {r0.window_end}: simulated change "
        f"{r0.simulated_change:+,.0f}, observed {r0.observed_change:+,.0f}"
    )
    for r in t.itertuples(index=False):
        print(
            f"  {r.mechanism:18s} {r.contribution:+12,.0f}  [{r.contribution_lo90:+,.0f}, {r.contribution_hi90:+,.0f}]"
        )
