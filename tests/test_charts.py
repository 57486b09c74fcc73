"""The standard charts: four valid PNGs in every results folder, agreement or not."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest

from sim.charts import policy_markers, skipped_run_charts, write_run_charts
from sim.model import Model
from sim.results import RunResult
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
CHARTS = {
    "encounters_by_nationality.png",
    "custody.png",
    "transfers_vs_cap.png",
    "dispositions_by_group.png",
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(scenario: str, scale: float = 0.05) -> RunResult:
    s = load_scenario(ROOT / "scenarios" / scenario, [f"scale={scale}"])
    return Model(s).run()


@pytest.fixture(scope="module")
def aca_charts(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    folder = tmp_path_factory.mktemp("aca") / "charts"
    return write_run_charts(_run("aca_guatemala.toml"), folder), folder


def _image(path: Path) -> np.ndarray:
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    img = mpimg.imread(path)
    height, width = img.shape[:2]
    assert 800 <= width <= 4000 and 500 <= height <= 4000, (path.name, img.shape)
    return img


def test_writes_the_four_charts(aca_charts: tuple[list[Path], Path]) -> None:
    paths, folder = aca_charts
    assert {p.name for p in paths} == CHARTS
    assert {p.name for p in folder.iterdir()} == CHARTS
    for p in paths:
        _image(p)
    assert not plt.get_fignums(), "every figure must be closed"


def test_transfers_chart_is_not_blank(aca_charts: tuple[list[Path], Path]) -> None:
    _, folder = aca_charts
    rgb = _image(folder / "transfers_vs_cap.png")[..., :3]
    white = (rgb > 0.97).all(axis=-1)
    # bars for ~900 transferred persons cover far more than the text and axes alone
    assert white.mean() < 0.85
    # the group colours are on the image: single adults (blue) and families (orange)
    blue = (np.abs(rgb - np.array([0x00, 0x72, 0xB2]) / 255) < 0.02).all(axis=-1)
    orange = (np.abs(rgb - np.array([0xE6, 0x9F, 0x00]) / 255) < 0.02).all(axis=-1)
    assert blue.mean() > 0.01 and orange.mean() > 0.005


def test_no_agreement_skips_the_transfers_chart_and_says_why(tmp_path: Path) -> None:
    result = _run("baseline.toml", scale=0.02)
    paths = write_run_charts(result, tmp_path)
    assert {p.name for p in paths} == CHARTS - {"transfers_vs_cap.png"}
    assert {p.name for p in tmp_path.iterdir()} == CHARTS - {"transfers_vs_cap.png"}
    for p in paths:
        _image(p)
    assert skipped_run_charts(result) == {
        "charts/transfers_vs_cap.png": "no agreement in this scenario"
    }
    assert not plt.get_fignums()


def test_run_folder_manifest_records_skipped_charts(tmp_path: Path) -> None:
    import json

    out = _run("baseline.toml", scale=0.02).write(tmp_path / "run")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["charts_skipped"] == {
        "charts/transfers_vs_cap.png": "no agreement in this scenario"
    }
    assert not (out / "charts" / "transfers_vs_cap.png").exists()


def test_monthly_bars_do_not_touch_the_frame() -> None:
    """dispositions_by_group.png and the encounters chart: every bar lies inside the x
    range with room to spare on both sides (they used to touch the frame)."""
    from matplotlib.collections import PolyCollection

    from sim.charts import _dispositions_chart, _encounters_chart

    result = _run("aca_guatemala.toml", scale=0.02)
    panels = 0
    for draw in (_dispositions_chart, _encounters_chart):
        fig = draw(result)
        try:
            for ax in fig.axes:
                # the bars of a panel are one collection of rectangles (sim.charts._bar_collection)
                boxes = [
                    path.vertices
                    for c in ax.collections
                    if isinstance(c, PolyCollection)
                    for path in c.get_paths()
                    if np.ptp(path.vertices[:, 1])  # a bar of some height
                ]
                if not boxes:
                    continue
                panels += 1
                lo, hi = ax.get_xlim()
                left = min(b[:, 0].min() for b in boxes)
                right = max(b[:, 0].max() for b in boxes)
                assert left - lo >= 2 and hi - right >= 2, (draw.__name__, lo, left, right, hi)
        finally:
            plt.close(fig)
    assert panels == 4  # the three groups' panels and the encounters panel were checked


def test_policy_markers_merge_agreements_starting_together() -> None:
    s = load_scenario(ROOT / "scenarios" / "all_three_agreements.toml")
    labels = [m.label for m in policy_markers(s)]
    assert "ACA starts (single adults): guatemala, honduras, el_salvador" in labels
    assert "ACA ends: guatemala, honduras, el_salvador" in labels
    assert "MPP begins" in labels and "Transit bar" in labels
    assert sum("surge" in lab for lab in labels) == 1  # the 2000 step is before the start
