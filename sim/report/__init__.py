"""`migsim report RESULTS_DIR`: one self-contained HTML file for a run, batch, sweep,
sensitivity, validation, backtest or attribution folder, to hand to colleagues.

The file embeds the folder's own charts (PNG as data URIs) and renders its tables
(headline numbers with intervals where the folder has replications), the scenario with
its key levers and its differences from the scenario it extends, and the manifest
(versions, commit, seeds, hash, run time). It loads nothing: no script, font, style sheet
or image from anywhere, enforced by a Content-Security-Policy.

One module per concept: `folders` (which kind, reading files), `html`, `templating` and
`fmt` (markup from Jinja2 templates with autoescape, numbers), `page` (the page and its
atomic write), `levers` and `scenario` (the scenario section; the parent it is compared
with is `sim.scenario.parent`, outside this package, which `migsim run` must not import),
`charts`, `provenance` (the manifest section), `design` (a sweep's design and outcome
surface, a sensitivity folder's indices), `run`, `validation`, `batch` and `studies`
(backtest, attribution) per folder kind, `build` (dispatch).
"""

from __future__ import annotations

from sim.report.build import build, write_report
from sim.report.errors import ReportError
from sim.report.folders import Kind

__all__ = ["Kind", "ReportError", "build", "write_report"]
