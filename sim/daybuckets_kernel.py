"""The day-buckets' compiled twin (numba): the rows filed under a day as a linked list of
blocks of `BLOCK` rows, so filing a batch is one pass over its rows and popping a day one
pass over that day's blocks, with no sort, split or join, and a day's rows side by side in
memory (see `sim.daybuckets.CompiledDayBuckets`).

State, in arrays the wrapper owns: `data` [block, row, column]; `meta` [block, 2]: the
next block of the same day (-1 at the end; for a free block, the next free one) and the
rows in use; `by_day` [3, day]: the first and last block and the rows of each day; `state`
= (first free block, blocks ever used)."""

from __future__ import annotations

import numpy as np
from numba import njit

BLOCK = 32  # rows a block


@njit(cache=True)
def file_rows(days, rows, start, data, meta, by_day, state):
    """Append `rows[i]` to the list of `days[i]`, for i from `start` on, in order; days
    outside the table are skipped (never popped). Returns where it stopped: len(rows), or
    the row that found no free block (the caller grows the table and goes on from it)."""
    free, used = state[0], state[1]
    horizon = by_day.shape[1]
    n = len(days)
    i = start
    while i < n:
        d = days[i]
        if d < 0 or d >= horizon:
            i += 1
            continue
        b = by_day[1, d]
        if b < 0 or meta[b, 1] == BLOCK:  # a new block at the day's end
            if free >= 0:
                nb = free
                free = meta[nb, 0]
            elif used < data.shape[0]:
                nb = used
                used += 1
            else:
                break  # full: the caller grows the table
            meta[nb, 0] = -1
            meta[nb, 1] = 0
            if b < 0:
                by_day[0, d] = nb
            else:
                meta[b, 0] = nb
            by_day[1, d] = nb
            b = nb
        k = meta[b, 1]
        for j in range(rows.shape[1]):
            data[b, k, j] = rows[i, j]
        meta[b, 1] = k + 1
        by_day[2, d] += 1
        i += 1
    state[0], state[1] = free, used
    return i


@njit(cache=True)
def pop_rows(day, data, meta, by_day, state):
    """The rows of `day` in filing order (a new array); its blocks are freed."""
    out = np.empty((by_day[2, day], data.shape[2]))
    b = by_day[0, day]
    free = state[0]
    k = 0
    while b >= 0:
        m = meta[b, 1]
        out[k : k + m] = data[b, :m]
        k += m
        following = meta[b, 0]
        meta[b, 0] = free
        free = b
        b = following
    state[0] = free
    by_day[0, day] = -1
    by_day[1, day] = -1
    by_day[2, day] = 0
    return out
