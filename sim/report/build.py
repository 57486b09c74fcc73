"""From a results folder to report.html: detect the kind, build its sections, write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from sim.ownership import OutputError, check_output_file
from sim.report.batch import build_batch
from sim.report.errors import ReportError
from sim.report.folders import Kind, detect, read_manifest
from sim.report.page import GENERATOR, Report, render, write_atomic
from sim.report.run import build_run
from sim.report.studies import build_attribution, build_backtest
from sim.report.validation import build_validation

DEFAULT_NAME = "report.html"
#: what an existing file must hold for `migsim report` to overwrite it (older reports
#: have only the footer)
REPORT_SIGNATURES = (
    f'<meta name="generator" content="{GENERATOR}">',
    "<footer>Made by `migsim report`",
)
BUILDERS: dict[Kind, Callable[[Path, Mapping[str, Any]], Report]] = {
    Kind.RUN: build_run,
    Kind.VALIDATION: build_validation,
    Kind.BATCH: build_batch,
    Kind.BACKTEST: build_backtest,
    Kind.ATTRIBUTION: build_attribution,
}


def _footer(folder: Path) -> str:
    try:
        version = metadata.version("migsim")
    except metadata.PackageNotFoundError:
        version = "unknown"
    made = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Made by `migsim report` (migsim {version}) on {made} "
        f"from the folder {folder.resolve().name}/. Self-contained: the charts are embedded and "
        "the file loads nothing else. Cite the sources of the observed data (README) and the "
        "migsim version and commit above."
    )


def build(folder: str | Path) -> tuple[Kind, str]:
    """The folder's kind and its report as an HTML string."""
    folder = Path(folder)
    kind = detect(folder)
    manifest = read_manifest(folder)
    report = BUILDERS[kind](folder, manifest)
    report.footer = _footer(folder)
    return kind, render(report)


def write_report(folder: str | Path, out: str | Path | None = None) -> tuple[Kind, Path]:
    """Write the report (default `folder/report.html`; `out` may be a file or a folder)."""
    folder = Path(folder)
    kind, text = build(folder)
    path = Path(out) if out is not None else folder / DEFAULT_NAME
    if path.is_dir() and not path.is_symlink():
        path = path / DEFAULT_NAME
    try:  # never overwrite a file migsim did not write (its reports carry this meta tag)
        check_output_file(path, "report", REPORT_SIGNATURES)
    except OutputError as e:
        raise ReportError(str(e)) from None
    write_atomic(path, text)
    return kind, path
