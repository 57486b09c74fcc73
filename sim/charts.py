"""Slide-ready PNG charts for one run, written into every results folder.

Four charts, always the same file names (so folders can be compared side by side):
monthly encounters by nationality, custody against holding capacity, weekly transfers
against each agreement's cap, and monthly outcomes by group. Every time chart carries the
scenario's policy dates, because the first question about any bump is "what changed then?".
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

# No pyplot and no matplotlib.use(): the charts are plain Figures drawn by Agg into files,
# so writing them never touches a notebook's backend or pyplot's list of open figures.
import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from sim.chartlist import RUN_CHARTS, skipped_run_charts
from sim.chartstyle import (
    AGREEMENT_COLOR,
    DPI,
    POLICY_COLOR,
    THOUSANDS,
    Marker,
    draw_rgba,
    footer,
    of_scenario,
    png_bytes,
    policy_markers,
)
from sim.domain import GROUPS, NATIONALITIES  # noqa: E402
from sim.scenario.schema import Agreement  # noqa: E402

if TYPE_CHECKING:
    from sim.results import RunResult

FIG_WIDTH = 12.0  # inches
PLOT_WIDTH = 8.0  # inches left for the plotting area (legend column and y labels take the rest)
MARKER_FONT = 8.0  # points
NAT_LABEL = {
    "mexico": "Mexico",
    "guatemala": "Guatemala",
    "honduras": "Honduras",
    "el_salvador": "El Salvador",
    "other": "Other",
}
GROUP_LABEL = {
    "single_adult": "Single adults",
    "family": "Family-unit members",
    "unaccompanied_child": "Unaccompanied children",
}
# Okabe-Ito colours: distinguishable for colour-blind readers.
NAT_COLOR = {
    "mexico": "#E69F00",
    "guatemala": "#56B4E9",
    "honduras": "#009E73",
    "el_salvador": "#0072B2",
    "other": "#D55E00",
}
GROUP_COLOR = {"single_adult": "#0072B2", "family": "#E69F00", "unaccompanied_child": "#009E73"}
OUTCOMES = {  # metric -> (label, colour), in stacking order
    "removed": ("Removed", "#D55E00"),
    "released": ("Released (notice to appear)", "#56B4E9"),
    "detained": ("Detained (ICE)", "#0072B2"),
    "mpp_enrolled": ("Returned to Mexico (MPP)", "#E69F00"),
    "transferred": ("Transferred (ACA)", "#CC79A7"),
    "hhs_referred": ("Referred to HHS", "#009E73"),
}


def write_run_charts(
    result: RunResult, folder: Path, only: Collection[str] | None = None
) -> list[Path]:
    """Write the four standard charts (or those of them named in `only`) into `folder`;
    returns the written paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    charts: dict[str, Callable[[RunResult], Figure]] = {
        "encounters_by_nationality.png": _encounters_chart,
        "custody.png": _custody_chart,
        "transfers_vs_cap.png": _transfers_chart,
        "dispositions_by_group.png": _dispositions_chart,
    }
    assert tuple(charts) == RUN_CHARTS
    skipped = skipped_run_charts(result)
    todo = [
        (folder / name, draw)
        for name, draw in charts.items()
        if f"charts/{name}" not in skipped and (only is None or name in only)
    ]
    # As during the run (`sim.model.Model.run`), the cyclic garbage collector is paused: set
    # off by the charts' many small objects, it would traverse the run's long-lived ones
    # (~200,000) over and over. Each chart's own garbage (a figure is a web of reference
    # cycles) is collected once it is drawn: it is all in the young generation.
    # A chart's PNG is encoded and written by a second thread while the next chart is made
    # and drawn: zlib and numpy let go of the interpreter's lock, so on a machine with a
    # second core the encoding costs no time (the charts are made in the calling thread:
    # matplotlib holds the lock throughout).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="migsim-png") as encoder:
            writing = []
            for path, draw in todo:
                pixels = draw_rgba(draw(result))  # keeps its renderer's buffer alive
                writing.append(encoder.submit(_write_png_bytes, path, pixels))
                gc.collect(0)
            for w in writing:
                w.result()  # an error writing a file is raised here
    finally:
        if gc_was_enabled:
            gc.enable()
    return [path for path, _ in todo]


