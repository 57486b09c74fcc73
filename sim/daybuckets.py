"""Parties filed under the day something next happens to them, as rows of numpy arrays:
no Python object per party while it travels or waits to set out again.

`DayBuckets` is the plain (numpy) container; `CompiledDayBuckets` is its compiled twin
(`sim.daybuckets_kernel`: a linked list of blocks of rows per day in one table), used by
runs large enough to repay numba's load (`sim.kernels.use_compiled`): the same rows in the
same order, without the sorting, splitting and joining that cost the plain one about 60
microseconds a pop.
`day_buckets` makes one or the other.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np


def day_buckets(width: int, days: int, compiled: bool = False) -> DayBuckets | CompiledDayBuckets:
    """Buckets for rows of `width` columns popped on days 0..days-1 (rows filed under a
    later day are never popped: the compiled twin drops them)."""
    return CompiledDayBuckets(width, days) if compiled else DayBuckets()


class DayBuckets:
    """Parties filed under the day something next happens to them (their journey ends, they
    set out again), as rows of one float array per batch: no Python object per party while
    it travels, and the event queue holds only the current day's arrivals.

    Rows hold whatever columns the caller passes, as float64 (times, and integer codes far
    below 2**53, so exact). `pop(day)` gives the rows filed under `day` in filing order.

    What is filed waits in a pending list until the next `pop`, which files it all at once
    (one stable sort for the batches and single rows filed since). A day's filings span
    some sixty days, and a piece per day filed, then sixty pieces joined per day popped,
    cost more than the rows' sorting: so rows are filed under their day only in the bins
    (`2**SHIFT` days) already opened, and under their bin after that. A bin is opened when
    a day of it is popped: its pieces, all filed before any row of its days went to a
    day, are sorted by day at once (stable: filing order) and split per day, ahead of
    whatever is filed later.
    """

    SHIFT = 4  # bins of 16 days

    def __init__(self) -> None:
        self._chunks: defaultdict[int, list[np.ndarray]] = defaultdict(list)
        # by bin not opened yet: pieces (days, rows [row, column]), in filing order
        self._bins: defaultdict[int, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        self._opened = -1  # the bins up to this one are opened
        # filed since the last pop, in filing order: (days, rows [row, column]) of a batch,
        # or (day, row) of a single row
        self._pending: list[tuple[np.ndarray, np.ndarray] | tuple[int, tuple]] = []

    def add(self, days: np.ndarray, *columns: np.ndarray | float) -> None:
        """File row i under `days[i]` (a column may be one number for all rows)."""
        if not len(days):
            return
        cols = np.empty((len(columns), len(days)))
        for j, column in enumerate(columns):
            cols[j] = column
        self._pending.append((days, cols.T))

    def add_rows(self, days: np.ndarray, rows: np.ndarray) -> None:
        """File `rows[i]` (float64 [row, column]; kept, not copied) under `days[i]`."""
        if len(days):
            self._pending.append((days, rows))

    def add_one(self, day: int, row: tuple[float, ...]) -> None:
        self._pending.append((day, row))

    def pop(self, day: int) -> np.ndarray | None:
        """All rows filed under `day` (removed), in filing order, or None."""
        if self._pending:
            self._file_pending()
        while self._opened < day >> self.SHIFT:
            self._opened += 1
            self._open(self._opened)
        chunks = self._chunks.pop(day, None)
        if not chunks:
            return None
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)

    def _file_pending(self) -> None:
        """File the pending batches and rows under their days, or their bins if not opened."""
        days, rows = _joined(self._pending)
        self._pending.clear()
        order = _stable_order(days)
        days = days[order]
        rows = np.take(rows, order, axis=0)
        near = int(days.searchsorted((self._opened + 1) << self.SHIFT))
        chunks = self._chunks
        for d, lo, hi in _runs(days[:near]):
            chunks[d].append(rows[lo:hi])
        if near < len(days):
            days, rows = days[near:], rows[near:]
            bins = self._bins
            for b, lo, hi in _runs(days >> self.SHIFT):
                bins[b].append((days[lo:hi], rows[lo:hi]))

    def _open(self, b: int) -> None:
        """File bin `b`'s rows under their days."""
        pieces = self._bins.pop(b, None)
        if not pieces:
            return
        days = np.concatenate([d for d, _ in pieces])
        rows = np.concatenate([r for _, r in pieces])
        order = _stable_order(days)
        days, rows = days[order], np.take(rows, order, axis=0)
        chunks = self._chunks
        for d, lo, hi in _runs(days):
            chunks[d].append(rows[lo:hi])


