"""`migsim explore`: the page's helpers and callbacks, and the page itself in Chromium.

The unit tests call the callbacks' plain functions (`sim.explore.callbacks.on_*`) and
the helpers behind them. The end-to-end test starts `migsim explore` on a free local
port in a subprocess and drives it in headless Chromium (Debian's `chromium` through
playwright, as tests/test_report.py does; no browser is downloaded): it changes a weekly
cap, runs, waits for the headline table to change, checks the console and that nothing
left the machine, downloads the saved scenario and checks it with `migsim check`.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dash", reason="dash not installed: pip install -e '.[explore]'")

from sim.cli import main  # noqa: E402
from sim.explore import callbacks as cb  # noqa: E402
from sim.explore.app import Explorer  # noqa: E402
from sim.explore.compare import Outcome, headline, paired  # noqa: E402
from sim.explore.levers import bounds_text, sections  # noqa: E402
from sim.explore.runner import Jobs  # noqa: E402
from sim.explore.settings import Settings, read_settings, saved_toml, scenarios  # noqa: E402
from sim.explore.view import results  # noqa: E402
from sim.scenario.loader import load_scenario, resolved_dict, with_overrides  # noqa: E402
from sim.scenario.schema import PhaseStep, Scenario  # noqa: E402
from tests.conftest import ROOT, SCENARIOS, sigint_default  # noqa: E402
from tests.test_report import CHROMIUM_FLAGS, NO_CHROMIUM, chromium_path  # noqa: E402

HISTORICAL = SCENARIOS / "historical.toml"
CAP0 = "agreements.guatemala.phase_in.0.weekly_cap"
CAP1 = "agreements.guatemala.phase_in.1.weekly_cap"
# a short, small run for the runner tests (the momentum still warms up from 2017)
QUICK = ["start=2019-11-01", "end=2020-01-15"]


@pytest.fixture(scope="module")
def ex() -> Explorer:
    return Explorer(HISTORICAL, load_scenario(HISTORICAL))


@pytest.fixture(scope="module")
def quick() -> Explorer:
    return Explorer(HISTORICAL, load_scenario(HISTORICAL, QUICK))


def start_values(ex: Explorer, **changes: Any) -> dict[str, Any]:
    """The page's values as it opens (the starting scenario's), with some changed."""
    values = {p: c.value for p, c in ex.controls.items()}
    values.update({k.replace("__", "."): v for k, v in changes.items()})
    return values


def cli_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["check", str(HISTORICAL), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    return err.strip()


# ----------------------------------------------------------------------------- controls
def test_controls_carry_the_schemas_units_and_bounds(ex: Explorer) -> None:
    controls = ex.controls
    cap = controls[CAP0]
    field = PhaseStep.model_fields["weekly_cap"]
    assert cap.unit == field.json_schema_extra["unit"]  # type: ignore[index]
    assert cap.bounds == bounds_text(PhaseStep, "weekly_cap") == "≥ 0, ≤ 100,000,000"
    assert controls["agreements.guatemala.referral_share"].bounds == "≥ 0, ≤ 1"
    assert controls["deterrence.effect"].bounds == "≥ 0, ≤ 4"
    assert bounds_text(Scenario, "scale") == "> 0, ≤ 1"
    titles = [s.title for s in sections(ex.base)]
    assert titles[0].startswith("Agreement guatemala")
    assert any("MPP" in t for t in titles) and any("enforcement" in t for t in titles)
    assert "metering.daily_intake" in controls and "mpp.enrolment.3.share" in controls


def test_every_control_path_is_a_set_path_and_shows_the_scenarios_value(ex: Explorer) -> None:
    for path, c in ex.controls.items():
        if c.kind == "switch":
            continue
        same = with_overrides(ex.base, {path: c.value})  # the `--set` path, unchanged value
        assert resolved_dict(same) == resolved_dict(ex.base), path


# ----------------------------------------------------------------------------- settings
def test_unchanged_page_changes_nothing(ex: Explorer) -> None:
    s = read_settings(ex.controls, start_values(ex), 0.05, 3)
    assert s.changes == {} and s.off == () and s.reps == 3
    baseline, changed = scenarios(ex.base, s)
    assert baseline.scale == changed.scale == 0.05
    assert changed.name == "historical_explore"
    drop = {"name", "description"}
    a, b = resolved_dict(baseline), resolved_dict(changed)
    assert {k: v for k, v in a.items() if k not in drop} == {
        k: v for k, v in b.items() if k not in drop
    }


def test_only_changed_levers_become_overrides(ex: Explorer) -> None:
    values = start_values(ex)
    values[CAP1] = 500
    values["agreements.guatemala.phase_in.0.groups"] = ["family", "single_adult"]
    values["agreements.guatemala.end"] = "2020-01-31"
    values["agreements.guatemala.phase_in.1.groups"] = ["single_adult", "family"]  # as it was
    s = read_settings(ex.controls, values, 0.05, 2)
    assert s.changes == {
        "agreements.guatemala.end": dt.date(2020, 1, 31),
        "agreements.guatemala.phase_in.0.groups": ["single_adult", "family"],
        CAP1: 500,
    }
    _, changed = scenarios(ex.base, s)
    agr = changed.agreements[0]
    assert agr.phase_in[1].weekly_cap == 500 and agr.end == dt.date(2020, 1, 31)
    assert agr.phase_in[0].groups == ["single_adult", "family"]


def test_an_agreement_switched_off_is_removed_and_its_levers_ignored(ex: Explorer) -> None:
    values = start_values(ex)
    values["agreements.guatemala"] = False
    values[CAP0] = -5  # would be refused, but the agreement is off
    s = read_settings(ex.controls, values, 0.05, 1)
    assert s.off == ("guatemala",) and s.changes == {}
    baseline, changed = scenarios(ex.base, s)
    assert [a.name for a in baseline.agreements] == ["guatemala"]
    assert changed.agreements == []


@pytest.mark.parametrize(
    ("path", "value", "cli"),
    [
        (CAP0, -5, "-5"),
        (CAP1, 12.5, "12.5"),
        ("agreements.guatemala.end", "2019-11-01", "2019-11-01"),
        ("agreements.guatemala.phase_in.0.from", "2019-11-01", "2019-11-01"),
        ("agreements.guatemala.referral_share", 1.5, "1.5"),
        ("deterrence.effect", 5, "5"),
        ("mpp.enrolment.2.share", -0.1, "-0.1"),
        ("enforcement.mexico.1.daily_hazard", 2, "2"),
        ("metering.daily_intake", None, "none"),
    ],
)
def test_bad_values_are_refused_with_the_clis_message(
    ex: Explorer, capsys: pytest.CaptureFixture[str], path: str, value: Any, cli: str
) -> None:
    values = start_values(ex)
    values[path] = value
    message, run_disabled, save_disabled, _ = cb.on_change(ex, values, 0.05, 3)
    assert message and run_disabled and save_disabled
    assert cli_error(capsys, "--set", f"{path}={cli}") == f"migsim: error: {message}"
    job, _, shown = cb.on_run(ex, values, 0.05, 3)  # Run refuses it too, saying why
    assert job is cb.no_update and shown == message
    assert cb.on_save(ex, values, 0.05, 3) is cb.no_update


def test_bad_scale_is_the_clis_message_and_bad_replications_are_refused(
    ex: Explorer, capsys: pytest.CaptureFixture[str]
) -> None:
    message = cb.on_change(ex, start_values(ex), 0, 3)[0]
    assert cli_error(capsys, "--set", "scale=0") == f"migsim: error: {message}"
    for reps in (0, 21, 2.5, None, True):
        message = cb.on_change(ex, start_values(ex), 0.05, reps)[0]
        assert message.startswith("explore: replications: "), reps


def test_good_settings_show_the_changes_and_the_scales_warnings(ex: Explorer) -> None:
    message, run_disabled, _, notes = cb.on_change(ex, start_values(ex, **{CAP1: 500}), 0.05, 3)
    assert message == "" and not run_disabled
    text = str(notes)
    assert f"--set {CAP1}=500" in text
    assert f"scale 0.05: {CAP0} = 25 persons a week" in text  # sim.scalecheck's warning


# ----------------------------------------------------------------------------- saving
def _round_trip(ex: Explorer, tmp_path: Path, values: dict[str, Any]) -> tuple[str, Scenario]:
    settings = read_settings(ex.controls, values, 0.05, 3)
    _, changed = scenarios(ex.base, settings)
    text = saved_toml(ex.source, ex.base, settings, changed)
    path = tmp_path / "saved.toml"
    path.write_text(text)
    loaded = load_scenario(path)
    want = resolved_dict(changed.model_copy(update={"scale": ex.base.scale}))
    assert resolved_dict(loaded) == want
    return text, changed


def test_saved_scenario_extends_the_start_with_only_the_changes(
    ex: Explorer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = start_values(ex)
    values[CAP0] = 100
    values["agreements.guatemala.phase_in.1.groups"] = ["family"]
    values["deterrence.effect"] = 0.5
    values["mpp.enrolment.3.share"] = 0.5
    text, changed = _round_trip(ex, tmp_path, values)
    raw = tomllib.loads(text)
    assert Path(raw["extends"]) == HISTORICAL.resolve()
    assert set(raw) == {"extends", "name", "description", "agreements", "deterrence", "mpp"}
    assert raw["deterrence"] == {"effect": 0.5}  # tables merge: only the lever
    assert len(raw["mpp"]["enrolment"]) == 5  # lists replace: the whole list (five MPP steps)
    assert raw["agreements"][0]["phase_in"][0]["weekly_cap"] == 100
    assert "scale" not in raw  # a run setting of the page
    assert main(["check", str(tmp_path / "saved.toml")]) == 0
    assert capsys.readouterr().out.startswith(
        f"OK: {tmp_path / 'saved.toml'}: scenario {changed.name}"
    )


def test_saved_scenario_without_the_agreement(ex: Explorer, tmp_path: Path) -> None:
    values = start_values(ex)
    values["agreements.guatemala"] = False
    values["metering.daily_intake"] = 200
    text, changed = _round_trip(ex, tmp_path, values)
    raw = tomllib.loads(text)
    assert raw["agreements"] == [] and raw["metering"] == {"daily_intake": 200}
    assert changed.agreements == []


def test_save_callback_downloads_the_toml(ex: Explorer) -> None:
    out = cb.on_save(ex, start_values(ex, **{CAP1: 300}), 0.05, 3)
    assert out["filename"] == "historical_explore.toml"
    assert tomllib.loads(out["content"])["agreements"][0]["phase_in"][1]["weekly_cap"] == 300


# ----------------------------------------------------------------------------- differences
def _outcome(rep: int, **totals: float) -> Outcome:
    return Outcome(rep, {}, totals)


def test_paired_differences_match_replications_by_number() -> None:
    base = [_outcome(0, transferred=10), _outcome(1, transferred=20), _outcome(2, transferred=5)]
    changed = [_outcome(2, transferred=9), _outcome(0, transferred=15), _outcome(1, transferred=20)]
    b, c, d = paired(base, changed, "transferred")
    assert list(b) == [10, 20, 5] and list(c) == [15, 20, 9] and list(d) == [5, 0, 4]


def test_headline_rows_are_mean_and_range_of_the_paired_differences() -> None:
    keys = (
        "encounters",
        "deterred",
        "transferred",
        "custody_exits_over_72h",
        "peak_in_custody",
        "asylum_backlog_end",
    )
    base = [_outcome(r, **{k: 100.0 * (r + 1) for k in keys}) for r in range(3)]
    changed = [
        _outcome(r, **{k: 100.0 * (r + 1) + d for k in keys}) for r, d in enumerate((1, 5, 12))
    ]
    changed[1].totals["asylum_backlog_end"] = math.nan  # not simulated
    rows = {r.key: r for r in headline(base, changed)}
    enc = rows["encounters"]
    assert (enc.baseline, enc.changed, enc.diff_mean) == (200.0, 206.0, 6.0)
    assert (enc.diff_min, enc.diff_max, enc.n) == (1.0, 12.0, 3)
    assert math.isnan(rows["asylum_backlog_end"].diff_mean)


# ----------------------------------------------------------------------------- jobs
@pytest.mark.slow
def test_no_change_gives_zero_differences_and_the_cache_serves_the_baseline(
    quick: Explorer,
) -> None:
    runs: list[int] = []
    from sim.explore.compare import outcome_of

    def counted(res: Any) -> Outcome:
        runs.append(res.replication)
        return outcome_of(res)

    jobs = Jobs(extract=counted, finish=results)
    settings = Settings(scale=0.02, reps=2)
    baseline, changed = scenarios(quick.base, settings)
    job = jobs.submit(baseline, changed, 2, "no change", settings)
    jobs.wait(120)
    assert job.state == "done", job.error
    assert sorted(runs) == [0, 1]  # baseline and "changed" are the same runs
    rows = headline(job.base_out, job.changed_out)
    assert all(r.diff_mean == r.diff_min == r.diff_max == 0 for r in rows)
    settings2 = read_settings(quick.controls, start_values(quick, **{CAP1: 1000}), 0.02, 2)
    baseline2, changed2 = scenarios(quick.base, settings2)
    runs.clear()
    job2 = jobs.submit(baseline2, changed2, 2, "cap", settings2)
    jobs.wait(120)
    assert job2.state == "done" and sorted(runs) == [0, 1]  # the baseline came from the cache
    rows2 = {r.key: r for r in headline(job2.base_out, job2.changed_out)}
    assert rows2["transferred"].diff_min > 0  # a higher cap transfers more, in every pair


@pytest.mark.slow
def test_a_new_run_cancels_the_running_one(quick: Explorer) -> None:
    jobs = Jobs()
    s1 = Settings(scale=0.03, reps=3)
    first = jobs.submit(*scenarios(quick.base, s1), 3)
    deadline = time.monotonic() + 60
    while first.state != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    s2 = Settings(scale=0.02, reps=1)
    second = jobs.submit(*scenarios(quick.base, s2), 1)
    jobs.wait(120)
    assert first.state == "cancelled" and first.view is None
    assert second.state == "done" and len(second.changed_out) == 1


@pytest.mark.slow
def test_tick_and_show_and_report_callbacks(quick: Explorer) -> None:
    job_id = quick.start_default(0.02, 1)
    bar, status, tick_off, ready = cb.on_tick(quick, job_id, None)
    assert (tick_off, ready) == (False, cb.no_update) and status.startswith(("Running", "Starting"))
    quick.jobs.wait(120)
    bar, status, tick_off, ready = cb.on_tick(quick, job_id, None)
    assert tick_off and ready == job_id and bar == {"width": "100%"}
    assert status.startswith(f"Run {job_id} done in ")
    assert cb.on_tick(quick, job_id, job_id)[3] is cb.no_update  # shown already
    table, *figs = cb.on_show(quick, job_id)
    assert "Transferred under agreements" in str(table) and len(figs) == 5
    assert all(f.data for f in figs[:4])  # every chart has traces (the backlog may be flat)
    download, note = cb.on_report(quick, job_id)
    html = download["content"]
    assert download["filename"] == "historical_explore_report.html" and download["base64"]
    assert len(html) > 10_000 and "replication 1 of 1" in note
    assert cb.on_report(quick, 999)[0] is cb.no_update
    assert cb.on_tick(quick, None, None)[2] is True


# ----------------------------------------------------------------------------- command
def test_bad_scenario_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "nope.toml"\n')
    assert main(["explore", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"migsim: error: {bad}: extends: file not found")


def test_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["explore", str(HISTORICAL), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}: in use" in err


def test_other_host_warns_and_local_host_does_not(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import dash

    import sim.commands.explore as command
    import sim.explore.app as app

    served: list[tuple[str, int]] = []
    monkeypatch.setattr(command, "_check_port", lambda host, port: None)
    monkeypatch.setattr(
        dash.Dash, "run", lambda self, host, port, debug: served.append((host, port))
    )
    monkeypatch.setattr(app.Explorer, "start_default", lambda self, scale, reps: 0)
    assert main(["explore", str(HISTORICAL), "--host", "0.0.0.0", "--port", "8123"]) == 0
    out = capsys.readouterr()
    assert "migsim: warning: serving on 0.0.0.0, not 127.0.0.1" in out.err
    assert main(["explore", str(HISTORICAL)]) == 0
    out = capsys.readouterr()
    assert "warning" not in out.err and "http://127.0.0.1:8050/" in out.out
    assert served == [("0.0.0.0", 8123), ("127.0.0.1", 8050)]


def test_the_cli_does_not_import_dash_for_other_commands() -> None:
    code = "import sys, sim.cli; sim.cli.build_parser(); print('dash' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


# ----------------------------------------------------------------------------- browser
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"migsim explore exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@pytest.fixture
def server(tmp_path: Path) -> Any:
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "explore", str(HISTORICAL), "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "MPLBACKEND": "Agg"},
        preexec_fn=sigint_default,  # SIGINT stops it below
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_http(url, proc, 60)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


@pytest.mark.slow
def test_page_runs_a_changed_cap_in_chromium(server: str, tmp_path: Path) -> None:
    exe = chromium_path()
    if exe is None:
        pytest.skip(NO_CHROMIUM)
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright not installed: pip install -e '.[test]'"
    )
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.set_default_timeout(120_000)
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on(
                "request",
                lambda r: (
                    None
                    if r.url.startswith((server, "data:", "blob:"))
                    else problems.append(f"request leaving the machine: {r.url[:80]}")
                ),
            )
            page.goto(server)
            # the page opens on the starting scenario (no change: differences are zero)
            page.wait_for_selector("#headline-table")
            before = page.inner_text("#row-transferred")
            assert "+0 to +0" in before
            cap = page.locator(f'input[id*="{CAP1}"]')
            cap.fill("-1")
            page.wait_for_function("document.querySelector('#message').textContent.length > 0")
            assert "Input should be greater than or equal to 0" in page.inner_text("#message")
            assert page.locator("#run").is_disabled()
            cap.fill("1000")
            page.wait_for_function("!document.querySelector('#run').disabled")
            t0 = time.perf_counter()
            page.click("#run")
            page.wait_for_function(
                "(b) => document.querySelector('#row-transferred').innerText !== b", arg=before
            )
            seconds = time.perf_counter() - t0
            after = page.inner_text("#row-transferred")
            status = page.inner_text("#status")
            assert "done in" in status and f"{CAP1} = 1000" in status
            diff = after.split("\t")[3]
            assert diff.startswith("+") and diff != "+0", after
            traces = page.evaluate(
                "document.querySelector('#fig-transfers .js-plotly-plot').data.length"
            )
            assert traces >= 4  # baseline and changed, each with its band, and the caps
            with page.expect_download() as dl:
                page.click("#save")
            saved = tmp_path / "saved.toml"
            dl.value.save_as(saved)
            with page.expect_download() as dl:
                page.click("#report")
            report = tmp_path / "report.html"
            dl.value.save_as(report)
            print(f"\nexplore: Run to updated table {seconds:.1f} s", file=sys.stderr)
        finally:
            browser.close()
    assert problems == []
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in html
    assert "historical_explore" in html
    assert tomllib.loads(saved.read_text())["agreements"][0]["phase_in"][1]["weekly_cap"] == 1000
    check = subprocess.run(
        [sys.executable, "-m", "sim", "check", str(saved)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0 and check.stdout.startswith("OK: "), check.stderr
    assert seconds < 120