def _write_png_bytes(path: Path, rgba: np.ndarray) -> None:
    path.write_bytes(png_bytes(rgba, DPI))


# ----------------------------------------------------------------------------- policy dates
def _label(m: Marker) -> str:
    return f"{m.label}\n{m.date:%d %b %Y}"


def _marker_rows(markers: list[Marker], lo: dt.date, hi: dt.date) -> list[tuple[int, bool]]:
    """Rows for the marker labels: (row from the top, right-aligned) for each marker.

    Labels never overlap; a row is chosen to keep a label clear of other markers' lines
    (which run from their label down to the plot) where possible, adding a row at the top
    or bottom when needed. Widths are estimated from the character count (DejaVu Sans
    averages about 0.55 em); a label that would run past the right edge is drawn leftwards.
    """
    days_per_inch = max((hi - lo).days, 1) / PLOT_WIDTH
    pad = 0.08 * days_per_inch
    placed: list[tuple[int, float, float, float]] = []  # row, left, right, line x (days)
    out = []
    for m in markers:
        chars = max(len(line) for line in _label(m).splitlines())
        width = chars * 0.55 * MARKER_FONT / 72 * days_per_inch + pad
        x = float((m.date - lo).days)
        right = x + width > (hi - lo).days
        left, end = (x - width, x) if right else (x, x + width)
        used = {p[0] for p in placed} or {0}
        costs = {
            r: _row_cost(placed, r, left, end, x, r not in used)
            for r in range(min(used) - 1, max(used) + 2)
        }
        row = min(costs, key=costs.__getitem__)
        placed.append((row, left, end, x))
        out.append((row, right))
    top = min((r for r, _ in out), default=0)
    return [(r - top, right) for r, right in out]


def _row_cost(
    placed: list[tuple[int, float, float, float]],
    r: int,
    left: float,
    end: float,
    x: float,
    new_row: bool,
) -> tuple[float, bool, int]:
    """Sort key of a candidate row: overlaps are forbidden, then fewest line crossings,
    then an existing row, then the topmost."""
    if any(p[0] == r and p[1] < end and left < p[2] for p in placed):
        return (float("inf"), new_row, r)
    crossings = sum(p[0] < r and left <= p[3] <= end for p in placed)  # their lines, my label
    crossings += sum(p[0] > r and p[1] <= x <= p[2] for p in placed)  # my line, their labels
    return (crossings, new_row, r)


def _timeline_figure(
    result: RunResult, title: str, lo: dt.date, hi: dt.date, nrows: int, panel_height: float
) -> tuple[Figure, list[Axes], list[Marker], Text]:
    """Figure with a policy-date strip on top of `nrows` panels sharing the x axis [lo, hi],
    and its title (`_finish` lays the figure out once everything is on it).

    Labels live in their own strip so they never cover data, whatever the scenario.
    """
    markers = [m for m in policy_markers(result.scenario) if lo <= m.date <= hi]
    rows = _marker_rows(markers, lo, hi)
    n_rows = max((r for r, _ in rows), default=-1) + 1
    strip_height = 0.1 + 0.3 * n_rows if markers else 0.01
    fig = Figure(
        figsize=(FIG_WIDTH, 1.0 + strip_height + nrows * panel_height),
        dpi=DPI,  # laid out and drawn once, at the resolution of the file (write_png)
        facecolor="white",
    )
    FigureCanvasAgg(fig)
    axes = fig.subplots(
        nrows + 1, 1, sharex=True, height_ratios=[strip_height] + [panel_height] * nrows
    )
    heading = fig.suptitle(title, fontsize=14, fontweight="bold")
    strip, panels = axes[0], list(axes[1:])
    strip.set_ylim(max(n_rows, 1), -0.05)
    strip.axis("off")
    colors = [AGREEMENT_COLOR if m.agreement else POLICY_COLOR for m in markers]
    if markers:  # one collection of lines: a collection for each costs more than its line
        days = [pd.Timestamp(m.date) for m in markers]
        strip.vlines(days, [row for row, _ in rows], n_rows, colors=colors, lw=1, ls="--")
    for m, color, (row, right) in zip(markers, colors, rows, strict=True):
        x = pd.Timestamp(m.date)
        strip.annotate(
            _label(m),
            (x, row),
            xytext=(-3 if right else 3, 0),
            textcoords="offset points",
            ha="right" if right else "left",
            va="top",
            fontsize=MARKER_FONT,
            linespacing=1.1,
            color=color,
        )
    for ax in panels:
        ax.set_xlim(pd.Timestamp(lo), pd.Timestamp(hi))
        # no x label (the dates say it): its empty text is placed here, not worked out by
        # matplotlib under the tick labels again at every layout pass and draw (it is
        # drawn as nothing and takes no room either way)
        ax.xaxis.set_label_coords(0.5, 0.0)
    return fig, panels, markers, heading


