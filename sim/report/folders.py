"""Which kind of results folder this is, told by the files in it, and reading them.

There is no `--kind` flag to get wrong: a run folder has daily.parquet + manifest.json,
a validation folder metrics.csv + monthly.csv, a batch (sweep, sensitivity) folder
summary.parquet + design.parquet, a backtest folder backtest.csv + scores.csv, an
attribution folder attribution.csv + values.csv. Unreadable files become a `ReportError` naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd

from sim.report.errors import ReportError
from sim.safeio import DATA_LIMIT, MANIFEST_LIMIT, UnsafeFile, check_regular, read_text


class Kind(StrEnum):
    RUN = "run"
    VALIDATION = "validation"
    BATCH = "batch"
    BACKTEST = "backtest"
    ATTRIBUTION = "attribution"


# checked in this order: the most specific first
MARKERS: dict[Kind, tuple[str, str]] = {
    Kind.BATCH: ("summary.parquet", "design.parquet"),
    Kind.BACKTEST: ("backtest.csv", "scores.csv"),
    Kind.ATTRIBUTION: ("attribution.csv", "values.csv"),
    Kind.VALIDATION: ("metrics.csv", "monthly.csv"),
    Kind.RUN: ("daily.parquet", "manifest.json"),
}


def kind_of(folder: Path) -> Kind | None:
    for kind, files in MARKERS.items():
        if all((folder / f).is_file() for f in files):
            return kind
    return None


def detect(folder: Path) -> Kind:
    """The folder's kind, or a `ReportError` saying what was expected (and what was meant,
    when a subfolder is a results folder, e.g. results/<name>/validation)."""
    if not folder.exists():
        raise ReportError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise ReportError(
            f"{folder}: not a folder; give a run, batch, sweep, sensitivity, validation, backtest or attribution folder"
        )
    kind = kind_of(folder)
    if kind is not None:
        return kind
    expected = "; ".join(f"{k}: {' + '.join(f)}" for k, f in reversed(MARKERS.items()))
    inner = [sub for sub in sorted(folder.iterdir()) if sub.is_dir() and kind_of(sub)]
    hint = f"; did you mean {inner[0]}?" if inner else ""
    raise ReportError(f"{folder}: not a results folder (expected {expected}){hint}")


def _read(path: Path, reader: Callable[[Path], Any], limit: int = DATA_LIMIT) -> Any:
    """`reader(path)`, for a regular file of at most `limit` bytes (checked first: a
    folder from someone else may hold a FIFO or a link to /dev/zero)."""
    try:
        check_regular(path, limit)
        return reader(path)
    except UnsafeFile as e:
        raise ReportError(f"{path}: cannot read: it {e}") from None
    except (OSError, ValueError, UnicodeDecodeError) as e:  # pandas/pyarrow/json errors included
        raise ReportError(f"{path}: cannot read: {e}".splitlines()[0]) from None


def read_manifest(folder: Path) -> dict[str, Any]:
    """manifest.json as a dict ({} if the folder has none)."""
    path = folder / "manifest.json"
    if not path.exists():
        return {}
    data = _read(path, lambda p: json.loads(read_text(p, MANIFEST_LIMIT)), MANIFEST_LIMIT)
    if not isinstance(data, dict):
        raise ReportError(f"{path}: not a manifest (expected a JSON object)")
    return data


def read_csv(path: Path, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV; empty cells of `text_columns` (e.g. `agreement`) read as "", others as nan."""
    frame = _read(path, pd.read_csv)
    for col in text_columns:
        if col in frame.columns:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), "").astype(str)
    return frame


def read_parquet(path: Path) -> pd.DataFrame:
    return _read(path, pd.read_parquet)
