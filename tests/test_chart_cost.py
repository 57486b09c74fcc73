"""What keeps the run charts cheap, without timing anything: the CLI imports no plotting
(or other heavy) library it does not use, the charts are drawn once into the same pixels
savefig would write, and the shortcuts behind them (month ticks, daily tables, the PNG
encoder) give what the slower general tools give."""

from __future__ import annotations

import datetime as dt
import gc
import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from sim import charts
from sim.charts import (
    FIG_WIDTH,
    _custody_chart,
    _daily_wide,
    _dispositions_chart,
    _encounters_chart,
    _MonthLabels,
    _MonthTicks,
    _stacked_bars,
    _transfers_chart,
    monthly,
    write_run_charts,
)
from sim.chartstyle import DPI, png_bytes, write_png
from sim.results import RunResult
from tests.conftest import ROOT, scenario
from tests.runcache import shared_run

#: and `sim.report`: fifteen modules that `migsim report` needs, and no other command
HEAVY = ("matplotlib", "scipy", "statsmodels", "optuna", "pyarrow", "dask", "PIL", "sim.report")
DRAWN = {
    "encounters_by_nationality.png": _encounters_chart,
    "custody.png": _custody_chart,
    "transfers_vs_cap.png": _transfers_chart,
    "dispositions_by_group.png": _dispositions_chart,
}


