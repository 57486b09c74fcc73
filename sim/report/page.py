"""The page around the sections: one HTML file with its style inline and nothing else.

A Content-Security-Policy forbids every load except inline style and `data:` images, so
the file cannot reach the network even if a scenario description contains an address,
and no JavaScript runs (none is needed). Written atomically: temp file + `os.replace`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from sim.report.html import Html

GENERATOR = "migsim report"
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
:root { --ink: #1f2933; --muted: #5b6675; --rule: #d9dee5; --band: #f5f7fa;
        --accent: #0072B2; --warn: #E69F00; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
             Arial, "DejaVu Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 36px 72px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 8px; }
header .kind { text-transform: uppercase; letter-spacing: .08em; font-size: 12px;
               color: var(--accent); font-weight: 600; margin: 0; }
h1 { font-size: 28px; margin: 4px 0 6px; }
header .lede { font-size: 16px; margin: 0 0 10px; }
header .facts-line { color: var(--muted); margin: 0; font-size: 14px; }
nav { margin: 14px 0 8px; font-size: 14px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 18px; white-space: nowrap; }
h2 { font-size: 21px; margin: 40px 0 12px; padding-bottom: 4px;
     border-bottom: 1px solid var(--rule); }
h3 { font-size: 16px; margin: 26px 0 8px; }
p { margin: 8px 0; max-width: 80ch; }
.note { color: #4a3b12; background: #fff8e6; border-left: 4px solid var(--warn);
        padding: 8px 12px; max-width: none; }
.muted { color: var(--muted); font-size: 13px; }
.scroll { overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 14px; }
table.data th, table.data td { padding: 5px 12px; border-bottom: 1px solid var(--rule);
                               text-align: left; vertical-align: top; }
table.data thead th { border-bottom: 2px solid var(--ink); background: #fff;
                      font-weight: 600; vertical-align: bottom; }
table.data tbody tr:nth-child(even) td { background: var(--band); }
table.data tr.group th { background: #e8eef5; font-weight: 600; padding-top: 8px; }
table.data caption { caption-side: top; text-align: left; font-weight: 600;
                     padding: 4px 0 6px; }
table.facts th { text-align: left; font-weight: 600; padding: 4px 18px 4px 0;
                 vertical-align: top; white-space: nowrap; }
table.facts td { padding: 4px 0; vertical-align: top; }
th.num, td.num { text-align: right !important; }
td.num, table.data td:first-child { white-space: nowrap; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
            font-size: 13px; }
pre { background: var(--band); border: 1px solid var(--rule); padding: 12px;
      overflow-x: auto; max-height: 520px; }
figure { margin: 22px 0 30px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 14px; margin-top: 6px; }
details { margin: 8px 0 14px; }
details > summary { cursor: pointer; color: var(--accent); font-weight: 600; }
footer { margin-top: 56px; padding-top: 10px; border-top: 1px solid var(--rule);
         color: var(--muted); font-size: 13px; }
@media print {
  nav { display: none; }
  main { padding: 0; max-width: none; }
  figure, table { break-inside: avoid; }
  pre { max-height: none; }
}
"""


@dataclass
class Section:
    """One headed part of the report; `anchor` is its in-page id (for the contents line)."""

    anchor: str
    title: str
    body: Html


@dataclass
class Report:
    kind: str
    title: str
    lede: str = ""
    facts: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    footer: str = ""


def render(report: Report) -> str:
    """The whole page as a string, from `templates/page.html.j2` (autoescape on)."""
    from sim.report.templating import render_template

    return render_template(
        "page.html.j2",
        report=report,
        csp=CSP,
        generator=GENERATOR,
        style=Markup(STYLE),
    )


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` in one step: a reader never sees a half-written report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp files are private; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
