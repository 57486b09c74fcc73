"""The tidy table and the totals are built once and cheaply (issue 15), and give what the
plain pandas way gives: string columns as categoricals with the values present as their
categories, sorted, as `astype("category")` makes them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.metrics import FLOW_INDEX
from sim.recorder import LABELS
from sim.results import RunResult
from tests.conftest import scenario
from tests.runcache import shared_run


@pytest.fixture(scope="module")
def aca() -> RunResult:
    return shared_run(scenario("aca_guatemala", "scale=0.02"))


def test_label_columns_are_what_strings_then_astype_category_give(aca: RunResult) -> None:
    ours = aca.recorder.to_frame(aca.calendar.dates, aca.calendar.first_reported, 0.02)
    plain = ours.copy()
    for col in LABELS:
        strings = np.asarray(ours[col].astype(object), dtype=object)
        plain[col] = pd.Series(strings).astype("category")
    pd.testing.assert_frame_equal(ours, plain, check_exact=True)
    for col in LABELS:
        assert ours[col].cat.categories.dtype == plain[col].cat.categories.dtype, col
        assert list(ours[col].cat.categories) == sorted(set(ours[col].astype(object))), col
    assert set(ours["agreement"].cat.categories) == {"", "guatemala"}


def test_flows_are_made_once_read_only_and_equal_the_recorders(aca: RunResult) -> None:
    assert aca.flows is aca.flows
    assert not aca.flows.flags.writeable  # shared by the table, summary and manifest
    assert np.array_equal(aca.flows, aca.recorder.flow_array())
    first = aca.flows[:, FLOW_INDEX["first_departures"]].sum()
    assert aca.people_simulated == round(first) > 0


def test_summary_is_made_once_and_handed_out_as_a_copy(aca: RunResult) -> None:
    s = aca.summary()
    s.loc[:, "value"] = -1.0
    again = aca.summary()
    assert (again["value"] != -1.0).any()
    pd.testing.assert_frame_equal(again, aca.summary())


def test_batch_labels_are_the_columns_as_strings_whatever_their_dtype():
    """`sim.batch.series.labels` reads a categorical's categories by code instead of each
    row's string: the same object array as `astype(str)` (missing labels and plain columns
    go that way), and a run's series are the same either way."""
    from sim.batch.series import labels, run_series

    cat = pd.Series(pd.Categorical(["b", "", "a", "b"], categories=["", "a", "b", "c"]))
    missing = pd.Series(pd.Categorical(["a", None, "a"]))
    plain = pd.Series(["x", "", "y"], dtype=object)
    for column in (cat, missing, plain, cat.iloc[:0]):
        got, want = labels(column), column.astype(str).to_numpy(object)
        assert got.dtype == object
        pd.testing.assert_series_equal(pd.Series(got), pd.Series(want))
    assert all(type(v) is str for v in labels(cat))
    daily = shared_run(scenario("aca_guatemala", "scale=0.02")).daily
    as_str = daily.assign(
        metric=daily["metric"].astype(str).to_numpy(object),
        agreement=daily["agreement"].astype(str).to_numpy(object),
    )
    pd.testing.assert_frame_equal(run_series(daily), run_series(as_str), check_exact=True)
