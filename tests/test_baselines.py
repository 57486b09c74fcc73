"""Baselines of `sim.baselines` against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import baselines as b


def _history(values, start="2018-01") -> pd.Series:
    idx = pd.period_range(start, periods=len(values), freq="M", name="month")
    return pd.Series(np.asarray(values, dtype=float), index=idx)


def test_persistence_repeats_the_last_value():
    f = b.persistence(_history([5, 7, 9]), 3)
    assert list(f.index.astype(str)) == ["2018-04", "2018-05", "2018-06"]
    assert f.tolist() == [9.0, 9.0, 9.0]


def test_seasonal_naive_same_month_of_the_latest_year():
    h = _history(range(1, 19))  # 2018-01 = 1 ... 2019-06 = 18
    f = b.seasonal_naive(h, 14)
    # 2019-07 <- 2018-07 (7), ..., 2019-12 <- 2018-12 (12), 2020-01 <- 2019-01 (13)
    assert f["2019-07"] == 7 and f["2019-12"] == 12 and f["2020-01"] == 13
    assert f["2020-06"] == 18
    # 2020-07 is 13 months after the history ends: two years back, 2018-07
    assert f["2020-07"] == 7 and f["2020-08"] == 8


def test_seasonal_naive_without_that_month_is_nan():
    f = b.seasonal_naive(_history([1, 2, 3]), 2)  # 2018-04 needs 2017-04
    assert np.isnan(f).all()


def test_statistical_on_exact_exponential_growth_follows_the_trend():
    h = _history(1000 * 1.1 ** np.arange(20))
    f = b.statistical(h, 3)
    assert "on log counts" in f.spec and f.spec.startswith("ETS(A,A")
    expected = 1000 * 1.1 ** np.arange(20, 23)
    np.testing.assert_allclose(f.point.to_numpy(), expected, rtol=0.02)
    assert (f.lo90 <= f.point).all() and (f.point <= f.hi90).all()


def test_statistical_uses_only_the_history_it_is_given():
    rng = np.random.default_rng(3)
    values = 20000 * np.exp(rng.normal(0, 0.1, 21))
    a = b.statistical(_history(values), 4)
    again = b.statistical(_history(values.copy()), 4)
    pd.testing.assert_series_equal(a.point, again.point)
    assert a.spec == again.spec


def test_statistical_falls_back_on_too_short_a_history():
    f = b.statistical(_history([10, 12]), 2)
    assert f.spec == "fallback: persistence"
    assert f.point.tolist() == [12.0, 12.0]
    assert f.lo90.isna().all()


def test_bad_histories_are_refused():
    with pytest.raises(ValueError, match="contiguous"):
        b.persistence(
            pd.Series([1.0, 2.0], index=pd.PeriodIndex(["2018-01", "2018-03"], freq="M")), 1
        )
    with pytest.raises(ValueError, match="horizon"):
        b.persistence(_history([1.0]), 0)
    with pytest.raises(ValueError, match="monthly"):
        b.persistence(pd.Series([1.0, 2.0]), 1)
