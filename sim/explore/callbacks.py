"""The page's callbacks: plain functions of the page's values, wired to Dash by `register`.

Each `on_*` function takes the explorer and what Dash passes, and returns what the page
shows, so tests call them directly. None of them raises on bad input: a bad value becomes
the loader's one-line message on the page (the text `migsim check --set` prints after
"migsim: error: "), and a failed run becomes a status line.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dash import ALL, MATCH, Dash, Input, Output, State, dcc, html, no_update

from sim.explore.app import GRAPHS, Explorer
from sim.explore.runner import Job
from sim.explore.settings import Settings, read_settings, saved_toml, scenarios, set_args
from sim.scenario.loader import ScenarioError

KINDS = (("num", "value"), ("date", "date"), ("groups", "value"), ("on", "value"))


def page_values(*pairs: Sequence[Any]) -> dict[str, Any]:
    """Values by control path from Dash's (ids, values) lists, one pair per kind of
    control in `KINDS` order; switches become booleans."""
    values: dict[str, Any] = {}
    for (kind, _), ids, vals in zip(KINDS, pairs[0::2], pairs[1::2], strict=True):
        for ident, v in zip(ids, vals, strict=True):
            values[ident["path"]] = bool(v) if kind == "on" else v
    return values


def check(ex: Explorer, values: dict[str, Any], scale: Any, reps: Any) -> tuple[Settings, Any]:
    """The settings and the (baseline, changed) scenarios; raises `ScenarioError`."""
    settings = read_settings(ex.controls, values, scale, reps)
    return settings, scenarios(ex.base, settings)


def describe(settings: Settings) -> str:
    """The changes as `--set` paths and values, and agreements switched off."""
    parts = [f"{p} = {v}" for p, v in settings.changes.items()]
    parts += [f"agreement {n} off" for n in settings.off]
    return "; ".join(parts) or "no change"


def on_change(ex: Explorer, values: dict[str, Any], scale: Any, reps: Any) -> tuple:
    """Live check of every edit: (message, run disabled, save disabled, notes)."""
    from sim.scalecheck import scale_issues

    try:
        settings, (_, changed) = check(ex, values, scale, reps)
    except ScenarioError as e:
        return str(e), True, True, []
    notes: list[Any] = []
    args = set_args(settings)
    if args:
        cmd = " ".join(f"--set {a}" for a in args)
        notes.append(html.P(["As a command line: ", html.Code(f"migsim run {ex.source} {cmd}")]))
    if settings.off:
        off = ", ".join(settings.off)
        notes.append(html.P(f"Switched off: {off} (no --set for it: use Save scenario)."))
    notes += [html.P(f"Warning: {i.message()}") for i in scale_issues(changed)]
    return "", False, False, notes


def on_run(ex: Explorer, values: dict[str, Any], scale: Any, reps: Any) -> tuple:
    """Start the changed and baseline runs (cancelling any running job): (job id, tick
    disabled, message). Bad settings start nothing and say why."""
    try:
        settings, (baseline, changed) = check(ex, values, scale, reps)
    except ScenarioError as e:
        return no_update, no_update, str(e)
    label = describe(settings)
    job = ex.jobs.submit(baseline, changed, settings.reps, label, settings)
    return job.id, False, ""


def _status(job: Job) -> str:
    if job.state == "queued":
        return "Starting: stopping the previous run first…"
    if job.state == "running":
        return f"Running {job.step}… {100 * job.fraction:.0f}%"
    if job.state == "cancelled":
        return f"Run {job.id} was superseded by a newer one."
    if job.state == "failed":
        return f"Run {job.id} failed: {job.error}"
    s = job.changed
    return (
        f"Run {job.id} done in {job.seconds:.1f} s (scale {s.scale:g}, {job.reps} "
        f"replication{'s' if job.reps != 1 else ''}): {job.label}."
    )


def on_tick(ex: Explorer, job_id: int | None, shown: int | None) -> tuple:
    """Poll the job: (bar style, status, tick disabled, finished job to show). Quick on
    purpose: a poll still running when the next one starts would be dropped by Dash."""
    job = ex.jobs.get(job_id)
    if job is None:
        return {"width": "0%"}, "Press Run.", True, no_update
    bar = {"width": f"{100 * job.fraction:.0f}%"}
    if job.active:
        return bar, _status(job), False, no_update
    ready = job.state == "done" and shown != job.id
    return bar, _status(job), True, job.id if ready else no_update


def on_show(ex: Explorer, job_id: int | None) -> tuple:
    """The headline table and the five figures of a finished job (built by its worker)."""
    job = ex.jobs.get(job_id)
    if job is None or job.view is None:
        return (no_update,) * (1 + len(GRAPHS))
    return job.view


def on_save(ex: Explorer, values: dict[str, Any], scale: Any, reps: Any) -> Any:
    """The scenario file of the page's settings (extending the starting file), or nothing
    when a setting is bad (the page already shows why)."""
    try:
        settings, (_, changed) = check(ex, values, scale, reps)
    except ScenarioError:
        return no_update
    text = saved_toml(ex.source, ex.base, settings, changed)
    return dcc.send_string(text, filename=f"{changed.name}.toml", type="application/toml")


def report_html(ex: Explorer, job: Job) -> bytes:
    """`migsim report` of the job's changed run, replication 0, written to a temporary
    results folder (with its scenario file, so the report diffs it against its parent)."""
    from sim.commands.run import scenario_source
    from sim.report import write_report

    assert job.first_run is not None
    settings = job.settings or Settings(scale=job.changed.scale, reps=job.reps)
    with ex.report_lock, tempfile.TemporaryDirectory(prefix="migsim-explore-") as tmp:
        toml = Path(tmp) / f"{job.changed.name}.toml"
        toml.write_text(saved_toml(ex.source, ex.base, settings, job.changed), encoding="utf-8")
        run = job.first_run
        manifest = {**run.extra_manifest, **scenario_source(toml, [], job.changed)}
        folder = dataclasses.replace(run, extra_manifest=manifest).write(Path(tmp) / "run")
        _, path = write_report(folder, Path(tmp) / "report.html")
        return path.read_bytes()


def on_report(ex: Explorer, job_id: int | None) -> tuple:
    """(download, note): the report of the shown run once it has finished."""
    job = ex.jobs.get(job_id)
    if job is None or job.state != "done" or job.first_run is None:
        return no_update, "No finished run to report yet: press Run and wait for it."
    try:
        data = report_html(ex, job)
    except Exception as e:  # the server carries on
        return no_update, f"The report failed: {type(e).__name__}: {e}"
    name = f"{job.changed.name}_report.html"
    note = f"Report of run {job.id}: the changed scenario's replication 1 of {job.reps}."
    return dcc.send_bytes(data, filename=name, type="text/html"), note


# ----------------------------------------------------------------------------- wiring
def _levers(cls: type) -> list[Any]:
    """The values of every control (as `cls`: Input or State), then their ids (State)."""
    vals = [cls({"kind": kind, "path": ALL}, prop) for kind, prop in KINDS]
    ids = [State({"kind": kind, "path": ALL}, "id") for kind, _ in KINDS]
    return [*vals, cls("scale", "value"), cls("reps", "value"), *ids]


def register(app: Dash, ex: Explorer) -> None:
    """Wire the `on_*` functions to the page's components."""
    n = len(KINDS)

    def values(args: tuple) -> tuple[dict[str, Any], Any, Any]:
        vals, (scale, reps), ids = args[:n], args[n : n + 2], args[n + 2 :]
        pairs = [x for pair in zip(ids, vals, strict=True) for x in pair]
        return page_values(*pairs), scale, reps

    @app.callback(
        Output("message", "children"),
        Output("run", "disabled"),
        Output("save", "disabled"),
        Output("notes", "children"),
        *_levers(Input),
    )
    def _change(*args: Any) -> tuple:
        return on_change(ex, *values(args))

    @app.callback(
        Output("job", "data"),
        Output("tick", "disabled", allow_duplicate=True),
        Output("message", "children", allow_duplicate=True),
        Input("run", "n_clicks"),
        *_levers(State),
        prevent_initial_call=True,
    )
    def _run(_clicks: int, *args: Any) -> tuple:
        return on_run(ex, *values(args))

    @app.callback(
        Output("bar-fill", "style"),
        Output("status", "children"),
        Output("tick", "disabled"),
        Output("shown", "data"),
        Input("tick", "n_intervals"),
        Input("job", "data"),
        State("shown", "data"),
    )
    def _tick(_n: int, job_id: int | None, shown: int | None) -> tuple:
        return on_tick(ex, job_id, shown)

    @app.callback(
        Output("headline", "children"),
        *[Output(f"fig-{g}", "figure") for g in GRAPHS],
        Input("shown", "data"),
        prevent_initial_call=True,
    )
    def _show(job_id: int | None) -> tuple:
        return on_show(ex, job_id)

    @app.callback(
        Output("download-scenario", "data"),
        Input("save", "n_clicks"),
        *_levers(State),
        prevent_initial_call=True,
    )
    def _save(_clicks: int, *args: Any) -> Any:
        return on_save(ex, *values(args))

    @app.callback(
        Output("download-report", "data"),
        Output("report-note", "children"),
        Input("report", "n_clicks"),
        State("shown", "data"),
        prevent_initial_call=True,
    )
    def _report(_clicks: int, shown: int | None) -> tuple:
        return on_report(ex, shown)

    @app.callback(
        Output({"kind": "agreement", "path": MATCH}, "disabled"),
        Input({"kind": "on", "path": MATCH}, "value"),
    )
    def _switch(value: list[str]) -> bool:
        return not value
