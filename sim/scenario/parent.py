"""What a scenario is compared with: its `extends` parent, or else the schema defaults.

The parent is read as its file reads now (not as it read at run time), resolved like
`load_scenario` does: schema defaults, then the file and its own ancestors. A parent
that is only a fragment (e.g. calibration.toml has no name or dates) borrows the required
fields from the scenario, so they do not show up as differences. Whenever the parent
cannot be used, the comparison falls back to the schema defaults and says why.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.safeio import UnsafeFile, read_text
from sim.scenario.loader import ScenarioError, read_raw, resolved_dict, schema_defaults
from sim.scenario.schema import Scenario

DEFAULTS_LABEL = "schema defaults"


@dataclass(frozen=True)
class Parent:
    """The scenario a report compares with, and what the reader should know about it."""

    label: str  # column heading: the parent's file name, or "schema defaults"
    resolved: dict[str, Any] | None  # JSON form, like manifests; None if nothing to compare
    notes: list[str] = field(default_factory=list)


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> None:
    """Tables merge, any other value replaces (the loader's rule for `extends`)."""
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _required(child: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: child[name]
        for name, f in Scenario.model_fields.items()
        if f.is_required() and name in child
    }


def _from_file(
    path: Path, child: Mapping[str, Any], at_run_time: bool = False
) -> tuple[dict[str, Any], list[str]]:
    raw, _ = read_raw(path)
    data = schema_defaults()
    _merge(data, raw)
    borrowed = {k: v for k, v in _required(child).items() if k not in raw}
    data.update(borrowed)
    notes = [
        f"compared with {path.name} as it read when the results were made"
        if at_run_time
        else f"compared with {path.name} as the file reads now, not necessarily as it read "
        "when the results were made"
    ]
    if borrowed:
        notes.append(
            f"{path.name} does not set {', '.join(borrowed)}; those are taken from the "
            "scenario so they do not show as differences"
        )
    return resolved_dict(Scenario.model_validate(data)), notes


def schema_default_scenario(child: Mapping[str, Any]) -> dict[str, Any] | None:
    """The schema defaults, with the scenario's own required fields (name, dates)."""
    try:
        return resolved_dict(Scenario.model_validate(_required(child)))
    except ValidationError:
        return None


def defaults(child: Mapping[str, Any], why: str) -> Parent:
    """Compare with the schema defaults, telling the reader `why` there is no parent."""
    resolved = schema_default_scenario(child)
    notes = [f"{why}, so the scenario is compared with the schema defaults (`migsim levers`)"]
    if resolved is None:
        notes.append("the schema defaults could not be built for this scenario")
    return Parent(DEFAULTS_LABEL, resolved, notes)


def _stored(record: Any) -> Parent | None:
    """A parent recorded in a manifest at run time (`record_parent`), if well formed."""
    if not isinstance(record, Mapping):
        return None
    label, resolved, notes = record.get("label"), record.get("resolved"), record.get("notes")
    if not isinstance(label, str) or not isinstance(resolved, dict):
        return None
    notes = [str(n) for n in notes] if isinstance(notes, list) else []
    return Parent(label, resolved, notes)


def find_parent(
    child: Mapping[str, Any],
    extends: str | None,
    recorded: bool,
    folder: Path | None = None,
    stored: Any = None,
    _at_run_time: bool = False,
) -> Parent:
    """The parent file `extends` (a path recorded at run time) or the schema defaults.

    `recorded` says whether the results recorded their source at all (older runs and
    validations do not), which changes what the reader is told. A parent the manifest
    recorded at run time (`stored`, see `record_parent`) is used as it is. When the path
    comes from a results `folder`'s manifest, it is followed only if it lies inside that
    folder: a folder received from someone else must not make the report open other files.
    """
    parent = _stored(stored)
    if parent is not None:
        return parent
    if not recorded:
        return defaults(child, "the results do not record which file the scenario came from")
    if not extends:
        return defaults(child, "the scenario file extends no other file")
    path = Path(extends)
    if folder is not None and not path.resolve().is_relative_to(folder.resolve()):
        return defaults(
            child,
            f"its parent {path} is outside the results folder and the manifest does not "
            "record it (a report never opens files a manifest points to elsewhere)",
        )
    if not path.is_file():
        return defaults(child, f"its parent {path} no longer exists")
    try:
        resolved, notes = _from_file(path, child, _at_run_time)
    except ScenarioError as e:
        return defaults(child, f"its parent could not be read ({e})")
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return defaults(
            child, f"its parent {path.name} is not valid on its own ({where}: {first['msg']})"
        )
    return Parent(path.name, resolved, notes)


def record_parent(extends: str | Path | None, child: Mapping[str, Any]) -> dict[str, Any]:
    """At run time, from the user's own files: the parent as the manifest stores it
    (`scenario_parent`), so the report never needs to open the path."""
    p = find_parent(child, str(extends) if extends else None, recorded=True, _at_run_time=True)
    return {"label": p.label, "resolved": p.resolved, "notes": p.notes}


def extends_of(source: str | Path) -> tuple[str | None, str | None]:
    """The `extends` parent of a scenario file, as a path (None if it has none), and a
    problem if the file itself cannot be read; for batches, which record only the file."""
    path = Path(source)
    try:
        raw = tomllib.loads(read_text(path))
    except (OSError, UnsafeFile, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        return None, f"the scenario file {path} cannot be read now ({type(e).__name__})"
    parent = raw.get("extends")
    return (str(path.parent / parent) if isinstance(parent, str) else None), None
