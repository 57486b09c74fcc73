"""The Dash app: its state (the starting scenario and the job registry) and its layout.

Every asset comes from the installed packages (`serve_locally=True`, no external style
sheet or script, styles inline in the page), so the page works without a network.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dash import Dash, dcc, html

from sim.explore.levers import GROUP_OPTIONS, Control, Section, run_controls, sections
from sim.explore.runner import Jobs
from sim.explore.settings import Settings, scenarios
from sim.explore.view import results
from sim.scenario.schema import Scenario

GRAPHS = ("encounters", "custody", "transfers", "deterred", "backlog")
POLL_MS = 400

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { padding: 10px 20px; background: #fff; border-bottom: 1px solid #ddd; }
header h1 { font-size: 20px; margin: 4px 0; }
header p { margin: 2px 0; color: #555; font-size: 13px; }
.body { display: flex; align-items: flex-start; }
aside { width: 380px; flex: none; padding: 10px 14px; background: #fff; border-right: 1px solid #ddd;
        height: calc(100vh - 80px); overflow-y: auto; box-sizing: border-box; }
main { flex: 1; padding: 10px 20px; min-width: 0; }
fieldset { border: 1px solid #ddd; margin: 0 0 10px; padding: 6px 10px; }
fieldset fieldset { border: none; margin: 0; padding: 0; }
fieldset[disabled] .control { opacity: 0.45; }
legend { font-weight: bold; font-size: 13px; }
.control { margin: 5px 0; }
.control label { display: block; font-size: 13px; }
.hint { color: #666; font-size: 11px; margin-left: 4px; }
.control input[type=number] { width: 150px; }
.top { position: sticky; top: -10px; background: #fff; padding: 6px 0 8px; margin-bottom: 8px;
       border-bottom: 1px solid #ddd; z-index: 10; }
.buttons button { margin: 4px 6px 4px 0; padding: 6px 14px; font-size: 14px; }
#run { background: #0072B2; color: white; border: none; border-radius: 3px; }
#run:disabled { background: #999; }
.bar { height: 10px; background: #eee; border-radius: 5px; overflow: hidden; margin: 6px 0; }
#bar-fill { height: 100%; background: #E69F00; width: 0%; transition: width 0.3s; }
#status { font-size: 13px; color: #333; min-height: 1.2em; }
.error { color: #B00020; font-size: 13px; font-weight: bold; white-space: pre-wrap; }
.notes { color: #555; font-size: 12px; }
table.headline { border-collapse: collapse; font-size: 13px; background: #fff; }
table.headline th, table.headline td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; }
table.headline th:first-child, table.headline td:first-child { text-align: left; }
.caption { font-size: 12px; color: #555; margin: 4px 0 12px; max-width: 900px; }
.graph { background: #fff; margin-bottom: 12px; border: 1px solid #eee; }
"""

INDEX = (
    """<!DOCTYPE html>
<html lang="en">
<head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}<style>"""
    + STYLE
    + """</style></head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body>
</html>"""
)


@dataclass
class Explorer:
    """What the page works from: the starting scenario and file, and the app's jobs."""

    source: Path
    base: Scenario
    jobs: Jobs = field(default_factory=lambda: Jobs(finish=results))
    sections: list[Section] = field(default_factory=list)
    report_lock: threading.Lock = field(default_factory=threading.Lock)  # matplotlib

    def __post_init__(self) -> None:
        self.sections = self.sections or sections(self.base)

    @property
    def controls(self) -> dict[str, Control]:
        return {c.path: c for sec in self.sections for c in sec.controls}

    def start_default(self, scale: float, reps: int) -> int:
        """The baseline at the default settings, started with the server: the page opens
        on it (no change yet, so differences are zero) and the first Run reuses it."""
        settings = Settings(scale=scale, reps=reps)
        baseline, changed = scenarios(self.base, settings)
        return self.jobs.submit(baseline, changed, reps, "no change", settings).id


# ----------------------------------------------------------------------------- layout
def _hint(c: Control) -> str:
    return " · ".join(x for x in (c.unit, c.bounds, c.doc) if x)


