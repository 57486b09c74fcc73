"""The notebook-facing API: clear errors for unknown names, inline charts, helpers."""

from __future__ import annotations

import pytest

from sim.lookup import UnknownNameError
from sim.results import RunResult
from tests.conftest import scenario
from tests.runcache import shared_run


@pytest.fixture(scope="module")
def result() -> RunResult:
    return shared_run(scenario("aca_guatemala", "scale=0.02"))


def test_unknown_metric_lists_a_close_match(result: RunResult) -> None:
    with pytest.raises(UnknownNameError, match=r"unknown metric 'encounter'.*'encounters'"):
        result.series("encounter")


def test_unknown_metric_is_a_key_error_and_a_value_error(result: RunResult) -> None:
    with pytest.raises(KeyError):
        result.series("custody")
    with pytest.raises(ValueError, match="in_custody"):
        result.series("custody")


def test_unknown_breakdown_lists_a_close_match(result: RunResult) -> None:
    with pytest.raises(UnknownNameError, match=r"'nationalty'.*did you mean 'nationality'"):
        result.series("encounters", by="nationalty")


def test_known_metric_without_rows_is_empty_not_an_error(result: RunResult) -> None:
    s = shared_run(scenario("baseline", "scale=0.02")).series("transferred")
    assert s.sum() == 0
    wide = result.series("encounters", by="nationality")
    assert {"guatemala", "mexico"} <= set(wide.columns)
