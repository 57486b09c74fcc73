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