def _joined(
    pending: list[tuple[np.ndarray, np.ndarray] | tuple[int, tuple]],
) -> tuple[np.ndarray, np.ndarray]:
    """Pending batches and single rows as one batch (days, rows), in filing order."""
    days_parts: list[np.ndarray] = []
    rows_parts: list[np.ndarray] = []
    singles: list[tuple[int, tuple]] = []
    for item in pending:
        if isinstance(item[1], np.ndarray):
            if singles:
                _append_singles(singles, days_parts, rows_parts)
                singles = []
            days_parts.append(item[0])
            rows_parts.append(item[1])
        else:
            singles.append(item)
    if singles:
        _append_singles(singles, days_parts, rows_parts)
    if len(days_parts) == 1:
        return days_parts[0], rows_parts[0]
    return np.concatenate(days_parts), np.concatenate(rows_parts)


def _runs(keys: np.ndarray) -> zip:
    """(key, start, stop) of each run of equal keys in sorted `keys`."""
    if not len(keys):
        return zip()
    starts = [0, *((keys[1:] != keys[:-1]).nonzero()[0] + 1).tolist()]
    return zip(keys[starts].tolist(), starts, [*starts[1:], len(keys)], strict=True)


def _append_singles(
    singles: list[tuple[int, tuple]], days_parts: list[np.ndarray], rows_parts: list[np.ndarray]
) -> None:
    """A run of single rows, as one batch (days, rows [row, column])."""
    days_parts.append(np.array([d for d, _ in singles], dtype=np.int64))
    rows_parts.append(np.array([row for _, row in singles], dtype=float))


def _stable_order(days: np.ndarray) -> np.ndarray:
    """`np.argsort(days, kind="stable")`: the one stable order, found by a radix sort when
    the days fit in 16 bits (several times faster than the int64 sort on a day's rows)."""
    if days.dtype.kind in "iu" and days.min() >= 0 and days.max() < 2**15:
        days = days.astype(np.int16)
    return np.argsort(days, kind="stable")


class CompiledDayBuckets:
    """`DayBuckets` (the same methods, the same rows in the same order) for rows of a
    fixed width popped on days 0..days-1, as a linked list of blocks of rows per day in
    one table, whose blocks are reused once popped (`sim.daybuckets_kernel`)."""

    def __init__(self, width: int, days: int, blocks: int = 256) -> None:
        from sim.daybuckets_kernel import BLOCK, file_rows, pop_rows

        self._file, self._pop = file_rows, pop_rows
        self.width = width
        self._data = np.empty((blocks, BLOCK, width))
        self._meta = np.empty((blocks, 2), dtype=np.int64)  # next block, rows in use
        self._by_day = np.zeros((3, days), dtype=np.int64)  # first, last block; rows
        self._by_day[:2] = -1
        self._state = np.array([-1, 0], dtype=np.int64)  # first free block, blocks used
        # load the kernels now, not in the run (nothing is filed, nothing popped)
        self.add_rows(np.empty(0, dtype=np.int64), np.empty((0, width)))
        self._pop(0, self._data, self._meta, self._by_day, self._state)

    def add(self, days: np.ndarray, *columns: np.ndarray | float) -> None:
        if not len(days):
            return
        rows = np.empty((len(days), len(columns)))
        for j, column in enumerate(columns):
            rows[:, j] = column
        self.add_rows(days, rows)

    def add_rows(self, days: np.ndarray, rows: np.ndarray) -> None:
        if rows.shape[1] != self.width:
            raise ValueError(f"rows of {rows.shape[1]} columns in buckets of {self.width}")
        days = np.ascontiguousarray(days, dtype=np.int64)
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        done = 0
        while True:
            done = self._file(days, rows, done, self._data, self._meta, self._by_day, self._state)
            if done == len(days):
                return
            self._grow(2 * len(self._data))  # (out of blocks: the rest goes on after)

    def add_one(self, day: int, row: tuple[float, ...]) -> None:
        self.add_rows(np.array([day], dtype=np.int64), np.array([row], dtype=np.float64))

    def pop(self, day: int) -> np.ndarray | None:
        if not self._by_day[2, day]:
            return None
        return self._pop(day, self._data, self._meta, self._by_day, self._state)

    def _grow(self, blocks: int) -> None:
        """Room for `blocks` blocks: those in use keep their places."""
        used = int(self._state[1])
        data = np.empty((blocks, *self._data.shape[1:]))
        data[:used] = self._data[:used]
        meta = np.empty((blocks, 2), dtype=np.int64)
        meta[:used] = self._meta[:used]
        self._data, self._meta = data, meta
