"""Read scenario files: TOML, `extends` inheritance, `--set` overrides, validation.

Every problem becomes a `ScenarioError` naming the file, the field and what is wrong, so the
CLI can print one line and exit with status 2.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.safeio import TEXT_LIMIT, UnsafeFile, check_regular, read_text
from sim.scenario.schema import Scenario

SET_SOURCE = "--set"
#: at most this many files in an `extends` chain (a scenario and its ancestors)
MAX_EXTENDS_DEPTH = 32


class ScenarioError(Exception):
    """A bad scenario: `source` is a file (or '--set'), `field` a dotted path."""

    def __init__(self, source: str | Path, field: str, problem: str) -> None:
        self.source, self.field, self.problem = str(source), field, problem
        where = f"{self.source}: {field}" if field else self.source
        super().__init__(f"{where}: {problem}")


def _read_toml(path: Path) -> dict[str, Any]:
    """A scenario file's table: a regular file of at most 5 MB (devices, FIFOs and huge
    files are refused before reading), UTF-8 with or without a byte-order mark."""
    try:
        text = read_text(path, TEXT_LIMIT)
    except FileNotFoundError:
        raise ScenarioError(path, "", "file not found") from None
    except UnsafeFile as e:
        raise ScenarioError(path, "", f"{e}; scenario files must be regular files") from None
    except OSError as e:
        raise ScenarioError(path, "", f"cannot read: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise ScenarioError(path, "", f"not UTF-8 text (byte {e.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(path, "", f"TOML syntax error: {e}") from None


def _merge(
    base: dict[str, Any], over: Mapping[str, Any], src: str, prov: dict[str, str], prefix: str = ""
) -> None:
    """Deep-merge tables; any other value (lists included) replaces the inherited one."""
    for key, value in over.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value, src, prov, path + ".")
        else:
            base[key] = copy.deepcopy(value)
            prov[path] = src


def read_raw(
    path: str | Path, _chain: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], dict[str, str]]:
    """The merged raw table of a scenario and its `extends` ancestors, with provenance per key."""
    path = Path(path)
    resolved = path.resolve()
    if len(_chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            path,
            "extends",
            f"inheritance chain longer than {MAX_EXTENDS_DEPTH} files "
            f"(from {_chain[0].name}); flatten it",
        )
    if resolved in _chain:
        raise ScenarioError(
            path,
            "extends",
            "inheritance cycle: " + " -> ".join(p.name for p in (*_chain, resolved)),
        )
    raw = _read_toml(path)
    parent = raw.pop("extends", None)
    merged: dict[str, Any] = {}
    prov: dict[str, str] = {}
    if parent is not None:
        if not isinstance(parent, str):
            raise ScenarioError(path, "extends", "must be a file name (string)")
        parent_path = path.parent / parent
        if not parent_path.exists():
            raise ScenarioError(path, "extends", f"file not found: {parent_path}")
        try:
            check_regular(parent_path, TEXT_LIMIT)
        except UnsafeFile as e:
            raise ScenarioError(
                path, "extends", f"{parent_path} {e}; scenario files must be regular files"
            ) from None
        merged, prov = read_raw(parent_path, (*_chain, resolved))
    _merge(merged, raw, str(path), prov)
    return merged, prov


def _source_of(loc: str, prov: Mapping[str, str], default: str) -> str:
    parts = loc.split(".")
    for i in range(len(parts), 0, -1):
        hit = prov.get(".".join(parts[:i]))
        if hit:
            return hit
    return default


def _readable_loc(raw: Any, loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a `--set` path: union-branch tags dropped, list items of
    named tables (agreements) shown by name rather than index."""
    parts: list[str] = []
    node = raw
    for p in loc:
        if isinstance(p, str) and "[" in p and p != "[key]":
            continue  # e.g. "list[literal[...]]": which branch of a union failed
        if isinstance(node, list) and isinstance(p, int) and -len(node) <= p < len(node):
            node = node[p]
            name = node.get("name") if isinstance(node, dict) else None
            parts.append(name if isinstance(name, str) and name else str(p))
            continue
        node = node.get(p) if isinstance(node, dict) else None
        parts.append(str(p))
    return ".".join(parts)


