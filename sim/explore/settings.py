"""From what the page shows to scenarios: the changed levers, validated as `--set` is.

The page's values are compared with the starting scenario; only levers that differ are
changes. They are applied with `sim.scenario.loader.with_overrides`, the path every
`--set` takes (`_apply_set`, then one pydantic validation), so a bad value is refused
with exactly the `ScenarioError` text `migsim check SCENARIO --set PATH=VALUE` prints.
An agreement switched off is removed from the scenario (no `--set` can say that).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.explore.levers import GROUP_OPTIONS, MAX_REPS, SCALE_PATH, Control
from sim.scenario.loader import ScenarioError, with_overrides
from sim.scenario.schema import Scenario

PAGE_SOURCE = "explore"
SUFFIX = "_explore"


@dataclass(frozen=True)
class Settings:
    """The page's settings: changed levers (`--set` path -> value), agreements switched
    off, and the run settings shared by the baseline and the changed runs."""

    changes: dict[str, Any] = field(default_factory=dict)
    off: tuple[str, ...] = ()
    scale: float | None = None
    reps: int = 1


def _date(value: Any) -> Any:
    """A date picker's ISO text as a date; anything else as given (the loader judges it)."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def _groups(value: Any) -> Any:
    if isinstance(value, list):
        order = [g for g, _ in GROUP_OPTIONS]
        return sorted(value, key=lambda g: order.index(g) if g in order else len(order))
    return value


def _same(control: Control, value: Any) -> bool:
    start = control.value
    if control.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return isinstance(start, int | float) and math.isclose(value, start, rel_tol=1e-12)
    if control.kind == "date":
        return _date(value) == _date(start)
    if control.kind == "groups":
        return _groups(value) == _groups(start)
    return value == start


def read_settings(
    controls: Mapping[str, Control], values: Mapping[str, Any], scale: Any, reps: Any
) -> Settings:
    """The changes the page's `values` (by control path) make to the starting scenario.
    Raises `ScenarioError` for a number of replications out of range."""
    if isinstance(reps, bool) or not isinstance(reps, int | float) or reps != int(reps):
        raise ScenarioError(
            PAGE_SOURCE, "replications", f"must be a whole number from 1 to {MAX_REPS}"
        )
    if not 1 <= reps <= MAX_REPS:
        raise ScenarioError(
            PAGE_SOURCE, "replications", f"must be from 1 to {MAX_REPS}, not {reps:g}"
        )
    off = tuple(
        p.split(".")[1]
        for p, c in controls.items()
        if c.kind == "switch" and p in values and not values[p]
    )
    changes: dict[str, Any] = {}
    for path, control in controls.items():
        if control.kind == "switch" or path not in values:
            continue
        if any(path.startswith(f"agreements.{name}.") for name in off):
            continue  # the levers of an agreement switched off do not matter
        value = values[path]
        if not _same(control, value):
            changes[path] = _groups(_date(value)) if control.kind != "number" else value
    return Settings(changes, off, scale, int(reps))


def _renamed(s: Scenario, base: Scenario, settings: Settings) -> Scenario:
    changed = ", ".join(f"{k} = {_literal(v)}" for k, v in settings.changes.items())
    off = ", ".join(f"agreement {n} off" for n in settings.off)
    what = "; ".join(x for x in (changed, off) if x) or "no change"
    return s.model_copy(
        update={
            "name": base.name[: 100 - len(SUFFIX)] + SUFFIX,
            "description": f"{base.name} with {what}",
        }
    )


def scenarios(base: Scenario, settings: Settings) -> tuple[Scenario, Scenario]:
    """The baseline (the starting scenario at the page's scale) and the changed scenario.
    Raises `ScenarioError` with the loader's message, as `--set` does."""
    run = {SCALE_PATH: settings.scale}
    baseline = with_overrides(base, run)
    start = base
    if settings.off:
        data = base.model_dump(mode="python", by_alias=True)
        data["agreements"] = [a for a in data["agreements"] if a["name"] not in settings.off]
        start = Scenario.model_validate(data)  # fewer agreements: nothing else can fail
    changed = with_overrides(start, {**settings.changes, **run})
    return baseline, _renamed(changed, base, settings)