def _imported(*argv: str) -> set[str]:
    """The heavy top-level packages loaded by `migsim ARGV` in a fresh interpreter."""
    code = (
        "import contextlib, io, json, sys\n"
        "from sim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        code = main({list(argv)!r})\n"
        "    except SystemExit as e:\n"
        "        code = e.code\n"
        f"print(json.dumps([code, sorted(m for m in {HEAVY!r} if m in sys.modules)]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    status, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert status == 0, out.stderr
    return set(loaded)


def test_help_and_check_import_no_heavy_library() -> None:
    assert _imported("--help") == set()
    assert _imported("check", "scenarios/historical.toml") == set()


def test_run_without_charts_does_not_import_matplotlib(tmp_path: Path) -> None:
    out = str(tmp_path / "run")
    loaded = _imported(
        "run", "scenarios/baseline.toml", "--set", "scale=0.01", "--no-charts", "--out", out
    )
    assert "matplotlib" not in loaded and "PIL" not in loaded
    assert "sim.report" not in loaded  # the scenario's parent: `sim.scenario.parent`
    assert "pyarrow" in loaded  # the probe sees what a run does load: daily.parquet
    assert (tmp_path / "run" / "daily.parquet").is_file()
    assert not (tmp_path / "run" / "charts").exists()


def test_batch_and_sweep_without_charts_do_not_import_matplotlib(tmp_path: Path) -> None:
    """The batch folder's tables, manifests and chart-free outputs need the provenance and
    policy markers of `sim.chartstyle`, not matplotlib (they used to import it anyway)."""
    small = ["--set", "scale=0.01", "--jobs", "1", "--no-charts", "--quiet"]
    loaded = _imported(
        "batch", "scenarios/baseline.toml", "--reps", "2", *small, "--out", str(tmp_path / "b")
    )
    assert "matplotlib" not in loaded and "PIL" not in loaded
    assert (tmp_path / "b" / "summary.parquet").is_file()
    assert not (tmp_path / "b" / "charts").exists()
    sweep = tmp_path / "tiny.toml"
    sweep.write_text(
        f'name = "tiny"\nbase = "{ROOT / "scenarios" / "baseline.toml"}"\nreps = 1\n'
        '[design]\nkind = "grid"\n[[levers]]\nname = "effect"\npath = "deterrence.effect"\n'
        "min = 0.0\nmax = 1.0\nsteps = 2\n"
    )
    loaded = _imported("sweep", str(sweep), *small, "--out", str(tmp_path / "s"))
    assert "matplotlib" not in loaded and "PIL" not in loaded
    assert (tmp_path / "s" / "summary.parquet").is_file()


@pytest.fixture(scope="module")
def aca() -> RunResult:
    return shared_run(scenario("aca_guatemala", "scale=0.02"))


def test_the_four_files_at_their_size_in_pixels(aca: RunResult, tmp_path: Path) -> None:
    threads = threading.active_count()
    paths = write_run_charts(aca, tmp_path)
    # the collector paused for the charts is running again, and the thread that encodes
    # the PNGs is gone (a process with threads running could not fork its workers)
    assert gc.isenabled() and threading.active_count() == threads
    assert [p.name for p in paths] == list(DRAWN)
    for p in paths:
        fig = DRAWN[p.name](aca)
        expected = tuple(round(v * DPI) for v in fig.get_size_inches())
        with Image.open(p) as img:
            assert img.format == "PNG" and img.mode == "RGBA"
            assert img.size == expected, p.name
            assert expected[0] == round(FIG_WIDTH * DPI)
            assert img.info["dpi"] == pytest.approx((DPI, DPI), abs=0.05)


def test_drawn_once_into_the_pixels_savefig_writes(aca: RunResult, tmp_path: Path) -> None:
    for name in ("dispositions_by_group.png", "transfers_vs_cap.png"):
        write_png(DRAWN[name](aca), tmp_path / name)
        buf = io.BytesIO()
        DRAWN[name](aca).savefig(buf, format="png", dpi=DPI, facecolor="white")
        ours = np.asarray(Image.open(tmp_path / name))
        theirs = np.asarray(Image.open(buf))
        assert ours.shape == theirs.shape and np.array_equal(ours, theirs), name


def _policy_lines_by_axvline(ax, markers) -> None:
    """The dashed policy lines as `ax.axvline` draws them, one line each (what
    sim.charts._draw_markers draws at once)."""
    for m in markers:
        color = charts.AGREEMENT_COLOR if m.agreement else charts.POLICY_COLOR
        ax.axvline(pd.Timestamp(m.date), color=color, lw=1.1, ls="--", alpha=0.8, zorder=4)


def _pixels(fig: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


@pytest.mark.parametrize("scale", ["0.02", "1"])
def test_the_pixels_of_the_straightforward_charts(
    scale: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every chart is, to the pixel, what the straightforward way draws: matplotlib's
    constrained layout (instead of `_lay_out`'s), a Rectangle artist per bar (instead of
    one collection per panel) and an `axvline` per policy date; at full scale and at a
    small one, where the numbers on the axes and in the legends are not as wide."""
    result = (
        shared_run(scenario("all_three_agreements", "scale=0.02"))
        if scale != "1"
        else shared_run(scenario("historical", "end=2019-03-01"))  # full scale, 5 months
    )
    skipped = charts.skipped_run_charts(result)  # no agreement in force before Nov 2019
    drawn = {name: draw for name, draw in DRAWN.items() if f"charts/{name}" not in skipped}
    assert len(drawn) == (4 if scale != "1" else 3)
    fast = {name: _pixels(draw(result)) for name, draw in drawn.items()}
    monkeypatch.setattr(
        charts, "_lay_out", lambda fig, heading, foot: fig.set_layout_engine("constrained")
    )
    monkeypatch.setattr(charts, "_bar_collection", charts._stacked_bars)
    monkeypatch.setattr(charts, "_draw_markers", _policy_lines_by_axvline)
    monkeypatch.setattr(
        charts, "_panel_title", lambda ax, text: ax.set_title(text, loc="left", fontsize=11)
    )
    for name, draw in drawn.items():
        fig = draw(result)
        assert fig.get_layout_engine() is not None  # the straightforward way indeed
        slow = _pixels(fig)
        assert slow.shape == fast[name].shape, name
        assert np.array_equal(slow, fast[name]), (
            f"{name}: {(slow != fast[name]).any(axis=-1).sum()} pixels differ"
        )


def test_bar_collection_is_the_stacked_bars(rng: np.random.Generator) -> None:
    """One collection of bars, and a legend, with the pixels, data limits and legend
    entries of the Rectangles `_stacked_bars` adds (zero heights and all)."""
    index = pd.date_range("2019-01-01", periods=9, freq="MS")
    table = pd.DataFrame(rng.integers(0, 900, size=(9, 3)) * 1.5, index=index, columns=list("abc"))
    table.loc[index[2], "b"] = 0.0
    table.loc[index[8], "c"] = 0.0  # a zero bar on top: its bottom is the top of the data
    widths = [0.85 * d for d in index.days_in_month]
    colors = {"a": "#E69F00", "b": "#56B4E9", "c": "#009E73"}
    labels = {"a": "Alpha", "b": "Beta"}
    made = []
    for draw in (charts._stacked_bars, charts._bar_collection):
        fig = Figure(dpi=DPI)
        ax = fig.add_subplot()
        draw(ax, table, widths, colors, labels)
        ax.legend()
        made.append((_pixels(fig), ax))
    (pixels1, ax1), (pixels2, ax2) = made
    assert len(ax1.patches) == 27 and not ax2.patches and len(ax2.collections) == 1
    assert ax2.get_ylim() == ax1.get_ylim() and ax2.get_xlim() == ax1.get_xlim()
    assert np.array_equal(ax2.dataLim.get_points(), ax1.dataLim.get_points())
    assert ax2.get_legend_handles_labels()[1] == ["Alpha", "Beta", "c"]
    assert np.array_equal(pixels2, pixels1)


def test_write_png_draws_any_figure_at_the_chart_resolution(tmp_path: Path) -> None:
    fig = Figure(figsize=(4, 3))  # made at another DPI, on no Agg canvas
    fig.add_subplot().plot([0, 1], [1, 0])
    write_png(fig, tmp_path / "f.png")
    with Image.open(tmp_path / "f.png") as img:
        assert img.size == (4 * DPI, 3 * DPI)


def test_png_bytes_round_trip(rng: np.random.Generator) -> None:
    rgba = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)  # differences wrap around
    rgba[5:9] = rgba[4]  # and rows repeat, as on a chart
    with Image.open(io.BytesIO(png_bytes(rgba, 150))) as img:
        assert img.mode == "RGBA" and img.size == (53, 37)
        assert np.array_equal(np.asarray(img), rgba)
        assert img.info["dpi"] == pytest.approx((150, 150), abs=0.05)
        assert img.info["Software"].startswith("Matplotlib version")


def test_chart_tables_equal_the_tidy_table_grouped_by_pandas(aca: RunResult) -> None:
    s, d = aca.scenario, aca.daily
    for metric, by in [
        ("encounters", "nationality"),
        ("removed", "group"),
        ("transferred", "group"),
    ]:
        rows = d[d["metric"] == metric]
        ours = monthly(_daily_wide(rows, by, s.start, s.end))
        grouped = rows.groupby([pd.Grouper(key="date", freq="MS"), by], observed=True)["value"]
        theirs = grouped.sum().unstack(by).fillna(0.0)
        assert list(ours.columns) == list(theirs.columns)
        assert np.array_equal(ours.index, theirs.index), metric
        np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-12, err_msg=metric)
        assert ours.to_numpy().sum() > 0, metric
    days = _daily_wide(d[d["metric"] == "encounters"], "nationality", s.start, s.end)
    assert days.index[0] == pd.Timestamp(s.start) and len(days) == (s.end - s.start).days
    assert _daily_wide(d[d["metric"] == "no_such_metric"], "group", s.start, s.end).shape[1] == 0


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        ("2018-09-23", "2020-04-04"),  # the monthly charts' padded span
        ("2018-10-01", "2020-03-16"),  # the custody chart's period, from a first of the month
        ("2019-12-20", "2020-01-12"),  # one month start in view
        ("2019-03-05", "2019-03-28"),  # none
    ],
)
def test_month_ticks_and_labels_are_month_locators(lo: str, hi: str) -> None:
    shown = {}
    for loc in (mdates.MonthLocator(), _MonthTicks()):
        fig = Figure()
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.plot([pd.Timestamp(lo), pd.Timestamp(hi)], [0, 1])
        ax.set_xlim(pd.Timestamp(lo), pd.Timestamp(hi))
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(_MonthLabels(loc, show_offset=False))
        fig.canvas.draw()
        labels = [label.get_text() for label in ax.get_xticklabels()]
        shown[type(loc)] = list(zip(ax.get_xticks(), labels, strict=True))
    assert shown[_MonthTicks] == shown[mdates.MonthLocator]
    assert len(shown[_MonthTicks]) >= 1


def test_month_ticks_are_month_locators_for_any_view(rng: np.random.Generator) -> None:
    utc = dt.UTC
    for _ in range(300):
        start = dt.datetime(2017, 1, 1, tzinfo=utc) + dt.timedelta(
            hours=int(rng.integers(0, 40_000))
        )
        end = start + dt.timedelta(hours=int(rng.integers(0, 20_000)))
        if rng.random() < 0.1:
            start = start.replace(day=1, hour=0)  # on a month start
        ours = _MonthTicks().tick_values(start, end)
        theirs = mdates.MonthLocator().tick_values(start, end)
        assert np.array_equal(ours, theirs), (start, end)


def _bars_by_matplotlib(ax, table, widths, colors, labels) -> None:
    """The stacked bars as `ax.bar` draws them, one column at a time (what _stacked_bars
    draws at once)."""
    bottom = pd.Series(0.0, index=table.index)
    for col in table.columns:
        ax.bar(
            table.index,
            table[col],
            width=widths,
            bottom=bottom,
            align="edge",
            color=colors[col],
            label=labels.get(col, col) if labels is not None else None,
            edgecolor="white",
            linewidth=0.4,
            zorder=2,
        )
        bottom = bottom + table[col]


@pytest.mark.parametrize("labels", [{"a": "Alpha"}, None])
def test_stacked_bars_are_ax_bars(rng: np.random.Generator, labels: dict | None) -> None:
    index = pd.date_range("2019-01-01", periods=7, freq="MS")
    table = pd.DataFrame(rng.integers(0, 900, size=(7, 3)) * 1.5, index=index, columns=list("abc"))
    table.loc[index[2], "b"] = 0.0
    widths = [0.85 * d for d in index.days_in_month]
    colors = {"a": "#E69F00", "b": "#56B4E9", "c": "#009E73"}
    made = []
    for draw in (_bars_by_matplotlib, _stacked_bars):
        fig = Figure(dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        draw(ax, table, widths, colors, labels)
        if labels:
            ax.legend()
        fig.canvas.draw()
        made.append((fig, ax))
    (fig1, ax1), (fig2, ax2) = made
    assert ax2.get_ylim() == ax1.get_ylim() and ax2.get_xlim() == ax1.get_xlim()
    assert np.array_equal(ax2.dataLim.get_points(), ax1.dataLim.get_points())
    assert len(ax2.patches) == len(ax1.patches) == 21
    for p, q in zip(ax1.patches, ax2.patches, strict=True):
        assert (q.get_xy(), q.get_width(), q.get_height()) == (
            p.get_xy(),
            p.get_width(),
            p.get_height(),
        )
        assert q.get_facecolor() == p.get_facecolor() and q.get_edgecolor() == p.get_edgecolor()
        assert (q.get_linewidth(), q.get_zorder()) == (p.get_linewidth(), p.get_zorder())
        assert q.sticky_edges.y == p.sticky_edges.y and q.get_label() == p.get_label()
    assert [c.get_label() for c in ax2.containers] == [c.get_label() for c in ax1.containers]
    assert ax2.get_legend_handles_labels()[1] == ax1.get_legend_handles_labels()[1]
    assert np.array_equal(
        np.asarray(fig2.canvas.buffer_rgba()), np.asarray(fig1.canvas.buffer_rgba())
    )
