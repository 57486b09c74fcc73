"""Border processing: parallel lanes serving a priority queue, a day's entries at a time.

A stage: `take_in` receives the day's custody entries as a batch (all known at the daily
tick: journeys are computed when parties set out, and crossings and port admissions are
decided at the tick), files them as rows of the border's party table, draws their
processing times, plays the lanes to the end of the day (`sim.lanes`) and returns the
day's processing completions, in time order, as a batch for the disposition stages.

The queue is keyed by (group rank, arrival time, party id): children, then families, then
single adults by default (`border.priority`), first come first served within a class, or
plain first come first served. A party finding a free lane starts on arrival.
"""

from __future__ import annotations

import numpy as np

from sim.context import Context
from sim.domain import GROUPS
from sim.lanes import Lanes
from sim.party import Batch, PartyTable
from sim.recorder import N_CELLS
from sim.rng import stream
from sim.scenario.schema import Border


class BorderStation:
    """An M/M/c-like station: `lanes` servers, exponential processing times by group."""

    def __init__(
        self,
        ctx: Context,
        cfg: Border,
        lanes: int,
        expected_parties: float = 0.0,
    ) -> None:
        """`expected_parties`: parties expected to set out over the run, to size the party
        table once (about 1.7 times as many rows come into custody, with re-attempts and
        returns from waiting lists; its pages are resident only once written): growing it
        by doubling cost about 20 ms of a full-scale run."""
        self.ctx = ctx
        self.mean_days = np.array([getattr(cfg.processing_hours, g) / 24.0 for g in GROUPS])
        if cfg.priority == "fifo":
            self.rank = np.zeros(3, dtype=np.int64)
        else:
            self.rank = np.array([cfg.priority.index(g) for g in GROUPS], dtype=np.int64)
        self.lanes = Lanes(lanes, compiled=ctx.compiled)  # (the same numbers either way)
        self.table = PartyTable(max(4096, int(2 * expected_parties)))
        self.g_service = stream(ctx.seed, "processing", ctx.replication)
        self._wait = ctx.rec.index("queue_wait_days")
        self.fast_admitted = 0  # parties that started on arrival (for benchmarks)

    def take_in(self, day: int, entries: Batch, service: np.ndarray | None = None) -> Batch:
        """The day's entries (sorted by time, all on `day`); returns the day's completions.

        `service` (days) overrides the drawn processing times (for tests)."""
        ids = self.table.append(entries)
        if service is None:
            service = (
                self.g_service.standard_exponential(len(entries)) * self.mean_days[entries.grp]
            )
        done, t_done, started, t_start = self.lanes.advance(
            ids, entries.t_in, service, self.rank[entries.grp], day + 1.0
        )
        self.fast_admitted += len(entries) - len(started)
        if len(started):
            t_in = self.table.column("t_in")[started]
            nat = self.table.column("nat")[started].astype(np.int64)
            grp = self.table.column("grp")[started].astype(np.int64)
            size = self.table.column("size")[started]
            waited = (t_start - t_in) * size
            self.ctx.rec.add_cells(day, self._wait, np.bincount(nat * 3 + grp, waited, N_CELLS))
        return self.table.take(done, t_done)
