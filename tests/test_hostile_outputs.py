"""Results folders never destroy what migsim does not own; hostile inputs are bounded.

Issue 10 (part a): output-folder ownership (`.migsim-owned` markers, `sim/ownership.py`),
safe scenario names, bounded reads of scenario files, parents and report inputs
(`sim/safeio.py`), `migsim check`, leftover temporary folders and disk full. Each case
runs the real CLI in a subprocess (address space and CPU limited, with a timeout, so a
missing bound fails the test rather than the machine) and checks the contract: exit
status 2, one line on stderr naming the file or field, no traceback, and every file the
user had is still there, byte for byte, with its modification time.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.ownership import MARKER
from tests import bounded
from tests.conftest import SCENARIOS

TINY = ("--set", "scale=0.02", "--set", "end=2019-01-31", "--no-charts")


def migsim(
    cwd: Path, *args: str, timeout: float = 60, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return bounded.migsim(cwd, *args, timeout=timeout, home=home, memory_gb=2, cpu_seconds=60)


def assert_refused(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    err = result.stderr
    assert result.returncode == 2, (result.returncode, err[-2000:])
    assert "Traceback" not in err, err
    assert err.strip() and "\n" not in err.strip(), f"expected one line on stderr:\n{err}"
    assert err.startswith("migsim: error: "), err
    for needle in needles:
        assert needle in err, f"{needle!r} not in stderr: {err}"


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder`: contents and modification time."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A working directory with copies of the shipped scenarios and a user's files."""
    shutil.copytree(SCENARIOS, tmp_path / "scenarios")
    (tmp_path / "thesis.docx").write_bytes(b"my thesis, three years of work")
    keep = tmp_path / "results" / "keep"
    keep.mkdir(parents=True)
    (keep / "x.txt").write_text("keep me")
    return tmp_path


ACA = "scenarios/aca_guatemala.toml"


# ----------------------------------------------------------------------------- 1. ownership
@pytest.mark.parametrize(
    "out, needle",
    [
        (".", "'.', '..' or '/'"),
        ("..", "'.', '..' or '/'"),
        ("/", "'.', '..' or '/'"),
        ("results/..", "'.', '..' or '/'"),
        ("{cwd}", "is the working directory"),
        ("{home}", "is the home directory"),
        ("{parent}", "holds the working directory"),
    ],
)
def test_out_at_special_folders_is_refused_before_the_run(
    work: Path, out: str, needle: str
) -> None:
    home = work / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    cwd = work / "results" / "keep"  # so that `work` is an ancestor of the cwd
    before = snapshot(work)
    target = out.format(cwd=cwd, home=home, parent=work)
    r = migsim(cwd, "run", str(work / ACA), *TINY, "--out", target, home=home)
    assert_refused(r, needle, "nothing was written")
    assert "people simulated" not in r.stdout  # refused before the run, not after
    assert snapshot(work) == before


def test_out_at_a_user_folder_keeps_its_files(work: Path) -> None:
    d = work / "d"
    d.mkdir()
    (d / "thesis.docx").write_bytes(b"chapter one")
    before = snapshot(work)
    r = migsim(work, "run", ACA, *TINY, "--out", "d")
    assert_refused(r, "d: is not empty and was not written by migsim", MARKER)
    assert snapshot(work) == before


def test_out_at_a_file_is_refused(work: Path) -> None:
    before = snapshot(work)
    r = migsim(work, "run", ACA, *TINY, "--out", "thesis.docx")
    assert_refused(r, "thesis.docx: is a file")
    assert snapshot(work) == before
    assert not list(work.glob(".thesis.docx.*"))


def test_out_at_a_folder_holding_the_scenario_is_refused(work: Path) -> None:
    mine = work / "mine"
    mine.mkdir()
    shutil.copy(work / ACA, mine / "aca.toml")
    shutil.copy(work / "scenarios" / "historical.toml", mine / "historical.toml")
    shutil.copy(work / "scenarios" / "calibration.toml", mine / "calibration.toml")
    before = snapshot(work)
    r = migsim(work, "run", "mine/aca.toml", *TINY, "--out", "mine")
    assert_refused(r, "holds the scenario file")
    assert snapshot(work) == before


