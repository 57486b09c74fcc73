"""Levers that a reduced `scale` distorts, found before a run so it can say so.

A run at scale s simulates a share s of the parties and multiplies every count back by
1/s; caps and capacities are multiplied by s. Whole parties fill them, so a weekly cap of
25 persons at scale 0.1 (2.5 simulated persons) takes at most 2 simulated persons a week,
20 at full scale, and never a family of three: the chart shows 20 a week under a cap of 25.
Nothing is wrong with the model; the scale is too small for that cap. This module names
every such lever with its effective value, once per lever, so the run can warn.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass

from sim.scenario.schema import Scenario

#: a lever whose scaled value is rounded (or floored) by more than this share warns
ROUNDING_TOLERANCE = 0.05


@dataclass(frozen=True)
class ScaleIssue:
    """One lever the scale distorts: its path, the value given and the value in effect."""

    lever: str
    given: float
    effective: float  # at full scale, what the run can actually do
    unit: str  # e.g. "persons a week"
    scale: float
    how: str  # how the scaled value is used, e.g. "filled by whole parties: at most 2"
    note: str = ""  # e.g. that no family fits

    def message(self) -> str:
        scaled = self.given * self.scale
        note = f"; {self.note}" if self.note else ""
        return (
            f"scale {self.scale:g}: {self.lever} = {self.given:,g} {self.unit} is "
            f"{scaled:,.4g} simulated, {self.how}: in effect {self.effective:,.4g} "
            f"{self.unit} at full scale{note}; a larger scale (1 = exact) avoids this"
        )


def _per_period_cap(
    lever: str, cap: float, unit: str, scale: float, family: float, families: bool
) -> ScaleIssue | None:
    """A cap filled by whole parties each period, with nothing carried over: its scaled
    value is floored, and a value below a family's size never takes a family."""
    scaled = cap * scale
    whole = math.floor(scaled + 1e-9)
    small = families and scaled < family
    if cap <= 0 or (scaled - whole <= ROUNDING_TOLERANCE * scaled and not small):
        return None
    note = ""
    if small:
        note = f"smaller than a family ({family:g} persons on average), so few or no families fit"
    how = f"whole parties fill it, at most {whole}"
    return ScaleIssue(lever, cap, whole / scale, unit, scale, how, note)


def _rounded(lever: str, value: float, unit: str, scale: float, floor: int) -> ScaleIssue | None:
    """A whole-number lever the model rounds after scaling (lanes, a starting backlog)."""
    if value <= 0:
        return None
    whole = max(floor, round(value * scale))
    effective = whole / scale
    if abs(effective - value) <= ROUNDING_TOLERANCE * value:
        return None
    return ScaleIssue(lever, value, effective, unit, scale, f"rounded to {whole}")


def scale_issues(s: Scenario) -> list[ScaleIssue]:
    """Every lever of `s` that its scale distorts (none at scale 1), in a fixed order."""
    if s.scale >= 1:
        return []
    scale = s.scale
    family = 2.0 + s.departures.family_extra_members
    found: list[ScaleIssue | None] = []
    for a in s.agreements:
        for i, step in enumerate(a.phase_in):
            found.append(
                _per_period_cap(
                    f"agreements.{a.name}.phase_in.{i}.weekly_cap",
                    step.weekly_cap,
                    "persons a week",
                    scale,
                    family,
                    "family" in step.groups,
                )
            )
    if s.mpp.enrolment and s.mpp.daily_capacity is not None:
        found.append(
            _per_period_cap(
                "mpp.daily_capacity",
                s.mpp.daily_capacity,
                "persons a day",
                scale,
                family,
                "family" in s.mpp.groups,
            )
        )
    found.append(_rounded("border.processing_lanes", s.border.processing_lanes, "lanes", scale, 1))
    used = {a.receiving_country for a in s.agreements}
    for country, r in s.receiving.items():
        if country not in used:  # no agreement sends anyone there: nothing distorted
            continue
        found.append(
            _rounded(f"receiving.{country}.initial_backlog", r.initial_backlog, "cases", scale, 0)
        )
    return [f for f in found if f is not None]


def distinct_issues(scenarios: Iterable[Scenario]) -> list[ScaleIssue]:
    """The issues of several scenarios (a batch, a sweep): each lever once, with the first
    value found; a lever distorted at several values says how many others there are."""
    first: dict[str, ScaleIssue] = {}
    values: dict[str, set[tuple[float, float]]] = {}
    for s in scenarios:
        for issue in scale_issues(s):
            first.setdefault(issue.lever, issue)
            values.setdefault(issue.lever, set()).add((issue.given, issue.scale))
    out = []
    for lever, issue in first.items():
        others = len(values[lever]) - 1
        if others:
            extra = f"and at {others} other value{'s' * (others > 1)} in this batch"
            note = f"{issue.note}; {extra}" if issue.note else extra
            issue = dataclasses.replace(issue, note=note)
        out.append(issue)
    return out


class ScaleWarning(UserWarning):
    """A lever distorted by the run's scale (see `sim.scalecheck`)."""


def warn_scale(scenarios: Iterable[Scenario]) -> list[ScaleIssue]:
    """Python API: one `ScaleWarning` per distorted lever (a notebook shows each once)."""
    import warnings

    issues = distinct_issues(scenarios)
    for issue in issues:
        warnings.warn(issue.message(), ScaleWarning, stacklevel=3)
    return issues


def print_scale(scenarios: Iterable[Scenario]) -> list[ScaleIssue]:
    """Command line: one `migsim: warning:` line per distorted lever, on stderr."""
    import sys

    issues = distinct_issues(scenarios)
    for issue in issues:
        print(f"migsim: warning: {issue.message()}", file=sys.stderr)
    return issues