def _lay_out(fig: Figure, heading: Text, foot: Text) -> None:
    """Place the title, the footer and the column of axes exactly where matplotlib's
    constrained layout puts them (its pads and spacing, its two passes), without its general
    machinery (a constraint solver over every figure, grid and axes).

    Decorations (tick labels, titles, legends, the strip's labels) are measured around each
    axes at its place in the grid, the axes are placed to leave them room, then measured and
    placed once more, because some decorations move or change with the axes' size (a legend
    beside the axes, the number of y ticks).
    """
    rc = mpl.rcParams
    width, height = fig.get_size_inches()
    w_pad = rc["figure.constrained_layout.w_pad"] / width
    h_pad = rc["figure.constrained_layout.h_pad"] / height
    axes = fig.axes
    grid = axes[0].get_subplotspec().get_gridspec()
    nrows, ratios = grid.nrows, grid.get_height_ratios() or [1.0] * grid.nrows
    rows = [ax.get_subplotspec().rowspan.start for ax in axes]  # one row each, in order
    between = max(rc["figure.constrained_layout.hspace"] / 2 / nrows, h_pad)
    pads = [(h_pad if r == 0 else between, h_pad if r == nrows - 1 else between) for r in rows]
    renderer = fig.canvas.get_renderer()
    to_fig = fig.transFigure.inverted()

    def height_of(text: Text) -> float:
        return to_fig.transform_bbox(text.get_window_extent(renderer)).height

    heading.set_position((heading.get_position()[0], 1 - h_pad))
    foot.set_position((foot.get_position()[0], h_pad))
    top, bottom = height_of(heading) + 2 * h_pad, height_of(foot) + 2 * h_pad

    def margins(ax: Axes) -> tuple[float, float, float, float]:
        """Room its decorations take left, right, above and below `ax` (figure units)."""
        pos = ax.get_position(original=True)
        box = to_fig.transform_bbox(ax.get_tightbbox(renderer, for_layout_only=True))
        return (
            max(pos.x0 - box.x0, 0.0),
            max(box.x1 - pos.x1, 0.0),
            max(box.y1 - pos.y1, 0.0),
            max(pos.y0 - box.y0, 0.0),
        )

    for _ in range(2):
        room = [margins(ax) for ax in axes]
        # one column: the same left and right edges for all (room for the widest
        # decorations), heights in the grid's ratios, between the title and the footer
        left = w_pad + max(r[0] for r in room)
        right = w_pad + max(r[1] for r in room)
        above = [r[2] + p[0] for r, p in zip(room, pads, strict=True)]
        below = [r[3] + p[1] for r, p in zip(room, pads, strict=True)]
        unit = (1 - top - bottom - sum(above) - sum(below)) / sum(ratios[r] for r in rows)
        y = 1 - top
        for ax, r, a, b in zip(axes, rows, above, below, strict=True):
            h = unit * ratios[r]
            ax.set_position([left, y - a - h, 1 - left - right, h])
            y -= a + h + b
    heading.set_position((heading.get_position()[0], 1 - top + h_pad))
    heading.set_verticalalignment("bottom")


def _draw_markers(ax: Axes, markers: list[Marker]) -> None:
    """The dashed policy lines through a panel (labels are in the strip above): what
    `ax.axvline` draws for each, as one collection (a line artist each costs more)."""
    if not markers:
        return
    xs = ax.convert_xunits([pd.Timestamp(m.date) for m in markers])
    lines = LineCollection(
        [[(x, 0.0), (x, 1.0)] for x in xs],
        transform=ax.get_xaxis_transform(),  # x: dates, y: the panel's height
        colors=[AGREEMENT_COLOR if m.agreement else POLICY_COLOR for m in markers],
        linewidths=1.1,
        linestyles="--",
        alpha=0.8,
        zorder=4,
    )
    ax.add_collection(lines, autolim=False)


