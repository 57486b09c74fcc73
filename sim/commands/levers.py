"""`migsim levers`: every scenario lever with its type, unit, default, bounds and source.

Generated from the pydantic schema (`sim.scenario.introspect`), never from a hand-kept
list, so `docs/levers.md` (written by `--markdown --out docs/levers.md`) is always what the
model accepts. `--markdown` alone prints: a command that looks like a listing must not
rewrite a tracked file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.scenario.introspect import REQUIRED, Lever, by_section, levers, section_docs

COLUMNS = ("Lever", "Type", "Unit", "Default", "Bounds", "Source of default", "Description")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("levers", help="list every scenario lever (type, unit, default, source)")
    p.add_argument(
        "--markdown",
        action="store_true",
        help="print a markdown document (the one in docs/levers.md) instead of the listing",
    )
    p.add_argument(
        "--out",
        "--output",
        dest="out",
        type=Path,
        metavar="FILE",
        help="write the markdown document to FILE instead of printing it ('-' = stdout); "
        "implies --markdown",
    )
    p.set_defaults(func=cmd_levers)


def cmd_levers(args: argparse.Namespace) -> int:
    if not (args.markdown or args.out):
        print(render_text(), end="")
        return 0
    text = render_markdown()
    out = args.out
    if out is None or str(out) == "-":
        print(text, end="")
        return 0
    from sim.ownership import check_output_file

    check_output_file(out, "levers document", (INTRO.splitlines()[0] + "\n",))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(levers())} levers)")
    return 0


# ----------------------------------------------------------------------------- text
def _text_block(lv: Lever) -> list[str]:
    default = lv.default if lv.default == REQUIRED else f"default {lv.default}"
    facts = [lv.type + (f", {lv.unit}" if lv.unit else ""), default]
    if lv.bounds:
        facts.append(lv.bounds)
    lines = [lv.path, "    " + "; ".join(facts)]
    if lv.doc:
        lines.append(f"    {lv.doc}")
    if lv.source:
        lines.append(f"    source: {lv.source}")
    return lines


def render_text() -> str:
    """Terminal listing: a block per lever, grouped by section."""
    docs = section_docs()
    lines: list[str] = []
    for section, items in by_section(levers()).items():
        head = f"== {section} =="
        lines += ["", head + (f"  {docs[section]}" if docs.get(section) else "")]
        for lv in items:
            lines += _text_block(lv)
    return "\n".join(lines).lstrip("\n") + "\n"


# ----------------------------------------------------------------------------- markdown
def _cell(text: str, code: bool = False) -> str:
    text = text.replace("\n", " ").replace("|", "\\|")
    return f"`{text}`" if code and text else text


def _row(lv: Lever) -> str:
    cells = [
        _cell(lv.path, code=True),
        _cell(lv.type, code=True),
        _cell(lv.unit),
        _cell(lv.default, code=True),
        _cell(lv.bounds, code=True),
        _cell(lv.source),
        _cell(lv.doc),
    ]
    return "| " + " | ".join(cells) + " |"


INTRO = """\
# Scenario levers

Generated from the scenario schema (`sim/scenario/schema.py`) by
`migsim levers --markdown --out docs/levers.md`; do not edit by hand (a test fails when this file is out of date).

Paths are those of scenario files and `--set`: `deterrence.effect` is `effect` in the
`[deterrence]` table. `[]` marks the items of a list of tables (in `--set`, an index such as
`phase_in.0`, or for agreements the agreement's name: `agreements.guatemala.phase_in.0.weekly_cap`);
`<nationality>`, `<country>`, ... mark the keys of a table keyed by those values.

Default: for fields inside tables, the value in the default tables (per key or index where
they differ), then "if omitted:" the value an item without a default of its own (a new list
item, such as a phase-in step) gets when it leaves the field out ("required" = it must be
given). Tables written in a scenario file are merged key by key onto these defaults and onto
the tables inherited through `extends`, so a field left out keeps its default for that key;
lists (such as `agreements`) replace the inherited list. Bounds are enforced when a scenario
is loaded.
"""


def render_markdown() -> str:
    """The docs/levers.md document: one table per section."""
    docs = section_docs()
    parts = [INTRO]
    for section, items in by_section(levers()).items():
        parts.append(f"## {section}\n")
        if docs.get(section):
            parts.append(f"{docs[section]}\n")
        table = [
            "| " + " | ".join(COLUMNS) + " |",
            "|" + "|".join("---" for _ in COLUMNS) + "|",
            *(_row(lv) for lv in items),
        ]
        parts.append("\n".join(table) + "\n")
    return "\n".join(parts)
