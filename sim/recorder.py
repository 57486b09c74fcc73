"""Daily recording into flat arrays: no per-event pandas work.

Flows live in one flat float64 array indexed by day, metric, cell and agreement; a
stage adds a day's vector over cells with one strided numpy add, a party waiting on a
list adds its persons at a computed index. The tidy `daily.parquet` table is built
once, at the end, with numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.domain import GROUPS, NATIONALITIES, STATES
from sim.metrics import AGREEMENT_INDICATORS, CELL_INDICATORS, FLOW_INDEX, FLOWS

if TYPE_CHECKING:
    import pandas as pd

N_CELLS = len(NATIONALITIES) * len(GROUPS)
N_FLOWS = len(FLOWS)
N_STATES = len(STATES)


class Recorder:
    """Flows per day x metric x cell x agreement, and stock snapshots at the end of each day."""

    def __init__(self, days: int, agreements: list[str]) -> None:
        self.days = days
        self.agreements = ["", *agreements]
        self.n_agr = len(self.agreements)
        self._stride_day = N_FLOWS * N_CELLS * self.n_agr
        # flat: day * stride + metric offset + cell * n_agr (+ agreement)
        self.flows = np.zeros(days * self._stride_day)
        # persons in each state x cell (whole numbers: batches move by whole-array adds)
        self.ledger = np.zeros(N_STATES * N_CELLS, dtype=np.int64)
        self.state_snap = np.zeros((days, N_STATES, N_CELLS))
        self.extra_names = [
            "custody_over_72h",
            "awaiting_transfer",
            "asylum_backlog",
            "asylum_backlog_cases",
            "asylum_backlog_over_180d",
            "asylum_backlog_over_365d",
        ]
        self.extra_snap = np.zeros((days, len(self.extra_names), N_CELLS, self.n_agr))
        self.indicators = np.full((days, len(CELL_INDICATORS), N_CELLS), np.nan)
        # per agreement, already in full-scale units: [day, indicator, agreement]
        self.agreement_indicators = np.full((days, len(AGREEMENT_INDICATORS), self.n_agr), np.nan)

    # -- hot path -----------------------------------------------------------------------
    def index(self, metric: str) -> int:
        """Offset of a metric inside one day's block (cache it in the caller)."""
        return FLOW_INDEX[metric] * N_CELLS * self.n_agr

    def add(self, day: int, offset: int, cell: int, value: float, agr: int = 0) -> None:
        self.flows[day * self._stride_day + offset + cell * self.n_agr + agr] += value

    def move(self, src: int, dst: int, cell: int, size: int) -> None:
        """Move `size` persons of `cell` from state `src` to state `dst` (state indices)."""
        led = self.ledger
        led[src * N_CELLS + cell] -= size
        led[dst * N_CELLS + cell] += size

    def enter(self, dst: int, cell: int, size: int) -> None:
        self.ledger[dst * N_CELLS + cell] += size

    def stock(self, state: int, cell: int) -> int:
        return int(self.ledger[state * N_CELLS + cell])

    # -- whole batches (numpy), used by the daily tick ---------------------------------
    def add_cells(self, day: int, offset: int, values: np.ndarray, agr: int = 0) -> None:
        """Add a vector over cells (length N_CELLS, persons) to one metric of one day: one
        strided add (the same sums, cell by cell, as adding them one at a time)."""
        base = day * self._stride_day + offset + agr
        self.flows[base : base + N_CELLS * self.n_agr : self.n_agr] += values

    def cells(self, day: int, offset: int, agr: int = 0) -> np.ndarray:
        """One metric of one day as a vector over cells."""
        base = day * self._stride_day + offset + agr
        return self.flows[base : base + N_CELLS * self.n_agr : self.n_agr].copy()

    def enter_cells(self, dst: int, values: np.ndarray) -> None:
        """New persons (a vector over cells) enter state `dst`."""
        base = dst * N_CELLS
        self.ledger[base : base + len(values)] += values.astype(np.int64)  # whole persons

    def move_cells(self, src: int | np.ndarray, dst: int | np.ndarray, cells, sizes) -> None:
        """Move persons of a batch of parties between states (scalar or per-party states)."""
        if not isinstance(src, np.ndarray) and not isinstance(dst, np.ndarray):
            self._move_cells_between(int(src), int(dst), cells, sizes)
            return
        n = N_STATES * N_CELLS
        out = np.bincount(np.asarray(src) * N_CELLS + cells, weights=sizes, minlength=n)
        into = np.bincount(np.asarray(dst) * N_CELLS + cells, weights=sizes, minlength=n)
        self.ledger += (into - out).astype(np.int64)  # whole persons

    def leave_state(self, src: int, persons: np.ndarray) -> None:
        """`move_cells` from `src` for persons already counted by state after x cell (flat,
        as `np.bincount(dst * N_CELLS + cells, sizes)`): the same whole numbers."""
        into = persons.astype(np.int64)
        self.ledger += into
        out = src * N_CELLS
        self.ledger[out : out + N_CELLS] -= into.reshape(N_STATES, N_CELLS).sum(axis=0)

    def _move_cells_between(self, src: int, dst: int, cells, sizes) -> None:
        """`move_cells` from one state to one other: a count per cell, taken from `src`'s
        row of the ledger and added to `dst`'s (the same whole numbers as the general case)."""
        if src == dst or not len(cells):
            return
        self.move_persons(src, dst, np.bincount(cells, weights=sizes, minlength=N_CELLS))

    def move_persons(self, src: int, dst: int, persons: np.ndarray) -> None:
        """Move persons counted per cell (whole numbers) from state `src` to state `dst`."""
        if src == dst:
            return
        persons = persons.astype(np.int64)
        led, out, into = self.ledger, src * N_CELLS, dst * N_CELLS
        led[out : out + N_CELLS] -= persons
        led[into : into + N_CELLS] += persons

    # -- end of day -----------------------------------------------------------------------
    def end_of_day(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Snapshot the state ledger for `day`; return the day's other end-of-day records, for
        the model to fill in place: extra stocks [name, cell, agreement] (zeros until
        filled), cell indicators [indicator, cell] and agreement indicators [indicator,
        agreement] (NaN: undefined until filled). None outside the recorded days."""
        if not 0 <= day < self.days:
            return None
        self.state_snap[day] = self.ledger.reshape(N_STATES, N_CELLS)
        return self.extra_snap[day], self.indicators[day], self.agreement_indicators[day]

    # -- results --------------------------------------------------------------------------
    def flow_array(self) -> np.ndarray:
        """Flows as [day, metric, nationality, group, agreement]."""
        return self.flows.reshape(self.days, N_FLOWS, len(NATIONALITIES), len(GROUPS), self.n_agr)

    def to_frame(
        self,
        dates: pd.DatetimeIndex,
        first_day: int,
        scale: float,
        flows: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """The tidy table: date, metric, nationality, group, agreement, value.

        `flows`: `flow_array()` if the caller has already made it (it is not made again).
        """
        sl = slice(first_day, self.days)
        d = dates[sl]
        flows = self.flow_array() if flows is None else flows
        parts = [
            _tidy(d, flows[sl] / scale, list(FLOWS), agreements=self.agreements),
            _tidy(
                d,
                self.state_snap[sl].reshape(-1, N_STATES, len(NATIONALITIES), len(GROUPS), 1)
                / scale,
                list(STATES),
                agreements=[""],
            ),
            _tidy(
                d,
                self.extra_snap[sl].reshape(
                    -1, len(self.extra_names), len(NATIONALITIES), len(GROUPS), self.n_agr
                )
                / scale,
                self.extra_names,
                agreements=self.agreements,
            ),
            _tidy(
                d,
                self.indicators[sl].reshape(
                    -1, len(CELL_INDICATORS), len(NATIONALITIES), len(GROUPS), 1
                ),
                list(CELL_INDICATORS),
                agreements=[""],
                keep_nan_free_only=True,
            ),
        ]
        if self.n_agr > 1:
            arr = self.agreement_indicators[sl, :, 1:].reshape(
                -1, len(AGREEMENT_INDICATORS), 1, 1, self.n_agr - 1
            )
            parts.append(
                _tidy(
                    d,
                    arr,
                    list(AGREEMENT_INDICATORS),
                    agreements=self.agreements[1:],
                    keep_defined=True,  # NaN where undefined (before the start, no applicant)
                    cells=False,
                )
            )
        return _frame(parts)


#: the string columns, kept as categoricals
LABELS = ("metric", "nationality", "group", "agreement")


@dataclass
class _Rows:
    """Long rows of one kind of series: each string column as codes into its own names."""

    date: np.ndarray
    labels: dict[str, tuple[Sequence[str], np.ndarray]]
    value: np.ndarray


def _tidy(
    dates: pd.DatetimeIndex,
    arr: np.ndarray,
    metrics: list[str],
    agreements: list[str] | None = None,
    keep_nan_free_only: bool = False,
    cells: bool = True,
    keep_defined: bool = False,
) -> _Rows:
    """[day, metric, nat, group, agr] -> long rows, dropping series that are zero throughout.

    The per-agreement "" column is dropped for per-agreement stocks when all zero, like any
    other series. `cells=False`: a series per agreement only (nationality and group "");
    `keep_defined`: keep a series with any value (its undefined days stay NaN).
    """
    days = arr.shape[0]
    agreements = agreements if agreements is not None else [""]
    flat = arr.reshape(days, -1)
    if keep_defined:  # series with any value, NaN on the days it is undefined
        keep = ~np.isnan(flat).all(axis=0)
    elif keep_nan_free_only:
        keep = ~np.isnan(flat).any(axis=0)
    else:
        keep = (flat != 0).any(axis=0)
    cols = np.flatnonzero(keep)
    m_i, n_i, g_i, a_i = np.unravel_index(cols, arr.shape[1:])
    names = (metrics, NATIONALITIES if cells else [""], GROUPS if cells else [""], agreements)
    return _Rows(
        date=np.repeat(dates.values, len(cols)),
        labels={
            col: (n, np.tile(i, days))
            for col, n, i in zip(LABELS, names, (m_i, n_i, g_i, a_i), strict=True)
        },
        value=flat[:, cols].reshape(-1),
    )


def _frame(parts: list[_Rows]) -> pd.DataFrame:
    """The parts' rows one after the other, as one frame."""
    import pandas as pd  # (not at import: a run needs no pandas until its tables)

    columns: dict[str, object] = {"date": np.concatenate([p.date for p in parts])}
    for col in LABELS:
        columns[col] = _categorical([p.labels[col] for p in parts])
    columns["value"] = np.concatenate([p.value for p in parts])
    return pd.DataFrame(columns)


def _categorical(pieces: list[tuple[Sequence[str], np.ndarray]]) -> pd.Categorical:
    """One string column, made from codes, as `astype("category")` makes it from strings:
    the categories are the values present, sorted (building the strings first and
    converting them cost a fifth of a second at scale 0.1)."""
    import pandas as pd

    vocab: dict[str, int] = {}
    codes = np.concatenate(
        [
            np.array([vocab.setdefault(n, len(vocab)) for n in names], dtype=np.intp)[idx]
            for names, idx in pieces
        ]
    )
    words = np.array(list(vocab), dtype=object)
    present = np.flatnonzero(np.bincount(codes, minlength=len(vocab)))
    order = present[np.argsort(words[present])]
    recode = np.full(len(vocab), -1, dtype=np.intp)
    recode[order] = np.arange(len(order))
    # an Index of the sorted strings infers the same dtype as the strings' column did
    return pd.Categorical.from_codes(recode[codes], categories=pd.Index(words[order]))
