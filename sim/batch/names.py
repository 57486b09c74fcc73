"""Names of batch and sweep points a reader can use: a sweep point is named by its lever
values ("weekly_cap 1,000 · groups single_adult+family"), not by its row id `p003`, and
points with identical scenarios (a Morris design repeats grid points) are told apart from
distinct ones, so charts draw each scenario once and reports say which ids coincide.

Works on point records as the manifest stores them (`point`, `hash`, `levers`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def value_text(value: Any) -> str:
    """A lever value in words: lists joined by '+', numbers with thousands separators."""
    if isinstance(value, list | tuple):
        return "+".join(value_text(v) for v in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:g}"
    return str(value)


def point_name(record: Mapping[str, Any]) -> str:
    """Lever values for a sweep point, the label for a batch scenario."""
    levers = record.get("levers") or {}
    if not isinstance(levers, Mapping) or not levers:
        return str(record.get("point", "?"))
    return " · ".join(f"{k} {value_text(v)}" for k, v in levers.items())


def names(records: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {str(r.get("point")): point_name(r) for r in records}


def same_as(records: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Point label -> the first point with the same scenario hash (only for repeats)."""
    first: dict[str, str] = {}
    out: dict[str, str] = {}
    for r in records:
        label, h = str(r.get("point")), r.get("hash")
        if h is None:
            continue
        if h in first:
            out[label] = first[h]
        else:
            first[str(h)] = label
    return out


def distinct(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Labels of the points whose scenario no earlier point has, in design order."""
    repeats = same_as(records)
    return [str(r.get("point")) for r in records if str(r.get("point")) not in repeats]
