"""The report of a run folder: one replication, so its headline numbers are single draws
without intervals, and the report says so rather than let them pass for estimates."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.metrics import FLOWS, STOCKS
from sim.report.charts import RUN_CAPTIONS, chart_paths, charts_body
from sim.report.fmt import number, period_fact
from sim.report.folders import read_csv
from sim.report.html import Cell, Html, code, join, note, table
from sim.report.page import Report, Section
from sim.report.provenance import manifest_body
from sim.report.scenario import single
from sim.scenario.parent import find_parent

OTHER = {
    "mean_custody_hours": ("mean hours in custody per person leaving custody", 1),
    "custody_person_days": ("person-days in custody", 0),
    "asylum_backlog_end": ("asylum cases pending in the receiving countries at the end", 0),
    "people_simulated": ("distinct persons who set out, warm-up included", 0),
    "wall_seconds": ("wall-clock seconds the simulation took", 1),
}


def meaning(indicator: str) -> str:
    if indicator in OTHER:
        return OTHER[indicator][0]
    if indicator.startswith("peak_"):
        stock = indicator.removeprefix("peak_")
        return f"highest daily value: {STOCKS.get(stock, stock.replace('_', ' '))}"
    return FLOWS.get(indicator, "")


def _group(indicator: str, agreement: str) -> str:
    if agreement:
        return "Per agreement (persons, over the reported period)"
    if indicator.startswith("peak_"):
        return "Peaks of the stocks (persons)"
    if indicator in OTHER:
        return "Custody, backlog and the run itself"
    return "Totals over the reported period (persons)"


def headline(folder: Path, manifest: Mapping[str, Any]) -> Html:
    """summary.csv as a table, with the single-run caveat above it."""
    rep, seed = manifest.get("replication", 0), manifest.get("seed", "?")
    caveat = note(
        f"A single run (replication {rep}, seed {seed}): every number below is one draw of a "
        "random process, with no interval. For means with 5–95% intervals, run "
        "`migsim batch SCENARIO --reps 20` and report that folder."
    )
    path = folder / "summary.csv"
    if not path.is_file():
        return join([caveat, note("summary.csv is missing from this folder.")])
    summary = read_csv(path, text_columns=("agreement",))
    rows: list[list[Cell]] = []
    groups: dict[int, str] = {}
    last = None
    order = sorted(range(len(summary)), key=lambda i: _rank(summary.iloc[i]))
    for i in order:
        r = summary.iloc[i]
        group = _group(r["indicator"], r["agreement"])
        if group != last:
            groups[len(rows)], last = group, group
        label = r["indicator"] + (f" ({r['agreement']})" if r["agreement"] else "")
        decimals = OTHER.get(r["indicator"], ("", None))[1]
        rows.append([code(label), meaning(r["indicator"]), number(r["value"], decimals)])
    return join(
        [caveat, table(["Indicator", "Meaning", "Value"], rows, numeric=[2], group_rows=groups)]
    )


def _rank(row: Any) -> int:
    """Totals, per agreement, peaks, other: the order of summary.csv, grouped."""
    return [
        "Totals over the reported period (persons)",
        "Per agreement (persons, over the reported period)",
        "Peaks of the stocks (persons)",
        "Custody, backlog and the run itself",
    ].index(_group(row["indicator"], row["agreement"]))


def _origin(manifest: Mapping[str, Any]) -> list[tuple[str, Cell]]:
    rows: list[tuple[str, Cell]] = []
    if manifest.get("scenario_file"):
        rows.append(("Scenario file", code(manifest["scenario_file"])))
    if "scenario_extends" in manifest:
        rows.append(("Extends", code(manifest["scenario_extends"] or "nothing")))
    overrides = manifest.get("scenario_overrides")
    if overrides:
        rows.append(("--set", join(code(o) + " " for o in overrides)))
    return rows


def build_run(folder: Path, manifest: Mapping[str, Any]) -> Report:
    scenario = manifest.get("scenario") or {}
    parent = find_parent(
        scenario,
        manifest.get("scenario_extends"),
        "scenario_file" in manifest,
        folder=folder,
        stored=manifest.get("scenario_parent"),
    )
    name = scenario.get("name") or manifest.get("scenario_name") or folder.name
    facts = [period_fact(manifest, scenario)]
    if "scale" in scenario:
        facts.append(f"scale {scenario['scale']:g}")
    facts.append(f"1 replication (seed {manifest.get('seed', '?')})")
    run_facts: list[tuple[str, Cell]] = [
        ("Scenario hash", code(manifest.get("scenario_hash", "?"))),
        ("Seed", str(manifest.get("seed", "?"))),
        ("Replication", str(manifest.get("replication", "?"))),
        (
            "Run time",
            f"{number(manifest.get('run_seconds'), 1)} s, "
            f"{number(manifest.get('simpy_events'))} SimPy events",
        ),
        ("People simulated", number(manifest.get("people_simulated"))),
    ]
    charts = chart_paths(folder, list(RUN_CAPTIONS))
    return Report(
        kind="run",
        title=str(name),
        lede=str(scenario.get("description", "")),
        facts=facts,
        sections=[
            Section("headline", "Headline numbers", headline(folder, manifest)),
            Section(
                "charts",
                "Charts",
                charts_body(charts, RUN_CAPTIONS, skipped=manifest.get("charts_skipped")),
            ),
            Section("scenario", "Scenario", single(scenario, parent, _origin(manifest))),
            Section("manifest", "Manifest", manifest_body(manifest, folder, run_facts)),
        ],
    )
