"""A travelling party: one single adult, one family (2+ persons) or one unaccompanied child.

Parties, not persons, are the model's entities; every count in the outputs is in persons
(`size`). Most parties never become objects: the journey is computed with numpy, and at
the border they are rows of a struct of arrays (`PartyTable`) handed from stage to stage
as column batches (`Batch`). A `Party` object exists only while a party waits somewhere
with a ticket: on a port's metering list, for a transfer slot, or in the receiving country.
"""

from __future__ import annotations

import numpy as np


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
        t_arrival: float = 0.0,
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
        # ticket of the waiting list the party is on (None = on none); list entries carry the
        # ticket, so a stale entry from an earlier wait is recognised and skipped
        self.waiting: object | None = None


class Batch:
    """Parties as columns (one numpy array per attribute, one row per party), in the order
    something happens to them: what a stage takes in and hands on. `t` is the time of that
    happening (a processing completion, a deadline), `t_in` the time taken into custody."""

    COLUMNS = ("nat", "grp", "size", "transited", "sought", "port", "t_in", "t")
    __slots__ = COLUMNS

    def __init__(self, nat, grp, size, transited, sought, port, t_in, t) -> None:
        self.nat = np.asarray(nat, dtype=np.int64)
        self.grp = np.asarray(grp, dtype=np.int64)
        self.size = np.asarray(size, dtype=np.int64)
        self.transited = np.asarray(transited, dtype=np.int64)
        self.sought = np.asarray(sought, dtype=np.int64)
        self.port = np.asarray(port, dtype=bool)
        self.t_in = np.asarray(t_in, dtype=np.float64)
        self.t = np.asarray(t, dtype=np.float64)

    @classmethod
    def _of(cls, nat, grp, size, transited, sought, port, t_in, t) -> Batch:
        """From columns already of the right types (no conversion: the hot path)."""
        out = cls.__new__(cls)
        out.nat, out.grp, out.size, out.transited, out.sought = nat, grp, size, transited, sought
        out.port, out.t_in, out.t = port, t_in, t
        return out

    def __len__(self) -> int:
        return len(self.nat)

    @property
    def cell(self) -> np.ndarray:
        return self.nat * 3 + self.grp

    @classmethod
    def empty(cls) -> Batch:
        """No rows (its empty columns are shared: nothing can be written into them)."""
        return cls._of(*_EMPTY)

    @classmethod
    def of_parties(cls, items: list[tuple[float, Party]]) -> Batch:
        """Party objects, each with the time `t` of what happens to it now."""
        ps = [p for _, p in items]
        return cls(
            [p.nat for p in ps],
            [p.group for p in ps],
            [p.size for p in ps],
            [p.transited for p in ps],
            [p.sought for p in ps],
            [p.at_port for p in ps],
            [p.t_arrival for p in ps],
            [t for t, _ in items],
        )

    def take(self, index: np.ndarray) -> Batch:
        """Rows selected by a boolean mask or an index array, in that order."""
        if isinstance(index, np.ndarray) and index.dtype == np.bool_:
            index = index.nonzero()[0]  # once, not once per column
        return Batch._of(
            self.nat[index],
            self.grp[index],
            self.size[index],
            self.transited[index],
            self.sought[index],
            self.port[index],
            self.t_in[index],
            self.t[index],
        )

    @staticmethod
    def concat(batches: list[Batch]) -> Batch:
        batches = [b for b in batches if len(b)]
        if not batches:
            return Batch.empty()
        if len(batches) == 1:
            return batches[0]
        return Batch._of(*(np.concatenate([getattr(b, c) for b in batches]) for c in Batch.COLUMNS))

    def in_time_order(self) -> Batch:
        """The rows sorted by `t` (stable); the batch itself when they already are (as the
        border's completions usually are): the stable sort would keep every row in place."""
        t = self.t
        if len(t) < 2 or (t[1:] >= t[:-1]).all():
            return self
        return self.take(t.argsort(kind="stable"))

    def parties(self, state: int) -> list[Party]:
        """A Party object for each row, in `state`: for the few that wait somewhere."""
        cols = (self.nat, self.grp, self.size, self.transited, self.sought, self.port, self.t_in)
        return [
            Party(n, g, s, tr, so, pt, state, t)
            for n, g, s, tr, so, pt, t in zip(*(c.tolist() for c in cols), strict=True)
        ]


_EMPTY = tuple(np.empty(0, dtype=d) for d in (np.int64,) * 5 + (np.bool_, np.float64, np.float64))


class PartyTable:
    """Everyone taken into custody, one row per party (struct of arrays, grown by doubling):
    the border's queue and the disposition stages read rows by id instead of holding a
    Python object per party."""

    _DTYPES = {
        "nat": np.int8,
        "grp": np.int8,
        "size": np.int32,
        "transited": np.int16,
        "sought": np.int16,
        "port": np.bool_,
        "t_in": np.float64,
    }

    def __init__(self, capacity: int = 4096) -> None:
        self.n = 0
        self._cols = {k: np.empty(capacity, dtype=d) for k, d in self._DTYPES.items()}

    def append(self, batch: Batch) -> np.ndarray:
        """Add the batch's rows; returns their ids."""
        k = len(batch)
        if self.n + k > len(self._cols["nat"]):
            cap = max(self.n + k, 2 * len(self._cols["nat"]))
            for name, old in self._cols.items():
                new = np.empty(cap, dtype=old.dtype)
                new[: self.n] = old[: self.n]
                self._cols[name] = new
        sl = slice(self.n, self.n + k)
        c = self._cols
        for name in ("nat", "grp", "size", "transited", "sought", "port", "t_in"):
            c[name][sl] = getattr(batch, name)
        self.n += k
        return np.arange(sl.start, sl.stop)

    def take(self, ids: np.ndarray, t: np.ndarray) -> Batch:
        """The rows `ids` as a batch, with the time `t` of what happens to them now."""
        c = self._cols
        return Batch(
            c["nat"][ids],
            c["grp"][ids],
            c["size"][ids],
            c["transited"][ids],
            c["sought"][ids],
            c["port"][ids],
            c["t_in"][ids],
            t,
        )

    def column(self, name: str) -> np.ndarray:
        return self._cols[name][: self.n]
