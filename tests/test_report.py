"""`migsim report`: a self-contained HTML file that really renders.

The browser tests open each report in headless Chromium (Debian's `chromium`, driven by
the `playwright` package with `executable_path`; no browser is downloaded) and check what
a reader would see: every chart decoded (naturalWidth > 0), the tables there with rows,
no console error, no request leaving the file. Without Chromium they are skipped with the
reason in the `-ra` summary, never silently.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.report import Kind, build, write_report
from sim.report.fmt import number, signed_interval
from sim.report.intervals import HEADLINE, headline_stats
from sim.scenario.loader import load_scenario, resolved_dict
from sim.scenario.parent import find_parent

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
NO_CHROMIUM = "chromium not installed: apt-get install chromium (the CI script does)"
# the flags the environment probe used as root, plus the ones Playwright adds itself
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def migsim(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m sim ARGS` from the project root, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def checked(*args: str) -> subprocess.CompletedProcess[str]:
    out = migsim(*args)
    assert out.returncode == 0, f"migsim {' '.join(args)} failed:\n{out.stderr}"
    return out


# ----------------------------------------------------------------------------- folders
@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    checked(
        "run",
        "scenarios/aca_guatemala.toml",
        "--set",
        "scale=0.05",
        "--set",
        "end=2019-12-31",
        "--out",
        str(out),
    )
    return out


@pytest.fixture(scope="module")
def validation_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "validation"
    checked(
        "validate",
        "scenarios/baseline.toml",
        "--reps",
        "2",
        "--set",
        "scale=0.02",
        "--jobs",
        "1",
        "--out",
        str(out),
    )
    return out


@pytest.fixture(scope="module")
def batch_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "batch"
    checked(
        "batch",
        "scenarios/baseline.toml",
        "scenarios/aca_guatemala.toml",
        "--reps",
        "2",
        "--set",
        "scale=0.02",
        "--set",
        "start=2019-11-01",
        "--set",
        "end=2020-01-01",
        "--jobs",
        "1",
        "--quiet",
        "--out",
        str(out),
    )
    return out


SWEEP = f"""name = "caps"
base = "{(SCENARIOS / "aca_guatemala.toml").as_posix()}"
reps = 2

[[levers]]
name = "weekly_cap"
path = "agreements.guatemala.phase_in.1.weekly_cap"
values = [0, 1000]

[[levers]]
name = "groups"
path = "agreements.guatemala.phase_in.1.groups"
values = [["single_adult"], ["single_adult", "family"]]

[sensitivity]
outcomes = ["transferred", "custody_exits_over_72h"]
trajectories = 3
levels = 2
reps = 1
"""
SHORT = ["--set", "scale=0.02", "--set", "start=2019-11-01", "--set", "end=2020-01-01"]


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "caps.toml"
    path.write_text(SWEEP)
    return path


@pytest.fixture(scope="module")
def sweep_folder(sweep_file: Path) -> Path:
    out = sweep_file.parent / "sweep"
    checked("sweep", str(sweep_file), *SHORT, "--jobs", "1", "--quiet", "--out", str(out))
    return out


@pytest.fixture(scope="module")
def sensitivity_folder(sweep_file: Path) -> Path:
    out = sweep_file.parent / "sensitivity"
    args = ["sensitivity", str(sweep_file), "--method", "morris", *SHORT, "--jobs", "1"]
    checked(*args, "--quiet", "--out", str(out))
    return out


@pytest.fixture(scope="module")
def backtest_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "backtest"
    checked(
        *("backtest", "scenarios/historical.toml", "--origins", "2019-06", "--horizon", "2"),
        *("--trials", "1", "--prefit", "1", "--inner", "1", "--reps", "1", "--scale", "0.02"),
        *("--jobs", "1", "--out", str(out)),
    )
    return out


@pytest.fixture(scope="module")
def attribution_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "attribution"
    checked(
        *("attribute", "scenarios/historical.toml", "--scale", "0.02", "--reps", "2"),
        *("--jobs", "1", "--players", "mpp,enforcement_surge", "--out", str(out)),
    )
    return out


# ----------------------------------------------------------------------------- browser
def chromium_path() -> str | None:
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = chromium_path()
    if exe is None:
        pytest.skip(NO_CHROMIUM)
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed: pip install -e '.[test]'"
    )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


PAGE_FACTS = """() => ({
  images: Array.from(document.images).map(i => ({
    src: i.getAttribute('src').slice(0, 22), complete: i.complete, width: i.naturalWidth })),
  tables: Array.from(document.querySelectorAll('table')).map(t => ({
    cls: t.className, rows: t.tBodies.length ? t.tBodies[0].rows.length : 0,
    head: Array.from(t.querySelectorAll('thead th')).map(th => th.textContent),
    section: t.closest('section') ? t.closest('section').id : '' })),
  sections: Array.from(document.querySelectorAll('section > h2')).map(h => h.textContent),
  facts: (document.querySelector('header .facts-line') || {textContent: ''}).textContent,
  figures: Array.from(document.querySelectorAll('section')).map(s => ({
    id: s.id, images: s.querySelectorAll('img').length })),
})"""


def open_report(browser: Any, path: Path) -> dict[str, Any]:
    """Load the report like a reader; returns what rendered and every problem seen."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url[:80]}"))
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(("file:", "data:"))
            else problems.append(f"network request: {r.url[:80]}")
        ),
    )
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        facts = page.evaluate(PAGE_FACTS)
    finally:
        context.close()
    facts["problems"] = problems
    return facts


