"""The day-buckets' compiled twin (numba): rows filed under a day as a linked list per day
in one table, so filing a batch is one pass over its rows and popping a day one pass over
that day's, with no sort, split or join (see `sim.daybuckets.CompiledDayBuckets`).

State, in arrays the wrapper owns: `data` [slot, column], `nxt` [slot] (the next slot of
the same day, -1 at the end; for a free slot, the next free one), `head`, `tail` and
`count` by day, and `state` = (first free slot, slots ever used)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def file_rows(days, rows, data, nxt, head, tail, count, state):
    """Append `rows[i]` to the list of `days[i]` (in order); days outside the table are
    skipped (never popped). The caller has made room: free slots plus unused ones cover
    the rows. Returns how many were filed."""
    free, used = state[0], state[1]
    horizon = len(head)
    filed = 0
    for i in range(len(days)):
        d = days[i]
        if d < 0 or d >= horizon:
            continue
        filed += 1
        if free >= 0:  # a slot given back by a pop
            s = free
            free = nxt[s]
        else:
            s = used
            used += 1
        for j in range(rows.shape[1]):
            data[s, j] = rows[i, j]
        nxt[s] = -1
        if head[d] < 0:
            head[d] = s
        else:
            nxt[tail[d]] = s
        tail[d] = s
        count[d] += 1
    state[0], state[1] = free, used
    return filed


@njit(cache=True)
def pop_rows(day, data, nxt, head, tail, count, state):
    """The rows of `day`'s list in filing order (a new array); their slots are freed."""
    out = np.empty((count[day], data.shape[1]))
    s = head[day]
    free = state[0]
    k = 0
    while s >= 0:
        for j in range(data.shape[1]):
            out[k, j] = data[s, j]
        k += 1
        following = nxt[s]
        nxt[s] = free
        free = s
        s = following
    state[0] = free
    head[day] = -1
    tail[day] = -1
    count[day] = 0
    return out
