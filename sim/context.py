"""What every model component shares for one run: clock, calendar, recorder, streams, scale.

One `Context` per run; nothing here is global, so runs in one process never interfere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from heapq import heappush

import simpy
from simpy.events import NORMAL, Event

from sim.calendar import SimCalendar
from sim.party import Party
from sim.recorder import Recorder
from sim.rng import BlockStream, stream


class At(Event):
    """An event already triggered, with one callback, due at an absolute time.

    What `Timeout(env, t - env.now, value)` plus `callbacks.append(cb)` does, for about 10%
    less per event (no delay check, one call instead of three) and with the exact time `t`
    rather than `now + (t - now)`. Border arrivals that may have to queue are of this kind
    (processing completions are cheaper still: the party is its own event, see sim.party).
    """

    _ok = True

    def __init__(self, callback: Callable[[Event], None], value: object) -> None:
        self.callbacks = [callback]
        self._value = value


def schedule_at(env: simpy.Environment, t: float, callback, value) -> None:
    """Schedule `callback(event)` at time `t` (>= now) with `event.value == value`.

    Uses SimPy's own queue (`env._queue`, `env._eid`): the event is processed by `env.step`
    exactly as a Timeout with the same time would be, in the same order.
    """
    heappush(env._queue, (t, NORMAL, next(env._eid), At(callback, value)))


@dataclass
class Context:
    env: simpy.Environment
    cal: SimCalendar
    rec: Recorder
    seed: int
    replication: int
    scale: float
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