def test_out_at_a_folder_of_another_kind_is_refused(work: Path) -> None:
    batch = work / "results" / "b"
    batch.mkdir()
    (batch / MARKER).write_text(json.dumps({"kind": "batch", "version": "0"}))
    (batch / "summary.parquet").write_bytes(b"not really")
    before = snapshot(work)
    r = migsim(work, "run", ACA, *TINY, "--out", "results/b")
    assert_refused(r, "is a migsim batch folder, not a run folder")
    assert snapshot(work) == before


def test_own_run_folder_is_replaced_and_keeps_validation(work: Path) -> None:
    first = migsim(work, "run", ACA, *TINY, "--out", "results/a")
    assert first.returncode == 0, first.stderr
    out = work / "results" / "a"
    assert json.loads((out / MARKER).read_text())["kind"] == "run"
    (out / "validation").mkdir()
    (out / "validation" / MARKER).write_text(json.dumps({"kind": "validation"}))
    (out / "validation" / "metrics.csv").write_text("series\n")
    again = migsim(work, "run", ACA, *TINY, "--out", "results/a")
    assert again.returncode == 0, again.stderr
    assert (out / "validation" / "metrics.csv").read_text() == "series\n"
    assert (work / "results" / "keep" / "x.txt").read_text() == "keep me"
    assert sorted(p.name for p in (work / "results").iterdir()) == ["a", "keep"]


def test_user_file_inside_own_run_folder_is_not_deleted(work: Path) -> None:
    out = work / "results" / "a"
    out.mkdir()
    (out / MARKER).write_text(json.dumps({"kind": "run", "version": "0"}))
    (out / "daily.parquet").write_bytes(b"old")
    (out / "thesis.docx").write_bytes(b"put here by hand")
    before = snapshot(work)
    r = migsim(work, "run", ACA, *TINY, "--out", "results/a")
    assert_refused(r, "holds thesis.docx, which migsim did not write")
    assert snapshot(work) == before


def test_results_from_before_markers_are_recognised(work: Path) -> None:
    """A run folder written before markers existed (manifest.json of a run, nothing else
    foreign) is replaced like a marked one: documented in sim/ownership.py."""
    first = migsim(work, "run", ACA, *TINY, "--out", "results/a")
    assert first.returncode == 0, first.stderr
    (work / "results" / "a" / MARKER).unlink()
    again = migsim(work, "run", ACA, *TINY, "--out", "results/a")
    assert again.returncode == 0, again.stderr
    assert (work / "results" / "a" / MARKER).is_file()


def test_batch_out_at_a_user_folder_is_refused(work: Path) -> None:
    d = work / "d"
    d.mkdir()
    (d / "manifest.json").write_text('{"mine": true}')
    (d / "thesis.docx").write_bytes(b"chapter two")
    before = snapshot(work)
    r = migsim(work, "batch", ACA, "--reps", "1", "--jobs", "1", *TINY, "--out", "d")
    assert_refused(r, "d: is not empty and was not written by migsim")
    assert snapshot(work) == before


@pytest.mark.slow
def test_batch_resumes_only_its_own_kind(work: Path) -> None:
    args = ("batch", ACA, "--reps", "1", "--jobs", "1", "--quiet", *TINY, "--out", "results/b")
    first = migsim(work, *args)
    assert first.returncode == 0, first.stderr
    assert json.loads((work / "results" / "b" / MARKER).read_text())["kind"] == "batch"
    again = migsim(work, *args)
    assert again.returncode == 0, again.stderr
    assert "1 already finished" in again.stdout
    run = migsim(work, "run", ACA, *TINY, "--out", "results/b")
    assert_refused(run, "is a migsim batch folder, not a run folder")


def test_report_out_never_overwrites_a_user_file(work: Path) -> None:
    first = migsim(work, "run", ACA, *TINY, "--out", "results/a")
    assert first.returncode == 0, first.stderr
    before = snapshot(work)
    r = migsim(work, "report", "results/a", "--out", "thesis.docx")
    assert_refused(r, "thesis.docx: exists and is not a report written by migsim")
    assert snapshot(work) == before
    ok = migsim(work, "report", "results/a", "--out", "results/a.html")
    assert ok.returncode == 0, ok.stderr
    again = migsim(work, "report", "results/a", "--out", "results/a.html")
    assert again.returncode == 0, again.stderr  # its own report may be replaced


