"""Bounded reads: input files must be regular files under a size limit (issue 10).

A path such as `/dev/zero`, `/dev/urandom` or a FIFO is refused from its `os.stat` before
anything is read (a FIFO is opened non-blocking, so it can never hang), and at most
`limit + 1` bytes are ever read, so no input file can exhaust memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MB = 1024 * 1024
#: scenario files, their `extends` parents, sweep files, manifests, markers
TEXT_LIMIT = 5 * MB
#: manifest.json files (a sweep's lists every design point with its resolved scenario)
MANIFEST_LIMIT = 64 * MB
#: tables and charts that `migsim report` reads from a results folder
DATA_LIMIT = 512 * MB


class UnsafeFile(Exception):
    """The file is not a regular file, or larger than allowed; the message says which."""


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n:,} bytes"


def check_regular(path: str | Path, limit: int = TEXT_LIMIT) -> os.stat_result:
    """`os.stat` of `path` if it is a regular file of at most `limit` bytes, else
    `UnsafeFile` (`OSError`, e.g. FileNotFoundError, propagates)."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFile(f"is {_kind(st.st_mode)}, not a regular file")
    if st.st_size > limit:
        raise UnsafeFile(f"is {_size(st.st_size)}, larger than the {_size(limit)} allowed")
    return st


def read_bytes(path: str | Path, limit: int = TEXT_LIMIT) -> bytes:
    """The contents of a regular file of at most `limit` bytes (`UnsafeFile` otherwise)."""
    check_regular(path, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)  # the file may have been swapped since the stat
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFile(f"is {_kind(st.st_mode)}, not a regular file")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, MB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise UnsafeFile(f"is larger than the {_size(limit)} allowed")
    return data


def read_text(path: str | Path, limit: int = TEXT_LIMIT) -> str:
    """`read_bytes` decoded as UTF-8 (a leading byte-order mark is dropped)."""
    return read_bytes(path, limit).decode("utf-8").removeprefix("\ufeff")
