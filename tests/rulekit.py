"""Small deterministic cases for the rule tests (tests/test_rules_*.py).

Two kinds of fixture:

- a bare `Context` (clock, calendar, recorder, named streams) for testing one component
  alone (`BorderStation`, `Lanes`, `Custody`, `AgreementDesk`, `PortMetering`, `RemainInMexico`,
  `PerceivedRisk`, ...) with a handful of parties at fixed times;
- a `quiet` scenario: no departures at all, no MPP, no metering, no transit bar, no
  deterrence, no re-attempts, so the only parties in a run are the ones a test puts into
  custody itself (`inject`) at fixed times. Every lever a rule depends on is set here or in
  the test, never left to a schema default (defaults change with calibration work).

Every use of the model's internals goes through this module, so a refactor of
`sim.model` has one place to follow.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable

import numpy as np
import simpy

from sim.calendar import SimCalendar
from sim.context import Context
from sim.domain import GROUP_INDEX, NAT_INDEX, NATIONALITIES, STATE_INDEX
from sim.metrics import FLOW_INDEX
from sim.model import Model
from sim.party import Batch, Party
from sim.recorder import Recorder
from sim.scenario.schema import Scenario

ORIGIN = dt.date(2019, 1, 1)  # day 0 of every bare context and quiet scenario (no warm-up)
IN_TRANSIT = STATE_INDEX["in_transit"]
IN_CUSTODY = STATE_INDEX["in_custody"]


def day_of(date: dt.date) -> int:
    return (date - ORIGIN).days


def date_of(day: int) -> dt.date:
    return ORIGIN + dt.timedelta(days=day)


def context(days: int = 60, agreements: Iterable[str] = (), seed: int = 1) -> Context:
    """A fresh run context of `days` days from ORIGIN, scale 1."""
    cal = SimCalendar(ORIGIN, ORIGIN, ORIGIN + dt.timedelta(days=days))
    env = simpy.Environment()
    return Context(env, cal, Recorder(cal.days, list(agreements)), seed, 0, 1.0)


def party(
    nat: str = "honduras",
    group: str = "single_adult",
    size: int | None = None,
    transited: Iterable[str] = ("guatemala", "mexico"),
    sought: Iterable[str] = (),
    t: float = 0.0,
    state: int = IN_CUSTODY,
) -> Party:
    from sim.domain import COUNTRY_BIT

    if size is None:
        size = 3 if group == "family" else 1
    tr = sum(COUNTRY_BIT[c] for c in set(transited))
    so = sum(COUNTRY_BIT[c] for c in set(sought))
    return Party(NAT_INDEX[nat], GROUP_INDEX[group], size, tr, so, False, state, t)


def flow(ctx_or_rec, metric: str, day: int | None = None, agr: int | None = None) -> float:
    """Total persons of a flow (all cells), on one day or over the run, one agreement or all."""
    rec = getattr(ctx_or_rec, "rec", ctx_or_rec)
    arr = rec.flow_array()[:, FLOW_INDEX[metric]]  # [day, nat, group, agr]
    if day is not None:
        arr = arr[day]
    if agr is not None:
        arr = arr[..., agr]
    return float(arr.sum())


# ----------------------------------------------------------------------------- quiet runs
NO_RETRY = {"probability": 0.0, "mean_delay_days": 1.0}
ZERO_RATES = {
    n: {"single_adult": 0.0, "family": 0.0, "unaccompanied_child": 0.0} for n in NATIONALITIES
}
CENTRAL = {"removal": 0.35, "release": 0.15, "detention": 0.50}
FAMILY = {"removal": 0.05, "release": 0.80, "detention": 0.15}

QUIET = {
    "name": "quiet",
    "start": ORIGIN.isoformat(),
    "end": (ORIGIN + dt.timedelta(days=120)).isoformat(),
    "seed": 11,
    "warmup_days": 0,
    "scale": 1.0,
    "departures": {"rates": ZERO_RATES, "seasonality": [1.0] * 12},
    "border": {
        "processing_lanes": 1000,
        "processing_hours": {"single_adult": 1.0, "family": 1.0, "unaccompanied_child": 1.0},
        "holding_capacity": 100000,
        "priority": ["unaccompanied_child", "family", "single_adult"],
        "port_of_entry_share": {n: 0.0 for n in NATIONALITIES},
        "hhs_hours": 48.0,
    },
    "dispositions": {
        "shares": {n: {"single_adult": CENTRAL, "family": FAMILY} for n in NATIONALITIES},
        "overcrowding_release_share": 0.5,
    },
    "agreements": [],
    # transferees neither retry from abroad nor go home to set out again (see `reattempts`)
    "receiving": {
        c: {
            "apply_share": 0.0,
            "retry_share": 0.0,
            "decision_hours": 72.0,
            "retry_delay_days": 30.0,
            "asylum_cases_per_year": 150.0,
            "initial_backlog": 0,
            "backlog_date": ORIGIN.isoformat(),
        }
        for c in ("guatemala", "honduras", "el_salvador")
    },
    "reattempts": {
        k: NO_RETRY for k in ("removed", "stopped_in_mexico", "home_from_abroad", "gave_up")
    },
    "deterrence": {
        "effect": 0.0,
        "memory_days": 60.0,
        "delay_days": 14,
        "reference_date": "2019-01-28",
        "consequences": ["removed", "mpp", "transferred"],
        "announcements": [],
    },
    "mpp": {"enrolment": [], "daily_capacity": None, "hearings_per_day": 250.0},
    "metering": {"start": None, "daily_intake": 100.0, "exempt": [], "cross_share": 0.5},
    "transit_bar": {"start": None, "coverage": [], "release_multiplier": 0.5},
}


def merge(base: dict, extra: dict) -> dict:
    """Deep merge (tables merge, other values replace), like `extends`."""
    out = copy.deepcopy(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def quiet(*fragments: dict, **sections) -> Scenario:
    """The quiet scenario with some sections changed (fragments, then keywords, deep-merged)."""
    out = QUIET
    for f in (*fragments, sections):
        out = merge(out, f)
    return Scenario.model_validate(out)


def shares(removal: float, release: float, detention: float) -> dict:
    """The same disposition shares for every nationality and adult group."""
    s = {"removal": removal, "release": release, "detention": detention}
    return {
        "dispositions": {"shares": {n: {"single_adult": s, "family": s} for n in NATIONALITIES}}
    }


def inject(model: Model, parties: Iterable[tuple[float, Party]]) -> None:
    """Parties taken into custody from outside (a walk-in from a waiting list) at fixed
    times, before `model.run()`: they are counted as encounters and processed like any."""
    for t, p in parties:
        p.state = IN_TRANSIT
        model.rec.enter(IN_TRANSIT, p.cell, p.size)
        model.walk_ins_batch(Batch.of_parties([(t, p)]), IN_TRANSIT)


def run_with(scenario: Scenario, parties: Iterable[tuple[float, Party]]) -> Model:
    model = Model(scenario)
    inject(model, parties)
    model.result = model.run()
    return model


def stock(model: Model, state: str, day: int = -1) -> float:
    return float(model.rec.state_snap[day, STATE_INDEX[state]].sum())


def cells_flow(model: Model, metric: str) -> np.ndarray:
    """A flow's run total per [nationality, group]."""
    return model.rec.flow_array()[:, FLOW_INDEX[metric]].sum(axis=(0, 3))
