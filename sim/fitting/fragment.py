"""The calibration's result as a scenario fragment other scenarios `extends`.

Every value in the fragment is fitted; the header says so, and which are which. The
tables written here replace the same tables of the scenario they are merged into
(lists replace, tables merge), so a scenario extending the fragment may still change any
lever on top of it.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from sim.fitting import parameters as P
from sim.fitting.calibrate import Calibration
from sim.fitting.targets import total_loss
from sim.scenario.schema import Scenario, Shock


def _lit(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) >= 1e-4 or v == 0 else f"{v:.4e}"
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_lit(x) for x in v) + "]"
    return str(v)


def shock_lines(shock: Shock) -> list[str]:
    """One `[[departures.shocks]]` entry (a lever left unset is left out: TOML has no null)."""
    return ["[[departures.shocks]]"] + [
        f"{k} = {_lit(v)}" for k, v in shock.model_dump().items() if v is not None
    ]


def to_toml(cal: Calibration, fitted: Scenario, header: str) -> str:
    """The fitted demand and mechanism levers of `fitted` (the base with the point estimate)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    dep = fitted.departures
    lines += [
        "",
        "[departures]",
        f"seasonality = {_lit(list(dep.seasonality))}",
        'level_after_fit = "one"',
    ]
    lines.append("level = {}")
    for nat, r in dep.rates.items():
        lines += ["", f"[departures.rates.{nat}]"]
        lines += [
            f"{g} = {getattr(r, g):.1f}" for g in ("single_adult", "family", "unaccompanied_child")
        ]
    for key, knots in dep.trend.items():
        lines += ["", f'[departures.trend."{key}"]']
        lines += [f'"{m}" = {v:.5f}' for m, v in knots.items()]
    for s in dep.shocks:
        lines += ["", *shock_lines(s)]
    d = fitted.deterrence
    lines += ["", "[deterrence]", f"effect = {d.effect:.4f}", f"delay_days = {d.delay_days}"]
    lines.append(f"memory_days = {d.memory_days:.2f}")
    lines.append(f"momentum_rate = {d.momentum_rate:.4f}")
    lines += ["", "[deterrence.momentum_threshold]"]
    lines += [
        f"{g} = {getattr(d.momentum_threshold, g):.4f}"
        for g in ("single_adult", "family", "unaccompanied_child")
    ]
    lines += ["", "[enforcement]", "mexico = ["]
    for step in fitted.enforcement.mexico:
        lines.append(
            f"    {{ from = {step.from_.isoformat()}, daily_hazard = {step.daily_hazard:.6f} }},"
        )
    lines.append("]")
    e = fitted.enforcement
    lines.append(f"announcement_risk_shift = {e.announcement_risk_shift:.4f}")
    lines.append(f"announcement_decay_days = {e.announcement_decay_days:.2f}")
    if e.port_shift:  # (a lever the shipped fit leaves at 0: written only when set)
        lines.append(f"port_shift = {e.port_shift:.4f}")
    m = fitted.mpp
    lines += [
        "",
        "[mpp]",
        f"give_up_days = {m.give_up_days:.2f}",
        f"cross_days = {m.cross_days:.2f}",
    ]
    lines.append("enrolment = [")
    for step in m.enrolment:
        lines.append(f"    {{ from = {step.from_.isoformat()}, share = {step.share:.4f} }},")
    lines.append("]")
    me = fitted.metering
    lines += [
        "",
        "[metering]",
        f"give_up_days = {me.give_up_days:.2f}",
        f"cross_share = {me.cross_share:.4f}",
    ]
    lines += [
        "",
        "[transit_bar]",
        f"release_multiplier = {fitted.transit_bar.release_multiplier:.4f}",
    ]
    re = fitted.reattempts
    lines += ["", "[reattempts.removed]", f"probability = {re.removed.probability:.4f}"]
    lines += [
        "",
        "[reattempts.stopped_in_mexico]",
        f"probability = {re.stopped_in_mexico.probability:.4f}",
    ]
    lines += ["", "[border]", f"processing_lanes = {fitted.border.processing_lanes}"]
    rec = cal.record
    lines += ["", "[calibration]"]
    for k in ("method", "objective", "observed", "command"):
        lines.append(f"{k} = {json.dumps(str(rec[k]))}")
    lines.append(f"iterations = {int(rec['iterations'])}")
    lines.append(f"replications = {int(rec['replications'])}")
    lines.append(f"scale = {float(rec['scale']):g}")
    lines += ["", "[calibration.final_error]"]
    lines += [f"{k} = {v:.2f}" for k, v in rec["final_error"].items()]
    return "\n".join(lines) + "\n"


def mape_by_series(cal: Calibration) -> dict[str, float]:
    """In-sample MAPE (%) per USBP series at the point estimate, and the loss."""
    t = cal.terms[cal.terms["kind"] == "usbp"]
    out = {
        str(what): float(np.mean(np.abs(g["simulated"] / g["observed"] - 1.0)) * 100)
        for what, g in t.groupby("what", sort=False)
    }
    out["loss"] = total_loss(cal.terms)
    return out


def parameter_names() -> list[str]:
    return [p.name for p in P.PARAMETERS]
