"""The validation table printed to the terminal (the CSV files carry every number)."""

from __future__ import annotations

import math

import pandas as pd

_COLUMNS = (
    ("series", "series", "{}"),
    ("months", "months", "{:d}"),
    ("mape", "MAPE %", "{:.1f}"),
    ("total_error", "total err %", "{:+.1f}"),
    ("correlation", "corr", "{:.2f}"),
    ("ard", "ARD", "{:.3f}"),
    ("naive_same_month_mape", "same-month MAPE %", "{:.1f}"),
    ("naive_last_month_mape", "last-month MAPE %", "{:.1f}"),
    ("beats_naive", "beats naive", "verdict"),
)


def verdict(row: pd.Series) -> str:
    """yes / no, or which naive alone the model beats."""
    if row["beats_naive"] != "no":
        return str(row["beats_naive"])
    if row.get("beats_naive_same_month") == "yes":
        return "no (beats same-month)"
    if row.get("beats_naive_last_month") == "yes":
        return "no (beats last-month)"
    return "no"


def _cell(value: object, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if fmt == "{:d}":
        return fmt.format(int(value))
    return fmt.format(value)


def _grid(rows: list[list[str]], header: list[str]) -> str:
    """Plain-text table: first and last columns left-aligned, numbers right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    last = len(header) - 1

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in (0, last) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def format_table(metrics: pd.DataFrame) -> str:
    """Per-series table, then the Flee ARD across the components of each split."""
    series = metrics[metrics["kind"] == "series"]
    rows = [
        [verdict(r) if fmt == "verdict" else _cell(r[key], fmt) for key, _, fmt in _COLUMNS]
        for _, r in series.iterrows()
    ]
    out = _grid(rows, [head for _, head, _ in _COLUMNS])
    groups = metrics[metrics["kind"] == "group"]
    if len(groups):
        g_rows = [
            [
                r["series"],
                _cell(r["months"], "{:d}"),
                _cell(r["ard"], "{:.3f}"),
                _cell(r["naive_same_month_ard"], "{:.3f}"),
                _cell(r["naive_last_month_ard"], "{:.3f}"),
                verdict(r),
            ]
            for _, r in groups.iterrows()
        ]
        head = ["split (Flee ARD)", "months", "model", "same-month", "last-month", "beats naive"]
        out += "\n\n" + _grid(g_rows, head)
    return out


LEGEND = (
    "MAPE: mean |sim - obs| / obs; total err: (sum sim - sum obs) / sum obs; corr: Pearson of "
    "monthly values;\nARD: sum |sim - obs| / sum obs (a fraction); split ARD: mean over months "
    "of sum over components |sim - obs| / observed total (Flee).\nNaive forecasts: the observed "
    "value 12 months earlier (same-month) or 1 month earlier (last-month).\nbeats naive: yes = "
    "lower MAPE (splits: ARD) than both naives, each on the months where it exists."
)
