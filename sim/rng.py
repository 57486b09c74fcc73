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

    def uniforms(self, k: int) -> np.ndarray:
        """The next `k` uniforms: the same numbers as `k` calls of `uniform`, with the
        blocks drawn from the generator at the same points."""
        return self._take("_u", "_ui", k, self._gen.random)

    def exponentials(self, k: int) -> np.ndarray:
        """The next `k` unit exponentials, as `k` calls of `exponential`."""
        return self._take("_e", "_ei", k, self._gen.standard_exponential)

    def left(self) -> tuple[int, int]:
        """Uniforms and exponentials left in the current blocks: a batch drawing both kinds
        matches one-at-a-time draws only if at most one of the two blocks runs out in it
        (otherwise the order of the two refills would depend on the interleaving)."""
        return len(self._u) - self._ui, len(self._e) - self._ei

    def _take(self, block: str, pos: str, k: int, draw) -> np.ndarray:
        parts: list[list[float]] = []
        while k > 0:
            buf, i = getattr(self, block), getattr(self, pos)
            if i >= len(buf):
                buf, i = draw(BLOCK).tolist(), 0
                setattr(self, block, buf)
            n = min(k, len(buf) - i)
            parts.append(buf[i : i + n])
            setattr(self, pos, i + n)
            k -= n
        if len(parts) == 1:
            return np.array(parts[0])
        return np.array([x for part in parts for x in part])

    def exponential(self) -> float:
        i = self._ei
        if i >= len(self._e):
            self._e = self._gen.standard_exponential(BLOCK).tolist()
            i = 0
        self._ei = i + 1
        return self._e[i]
