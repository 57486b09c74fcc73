"""The one look of every chart migsim writes (run, batch, sweep, sensitivity, validation,
backtest, attribution): colours, number formats, policy-date markers and the footer.

Kept in one module so a reader of any chart finds the same things in the same places: the
scenario, scale, replications and seed in a grey footer (a chart copied onto a slide stays
traceable), policy dates as dashed lines keyed by number (labels never overlap or get cut,
however close the dates), thousands separators on counts, and a note, on the chart, of
anything left out.
"""

from __future__ import annotations

import datetime as dt
import struct
import textwrap
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.scenario.schema import Scenario

# matplotlib is imported by the functions that draw, not here: commands that only need the
# provenance, markers or colours (batch, sweep or sensitivity without charts, explore) do
# not pay for it
if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

DPI = 150
#: Okabe-Ito: distinguishable for colour-blind readers
COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
POLICY_COLOR, AGREEMENT_COLOR = "#444444", "#7B2D8E"
FOOTER_COLOR = "#555555"


def THOUSANDS(value: float, _pos: object = None) -> str:  # a constant of the style
    """Tick formatter of counts, with thousands separators ("12,345"); matplotlib wraps a
    function set as a formatter in a `FuncFormatter`."""
    return f"{value:,.0f}"


GROUP_SHORT = {"single_adult": "single adults", "family": "families"}


def wrap(text: str, width: int = 28) -> str:
    """Long tick labels on several lines instead of cut off at the frame."""
    return "\n".join(textwrap.wrap(text, width)) or text


# ----------------------------------------------------------------------------- footer
@dataclass(frozen=True)
class Provenance:
    """What a chart was made from; printed in its footer."""

    scenario: str
    scale: float | None = None
    reps: int | None = None
    seed: int | None = None
    replication: int | None = None

    def line(self) -> str:
        parts = [f"Scenario {self.scenario}"]
        if self.scale is not None:
            scaled = "; counts scaled back to persons" if self.scale < 1 else ""
            parts.append(f"scale {self.scale:g}{scaled}")
        if self.reps is not None:
            parts.append(f"{self.reps} replication{'s' if self.reps != 1 else ''}")
        if self.replication is not None:
            parts.append(f"replication {self.replication}")
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        return " · ".join(parts) + "."


def of_scenario(s: Scenario, reps: int | None = None, replication: int | None = None) -> Provenance:
    return Provenance(s.name, s.scale, reps, s.seed, replication)


def footer(fig: Figure, prov: Provenance | None, *notes: str) -> Text:
    """Provenance and chart notes in small grey text under the figure; returns the text."""
    lines = [prov.line()] if prov is not None else []
    lines += [textwrap.fill(n, 190) for n in notes if n]
    return fig.supxlabel("\n".join(lines), x=0.01, ha="left", fontsize=8, color=FOOTER_COLOR)


def omitted(shown: Sequence[str], total: int, what: str = "points") -> str:
    """The note a chart carries when it leaves series out ('' when it shows them all)."""
    if len(shown) >= total:
        return ""
    return (
        f"{total - len(shown)} of {total} {what} are not drawn (more would not be readable); "
        "every one is in the report's tables and the folder's Parquet files."
    )


#: zlib level of write_png's PNGs: 1 to 3 cost alike, 4 and up twice as much; at 3 the files
#: are about a tenth larger than Pillow's (level 6, every filter tried) at a third of the cost
PNG_LEVEL = 3


def write_png(fig: Figure, path: Path) -> None:
    """Draw `fig` once with Agg and write it as a PNG at DPI, on a white background.

    The pixels are those of `fig.savefig(path, dpi=DPI, facecolor="white")`, for less: savefig
    draws a constrained-layout figure twice (once without output, to place it) where one
    pass does, and Pillow, which encodes its PNGs, tries every PNG filter on every row
    (`png_bytes` takes the one that suits charts).
    """
    Path(path).write_bytes(png_bytes(draw_rgba(fig), DPI))