def test_levers_output_never_overwrites_a_user_file(work: Path) -> None:
    before = snapshot(work)
    r = migsim(work, "levers", "--markdown", "--output", "thesis.docx")
    assert_refused(r, "thesis.docx: exists and is not a levers document written by migsim")
    assert snapshot(work) == before


def test_calibrate_out_never_overwrites_a_user_file(work: Path) -> None:
    before = snapshot(work)
    r = migsim(work, "calibrate", "scenarios/historical.toml", "--out", "thesis.docx")
    assert_refused(r, "thesis.docx: exists and is not a calibration fragment")
    assert snapshot(work) == before


# ----------------------------------------------------------------------------- 2/5. names
@pytest.mark.parametrize(
    "name, shown",
    [(".", "'.'"), ("..", "'..'"), ("a" * 300, "aaa..."), ("a/b", "'a/b'"), ("", "''")],
)
def test_unsafe_name_on_the_command_line_fails_at_load(work: Path, name: str, shown: str) -> None:
    before = snapshot(work)
    r = migsim(work, "run", ACA, *TINY, "--set", f"name={name}")
    assert_refused(r, "--set: name:", shown)
    assert snapshot(work) == before
    assert sorted(p.name for p in (work / "results").iterdir()) == ["keep"]


@pytest.mark.parametrize("name", [".", "..", "x" * 101])
def test_unsafe_name_in_a_file_names_the_file(work: Path, name: str) -> None:
    (work / "scenarios" / "bad.toml").write_text(
        f'extends = "aca_guatemala.toml"\nname = "{name}"\n'
    )
    before = snapshot(work)
    r = migsim(work, "check", "scenarios/bad.toml")
    assert_refused(r, "bad.toml: name:", "not a safe folder name")
    assert snapshot(work) == before


def test_names_up_to_100_safe_characters_are_fine(work: Path) -> None:
    r = migsim(work, "check", ACA, "--set", f"name=A-b_c.{'d' * 94}")
    assert r.returncode == 0, r.stderr


# ----------------------------------------------------------------------------- 3. bounded reads
def _fifo(work: Path) -> str:
    path = work / "scenarios" / "pipe.toml"
    os.mkfifo(path)
    return str(path)


@pytest.mark.parametrize(
    "target, needle",
    [
        ("/dev/zero", "a character device"),
        ("/dev/urandom", "a character device"),
        ("{fifo}", "a FIFO"),
        ("{huge}", "larger than the 5.0 MB allowed"),
        ("{folder}", "a folder"),
    ],
)
def test_extends_an_unbounded_file_is_refused_fast(work: Path, target: str, needle: str) -> None:
    huge = work / "scenarios" / "huge.toml"
    if target == "{huge}":
        huge.write_text("# " + "x" * (6 * 1024 * 1024) + "\n")
    fifo = _fifo(work) if target == "{fifo}" else ""
    target = target.format(fifo=fifo, huge=huge, folder=work / "scenarios")
    (work / "scenarios" / "bad.toml").write_text(f'extends = "{target}"\nname = "bad"\n')
    r = migsim(work, "check", "scenarios/bad.toml", timeout=20)
    assert_refused(r, "bad.toml: extends:", needle, "regular file")


def test_scenario_file_itself_must_be_regular(work: Path) -> None:
    r = migsim(work, "run", "/dev/zero", *TINY, timeout=20)
    assert_refused(r, "/dev/zero", "a character device")
    r = migsim(work, "check", _fifo(work), timeout=20)
    assert_refused(r, "pipe.toml", "a FIFO")


def test_extends_depth_is_bounded(work: Path) -> None:
    s = work / "scenarios"
    (s / "chain0.toml").write_text('extends = "aca_guatemala.toml"\nname = "c0"\n')
    for i in range(1, 40):
        (s / f"chain{i}.toml").write_text(f'extends = "chain{i - 1}.toml"\n')
    r = migsim(work, "check", "scenarios/chain39.toml", timeout=20)
    assert_refused(r, "extends: inheritance chain longer than 32 files")
    ok = migsim(work, "check", "scenarios/chain20.toml")  # 24 files in all: fine
    assert ok.returncode == 0, ok.stderr


