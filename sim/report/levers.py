"""The few levers a colleague asks about first, read from a resolved scenario.

Works on the JSON form written to manifests (dates are ISO strings), and tolerates
scenarios written by another migsim version: a lever it cannot read is left out rather
than failing the report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sim.report.fmt import number

Resolved = Mapping[str, Any]


def _pct(x: float) -> str:
    return f"{100 * x:g}%"


def _period(s: Resolved) -> str:
    return f"{s['start']} to {s['end']} (end exclusive); warm-up {s['warmup_days']} days"


def _scale(s: Resolved) -> str:
    x = float(s["scale"])
    return "1 (every party simulated)" if x == 1 else f"{x:g} (counts scaled back by {1 / x:g})"


def _steps(steps: list[Mapping[str, Any]], value: Callable[[Mapping[str, Any]], str]) -> str:
    return "; ".join(f"from {st['from']}: {value(st)}" for st in steps) or "none"


def _mpp(s: Resolved) -> str:
    m = s["mpp"]
    cap = m.get("daily_capacity")
    limit = f"; at most {number(cap)} a day" if cap is not None else ""
    return f"enrolment share {_steps(m['enrolment'], lambda st: _pct(st['share']))}{limit}"


def _metering(s: Resolved) -> str:
    m = s["metering"]
    if m.get("start") is None:
        return "off"
    return f"from {m['start']}: {number(m['daily_intake'])} persons a day admitted at ports"


def _transit_bar(s: Resolved) -> str:
    t = s["transit_bar"]
    if t.get("start") is None:
        return "off"
    return f"from {t['start']}: release share x {t['release_multiplier']:g}"


def _enforcement(s: Resolved) -> str:
    return _steps(s["enforcement"]["mexico"], lambda st: f"{st['daily_hazard']:g}/day hazard")


def _border(s: Resolved) -> str:
    b = s["border"]
    prio = b["priority"]
    order = " > ".join(prio) if isinstance(prio, list) else str(prio)
    return f"holding capacity {number(b['holding_capacity'])} persons; priority {order}"


def _deterrence(s: Resolved) -> str:
    d = s["deterrence"]
    return f"effect {d['effect']:g} from {d['reference_date']}"


def _agreement(a: Mapping[str, Any]) -> str:
    end = a.get("end") or "open-ended"
    caps = "; ".join(
        f"from {st['from']}: {number(st['weekly_cap'])}/week ({', '.join(st['groups'])})"
        for st in a["phase_in"]
    )
    return (
        f"transfers to {a['receiving_country']} of {', '.join(a['eligible_nationalities'])}, "
        f"{a['start']} to {end}; caps {caps}; referral share {_pct(a['referral_share'])}"
    )


def _departures(s: Resolved) -> str:
    cal = s.get("calibration")
    if cal:
        return f"calibrated ({cal.get('observed', 'fitted')})"
    return "schema defaults (not calibrated)"


ROWS: tuple[tuple[str, Callable[[Resolved], str]], ...] = (
    ("Period", _period),
    ("Seed", lambda s: str(s["seed"])),
    ("Scale", _scale),
    ("Departures", _departures),
    ("Deterrence", _deterrence),
    ("Remain in Mexico", _mpp),
    ("Metering", _metering),
    ("Transit bar", _transit_bar),
    ("Mexico enforcement", _enforcement),
    ("Border", _border),
)


def key_levers(s: Resolved) -> list[tuple[str, str]]:
    """(label, value) for the headline levers and one row per agreement."""
    rows: list[tuple[str, str]] = []
    for label, read in ROWS:
        try:
            rows.append((label, read(s)))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # a scenario from another version: leave the lever out
    agreements = s.get("agreements")
    if isinstance(agreements, list):
        names = [str(a.get("name", "?")) for a in agreements if isinstance(a, Mapping)]
        rows.append(("Agreements", ", ".join(names) or "none"))
        for a in agreements:
            try:
                rows.append((f"Agreement {a['name']}", _agreement(a)))
            except (KeyError, TypeError, ValueError):
                continue
    return rows
