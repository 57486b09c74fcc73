"""`migsim backtest`: rolling-origin backtests inside FY2018-FY2019 (see `sim.backtest.run`).

Writes, atomically (a marked temporary folder swapped in at the end, `sim.results`):

- `backtest.csv`: origin, horizon, series, observed, model, model_lo90, model_hi90,
  persistence, seasonal_naive, statistical; one row per origin x forecast month x series
  (`observed` is empty for months after the observed data; they are not scored);
- `scores.csv`: MAPE, MASE and 90% coverage per method x series x horizon
  (`sim.backtest.scores`);
- `charts/backtest_<origin>.png`: the forecast fan of each origin against the data;
- `calibration_<origin>/`: the calibration's parameter table, posterior draws (and its
  Optuna study);
- `manifest.json`: command, settings, resolved scenario, calibration table per origin, the
  statistical baseline's chosen variant per origin and series, versions, wall time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from sim import observed as obs_data
from sim.backtest import run as bt
from sim.backtest.charts import fan_chart
from sim.backtest.scores import score_table
from sim.chartstyle import Provenance
from sim.cli import UsageError
from sim.ownership import building, check_output_dir
from sim.results import _git_commit, _version
from sim.scenario.loader import load_scenario, resolved_dict, scenario_hash

KIND = "backtest"
#: at least this many fitted months before an origin
MIN_HISTORY = 12


CAL_OPTIONS = ("prefit", "inner", "posterior_evals")  # passed on to each calibration


def parse_origins(text: str, observed: pd.DataFrame) -> list[pd.Period]:
    months = observed.index
    out = []
    for part in text.split(","):
        part = part.strip()
        try:
            p = pd.Period(part, freq="M")
        except ValueError:
            raise UsageError(f"--origins: {part!r} is not a month YYYY-MM") from None
        if len(part) != 7 or part[4] != "-":
            raise UsageError(f"--origins: {part!r} is not a month YYYY-MM")
        if p < months[0] + (MIN_HISTORY - 1):
            raise UsageError(
                f"--origins: {p} leaves fewer than {MIN_HISTORY} fitted months "
                f"(the observed data start in {months[0]})"
            )
        if p >= months[-1]:
            raise UsageError(
                f"--origins: {p} leaves no observed month to score (the data end in {months[-1]})"
            )
        out.append(p)
    if len(set(out)) != len(out):
        raise UsageError("--origins: a month is given twice")
    return sorted(out)


def _command(args: argparse.Namespace, origins: list[pd.Period]) -> str:
    parts = [
        "migsim backtest",
        Path(args.scenario).as_posix(),
        f"--origins {','.join(str(o) for o in origins)}",
        f"--horizon {args.horizon}",
        f"--trials {args.trials}",
        f"--reps {args.reps}",
        f"--cal-reps {args.cal_reps}",
        f"--scale {args.scale:g}",
        *(
            f"--{k.replace('_', '-')} {getattr(args, k)}"
            for k in CAL_OPTIONS
            if getattr(args, k) is not None
        ),
        *(f"--set {s}" for s in args.set or ()),
        f"--out {Path(args.out).as_posix()}",
    ]
    return " ".join(parts)


def cmd_backtest(args: argparse.Namespace) -> int:
    if args.horizon < 1 or args.horizon > 24:
        raise UsageError(f"--horizon must be 1..24 months, got {args.horizon}")
    if args.trials < 1 or args.reps < 1 or args.cal_reps < 1:
        raise UsageError("--trials, --reps and --cal-reps must be at least 1")
    if not 0 < args.scale <= 1:
        raise UsageError(f"--scale must be in (0, 1], got {args.scale:g}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    for k in CAL_OPTIONS:
        if getattr(args, k) is not None and getattr(args, k) < 0:
            raise UsageError(f"--{k.replace('_', '-')} must be at least 0")
    observed = bt.as_monthly(obs_data.load_usbp())
    origins = parse_origins(args.origins, observed)
    base = load_scenario(args.scenario, args.set or ())
    out = Path(args.out)
    check_output_dir(out, KIND, [args.scenario])  # before any run, not after
    from sim.batch.executors import open_executor
    from sim.progress import MessageProgress

    say = MessageProgress()  # a tqdm bar of counted steps on a terminal; plain lines otherwise

    options = {k: getattr(args, k) for k in CAL_OPTIONS if getattr(args, k) is not None}
    t0 = time.perf_counter()
    with building(out, KIND) as tmp:
        results = []
        with open_executor(args.jobs, args.scheduler) as opened:
            for origin in origins:
                history = bt.truncate(observed, origin)  # nothing after the origin goes in
                results.append(
                    bt.run_origin(
                        base,
                        history,
                        origin,
                        args.horizon,
                        trials=args.trials,
                        reps=args.reps,
                        cal_reps=args.cal_reps,
                        scale=args.scale,
                        storage=tmp / f"calibration_{origin}",
                        executor=opened.executor,
                        jobs=args.jobs or 1,
                        calibrate_options=options,
                        progress=say,
                    )
                )
            executor_label = opened.label
        say.close()
        full = pd.concat([bt.score_rows(r.rows, observed) for r in results], ignore_index=True)
        scores = score_table(full)
        full[list(bt.COLUMNS)].to_csv(tmp / "backtest.csv", index=False)
        scores.to_csv(tmp / "scores.csv", index=False)
        manifest_cals = {}
        for r in results:
            folder = tmp / f"calibration_{r.origin}"
            folder.mkdir(parents=True, exist_ok=True)
            table = getattr(r.calibration, "table", pd.DataFrame())
            draws = getattr(r.calibration, "draws", pd.DataFrame())
            table.to_csv(folder / "parameters.csv", index=False)
            draws.to_csv(folder / "draws.csv", index=False)
            manifest_cals[str(r.origin)] = {
                "through": str(r.origin),
                "point": {k: float(v) for k, v in getattr(r.calibration, "point", {}).items()},
                "table": json.loads(table.to_json(orient="records")),
                "draws": len(draws),
                # how the draws were made (ABC-SMC, or the fallback when its ESS is under 10)
                "posterior_method": table.attrs.get("method", ""),
                "posterior_ess": round(float(table.attrs.get("ess", 0.0)), 2),
                "statistical_baseline": r.specs,
            }
            fan_chart(
                r.origin,
                full[full["origin"] == str(r.origin)],
                r.simulated,
                bt.truncate(observed, r.origin),
                base,
                tmp / "charts" / f"backtest_{r.origin}.png",
                note="Posterior draws per replication; band = 5th-95th percentile.",
                prov=Provenance(base.name, args.scale, args.reps, base.seed),
            )
        wall = time.perf_counter() - t0
        manifest = {
            "kind": KIND,
            "command": _command(args, origins),
            "migsim_version": _version("migsim"),
            "git_commit": _git_commit(),
            "packages": {p: _version(p) for p in ("numpy", "pandas", "statsmodels", "optuna")},
            "settings": {
                "origins": [str(o) for o in origins],
                "horizon": args.horizon,
                "trials": args.trials,
                "reps": args.reps,
                "calibration_reps": args.cal_reps,
                "scale": args.scale,
                "calibrate_options": options,
                "executor": executor_label,
                "series": list(bt.BACKTEST_SERIES),
                "observed": f"sim/data/{obs_data.USBP_FILE} ({observed.index[0]}..{observed.index[-1]})",
                "scored": "forecast months with an observation; later months are written, not scored",
            },
            "scenario_name": base.name,
            "scenario_hash": scenario_hash(base),
            "scenario": resolved_dict(base),
            "calibrations": manifest_cals,
            "wall_seconds": round(wall, 1),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    _print_summary(scores)
    print(f"backtest of {len(origins)} origin(s) -> {out} ({wall:.0f} s)")
    return 0


def _print_summary(scores: pd.DataFrame) -> None:
    pooled = scores[scores["horizon"] == "1-3"]
    if pooled.empty:
        return
    wide = pooled.pivot(index="series", columns="method", values="mape")
    cols = [c for c in ("model", "persistence", "seasonal_naive", "statistical") if c in wide]
    print("MAPE (%) over horizons 1-3, by series:")
    print(wide[cols].round(1).to_string())
    cov = pooled[pooled["method"] == "model"].set_index("series")["coverage90"]
    print(
        "model 90% interval coverage, horizons 1-3: "
        + ", ".join(f"{k} {v:.0%}" for k, v in cov.items())
    )
