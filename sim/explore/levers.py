"""The page's controls, read from the scenario schema: label, unit, bounds and doc of each.

Units, bounds and docs come from the pydantic fields (`lever(...)` in
`sim.scenario.schema`), never written here, so the page cannot drift from `migsim levers`.
Each control's `path` is the `--set` path of the lever it changes (agreements by name,
list items by index), so a page setting and a command line mean the same thing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import annotated_types as at
from pydantic import BaseModel

from sim.scenario.schema import (
    Agreement,
    Deterrence,
    HazardStep,
    Metering,
    MPPStep,
    PhaseStep,
    Scenario,
)

Kind = Literal["number", "date", "groups", "switch"]
#: the groups an agreement step may allow, in schema order, as the page names them
GROUP_OPTIONS = (("single_adult", "single adults"), ("family", "families"))
#: replications per run: an explore setting (not a scenario lever), kept small on purpose
MAX_REPS = 20
DEFAULT_SCALE = 0.05
DEFAULT_REPS = 3
SCALE_PATH = "scale"


@dataclass(frozen=True)
class Control:
    """One control: the `--set` path it changes and what the page shows next to it."""

    path: str
    kind: Kind
    label: str
    value: Any  # the starting scenario's value, JSON-ready (ISO dates, lists, numbers)
    unit: str = ""
    bounds: str = ""
    doc: str = ""
    optional: bool = False  # a date that may be left empty (an agreement without an end)


@dataclass(frozen=True)
class Section:
    """A heading and its controls (one per agreement, one per policy)."""

    title: str
    controls: list[Control] = field(default_factory=list)
    agreement: str | None = None  # the agreement an on/off switch governs


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,g}"


def bounds_text(model: type[BaseModel], name: str) -> str:
    """The schema's bounds of a field as the page shows them, e.g. '≥ 0, ≤ 100,000,000'."""
    out = []
    for m in model.model_fields[name].metadata:
        for cls, sym, attr in ((at.Ge, "≥", "ge"), (at.Gt, ">", "gt")):
            if isinstance(m, cls):
                out.insert(0, f"{sym} {_number(getattr(m, attr))}")
        for cls, sym, attr in ((at.Le, "≤", "le"), (at.Lt, "<", "lt")):
            if isinstance(m, cls):
                out.append(f"{sym} {_number(getattr(m, attr))}")
    return ", ".join(out)


def _unit(model: type[BaseModel], name: str) -> str:
    """The field's unit; a unitless number bounded by 0 and 1 is a share."""
    extra = model.model_fields[name].json_schema_extra
    unit = str(extra.get("unit", "")) if isinstance(extra, dict) else ""
    return unit or ("share" if bounds_text(model, name) == "≥ 0, ≤ 1" else "")


def number(model: type[BaseModel], name: str, path: str, label: str, value: Any) -> Control:
    """A numeric control for field `name` of `model`, with the schema's unit and bounds."""
    f = model.model_fields[name]
    return Control(
        path,
        "number",
        label,
        value,
        _unit(model, name),
        bounds_text(model, name),
        f.description or "",
    )


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _agreement(a: Agreement) -> Section:
    p = f"agreements.{a.name}"
    ctl = [
        Control(p, "switch", "In force", True, doc="off: the run has no such agreement"),
        Control(f"{p}.start", "date", "Start", _iso(a.start), "date"),
        Control(
            f"{p}.end",
            "date",
            "End",
            _iso(a.end),
            "date, exclusive",
            doc="empty: no end",
            optional=True,
        ),
        number(
            Agreement, "referral_share", f"{p}.referral_share", "Referral share", a.referral_share
        ),
    ]
    for i, step in enumerate(a.phase_in):
        q = f"{p}.phase_in.{i}"
        ctl += [
            Control(f"{q}.from", "date", f"Step {i + 1} from", _iso(step.from_), "date"),
            number(
                PhaseStep,
                "weekly_cap",
                f"{q}.weekly_cap",
                f"Step {i + 1} weekly cap",
                step.weekly_cap,
            ),
            Control(
                f"{q}.groups",
                "groups",
                f"Step {i + 1} groups",
                list(step.groups),
                doc=PhaseStep.model_fields["groups"].description or "",
            ),
        ]
    countries = ", ".join(n.replace("_", " ").title() for n in a.eligible_nationalities)
    title = f"Agreement {a.name}: {countries} to {a.receiving_country.replace('_', ' ').title()}"
    return Section(title, ctl, agreement=a.name)


def sections(s: Scenario) -> list[Section]:
    """Every control of the page, grouped, with the starting scenario's values."""
    out = [_agreement(a) for a in s.agreements]
    out.append(
        Section(
            "Deterrence",
            [number(Deterrence, "effect", "deterrence.effect", "Effect", s.deterrence.effect)],
        )
    )
    out.append(
        Section(
            "Remain in Mexico (MPP): enrolment",
            [
                number(MPPStep, "share", f"mpp.enrolment.{i}.share", f"From {st.from_}", st.share)
                for i, st in enumerate(s.mpp.enrolment)
            ],
        )
    )
    out.append(
        Section(
            "Mexico's enforcement: daily hazard of a stop",
            [
                number(
                    HazardStep,
                    "daily_hazard",
                    f"enforcement.mexico.{i}.daily_hazard",
                    f"From {st.from_}",
                    st.daily_hazard,
                )
                for i, st in enumerate(s.enforcement.mexico)
            ],
        )
    )
    out.append(
        Section(
            "Metering at ports of entry",
            [
                number(
                    Metering,
                    "daily_intake",
                    "metering.daily_intake",
                    "Daily intake",
                    s.metering.daily_intake,
                )
            ],
        )
    )
    return out


def run_controls() -> list[Control]:
    """Scale and replications: run settings, applied alike to the baseline and the change."""
    return [
        number(Scenario, "scale", SCALE_PATH, "Scale", DEFAULT_SCALE),
        Control(
            "replications",
            "number",
            "Replications",
            DEFAULT_REPS,
            "runs each, paired by seed",
            f"≥ 1, ≤ {MAX_REPS}",
        ),
    ]


def all_controls(s: Scenario) -> dict[str, Control]:
    """Every lever control by path (not the run settings)."""
    return {c.path: c for sec in sections(s) for c in sec.controls}


__all__ = ["Control", "Section", "all_controls", "bounds_text", "run_controls", "sections"]