def control(c: Control) -> html.Div:
    """One control with its label, unit and bounds (its id carries its `--set` path)."""
    if c.kind == "number":
        widget: Any = dcc.Input(
            id={"kind": "num", "path": c.path}, type="number", value=c.value, step="any"
        )
    elif c.kind == "date":
        widget = dcc.DatePickerSingle(
            id={"kind": "date", "path": c.path},
            date=c.value,
            display_format="YYYY-MM-DD",
            clearable=c.optional,
            placeholder="none" if c.optional else "YYYY-MM-DD",
        )
    elif c.kind == "groups":
        widget = dcc.Checklist(
            id={"kind": "groups", "path": c.path},
            options=[{"label": f" {label}", "value": g} for g, label in GROUP_OPTIONS],
            value=c.value,
            inline=True,
            inputStyle={"marginLeft": "8px"},
        )
    else:
        widget = dcc.Checklist(
            id={"kind": "on", "path": c.path},
            options=[{"label": f" {c.label}", "value": "on"}],
            value=["on"] if c.value else [],
        )
        return html.Div(widget, className="control", title=c.doc)
    label = html.Label([c.label, html.Span(_hint(c), className="hint")])
    return html.Div([label, widget], className="control", title=c.doc)


def section(sec: Section) -> html.Fieldset:
    if sec.agreement is None:
        return html.Fieldset([html.Legend(sec.title), *map(control, sec.controls)])
    switch, *rest = sec.controls
    body = html.Fieldset(
        list(map(control, rest)), id={"kind": "agreement", "path": switch.path}, disabled=False
    )
    return html.Fieldset([html.Legend(sec.title), control(switch), body])


def _run_settings() -> html.Fieldset:
    scale, reps = run_controls()
    parts = []
    for c, ident in ((scale, "scale"), (reps, "reps")):
        parts.append(
            html.Div(
                [
                    html.Label([c.label, html.Span(_hint(c), className="hint")]),
                    dcc.Input(id=ident, type="number", value=c.value, step="any"),
                ],
                className="control",
                title=c.doc,
            )
        )
    return html.Fieldset([html.Legend("Run settings (baseline and change alike)"), *parts])


def layout(ex: Explorer, job_id: int | None) -> html.Div:
    """The page; `job_id` is the job whose results it opens on."""
    s = ex.base
    top = html.Div(  # always in view while the levers scroll
        [
            html.Div(
                [
                    html.Button("Run", id="run", n_clicks=0),
                    html.Button("Save scenario", id="save", n_clicks=0),
                    html.Button("Report", id="report", n_clicks=0),
                ],
                className="buttons",
            ),
            html.Div(html.Div(id="bar-fill"), className="bar"),
            html.Div(id="status"),
            html.Div(id="message", className="error", role="alert"),
        ],
        className="top",
    )
    aside = html.Aside(
        [
            top,
            _run_settings(),
            html.Div(id="notes", className="notes"),
            *map(section, ex.sections),
            dcc.Download(id="download-scenario"),
            dcc.Download(id="download-report"),
        ]
    )
    graphs = [
        dcc.Graph(
            id=f"fig-{g}",
            className="graph",
            config={"displaylogo": False, "responsive": True},
            figure={"data": [], "layout": {"height": 390}},
        )
        for g in GRAPHS
    ]
    main = html.Main(
        [
            html.H2("Headline: paired differences, changed − baseline", style={"fontSize": "17px"}),
            html.Div(id="headline"),
            dcc.Loading(html.Div(id="report-note", className="notes"), type="dot"),
            *graphs,
        ]
    )
    head = html.Header(
        [
            html.H1(f"migsim explore: {s.name}"),
            html.P(f"{s.description} · from {ex.source}"),
            html.P(
                "Move the levers, press Run: the changed scenario runs beside the baseline (the "
                "scenario as loaded) with the same seeds, replication by replication."
            ),
        ]
    )
    return html.Div(
        [
            head,
            html.Div([aside, main], className="body"),
            dcc.Store(id="job", data=job_id),
            dcc.Store(id="shown", data=None),
            dcc.Interval(id="tick", interval=POLL_MS, disabled=job_id is None),
        ]
    )


def create_app(ex: Explorer) -> Dash:
    """The Dash app for `ex`, with its callbacks; nothing is fetched from elsewhere."""
    from sim.explore.callbacks import register
    from sim.explore.levers import DEFAULT_REPS, DEFAULT_SCALE

    ex.start_default(DEFAULT_SCALE, DEFAULT_REPS)
    app = Dash(
        __name__,
        title=f"migsim explore: {ex.base.name}",
        serve_locally=True,
        external_stylesheets=[],
        external_scripts=[],
        update_title=None,
        include_assets_files=False,
        index_string=INDEX,
    )

    def page() -> html.Div:  # opens on the latest job; its status line says what it ran
        latest = ex.jobs.latest()
        return layout(ex, latest.id if latest is not None else None)

    app.layout = page
    register(app, ex)
    return app
