"""Reports of a backtest folder (forecast scores against the baselines, fan charts) and of
an attribution folder (Shapley contributions per mechanism, the waterfall), with the same
header facts as every report: replications, scale and posterior use."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.report.charts import chart_paths, charts_body
from sim.report.fmt import number, signed, signed_interval
from sim.report.folders import read_csv
from sim.report.html import Cell, Html, code, join, note, paragraph, table
from sim.report.page import Report, Section
from sim.report.provenance import manifest_body

SERIES = {
    "usbp_total": "USBP apprehensions",
    "single_adults": "Single adults",
    "family_unit_individuals": "Family-unit members",
    "unaccompanied_children": "Unaccompanied children",
}


def _settings(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    settings = manifest.get("settings")
    return settings if isinstance(settings, Mapping) else {}


def _facts(manifest: Mapping[str, Any]) -> list[str]:
    s = _settings(manifest)
    facts = [f"scenario {manifest.get('scenario_name', '?')}"]
    if s.get("reps") is not None:
        facts.append(f"{s['reps']} replication{'' if s['reps'] == 1 else 's'}")
    if s.get("scale") is not None:
        facts.append(f"scale {s['scale']}")
    posterior = s.get("posterior", "calibrated per origin" if "origins" in s else None)
    facts.append(f"posterior draws: {'no' if posterior is None else 'yes'}")
    return facts


def _manifest_section(folder: Path, manifest: Mapping[str, Any]) -> Section:
    facts: list[tuple[str, Cell]] = [
        ("Command", code(manifest.get("command", "–"))),
        ("Scenario hash", code(manifest.get("scenario_hash", "–"))),
        ("Run time", f"{number(manifest.get('wall_seconds'), 1)} s wall clock"),
    ]
    return Section("manifest", "Manifest", manifest_body(manifest, folder, facts))


def _charts_section(folder: Path, manifest: Mapping[str, Any], caption: str) -> Section:
    charts = chart_paths(folder)
    captions = {p.name: caption for p in charts}
    return Section("charts", "Charts", charts_body(charts, captions))


def build_backtest(folder: Path, manifest: Mapping[str, Any]) -> Report:
    scores = read_csv(folder / "scores.csv")
    s = _settings(manifest)
    rows = [
        [
            SERIES.get(str(r.series), str(r.series)),
            str(r.method),
            str(r.horizon),
            number(r.n, 0),
            number(r.mape, 1),
            number(r.mase, 2),
            number(r.coverage90, 2),
        ]
        for r in scores.sort_values(["series", "horizon", "method"], kind="stable").itertuples()
    ]
    header = ["Series", "Method", "Horizon (months)", "n", "MAPE %", "MASE", "90% coverage"]
    intro = paragraph(
        "Out-of-sample forecast scores per series, horizon and method: the model calibrated "
        "on the months up to each origin, against persistence, seasonal naive and an ETS "
        "model. Lower MAPE and MASE are better; MASE below 1 beats the in-sample one-step "
        "naive forecast; 90% coverage is the share of observations inside the band."
    )
    origins = ", ".join(str(o) for o in s.get("origins", [])) or "–"
    return Report(
        kind="backtest",
        title=f"Backtest of {manifest.get('scenario_name', folder.name)}",
        facts=[*_facts(manifest), f"origins {origins}"],
        sections=[
            Section(
                "scores",
                "Forecast scores",
                join([intro, table(header, rows, numeric=range(2, 7))]),
            ),
            _charts_section(
                folder, manifest, "Fan chart: observed, model mean and 90% band, baselines."
            ),
            _manifest_section(folder, manifest),
        ],
    )


def build_attribution(folder: Path, manifest: Mapping[str, Any]) -> Report:
    t = read_csv(folder / "attribution.csv")
    parts: list[Html] = [
        paragraph(
            "Exact Shapley values: each mechanism's contribution to the simulated change over "
            "the window (persons a month), with the 90% interval over replications; the row "
            "`none` is the change with every mechanism off. Contributions add up to the "
            "simulated change, shown next to the observed one."
        )
    ]
    for series, g in t.groupby("series", sort=False):
        rows = [
            [
                str(r.mechanism),
                signed(r.contribution, 0),
                signed_interval(r.contribution_lo90, r.contribution_hi90, 0),
            ]
            for r in g.itertuples()
        ]
        first = g.iloc[0]
        caption = (
            f"{SERIES.get(str(series), series)}: simulated change "
            f"{signed(first['simulated_change'], 0)}, observed {signed(first['observed_change'], 0)}"
        )
        parts.append(
            table(["Mechanism", "Contribution", "90% interval"], rows, [1, 2], caption=caption)
        )
    inactive = _settings(manifest).get("inactive_players")
    if isinstance(inactive, Mapping) and inactive:
        parts.append(
            note("Inactive in the window: " + "; ".join(f"{k}: {v}" for k, v in inactive.items()))
        )
    window = _settings(manifest).get("window") or ["?", "?"]
    return Report(
        kind="attribution",
        title=f"What drove the change, {window[0]} to {window[-1]}",
        facts=_facts(manifest),
        sections=[
            Section("contributions", "Contributions", join(parts)),
            _charts_section(folder, manifest, "Waterfall of the contributions per series."),
            _manifest_section(folder, manifest),
        ],
    )
