"""The mechanism strengths the calibration estimates, with their documented prior ranges.

Each parameter is a lever path (the same as `--set`) and a uniform prior on [low, high]
(on the log scale where `log`). The ranges come from `../shared/context` (deterrence
evidence: departure responses from about zero to -30..-50% for barriers elsewhere; Mexican
apprehensions 547/day before and 1,030/day after 7 June 2019) or, where nothing is
published, are wide and say so. The demand parameters are not here: they are fitted given
these (`sim.fitting.demand`), so they are profiled out of the posterior.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sim.scenario.loader import with_overrides
from sim.scenario.schema import Departures, Scenario


@dataclass(frozen=True)
class Parameter:
    name: str
    low: float
    high: float
    doc: str
    log: bool = False
    integer: bool = False

    def to_unit(self, x: float | np.ndarray) -> np.ndarray:
        """Position within the prior: 0 at its low end, 1 at its high end (log where the
        prior is log-uniform)."""
        x = np.asarray(x, dtype=float)
        if self.log:
            return (np.log(x) - np.log(self.low)) / (np.log(self.high) - np.log(self.low))
        return (x - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        """The value at position `u` within the prior (the inverse of `to_unit`)."""
        if self.log:
            return float(np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low))))
        return float(self.low + u * (self.high - self.low))


PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "deterrence.effect",
        0.0,
        4.0,
        "departure response to perceived consequence risk (m = 1 - effect x (risk - ref) / "
        "(1 - ref)); 0 = none; 4 lets a 0.1 rise in risk from 0.2 cut departures by half",
    ),
    Parameter(
        "deterrence.delay_days", 7, 45, "news lag from the border to origin, days", integer=True
    ),
    Parameter("deterrence.memory_days", 20, 150, "smoothing of perceived risk, days", log=True),
    Parameter(
        "deterrence.momentum_rate",
        0.0,
        2.0,
        "network momentum: log change of departures a month per unit of perceived risk "
        "below the group's threshold; 2 with a gap of 0.1 is +22% a month (the 2018-19 family "
        "surge grew about 23% a month), 0 = none",
    ),
    Parameter(
        "deterrence.momentum_threshold.single_adult",
        0.0,
        1.0,
        "perceived risk at which non-Mexican single adults' momentum is stationary",
    ),
    Parameter(
        "deterrence.momentum_threshold.family",
        0.0,
        1.0,
        "perceived risk at which non-Mexican families' momentum is stationary",
    ),
    Parameter(
        "deterrence.momentum_threshold.unaccompanied_child",
        0.0,
        1.0,
        "perceived risk at which non-Mexican children's momentum is stationary",
    ),
    Parameter(
        "enforcement.mexico.0.daily_hazard",
        0.002,
        0.02,
        "Mexican stop hazard before the 2019 surge, 1/day in Mexico (target: 547/day)",
        log=True,
    ),
    Parameter(
        "enforcement.surge_ratio",
        1.0,
        3.5,
        "stop hazard after 7 Jun 2019 relative to before (target: 1,030/day; 81,000 Jun-Sep)",
    ),
    Parameter(
        "enforcement.announcement_risk_shift",
        0.0,
        0.5,
        "perceived risk added on the surge's date (7 Jun 2019, announced and front-page "
        "news), decaying; 0.5 would double a risk of 0.5; 0 = word travels only as outcomes",
    ),
    Parameter(
        "enforcement.announcement_decay_days",
        20,
        365,
        "e-folding time of the announcement's shift, days",
        log=True,
    ),
    Parameter("mpp.enrolment.0.share", 0.0, 0.05, "MPP share from 29 Jan 2019 (Tijuana only)"),
    Parameter(
        "mpp.increase.1",
        0.0,
        0.3,
        "MPP share added from 1 Apr 2019 (Mexicali, El Paso); the expansion only added sites, "
        "so each step's share is the previous one plus a non-negative increase",
    ),
    Parameter(
        "mpp.increase.2",
        0.0,
        0.3,
        "MPP share added from 1 May 2019 (TRAC's court cases doubled from April to May: one "
        "step from April to June cannot give both months)",
    ),
    Parameter("mpp.increase.3", 0.0, 0.3, "MPP share added from 1 Jun 2019"),
    Parameter("mpp.increase.4", 0.0, 0.4, "MPP share added from 1 Jul 2019 (Laredo, Brownsville)"),
    Parameter(
        "mpp.give_up_days", 30, 365, "MPP enrollees' mean time to give up and go home", log=True
    ),
    Parameter(
        "mpp.cross_days", 60, 1000, "MPP enrollees' mean time to cross between ports", log=True
    ),
    Parameter(
        "metering.give_up_days", 20, 365, "mean time on a waiting list before leaving", log=True
    ),
    Parameter(
        "metering.cross_share", 0.0, 1.0, "share of those leaving a list who cross between ports"
    ),
    Parameter(
        "transit_bar.release_multiplier",
        0.0,
        1.0,
        "release share of the barred is multiplied by this",
    ),
    Parameter("reattempts.removed.probability", 0.0, 0.8, "removed persons who set out again"),
    Parameter(
        "reattempts.stopped_in_mexico.probability",
        0.0,
        0.9,
        "persons stopped in Mexico who set out again",
    ),
    Parameter(
        "border.processing_lanes",
        1500,
        5000,
        "parallel processing lanes (target: the custody peak of about 20,000)",
        integer=True,
    ),
)
BY_NAME = {p.name: p for p in PARAMETERS}


MPP_INCREASES = ("mpp.increase.1", "mpp.increase.2", "mpp.increase.3", "mpp.increase.4")
DERIVED = ("enforcement.surge_ratio", *MPP_INCREASES)


def overrides(base: Scenario, values: Mapping[str, float]) -> dict[str, object]:
    """Lever overrides for parameter values (derived levers resolved against `base`)."""
    out: dict[str, object] = {}
    for name, v in values.items():
        p = BY_NAME.get(name)
        if p is not None and p.integer:
            v = int(round(v))
        if name in DERIVED:
            continue
        out[name] = float(v) if not isinstance(v, int) else v
    if any(k in values for k in MPP_INCREASES):
        share = float(values.get("mpp.enrolment.0.share", base.mpp.enrolment[0].share))
        for k, name in enumerate(MPP_INCREASES, start=1):
            previous = base.mpp.enrolment[k].share - base.mpp.enrolment[k - 1].share
            share = min(1.0, share + float(values.get(name, previous)))
            out[f"mpp.enrolment.{k}.share"] = share
    if "enforcement.surge_ratio" in values:
        pre = float(
            values.get("enforcement.mexico.0.daily_hazard", base.enforcement.mexico[0].daily_hazard)
        )
        out["enforcement.mexico.1.daily_hazard"] = min(
            1.0, pre * float(values["enforcement.surge_ratio"])
        )
    return out


def apply(base: Scenario, values: Mapping[str, float]) -> Scenario:
    """`base` with these parameter values."""
    return with_overrides(base, overrides(base, values))


def current(base: Scenario) -> dict[str, float]:
    """The values `base` holds now (the starting point of a calibration)."""
    data = base.model_dump(by_alias=True)
    out = {}
    for p in PARAMETERS:
        if p.name == "enforcement.surge_ratio":
            steps = base.enforcement.mexico
            out[p.name] = steps[1].daily_hazard / steps[0].daily_hazard if len(steps) > 1 else 1.0
            continue
        if p.name in MPP_INCREASES:
            k = MPP_INCREASES.index(p.name) + 1
            steps = base.mpp.enrolment
            out[p.name] = steps[k].share - steps[k - 1].share if len(steps) > k else 0.0
            continue
        node = data
        for part in p.name.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        out[p.name] = float(node)
    return out


def prior_centre(p: Parameter) -> float:
    """The middle of a prior (geometric where the prior is log-uniform)."""
    mid = math.sqrt(p.low * p.high) if p.log else (p.low + p.high) / 2
    return float(round(mid)) if p.integer else mid


FITTED_DEMAND = ("rates", "seasonality", "trend", "level", "level_after_fit")


def neutral(base: Scenario, caravan: str = "caravans") -> Scenario:
    """`base` with nothing a calibration fitted: every mechanism strength at its prior's
    centre and undeterred demand at the schema's defaults (no trend, levels or caravan
    shock). A backtest calibrates from here, so no fit that saw months after its origin
    informs its start."""
    default = Departures()
    dep = base.departures.model_copy(
        update={
            **{k: getattr(default, k) for k in FITTED_DEMAND},
            "shocks": [s for s in base.departures.shocks if s.name != caravan],
        }
    )
    out = base.model_copy(update={"departures": dep, "calibration": None})
    return apply(out, {p.name: prior_centre(p) for p in PARAMETERS})
