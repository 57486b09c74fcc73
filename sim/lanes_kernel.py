"""The processing lanes' kernel, compiled with numba (see `sim.lanes`, which imports this
module only for runs large enough to repay it and holds the plain-Python twin it is
tested against). Heaps on arrays: the busy lanes keyed by (completion time, party id),
the waiting parties by (group rank, arrival time, party id)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _less_end(t, i, ends, ends_id, j):  # (time, id) < heap item j
    return t < ends[j] or (t == ends[j] and i < ends_id[j])


@njit(cache=True)
def _push_end(ends, ends_id, n, t, i):
    k = n
    while k > 0:
        p = (k - 1) >> 1
        if _less_end(t, i, ends, ends_id, p):
            ends[k] = ends[p]
            ends_id[k] = ends_id[p]
            k = p
        else:
            break
    ends[k] = t
    ends_id[k] = i


@njit(cache=True)
def _pop_end(ends, ends_id, n):  # n: size before the pop; the root is removed
    if n > 1:
        _replace_end(ends, ends_id, n - 1, ends[n - 1], ends_id[n - 1])


@njit(cache=True)
def _replace_end(ends, ends_id, n, t, i):  # the root replaced by (t, i), sifted down
    k = 0
    while True:
        c = 2 * k + 1
        if c >= n:
            break
        if c + 1 < n and _less_end(ends[c + 1], ends_id[c + 1], ends, ends_id, c):
            c += 1
        if ends[c] < t or (ends[c] == t and ends_id[c] < i):
            ends[k] = ends[c]
            ends_id[k] = ends_id[c]
            k = c
        else:
            break
    ends[k] = t
    ends_id[k] = i


@njit(cache=True, inline="always")
def _less_w(r, t, i, w_rank, w_t, w_id, j):
    if r != w_rank[j]:
        return r < w_rank[j]
    if t != w_t[j]:
        return t < w_t[j]
    return i < w_id[j]


@njit(cache=True)
def _push_w(w_rank, w_t, w_id, w_svc, n, r, t, i, s):
    k = n
    while k > 0:
        p = (k - 1) >> 1
        if _less_w(r, t, i, w_rank, w_t, w_id, p):
            w_rank[k], w_t[k], w_id[k], w_svc[k] = w_rank[p], w_t[p], w_id[p], w_svc[p]
            k = p
        else:
            break
    w_rank[k], w_t[k], w_id[k], w_svc[k] = r, t, i, s


@njit(cache=True)
def _pop_w(w_rank, w_t, w_id, w_svc, n):
    r, t, i, s = w_rank[n - 1], w_t[n - 1], w_id[n - 1], w_svc[n - 1]
    m = n - 1
    k = 0
    while True:
        c = 2 * k + 1
        if c >= m:
            break
        if c + 1 < m and _less_w(w_rank[c + 1], w_t[c + 1], w_id[c + 1], w_rank, w_t, w_id, c):
            c += 1
        if w_rank[c] < r or (
            w_rank[c] == r and (w_t[c] < t or (w_t[c] == t and w_id[c] < i))
        ):  # child < the moved item
            w_rank[k], w_t[k], w_id[k], w_svc[k] = w_rank[c], w_t[c], w_id[c], w_svc[c]
            k = c
        else:
            break
    if m > 0:
        w_rank[k], w_t[k], w_id[k], w_svc[k] = r, t, i, s


@njit(cache=True)
def advance(
    ids, at, svc, rk, until, c, ends, ends_id, w_rank, w_t, w_id, w_svc, state,
    done_id, done_t, start_id, start_t,
):  # fmt: skip
    n_busy, n_wait = state[0], state[1]
    n, i, nd, ns = len(ids), 0, 0, 0
    inf = np.inf
    while True:
        a = at[i] if i < n else inf
        e = ends[0] if n_busy > 0 else inf
        if e < a:
            if e >= until:
                break
            who = ends_id[0]
            done_id[nd] = who
            done_t[nd] = e
            nd += 1
            if n_wait > 0:
                nxt, s = w_id[0], w_svc[0]
                _pop_w(w_rank, w_t, w_id, w_svc, n_wait)
                n_wait -= 1
                _replace_end(ends, ends_id, n_busy, e + s, nxt)  # the lane goes on
                start_id[ns] = nxt
                start_t[ns] = e
                ns += 1
            else:
                _pop_end(ends, ends_id, n_busy)
                n_busy -= 1
        else:
            if a >= until:
                break
            if n_busy < c:
                _push_end(ends, ends_id, n_busy, a + svc[i], ids[i])
                n_busy += 1
            else:
                _push_w(w_rank, w_t, w_id, w_svc, n_wait, rk[i], a, ids[i], svc[i])
                n_wait += 1
            i += 1
    state[0], state[1] = n_busy, n_wait
    out = np.empty(2, dtype=np.int64)
    out[0], out[1] = nd, ns
    return out
