"""Exact Shapley values over all coalitions of a few players.

phi_i = sum over S not containing i of |S|! (n - |S| - 1)! / n! x (v(S + i) - v(S)),
the average of i's marginal contribution over all orderings of the players. They add up
exactly to v(all) - v(none) (efficiency), give 0 to a player that changes nothing (null
player) and the same value to interchangeable players (symmetry). Values may be arrays
(e.g. one entry per replication and series): everything is elementwise, so efficiency holds
per replication.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import combinations
from math import factorial

import numpy as np

Coalition = frozenset[str]


def coalitions(players: Sequence[str]) -> list[Coalition]:
    """Every subset of `players` (2^n), the empty one first, the full one last."""
    return [frozenset(c) for k in range(len(players) + 1) for c in combinations(players, k)]


def shapley(
    players: Sequence[str],
    value: Mapping[Coalition, np.ndarray] | Callable[[Coalition], np.ndarray],
) -> dict[str, np.ndarray]:
    """Shapley value of each player for the value function `value` (a mapping over every
    coalition, or a function of one)."""
    v = value.__getitem__ if isinstance(value, Mapping) else value
    n = len(players)
    cache: dict[Coalition, np.ndarray] = {}

    def val(s: Coalition) -> np.ndarray:
        if s not in cache:
            cache[s] = np.asarray(v(s), dtype=float)
        return cache[s]

    out: dict[str, np.ndarray] = {}
    for i in players:
        others = [p for p in players if p != i]
        total = 0.0
        for k in range(n):
            weight = factorial(k) * factorial(n - k - 1) / factorial(n)
            for c in combinations(others, k):
                s = frozenset(c)
                total = total + weight * (val(s | {i}) - val(s))
        out[i] = np.asarray(total, dtype=float)
    return out
