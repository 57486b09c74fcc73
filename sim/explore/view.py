"""What a finished job shows: the headline table and the five charts.

Built once, in the job's worker thread as soon as its runs finish (`Jobs(finish=...)`),
so the page's poll only hands over what is ready and never outruns the next poll.
"""

from __future__ import annotations

import math

from dash import html

from sim.explore import figures
from sim.explore.compare import Row, headline
from sim.explore.runner import Job


def _number(v: float, signed: bool = False) -> str:
    if math.isnan(v):
        return "—"
    return f"{v:+,.0f}" if signed else f"{v:,.0f}"


def headline_table(rows: list[Row], scale: float) -> html.Div:
    """The paired differences of the key totals, with what their range is."""
    n = rows[0].n if rows else 0
    head = html.Tr(
        [
            html.Th(x)
            for x in (
                "Outcome (persons)",
                "Baseline (mean)",
                "Changed (mean)",
                "Difference (mean)",
                f"Difference, min – max over {n}",
            )
        ]
    )
    body = [
        html.Tr(
            [
                html.Td(r.label),
                html.Td(_number(r.baseline)),
                html.Td(_number(r.changed)),
                html.Td(_number(r.diff_mean, True), className="diff"),
                html.Td(f"{_number(r.diff_min, True)} to {_number(r.diff_max, True)}"),
            ],
            id=f"row-{r.key}",
        )
        for r in rows
    ]
    caption = (
        f"Difference = changed − baseline within each replication (the same seeds: common "
        f"random numbers), then its mean and its min – max over the {n} replication"
        f"{'s' if n != 1 else ''} (a range, not an interval). Totals over the reported period "
        f"(peak and last day for stocks), persons at full scale; runs at scale {scale:g}. "
        "— : no receiving country simulated (no agreement in force)."
    )
    return html.Div(
        [
            html.Table(
                [html.Thead(head), html.Tbody(body)], className="headline", id="headline-table"
            ),
            html.P(caption, className="caption"),
        ]
    )


def results(job: Job) -> tuple:
    """The headline table and the five figures of a finished job."""
    base, changed, s = job.base_out, job.changed_out, job.changed
    figs = (
        figures.encounters(base, changed, s),
        figures.custody(base, changed, s),
        figures.transfers(base, changed, job.baseline, s),
        figures.deterred(base, changed, s),
        figures.backlog(base, changed, s),
    )
    return headline_table(headline(base, changed), s.scale), *figs
