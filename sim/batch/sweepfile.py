"""Sweep files: a base scenario, the levers to vary, and a design (grid or Latin hypercube).

A sweep file is validated like a scenario: unknown keys, lever paths that do not exist in
the base scenario and values outside a lever's bounds become a `ScenarioError` naming the
file and the field (`levers.0.max`), which the CLI prints as one line with exit status 2.
Every design point is the base scenario with the lever values applied through the same
path syntax as `--set`, so it keeps the base seed: replications are paired across points.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from sim.batch.design import Point
from sim.batch.series import known_indicators
from sim.safeio import UnsafeFile, read_text
from sim.scenario.fields import Frozen
from sim.scenario.loader import ScenarioError, load_scenario, parse_value, with_overrides
from sim.scenario.schema import Scenario

NAME = r"^[A-Za-z0-9_.-]+$"


# ----------------------------------------------------------------------------- file schema
class LeverSpec(Frozen):
    """A lever to vary: explicit `values`, or a `min`..`max` range (`steps` for a grid)."""

    path: str = Field(min_length=1, description="a `--set` path, e.g. deterrence.effect")
    name: str | None = Field(None, pattern=NAME, description="column label (default: path)")
    values: list[Any] | None = Field(None, min_length=1)
    min: float | None = None
    max: float | None = None
    steps: int | None = Field(None, ge=2)

    @model_validator(mode="after")
    def _range(self) -> LeverSpec:
        ranged = self.min is not None or self.max is not None or self.steps is not None
        if self.values is not None and ranged:
            raise ValueError("give either `values` or `min`/`max`, not both")
        if self.values is None:
            if self.min is None or self.max is None:
                raise ValueError("needs `values`, or both `min` and `max`")
            if self.min > self.max:
                raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self

    @property
    def label(self) -> str:
        return self.name or self.path


class DesignSpec(Frozen):
    """`grid`: every combination of lever values; `lhs`: a seeded Latin hypercube."""

    kind: Literal["grid", "lhs"] = "grid"
    points: int | None = Field(None, ge=1, description="number of points (lhs only)")
    seed: int = Field(0, ge=0, description="seed of the Latin hypercube (not of the runs)")

    @model_validator(mode="after")
    def _points(self) -> DesignSpec:
        if self.kind == "lhs" and self.points is None:
            raise ValueError("a Latin hypercube needs `points`")
        if self.kind == "grid" and self.points is not None:
            raise ValueError("`points` applies to kind = 'lhs' only (a grid has all combinations)")
        return self


class SensitivitySpec(Frozen):
    """Settings for `migsim sensitivity` (SALib): outcomes and sample sizes."""

    outcomes: list[str] = Field(
        default_factory=lambda: ["encounters", "transferred", "peak_in_custody"], min_length=1
    )
    trajectories: int = Field(10, ge=2, description="Morris trajectories")
    levels: int = Field(4, ge=2, description="Morris grid levels")
    samples: int = Field(64, ge=2, description="Sobol base sample size (a power of two)")
    seed: int = Field(0, ge=0)
    reps: int | None = Field(
        None, ge=1, description="replications per sample point (default: reps)"
    )

    @field_validator("outcomes")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        known = known_indicators()
        for o in v:
            if o not in known:
                raise ValueError(
                    f"unknown outcome {o!r} (a flow such as 'encounters', or 'peak_<stock>' / '<stock>_end')"
                )
        return v

    @field_validator("samples")
    @classmethod
    def _power_of_two(cls, v: int) -> int:
        if v & (v - 1):
            raise ValueError(f"{v} is not a power of two (Sobol sequences need one)")
        return v


class SweepSpec(Frozen):
    name: str = Field(pattern=NAME)
    description: str = ""
    base: str = Field(description="base scenario file, relative to the sweep file")
    reps: int = Field(10, ge=1)
    set_: dict[str, Any] = Field(default_factory=dict, alias="set")
    levers: list[LeverSpec] = Field(min_length=1)
    design: DesignSpec = Field(default_factory=DesignSpec)
    sensitivity: SensitivitySpec = Field(default_factory=SensitivitySpec)

    @model_validator(mode="after")
    def _levers(self) -> SweepSpec:
        labels = [lv.label for lv in self.levers]
        if len(set(labels)) != len(labels):
            raise ValueError(f"lever names must be unique, got {labels}")
        return self


# ----------------------------------------------------------------------------- resolved
@dataclass(frozen=True)
class Lever:
    """A validated lever: where it is, its values or range, and whether it is an integer."""

    index: int
    path: str
    label: str
    values: tuple[Any, ...] | None
    low: float | None
    high: float | None
    steps: int | None
    integer: bool

    def coerce(self, x: float) -> int | float:
        return int(round(x)) if self.integer else float(x)

    def grid(self) -> list[Any]:
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None and self.steps is not None
        return [self.coerce(x) for x in np.linspace(self.low, self.high, self.steps)]

    def at(self, u: float) -> Any:
        """The value at position u in [0, 1] of the lever's range (or of its value list)."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        assert self.low is not None and self.high is not None
        return self.coerce(self.low + u * (self.high - self.low))