def set_args(settings: Settings) -> list[str]:
    """The `--set` arguments of the lever changes (agreements switched off have none)."""
    return [f"{k}={_literal(v)}" for k, v in settings.changes.items()]


# ----------------------------------------------------------------------------- TOML
def _key(k: str) -> str:
    return k if k and all(c.isalnum() or c in "_-" for c in k) else json.dumps(k)


def _literal(v: Any) -> str:
    """A TOML value (scenario values only: no None, no infinities)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_literal(x) for x in v) + "]"
    if isinstance(v, dict):
        inner = ", ".join(f"{_key(k)} = {_literal(x)}" for k, x in v.items() if x is not None)
        return "{ " + inner + " }"
    return json.dumps(str(v))


def _table(header: str, d: Mapping[str, Any], array: bool) -> list[str]:
    """`[header]` (or `[[header]]`) with its values, then its sub-tables."""
    lines = [f"[[{header}]]" if array else f"[{header}]"]
    later: list[str] = []
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                later += ["", *_table(f"{header}.{_key(k)}", item, True)]
        elif isinstance(v, dict):
            later += ["", *_table(f"{header}.{_key(k)}", v, False)]
        else:
            lines.append(f"{_key(k)} = {_literal(v)}")
    return lines + later


def _unit(path: str, data: Mapping[str, Any]) -> str:
    """What a scenario file must write to change `path`: lists replace the inherited list
    whole when files are merged, so the first list on the way (e.g. `agreements`,
    `mpp.enrolment`); tables merge, so otherwise the lever itself."""
    node: Any = data
    walked: list[str] = []
    for part in path.split("."):
        if isinstance(node, list):
            return ".".join(walked)
        walked.append(part)
        node = node[part]
    return path


def _at(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = node[part]
    return node


def saved_toml(source: Path, base: Scenario, settings: Settings, changed: Scenario) -> str:
    """A scenario file that `extends` the starting file and holds only the changed levers
    (lists written whole); scale and replications are the page's run settings, not saved."""
    data = changed.model_dump(mode="python", by_alias=True)
    units = {_unit(p, data) for p in settings.changes}
    if settings.off:
        units.add("agreements")
    lines = [
        f"# Saved by `migsim explore` from {source.name}: only the levers changed on the page.",
        "# A list (agreements, MPP steps, hazard steps) is written whole: it replaces the",
        "# inherited list. `extends` names the starting file by its absolute path; beside it,",
        f'# `extends = "{source.name}"` does the same.',
        f"# Not saved (the page's run settings): scale {settings.scale:g}, "
        f"{settings.reps} replication{'s' if settings.reps != 1 else ''}.",
        f"extends = {json.dumps(str(source.resolve()))}",
        f"name = {json.dumps(changed.name)}",
        f"description = {json.dumps(changed.description, ensure_ascii=False)}",
    ]
    agreements = data["agreements"] if "agreements" in units else None
    if agreements == []:
        lines.append("agreements = []")
    sections: dict[str, list[str]] = {}
    for unit in sorted(units - {"agreements"}):
        header, _, key = unit.rpartition(".")
        value = _at(data, unit)
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            text = f"{_key(key)} = [\n" + "".join(f"    {_literal(x)},\n" for x in value) + "]"
        else:
            text = f"{_key(key)} = {_literal(value)}"
        if header:
            sections.setdefault(header, []).append(text)
        else:  # a top-level lever: before any table
            lines.append(text)
    for header, items in sections.items():
        lines += ["", f"[{header}]", *items]
    for a in agreements or []:
        lines += ["", *_table("agreements", a, True)]
    return "\n".join(lines) + "\n"
