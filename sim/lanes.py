"""Processing lanes: `c` servers and a priority queue, advanced a day at a time.

The border's queue is the one sequential rule of the model that cannot be vectorised: who
starts when depends on every earlier arrival and completion. It is kept exact and made
cheap: a day's arrivals (all known at the daily tick, in time order) go into `advance`,
which plays arrivals and completions in time order up to the end of the day and returns
the day's completions, in time order, and the starts of those who had to wait. The queue
is a binary heap keyed by (group rank, arrival time, party id); the busy lanes are a heap
of completion times. An arrival at the same instant as a completion is taken first (it
finds the lane still busy), as the SimPy events the lanes replace were.

Two interchangeable kernels compute the same numbers with the same floating-point
operations (tested against each other): a numba-compiled one on arrays, used for large
runs, and a plain Python one on `heapq`, used where a run is too small to repay importing
numba (and wherever numba is not installed). The compiled kernel is cached on disk
(`cache=True`), so a run does not pay its compilation after the first.
"""

from __future__ import annotations

import heapq
from itertools import chain

import numpy as np

from sim.kernels import numba_available


class Lanes:
    """`lanes` servers in parallel; state carried from one `advance` to the next."""

    def __init__(self, lanes: int, compiled: bool = False) -> None:
        self.lanes = lanes
        self.compiled = compiled and numba_available()
        if self.compiled:
            self._ends = np.empty(lanes)  # heap of completion times of the busy lanes
            self._ends_id = np.empty(lanes, dtype=np.int64)
            cap = 1024
            self._w_rank = np.empty(cap, dtype=np.int64)  # heap of waiting parties
            self._w_t = np.empty(cap)
            self._w_id = np.empty(cap, dtype=np.int64)
            self._w_svc = np.empty(cap)
            self._n = np.zeros(2, dtype=np.int64)  # busy lanes, waiting parties
            empty = np.empty(0, dtype=np.int64)  # load the kernel now, not in the run
            self._advance_compiled(empty, np.empty(0), np.empty(0), empty, 0.0)
        else:
            # the busy lanes as a heap of (completion time, party id), or (None) as arrays
            # of both sorted by (time, id), as `_free_day` leaves them: see `_heap`
            self._busy: list[tuple[float, int]] | None = []
            self._busy_end = np.empty(0)
            self._busy_id = np.empty(0, dtype=np.int64)
            self._queue: list[tuple[int, float, int, float]] = []

    @property
    def waiting(self) -> int:
        return int(self._n[1]) if self.compiled else len(self._queue)

    def _heap(self) -> list[tuple[float, int]]:
        """The busy lanes as a heap (a sorted list is one), for the Python loop."""
        if self._busy is None:
            ends, ids = self._busy_end.tolist(), self._busy_id.tolist()
            self._busy = list(zip(ends, ids, strict=True))
        return self._busy

    def _busy_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The busy lanes as arrays of completion times and ids (in any order)."""
        if self._busy is None:
            return self._busy_end, self._busy_id
        end = np.array([e for e, _ in self._busy], dtype=np.float64)
        return end, np.array([i for _, i in self._busy], dtype=np.int64)

    def advance(
        self,
        ids: np.ndarray,
        t_arrival: np.ndarray,
        service: np.ndarray,
        rank: np.ndarray,
        until: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Take in arrivals (sorted by time, all before `until`) and play the lanes up to
        `until`. Returns (ids done, completion times) in time order and (ids, start times)
        of the parties that started after waiting, in start order."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        t_arrival = np.ascontiguousarray(t_arrival, dtype=np.float64)
        service = np.ascontiguousarray(service, dtype=np.float64)
        rank = np.ascontiguousarray(rank, dtype=np.int64)
        if self.compiled:  # (as fast as `_free_day` on a free day of a large run)
            return self._advance_compiled(ids, t_arrival, service, rank, until)
        return _advance_python(self, ids, t_arrival, service, rank, until)

    def _advance_compiled(self, ids, t_arrival, service, rank, until):
        need = int(self._n[1]) + len(ids)
        if need > len(self._w_t):  # room for everyone who might wait
            cap = max(need, 2 * len(self._w_t))
            for name in ("_w_rank", "_w_t", "_w_id", "_w_svc"):
                old = getattr(self, name)
                new = np.empty(cap, dtype=old.dtype)
                new[: len(old)] = old
                setattr(self, name, new)
        bound = self.lanes + need
        done_id = np.empty(bound, dtype=np.int64)
        done_t = np.empty(bound)
        start_id = np.empty(need, dtype=np.int64)
        start_t = np.empty(need)
        counts = _kernel()(
            ids,
            t_arrival,
            service,
            rank,
            until,
            self.lanes,
            self._ends,
            self._ends_id,
            self._w_rank,
            self._w_t,
            self._w_id,
            self._w_svc,
            self._n,
            done_id,
            done_t,
            start_id,
            start_t,
        )
        n_done, n_start = int(counts[0]), int(counts[1])
        return done_id[:n_done], done_t[:n_done], start_id[:n_start], start_t[:n_start]


def _advance_python(lanes: Lanes, ids, t_arrival, service, rank, until):
    """The kernel in plain Python (`heapq`): the reference the compiled one is tested on.

    Arrival by arrival (then a last stop at `until`): first the completions strictly
    before it (an arrival at the same instant as a completion is taken first), then the
    arrival. A lane freed while parties wait goes on with the next of them at once
    (`heapreplace`: the same heap as a pop then a push).

    Most days nobody waits (a free lane for every arrival): those are played with numpy
    instead, the same numbers (`_free_day`)."""
    if not lanes._queue:
        free = _free_day(*lanes._busy_arrays(), ids, t_arrival, service, until, lanes)
        if free is not None:
            done, t_done, lanes._busy_end, lanes._busy_id = free
            lanes._busy = None  # (kept as the sorted arrays until the loop needs a heap)
            return done, t_done, np.empty(0, dtype=np.int64), np.empty(0)
    busy, queue, c = lanes._heap(), lanes._queue, lanes.lanes
    push, pop, replace = heapq.heappush, heapq.heappop, heapq.heapreplace
    done_id: list[int] = []
    done_t: list[float] = []
    start_id: list[int] = []
    start_t: list[float] = []
    arrivals = zip(t_arrival.tolist(), ids.tolist(), service.tolist(), rank.tolist(), strict=True)
    for a, pid, svc, rk in chain(arrivals, [(until, -1, 0.0, 0)]):
        last = a >= until  # the end of the day (or an arrival after it: none is taken)
        t = until if last else a
        while busy and busy[0][0] < t:  # the completions before t
            e, who = busy[0]
            done_id.append(who)
            done_t.append(e)
            if queue:
                _, _, nxt, s = pop(queue)
                replace(busy, (e + s, nxt))
                start_id.append(nxt)
                start_t.append(e)
            else:
                pop(busy)
        if last:
            break
        if len(busy) < c:
            push(busy, (a + svc, pid))
        else:
            push(queue, (rk, a, pid, svc))
    return (
        np.array(done_id, dtype=np.int64),
        np.array(done_t),
        np.array(start_id, dtype=np.int64),
        np.array(start_t),
    )


def _free_day(end, who, ids, t_arrival, service, until: float, lanes: Lanes):
    """A day on which every arrival finds a free lane, played with numpy: (ids done,
    completion times) in time order, and the lanes still busy at `until` as arrays of
    completion times and ids sorted by (time, id) (a heap, as a sorted list is one); or
    None if someone would wait (the loop's case). `end`, `who`: the lanes busy before.

    Every party then starts on arrival, so the completions are all the lanes' ends before
    `until`, in (time, id) order: the order a heap pops them in. Nobody waits iff fewer
    than `lanes` are busy at every arrival (by induction over the arrivals): busy at
    arrival i are the lanes busy before and the earlier arrivals, less those ending
    strictly before t_i (one at the same instant ends after the arrival). With times
    sorted and services >= 0, an arrival ending before t_i came before it, so those are
    all the ends before t_i: i + (busy before) - (ends before t_i), one `searchsorted`."""
    n, before = len(t_arrival), len(end)
    if n and (not t_arrival[-1] < until or not (service >= 0.0).all()):
        return None  # (an arrival at or after `until` is not taken in: the loop's case)
    end = np.concatenate([end, t_arrival + service])
    who = np.concatenate([who, ids])
    order = np.lexsort((who, end))
    end, who = end[order], who[order]
    if n:
        busy = np.arange(before, before + n) - end.searchsorted(t_arrival, side="left")
        if int(busy.max()) >= lanes.lanes:
            return None
    k = int(end.searchsorted(until, side="left"))  # ends strictly before `until`
    return who[:k], end[:k], end[k:], who[k:]


def _kernel():
    """The compiled kernel (numba imported, and the kernel loaded from its on-disk cache or
    compiled, on first use only: small runs never import numba)."""
    from sim.lanes_kernel import advance

    return advance