def _message(err: Mapping[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field (not a lever of this model; see `migsim levers`)"
    return str(err["msg"]).removeprefix("Value error, ")


def _first_failing_file(path: Path, loc: str, msg: str) -> str | None:
    """The first file of `path`'s `extends` chain (root first) after whose merge this
    error appears: a table-level error (e.g. a bad month key under `departures.level`) is
    blamed on the file that brought the bad key, not on the one that first set the table."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    p = path
    for _ in range(MAX_EXTENDS_DEPTH):
        raw = _read_toml(p)
        chain.append((p, raw))
        parent = raw.get("extends")
        if not isinstance(parent, str):
            break
        p = p.parent / parent
    merged = schema_defaults()
    for file, raw in reversed(chain):
        _merge(merged, {k: v for k, v in raw.items() if k != "extends"}, str(file), {})
        try:
            Scenario.model_validate(merged)
        except ValidationError as e:
            for err in e.errors():
                if _readable_loc(merged, err["loc"]) == loc and _message(err) == msg:
                    return str(file)
    return None


def _validate(
    raw: dict[str, Any], prov: Mapping[str, str], default_src: str, path: Path | None = None
) -> Scenario:
    try:
        return Scenario.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        loc = _readable_loc(raw, err["loc"])
        msg = _message(err)
        source = prov.get(loc)
        if source is None and path is not None:
            try:
                source = _first_failing_file(path, loc, msg)
            except ScenarioError:
                source = None
        raise ScenarioError(source or _source_of(loc, prov, default_src), loc, msg) from None


def parse_value(text: str) -> Any:
    """A --set value is read as a TOML value (number, bool, date, list); `none` clears an
    optional lever (TOML has no null); anything else is a string."""
    if text.strip().lower() in ("none", "null"):
        return None
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _apply_set(data: dict[str, Any], assignment: str) -> None:
    if "=" not in assignment:
        raise ScenarioError(SET_SOURCE, assignment, "expected KEY=VALUE")
    key, _, text = assignment.partition("=")
    key = key.strip()
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if part.lstrip("-").isdigit():
                idx = int(part)
                if not -len(node) <= idx < len(node):
                    raise ScenarioError(
                        SET_SOURCE, key, f"index {idx} out of range at {here} ({len(node)} items)"
                    )
            else:
                named = [
                    j
                    for j, item in enumerate(node)
                    if isinstance(item, dict) and item.get("name") == part
                ]
                if not named:
                    raise ScenarioError(SET_SOURCE, key, f"no item named {part!r} at {here}")
                idx = named[0]
            if last:
                node[idx] = parse_value(text)
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if part not in node:
                raise ScenarioError(
                    SET_SOURCE, key, f"no such lever {here!r} (see `migsim levers`)"
                )
            if last:
                node[part] = parse_value(text)
            else:
                node = node[part]
        else:
            raise ScenarioError(SET_SOURCE, key, f"{'.'.join(parts[:i])} is a value, not a table")


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python", by_alias=True)
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def schema_defaults() -> dict[str, Any]:
    """The default tables of every section, so a file that writes one key of a keyed table
    (e.g. `[receiving.guatemala] apply_share = 0.1`) keeps the other keys' defaults."""
    out: dict[str, Any] = {}
    for name, field in Scenario.model_fields.items():
        if field.is_required():
            continue
        value = field.get_default(call_default_factory=True)
        if isinstance(value, BaseModel | dict):
            out[name] = _dump(value)
    return out


def load_scenario(
    path: str | Path, overrides: Iterable[str] = (), seed: int | None = None
) -> Scenario:
    """Load, inherit, override and validate a scenario file."""
    raw, prov = read_raw(path)
    merged = schema_defaults()
    _merge(merged, raw, str(path), {})
    scenario = _validate(merged, prov, str(path), Path(path))
    overrides = list(overrides)
    if not overrides and seed is None:
        return scenario
    data = scenario.model_dump(mode="python", by_alias=True)
    for assignment in overrides:
        _apply_set(data, assignment)
    if seed is not None:
        data["seed"] = seed
    return _validate(data, {}, SET_SOURCE)


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A copy of `scenario` with dotted-path overrides applied (used by sweeps and notebooks)."""
    data = scenario.model_dump(mode="python", by_alias=True)
    for key, value in overrides.items():
        _apply_set(
            data, f"{key}={json.dumps(value) if isinstance(value, str) else _toml_literal(value)}"
        )
    return _validate(data, {}, SET_SOURCE)


def _toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return (
            "["
            + ", ".join(json.dumps(v) if isinstance(v, str) else _toml_literal(v) for v in value)
            + "]"
        )
    return str(value)


def resolved_dict(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as JSON-ready data (written beside every result)."""
    return scenario.model_dump(mode="json", by_alias=True)


def scenario_hash(scenario: Scenario) -> str:
    """A short, stable hash of the resolved scenario (seed included)."""
    blob = json.dumps(resolved_dict(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