def assert_renders(facts: dict[str, Any], charts: int, min_tables: int) -> None:
    assert facts["problems"] == []
    assert len(facts["images"]) == charts
    for img in facts["images"]:
        assert img["src"].startswith("data:image/png;base64")
        assert img["complete"] and img["width"] > 0, img
    data_tables = [t for t in facts["tables"] if "data" in t["cls"]]
    assert len(data_tables) >= min_tables
    assert all(t["rows"] > 0 for t in facts["tables"]), facts["tables"]
    assert facts["sections"][-1] == "Manifest"


def make_report(folder: Path) -> Path:
    out = checked("report", str(folder))
    path = folder / "report.html"
    assert out.stdout.strip().endswith(f"-> {path}")
    return path


def test_run_report_renders_in_chromium(browser: Any, run_folder: Path) -> None:
    path = make_report(run_folder)
    facts = open_report(browser, path)
    assert_renders(facts, charts=len(list((run_folder / "charts").glob("*.png"))), min_tables=2)
    assert facts["sections"][:2] == ["Headline numbers", "Charts"]


def test_validation_report_renders_in_chromium(browser: Any, validation_folder: Path) -> None:
    path = make_report(validation_folder)
    facts = open_report(browser, path)
    charts = len(list((validation_folder / "charts").glob("*.png")))
    assert_renders(facts, charts=charts, min_tables=3)


def test_batch_report_renders_in_chromium(browser: Any, batch_folder: Path) -> None:
    path = make_report(batch_folder)
    facts = open_report(browser, path)
    assert_renders(facts, charts=len(list((batch_folder / "charts").glob("*.png"))), min_tables=3)


def test_batch_report_states_replications_scale_and_posterior(
    browser: Any, batch_folder: Path
) -> None:
    facts = open_report(browser, make_report(batch_folder))
    assert "2 replications each" in facts["facts"]
    assert "scale 0.02" in facts["facts"]
    assert "posterior draws: no" in facts["facts"]


def test_sweep_report_shows_design_and_surfaces_in_chromium(
    browser: Any, sweep_folder: Path
) -> None:
    facts = open_report(browser, make_report(sweep_folder))
    charts = len(list((sweep_folder / "charts").glob("*.png")))
    assert_renders(facts, charts=charts, min_tables=3)
    assert facts["sections"][0] == "Design and outcome surfaces"
    design = [t for t in facts["tables"] if t["section"] == "design"]
    assert design[0]["head"] == ["weekly_cap", "groups", "Design points (ids)"]
    assert design[0]["rows"] == 4  # 2 caps x 2 group rules
    assert any("transferred" in t["head"] for t in design)  # the outcome surface table
    images = {f["id"]: f["images"] for f in facts["figures"]}
    assert images["design"] == 1  # sweep_outcomes.png
    assert "scale 0.02" in facts["facts"] and "2 replications each" in facts["facts"]
    _, text = build(sweep_folder)
    # points are named by their lever values, not by row ids
    assert "weekly_cap 1,000 · groups single_adult+family" in text
    manifest = json.loads((sweep_folder / "manifest.json").read_text())
    assert "charts/weekly_transferred.png" in manifest["charts"]


