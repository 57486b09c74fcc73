"""What a batch runs: design points (a labelled, resolved scenario) x replications.

Each run is keyed by the scenario hash and the replication (`<hash>_r003`), so the key
names the content: a rerun, or another batch with the same point, finds it finished.
Replication r of every point uses the same random streams (common random numbers) as
long as the points share the seed; `design.parquet` records one row per run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.batch.tasks import RunTask
from sim.scenario.loader import ScenarioError, resolved_dict, scenario_hash
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class Point:
    """One scenario of a batch, or one point of a sweep design."""

    label: str
    scenario: Scenario
    levers: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    #: posterior draws applied to `scenario`: replication r runs draws[r % len(draws)]
    draws: tuple[Scenario, ...] = ()

    def for_replication(self, r: int) -> Scenario:
        return self.draws[r % len(self.draws)] if self.draws else self.scenario

    @property
    def hash(self) -> str:
        return scenario_hash(self.scenario)


def run_key(hash_: str, replication: int) -> str:
    return f"{hash_}_r{replication:03d}"


def check_points(points: Sequence[Point]) -> None:
    """Labels must be unique (they name rows of every table)."""
    seen: set[str] = set()
    for p in points:
        if p.label in seen:
            raise ScenarioError(
                p.source or "batch", "name", f"{p.label!r} twice in one batch; names must be unique"
            )
        seen.add(p.label)


def shared_seed(points: Sequence[Point]) -> bool:
    """Whether all points share one seed (otherwise differences are not paired)."""
    return len({p.scenario.seed for p in points}) <= 1


def plan(points: Sequence[Point], reps: int) -> tuple[list[RunTask], pd.DataFrame]:
    """Tasks (one per distinct key, in design order) and the design table."""
    tasks: dict[str, RunTask] = {}
    rows = []
    lever_names = list(dict.fromkeys(name for p in points for name in p.levers))
    for p in points:
        for r in range(reps):
            sc = p.for_replication(r)
            h = p.hash if not p.draws else scenario_hash(sc)
            data = resolved_dict(sc)
            key = run_key(h, r)
            tasks.setdefault(key, RunTask(key=key, point=p.label, replication=r, scenario=data))
            row = {
                "point": p.label,
                "scenario": p.scenario.name,
                "hash": h,
                "replication": r,
                "seed": p.scenario.seed,
                "key": key,
                "source": p.source,
            }
            row.update({name: _cell(p.levers.get(name)) for name in lever_names})
            rows.append(row)
    return list(tasks.values()), pd.DataFrame(rows)


def _cell(value: Any) -> Any:
    """Lever values as table cells: scalars as they are, lists and tables as JSON text."""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, default=str)
    return value
