"""The report of a validation folder: the fit metrics against the observed series, next
to the naive forecasts the model has to beat, with the observed-vs-simulated charts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.report.charts import chart_paths, charts_body
from sim.report.fmt import interval, number, period_fact
from sim.report.folders import read_csv
from sim.report.html import Cell, Html, code, details, join, note, paragraph, table, tag
from sim.report.page import Report, Section
from sim.report.provenance import manifest_body
from sim.report.scenario import single
from sim.scenario.parent import find_parent
from sim.validation.report import LEGEND, verdict
from sim.validation.series import CHARTS, SERIES_BY_NAME

FEW_REPS = 10
SERIES_HEADER = [
    "Series",
    "Months",
    "Observed total",
    "Simulated total (mean)",
    "MAPE %",
    "Total error %",
    "Corr.",
    "ARD",
    "Naive same-month MAPE %",
    "Naive last-month MAPE %",
    "Beats naive",
]
GROUP_HEADER = [
    "Split (Flee ARD)",
    "Months",
    "Model",
    "Same-month naive",
    "Last-month naive",
    "Beats naive",
]


def _label(name: str) -> str:
    s = SERIES_BY_NAME.get(name)
    return s.label if s else name.replace("_", " ")


def _series_rows(metrics: pd.DataFrame) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for _, r in metrics[metrics["kind"] == "series"].iterrows():
        rows.append(
            [
                _label(r["series"]),
                number(r["months"], 0),
                number(r["observed_total"]),
                number(r["sim_total"]),
                number(r["mape"], 1),
                number(r["total_error"], 1),
                number(r["correlation"], 2),
                number(r["ard"], 3),
                number(r.get("naive_same_month_mape"), 1),
                number(r.get("naive_last_month_mape"), 1),
                verdict(r),
            ]
        )
    return rows


def _group_rows(metrics: pd.DataFrame) -> list[list[Cell]]:
    return [
        [
            str(r["series"]).replace("_", " "),
            number(r["months"], 0),
            number(r["ard"], 3),
            number(r.get("naive_same_month_ard"), 3),
            number(r.get("naive_last_month_ard"), 3),
            verdict(r),
        ]
        for _, r in metrics[metrics["kind"] == "group"].iterrows()
    ]


def metrics_block(path: Path, title: str) -> Html:
    """One metrics file: the per-series table, then the splits."""
    metrics = read_csv(path)
    if metrics.empty:
        return join([tag("h3", title), paragraph("No months to compare.")])
    parts = [
        tag("h3", title),
        table(SERIES_HEADER, _series_rows(metrics), numeric=range(1, 10)),
    ]
    groups = _group_rows(metrics)
    if groups:
        parts.append(table(GROUP_HEADER, groups, numeric=range(1, 5)))
    return join(parts)


def monthly_block(path: Path) -> Html:
    """monthly.csv, folded: every compared month with the simulated band and the naives."""
    if not path.is_file():
        return Html("")
    m = read_csv(path, text_columns=("sample",))
    rows = [
        [
            _label(r["series"]),
            str(r["month"]),
            str(r["sample"]).replace("_", "-") or "–",
            number(r["observed"]),
            number(r["sim_mean"]),
            interval(r["sim_p5"], r["sim_p95"]),
            number(r.get("naive_same_month")),
            number(r.get("naive_last_month")),
        ]
        for _, r in m.iterrows()
    ]
    header = [
        "Series",
        "Month",
        "Sample",
        "Observed",
        "Simulated mean",
        "5–95%",
        "Same-month naive",
        "Last-month naive",
    ]
    return details(
        f"Monthly values ({len(rows)} rows, monthly.csv)", table(header, rows, numeric=range(3, 8))
    )


def headline(folder: Path, manifest: Mapping[str, Any]) -> Html:
    reps = manifest.get("reps")
    parts: list[Html] = [
        paragraph(
            f"Simulated values are means over {reps if reps is not None else 'the'} replications; "
            "the charts and the monthly table show their 5–95% band. The model is compared with "
            "two naive forecasts built from the observed data alone."
        )
    ]
    if isinstance(reps, int) and reps < FEW_REPS:
        parts.append(
            note(f"Only {reps} replication(s): the 5–95% bands are narrow and only indicative.")
        )
    parts.append(
        metrics_block(folder / "metrics.csv", "In-sample (the shipped FY2018–FY2019 series)")
    )
    oos = folder / "metrics_out_of_sample.csv"
    if oos.is_file():
        parts.append(metrics_block(oos, "Out-of-sample (months after September 2019)"))
    parts.append(tag("h3", "How to read it"))
    parts += [paragraph(line) for line in LEGEND.splitlines()]
    parts += [note(f"Note: {n}") for n in manifest.get("notes", [])]
    parts.append(monthly_block(folder / "monthly.csv"))
    return join(parts)


def _replications(manifest: Mapping[str, Any]) -> str:
    reps = manifest.get("replications") or []
    return (
        "; ".join(
            f"r{r.get('replication')}: seed {r.get('seed')}, {number(r.get('run_seconds'), 1)} s"
            for r in reps
        )
        or "–"
    )


def _observed(manifest: Mapping[str, Any]) -> Html:
    files = manifest.get("observed") or []
    return join(
        tag(
            "div",
            join(
                [
                    f"{f.get('role', '').replace('_', '-')}: ",
                    code(f.get("path", "?")),
                    f" (sha256 {str(f.get('sha256', ''))[:12]}…)",
                ]
            ),
        )
        for f in files
    )


def build_validation(folder: Path, manifest: Mapping[str, Any]) -> Report:
    scenario = manifest.get("scenario") or {}
    parent = find_parent(
        scenario,
        manifest.get("scenario_extends"),
        "scenario_file" in manifest,
        folder=folder,
        stored=manifest.get("scenario_parent"),
    )
    name = scenario.get("name") or manifest.get("scenario_name") or folder.parent.name
    facts = [period_fact(manifest, scenario)]
    if "scale" in scenario:
        facts.append(f"scale {scenario['scale']:g}")
    if manifest.get("reps") is not None:
        facts.append(f"{manifest['reps']} replications")
    if manifest.get("created"):
        facts.append(f"validated {manifest['created']}")
    val_facts: list[tuple[str, Cell]] = [
        ("Scenario hash", code(manifest.get("scenario_hash", "?"))),
        ("Seed", str(manifest.get("seed", "?"))),
        ("Replications", _replications(manifest)),
        ("Seeding", str(manifest.get("seeding", "–"))),
        ("Worker processes", str(manifest.get("jobs", "–"))),
        ("Created", str(manifest.get("created", "–"))),
        ("Observed data", _observed(manifest)),
    ]
    captions = {
        f"{k}.png": f"{v}: observed against the simulated mean and 5–95% band."
        for k, v in CHARTS.items()
    }
    return Report(
        kind="validation",
        title=f"{name}: validation",
        lede=str(scenario.get("description", "")),
        facts=facts,
        sections=[
            Section("headline", "Fit to the observed data", headline(folder, manifest)),
            Section("charts", "Charts", charts_body(chart_paths(folder, list(captions)), captions)),
            Section("scenario", "Scenario", single(scenario, parent)),
            Section("manifest", "Manifest", manifest_body(manifest, folder, val_facts)),
        ],
    )
