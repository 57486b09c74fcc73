"""Small HTML builders: escaped text, tables, figures with embedded PNGs, folded blocks.

Everything user- or file-supplied goes through `esc`; pre-built markup is wrapped in
`Html` so builders can tell the two apart and never escape twice or not at all. Images
become `data:` URIs, so the page needs no other file and no network.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TICKS = re.compile(r"`([^`]+)`")


class Html(str):
    """Markup that is already safe to insert as it is (`+` keeps it markup, escaping text)."""

    def __add__(self, other: object) -> Html:
        return Html(str.__add__(self, esc(other)))

    def __radd__(self, other: object) -> Html:
        return Html(str.__add__(esc(other), self))


Cell = str | Html


def esc(value: object) -> Html:
    """Text as HTML (an `Html` value is returned unchanged)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def tag(name: str, body: Cell = "", **attrs: str | None) -> Html:
    """`<name attrs>body</name>`; attribute names use `_` for `-` and `cls` for `class`."""
    parts = [name]
    for key, value in attrs.items():
        if value is None:
            continue
        key = "class" if key == "cls" else key.replace("_", "-")
        parts.append(f'{key}="{esc(value)}"')
    return Html(f"<{' '.join(parts)}>{esc(body)}</{name}>")


def join(items: Iterable[Cell]) -> Html:
    return Html("".join(esc(i) for i in items))


def rich(text: Cell) -> Html:
    """Plain text whose `backticked` spans become <code>, as in the README and CLI help."""
    if isinstance(text, Html):
        return text
    pieces = _TICKS.split(str(text))
    return join(code(p) if i % 2 else esc(p) for i, p in enumerate(pieces))


def paragraph(text: Cell, cls: str | None = None) -> Html:
    return tag("p", rich(text), cls=cls)


def note(text: Cell) -> Html:
    """A caveat the reader must not miss (single runs, fallbacks, missing files)."""
    return tag("p", rich(text), cls="note")


def code(text: object) -> Html:
    return tag("code", str(text))


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    numeric: Iterable[int] = (),
    caption: Cell | None = None,
    group_rows: dict[int, str] | None = None,
) -> Html:
    """A data table; columns in `numeric` are right-aligned with tabular figures.

    `group_rows` maps a row index to a heading row inserted before it (row groups).
    """
    num = set(numeric)
    head = join(
        tag("th", h, cls="num" if i in num else None, scope="col") for i, h in enumerate(header)
    )
    body: list[Html] = []
    groups = group_rows or {}
    for r, row in enumerate(rows):
        if r in groups:
            body.append(tag("tr", tag("th", groups[r], colspan=str(len(header))), cls="group"))
        cells = join(tag("td", c, cls="num" if i in num else None) for i, c in enumerate(row))
        body.append(tag("tr", cells))
    cap = tag("caption", caption) if caption is not None else Html("")
    inner = join([cap, tag("thead", tag("tr", head)), tag("tbody", join(body))])
    return tag("div", tag("table", inner, cls="data"), cls="scroll")


def key_values(pairs: Iterable[tuple[str, Cell]]) -> Html:
    """A two-column table of labelled facts (levers, versions)."""
    rows = join(tag("tr", tag("th", k, scope="row") + tag("td", v)) for k, v in pairs)
    return tag("div", tag("table", tag("tbody", rows), cls="facts"), cls="scroll")


def details(summary: Cell, body: Cell, is_open: bool = False) -> Html:
    """A folded block: long tables and raw JSON stay out of the way until asked for."""
    inner = tag("summary", rich(summary)) + esc(body)
    return Html(f"<details{' open' if is_open else ''}>{inner}</details>")


def preformatted(text: str) -> Html:
    return tag("pre", text)


def png_data_uri(path: Path) -> str | None:
    """The PNG as a `data:` URI, or None if the file is not a PNG (never a broken image),
    or not a regular file of at most 64 MB (a chart is never a device or a FIFO)."""
    from sim.safeio import MB, UnsafeFile, read_bytes

    try:
        data = read_bytes(path, 64 * MB)
    except (OSError, UnsafeFile):
        return None
    if not data.startswith(PNG_SIGNATURE):
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def figure(uri: str, caption: Cell, alt: str) -> Html:
    img = Html(f'<img src="{esc(uri)}" alt="{esc(alt)}" loading="eager">')
    return tag("figure", img + tag("figcaption", caption))
