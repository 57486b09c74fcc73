"""Departure intensities: persons per month -> expected parties per day, per nationality x group."""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.calendar import SimCalendar
from sim.domain import GROUP_INDEX, GROUPS, NAT_INDEX, NATIONALITIES
from sim.scenario.schema import Departures, Event, Shock


def mean_party_size(dep: Departures) -> np.ndarray:
    """Mean persons per party for each group (single adult, family, child)."""
    return np.array([1.0, 2.0 + dep.family_extra_members, 1.0])


def _level_for(levels: dict[str, float], keys: list[str], rule: str) -> np.ndarray:
    """Monthly level multiplier on each day; months outside the fitted range follow `rule`
    (1, or the nearest fitted month's level). No rule replays a past year."""
    if not levels:
        return np.ones(len(keys))
    fitted = sorted(levels)
    first, last = fitted[0], fitted[-1]

    def value(key: str) -> float:
        if key in levels:
            return levels[key]
        if rule == "hold":
            return levels[last] if key > last else levels[first]
        return 1.0

    cache = {k: value(k) for k in set(keys)}
    return np.array([cache[k] for k in keys])


def _knot_day(cal: SimCalendar, month: str) -> int:
    return cal.day(dt.date(int(month[:4]), int(month[5:]), 15))


def trend_for(knots: dict[str, float], cal: SimCalendar) -> np.ndarray:
    """Log trend on each day: linear between the knots (the 15th of each knot month), flat
    outside them, so beyond the last fitted knot demand holds its trend level."""
    if not knots:
        return np.zeros(cal.days)
    months = sorted(knots)
    x = np.array([_knot_day(cal, m) for m in months], dtype=float)
    y = np.array([knots[m] for m in months], dtype=float)
    return np.interp(np.arange(cal.days, dtype=float), x, y)


def _window(shock: Shock | Event, cal: SimCalendar) -> slice:
    return slice(max(cal.day(shock.start), 0), max(cal.day(shock.end), 0))


def _cells(shock: Shock | Event) -> tuple[np.ndarray, np.ndarray]:
    """The event's cells as index arrays (nationality, group)."""
    pairs = [(NAT_INDEX[n], GROUP_INDEX[g]) for n in shock.nationalities for g in shock.groups]
    return np.array([n for n, _ in pairs]), np.array([g for _, g in pairs])


def shock_multiplier(dep: Departures, cal: SimCalendar) -> np.ndarray:
    """Product of the dated shocks, shape [day, nationality, group]."""
    out = np.ones((cal.days, len(NATIONALITIES), len(GROUPS)))
    for shock in dep.shocks:
        n, g = _cells(shock)
        out[_window(shock, cal), n, g] *= shock.multiplier
    return out


def demand_components(dep: Departures, cal: SimCalendar) -> dict[str, np.ndarray]:
    """The factors of undeterred demand on each day, [day, nationality, group] (persons/day):
    `base` (rate / days in month), `seasonality`, `trend` (exp of the log trend), `shocks`,
    `level` (legacy monthly levels, 1 when none). Their product is the undeterred intensity."""
    shape = (cal.days, len(NATIONALITIES), len(GROUPS))
    base = np.zeros(shape)
    season = np.asarray(dep.seasonality)[cal.calendar_month]
    trend = np.zeros(shape)
    level = np.ones(shape)
    rule = dep.level_after_fit
    keys = cal.month_keys
    all_level = _level_for(dep.level.get("all", {}), keys, rule)
    all_trend = trend_for(dep.trend.get("all", {}), cal)
    for n, nat in enumerate(NATIONALITIES):
        rates = dep.rates.get(nat)
        nat_level = all_level * _level_for(dep.level.get(nat, {}), keys, rule)
        nat_trend = all_trend + trend_for(dep.trend.get(nat, {}), cal)
        for g, group in enumerate(GROUPS):
            key = f"{nat}.{group}"
            if rates is not None:
                base[:, n, g] = getattr(rates, group) / cal.days_in_month
            level[:, n, g] = nat_level * _level_for(dep.level.get(key, {}), keys, rule)
            trend[:, n, g] = nat_trend + trend_for(dep.trend.get(key, {}), cal)
    return {
        "base": base,
        "seasonality": np.broadcast_to(season[:, None, None], shape),
        "trend": np.exp(trend),
        "shocks": shock_multiplier(dep, cal),
        "level": level,
    }


def sized_events(dep: Departures, cal: SimCalendar) -> list[tuple[Event, np.ndarray]]:
    """Each event of documented size (`departures.events`) with the persons a day it sets out,
    [day, nationality, group]: evenly over its whole window, split between its cells by
    their own undeterred demand over the window. These are people who left (a documented
    count), so no deterrence multiplier applies to them. The split uses the whole window
    even where the run starts inside it, so a run's departures do not depend on its start."""
    out = []
    for event in dep.events:
        whole = SimCalendar(cal.origin, cal.start, max(cal.end, event.end))
        n, g = _cells(event)
        d0, d1 = whole.day(event.start), whole.day(event.end)
        demand = regular_persons(dep, whole)[max(d0, 0) : d1, n, g].sum(axis=0)
        split = demand / demand.sum() if demand.sum() > 0 else np.full(len(n), 1 / len(n))
        persons = np.zeros((cal.days, len(NATIONALITIES), len(GROUPS)))
        persons[_window(event, cal), n, g] = event.persons * split / (d1 - d0)
        out.append((event, persons))
    return out


def regular_persons(dep: Departures, cal: SimCalendar) -> np.ndarray:
    """Undeterred persons a day [day, nationality, group]."""
    c = demand_components(dep, cal)
    return c["base"] * c["seasonality"] * c["trend"] * c["shocks"] * c["level"]


def party_intensity(dep: Departures, cal: SimCalendar, scale: float) -> np.ndarray:
    """Expected parties per day, shape [day, nationality, group], undeterred (events of
    documented size apart: `sized_events`)."""
    return regular_persons(dep, cal) / mean_party_size(dep)[None, None, :] * scale


def port_share(dep: Departures, cal: SimCalendar, base: np.ndarray) -> np.ndarray | None:
    """Share of each day's undeterred departures presenting at a port of entry, [day,
    nationality, group], when a multiplying event says where its own members go
    (`Shock.port_of_entry_share`); None when none does (everyone then follows `base`, the
    share per nationality). The members of an event of multiplier m are (m - 1) / M of the
    day's departures, M the product of all multipliers that day: they present at ports with
    their event's share, everyone else with their nationality's."""
    if all(s.port_of_entry_share is None for s in dep.shocks):
        return None
    total = shock_multiplier(dep, cal)
    share = np.broadcast_to(base[None, :, None], total.shape).copy()
    for shock in dep.shocks:
        s = shock.port_of_entry_share
        if s is None or shock.multiplier <= 1:
            continue
        w = _window(shock, cal)
        n, g = _cells(shock)
        share[w, n, g] += (shock.multiplier - 1.0) / total[w, n, g] * (s - base[n])
    return share
