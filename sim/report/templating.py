"""The Jinja2 templates of the report (`sim/report/templates/`), with autoescape on.

Every value a template prints is escaped unless it is `Html` (a `markupsafe.Markup`):
markup built by `sim.report.html` from escaped parts. So text from a scenario file or a
manifest can never become markup, whichever builder or template it passes through.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2


@cache
def environment() -> jinja2.Environment:
    """One environment per process (it caches compiled templates; nothing else is kept)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sim.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render_template(name: str, **values: Any) -> str:
    return environment().get_template(name).render(**values)
