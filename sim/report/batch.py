"""The report of a batch (or sweep) folder: headline totals with intervals (`intervals`),
the batch's charts, its scenarios side by side with their differences from the scenario
each extends (a sweep's points: from the sweep's base), and the manifest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.batch.names import names, same_as
from sim.report.charts import batch_caption, chart_paths, charts_body
from sim.report.design import design_body, indices_body, surface_table
from sim.report.fmt import number
from sim.report.folders import read_parquet
from sim.report.html import Cell, Html, code, details, join, note, table, tag
from sim.report.intervals import headline
from sim.report.page import Report, Section
from sim.report.provenance import manifest_body
from sim.report.scenario import MAX_POINTS, differences, levers_compared, show
from sim.scenario.parent import Parent, defaults, extends_of, find_parent


def _points(folder: Path, manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Point records from the manifest, or (without one) from design.parquet."""
    recorded = manifest.get("points")
    if isinstance(recorded, list) and recorded:
        return [dict(p) for p in recorded]
    design = read_parquet(folder / "design.parquet")
    cols = [c for c in ("point", "scenario", "hash", "seed", "source") if c in design.columns]
    return design[cols].drop_duplicates("point").to_dict("records")


def _points_table(points: Sequence[Mapping[str, Any]]) -> Html:
    rows = [
        [
            str(p.get("point", "?")),
            str(p.get("scenario", "")),
            code(p.get("source") or "–"),
            str(p.get("seed", "–")),
            code(p.get("hash", "–")),
            ", ".join(f"{k} = {show(v)}" for k, v in (p.get("levers") or {}).items()) or "–",
        ]
        for p in points
    ]
    return table(["Point", "Scenario", "Source", "Seed", "Hash", "Sweep levers"], rows)


def _sweep_base(manifest: Mapping[str, Any]) -> str | None:
    sweep = manifest.get("sweep")
    base = sweep.get("base") if isinstance(sweep, Mapping) else None
    return str(base) if base else None


def _parent_of(
    point: Mapping[str, Any], sweep_base: str | None, folder: Path, stored: Mapping[str, Any]
) -> Parent:
    """A sweep's points are compared with the sweep's base scenario; a batch's scenarios
    with the file their own file extends. Both are recorded in the manifest at run time
    (`scenario_parents`: per point label, or "*" for a sweep's base); a folder that does
    not record them has its paths followed only inside the folder."""
    resolved = point.get("resolved") or {}
    record = stored.get(str(point.get("point"))) or stored.get("*")
    if sweep_base:
        return find_parent(resolved, sweep_base, recorded=True, folder=folder, stored=record)
    source = point.get("source")
    if not source:
        return find_parent(resolved, None, recorded=False, stored=record)
    if record is None and not Path(source).resolve().is_relative_to(folder.resolve()):
        return defaults(
            resolved,
            f"its scenario file {source} is outside the results folder and the manifest "
            "does not record its parent (a report never opens files a manifest points to "
            "elsewhere)",
        )
    if record is None:
        extends, problem = extends_of(source)
        if problem:
            return defaults(resolved, problem)
        return find_parent(resolved, extends, recorded=True, folder=folder)
    return find_parent(resolved, None, recorded=True, stored=record)


def scenario_body(
    points: Sequence[Mapping[str, Any]],
    sweep_base: str | None,
    folder: Path | None = None,
    stored: Mapping[str, Any] | None = None,
) -> Html:
    folder = folder if folder is not None else Path(".")
    stored = stored if isinstance(stored, Mapping) else {}
    parts: list[Html] = [_points_table(points)]
    with_resolved = [p for p in points if p.get("resolved")]
    if not with_resolved:
        parts.append(note("The manifest does not record the resolved scenarios."))
        return join(parts)
    parts += [
        tag("h3", "Key levers"),
        levers_compared([(str(p["point"]), p["resolved"]) for p in with_resolved]),
        tag(
            "h3",
            "Differences from the sweep's base"
            if sweep_base
            else "Differences from each scenario's parent",
        ),
    ]
    for p in with_resolved[:MAX_POINTS]:
        parent = _parent_of(p, sweep_base, folder, stored)
        parts.append(
            details(
                f"{p['point']}: compared with {parent.label}",
                differences(p["resolved"], parent),
                is_open=len(with_resolved) <= 4,
            )
        )
    if len(with_resolved) > MAX_POINTS:
        parts.append(note(f"Only the first {MAX_POINTS} of {len(with_resolved)} points are shown."))
    return join(parts)


