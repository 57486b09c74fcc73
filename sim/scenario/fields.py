"""Helpers for declaring levers: every field carries its unit and the source of its default.

`migsim levers` reads these from the pydantic schema, so the documentation cannot drift.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


def _numeric(tp: Any) -> bool:
    """Whether a field type is, or holds, plain numbers (int/float; not models or literals)."""
    if tp in (int, float):
        return True
    origin = typing.get_origin(tp)
    if origin is typing.Literal or (isinstance(tp, type) and issubclass(tp, BaseModel)):
        return False
    if origin in (list, dict, tuple, typing.Union, types.UnionType, typing.Annotated):
        return any(_numeric(a) for a in typing.get_args(tp) if a is not type(None))
    return False


def _holds_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, list | tuple):
        return any(_holds_bool(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_bool(v) for v in value.values())
    return False


class Frozen(BaseModel):
    """Base for scenario sections: immutable, and unknown keys are errors (typo protection).

    Every number is finite (`inf`, `nan` and `1e400`, which TOML reads as inf, are refused)
    and a boolean is never taken for a number (pydantic would read `true` as 1).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name and _holds_bool(value):
            field = cls.model_fields.get(info.field_name)
            if field is not None and _numeric(field.annotation):
                raise ValueError("must be a number, not true/false")
        return value


def lever(
    default: Any = ...,
    *,
    unit: str = "",
    source: str = "",
    doc: str = "",
    default_factory: Any = None,
    **constraints: Any,
) -> Any:
    """A pydantic Field documented with a unit and the source of its default."""
    extra = {"unit": unit, "source": source}
    if default_factory is not None:
        return Field(
            default_factory=default_factory,
            description=doc,
            json_schema_extra=extra,
            **constraints,
        )
    return Field(default, description=doc, json_schema_extra=extra, **constraints)
