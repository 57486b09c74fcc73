"""The mechanisms `migsim attribute` switches off, each by lever overrides.

A player is ON as the scenario has it and OFF as below; a coalition S runs the scenario
with the players in S on and every other player off.

| player | switched off by |
|---|---|
| `deterrence` | `deterrence.effect = 0` (the level response is exactly 1) |
| `momentum` | `deterrence.momentum_nationalities = []` (the network momentum factor is exactly 1; the rate is kept, so the run still starts at `momentum_from` and stays paired) |
| `mpp` | `mpp.enrolment = []` (no one is returned to Mexico) |
| `enforcement_surge` | `enforcement.mexico` = its first step only (the pre-surge hazard throughout, and no announcement of a surge) |
| `transit_bar` | `transit_bar.start = none` (no bar, whatever its court-dated coverage) |
| `metering` | `metering.start = none` (ports take every arrival) |
| `agreements` | `agreements = []` |
| `demand_trend` | `departures.trend = {}` (undeterred demand without its slow trend) |
| `seasonality` | `departures.seasonality = [1.0] x 12` |

A player is *inactive* in a run period when switching it off cannot change the run: it is
already off (e.g. `deterrence.effect = 0`), or everything it does starts after the run ends
(the agreements start 21 Nov 2019, after a May-September window). Inactive players are
null players, whose Shapley value is exactly 0, so they are left out of the coalitions
(halving the runs each) and reported with contribution 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.scenario.schema import Scenario

Data = dict[str, Any]


@dataclass(frozen=True)
class Player:
    name: str
    label: str
    off: Callable[[Data], None]  # switches the mechanism off in a scenario dump (by alias)
    inactive: Callable[[Scenario, dt.date], str | None]  # why it is inactive before `end`, or None


def _set(path: str, value: Any) -> Callable[[Data], None]:
    def off(data: Data) -> None:
        node = data
        *parents, last = path.split(".")
        for p in parents:
            node = node[p]
        node[last] = value() if callable(value) else value

    return off


def _first_step_only(data: Data) -> None:
    data["enforcement"]["mexico"] = data["enforcement"]["mexico"][:1]


def _deterrence(s: Scenario, end: dt.date) -> str | None:
    return "deterrence.effect is 0" if s.deterrence.effect == 0 else None


def _momentum(s: Scenario, end: dt.date) -> str | None:
    if s.deterrence.momentum_rate == 0:
        return "deterrence.momentum_rate is 0"
    if not s.deterrence.momentum_nationalities:
        return "no momentum nationalities"
    return None


def _mpp(s: Scenario, end: dt.date) -> str | None:
    if not s.mpp.enrolment or all(step.share == 0 for step in s.mpp.enrolment):
        return "no MPP enrolment"
    if s.mpp.enrolment[0].from_ >= end:
        return f"MPP starts {s.mpp.enrolment[0].from_}, after the run"
    return None


def _surge(s: Scenario, end: dt.date) -> str | None:
    steps = s.enforcement.mexico
    if len(steps) < 2:
        return "enforcement.mexico has a single step"
    if all(st.from_ >= end for st in steps[1:]):
        return f"the surge starts {steps[1].from_}, after the run"
    if (
        all(st.daily_hazard == steps[0].daily_hazard for st in steps[1:])
        and s.enforcement.announcement_risk_shift == 0
    ):
        return "the later steps change neither the hazard nor the perceived risk"
    return None


def _bar(s: Scenario, end: dt.date) -> str | None:
    bar = s.transit_bar
    if bar.start is None:
        return "no transit bar"
    if bar.start >= end:
        return f"the transit bar starts {bar.start}, after the run"
    return None


def _metering(s: Scenario, end: dt.date) -> str | None:
    if s.metering.start is None:
        return "no metering"
    return None


def _agreements(s: Scenario, end: dt.date) -> str | None:
    if not s.agreements:
        return "no agreements"
    first = min(a.start for a in s.agreements)
    if first >= end:
        return f"the first agreement starts {first}, after the run"
    return None


def _trend(s: Scenario, end: dt.date) -> str | None:
    trend = getattr(s.departures, "trend", None)
    if not trend or all(
        not knots or all(v == 0 for v in knots.values()) for knots in trend.values()
    ):
        return "no demand trend"
    return None


def _season(s: Scenario, end: dt.date) -> str | None:
    return "seasonality is flat (1.0)" if all(v == 1.0 for v in s.departures.seasonality) else None


PLAYERS: tuple[Player, ...] = (
    Player("deterrence", "Deterrence", _set("deterrence.effect", 0.0), _deterrence),
    Player(
        "momentum", "Network momentum", _set("deterrence.momentum_nationalities", list), _momentum
    ),
    Player("mpp", "Remain in Mexico", _set("mpp.enrolment", list), _mpp),
    Player("enforcement_surge", "Mexico's enforcement surge", _first_step_only, _surge),
    Player("transit_bar", "Transit bar", _set("transit_bar.start", None), _bar),
    Player("metering", "Metering", _set("metering.start", None), _metering),
    Player("agreements", "Agreements (ACAs)", _set("agreements", list), _agreements),
    Player("demand_trend", "Demand trend", _set("departures.trend", dict), _trend),
    Player(
        "seasonality", "Seasonality", _set("departures.seasonality", lambda: [1.0] * 12), _season
    ),
)
BY_NAME: dict[str, Player] = {p.name: p for p in PLAYERS}


def switch_off(scenario: Scenario, names: frozenset[str] | set[str] | tuple[str, ...]) -> Scenario:
    """`scenario` with the named players off (validated again, like `--set`)."""
    if not names:
        return scenario
    data = scenario.model_dump(mode="python", by_alias=True)
    for name in names:
        if name == "demand_trend" and "trend" not in data["departures"]:
            continue  # a schema without the trend field: nothing to switch off
        BY_NAME[name].off(data)
    return Scenario.model_validate(data)


def inactive(scenario: Scenario, end: dt.date) -> dict[str, str]:
    """Players that cannot change a run ending (exclusively) on `end`, with the reason."""
    out = {}
    for p in PLAYERS:
        why = p.inactive(scenario, end)
        if why is not None:
            out[p.name] = why
    return out
