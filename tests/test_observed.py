"""The observed series: shipped files load and match the documented totals; bad files fail loudly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim import observed
from sim.observed import ObservedDataError, load_observed_file
from sim.scenario.loader import ScenarioError

DATA = Path(__file__).resolve().parent / "data"


def _fy(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    months = pd.period_range(f"{year - 1}-10", f"{year}-09", freq="M")
    return frame.loc[frame.index.isin(months)]


def test_shipped_usbp_shape_and_index():
    u = observed.load_usbp()
    assert len(u) == 24
    assert str(u.index.min()) == "2017-10" and str(u.index.max()) == "2019-09"
    assert isinstance(u.index, pd.PeriodIndex) and u.index.name == "month"
    assert list(u.columns) == ["fiscal_year", *observed.USBP_COUNTS]
    assert (u.dtypes == "int64").all()
    assert list(observed.usbp_by_family_status().columns) == list(observed.FAMILY_STATUS)
    assert list(observed.usbp_by_citizenship().columns) == list(observed.CITIZENSHIP)
    assert list(observed.usbp_totals().columns) == ["usbp_total"]


def test_shipped_swb_fy2019_totals_match_source_note():
    s = observed.swb_totals()
    assert len(s) == 12
    assert str(s.index.min()) == "2018-10" and str(s.index.max()) == "2019-09"
    assert s["swb_total"].sum() == 977_509  # verified total (sim/data/README.md)
    assert s["swb_total"].max() == 144_116 and str(s["swb_total"].idxmax()) == "2019-05"
    # the note says 851,508 USBP + 126,001 OFO; the monthly file's split differs by 10
    assert abs(s["usbp_total"].sum() - 851_508) <= 20
    assert abs(s["ofo_total"].sum() - 126_001) <= 20


def test_shipped_usbp_fy2019_totals_within_rounding():
    fy19 = _fy(observed.load_usbp(), 2019)
    assert len(fy19) == 12 and (fy19["fiscal_year"] == 2019).all()
    tol = 12 * 5  # twelve monthly cells, each rounded to the nearest 10
    assert abs(fy19["usbp_total"].sum() - 851_508) <= tol
    assert abs(fy19["single_adults"].sum() - 301_806) <= tol
    assert abs(fy19["family_unit_individuals"].sum() - 473_682) <= tol
    assert abs(fy19["unaccompanied_children"].sum() - 76_020) <= tol


def test_tidy_has_one_row_per_month_and_series():
    t = observed.tidy(observed.usbp_by_citizenship())
    assert list(t.columns) == ["month", "series", "value"]
    assert len(t) == 24 * 5


def test_user_file_loads(tmp_path):
    u = load_observed_file(DATA / "synthetic_fy2020.csv")
    assert str(u.index.min()) == "2019-09" and len(u) == 8


# ----------------------------------------------------------------------------- malformed
SHIPPED = observed.shipped_path(observed.USBP_FILE).read_text()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "obs.csv"
    path.write_text(text)
    return path


def _drop_column(text: str, col: str) -> str:
    lines = [line.split(",") for line in text.splitlines()]
    i = lines[0].index(col)
    return "\n".join(",".join(r[:i] + r[i + 1 :]) for r in lines) + "\n"


def _edit(text: str, month: str, col: str, value: str) -> str:
    lines = text.splitlines()
    header = lines[0].split(",")
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if cells[0] == month:
            cells[header.index(col)] = value
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


@pytest.mark.parametrize(
    ("make", "where", "problem"),
    [
        (lambda t: _drop_column(t, "guatemala"), "column guatemala", "missing required column"),
        (
            lambda t: _edit(t, "2018-03", "usbp_total", '"37,400"'),
            "line 7, column usbp_total",
            "not a whole number",
        ),
        (lambda t: _edit(t, "2018-03", "usbp_total", "37,400"), "line 7", "12 fields"),
        (
            lambda t: _edit(t, "2018-03", "honduras", "n/a"),
            "line 7, column honduras",
            "not a whole number",
        ),
        (lambda t: _edit(t, "2018-03", "honduras", ""), "line 7, column honduras", "missing value"),
        (lambda t: _edit(t, "2018-04", "other", "-1450"), "line 8, column other", "negative count"),
        (
            lambda t: _edit(t, "2018-04", "month", "2018-03"),
            "line 8, column month",
            "duplicate month 2018-03",
        ),
        (lambda t: _edit(t, "2018-04", "month", "April 2018"), "line 8, column month", "YYYY-MM"),
        (
            lambda t: _edit(t, "2018-10", "fiscal_year", "2018"),
            "line 14, column fiscal_year",
            "fiscal year 2019",
        ),
        (
            lambda t: _edit(t, "2018-10", "single_adults", "32930"),
            "line 14, columns single_adults",
            "rounding tolerance",
        ),
        (
            lambda t: _edit(t, "2018-10", "mexico", "3870"),
            "line 14, columns mexico+guatemala",
            "rounding tolerance",
        ),
        (
            lambda t: "\n".join(x for x in t.splitlines() if not x.startswith("2018-05")),
            "column month",
            "2018-05 is missing",
        ),
        (lambda t: t.splitlines()[0] + "\n", "obs.csv", "no data rows"),
        (lambda t: "", "obs.csv", "empty file"),
    ],
)
def test_malformed_file_names_file_place_and_problem(tmp_path, make, where, problem):
    path = _write(tmp_path, make(SHIPPED))
    with pytest.raises(ObservedDataError) as info:
        load_observed_file(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert where in message and problem in message
    assert isinstance(info.value, ScenarioError)  # so the CLI prints one line, exit 2


def test_missing_file(tmp_path):
    with pytest.raises(ObservedDataError, match="file not found"):
        load_observed_file(tmp_path / "nope.csv")


def test_rounding_differences_are_accepted(tmp_path):
    text = _edit(SHIPPED, "2018-10", "mexico", str(13870 + 60))  # a few tens off
    assert len(load_observed_file(_write(tmp_path, text))) == 24


def test_unsorted_rows_are_sorted(tmp_path):
    lines = SHIPPED.splitlines()
    text = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    u = load_observed_file(_write(tmp_path, text))
    assert u.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(u, observed.load_usbp())
