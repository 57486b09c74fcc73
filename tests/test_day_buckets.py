"""`sim.daybuckets.DayBuckets` and its compiled twin against the plain rule: `pop(day)`
gives every row filed under `day` since, in filing order (batches, rows and single rows,
however the bucket files them: by day, or by bin until the bin is opened; in a linked list
per day, its slots reused)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.daybuckets import CompiledDayBuckets, day_buckets
from sim.kernels import numba_available

DAYS = 400
COMPILED = pytest.param(
    True, marks=pytest.mark.skipif(not numba_available(), reason="numba not installed")
)


class Reference:
    def __init__(self) -> None:
        self.rows: list[tuple[int, tuple[float, ...]]] = []

    def file(self, days, rows) -> None:
        self.rows += [(int(d), tuple(r)) for d, r in zip(days, rows, strict=True)]

    def pop(self, day: int) -> np.ndarray | None:
        mine = [r for d, r in self.rows if d == day]
        self.rows = [(d, r) for d, r in self.rows if d != day]
        return np.array(mine) if mine else None


@pytest.mark.parametrize("compiled", [False, COMPILED])
def test_day_buckets_pop_what_was_filed_in_filing_order(compiled):
    g = np.random.default_rng(3)
    bucket, ref = day_buckets(3, DAYS, compiled), Reference()
    if compiled:  # small, so that it grows, and reuses popped blocks
        bucket = CompiledDayBuckets(3, DAYS, blocks=2)
    serial = 0.0
    for day in range(DAYS):
        for _ in range(int(g.integers(0, 4))):  # filings of the day, of every kind
            n = int(g.integers(0, 30))
            span = 3 if g.random() < 0.3 else 120  # near days, or far beyond a bin
            days = day + g.integers(0, span, n)
            rows = np.column_stack([serial + np.arange(n), g.integers(0, 9, (n, 2))])
            serial += n
            kind = g.integers(0, 3)
            if kind == 0:
                bucket.add(days, *rows.T)
            elif kind == 1:
                bucket.add_rows(days, rows.astype(float))
            else:
                for d, r in zip(days.tolist(), rows.tolist(), strict=True):
                    bucket.add_one(d, tuple(r))
            ref.file(days, rows)
        if day % 11 == 5:
            continue  # a day not popped: its rows stay (as they do in the reference)
        got, want = bucket.pop(day), ref.pop(day)
        assert (got is None) == (want is None), day
        if want is not None:
            assert got.dtype == np.float64 and np.array_equal(got, want), day
    for day in range(DAYS):  # the days skipped, popped late (rows past DAYS: never popped)
        want = ref.pop(day)
        got = bucket.pop(day)
        assert (got is None) == (want is None), day
        if want is not None:
            assert np.array_equal(got, want), day


@pytest.mark.skipif(not numba_available(), reason="numba not installed")
def test_the_compiled_buckets_reuse_popped_blocks_and_refuse_other_widths():
    from sim.daybuckets_kernel import BLOCK

    bucket = CompiledDayBuckets(2, 10, blocks=2)
    for day in range(8):  # a block and a half a day, popped the next day
        n = BLOCK + BLOCK // 2
        bucket.add_rows(np.full(n, day + 1), np.arange(2.0 * n).reshape(n, 2) + day)
        got = bucket.pop(day)
        assert (got is None) == (day == 0)
        if got is not None:
            assert np.array_equal(got, np.arange(2.0 * n).reshape(n, 2) + day - 1)
    assert len(bucket._data) == 4  # grown once (2 blocks live, 2 more filed), then reused
    bucket.add_rows(np.array([10, 11, -1]), np.zeros((3, 2)))  # past the last day: dropped
    assert int(bucket._by_day[2].sum()) == BLOCK + BLOCK // 2
    with pytest.raises(ValueError, match="3 columns"):
        bucket.add_rows(np.array([1]), np.zeros((1, 3)))