def test_utf8_bom_is_accepted(work: Path) -> None:
    """Documented choice: a byte-order mark (Windows editors) is dropped, not an error."""
    text = (work / ACA).read_text(encoding="utf-8")
    (work / "scenarios" / "bom.toml").write_bytes(b"\xef\xbb\xbf" + text.encode())
    r = migsim(work, "check", "scenarios/bom.toml")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("OK: ")


def test_bad_month_key_is_blamed_on_the_child(work: Path) -> None:
    (work / "scenarios" / "child.toml").write_text(
        'extends = "historical.toml"\nname = "child"\n'
        '[departures.level."mexico.single_adult"]\n"2019-13" = 1.0\n'
    )
    r = migsim(work, "check", "scenarios/child.toml")
    assert_refused(r, "child.toml: departures.level", "2019-13")
    assert "calibration.toml" not in r.stderr and "historical.toml" not in r.stderr


def _fake_run_folder(work: Path, extends: str) -> Path:
    """A run folder received from someone else whose manifest names a hostile parent."""
    first = migsim(work, "run", ACA, *TINY, "--out", "results/a")
    assert first.returncode == 0, first.stderr
    folder = work / "results" / "a"
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("scenario_parent")
    manifest["scenario_extends"] = extends
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.mark.parametrize("extends", ["/dev/zero", "{outside}"])
def test_report_never_follows_a_manifest_path_outside_the_folder(work: Path, extends: str) -> None:
    outside = work / "scenarios" / "historical.toml"
    folder = _fake_run_folder(work, extends.format(outside=outside))
    r = migsim(work, "report", "results/a", timeout=30)
    assert r.returncode == 0, r.stderr
    text = (folder / "report.html").read_text()
    assert "is outside the results folder" in text and "schema defaults" in text


def test_report_of_a_fresh_run_uses_the_recorded_parent(work: Path) -> None:
    first = migsim(work, "run", ACA, *TINY, "--out", "results/a")
    assert first.returncode == 0, first.stderr
    (work / "scenarios" / "historical.toml").unlink()  # not needed: recorded at run time
    r = migsim(work, "report", "results/a")
    assert r.returncode == 0, r.stderr
    text = (work / "results" / "a" / "report.html").read_text()
    assert "Differences from historical.toml" in text
    assert "as it read when the results were made" in text


def test_report_skips_fifos_and_devices_in_a_folder(work: Path) -> None:
    folder = work / "results" / "f"
    folder.mkdir()
    (folder / "daily.parquet").write_bytes(b"")
    os.mkfifo(folder / "manifest.json")
    r = migsim(work, "report", "results/f", timeout=20)
    assert_refused(r, "results/f: not a results folder")
    first = migsim(work, "run", ACA, *TINY, "--out", "results/a")
    assert first.returncode == 0, first.stderr
    (work / "results" / "a" / "summary.csv").unlink()
    os.mkfifo(work / "results" / "a" / "summary.csv")
    os.symlink("/dev/zero", work / "results" / "a" / "charts.png")
    (work / "results" / "a" / "charts").mkdir()
    os.symlink("/dev/zero", work / "results" / "a" / "charts" / "zero.png")
    r = migsim(work, "report", "results/a", timeout=20)  # never blocks, never reads /dev/zero
    assert r.returncode == 0, r.stderr
    text = (work / "results" / "a" / "report.html").read_text()
    assert "summary.csv is missing" in text and "data:image/png" not in text


# ----------------------------------------------------------------------------- 4. check
def test_check_validates_without_running_or_writing(work: Path) -> None:
    before = snapshot(work)
    r = migsim(work, "check", ACA, "--set", "scale=0.5")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1 and r.stdout.startswith("OK: scenarios/aca_guatemala.toml")
    assert "scale 0.5" in r.stdout
    assert snapshot(work) == before
    assert sorted(p.name for p in (work / "results").iterdir()) == ["keep"]


