"""Helpers for declaring levers: every field carries its unit and the source of its default.

`migsim levers` reads these from the pydantic schema, so the documentation cannot drift.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    """Base for scenario sections: immutable, and unknown keys are errors (typo protection)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


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
