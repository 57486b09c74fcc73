"""Observed border statistics for validation, read through a strict schema check.

Why strict: a mis-read cell would make every validation number look plausible and be
wrong. Each file is checked for its columns, whole non-negative counts, unique contiguous
YYYY-MM months, fiscal years that match the months, and splits that add up to the total
within the rounding of the source. Any problem raises `ObservedDataError` (a
`ScenarioError`) naming the file, the line/column and the problem, so the CLI prints one
line and exits with status 2.

Months are a `pandas.PeriodIndex` (freq "M") named "month" everywhere in this package.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from sim.scenario.loader import ScenarioError

USBP_FILE = "usbp_swb_monthly_fy2018_fy2019.csv"
SWB_FILE = "swb_encounters_monthly_fy2019.csv"

FAMILY_STATUS: tuple[str, ...] = (
    "single_adults",
    "family_unit_individuals",
    "unaccompanied_children",
)
CITIZENSHIP: tuple[str, ...] = ("mexico", "guatemala", "honduras", "el_salvador", "other")
USBP_COUNTS: tuple[str, ...] = ("usbp_total", *FAMILY_STATUS, *CITIZENSHIP)
USBP_COLUMNS: tuple[str, ...] = ("month", "fiscal_year", *USBP_COUNTS)
SWB_COUNTS: tuple[str, ...] = ("swb_total", "usbp_total", "ofo_total")
SWB_COLUMNS: tuple[str, ...] = ("month", *SWB_COUNTS)

# The OHSS workbook rounds every cell to the nearest 10, so a split can miss its total by a
# few tens (the shipped citizenship split is off by up to 60). 100 persons catches real
# errors (a dropped digit, a shifted column) without rejecting the published figures.
SPLIT_TOLERANCE = 100

# Last month of the calibration period; later months are out-of-sample.
IN_SAMPLE_END = pd.Period("2019-09", freq="M")

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_INT = re.compile(r"^[+-]?\d+$")


class ObservedDataError(ScenarioError):
    """A malformed observed-data file: `source` is the file, `field` the line and column."""


# ----------------------------------------------------------------------------- parsing
def _fiscal_year(month: pd.Period) -> int:
    """US federal fiscal year: October starts the next year's FY."""
    return month.year + 1 if month.month >= 10 else month.year


def _parse_count(text: str, source: str, where: str) -> int:
    t = text.strip()
    if t == "":
        raise ObservedDataError(source, where, "missing value")
    if not _INT.match(t):
        raise ObservedDataError(source, where, f"not a whole number: {text!r}")
    value = int(t)
    if value < 0:
        raise ObservedDataError(source, where, f"negative count {value}")
    return value


def _parse_month(text: str, source: str, where: str) -> pd.Period:
    if not _MONTH.match(text.strip()):
        raise ObservedDataError(source, where, f"not a month in YYYY-MM form: {text!r}")
    return pd.Period(text.strip(), freq="M")