# ----------------------------------------------------------------------------- helpers
def monthly(frame: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Calendar-month totals (index = first of the month) of a daily series or frame."""
    return frame.resample("MS").sum()


def _daily_wide(rows: pd.DataFrame, by: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Tidy rows -> one column per `by` value (in sorted order), one row per reported day
    (missing days = 0): `rows.pivot_table(index="date", columns=by, values="value",
    aggfunc="sum")` on the reported days, summed in the same order, at a tenth of the cost."""
    days = pd.date_range(start, end - dt.timedelta(days=1), freq="D")
    day = (rows["date"].to_numpy() - np.datetime64(start, "D")) // np.timedelta64(1, "D")
    codes, names = pd.factorize(rows[by], sort=True)
    inside = (day >= 0) & (day < len(days))
    wide = np.zeros((len(days), len(names)))
    np.add.at(wide, (day[inside], codes[inside]), np.nan_to_num(rows["value"].to_numpy()[inside]))
    return pd.DataFrame(wide, index=days, columns=pd.Index(names, name=by))


def _month_span(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """Whole months covering the reported period [start, end): x limits of monthly charts."""
    lo = start.replace(day=1)
    hi = (pd.Timestamp(end - dt.timedelta(days=1)) + pd.offsets.MonthBegin(1)).date()
    return lo, hi


def _pad_months(ax: Axes, lo: dt.date, hi: dt.date) -> None:
    """A little room left and right, so the first and last month's bars do not touch the
    frame (the panels share the x axis, so one call sets them all)."""
    ax.set_xlim(pd.Timestamp(lo) - pd.Timedelta(days=8), pd.Timestamp(hi) + pd.Timedelta(days=4))


def _stacks(
    ax: Axes, table: pd.DataFrame, widths: list[float]
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray, np.ndarray]]]:
    """Where the stacked bars of `table`'s columns go: their left edges and widths (x
    units of `ax`, which learns the table's dates), and each column's bottoms and heights."""
    ax.xaxis.update_units(table.index)
    left = np.asarray(ax.convert_xunits(table.index), dtype=float)
    width = np.broadcast_to(np.asarray(widths, dtype=float), left.shape)
    bottom = np.zeros(len(table))
    columns = []
    for col in table.columns:
        height = table[col].to_numpy(dtype=float)
        columns.append((col, bottom, height))
        bottom = bottom + height
    return left, width, columns


def _stacked_bars(
    ax: Axes,
    table: pd.DataFrame,
    widths: list[float],
    colors: dict[str, str],
    labels: dict[str, str] | None,
) -> None:
    """Stack the columns of `table` as bars starting at each index date (widths in days);
    `labels` None leaves the bars out of any legend.

    The bars are those `ax.bar(align="edge")` makes (Rectangles sticking to their bottom,
    one BarContainer per column for the legend), added in one go: `ax.bar` works the
    axes' data limits out again for every bar, half the cost of building a chart.
    `colors` has a colour for every column. (The charts written to files draw the same
    bars at less cost: `_bar_collection`.)
    """
    left, width, columns = _stacks(ax, table, widths)
    corners = []
    for col, bottom, height in columns:
        bars = []
        for x, w, b, h in zip(left, width, bottom, height, strict=True):
            bar = Rectangle(
                (x, b),
                w,
                h,
                facecolor=colors[col],
                edgecolor="white",
                linewidth=0.4,
                zorder=2,
                label="_nolegend_",  # the column's container is in the legend
            )
            bar.sticky_edges.y.append(b)
            bars.append(ax.add_artist(bar))
        label = labels.get(col, col) if labels is not None else None
        ax.add_container(BarContainer(bars, datavalues=height, orientation="vertical", label=label))
        corners += [
            np.column_stack([left, bottom]),
            np.column_stack([left + width, bottom + height]),
        ]
    if corners:
        ax.update_datalim(np.concatenate(corners))
        ax.autoscale(enable=None)  # as ax.bar: limits worked out from the data when drawn


