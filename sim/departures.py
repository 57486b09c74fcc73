"""Departure intensities: persons per month -> expected parties per day, per nationality x group."""

from __future__ import annotations

import numpy as np

from sim.calendar import SimCalendar
from sim.domain import GROUPS, NATIONALITIES
from sim.scenario.schema import Departures


def mean_party_size(dep: Departures) -> np.ndarray:
    """Mean persons per party for each group (single adult, family, child)."""
    return np.array([1.0, 2.0 + dep.family_extra_members, 1.0])


def _level_for(levels: dict[str, float], keys: list[str], rule: str) -> np.ndarray:
    """Monthly level multiplier on each day; months outside the fitted range follow `rule`."""
    if not levels:
        return np.ones(len(keys))
    fitted = sorted(levels)
    first, last = fitted[0], fitted[-1]
    cache: dict[str, float] = {}

    def value(key: str) -> float:
        if key in cache:
            return cache[key]
        y, m = int(key[:4]), int(key[5:])
        k = key
        if rule == "last_year":
            while k > last:
                y -= 1
                k = f"{y:04d}-{m:02d}"
            while k < first:
                y += 1
                k = f"{y:04d}-{m:02d}"
        cache[key] = levels.get(k, 1.0)
        return cache[key]

    return np.array([value(k) for k in keys])


def party_intensity(dep: Departures, cal: SimCalendar, scale: float) -> np.ndarray:
    """Expected parties per day, shape [day, nationality, group], undeterred."""
    season = np.asarray(dep.seasonality)[cal.calendar_month]
    per_day = season / cal.days_in_month
    lam = np.zeros((cal.days, len(NATIONALITIES), len(GROUPS)))
    all_level = _level_for(dep.level.get("all", {}), cal.month_keys, dep.level_after_fit)
    size = mean_party_size(dep)
    for n, nat in enumerate(NATIONALITIES):
        rates = dep.rates.get(nat)
        if rates is None:
            continue
        level = all_level * _level_for(dep.level.get(nat, {}), cal.month_keys, dep.level_after_fit)
        for g, group in enumerate(GROUPS):
            own = _level_for(
                dep.level.get(f"{nat}.{group}", {}), cal.month_keys, dep.level_after_fit
            )
            lam[:, n, g] = getattr(rates, group) * per_day * level * own / size[g]
    return lam * scale
