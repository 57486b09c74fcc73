"""Errors of batch options that are not scenario problems (the CLI exits with status 2)."""

from __future__ import annotations


class BatchUsageError(Exception):
    """Conflicting options, an unknown reference, or a missing optional extra."""