def _bar_collection(
    ax: Axes,
    table: pd.DataFrame,
    widths: list[float],
    colors: dict[str, str],
    labels: dict[str, str],
) -> None:
    """The bars of `_stacked_bars`, drawn the same (to the pixel) as one collection of
    rectangles instead of an artist each: a chart of ~20 months and 6 outcomes has ~120
    bars a panel, and each artist costs as much to make, lay out and draw as its whole
    collection. For the legend, each column's BarContainer holds one bar of its look that
    is not drawn. Only for charts nobody edits: a notebook's bars are `ax.patches`."""
    left, width, columns = _stacks(ax, table, widths)
    boxes, faces, bottoms = [], [], []
    for col, bottom, height in columns:
        top, right = bottom + height, left + width
        boxes.append(np.stack([[left, bottom], [right, bottom], [right, top], [left, top]]))
        faces += [colors[col]] * len(left)
        bottoms.append(bottom)
        look = Rectangle((0, 0), 1, 1, facecolor=colors[col], edgecolor="white", linewidth=0.4)
        label = labels.get(col, col)
        ax.add_container(BarContainer([look], datavalues=height, label=label))
    if not boxes:
        return
    # each column's (corner, xy, bar) -> (bar, corner, xy), the columns one after the other
    # (the order the patches would be drawn in)
    verts = np.concatenate([b.transpose(2, 0, 1) for b in boxes])
    bars = PolyCollection(
        verts,
        closed=True,
        facecolors=faces,
        edgecolors="white",
        linewidths=0.4,
        joinstyle="miter",  # a Rectangle's, where a collection's default is round
        capstyle="butt",
        zorder=2,
    )
    bars.sticky_edges.y.extend(np.concatenate(bottoms))  # each bar sticks to its bottom
    ax.add_collection(bars, autolim=False)
    ax.update_datalim(np.concatenate([verts[:, 0], verts[:, 2]]))
    ax.autoscale(enable=None)  # as ax.bar: limits worked out from the data when drawn


def _monthly_bars(ax: Axes, table: pd.DataFrame, colors: dict, labels: dict) -> None:
    """Stacked monthly bars, each spanning most of its own month on the date axis."""
    _bar_collection(ax, table, [0.85 * d for d in table.index.days_in_month], colors, labels)


class _MonthTicks(mdates.MonthLocator):
    """MonthLocator's ticks (the first of each month in view), without dateutil's rrule,
    and kept for as long as the view stays: a chart's layout and drawing ask each axis for
    its ticks a dozen times over."""

    _last: tuple[tuple[float, ...], np.ndarray] | None = None

    def __call__(self) -> np.ndarray:
        view = tuple(self.axis.get_view_interval())
        if self._last is None or self._last[0] != view:
            self._last = (view, np.asarray(super().__call__()))
        return self._last[1].copy()

    def tick_values(self, vmin: dt.datetime, vmax: dt.datetime) -> np.ndarray:
        first, last = vmin.year * 12 + vmin.month - 1, vmax.year * 12 + vmax.month - 1
        months = [
            dt.datetime(m // 12, m % 12 + 1, 1, tzinfo=self.tz) for m in range(first, last + 1)
        ]
        ticks = [t for t in months if vmin <= t <= vmax]
        return mdates.date2num(ticks or [vmin, vmax])  # no month start in view: the ends


class _MonthLabels(mdates.ConciseDateFormatter):
    """ConciseDateFormatter that keeps its last labels (asked for as often as the ticks)."""

    _last: tuple[tuple[float, ...], list[str]] | None = None

    def format_ticks(self, values: list[float]) -> list[str]:
        key = tuple(values)
        if self._last is None or self._last[0] != key:
            self._last = (key, super().format_ticks(values))
        return list(self._last[1])


def _style(ax: Axes, ylabel: str, legend_title: str | None = None) -> None:
    """Monthly ticks, thousands separators, light grid, legend outside on the right."""
    loc = _MonthTicks()
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(_MonthLabels(loc, show_offset=False))
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color="#dddddd", lw=0.7, zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=legend_title, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)


def _panel_title(ax: Axes, text: str) -> None:
    """Title at the top left of a panel. Its height is given, on the frame's top edge (the
    panels have no tick labels or offset text up there to clear), so that matplotlib does
    not work it out again from the y axis' whole extent at every layout pass and draw."""
    ax.set_title(text, loc="left", fontsize=11, y=1.0)


