"""The run charts' file names, and which of them a run leaves out: known without importing
matplotlib (the manifest records them; the output helpers split them)."""

from __future__ import annotations

from typing import Protocol

from sim.scenario.schema import Scenario

#: every run's charts, in the order they are drawn (the same names in every folder)
RUN_CHARTS: tuple[str, ...] = (
    "encounters_by_nationality.png",
    "custody.png",
    "transfers_vs_cap.png",
    "dispositions_by_group.png",
)


class HasScenario(Protocol):
    scenario: Scenario


def skipped_run_charts(result: HasScenario) -> dict[str, str]:
    """Charts a run does not write, with the reason (recorded in its manifest): a chart
    with nothing to show is no chart, and an empty file would only mislead."""
    s = result.scenario
    if not s.agreements:
        return {"charts/transfers_vs_cap.png": "no agreement in this scenario"}
    if not any(max(a.start, s.start) < min(a.end or s.end, s.end) for a in s.agreements):
        return {"charts/transfers_vs_cap.png": "no agreement in force in the reported period"}
    return {}