def test_sensitivity_report_leads_with_the_indices_in_chromium(
    browser: Any, sensitivity_folder: Path
) -> None:
    facts = open_report(browser, make_report(sensitivity_folder))
    assert_renders(facts, charts=1, min_tables=3)
    assert facts["sections"][:2] == ["Sensitivity indices", "Design"]
    indices = [t for t in facts["tables"] if t["section"] == "indices"]
    assert len(indices) == 2  # one ranked table per outcome
    for t in indices:
        assert t["head"][:4] == ["Rank", "Lever", "μ*", "95% interval of μ*"]
        assert "σ" in t["head"] and t["rows"] == 2  # both levers
    images = {f["id"]: f["images"] for f in facts["figures"]}
    assert images["indices"] == 1  # the indices chart, in the indices section
    # the ranking is the one in sensitivity_morris.parquet
    table = pd.read_parquet(sensitivity_folder / "sensitivity_morris.parquet")
    top = table[table["outcome"] == "transferred"].sort_values("mu_star").iloc[-1]
    _, text = build(sensitivity_folder)
    first = re.search(r"<td>1</td><td>([a-z_]+)</td>", text.split("<h3>transferred</h3>")[1])
    assert first is not None and first.group(1) == top["lever"]
    # a 2-level Morris design on 2 x 2 values repeats points: said, and runs counted once
    design = [t for t in facts["tables"] if t["section"] == "design"]
    assert design[0]["rows"] <= 4
    assert "They share that point" in text


def test_skipped_run_chart_is_named_in_the_report(browser: Any, tmp_path: Path) -> None:
    out = tmp_path / "baseline"
    checked(
        "run",
        "scenarios/baseline.toml",
        "--set",
        "scale=0.02",
        "--set",
        "end=2019-03-01",
        "--out",
        str(out),
    )
    facts = open_report(browser, make_report(out))
    assert_renders(facts, charts=3, min_tables=2)
    _, text = build(out)
    assert "transfers_vs_cap.png: no agreement in this scenario" in text


def test_backtest_report_renders_in_chromium(browser: Any, backtest_folder: Path) -> None:
    facts = open_report(browser, make_report(backtest_folder))
    assert_renders(facts, charts=1, min_tables=1)  # the fan chart of the one origin
    assert facts["sections"][0] == "Forecast scores"
    scores = [t for t in facts["tables"] if t["section"] == "scores"][0]
    assert scores["head"][:3] == ["Series", "Method", "Horizon (months)"]
    n_scores = len(pd.read_csv(backtest_folder / "scores.csv"))
    assert scores["rows"] == n_scores
    assert "scale 0.02" in facts["facts"] and "1 replication ·" in facts["facts"]


def test_attribution_report_renders_in_chromium(browser: Any, attribution_folder: Path) -> None:
    facts = open_report(browser, make_report(attribution_folder))
    assert_renders(facts, charts=1, min_tables=4)  # the waterfall; a table per series
    assert facts["sections"][0] == "Contributions"
    tables = [t for t in facts["tables"] if t["section"] == "contributions"]
    assert all(t["head"] == ["Mechanism", "Contribution", "90% interval"] for t in tables)
    assert len(tables) == pd.read_csv(attribution_folder / "attribution.csv")["series"].nunique()
    assert "2 replications" in facts["facts"] and "posterior draws: no" in facts["facts"]


# ----------------------------------------------------------------------------- content
def test_report_is_self_contained(run_folder: Path) -> None:
    kind, text = build(run_folder)
    assert kind is Kind.RUN
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text.lower() and "<link" not in text.lower()
    assert "url(" not in text and "@import" not in text
    srcs = re.findall(r'\bsrc="([^"]*)"', text)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert 'http-equiv="Content-Security-Policy"' in text


