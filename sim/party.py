"""A travelling party: one single adult, one family (2+ persons) or one unaccompanied child.

Parties, not persons, are the model's entities; every count in the outputs is in persons
(`size`). Objects exist only while a party is at the border or abroad: the journey is
computed with numpy and no object outlives its use.
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
        "waiting",
    )

    def __init__(
        self,
        nat: int,
        group: int,
        size: int,
        transited: int,
        sought: int,
        at_port: bool,
        state: int,
    ) -> None:
        self.nat = nat
        self.group = group
        self.cell = nat * 3 + group
        self.size = size
        self.transited = transited  # bitmask of transit countries (sim.domain.COUNTRY_BIT)
        self.sought = sought  # bitmask of countries where protection was sought
        self.at_port = at_port  # presents at a port of entry (else crosses between ports)
        self.state = state  # index into sim.domain.STATES
        self.t_arrival = 0.0  # time taken into custody
        self.arrival_day = 0
        # ticket of the waiting list the party is on (None = on none); list entries carry the
        # ticket, so a stale entry from an earlier wait is recognised and skipped
        self.waiting: object | None = None
