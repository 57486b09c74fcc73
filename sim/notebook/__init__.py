"""Helpers for notebooks: the public way into what the notebooks in notebooks/ need.

The notebooks used to copy helpers (`find_repo_root` in all four) and import internal
modules, so a refactoring inside `sim` broke them and every copy drifted on its own. What
a notebook needs beyond `sim.run`, `sim.batch`, `sim.load_scenario` and the result
objects' methods lives here, with a stable name; the modules behind it may change.
"""

from __future__ import annotations

from sim.notebook.batches import batch_rows, load_sweep, sensitivity, sweep
from sim.notebook.paths import find_repo_root
from sim.notebook.timeline import mark_policies, monthly_full, policy_dates
from sim.notebook.validation import Validation, observed_series, validate
from sim.scenario.loader import with_overrides

__all__ = [
    "Validation",
    "batch_rows",
    "find_repo_root",
    "load_sweep",
    "mark_policies",
    "monthly_full",
    "observed_series",
    "policy_dates",
    "sensitivity",
    "sweep",
    "validate",
    "with_overrides",
]