def _failures(manifest: Mapping[str, Any]) -> Html:
    failures = manifest.get("failures") or []
    if not failures:
        return Html("")
    rows = [
        [
            str(f.get("point", "?")),
            str(f.get("replication", "?")),
            f"{f.get('type', '')}: {f.get('message', '')}",
        ]
        for f in failures
    ]
    return join(
        [
            note(f"{len(failures)} run(s) failed; the numbers above leave them out."),
            table(["Point", "Replication", "Error"], rows),
        ]
    )


def _batch_facts(
    manifest: Mapping[str, Any], points: Sequence[Mapping[str, Any]]
) -> list[tuple[str, Cell]]:
    runs = manifest.get("runs") or {}
    timings = manifest.get("timings") or {}
    rows: list[tuple[str, Cell]] = [
        ("Command", code(manifest.get("command", "–"))),
        ("Status", str(manifest.get("status", "–"))),
        ("Replications per scenario", str(manifest.get("reps", "–"))),
        ("Scale", scale_text(manifest, points)),
        ("Posterior draws", posterior_text(manifest)),
        ("Reference", str(manifest.get("reference", "–"))),
        ("Paired (common random numbers)", "yes" if manifest.get("paired") else "no"),
        ("Executor", str(manifest.get("executor", "–"))),
        (
            "Runs",
            ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in runs.items()) if runs else "–",
        ),
        ("Started", str(timings.get("started", "–"))),
        (
            "Run time",
            f"{number(timings.get('wall_seconds'), 1)} s wall clock; "
            f"{number(timings.get('run_seconds_mean'), 1)} s per run on average",
        ),
        (
            "Seeds and scenario hashes",
            join(
                tag(
                    "div",
                    join(
                        [
                            f"{p.get('point')}: seed {p.get('seed', '–')}, hash ",
                            code(p.get("hash", "–")),
                        ]
                    ),
                )
                for p in points
            ),
        ),
    ]
    return rows


def scale_text(manifest: Mapping[str, Any], points: Sequence[Mapping[str, Any]]) -> str:
    """The simulation scale: recorded by the batch, else read from the resolved scenarios."""
    scale = manifest.get("scale")
    if scale is None:
        found = {(p.get("resolved") or {}).get("scale") for p in points} - {None}
        scale = found.pop() if len(found) == 1 else None
    if isinstance(scale, Mapping):
        return "differs by scenario: " + ", ".join(f"{k} {v:g}" for k, v in scale.items())
    if isinstance(scale, int | float):
        scaled = " (counts scaled back to persons)" if scale < 1 else ""
        return f"{scale:g}{scaled}"
    return "not recorded"


def posterior_text(manifest: Mapping[str, Any]) -> str:
    """Whether replications drew parameters from a calibration posterior."""
    if "posterior" not in manifest:
        return "not recorded (a batch made before migsim recorded it)"
    posterior = manifest.get("posterior")
    if not isinstance(posterior, Mapping):
        return "no: every replication uses the scenario's own parameters"
    source = manifest.get("posterior_file")
    where = f" from {source}" if source else ""
    return f"yes: {posterior.get('draws', '?')} draws{where}; replication r uses draw r mod draws"


