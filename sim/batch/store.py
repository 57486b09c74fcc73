"""The batch folder on disk. Every file is written to a temporary sibling and moved into
place with `os.replace`, so an interrupted batch leaves finished files intact and never a
partial one; a finished run is simply `runs/<key>.parquet` being present.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

TMP_PREFIX = "."


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # not tempfile.mkstemp: its files are private (0600); these get the usual permissions
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: Path, obj: Any) -> None:
    write_bytes(path, (json.dumps(obj, indent=2, default=str) + "\n").encode())


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def write_with(path: Path, writer: Callable[[Path], None]) -> None:
    """Atomically write a file produced by `writer(tmp_path)` (e.g. a matplotlib savefig)."""
    with atomic_path(path) as tmp:
        writer(tmp)


class BatchFolder:
    """Paths and atomic writes for one batch folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"
        self.charts = self.root / "charts"

    def prepare(self) -> None:
        """Create the folder; remove temporary files left by a killed earlier batch."""
        self.runs.mkdir(parents=True, exist_ok=True)
        for folder in (self.root, self.runs, self.charts):
            if folder.is_dir():
                for stale in folder.glob(f"{TMP_PREFIX}*.tmp"):
                    stale.unlink(missing_ok=True)

    def run_path(self, key: str) -> Path:
        return self.runs / f"{key}.parquet"

    def error_path(self, key: str) -> Path:
        return self.runs / f"{key}.error.json"

    def finished(self, keys: set[str]) -> set[str]:
        """The keys among `keys` whose run file exists."""
        return {k for k in keys if self.run_path(k).is_file()}

    def save_run(self, key: str, data: bytes) -> None:
        write_bytes(self.run_path(key), data)
        self.error_path(key).unlink(missing_ok=True)

    def save_error(self, key: str, record: dict[str, Any]) -> None:
        write_json(self.error_path(key), record)

    def load_run(self, key: str) -> bytes:
        return self.run_path(key).read_bytes()