@dataclass(frozen=True)
class Sweep:
    path: Path
    spec: SweepSpec
    base: Scenario
    base_path: Path
    levers: tuple[Lever, ...]

    @property
    def reps(self) -> int:
        return self.spec.reps

    def point(self, i: int, values: Sequence[Any]) -> Point:
        """Design point i: the base scenario with one value per lever."""
        assignment = {lv.path: v for lv, v in zip(self.levers, values, strict=True)}
        label = f"p{i:03d}"
        try:
            scenario = with_overrides(self.base, assignment)
        except ScenarioError as e:
            where = ", ".join(
                f"{lv.label}={v!r}" for lv, v in zip(self.levers, values, strict=True)
            )
            raise ScenarioError(self.path, f"design point {label} ({where})", e.problem) from None
        levers = {lv.label: v for lv, v in zip(self.levers, values, strict=True)}
        return Point(label, scenario, levers, str(self.path))

    def unit_points(self, unit: np.ndarray) -> list[Point]:
        """Points from rows of a [0, 1]^k sample (Latin hypercube, Morris, Sobol)."""
        return [
            self.point(i, [lv.at(float(u)) for lv, u in zip(self.levers, row, strict=True)])
            for i, row in enumerate(unit)
        ]

    def design_points(self) -> list[Point]:
        d = self.spec.design
        if d.kind == "grid":
            for lv in self.levers:
                if lv.values is None and lv.steps is None:
                    raise ScenarioError(
                        self.path,
                        f"levers.{lv.index}",
                        "a grid needs `values`, or `min`, `max` and `steps`",
                    )
            combos = itertools.product(*(lv.grid() for lv in self.levers))
            return [self.point(i, list(c)) for i, c in enumerate(combos)]
        assert d.points is not None
        return self.unit_points(latin_hypercube(len(self.levers), d.points, d.seed))


def latin_hypercube(dims: int, n: int, seed: int) -> np.ndarray:
    """n points in [0, 1)^dims, one per stratum of every dimension (scipy.stats.qmc)."""
    from scipy.stats import qmc

    try:
        sampler = qmc.LatinHypercube(d=dims, rng=seed)
    except TypeError:  # scipy < 1.15 calls it `seed`
        sampler = qmc.LatinHypercube(d=dims, seed=seed)
    return sampler.random(n)


# ----------------------------------------------------------------------------- loading
def load_sweep(
    path: str | Path, overrides: Mapping[str, Any] | None = None, reps: int | None = None
) -> Sweep:
    """Read and validate a sweep file; `overrides` (dotted paths, e.g. from `--set`) are
    applied to the base scenario after the file's own `[set]` table."""
    path = Path(path)
    spec = _parse(path)
    base_path = path.parent / spec.base
    if not base_path.is_file():
        raise ScenarioError(path, "base", f"file not found: {base_path}")
    base = load_scenario(base_path)
    base = _apply(base, _flatten(spec.set_), path, "set")
    base = _apply(base, dict(overrides or {}), "--set", "")
    if reps is not None:
        spec = spec.model_copy(update={"reps": reps})
    data = base.model_dump(mode="python", by_alias=True)
    levers = tuple(
        _resolve(i, lv, spec.design.kind, data, base, path) for i, lv in enumerate(spec.levers)
    )
    return Sweep(path, spec, base, base_path, levers)


