"""Global sensitivity of outcomes to the levers of a sweep file (SALib: Morris or Sobol).

Samples live on the unit cube, one axis per lever, mapped to lever values the same way as
a Latin-hypercube sweep (a value list becomes equal slices of the axis). So Morris
elementary effects are per full lever range and comparable across levers. Each sample
point runs `reps` replications with common random numbers; the outcome of a point is the
mean over its replications of a per-run total (`encounters`, `peak_in_custody`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import chartstyle as cs
from sim.batch.errors import BatchUsageError
from sim.batch.executors import Opened
from sim.batch.orchestrate import BatchResult, execute_batch
from sim.batch.store import write_csv, write_json, write_parquet, write_with
from sim.batch.sweepfile import Sweep

METHODS = ("morris", "sobol")
INDEX_COLUMNS = {
    "morris": ["mu", "mu_star", "sigma", "mu_star_conf"],
    "sobol": ["S1", "S1_conf", "ST", "ST_conf"],
}


def import_salib() -> Any:
    try:
        import SALib
    except ImportError:
        raise BatchUsageError(
            "sensitivity needs SALib, an optional extra: pip install 'migsim[sensitivity]'"
        ) from None
    return SALib


def problem(sweep: Sweep) -> dict[str, Any]:
    names = [lv.label for lv in sweep.levers]
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def sample(method: str, sweep: Sweep) -> np.ndarray:
    """The unit-cube sample for `method` (seeded by the sweep file's sensitivity.seed)."""
    import_salib()
    s = sweep.spec.sensitivity
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem(sweep), N=s.trajectories, num_levels=s.levels, seed=s.seed)
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem(sweep), s.samples, calc_second_order=False, seed=s.seed)
    raise BatchUsageError(f"unknown method {method!r} (choose from {', '.join(METHODS)})")


def outcome_matrix(
    totals: pd.DataFrame, points: Sequence[str], outcomes: Sequence[str]
) -> pd.DataFrame:
    """Per point (rows, in sample order) and outcome (columns): mean over replications.

    A total a run does not contain was zero; a point without any finished run is NaN.
    """
    t = totals[(totals["agreement"] == "") & totals["indicator"].isin(list(outcomes))]
    per_run = t.pivot_table(
        index=["point", "replication"], columns="indicator", values="value", aggfunc="first"
    )
    runs = totals[["point", "replication"]].drop_duplicates()
    per_run = per_run.reindex(pd.MultiIndex.from_frame(runs), columns=list(outcomes)).fillna(0.0)
    return per_run.groupby(level="point").mean().reindex(list(points))


def analyse(method: str, sweep: Sweep, unit: np.ndarray, y: pd.DataFrame) -> pd.DataFrame:
    """One row per outcome and lever with the method's indices and confidence intervals."""
    s = sweep.spec.sensitivity
    prob = problem(sweep)
    rows = []
    for outcome in y.columns:
        values = y[outcome].to_numpy("float64")
        if method == "morris":
            from SALib.analyze import morris

            res = morris.analyze(prob, unit, values, num_levels=s.levels, seed=s.seed)
        else:
            from SALib.analyze import sobol

            res = sobol.analyze(prob, values, calc_second_order=False, seed=s.seed)
        for j, lv in enumerate(sweep.levers):
            row = {"method": method, "outcome": outcome, "lever": lv.label, "path": lv.path}
            row.update({c: float(np.asarray(res[c])[j]) for c in INDEX_COLUMNS[method]})
            rows.append(row)
    return pd.DataFrame(rows)


