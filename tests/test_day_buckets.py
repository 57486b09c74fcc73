"""`sim.journey.DayBuckets` against the plain rule: `pop(day)` gives every row filed under
`day` since, in filing order (batches, rows and single rows, however the bucket files
them: by day, or by bin until the bin is opened)."""

from __future__ import annotations

import numpy as np

from sim.journey import DayBuckets


class Reference:
    def __init__(self) -> None:
        self.rows: list[tuple[int, tuple[float, ...]]] = []

    def file(self, days, rows) -> None:
        self.rows += [(int(d), tuple(r)) for d, r in zip(days, rows, strict=True)]

    def pop(self, day: int) -> np.ndarray | None:
        mine = [r for d, r in self.rows if d == day]
        self.rows = [(d, r) for d, r in self.rows if d != day]
        return np.array(mine) if mine else None


def test_day_buckets_pop_what_was_filed_in_filing_order():
    g = np.random.default_rng(3)
    bucket, ref = DayBuckets(), Reference()
    serial = 0.0
    for day in range(400):
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
    for day in range(400):  # the days skipped, popped late
        want = ref.pop(day)
        got = bucket.pop(day)
        assert (got is None) == (want is None), day
        if want is not None:
            assert np.array_equal(got, want), day