def _parse(path: Path) -> SweepSpec:
    try:
        raw = tomllib.loads(read_text(path))  # a regular file of at most 5 MB
    except FileNotFoundError:
        raise ScenarioError(path, "", "file not found") from None
    except UnsafeFile as e:
        raise ScenarioError(path, "", f"{e}; sweep files must be regular files") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(path, "", f"cannot read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(path, "", f"TOML syntax error: {e}") from None
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (a sweep file has name, description, base, reps, set, levers, design, sensitivity)"
        raise ScenarioError(path, loc, msg) from None


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in table.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def parse_sets(assignments: Iterable[str]) -> dict[str, Any]:
    """`--set KEY=VALUE` strings as a mapping of dotted paths to values."""
    out: dict[str, Any] = {}
    for a in assignments:
        if "=" not in a:
            raise ScenarioError("--set", a, "expected KEY=VALUE")
        key, _, text = a.partition("=")
        out[key.strip()] = parse_value(text)
    return out


def _apply(base: Scenario, assignment: dict[str, Any], source: str | Path, field: str) -> Scenario:
    """All overrides at once (levers that must change together can); errors name `source`."""
    if not assignment:
        return base
    try:
        return with_overrides(base, assignment)
    except ScenarioError as e:
        raise ScenarioError(source, f"{field}.{e.field}" if field else e.field, e.problem) from None


def lookup(data: Any, path: str) -> Any:
    """The value at a `--set` path (list items by index or by their `name`); KeyError if none."""
    node = data
    for i, part in enumerate(path.split(".")):
        here = ".".join(path.split(".")[: i + 1])
        if isinstance(node, list):
            if part.lstrip("-").isdigit():
                idx = int(part)
                if not -len(node) <= idx < len(node):
                    raise KeyError(f"index {idx} out of range at {here} ({len(node)} items)")
                node = node[idx]
            else:
                named = [x for x in node if isinstance(x, dict) and x.get("name") == part]
                if not named:
                    raise KeyError(f"no item named {part!r} at {here}")
                node = named[0]
        elif isinstance(node, dict):
            if part not in node:
                raise KeyError(f"no such lever {here!r} in the base scenario (see `migsim levers`)")
            node = node[part]
        else:
            raise KeyError(f"{here} is inside a value, not a table")
    return node


def _resolve(
    i: int, spec: LeverSpec, kind: str, data: dict[str, Any], base: Scenario, path: Path
) -> Lever:
    where = f"levers.{i}"
    try:
        current = lookup(data, spec.path)
    except KeyError as e:
        raise ScenarioError(path, f"{where}.path", e.args[0]) from None
    if kind != "grid" and spec.steps is not None:
        raise ScenarioError(path, f"{where}.steps", "`steps` applies to a grid only")
    integer = isinstance(current, int) and not isinstance(current, bool)
    lever = Lever(
        i,
        spec.path,
        spec.label,
        tuple(spec.values) if spec.values is not None else None,
        spec.min,
        spec.max,
        spec.steps,
        integer,
    )
    checks: list[tuple[str, Any]]
    if lever.values is not None:
        checks = [("values", v) for v in lever.values]
    else:
        checks = [("min", lever.at(0.0)), ("max", lever.at(1.0))]
    for field, value in checks:
        try:
            with_overrides(base, {spec.path: value})
        except ScenarioError as e:
            raise ScenarioError(
                path, f"{where}.{field}", f"{spec.path} = {value!r}: {e.problem}"
            ) from None
    return lever
