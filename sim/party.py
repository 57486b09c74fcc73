"""A travelling party: one single adult, one family (2+ persons) or one unaccompanied child.

Parties, not persons, are the model's entities; every count in the outputs is in persons
(`size`). Objects exist only while a party is at the border or abroad: the journey is
computed with numpy and no object outlives its use.

While it is being processed at the border, a party is itself the SimPy event of the end of
its processing (SimPy's `env.step` needs only `callbacks` and `_ok` of an event): that
spares creating an event object for each of a million processing completions.
"""

from __future__ import annotations


class Party:
    __slots__ = (
        "nat",
        "group",
        "cell",
        "size",
        "transited",
        "sought",
        "at_port",
        "state",
        "t_arrival",
        "arrival_day",
        "service",
        "waiting",
        "callbacks",  # while processed: see the module docstring
    )
    _ok = True  # as a SimPy event (see the module docstring), it always succeeds

    def __init__(
        self,
        nat: int,
        group: int,
        size: int,
        transited: int,
        sought: int,
        at_port: bool,
        state: int,
        t_arrival: float = 0.0,
        service: float = 0.0,
    ) -> None:
        self.nat = nat
        self.group = group
        self.cell = nat * 3 + group
        self.size = size
        self.transited = transited  # bitmask of transit countries (sim.domain.COUNTRY_BIT)
        self.sought = sought  # bitmask of countries where protection was sought
        self.at_port = at_port  # presents at a port of entry (else crosses between ports)
        self.state = state  # index into sim.domain.STATES
        self.t_arrival = t_arrival  # time taken into custody
        self.arrival_day = int(t_arrival)
        self.service = service  # processing time at the border (days), drawn on arrival
        # ticket of the waiting list the party is on (None = on none); list entries carry the
        # ticket, so a stale entry from an earlier wait is recognised and skipped
        self.waiting: object | None = None
