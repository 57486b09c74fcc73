"""Batch and sweep charts: scenarios over time with 90% bands, weekly transfers against
each point's cap, paired differences, and (sweeps) outcomes against the lever values.

Weekly series (flows summed over the week, stocks averaged) with the median across
replications and a 5%-95% band; weeks start on the agreement's start, as caps count them.
Differences against the reference are computed per replication first (common random
numbers), which is why their bands are narrow. Lines are named by lever values, identical
points are drawn once, and the style (footer, policy dates, formats) is `sim.chartstyle`'s.
Uses matplotlib's object API (no pyplot state), so charts can be drawn from any thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim import chartstyle as cs
from sim.batch.names import value_text
from sim.batch.store import write_with
from sim.intervals import band_words

MAX_LINES = 8  # more distinct points than this: the rest are named in the chart's footer
TITLES = {
    "encounters": ("Weekly encounters", "Persons per week"),
    "in_custody": ("In CBP custody, weekly mean", "Persons in custody"),
    "transferred": ("Weekly transfers under agreements", "Persons per week"),
}


@dataclass(frozen=True)
class Context:
    """What every chart of one batch needs besides its data."""

    names: dict[str, str]  # point label -> name shown (lever values for sweep points)
    drawn: list[str]  # distinct points, in design order
    same_as: dict[str, str] = field(default_factory=dict)  # repeated point -> drawn one
    prov: cs.Provenance | None = None
    markers: list[cs.Marker] = field(default_factory=list)
    notes: tuple[str, ...] = ()  # e.g. "scales differ"

    def name(self, label: str) -> str:
        return self.names.get(label, label)

    @property
    def reps(self) -> int | None:
        """Replications per point (None if unknown): below 20 bands are called ranges."""
        return self.prov.reps if self.prov else None

    def shown(self, exclude: str | None = None) -> tuple[list[str], str]:
        """The points drawn (at most MAX_LINES) and the note saying what is left out."""
        pool = [p for p in self.drawn if p != exclude]
        shown = pool[:MAX_LINES]
        note = cs.omitted(shown, len(pool), "distinct points")
        if note:
            left = ", ".join(self.name(p) for p in pool[MAX_LINES:])
            note = f"{note} Not drawn: {left}."
        if self.same_as:
            note = " ".join(
                [
                    note,
                    f"{len(self.same_as)} design points repeat another's lever values and "
                    "are drawn once.",
                ]
            ).strip()
        return shown, note


def _save(fig: Figure, path: Path) -> None:
    cs.save(fig, path, write_with)


def _footer(fig: Figure, ctx: Context, *notes: str) -> None:
    cs.footer(fig, ctx.prov, *ctx.notes, *notes)


def _timeline(ax: Axes, ctx: Context, x: pd.Series, ylabel: str) -> str:
    """Shared time axis: limited to the data, policy dates numbered; returns their key."""
    cs.limit_to_data(ax, x)
    cs.count_axis(ax, ylabel)
    lo, hi = (pd.Timestamp(v) for v in pd.to_datetime(pd.Series(list(x))).agg(["min", "max"]))
    return cs.mark_dates([ax], cs.in_range(ctx.markers, lo, hi))


def _lines(ax: Axes, table: pd.DataFrame, points: Sequence[str], ctx: Context) -> None:
    for i, point in enumerate(points):
        d = table[table["point"] == point]
        if d.empty:
            continue
        c = cs.COLORS[i % len(cs.COLORS)]
        ax.fill_between(d["week"], d["q05"], d["q95"], color=c, alpha=0.2, linewidth=0)
        ax.plot(d["week"], d["median"], color=c, label=ctx.name(point), linewidth=1.5)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)


def band_chart(weekly_bands: pd.DataFrame, metric: str, ctx: Context, path: Path) -> bool:
    table = weekly_bands[weekly_bands["metric"] == metric]
    if table.empty:
        return False
    shown, note = ctx.shown()
    title, unit = TITLES.get(metric, (metric, "Persons"))
    fig = Figure(figsize=(12, 5), layout="constrained")
    ax = fig.add_subplot()
    _lines(ax, table, shown, ctx)
    key = _timeline(ax, ctx, table["week"], unit)
    ax.set_title(f"{title}: median and {band_words(ctx.reps)}", loc="left")
    _footer(fig, ctx, key, note)
    _save(fig, path)
    return True


def difference_chart(
    weekly_diffs: pd.DataFrame, metric: str, reference: str, ctx: Context, path: Path
) -> bool:
    table = weekly_diffs[weekly_diffs["metric"] == metric]
    if table.empty:
        return False
    shown, note = ctx.shown(exclude=reference)
    title, unit = TITLES.get(metric, (metric, "Persons"))
    fig = Figure(figsize=(12, 5), layout="constrained")
    ax = fig.add_subplot()
    ax.axhline(0.0, color="grey", linewidth=0.8)
    _lines(ax, table, shown, ctx)
    key = _timeline(ax, ctx, table["week"], f"Difference, {unit.lower()}")
    ax.set_title(
        f"{title}: difference from {ctx.name(reference)}, paired by replication "
        f"(median, {band_words(ctx.reps)})",
        loc="left",
    )
    _footer(fig, ctx, key, note)
    _save(fig, path)
    return True


def transfers_chart(weekly: pd.DataFrame, ctx: Context, path: Path) -> bool:
    """Weekly transfers (median, 5–95% band) per agreement, each point's cap as a dashed
    step in its colour; weeks start on the agreement's start, as the cap counts them."""
    if weekly.empty:
        return False
    agreements = list(dict.fromkeys(weekly["agreement"]))
    shown, note = ctx.shown()
    fig = Figure(figsize=(12, 1.2 + 3.6 * len(agreements)), layout="constrained")
    axes = fig.subplots(len(agreements), 1, squeeze=False, sharex=True)[:, 0]
    for ax, agr in zip(axes, agreements, strict=True):
        d = weekly[weekly["agreement"] == agr]
        stats = d.groupby(["point", "week"])["transferred"].quantile([0.05, 0.5, 0.95])
        stats = stats.unstack().reset_index()
        caps = d.groupby(["point", "week"])["cap"].max().reset_index()
        for i, point in enumerate(shown):
            c = cs.COLORS[i % len(cs.COLORS)]
            s = stats[stats["point"] == point]
            k = caps[caps["point"] == point]
            if s.empty:
                continue
            s, k = _close_last_week(s), _close_last_week(k)
            ax.fill_between(s["week"], s[0.05], s[0.95], step="post", color=c, alpha=0.2, lw=0)
            ax.step(s["week"], s[0.5], where="post", color=c, lw=1.6, label=ctx.name(point))
            ax.step(k["week"], k["cap"], where="post", color=c, lw=1.0, ls="--")
        ax.set_title(f"{agr}: persons transferred per week (dashed: weekly cap)", loc="left")
        cs.count_axis(ax, "Persons per week")
        ax.set_ylim(bottom=0)
    cs.limit_to_data(axes[0], weekly["week"])
    lo, hi = weekly["week"].min(), weekly["week"].max()
    key = cs.mark_dates(list(axes), cs.in_range(ctx.markers, lo, hi))
    axes[0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    _footer(
        fig,
        ctx,
        "Weeks counted from each agreement's start date, as its cap is; the cap drawn is the "
        "largest in force on a day of the week.",
        key,
        note,
    )
    _save(fig, path)
    return True


def _close_last_week(rows: pd.DataFrame) -> pd.DataFrame:
    """Repeat the last week's row 7 days on: a `post` step then draws the last week too."""
    if rows.empty:
        return rows
    last = rows.iloc[[-1]].assign(week=rows["week"].iloc[-1] + pd.Timedelta(days=7))
    return pd.concat([rows, last], ignore_index=True)


def totals_difference_chart(
    diffs: pd.DataFrame, indicators: Sequence[str], reference: str, ctx: Context, path: Path
) -> bool:
    d = diffs[(diffs["agreement"] == "") & diffs["indicator"].isin(list(indicators))]
    present = [i for i in indicators if i in set(d["indicator"])]
    if d.empty or not present:
        return False
    shown, note = ctx.shown(exclude=reference)
    ncols = min(3, len(present))
    nrows = -(-len(present) // ncols)
    fig = Figure(
        figsize=(4.6 * ncols + 2.5, (0.45 * len(shown) + 1.4) * nrows + 1.0), layout="constrained"
    )
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(present) :]:
        ax.set_visible(False)
    y = list(range(len(shown)))
    labels = [cs.wrap(ctx.name(p), 34) for p in shown]
    for k, (ax, ind) in enumerate(zip(axes, present, strict=False)):
        rows = d[d["indicator"] == ind].set_index("point").reindex(shown).fillna(0.0)
        err = [rows["mean"] - rows["q05"], rows["q95"] - rows["mean"]]
        ax.errorbar(rows["mean"], y, xerr=err, fmt="o", color=cs.COLORS[0], capsize=3)
        ax.axvline(0.0, color="grey", linewidth=0.8)
        ax.set_yticks(y, labels if k % ncols == 0 else [""] * len(shown), fontsize=8)
        ax.set_ylim(len(shown) - 0.5, -0.5)
        ax.set_title(ind.replace("_", " "), fontsize=9)
        cs.count_axis(ax, "persons", horizontal=True)
        ax.margins(x=0.1)
    fig.suptitle(
        f"Total over the period minus {ctx.name(reference)}: mean and "
        f"{band_words(ctx.reps, 'interval')}",
        x=0.01,
        ha="left",
    )
    _footer(fig, ctx, note)
    _save(fig, path)
    return True


def surface_chart(
    per_point: pd.DataFrame,
    levers: Sequence[str],
    outcomes: Sequence[str],
    ctx: Context,
    path: Path,
) -> bool:
    """Sweep outcomes against the first lever's values, one line per value of the others.

    `per_point`: one row per distinct point with the lever columns and, per outcome, its
    mean and 5–95% interval (`<outcome>`, `<outcome>_q05`, `<outcome>_q95`).
    """
    present = [o for o in outcomes if o in per_point.columns]
    if per_point.empty or not levers or not present:
        return False
    x_lever, others = levers[0], list(levers[1:])
    ncols = min(2, len(present))
    nrows = -(-len(present) // ncols)
    fig = Figure(figsize=(6.2 * ncols + 2.6, 3.6 * nrows + 1.0), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(present) :]:
        ax.set_visible(False)
    groups = per_point.groupby(others, sort=False, dropna=False) if others else [((), per_point)]
    numeric = pd.api.types.is_numeric_dtype(per_point[x_lever])
    ticks = list(dict.fromkeys(per_point[x_lever].map(value_text)))
    for ax, outcome in zip(axes, present, strict=False):
        for i, (key, g) in enumerate(groups):
            g = g.sort_values(x_lever) if numeric else g
            x = (
                g[x_lever].to_numpy()
                if numeric
                else [ticks.index(value_text(v)) for v in g[x_lever]]
            )
            label = _group_label(others, key)
            c = cs.COLORS[i % len(cs.COLORS)]
            err = np.vstack([g[outcome] - g[f"{outcome}_q05"], g[f"{outcome}_q95"] - g[outcome]])
            ax.errorbar(x, g[outcome], yerr=err, fmt="o-", color=c, capsize=3, label=label)
        if not numeric:
            ax.set_xticks(range(len(ticks)), [cs.wrap(t, 16) for t in ticks], fontsize=8)
        else:
            ax.xaxis.set_major_formatter(cs.THOUSANDS)
        ax.set_xlabel(x_lever)
        cs.count_axis(ax, outcome.replace("_", " "))
        ax.set_xlabel(x_lever)
        ax.margins(x=0.06, y=0.1)
    if others:
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle(
        f"Outcomes against {x_lever}: mean and {band_words(ctx.reps, 'interval')}",
        x=0.01,
        ha="left",
    )
    _footer(fig, ctx)
    _save(fig, path)
    return True


def _group_label(levers: Sequence[str], key: object) -> str:
    if not levers:
        return ""
    values = key if isinstance(key, tuple) else (key,)
    return " · ".join(f"{n} {value_text(v)}" for n, v in zip(levers, values, strict=False))