def test_run_report_content(run_folder: Path) -> None:
    manifest = json.loads((run_folder / "manifest.json").read_text())
    assert manifest["scenario_file"].endswith("aca_guatemala.toml")
    assert manifest["scenario_extends"].endswith("historical.toml")
    assert manifest["scenario_overrides"] == ["scale=0.05", "end=2019-12-31"]
    _, text = build(run_folder)
    summary = pd.read_csv(run_folder / "summary.csv", keep_default_na=False)
    encounters = summary[summary["indicator"] == "encounters"]["value"].iloc[0]
    assert f"{encounters:,.0f}" in text  # thousands separators
    assert "no interval" in text  # a single run says it has no intervals
    # differences from the parent file: exactly the --set levers, name and description
    assert "Differences from historical.toml" in text
    diff_rows = re.findall(r"<td><code>([a-z_.]+)</code></td>", text.split("Differences from")[1])
    assert diff_rows[:4] == ["name", "description", "end", "scale"]
    for fact in (manifest["scenario_hash"], manifest["git_commit"] or "", "20191121"):
        assert fact in text


def test_validation_report_content(validation_folder: Path) -> None:
    _, text = build(validation_folder)
    for heading in ("MAPE", "Naive same-month", "Beats naive", "Split (Flee ARD)"):
        assert heading in text
    # validate records the scenario file: the report diffs baseline against its parent
    assert "Differences from historical.toml" in text
    diff_rows = re.findall(r"<td><code>([a-z_.]+)</code></td>", text.split("Differences from")[1])
    assert "scale" in diff_rows and any(r.startswith("agreements.guatemala") for r in diff_rows)


def test_batch_report_content(batch_folder: Path) -> None:
    """The headline table shows the numbers of totals.parquet: per scenario the mean, and
    for aca_guatemala the paired difference from baseline, computed here independently
    (replication by replication) and found in the row of its indicator."""
    _, text = build(batch_folder)
    assert "Paired difference from baseline" in text
    assert "Differences from each scenario" in text
    totals = pd.read_parquet(batch_folder / "totals.parquet")
    totals = totals[totals["agreement"].fillna("").astype(str) == ""]
    cells = [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", text, re.S)
    ]
    rows = [cells[i : i + 5] for i in range(len(cells) - 4)]
    checked = 0
    for ind in ("encounters", "transferred", "removed"):
        t = totals[totals["indicator"] == ind].pivot_table(
            index="replication", columns="point", values="value"
        )
        t = t.reindex(columns=["baseline", "aca_guatemala"]).fillna(0.0)
        diff = (t["aca_guatemala"] - t["baseline"]).to_numpy()
        ref_row = ["baseline", number(t["baseline"].mean(), 0)]
        alt_mean = number(t["aca_guatemala"].mean(), 0)
        alt_diff = signed_interval(*np.quantile(diff, [0.05, 0.95]), 0)
        assert any(r[:2] == ref_row and r[3] == "reference" for r in rows), (ind, ref_row)
        assert any(
            r[0] == "aca_guatemala" and r[1] == alt_mean and r[4] == alt_diff for r in rows
        ), (ind, alt_mean, alt_diff)
        checked += 1
    assert checked == 3
    # aca_guatemala transfers and baseline does not: the difference is positive
    tr = totals[(totals["indicator"] == "transferred") & (totals["point"] == "aca_guatemala")]
    assert tr["value"].min() > 0