@pytest.mark.parametrize(
    "args, needles",
    [
        (("--set", "deterrence.effect=-1"), ["--set", "deterrence.effect"]),
        (("--set", "nope=1"), ["--set", "nope"]),
        (("--set", "end=2318-01-01"), ["end", "horizon"]),
        (("--out", "."), ["'.', '..' or '/'"]),
    ],
)
def test_check_reports_errors_like_run(
    work: Path, args: tuple[str, ...], needles: list[str]
) -> None:
    r = migsim(work, "check", ACA, *args)
    assert_refused(r, *needles)


# ----------------------------------------------------------------------------- 6. leftovers
def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_leftover_temp_folders_of_dead_runs_are_cleaned(work: Path) -> None:
    results = work / "results"
    pid = _dead_pid()
    ours = results / f".a.tmp-{pid}-abc123"
    ours.mkdir()
    (ours / MARKER).write_text(json.dumps({"kind": "run"}))
    (ours / "daily.parquet").write_bytes(b"half")
    old = results / f".a.old-{pid}"
    old.mkdir()
    (old / MARKER).write_text(json.dumps({"kind": "run"}))
    foreign = results / f".a.tmp-{pid}-zzz"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("not migsim's")
    other = results / f".b.tmp-{pid}-abc"  # another folder's leftovers: not this run's
    other.mkdir()
    (other / MARKER).write_text(json.dumps({"kind": "run"}))
    r = migsim(work, "run", ACA, *TINY, "--out", "results/a")
    assert r.returncode == 0, r.stderr
    assert not ours.exists() and not old.exists()
    assert (foreign / "mine.txt").read_text() == "not migsim's"  # reported, not deleted
    assert f"results/{foreign.name}" in r.stderr and "left alone" in r.stderr
    assert other.exists()
    names = sorted(p.name for p in results.iterdir())
    assert names == [f".a.tmp-{pid}-zzz", f".b.tmp-{pid}-abc", "a", "keep"]


# ----------------------------------------------------------------------------- 7. disk full
def _enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_during_a_run_write(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    monkeypatch.chdir(work)
    assert main(["run", ACA, *TINY, "--out", "results/a"]) == 0
    capsys.readouterr()
    before = snapshot(work)
    monkeypatch.setattr(pd.DataFrame, "to_csv", _enospc)
    assert main(["run", ACA, *TINY, "--set", "seed=7", "--out", "results/a"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("migsim: error: results/a: cannot write the results")
    assert "No space left on device" in err
    assert snapshot(work) == before  # old results intact, nothing half-written visible
    assert sorted(p.name for p in (work / "results").iterdir()) == ["a", "keep"]


def test_disk_full_during_a_batch_write(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    store = importlib.import_module("sim.batch.store")  # `sim.batch` is also a function

    def full(path: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.chdir(work)
    monkeypatch.setattr(store, "write_bytes", full)
    before = snapshot(work)
    args = ["batch", ACA, "--reps", "1", "--jobs", "1", "--quiet", *TINY, "--out", "results/b"]
    status = main(args)
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "results/b" in err and "No space left on device" in err
    after = snapshot(work)
    assert {k: after[k] for k in before} == before  # the user's files are untouched
    assert not list((work / "results" / "b" / "runs").glob("*.parquet"))  # nothing half-written


@pytest.mark.parametrize("kind", ["backtest", "attribution"])
def test_backtest_and_attribution_folders_with_a_user_file_are_refused(tmp_path, kind) -> None:
    """A user's file put inside a migsim backtest or attribution folder is never deleted by
    replacing the folder: the command refuses before any work."""
    from sim.ownership import OutputError, check_output_dir, write_marker

    out = tmp_path / kind
    out.mkdir()
    write_marker(out, kind)
    (out / "manifest.json").write_text("{}")
    if kind == "backtest":
        (out / "calibration_2019-03").mkdir()
    check_output_dir(out, kind)  # only what migsim writes there: accepted
    (out / "thesis.docx").write_text("mine")
    with pytest.raises(OutputError, match="thesis.docx"):
        check_output_dir(out, kind)
    assert (out / "thesis.docx").read_text() == "mine"
