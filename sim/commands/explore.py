"""`migsim explore [SCENARIO]`: serve the explore page on this machine (127.0.0.1).

The scenario is loaded and checked first (a bad file is the usual one-line error, exit
2), then the page is served until Ctrl-C. Dash is an optional extra, imported only here.
"""

from __future__ import annotations

import argparse
import errno
import logging
import socket
import sys
from pathlib import Path

from sim.cli import UsageError
from sim.scenario.loader import load_scenario

LOCAL = ("127.0.0.1", "localhost", "::1")
DEFAULT_SCENARIO = Path("scenarios/historical.toml")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not in 1-65535")
    return port


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explore",
        help="serve a local web page to move levers and compare runs with the baseline",
        description="Serves a page (Dash) where the scenario's levers can be changed and run "
        "beside the scenario as loaded, with the same seeds; needs `pip install -e "
        "'.[explore]'`. Listens on 127.0.0.1 unless --host says otherwise.",
    )
    p.add_argument(
        "scenario",
        type=Path,
        nargs="?",
        default=DEFAULT_SCENARIO,
        help=f"starting scenario (default {DEFAULT_SCENARIO})",
    )
    p.add_argument("--port", type=_port, default=8050, help="port (default 8050)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1: this machine only)",
    )
    p.set_defaults(func=cmd_explore)


def _check_port(host: str, port: int) -> None:
    """Refuse a port in use with one line, before Dash starts (it would print a page)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as e:
        why = "in use" if e.errno == errno.EADDRINUSE else (e.strerror or str(e))
        raise UsageError(f"cannot listen on {host}:{port}: {why}; try another --port") from None


def cmd_explore(args: argparse.Namespace) -> int:
    base = load_scenario(args.scenario)  # a bad file: the usual one line, exit 2
    try:
        import dash  # noqa: F401
    except ImportError:
        raise UsageError(
            "migsim explore needs Dash: pip install -e '.[explore]' (or 'migsim[explore]')"
        ) from None
    from sim.explore.app import Explorer, create_app

    if args.host not in LOCAL:
        print(
            f"migsim: warning: serving on {args.host}, not 127.0.0.1: anyone who can reach "
            f"this machine on port {args.port} can use the page and run simulations on it",
            file=sys.stderr,
        )
    _check_port(args.host, args.port)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    app = create_app(Explorer(args.scenario, base))
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"migsim explore: {base.name} at http://{shown}:{args.port}/ (Ctrl-C stops)", flush=True)
    app.run(host=args.host, port=args.port, debug=False)
    return 0