def _title(manifest: Mapping[str, Any], labels: Sequence[str], folder: Path) -> str:
    sweep = manifest.get("sweep")
    if isinstance(sweep, Mapping) and sweep.get("file"):
        stem = Path(str(sweep["file"])).stem
        method = manifest.get("sensitivity")
        if isinstance(method, Mapping) and method.get("method"):
            return f"Sensitivity of {stem} ({str(method['method']).capitalize()})"
        return f"Sweep {stem}"
    if not labels:
        return folder.name
    if len(labels) <= 3:
        return " vs ".join(labels)
    return f"{labels[0]} and {len(labels) - 1} more scenarios"


def _facts(
    manifest: Mapping[str, Any], points: Sequence[Mapping[str, Any]], reference: str
) -> list[str]:
    """The header line: size, replications, scale and posterior use, in plain sight."""
    what = "design point(s)" if _sweep_base(manifest) else "scenario(s)"
    facts = [f"{len(points)} {what}"]
    if manifest.get("reps") is not None:
        facts.append(f"{manifest['reps']} replications each")
    facts.append(f"scale {scale_text(manifest, points)}")
    posterior = posterior_text(manifest)
    facts.append("posterior draws: " + posterior.split(":")[0])
    facts.append(f"reference {names(points).get(reference, reference)}")
    if manifest.get("status"):
        facts.append(str(manifest["status"]).replace("_", " "))
    return facts


def _design_sections(
    folder: Path, manifest: Mapping[str, Any], points: Sequence[Mapping[str, Any]]
) -> list[Section]:
    """Sensitivity: indices then design; sweep: design with its outcome surface."""
    kind = str(manifest.get("kind") or "batch")
    if kind == "sensitivity":
        return [
            Section("indices", "Sensitivity indices", indices_body(folder, manifest)),
            Section("design", "Design", design_body(points, manifest.get("reps"))),
        ]
    if not _sweep_base(manifest):
        return []
    parts = [design_body(points, manifest.get("reps"))]
    if (folder / "totals.parquet").is_file():
        parts.append(surface_table(read_parquet(folder / "totals.parquet"), points))
    surface = folder / "charts" / "sweep_outcomes.png"
    if surface.is_file():
        caption = batch_caption(surface.name, "", _reps(manifest))
        parts.append(charts_body([surface], {surface.name: caption}))
    return [Section("design", "Design and outcome surfaces", join(parts))]


def _reps(manifest: Mapping[str, Any]) -> int | None:
    """Replications per point, where the manifest says (captions name a range a range)."""
    reps = manifest.get("reps")
    return reps if isinstance(reps, int) else None


def build_batch(folder: Path, manifest: Mapping[str, Any]) -> Report:
    points = _points(folder, manifest)
    labels = [str(p.get("point")) for p in points]
    reference = str(manifest.get("reference") or (labels[0] if labels else ""))
    design = _design_sections(folder, manifest, points)
    in_design = {"sweep_outcomes.png", "sensitivity_morris.png", "sensitivity_sobol.png"}
    charts = [
        c
        for c in chart_paths(folder, [Path(c).name for c in manifest.get("charts") or []])
        if c.name not in in_design
    ]
    captions = {p.name: batch_caption(p.name, reference, _reps(manifest)) for p in charts}
    # repeated design points share their runs: the totals are shown once, under the first id
    unique = [p for p in labels if p not in same_as(points)]
    headline_body = join([headline(folder, manifest, unique, names(points)), _failures(manifest)])
    return Report(
        kind=str(manifest.get("kind") or "batch"),
        title=_title(manifest, labels, folder),
        lede="",
        facts=_facts(manifest, points, reference),
        sections=[
            *design,
            Section("headline", "Headline totals with intervals", headline_body),
            Section(
                "charts",
                "Charts",
                charts_body(charts, captions, skipped=manifest.get("charts_skipped")),
            ),
            Section(
                "scenario",
                "Scenarios",
                scenario_body(
                    points, _sweep_base(manifest), folder, manifest.get("scenario_parents")
                ),
            ),
            Section(
                "manifest",
                "Manifest",
                manifest_body(manifest, folder, _batch_facts(manifest, points)),
            ),
        ],
    )
