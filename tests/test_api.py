"""The notebook-facing API: clear errors for unknown names, inline charts, helpers."""

from __future__ import annotations

import pytest
from matplotlib.axes import Axes

from sim.batch.orchestrate import BatchResult
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


# ----------------------------------------------------------------------------- inline charts
@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _footer(ax: Axes) -> str:
    return ax.figure._supxlabel.get_text()


def test_plot_flow_by_nationality_stacks_monthly_bars(result: RunResult) -> None:
    from matplotlib.axes import Axes

    ax = result.plot("encounters", by="nationality")
    assert isinstance(ax, Axes)
    assert ax.get_title(loc="left").startswith("encounters:")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["Mexico", "Guatemala"]
    months = result.series("encounters").resample("MS").sum()
    heights = {}
    for patch in ax.patches:  # stacked: the monthly totals are the tops of the bars
        heights.setdefault(round(patch.get_x(), 3), []).append(patch.get_height())
    assert sorted(round(sum(h)) for h in heights.values()) == sorted(round(v) for v in months)
    assert "scale 0.02" in _footer(ax) and "seed" in _footer(ax)
    assert any("ACA starts" in t.get_text() for t in ax.texts)  # policy dates are marked


def test_plot_draws_into_a_given_axes(result: RunResult) -> None:
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2)
    ax = result.plot("in_custody", ax=right)
    assert ax is right and not left.lines
    custody = result.series("in_custody")
    assert ax.lines[0].get_ydata().max() == pytest.approx(custody.max())


def test_plot_refuses_an_unknown_metric(result: RunResult) -> None:
    with pytest.raises(UnknownNameError, match="'in_custody'"):
        result.plot("in_custdy")


@pytest.fixture(scope="module")
def small_batch() -> BatchResult:
    import sim

    return sim.batch(
        [scenario("baseline", "scale=0.02"), scenario("aca_guatemala", "scale=0.02")],
        reps=2,
        charts=False,
    )


def test_batch_plot_labels_a_range_and_states_the_scale(small_batch: BatchResult) -> None:
    ax = small_batch.plot("encounters")
    assert "range over 2 replications" in ax.get_title(loc="left")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["baseline", "aca_guatemala"]
    assert "scale 0.02" in _footer(ax) and "2 replications each" in _footer(ax)
    assert len(ax.collections) == 2  # one band per point


def test_batch_plot_refuses_an_unknown_point(small_batch: BatchResult) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'baseline'"):
        small_batch.plot("encounters", points=["baseline2"])