def chart(table: pd.DataFrame, method: str, path: Path, prov: cs.Provenance | None = None) -> None:
    """One panel per outcome, levers ranked: Morris mu* (bar, with its 95% interval) and
    sigma (diamond), or Sobol S1 and ST with their intervals."""
    from matplotlib.figure import Figure  # only when drawing (`--no-charts` never needs it)

    outcomes = list(dict.fromkeys(table["outcome"]))
    levers = table["lever"].nunique()
    ncols = min(2, len(outcomes))
    nrows = -(-len(outcomes) // ncols)
    fig = Figure(
        figsize=(6.0 * ncols + 1.5, (0.5 * levers + 1.6) * nrows + 1.2), layout="constrained"
    )
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(outcomes) :]:
        ax.set_visible(False)
    for ax, outcome in zip(axes, outcomes, strict=False):
        d = ranked(table[table["outcome"] == outcome], method)
        y = np.arange(len(d))
        if method == "morris":
            ax.barh(
                y,
                d["mu_star"],
                xerr=d["mu_star_conf"],
                color=cs.COLORS[0],
                capsize=3,
                height=0.6,
                label="mu* (mean |effect|)",
            )
            ax.plot(d["sigma"], y, "D", color=cs.COLORS[1], label="sigma (spread of effects)")
            cs.count_axis(ax, "persons, per full lever range", horizontal=True)
        else:
            ax.barh(
                y - 0.2, d["S1"], 0.4, xerr=d["S1_conf"], label="S1 (alone)", color=cs.COLORS[0]
            )
            ax.barh(
                y + 0.2,
                d["ST"],
                0.4,
                xerr=d["ST_conf"],
                label="ST (with interactions)",
                color=cs.COLORS[1],
            )
            ax.set_xlabel("Share of the outcome's variance")
            ax.grid(axis="x", color="#dddddd", lw=0.7)
            ax.spines[["top", "right"]].set_visible(False)
        ax.set_yticks(y, [cs.wrap(str(v), 22) for v in d["lever"]])
        ax.set_ylim(len(d) - 0.5, -0.5)
        ax.set_xlim(left=0)
        ax.margins(x=0.08)
        ax.set_axisbelow(True)
        ax.set_title(outcome.replace("_", " "), loc="left", fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper right", fontsize=8, frameon=False, ncols=2)
    name = "Morris elementary effects" if method == "morris" else "Sobol indices"
    fig.suptitle(
        f"Sensitivity of each outcome to the levers ({name}), most influential first",
        x=0.01,
        ha="left",
    )
    conf = "95% bootstrap intervals" if method == "morris" else "95% confidence intervals"
    cs.footer(fig, prov, f"Error bars: {conf} (SALib).")
    cs.save(fig, path, write_with)


def ranked(rows: pd.DataFrame, method: str) -> pd.DataFrame:
    """Levers of one outcome, most influential first (mu* for Morris, ST for Sobol)."""
    key = "mu_star" if method == "morris" else "ST"
    return rows.sort_values(key, ascending=False, kind="stable")


class IncompleteDesign(Exception):
    """Some sample points have no finished run, so indices cannot be computed."""


def run_sensitivity(
    sweep: Sweep,
    method: str,
    opened: Opened,
    out: str | Path | None,
    *,
    outcomes: Sequence[str] | None = None,
    reps: int | None = None,
    charts: bool = True,
    progress: bool = True,
    manifest_extra: Mapping[str, Any] | None = None,
) -> tuple[BatchResult, pd.DataFrame]:
    """Sample, run every point `reps` times (default: the file's sensitivity.reps, else its
    reps), and compute the indices per outcome."""
    outcomes = list(outcomes or sweep.spec.sensitivity.outcomes)
    reps = reps or sweep.spec.sensitivity.reps or sweep.reps
    unit = sample(method, sweep)
    points = sweep.unit_points(unit)
    labels = [p.label for p in points]
    extra = {**dict(manifest_extra or {}), "sensitivity": {"method": method, "outcomes": outcomes}}
    result = execute_batch(
        points,
        reps,
        opened,
        out,
        kind="sensitivity",
        charts=False,
        progress=progress,
        manifest_extra=extra,
    )
    y = outcome_matrix(result.totals, labels, outcomes)
    missing = [p for p in labels if y.loc[p].isna().any()]
    if missing:
        raise IncompleteDesign(
            f"{len(missing)} of {len(labels)} sample points have no finished run "
            f"(e.g. {missing[0]}); rerun the same command to retry them"
        )
    table = analyse(method, sweep, unit, y)
    if out is not None:
        root = Path(out)
        sample_table = pd.DataFrame(unit, columns=[lv.label for lv in sweep.levers])
        sample_table.insert(0, "point", labels)
        write_parquet(root / f"sample_{method}.parquet", sample_table)
        write_parquet(root / f"sensitivity_{method}.parquet", table)
        write_csv(root / f"sensitivity_{method}.csv", table)
        if charts:
            s0 = points[0].scenario
            name = f"charts/sensitivity_{method}.png"
            chart(table, method, root / name, cs.Provenance(s0.name, s0.scale, reps, s0.seed))
            result.manifest["charts"] = [*result.manifest.get("charts", []), name]
            write_json(root / "manifest.json", result.manifest)
    return result, table
