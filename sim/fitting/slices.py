"""Likelihood slices: what the data say about each mechanism strength, one at a time.

The calibration's posterior (`sim.fitting.calibrate`) can only call a strength
"constrained among the searched trials" when ABC-SMC's effective sample size is too small
and the draws fall back to the evaluated trials: the search chose where to look. A slice
asks the data directly. Each strength in turn is set to values spread over its prior range
(evenly on the prior's own scale), every other strength is held at the point estimate, the
undeterred demand is refitted at every value (it is profiled out of the loss, exactly as in
a calibration trial: `calibrate.evaluate`), and the loss is scored. The refits start from
the demand the scenario holds (`Demand.of_scenario`: a calibration fragment's, the one its
own trial fitted), so the slices are taken at the shipped fit, not at a demand re-fitted
from the rates alone (whose loss differs: the refit is a noisy fixed point that does not
settle, README "Calibration").

Reading a slice:

- **flat** (the loss stays within the threshold over more than half of the prior range):
  the data do not identify the strength even with everything else fixed. That verdict is
  conclusive: re-optimising the other strengths (a profile) can only flatten a slice.
- **constrained**: the loss rises above the threshold within the prior. That is an upper
  bound on what the data say (a profile could be flatter where strengths trade off).
- **better value on the grid**: a value whose mean loss is below the point's by more than
  the threshold and the noise means the search stopped short of the optimum along this
  strength. Among some 170 values a few beat the point's seeds by luck, so each strength's
  best such value is evaluated again at `confirm_seeds` more seeds (and the point with
  it), and only a value still better over all its seeds is reported.

Every value is evaluated at the same `seeds` seeds as the point (common random numbers), so
the differences from the point are far less noisy than the losses themselves; a value is
inside the slice interval when its mean difference is within the threshold plus the
one-sided 90% Monte Carlo band of that mean. The threshold is the calibration's, for one
parameter: chi-square(0.9, 1) tempered by the point's dispersion (loss per term) and the
autocorrelation of its monthly errors (`calibrate.variance_inflation`).

Besides the loss, each evaluation records what a reader checks the fit by: the number of
published policy figures the run reproduces within a factor of 1.3, and the simulated
change in USBP apprehensions from May to September 2019 (when the fitted months hold
both).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import chi2

from sim.fitting import parameters as P
from sim.fitting.calibrate import (
    IDENTIFIED_RATIO,
    NOISE_Z,
    Trial,
    dispersion,
    evaluate,
    fit_demand,
    fit_window,
    variance_inflation,
)
from sim.fitting.demand import Demand, knots_for
from sim.fitting.targets import Observed, term_losses
from sim.scenario.schema import Scenario

STOCK_FACTOR = 1.3  # the yardstick for the policy figures (issue: "within a factor of 1.3")
CHANGE_WINDOW = ("2019-05", "2019-09")  # the 2019 fall the attribution explains
FAMILY_STATUSES = ("single_adults", "family_unit_individuals", "unaccompanied_children")
SLICE_COLUMNS = (
    "parameter",
    "value",
    "seed",
    "loss",
    "usbp_loss",
    "policy_loss",
    "stocks_within",
    "change_may_sep",
)


@dataclass(frozen=True)
class SliceSettings:
    """How the slices are made (the calibration's own settings by default)."""

    points: int = 7  # values per strength, spread over the prior (the estimate is added)
    seeds: int = 3  # common seeds for every value and the point
    scale: float = 0.2
    reps: int = 1
    prefit: int = 0  # refits at the point first, from the scenario's own demand
    inner: int = 2
    confirm_seeds: int = 4  # more seeds for a value that looks better than the point


@dataclass
class Slices:
    """The evaluations (`frame`, one row per parameter, value and seed; the point's rows
    have parameter ""), the verdict per strength (`table`) and how it was judged."""

    frame: pd.DataFrame
    table: pd.DataFrame
    threshold: float
    dispersion: float
    inflation: float
    point_loss: float
    evaluations: int
    seconds: float
    settings: SliceSettings = SliceSettings()


def grid(p: P.Parameter, estimate: float, points: int) -> np.ndarray:
    """`points` values evenly spread over the prior (on its log scale where the prior is
    log-uniform), rounded for an integer strength, without the estimate (the point)."""
    if points < 2:
        raise ValueError("a slice needs at least 2 values")
    if p.log:
        values = np.exp(np.linspace(math.log(p.low), math.log(p.high), points))
    else:
        values = np.linspace(p.low, p.high, points)
    if p.integer:
        values = np.round(values)
    values = np.unique(values)
    keep = ~np.isclose(values, estimate, rtol=1e-9, atol=0.0)
    return values[keep]


def _fit_figures(terms: pd.DataFrame) -> tuple[int, float]:
    """Policy figures within a factor of STOCK_FACTOR, and the simulated May -> Sep 2019
    change of USBP apprehensions (NaN when the fitted months do not hold both)."""
    policy = terms[terms["kind"] == "policy"]
    ratio = policy["simulated"].to_numpy(dtype=float) / policy["observed"].to_numpy(dtype=float)
    within = int(np.sum((ratio >= 1 / STOCK_FACTOR) & (ratio <= STOCK_FACTOR)))
    usbp = terms[(terms["kind"] == "usbp") & terms["what"].isin(FAMILY_STATUSES)]
    total = usbp.groupby("period")["simulated"].sum()
    first, last = CHANGE_WINDOW
    change = float(total[last] - total[first]) if first in total and last in total else np.nan
    return within, change


def _row(parameter: str, value: float, seed: int, result: tuple) -> dict[str, object]:
    loss, _vector, terms = result
    parts = term_losses(terms)
    usbp = terms["kind"].to_numpy() == "usbp"
    within, change = _fit_figures(terms)
    return {
        "parameter": parameter,
        "value": value,
        "seed": seed,
        "loss": float(loss),
        "usbp_loss": float(parts[usbp].sum()),
        "policy_loss": float(parts[~usbp].sum()),
        "stocks_within": within,
        "change_may_sep": change,
    }


class Checkpoint:
    """Finished evaluations kept on disk as they arrive (`rows.csv`, one line each, flushed),
    so an interrupted run resumes where it stopped; `key.json` names what they are the
    evaluations of (scenario, settings, fitted months, strengths), and a different key
    starts over. The point's own evaluations are always made again: their loss terms, not
    kept here, set the threshold."""

    def __init__(self, folder: Path, key: str) -> None:
        self.rows = folder / "rows.csv"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = folder / "key.json"
        old = json.loads(stamp.read_text()).get("key") if stamp.exists() else None
        if old != key:
            self.rows.unlink(missing_ok=True)
            stamp.write_text(json.dumps({"key": key}) + "\n")

    def load(self) -> dict[tuple[str, float, int], dict[str, object]]:
        """The finished rows by (parameter, value, seed); a torn last line is dropped."""
        if not self.rows.exists():
            return {}
        out = {}
        with self.rows.open(newline="") as f:
            for rec in csv.DictReader(f, fieldnames=list(SLICE_COLUMNS)):
                try:
                    row = {
                        "parameter": rec["parameter"],
                        "value": float(rec["value"]),
                        "seed": int(rec["seed"]),
                        **{c: float(rec[c]) for c in SLICE_COLUMNS[3:]},
                    }
                except (TypeError, ValueError):
                    break  # a line cut short by the interruption: it and any after
                row["stocks_within"] = int(row["stocks_within"])
                out[(row["parameter"], row["value"], row["seed"])] = row
        return out

    def append(self, row: dict[str, object]) -> None:
        with self.rows.open("a", newline="") as f:
            csv.writer(f).writerow(
                [repr(row[c]) if isinstance(row[c], float) else row[c] for c in SLICE_COLUMNS]
            )


def checkpoint_key(
    base: Scenario, through: pd.Period, settings: SliceSettings, names: Sequence[str]
) -> str:
    """What a checkpoint's rows are evaluations of (`Checkpoint`)."""
    from sim.scenario.loader import scenario_hash

    # the confirmation's seed count is left out: it adds evaluations at other seeds, and
    # every evaluation is kept under its own seed
    made = {k: v for k, v in asdict(settings).items() if k != "confirm_seeds"}
    made["demand_start"] = "scenario"  # (earlier checkpoints started from the rates alone)
    blob = json.dumps([scenario_hash(base), str(through), made, list(names)], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def slices(
    base: Scenario,
    observed: pd.DataFrame,
    *,
    through: pd.Period,
    settings: SliceSettings = SliceSettings(),
    parameters: Sequence[str] | None = None,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
    checkpoint: Path | None = None,
) -> Slices:
    """Slices of the loss along each strength (all, or `parameters`) at `base`'s values;
    with `checkpoint` (a folder), finished evaluations are kept there and reused."""
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    chosen = [P.BY_NAME[n] for n in parameters] if parameters else list(P.PARAMETERS)
    obs = Observed.from_usbp(observed, through)
    window = fit_window(base, obs, settings.scale)
    point = P.current(base)
    # the slices start from the demand the scenario holds (a fragment's: the one its own
    # trial fitted), not from its rates alone: they describe the shipped fit
    demand0 = Demand.of_scenario(base, knots_for(obs.months[-1] - 1))
    if settings.prefit:
        demand0, _ = fit_demand(
            P.apply(window, point), demand0, obs, settings.reps, settings.prefit
        )
        say(f"pre-fit of the demand at the point: {time.perf_counter() - t0:.0f} s")
    template = Trial(window, point, demand0, obs, settings.reps, settings.inner)
    names = [p.name for p in chosen]
    store = (
        Checkpoint(checkpoint, checkpoint_key(base, through, settings, names))
        if checkpoint is not None
        else None
    )
    done = store.load() if store is not None else {}

    def plan(cases: list[tuple[str, float, dict[str, float]]], seeds: range) -> list:
        return [
            (
                (name, value, s),
                replace(
                    template,
                    window=window.model_copy(update={"seed": window.seed + s}),
                    values=values,
                ),
            )
            for name, value, values in cases
            for s in seeds
        ]

    cases = [("", math.nan, point)] + [
        (p.name, v, {**point, p.name: v})
        for p in chosen
        for v in grid(p, point[p.name], settings.points).tolist()
    ]
    first = plan(cases, range(settings.seeds))
    say(
        f"{len(first)} evaluations ({len(chosen)} strengths x {settings.points} values x "
        f"{settings.seeds} seeds, and the point)"
    )

    def timed(msg: str) -> None:
        say(f"{msg} ({time.perf_counter() - t0:.0f} s)")

    rows, point_terms = _run(first, done, store, executor, timed)
    frame = pd.DataFrame(rows, columns=list(SLICE_COLUMNS))
    point_loss = float(frame.loc[frame["parameter"] == "", "loss"].mean())
    spread = dispersion(point_loss, obs)
    inflation = variance_inflation(point_terms)
    threshold = float(chi2.ppf(0.9, 1) * spread * inflation)
    # a value that looks better than the point is evaluated again at other seeds: among
    # some 170 values, a few beat the point's seeds by luck (the common seeds couple a
    # value to the point only partly: a changed strength changes which random numbers
    # every later draw takes)
    diffs = differences(frame)
    looks_better = diffs[_better(diffs, threshold)]
    best = looks_better.loc[looks_better.groupby("parameter")["delta"].idxmin()]
    evaluations = len(first)
    if len(best) and settings.confirm_seeds:
        again = plan(
            [("", math.nan, point)]
            + [(r.parameter, r.value, {**point, r.parameter: r.value}) for r in best.itertuples()],
            range(settings.seeds, settings.seeds + settings.confirm_seeds),
        )
        say(
            f"{len(best)} values look better than the point: each evaluated at "
            f"{settings.confirm_seeds} more seeds ({len(again)} evaluations)"
        )
        more, _ = _run(again, done, store, executor, timed)
        frame = pd.concat(
            [frame, pd.DataFrame(more, columns=list(SLICE_COLUMNS))], ignore_index=True
        )
        evaluations += len(again)
    table = judge(frame, point, chosen, threshold, settings.seeds + settings.confirm_seeds)
    return Slices(
        frame,
        table,
        threshold,
        spread,
        inflation,
        point_loss,
        evaluations,
        time.perf_counter() - t0,
        settings,
    )


def _run(
    planned: list,
    done: dict,
    store: Checkpoint | None,
    executor: Executor | None,
    say: Callable[[str], None],
) -> tuple[list[dict[str, object]], pd.DataFrame | None]:
    """Rows of the planned (label, trial) evaluations, reusing and keeping finished ones;
    and the loss terms of the first of the point's (the first planned) when evaluated."""
    labels = [lab for lab, _ in planned]
    todo = [i for i, lab in enumerate(labels) if lab[0] == "" or lab not in done]
    if len(todo) < len(planned):
        say(f"resuming: {len(planned) - len(todo)} evaluations done, {len(todo)} to go")
    rows = {i: done[lab] for i, lab in enumerate(labels) if lab[0] != "" and lab in done}
    point_terms = None
    step = max(1, len(todo) // 20)
    tasks = [planned[i][1] for i in todo]
    found = map(evaluate, tasks) if executor is None else executor.map(evaluate, tasks)
    for k, (i, r) in enumerate(zip(todo, found, strict=True)):
        rows[i] = _row(*labels[i], r)
        if i == 0:  # the point at the first seed: its terms set the threshold
            point_terms = r[2]
        if store is not None and labels[i][0] != "":
            store.append(rows[i])
        if (k + 1) % step == 0:
            say(f"  {k + 1}/{len(todo)}")
    return [rows[i] for i in range(len(planned))], point_terms


def _better(d: pd.DataFrame, threshold: float) -> pd.Series:
    """Values whose mean loss is below the point's by more than the threshold and the
    one-sided 90% noise band of the difference (the interval's criterion, mirrored)."""
    return d["delta"] < -threshold - NOISE_Z * d["delta_se"]


def differences(frame: pd.DataFrame) -> pd.DataFrame:
    """Per parameter and value: the mean loss difference from the point over the common
    seeds, its standard error, and the means of the fit figures."""
    base = frame[frame["parameter"] == ""].set_index("seed")["loss"]
    rows = frame[frame["parameter"] != ""].copy()
    rows["delta"] = rows["loss"].to_numpy() - base.reindex(rows["seed"]).to_numpy()
    g = rows.groupby(["parameter", "value"], sort=False)
    out = g.agg(
        delta=("delta", "mean"),
        delta_sd=("delta", "std"),
        n=("delta", "size"),
        stocks_within=("stocks_within", "mean"),
        change_may_sep=("change_may_sep", "mean"),
    ).reset_index()
    out["delta_se"] = (out["delta_sd"] / np.sqrt(out["n"])).fillna(0.0)
    return out.drop(columns=["delta_sd"])


def judge(
    frame: pd.DataFrame,
    point: dict[str, float],
    chosen: Sequence[P.Parameter],
    threshold: float,
    confirmed: int = 0,
) -> pd.DataFrame:
    """The verdict per strength: the slice interval (grid values, the estimate included,
    whose loss is within the threshold of the point's, allowing for noise), its width on
    the prior's scale, and whether a grid value evaluated at `confirmed` seeds or more
    beats the point by more than the threshold and the noise."""
    diffs = differences(frame)
    at_point = frame[frame["parameter"] == ""]
    rows = []
    for p in chosen:
        d = diffs[diffs["parameter"] == p.name].sort_values("value")
        lo, hi = interval(p, d, point[p.name], threshold)
        width = float(p.to_unit(hi) - p.to_unit(lo))
        better = d[_better(d, threshold) & (d["n"] >= confirmed)]
        best = better.loc[better["delta"].idxmin()] if len(better) else None
        rows.append(
            {
                "parameter": p.name,
                "prior_low": p.low,
                "prior_high": p.high,
                "estimate": point[p.name],
                "slice_lo": lo,
                "slice_hi": hi,
                "width_vs_prior": width,
                "max_rise": float(d["delta"].max()) if len(d) else np.nan,
                "better_value": float(best["value"]) if best is not None else np.nan,
                "better_by": float(-best["delta"]) if best is not None else np.nan,
                "stocks_at_point": float(at_point["stocks_within"].mean()),
                "stocks_at_better": float(best["stocks_within"]) if best is not None else np.nan,
                "verdict": verdict(width, best is not None),
            }
        )
    return pd.DataFrame(rows)


def interval(
    p: P.Parameter, d: pd.DataFrame, estimate: float, threshold: float
) -> tuple[float, float]:
    """The slice interval: from the estimate outwards, up to where the mean difference first
    exceeds the threshold plus the noise of the difference, the crossing interpolated
    linearly between grid values on the prior's scale (so a coarse grid does not shrink the
    interval to the estimate); the grid's end where it never does. The loss is convex
    near its minimum, so the chord crosses before the loss does: with a coarse grid the
    interval errs narrow, never wide (a flat verdict stays conclusive)."""
    x = np.append(d["value"].to_numpy(dtype=float), estimate)
    excess = np.append(
        d["delta"].to_numpy(dtype=float) - threshold - NOISE_Z * d["delta_se"].to_numpy(),
        -threshold,
    )
    order = np.argsort(x, kind="stable")
    x, excess = x[order], excess[order]
    u = p.to_unit(x)
    at = int(np.flatnonzero(x == estimate)[0])
    ends = []
    for step in (-1, 1):
        i = at
        while 0 <= i + step < len(x) and excess[i + step] <= 0:
            i += step
        j = i + step
        if not 0 <= j < len(x):
            ends.append(x[i])
            continue
        f = excess[i] / (excess[i] - excess[j])  # excess[i] <= 0 < excess[j]
        uc = u[i] + f * (u[j] - u[i])
        ends.append(p.from_unit(uc))
    return float(min(ends)), float(max(ends))


def verdict(width: float, better: bool) -> str:
    """Flat (not identified) when the slice interval covers at least IDENTIFIED_RATIO of the
    prior, as the calibration's table judges its posterior intervals."""
    what = "not identified (flat slice)" if width >= IDENTIFIED_RATIO else "constrained"
    return what + ("; a grid value fits better" if better else "")


def confirmed_values(path: Path, current: Mapping[str, float]) -> dict[str, float]:
    """The values an identification (`identification.csv`) confirmed as fitting better than
    its point, to start a calibration from (`migsim calibrate --start`).

    Only values confirmed at more seeds are read (`better_value`), and only from slices
    taken at the point `current` describes: a slice about another point says nothing about
    where to go from this one. Raises ValueError naming the file and the field."""
    try:
        table = pd.read_csv(path, dtype={"parameter": str})
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not an identification table ({e})") from e
    missing = {"parameter", "estimate", "better_value"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: no column {', '.join(sorted(missing))}")
    known = {p.name: p for p in P.PARAMETERS}
    out: dict[str, float] = {}
    for row in table.itertuples(index=False):
        p = known.get(row.parameter)
        if p is None:
            raise ValueError(f"{path}: parameter {row.parameter!r} is not a calibrated strength")
        here = current[p.name]  # each slice holds all the other strengths at the point
        if not math.isclose(float(row.estimate), here, rel_tol=1e-3, abs_tol=1e-9):
            raise ValueError(
                f"{path}: estimate of {p.name} is {row.estimate:g}, the scenario's is {here:g}: "
                "the slices were taken at another point"
            )
        if not np.isfinite(row.better_value):
            continue
        if not p.low <= row.better_value <= p.high:
            raise ValueError(f"{path}: better_value of {p.name} is outside its prior")
        out[p.name] = int(round(row.better_value)) if p.integer else float(row.better_value)
    return out