def test_batch_without_totals_says_intervals_are_missing(
    batch_folder: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "batch"
    shutil.copytree(batch_folder, copy, ignore=shutil.ignore_patterns("runs", "totals.parquet"))
    _, text = build(copy)
    assert "totals.parquet is missing" in text


# ----------------------------------------------------------------------------- writing
def test_out_option_and_atomic_write(run_folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "shared" / "aca.html"
    assert main(["report", str(run_folder), "--out", str(target)]) == 0
    assert target.is_file() and target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["aca.html"]  # no temp file left
    kind, path = write_report(run_folder, tmp_path)  # a folder: report.html inside it
    assert (kind, path) == (Kind.RUN, tmp_path / "report.html")


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: d / "missing", "no such folder"),
        (lambda d: d, "not a results folder"),
        (lambda d: (d / "f.txt").write_text("x") and d / "f.txt", "not a folder"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, expected: str
) -> None:
    folder = make(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and err.startswith("migsim: error:")
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


def test_hint_for_a_folder_holding_a_results_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inner = tmp_path / "baseline" / "validation"
    inner.mkdir(parents=True)
    for name in ("metrics.csv", "monthly.csv"):
        (inner / name).write_text("series\n")
    assert main(["report", str(tmp_path / "baseline")]) == 2
    assert f"did you mean {inner}?" in capsys.readouterr().err


def test_corrupt_manifest_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "daily.parquet").write_bytes(b"")
    (tmp_path / "manifest.json").write_text("{not json")
    assert main(["report", str(tmp_path)]) == 2
    assert "manifest.json: cannot read" in capsys.readouterr().err


# ----------------------------------------------------------------------------- parts
def test_parent_fragment_borrows_required_fields() -> None:
    """historical.toml extends calibration.toml, which has no name or dates."""
    child = resolved_dict(load_scenario(SCENARIOS / "historical.toml"))
    parent = find_parent(child, str(SCENARIOS / "calibration.toml"), recorded=True)
    assert parent.label == "calibration.toml"
    assert any("does not set name, start, end" in n for n in parent.notes)
    assert parent.resolved is not None and parent.resolved["start"] == child["start"]


@pytest.mark.parametrize(
    "extends, recorded, why",
    [
        (None, False, "do not record"),
        (None, True, "extends no other file"),
        ("/nonexistent/parent.toml", True, "no longer exists"),
    ],
)
def test_parent_falls_back_to_defaults_and_says_why(
    extends: str | None, recorded: bool, why: str
) -> None:
    child = resolved_dict(load_scenario(SCENARIOS / "baseline.toml"))
    parent = find_parent(child, extends, recorded)
    assert parent.label == "schema defaults" and parent.resolved is not None
    assert why in parent.notes[0]


def test_batch_headline_intervals_and_paired_differences() -> None:
    rows = []
    for point, base in (("ref", 100.0), ("alt", 110.0)):
        for rep in range(5):
            rows.append((point, rep, "encounters", "", base + 10 * rep))
            if point == "alt":
                rows.append((point, rep, "transferred", "", 5.0))
    totals = pd.DataFrame(rows, columns=["point", "replication", "indicator", "agreement", "value"])
    stats = headline_stats(totals, ["ref", "alt"], "ref").set_index(["point", "indicator"])
    enc = stats.loc[("alt", "encounters")]
    values = 110.0 + 10 * np.arange(5)
    assert enc["mean"] == pytest.approx(values.mean())
    assert (enc["q05"], enc["q95"]) == pytest.approx(tuple(np.quantile(values, [0.05, 0.95])))
    assert (enc["diff_mean"], enc["diff_q05"], enc["diff_q95"]) == pytest.approx((10, 10, 10))
    # a total missing from a run was zero throughout
    assert stats.loc[("ref", "transferred"), "mean"] == 0.0
    assert stats.loc[("alt", "transferred"), "diff_mean"] == 5.0
    assert set(stats.index.get_level_values("indicator")) == set(HEADLINE)


def test_number_formats() -> None:
    assert number(1234567.0) == "1,234,567"
    assert number(float("nan")) == "–"
    assert number(-0.0) == "0"
    assert signed_interval(-1225, 15, 0) == "−1,225 to +15"


def test_report_headers_say_the_last_simulated_day_and_name_a_range_a_range() -> None:
    """A scenario ending (exclusive) on 2020-03-16 was last simulated on 2020-03-15; an
    interval from 2 replications is a range, not a 5-95% interval."""
    from sim.report.fmt import period_fact
    from sim.report.intervals import _spread_phrase

    scenario = {"start": "2018-10-01", "end": "2020-03-16"}
    assert period_fact({}, scenario) == "2018-10-01 to 2020-03-15"
    recorded = {"period": {"first_day": "2018-10-01", "last_day": "2020-03-15"}}
    assert period_fact(recorded, scenario) == "2018-10-01 to 2020-03-15"
    assert "range" in _spread_phrase(2) and "5–95%" not in _spread_phrase(2)
    assert _spread_phrase(20) == "the 5–95% interval of the replications"


def test_batch_captions_and_titles_call_few_replications_a_range() -> None:
    """Charts and captions from fewer than 20 replications say `range over N
    replications`; from 20 on, a 5–95% band or interval."""
    from sim.intervals import band_words
    from sim.report.charts import batch_caption

    assert band_words(10) == "range over 10 replications"
    assert band_words(20, "interval") == "5–95% interval"
    assert band_words(None) == "5–95% band"
    few = batch_caption("sweep_outcomes.png", "", 10)
    assert "range over 10 replications" in few and "5–95%" not in few
    assert "5–95% band" in batch_caption("weekly_encounters.png", "p000", 40)
