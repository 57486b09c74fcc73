"""Named random streams for common random numbers.

Each purpose (arrivals, journeys, processing, ...) gets its own generator, derived from the
scenario seed and the stream's *name*, so adding a stream or changing how often another one
is used never shifts the numbers a stream produces. Scenarios that differ in one lever then
share random numbers wherever the lever has not acted yet.
"""

from __future__ import annotations

import zlib

import numpy as np

BLOCK = 8192


def stream(seed: int, name: str, replication: int = 0) -> np.random.Generator:
    """The generator for stream `name` of replication `replication` under root `seed`."""
    key = (replication, zlib.crc32(name.encode()))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=seed, spawn_key=key)))


class BlockStream:
    """Hands out uniforms and unit exponentials one at a time from numpy blocks (fast in loops)."""

    __slots__ = ("_gen", "_u", "_ui", "_e", "_ei")

    def __init__(self, gen: np.random.Generator) -> None:
        self._gen = gen
        self._u: list[float] = []
        self._ui = 0
        self._e: list[float] = []
        self._ei = 0

    @property
    def generator(self) -> np.random.Generator:
        return self._gen

    def uniform(self) -> float:
        i = self._ui
        if i >= len(self._u):
            self._u = self._gen.random(BLOCK).tolist()
            i = 0
        self._ui = i + 1
        return self._u[i]

    def exponential(self) -> float:
        i = self._ei
        if i >= len(self._e):
            self._e = self._gen.standard_exponential(BLOCK).tolist()
            i = 0
        self._ei = i + 1
        return self._e[i]
