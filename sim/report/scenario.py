"""The scenario section: what was simulated, its key levers, and how it differs from the
scenario it extends (the question a colleague asks first: "what did you change?")."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sim.commands.diff import diff
from sim.commands.diff import show as diff_show
from sim.report.html import (
    Html,
    code,
    details,
    join,
    key_values,
    note,
    paragraph,
    preformatted,
    table,
    tag,
)
from sim.report.levers import key_levers
from sim.scenario.parent import Parent

LONG_DIFF = 25  # more rows than this: a per-section count first, the full list folded
MAX_POINTS = 8  # batch points whose differences are listed (a sweep can have hundreds)


def show(value: Any) -> str:
    """A lever value as `migsim diff` writes it, but strings unquoted and floats rounded."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.12g}"  # a swept 0.30000000000000004 reads 0.3
    return diff_show(value)


def _section_counts(rows: Sequence[tuple[str, Any, Any]]) -> Html:
    counts = Counter(path.split(".")[0] for path, _, _ in rows)
    return table(
        ["Section", "Levers that differ"],
        [[section, str(n)] for section, n in counts.items()],
        numeric=[1],
    )


def differences(child: Mapping[str, Any], parent: Parent) -> Html:
    """Notes on the comparison, then the levers that differ (parent value, this value)."""
    parts: list[Html] = [note(n[0].upper() + n[1:] + ".") for n in parent.notes]
    if parent.resolved is None:
        return join(parts)
    rows = diff(parent.resolved, dict(child))
    if not rows:
        parts.append(paragraph(f"No lever differs from {parent.label}."))
        return join(parts)
    full = table(
        ["Lever", parent.label, "This scenario"],
        [[code(p), show(a), show(b)] for p, a, b in rows],
    )
    if len(rows) <= LONG_DIFF:
        parts.append(full)
    else:
        parts.append(paragraph(f"{len(rows)} lever values differ from {parent.label}:"))
        parts.append(_section_counts(rows))
        parts.append(details(f"All {len(rows)} differences", full))
    return join(parts)


def resolved_json(resolved: Mapping[str, Any]) -> Html:
    """The full resolved scenario, folded: enough to rerun it without the original files."""
    text = json.dumps(resolved, indent=2, ensure_ascii=False, default=str)
    return details("Resolved scenario (JSON, after `extends` and `--set`)", preformatted(text))


def single(
    resolved: Mapping[str, Any], parent: Parent, origin: Sequence[tuple[str, str]] = ()
) -> Html:
    """Section body for one scenario (a run or a validation)."""
    facts = [("Name", str(resolved.get("name", "?")))]
    if resolved.get("description"):
        facts.append(("Description", str(resolved["description"])))
    facts += list(origin)
    return join(
        [
            key_values(facts),
            tag("h3", "Key levers"),
            key_values(key_levers(resolved)),
            tag("h3", f"Differences from {parent.label}"),
            differences(resolved, parent),
            resolved_json(resolved),
        ]
    )


def levers_compared(points: Sequence[tuple[str, Mapping[str, Any]]]) -> Html:
    """Key levers of several scenarios: those they share once, then a row per scenario
    with only the levers that differ (readable for two scenarios or a hundred points)."""
    per_point = [dict(key_levers(resolved)) for _, resolved in points]
    labels = list(dict.fromkeys(label for lv in per_point for label in lv))
    values = {label: [lv.get(label, "–") for lv in per_point] for label in labels}
    shared = [(label, v[0]) for label, v in values.items() if len(set(v)) == 1]
    differ = [label for label, v in values.items() if len(set(v)) > 1]
    parts: list[Html] = []
    if differ:
        rows = [
            [name, *(values[label][i] for label in differ)] for i, (name, _) in enumerate(points)
        ]
        parts.append(table(["Scenario", *differ], rows, caption="Levers that differ"))
    else:
        parts.append(paragraph("The scenarios share every key lever."))
    if shared:
        parts.append(tag("h3", "Key levers they share"))
        parts.append(key_values(shared))
    return join(parts)
