"""`migsim backtest SCENARIO [--origins 2019-03,2019-06] [--horizon 6] --out DIR`: calibrate
on the months up to each origin, forecast the months after it with the policies as they
happened, and score the forecast and three baselines against observed (`sim.backtest`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backtest",
        help="rolling-origin backtests: calibrate up to each origin, forecast, score",
        description="For each origin: calibrate on the observed months up to it (nothing "
        "later), forecast the next --horizon months with the scenario's dated policies, and "
        "score against observed and the persistence, seasonal-naive and ETS baselines.",
    )
    p.add_argument(
        "scenario", type=Path, help="policy environment (e.g. scenarios/historical.toml)"
    )
    p.add_argument("--origins", default="2019-03,2019-06", help="last fitted months, YYYY-MM,...")
    p.add_argument("--horizon", type=int, default=6, help="months forecast after each origin")
    p.add_argument("--trials", type=int, default=60, help="Optuna trials per calibration")
    p.add_argument("--reps", type=int, default=20, help="forecast replications (posterior draws)")
    p.add_argument("--cal-reps", type=int, default=1, help="replications per calibration trial")
    p.add_argument(
        "--scale", type=float, default=0.2, help="scale of calibration and forecast runs"
    )
    p.add_argument("--prefit", type=int, default=None, help="demand refits before the trials")
    p.add_argument("--inner", type=int, default=None, help="demand refits inside each trial")
    p.add_argument(
        "--posterior-evals",
        type=int,
        default=None,
        help="ABC-SMC evaluations per calibration (default 0: the search's trials within the "
        "tolerance)",
    )
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default all cores)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler ('local' or an address)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a lever")
    p.add_argument("--out", type=Path, required=True, help="backtest folder to write")
    p.set_defaults(func=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    # heavy imports (pandas, statsmodels, optuna, matplotlib) only when the command runs
    from sim.backtest.command import cmd_backtest as run

    return run(args)
