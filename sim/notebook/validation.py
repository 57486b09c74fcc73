"""`migsim validate` from a notebook: replications at a chosen scale, scored in memory.

One call instead of six internal imports (observed data, replications, monthly summaries,
scores, the printed table), so the notebook keeps working when those modules move.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.observed import IN_SAMPLE_END, load_swb, load_usbp
from sim.scenario.schema import Scenario
from sim.validation import SERIES, Comparison, Series, compare, summarise
from sim.validation.compare import observed_wide
from sim.validation.report import LEGEND, format_table
from sim.validation.runner import run_replications
from sim.validation.simulated import full_months


def observed_series() -> pd.DataFrame:
    """The shipped observed counts, month x series (NaN where a series is not published)."""
    return observed_wide(load_usbp(), load_swb())


@dataclass
class Validation:
    """Replications of a scenario against the observed in-sample months."""

    scenario: Scenario
    reps: int
    observed: pd.DataFrame  # month x series, every shipped month
    simulated: pd.DataFrame  # long: series, month, sim_mean, sim_p5, sim_p95, ...
    comparison: Comparison  # in-sample scores (`.metrics`: one row per series)
    run_months: pd.PeriodIndex  # whole months of the run
    seconds: float  # simulation time, summed over replications

    series: tuple[Series, ...] = tuple(SERIES)  # which column is which count, and its chart
    in_sample_end: pd.Period = IN_SAMPLE_END  # the last month of the shipped data

    @property
    def in_sample(self) -> pd.PeriodIndex:
        return self.observed.index.intersection(self.run_months)

    def table(self) -> str:
        """The scores as `migsim validate` prints them, with the legend."""
        return f"{format_table(self.comparison.metrics)}\n\n{LEGEND}"


def validate(scenario: Scenario, reps: int = 10, jobs: int = 1) -> Validation:
    """Run replications 0..reps-1 of `scenario` and score them against the shipped data."""
    observed = observed_series()
    outputs = run_replications(scenario, reps, jobs=jobs)
    simulated = summarise([o.monthly for o in outputs])
    run_months = full_months(scenario.start, scenario.end)
    in_sample = observed.index.intersection(run_months)
    comparison = compare(simulated, observed.loc[in_sample], observed, "in_sample")
    seconds = sum(o.manifest["run_seconds"] for o in outputs)
    return Validation(scenario, reps, observed, simulated, comparison, run_months, seconds)
