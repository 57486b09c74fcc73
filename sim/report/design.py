"""What a sweep or sensitivity folder computed, before anything else: the design (lever
values per point, points named by their values, identical points merged), the outcome
surface of a sweep, and the sensitivity indices as ranked tables with their chart.

Sensitivity designs repeat points (a Morris trajectory on a 4-level grid revisits grid
cells; `p000 = p005 = p012`): they run once and the design table says which ids share a
scenario, so a reader never wonders why several ids show the same totals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.batch.names import same_as, value_text
from sim.report.charts import charts_body
from sim.report.fmt import interval, number, signed
from sim.report.folders import read_parquet
from sim.report.html import Cell, Html, join, note, paragraph, table, tag
from sim.report.run import meaning

METHOD_NAME = {"morris": "Morris elementary effects", "sobol": "Sobol indices"}


def lever_names(points: Sequence[Mapping[str, Any]]) -> list[str]:
    levers = points[0].get("levers") if points else None
    return list(levers) if isinstance(levers, Mapping) else []


def design_body(points: Sequence[Mapping[str, Any]], reps: Any) -> Html:
    """One row per distinct scenario: its lever values, the ids that share it, its runs."""
    levers = lever_names(points)
    repeats = same_as(points)
    shared: dict[str, list[str]] = {}
    for label, first in repeats.items():
        shared.setdefault(first, []).append(label)
    distinct = [p for p in points if str(p.get("point")) not in repeats]
    rows: list[list[Cell]] = []
    for p in distinct:
        label = str(p.get("point"))
        values = [value_text((p.get("levers") or {}).get(lv, "–")) for lv in levers]
        rows.append([*values, ", ".join([label, *shared.get(label, [])])])
    n_reps = reps if isinstance(reps, int) else None
    runs = f"{len(distinct) * n_reps:,} runs" if n_reps else "its runs"
    text = (
        f"{len(points)} design points, {len(distinct)} distinct scenarios; each distinct "
        f"scenario ran {n_reps or '?'} replications ({runs})."
    )
    parts = [paragraph(text)]
    if repeats:
        parts.append(
            note(
                f"{len(repeats)} design points have the same lever values as an earlier point "
                "(the sampling design revisits grid cells). They share that point's runs and "
                "totals; the table lists every id of a scenario on its row, and the charts "
                "draw it once."
            )
        )
    parts.append(table([*levers, "Design points (ids)"], rows, caption="Design"))
    return join(parts)


def surface_table(totals: pd.DataFrame, points: Sequence[Mapping[str, Any]]) -> Html:
    """A sweep's outcome means per distinct point, next to its lever values."""
    from sim.batch.outputs import SURFACE_OUTCOMES

    levers = lever_names(points)
    repeats = same_as(points)
    distinct = [p for p in points if str(p.get("point")) not in repeats]
    t = totals[(totals["agreement"].fillna("").astype(str) == "")]
    t = t[t["indicator"].isin(SURFACE_OUTCOMES)]
    runs = totals[["point", "replication"]].drop_duplicates()
    per_run = t.pivot_table(
        index=["point", "replication"], columns="indicator", values="value", aggfunc="first"
    )
    per_run = per_run.reindex(pd.MultiIndex.from_frame(runs)).fillna(0.0)
    means = per_run.groupby(level="point").mean()
    outcomes = [o for o in SURFACE_OUTCOMES if o in means.columns]
    rows = [
        [
            *(value_text((p.get("levers") or {}).get(lv, "–")) for lv in levers),
            *(number(means.at[str(p["point"]), o], 0) for o in outcomes),
        ]
        for p in distinct
        if str(p.get("point")) in means.index
    ]
    header = [*levers, *(o.replace("_", " ") for o in outcomes)]
    return table(
        header,
        rows,
        numeric=range(len(levers), len(header)),
        caption="Outcome means across replications (persons; totals over the period)",
    )


def _morris_rows(d: pd.DataFrame) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for rank, r in enumerate(d.itertuples(index=False), start=1):
        lo = max(float(r.mu_star) - float(r.mu_star_conf), 0.0)
        ratio = float(r.sigma) / float(r.mu_star) if float(r.mu_star) > 0 else float("nan")
        rows.append(
            [
                str(rank),
                r.lever,
                number(r.mu_star, 0),
                interval(lo, float(r.mu_star) + float(r.mu_star_conf), 0),
                number(r.sigma, 0),
                signed(r.mu, 0),
                number(ratio, 2),
            ]
        )
    return rows


def _sobol_rows(d: pd.DataFrame) -> list[list[Cell]]:
    return [
        [
            str(rank),
            r.lever,
            number(r.S1, 3),
            interval(r.S1 - r.S1_conf, r.S1 + r.S1_conf, 3),
            number(r.ST, 3),
            interval(r.ST - r.ST_conf, r.ST + r.ST_conf, 3),
        ]
        for rank, r in enumerate(d.itertuples(index=False), start=1)
    ]


MORRIS_HEADER = ["Rank", "Lever", "μ*", "95% interval of μ*", "σ", "μ", "σ / μ*"]
SOBOL_HEADER = ["Rank", "Lever", "S1", "95% interval of S1", "ST", "95% interval of ST"]


def method_of(folder: Path, manifest: Mapping[str, Any]) -> str:
    recorded = manifest.get("sensitivity")
    if isinstance(recorded, Mapping) and recorded.get("method") in METHOD_NAME:
        return str(recorded["method"])
    return "sobol" if (folder / "sensitivity_sobol.parquet").is_file() else "morris"


def indices_body(folder: Path, manifest: Mapping[str, Any]) -> Html:
    """Ranked tables of the indices per outcome, then the chart of them all."""
    from sim.batch.sensitivity import ranked

    method = method_of(folder, manifest)
    path = folder / f"sensitivity_{method}.parquet"
    if not path.is_file():
        return note(f"sensitivity_{method}.parquet is missing: the indices were not computed.")
    indices = read_parquet(path)
    if method == "morris":
        intro = (
            "Morris elementary effects: how much an outcome changes when one lever moves over "
            "its whole range, the others held. μ* is the mean absolute effect (persons), the "
            "measure of influence; σ their spread: a σ near or above μ* means the effect "
            "depends on the other levers or is not linear; μ keeps the sign (μ near μ* means "
            "the outcome rises with the lever). Levers are ranked by μ*; the interval is "
            "SALib's 95% bootstrap interval."
        )
        header, make = MORRIS_HEADER, _morris_rows
    else:
        intro = (
            "Sobol indices: the share of an outcome's variance due to a lever alone (S1) and "
            "including its interactions (ST), with 95% confidence intervals; ranked by ST."
        )
        header, make = SOBOL_HEADER, _sobol_rows
    parts: list[Html] = [paragraph(intro)]
    for outcome in dict.fromkeys(indices["outcome"]):
        d = ranked(indices[indices["outcome"] == outcome], method)
        parts.append(tag("h3", outcome.replace("_", " ")))
        if meaning(outcome):
            parts.append(paragraph(meaning(outcome), cls="muted"))
        parts.append(table(header, make(d), numeric=range(2, len(header))))
    chart = folder / "charts" / f"sensitivity_{method}.png"
    if not chart.is_file():  # folders written before the chart moved into charts/
        chart = folder / f"sensitivity_{method}.png"
    if chart.is_file():
        caption = f"{METHOD_NAME[method]} per outcome, most influential lever first."
        parts.append(charts_body([chart], {chart.name: caption}))
    else:
        parts.append(note(f"charts/sensitivity_{method}.png is missing (--no-charts)."))
    return join(parts)