def _read_rows(text: str, source: str, columns: Sequence[str]) -> pd.DataFrame:
    """Parse CSV text into a month-indexed integer frame, checking cells one by one."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        raise ObservedDataError(source, "", "empty file (no header line)")
    header = [h.strip() for h in header]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ObservedDataError(
            source,
            f"column {missing[0]}",
            f"missing required column (needs: {', '.join(columns)})",
        )
    dupes = sorted({h for h in header if header.count(h) > 1 and h in columns})
    if dupes:
        raise ObservedDataError(source, f"column {dupes[0]}", "column appears more than once")
    pos = {c: header.index(c) for c in columns}
    records: list[dict[str, object]] = []
    lines: list[int] = []
    for row in reader:
        line = reader.line_num
        if not row or all(cell.strip() == "" for cell in row):
            continue
        if len(row) != len(header):
            raise ObservedDataError(
                source,
                f"line {line}",
                f"{len(row)} fields but the header has {len(header)} "
                "(a comma inside a number or a missing cell?)",
            )
        rec: dict[str, object] = {}
        for c in columns:
            where = f"line {line}, column {c}"
            if c == "month":
                rec[c] = _parse_month(row[pos[c]], source, where)
            else:
                rec[c] = _parse_count(row[pos[c]], source, where)
        records.append(rec)
        lines.append(line)
    if not records:
        raise ObservedDataError(source, "", "no data rows")
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    frame["_line"] = lines
    _check_months(frame, source)
    frame = frame.sort_values("month")
    frame.index = pd.PeriodIndex(frame.pop("month"), freq="M", name="month")
    return frame


def _check_months(frame: pd.DataFrame, source: str) -> None:
    seen: dict[pd.Period, int] = {}
    for month, line in zip(frame["month"], frame["_line"], strict=True):
        if month in seen:
            raise ObservedDataError(
                source,
                f"line {line}, column month",
                f"duplicate month {month} (also on line {seen[month]})",
            )
        seen[month] = line
    ordered = sorted(seen)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b != a + 1:
            raise ObservedDataError(
                source,
                f"line {seen[b]}, column month",
                f"months are not contiguous: {a + 1} is missing between {a} and {b}",
            )


def _check_split(
    frame: pd.DataFrame, source: str, total: str, parts: Sequence[str], tolerance: int
) -> None:
    diff = frame[list(parts)].sum(axis=1) - frame[total]
    bad = diff.abs() > tolerance
    if bad.any():
        month = diff[bad].index[0]
        line = frame.loc[month, "_line"]
        raise ObservedDataError(
            source,
            f"line {line}, columns {'+'.join(parts)}",
            f"sum to {frame.loc[month, list(parts)].sum():,} but {total} is "
            f"{frame.loc[month, total]:,} (difference {diff[month]:+,}, more than the "
            f"rounding tolerance of {tolerance})",
        )


def _check_fiscal_year(frame: pd.DataFrame, source: str) -> None:
    for month, fy, line in zip(frame.index, frame["fiscal_year"], frame["_line"], strict=True):
        if fy != _fiscal_year(month):
            raise ObservedDataError(
                source,
                f"line {line}, column fiscal_year",
                f"{fy} does not match month {month} (fiscal year {_fiscal_year(month)})",
            )


def _read_text(path: Path, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ObservedDataError(source, "", "file not found") from None
    except UnicodeDecodeError:
        raise ObservedDataError(source, "", "not a UTF-8 text (CSV) file") from None
    except OSError as e:
        raise ObservedDataError(source, "", f"cannot read: {e.strerror}") from None


def parse_usbp(text: str, source: str) -> pd.DataFrame:
    """Validate USBP monthly CSV text (shipped schema): month-indexed int columns."""
    frame = _read_rows(text, source, USBP_COLUMNS)
    _check_fiscal_year(frame, source)
    _check_split(frame, source, "usbp_total", FAMILY_STATUS, SPLIT_TOLERANCE)
    _check_split(frame, source, "usbp_total", CITIZENSHIP, SPLIT_TOLERANCE)
    return frame.drop(columns="_line").astype("int64")


def parse_swb(text: str, source: str) -> pd.DataFrame:
    """Validate SWB encounter CSV text: swb_total = usbp_total + ofo_total."""
    frame = _read_rows(text, source, SWB_COLUMNS)
    _check_split(frame, source, "swb_total", ("usbp_total", "ofo_total"), SPLIT_TOLERANCE)
    return frame.drop(columns="_line").astype("int64")


# ----------------------------------------------------------------------------- shipped data
def shipped_path(name: str) -> Path:
    """Path of a CSV shipped in `sim/data` (installed as package data)."""
    return Path(str(resources.files("sim.data").joinpath(name)))


@cache
def _shipped(name: str) -> pd.DataFrame:
    path = shipped_path(name)
    source = f"sim/data/{name}"
    parse = parse_usbp if name == USBP_FILE else parse_swb
    return parse(_read_text(path, source), source)


def load_usbp() -> pd.DataFrame:
    """Shipped USBP Southwest-border apprehensions, Oct 2017 - Sep 2019, all columns (wide)."""
    return _shipped(USBP_FILE).copy()


def load_swb() -> pd.DataFrame:
    """Shipped FY2019 Southwest-border encounters: swb_total, usbp_total, ofo_total (wide)."""
    return _shipped(SWB_FILE).copy()


def usbp_totals() -> pd.DataFrame:
    """USBP apprehensions per month (column usbp_total)."""
    return load_usbp()[["usbp_total"]]


def usbp_by_family_status() -> pd.DataFrame:
    """USBP apprehensions per month by family status (family units counted in persons)."""
    return load_usbp()[list(FAMILY_STATUS)]


def usbp_by_citizenship() -> pd.DataFrame:
    """USBP apprehensions per month by citizenship."""
    return load_usbp()[list(CITIZENSHIP)]


def swb_totals() -> pd.DataFrame:
    """FY2019 Southwest-border encounters per month: all, USBP, OFO (ports of entry)."""
    return load_swb()


def load_observed_file(path: str | Path) -> pd.DataFrame:
    """A user-supplied CSV with the shipped USBP columns (any contiguous months)."""
    path = Path(path)
    return parse_usbp(_read_text(path, str(path)), str(path))


def tidy(wide: pd.DataFrame) -> pd.DataFrame:
    """Wide month x series -> long rows: month, series, value."""
    out = wide.drop(columns=["fiscal_year"], errors="ignore").rename_axis(columns="series")
    return out.stack().rename("value").reset_index()
