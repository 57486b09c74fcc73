"""`migsim diff A.toml B.toml`: which levers differ between two scenarios.

Compares the resolved scenarios (after `extends` and `--set`), so it answers "what does
this counterfactual actually change?" without reading the inheritance chain by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.scenario.loader import load_scenario

ABSENT = object()
Row = tuple[str, Any, Any]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help="list the levers that differ between two scenarios")
    p.add_argument("a", type=Path, metavar="A.toml")
    p.add_argument("b", type=Path, metavar="B.toml")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a lever in both scenarios (repeatable)",
    )
    p.set_defaults(func=cmd_diff)


def cmd_diff(args: argparse.Namespace) -> int:
    sets = args.set or ()
    a = load_scenario(args.a, sets).model_dump(mode="python", by_alias=True)
    b = load_scenario(args.b, sets).model_dump(mode="python", by_alias=True)
    rows = diff(a, b)
    if not rows:
        print("no differences")
        return 0
    print(render_table(rows, f"A: {args.a.name}", f"B: {args.b.name}"))
    return 0


# ----------------------------------------------------------------------------- compare
def _is_table_list(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(i, dict) for i in x)


def _keyed(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Named tables (agreements) by name, as `--set` addresses them; other tables by index."""
    names = [i.get("name") for i in items]
    if all(isinstance(n, str) and n for n in names) and len(set(names)) == len(names):
        return dict(zip(names, items, strict=True))
    return {str(k): v for k, v in enumerate(items)}


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def flatten(x: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Leaves of a resolved scenario dict; lists of scalars stay whole (one lever value)."""
    if isinstance(x, dict) and x:
        for k, v in x.items():
            yield from flatten(v, _join(path, k))
    elif _is_table_list(x) and x:
        for k, v in _keyed(x).items():
            yield from flatten(v, _join(path, k))
    else:
        yield path, x


def diff(a: Any, b: Any, path: str = "") -> list[Row]:
    """(path, value in A, value in B) for every leaf that differs; ABSENT where missing."""
    if a is ABSENT or b is ABSENT:
        present, in_a = (b, False) if a is ABSENT else (a, True)
        return [(p, v, ABSENT) if in_a else (p, ABSENT, v) for p, v in flatten(present, path)]
    if isinstance(a, dict) and isinstance(b, dict):
        ka, kb = a, b
    elif _is_table_list(a) and _is_table_list(b):
        ka, kb = _keyed(a), _keyed(b)
    else:
        return [] if a == b else [(path, a, b)]
    keys = list(ka) + [k for k in kb if k not in ka]
    rows: list[Row] = []
    for k in keys:
        rows += diff(ka.get(k, ABSENT), kb.get(k, ABSENT), _join(path, k))
    return rows


# ----------------------------------------------------------------------------- output
def show(v: Any) -> str:
    """A value as it would be written in a scenario file."""
    if v is ABSENT:
        return "(absent)"
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, int | float):
        return repr(v)
    return json.dumps(v, default=str, ensure_ascii=False)


def render_table(rows: list[Row], head_a: str, head_b: str) -> str:
    """Aligned columns: path, value in A, value in B."""
    table = [("path", head_a, head_b), *((p, show(a), show(b)) for p, a, b in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(2)]
    lines = [f"{p:<{widths[0]}}  {a:<{widths[1]}}  {b}".rstrip() for p, a, b in table]
    lines.insert(1, f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * len(head_b)}")
    return "\n".join(lines)