def _finish(fig: Figure, heading: Text, result: RunResult, *notes: str) -> Figure:
    """The footer (scenario, scale, replication and seed, plus chart notes:
    `sim.chartstyle.footer`), then the layout: the figure is ready to draw."""
    foot = footer(fig, of_scenario(result.scenario, replication=result.replication), *notes)
    _lay_out(fig, heading, foot)
    return fig


def _partial_note(start: dt.date, end: dt.date) -> str:
    """Footnote for months that the reported period covers only in part."""
    last = end - dt.timedelta(days=1)
    notes = [f"first month from {start:%d %b %Y}"] if start.day != 1 else []
    if end.day != 1:
        notes.append(f"last month to {last:%d %b %Y}")
    return ("Partial months: " + ", ".join(notes) + ".") if notes else ""


def _message(ax: Axes, text: str) -> None:
    """Say on the panel why it is empty (the file is still written)."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=14)
    ax.set_yticks([])


# ----------------------------------------------------------------------------- charts
def _encounters_chart(result: RunResult) -> Figure:
    s = result.scenario
    lo, hi = _month_span(s.start, s.end)
    fig, (ax,), markers, heading = _timeline_figure(
        result, "Southwest-border encounters by nationality, per month", lo, hi, 1, 5.0
    )
    _pad_months(ax, lo, hi)
    enc = result.daily[result.daily["metric"] == "encounters"]
    table = monthly(_daily_wide(enc, "nationality", s.start, s.end))
    table = table[[n for n in NATIONALITIES if n in table.columns]]
    if table.shape[1]:
        _monthly_bars(ax, table, NAT_COLOR, NAT_LABEL)
    else:
        _message(ax, "no encounters recorded")
    _draw_markers(ax, markers)
    _style(ax, "Encounters (persons per month)", "Nationality")
    return _finish(
        fig,
        heading,
        result,
        "Encounters = Border Patrol apprehensions + port-of-entry encounters. "
        + _partial_note(s.start, s.end),
    )


def _custody_chart(result: RunResult) -> Figure:
    s = result.scenario
    fig, (ax,), markers, heading = _timeline_figure(
        result, "People in CBP custody at the border, end of each day", s.start, s.end, 1, 5.0
    )
    custody = result.series("in_custody")
    over72 = result.series("custody_over_72h")
    ax.plot(custody.index, custody.values, color="#0072B2", lw=1.3, label="In custody", zorder=3)
    if len(over72):
        ax.plot(
            over72.index,
            over72.values,
            color="#D55E00",
            lw=1.2,
            zorder=3,
            label="of whom held > 72 hours",
        )
    cap = s.border.holding_capacity
    ax.axhline(cap, color="black", lw=1.5, ls="-.", label=f"Holding capacity ({cap:,})")
    top = max([cap, *custody.values, *over72.values])
    ax.set_ylim(min([0.0, *over72.values]), top * 1.1)
    _draw_markers(ax, markers)
    _style(ax, "Persons in custody")
    return _finish(
        fig, heading, result, "72 hours: the TEDS standard for the longest stay in CBP custody."
    )


def _transfers_chart(result: RunResult) -> Figure:
    s = result.scenario
    title = "Weekly transfers under Asylum Cooperative Agreements vs the weekly cap"
    windows = [(a, max(a.start, s.start), min(a.end or s.end, s.end)) for a in s.agreements]
    windows = [w for w in windows if w[1] < w[2]]
    if not windows:  # write_run_charts skips it (skipped_run_charts)
        raise ValueError(f"{s.name}: no agreement in force, so no transfers chart")
    lo = min(w[1] for w in windows) - dt.timedelta(days=3)
    hi = max(w[2] for w in windows) + dt.timedelta(days=3)
    fig, axes, markers, heading = _timeline_figure(result, title, lo, hi, len(windows), 3.6)
    transferred = result.daily[result.daily["metric"] == "transferred"]
    caps = result.daily[result.daily["metric"] == "transfer_cap"]
    for ax, (agr, start, end) in zip(axes, windows, strict=True):
        rows = transferred[transferred["agreement"] == agr.name]
        cap = caps[caps["agreement"] == agr.name].set_index("date")["value"]
        _transfer_panel(ax, agr, _daily_wide(rows, "group", start, end), cap)
        _draw_markers(ax, markers)
        _style(ax, "Persons per week")
    # ticks on every other cap window of the first agreement, so weeks can be read off
    first = windows[0][0].start
    ticks = pd.date_range(first, hi, freq="14D")
    axes[-1].xaxis.set_major_locator(mticker.FixedLocator(mdates.date2num(ticks)))
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%d %b\n%Y"))
    return _finish(
        fig,
        heading,
        result,
        "Weeks are counted from each agreement's start date, as its cap is; "
        "a narrower bar is a partial week. The cap line is the cap in force each day "
        "(under a cap rule, what it allowed).",
    )


def _transfer_panel(ax: Axes, agr: Agreement, daily: pd.DataFrame, cap: pd.Series) -> None:
    """Weekly transfers by group in the agreement's own 7-day windows, and the weekly cap in
    force each day (`cap`, the run's `transfer_cap`: exact under any cap rule)."""
    origin = pd.Timestamp(agr.start)
    first, end = daily.index[0], daily.index[-1] + pd.Timedelta(days=1)
    weekly = daily.groupby((daily.index - origin).days // 7).sum()
    weekly.index = [origin + pd.Timedelta(weeks=int(w)) for w in weekly.index]
    weekly = weekly[[g for g in GROUPS if g in weekly.columns]]
    # a window cut by the start or end of the reported period gets a narrower bar
    starts = [max(w, first) for w in weekly.index]
    widths = [
        0.85 * (min(w + pd.Timedelta(days=7), end) - b).days
        for w, b in zip(weekly.index, starts, strict=True)
    ]
    weekly.index = pd.DatetimeIndex(starts)
    if weekly.shape[1]:
        _bar_collection(ax, weekly, widths, GROUP_COLOR, GROUP_LABEL)
    else:
        ax.text(0.5, 0.5, "no transfers", transform=ax.transAxes, ha="center", color="#555555")
    cap = cap.copy()
    cap.index = pd.DatetimeIndex(cap.index)
    cap = cap[(cap.index >= first) & (cap.index < end)].dropna()
    if len(cap):
        xs = [*cap.index, end]
        ys = [*cap.to_numpy(), cap.iloc[-1]]
        ax.step(
            xs,
            ys,
            where="post",
            color="black",
            lw=1.8,
            zorder=5,
            label="Weekly cap in force",
        )
    top = max([1.0, *cap.to_numpy(), *weekly.sum(axis=1)])
    ax.set_ylim(0, top * 1.25)
    countries = ", ".join(NAT_LABEL[n] for n in agr.eligible_nationalities)
    _panel_title(
        ax, f"{agr.name}: {countries} nationals transferred to {NAT_LABEL[agr.receiving_country]}"
    )


def _dispositions_chart(result: RunResult) -> Figure:
    s = result.scenario
    lo, hi = _month_span(s.start, s.end)
    fig, axes, markers, heading = _timeline_figure(
        result, "Outcomes of border processing by group, per month", lo, hi, len(GROUPS), 3.2
    )
    _pad_months(axes[0], lo, hi)
    d = result.daily
    present = [m for m in OUTCOMES if m in set(d["metric"].unique())]
    colors = {m: c for m, (_, c) in OUTCOMES.items()}
    labels = {m: lab for m, (lab, _) in OUTCOMES.items()}
    outcomes = d[d["metric"].isin(present)]
    for ax, group in zip(axes, GROUPS, strict=True):
        table = monthly(_daily_wide(outcomes[outcomes["group"] == group], "metric", s.start, s.end))
        table = table[[m for m in present if m in table.columns and table[m].any()]]
        if table.shape[1]:
            # period totals in the legend: small outcomes (transfers) are invisible as bars
            totals = {m: f"{labels[m]}: {table[m].sum():,.0f}" for m in table.columns}
            _monthly_bars(ax, table, colors, totals)
        else:
            _message(ax, "no outcomes recorded")
        _panel_title(ax, GROUP_LABEL[group])
        _draw_markers(ax, markers)
        _style(ax, "Persons per month", "Outcome (total persons)")
    return _finish(fig, heading, result, _partial_note(s.start, s.end))
