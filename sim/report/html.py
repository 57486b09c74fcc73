"""Small HTML builders: escaped text, tables, figures with embedded PNGs, folded blocks.

Everything user- or file-supplied goes through `esc` or a Jinja2 template with autoescape
(`templating`); pre-built markup is `Html` (a `markupsafe.Markup`), so builders and
templates can tell the two apart and never escape twice or not at all. Tables, fact lists,
folded blocks and figures come from templates in `templates/`. Images
become `data:` URIs, so the page needs no other file and no network.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import markupsafe
from markupsafe import Markup

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TICKS = re.compile(r"`([^`]+)`")


class Html(Markup):
    """Markup that is already safe to insert as it is (`+` keeps it markup, escaping text;
    Jinja2's autoescape leaves it as it is)."""


Cell = str | Html


def esc(value: object) -> Html:
    """Text as HTML (an `Html` value is returned unchanged)."""
    if isinstance(value, Html):
        return value
    return Html(markupsafe.escape("" if value is None else str(value)))


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
    return _template(
        "table.html.j2",
        header=list(header),
        rows=[list(r) for r in rows],
        numeric=set(numeric),
        caption=caption,
        groups=group_rows or {},
    )


def key_values(pairs: Iterable[tuple[str, Cell]]) -> Html:
    """A two-column table of labelled facts (levers, versions)."""
    return _template("facts.html.j2", pairs=list(pairs))


def details(summary: Cell, body: Cell, is_open: bool = False) -> Html:
    """A folded block: long tables and raw JSON stay out of the way until asked for."""
    return _template("details.html.j2", summary=rich(summary), body=esc(body), is_open=is_open)


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
    return _template("figure.html.j2", uri=uri, caption=caption, alt=alt)


def _template(name: str, **values: object) -> Html:
    """A block from its Jinja2 template (`sim.report.templating`, autoescape on)."""
    from sim.report.templating import render_template

    return Html(render_template(name, **values).strip("\n"))
