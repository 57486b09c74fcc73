"""Validation against observed border statistics: does the model reproduce what happened?

One concept per module: `series` (which simulated count matches which published column),
`simulated` (monthly mean and 5-95% band across replications), `metrics` (MAPE, total
error, correlation, ARD), `naive` (the forecasts the model has to beat), `compare` (the
tables), `charts`, `runner` (replications, optionally in parallel), `report` (the printed
table) and `output` (the atomically written `validation/` folder).
"""

from __future__ import annotations

from sim.validation.compare import Comparison, compare
from sim.validation.series import SERIES, Series
from sim.validation.simulated import replication_monthly, simulated_monthly, summarise

__all__ = [
    "SERIES",
    "Comparison",
    "Series",
    "compare",
    "replication_monthly",
    "simulated_monthly",
    "summarise",
]
