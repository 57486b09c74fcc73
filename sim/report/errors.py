"""The one error a report can end with: a folder it cannot be made from."""

from __future__ import annotations


class ReportError(Exception):
    """Bad input (missing folder, not a results folder, unreadable file): the CLI prints
    the message as one line and exits with status 2."""
