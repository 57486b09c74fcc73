"""One module per CLI command; each exposes `add_parser(subparsers)`.

To add a command, write a module here and list it in `COMMANDS`.
"""

from __future__ import annotations

COMMANDS: tuple[str, ...] = (
    "run",
    "check",
    "validate",
    "calibrate",
    "identify",
    "levers",
    "diff",
    "batch",
    "sweep",
    "sensitivity",
    "report",
    "backtest",
    "attribute",
    "explore",
)