def draw_rgba(fig: Figure) -> np.ndarray:
    """Draw `fig` once with Agg at DPI on a white background; its pixels (rows x columns x
    RGBA bytes, a view of the canvas' buffer: valid while the figure is not drawn again)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if fig.dpi != DPI:
        fig.set_dpi(DPI)
    fig.set_facecolor("white")
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())


def png_bytes(rgba: np.ndarray, dpi: float) -> bytes:
    """An RGBA image (rows x columns x 4 bytes) as a PNG file, with its DPI and the
    matplotlib version as metadata, like matplotlib's own.

    Every row is stored as its difference from the row above (PNG filter "Up"): a chart is
    mostly rows much like the one above, so the differences are mostly zeros, and deflate
    packs them fast and small.
    """
    height, width, _ = rgba.shape
    flat = rgba.reshape(height, 4 * width)
    rows = np.empty((height, 1 + 4 * width), dtype=np.uint8)
    rows[:, 0] = 2  # filter Up (above the first row: zeros)
    rows[0, 1:] = flat[0]
    np.subtract(flat[1:], flat[:-1], out=rows[1:, 1:])  # bytes: modulo 256, as PNG wants
    import matplotlib as mpl

    per_metre = round(dpi / 0.0254)
    software = f"Matplotlib version{mpl.__version__}, https://matplotlib.org/"
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),
            _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            _png_chunk(b"tEXt", b"Software\0" + software.encode("latin-1")),
            _png_chunk(b"IDAT", zlib.compress(rows, PNG_LEVEL)),  # the array's own bytes
            _png_chunk(b"IEND", b""),
        ]
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def save(fig: Figure, path: Path, writer: Callable[[Path, Callable[[Path], None]], None]) -> None:
    """Write the PNG through `writer(path, write_to_tmp)` (atomic writers of each module)."""
    writer(path, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI, facecolor="white"))


# ----------------------------------------------------------------------------- axes
def count_axis(ax: Axes, ylabel: str, horizontal: bool = False) -> None:
    """Thousands separators, a unit label, light grid, no top/right frame."""
    axis = ax.xaxis if horizontal else ax.yaxis
    axis.set_major_formatter(THOUSANDS)
    (ax.set_xlabel if horizontal else ax.set_ylabel)(ylabel)
    ax.grid(axis="x" if horizontal else "y", color="#dddddd", lw=0.7, zorder=0)
    ax.spines[["top", "right"]].set_visible(False)


def limit_to_data(ax: Axes, x: Sequence[pd.Timestamp] | pd.Series, pad_days: int = 3) -> None:
    """The x range of a time chart is the data's, not the scenario's whole period."""
    xs = pd.to_datetime(pd.Series(list(x)))
    if len(xs):
        pad = pd.Timedelta(days=pad_days)
        ax.set_xlim(xs.min() - pad, xs.max() + pad)


# ----------------------------------------------------------------------------- policy dates
@dataclass(frozen=True)
class Marker:
    date: dt.date
    label: str
    agreement: bool


def policy_markers(s: Scenario) -> list[Marker]:
    """Every policy change worth a vertical line; same-date agreement events are merged."""
    plain: list[Marker] = []
    if s.mpp.enrolment:
        plain.append(Marker(s.mpp.enrolment[0].from_, "MPP begins", False))
    plain += [
        Marker(h.from_, "Mexico enforcement surge", False)
        for h in s.enforcement.mexico
        if h.from_ > s.start
    ]
    if s.transit_bar.start is not None:
        plain.append(Marker(s.transit_bar.start, "Transit bar", False))
    # (date, what) -> agreement names, so three ACAs starting together make one label
    events: dict[tuple[dt.date, str], list[str]] = {}
    for a in s.agreements:
        for step in a.phase_in:
            what = f"ACA for {' + '.join(GROUP_SHORT[g] for g in step.groups)}"
            if step.from_ == a.start:
                what = f"ACA starts ({' + '.join(GROUP_SHORT[g] for g in step.groups)})"
            events.setdefault((step.from_, what), []).append(a.name)
        if a.phase_in[0].from_ != a.start:
            events.setdefault((a.start, "ACA starts"), []).append(a.name)
        if a.end is not None:
            events.setdefault((a.end, "ACA ends"), []).append(a.name)
    plain += [Marker(d, f"{what}: {', '.join(names)}", True) for (d, what), names in events.items()]
    return sorted(plain, key=lambda m: (m.date, m.label))


def in_range(markers: Sequence[Marker], lo: pd.Timestamp, hi: pd.Timestamp) -> list[Marker]:
    return [m for m in markers if lo <= pd.Timestamp(m.date) <= hi]


def mark_dates(axes: Sequence[Axes], markers: Sequence[Marker]) -> str:
    """Dashed lines at the policy dates through every panel, numbered inside the top panel;
    returns the key ("1 MPP begins, 29 Jan 2019; ...") for the footer. Numbers instead of
    labels on the plot: they fit however close two dates are."""
    if not markers:
        return ""
    import matplotlib.dates as mdates

    top = axes[0]
    lo, hi = top.get_xlim()
    last_x: float | None = None
    row = 0
    for i, m in enumerate(markers, start=1):
        color = AGREEMENT_COLOR if m.agreement else POLICY_COLOR
        x = pd.Timestamp(m.date)
        for ax in axes:
            ax.axvline(x, color=color, lw=1.0, ls="--", alpha=0.8, zorder=4)
        xf = (float(mdates.date2num(x)) - lo) / max(hi - lo, 1e-9)
        row = row + 1 if last_x is not None and xf - last_x < 0.025 and row < 2 else 0
        last_x = xf
        top.annotate(
            str(i),
            (x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, -2 - 11 * row),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=7,
            color="white",
            bbox={"boxstyle": "circle,pad=0.2", "fc": color, "ec": "none"},
            annotation_clip=False,
        )
    return "Policy dates: " + "; ".join(
        f"{i} {m.label}, {m.date:%d %b %Y}" for i, m in enumerate(markers, start=1)
    )
