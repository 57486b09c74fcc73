"""The folder's own PNG charts, embedded as data URIs with a caption each.

The report draws nothing itself: it shows exactly the charts the run, batch or
validation wrote, so the HTML and the folder never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from sim.intervals import band_words
from sim.report.html import Html, figure, join, note, paragraph, png_data_uri

RUN_CAPTIONS = {
    "encounters_by_nationality.png": "Monthly encounters at the border by nationality, with the "
    "scenario's policy dates.",
    "custody.png": "Persons in CBP custody against the holding capacity, and persons held past "
    "72 hours.",
    "transfers_vs_cap.png": "Weekly transfers under each agreement against its weekly cap.",
    "dispositions_by_group.png": "Monthly outcomes of processing (removal, release, detention, "
    "MPP, transfer, HHS) by group.",
}


def batch_caption(name: str, reference: str, reps: int | None = None) -> str:
    """Captions for `weekly_<metric>.png`, `difference_weekly_<metric>.png`,
    `difference_totals.png`; from fewer than 20 `reps` a band is called a range."""
    stem = Path(name).stem
    band, interval = band_words(reps), band_words(reps, "interval")
    if stem == "weekly_transferred":
        return (
            f"Weekly transfers per agreement and point (median, {band}) against each "
            "point's weekly cap (dashed), in the agreement's own weeks."
        )
    if stem == "sweep_outcomes":
        return f"Outcome totals against the lever values: mean and {interval}."
    if stem == "difference_totals":
        return f"Headline totals: paired difference from {reference}, mean and {interval}."
    if stem.startswith("difference_weekly_"):
        metric = stem.removeprefix("difference_weekly_").replace("_", " ")
        return f"Weekly {metric}: paired difference from {reference}, median and {band}."
    if stem.startswith("weekly_"):
        metric = stem.removeprefix("weekly_").replace("_", " ")
        return f"Weekly {metric} per scenario: median across replications and {band}."
    return stem.replace("_", " ").capitalize() + "."


def chart_paths(folder: Path, order: Sequence[str] = ()) -> list[Path]:
    """PNG files in `folder/charts`: those in `order` first (the writer's order), then the rest."""
    charts = folder / "charts"
    found = sorted(charts.glob("*.png")) if charts.is_dir() else []
    rank = {Path(name).name: i for i, name in enumerate(order)}
    return sorted(found, key=lambda p: (rank.get(p.name, len(rank)), p.name))


def skipped_note(skipped: object) -> Html:
    """The charts the folder's writer left out on purpose, with its reasons (manifest)."""
    if not isinstance(skipped, Mapping) or not skipped:
        return Html("")
    items = "; ".join(f"{name}: {why}" for name, why in skipped.items())
    return note(f"Not drawn, with nothing to show: {items}.")


def charts_body(
    paths: Sequence[Path], captions: Mapping[str, str], intro: str = "", skipped: object = None
) -> Html:
    """One figure per PNG; a note instead when there are none or one is not a PNG, and a
    note naming the charts skipped on purpose (`charts_skipped` in the manifest)."""
    if not paths:
        return skipped_note(skipped) or note(
            "This folder has no charts (it was written with --no-charts)."
        )
    parts: list[Html] = [paragraph(intro)] if intro else []
    parts.append(skipped_note(skipped))
    for path in paths:
        uri = png_data_uri(path)
        caption = captions.get(path.name, path.stem.replace("_", " ").capitalize() + ".")
        if uri is None:
            parts.append(note(f"charts/{path.name} is not a PNG image and is left out."))
            continue
        parts.append(figure(uri, f"{caption} (charts/{path.name})", alt=caption))
    return join(parts)
