"""Command line entry point: `migsim COMMAND ...` (also `python -m sim COMMAND ...`).

Bad input prints one line naming the file, the field and the problem, and exits with
status 2, leaving nothing behind. Commands live in `sim.commands`, one module each.
"""

from __future__ import annotations

import argparse
import errno
import gc
import importlib
import os
import sys
from collections.abc import Collection, Sequence

from sim.commands import COMMANDS
from sim.ownership import OutputError
from sim.scenario.loader import ScenarioError

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad command-line input that is not a scenario problem (exit status 2)."""


def comma_names(
    text: str | None, option: str, known: Collection[str], what: str, listing: str
) -> list[str] | None:
    """A comma-separated option naming `what`s (None when not given): each one known, none
    twice, at least one; `listing` says where the known names are."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError(f"{option}: give at least one {what}")
    for n in names:
        if n not in known:
            raise UsageError(f"{option}: unknown {what} {n!r} ({listing})")
    if len(set(names)) != len(names):
        raise UsageError(f"{option}: a {what} is given twice")
    return names


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: status 2 too
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"migsim: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="migsim", description="Simulate asylum-seeker flows under border policies.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"sim.commands.{name}").add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    finally:
        if argv is None:  # the program's own command line (`migsim`, `python -m sim`)
            _skip_final_collection()


def _skip_final_collection() -> None:
    """The process ends now: the objects left (a run's model and charts, some 200,000 in
    reference cycles) are frozen out of reach of the collection the interpreter makes on
    its way out, which costs ~0.2 s and frees nothing the OS would not. Every file is
    written and closed by then (results are renamed into place at the end)."""
    gc.freeze()


def _main(argv: Sequence[str] | None) -> int:
    # charts are files, never windows; worker processes inherit this
    os.environ.setdefault("MPLBACKEND", "Agg")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, UsageError, OutputError) as e:
        print(f"migsim: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        # disk full while writing (batch folders, reports): one line, no traceback; every
        # file is written to a temporary name and renamed, so nothing half-written is left
        where = e.filename or "the output folder"
        print(
            f"migsim: error: {where}: {os.strerror(e.errno)}; nothing was left "
            "half-written and earlier results are unchanged",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(
            "\nmigsim: interrupted; finished results are kept, no partial files were written",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
