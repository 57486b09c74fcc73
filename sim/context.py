"""What every model component shares for one run: clock, calendar, recorder, streams, scale.

One `Context` per run; nothing here is global, so runs in one process never interfere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import simpy

from sim.calendar import SimCalendar
from sim.party import Party
from sim.recorder import Recorder
from sim.rng import BlockStream, stream


@dataclass
class Context:
    env: simpy.Environment
    cal: SimCalendar
    rec: Recorder
    seed: int
    replication: int
    scale: float
    compiled: bool = False  # use the compiled kernels (`sim.kernels`: the same numbers)
    _streams: dict[str, BlockStream] = field(default_factory=dict)

    def rng(self, name: str) -> BlockStream:
        """The block stream named `name` (created on first use; see sim.rng)."""
        s = self._streams.get(name)
        if s is None:
            s = self._streams[name] = BlockStream(stream(self.seed, name, self.replication))
        return s

    def move(self, party: Party, dst: int) -> None:
        """Move a party to another state in the ledger."""
        self.rec.move(party.state, dst, party.cell, party.size)
        party.state = dst

    def day(self) -> int:
        return int(self.env.now)
