"""The batch folder on disk. Every file is written to a temporary sibling and moved into
place with `os.replace`, so an interrupted batch leaves finished files intact and never a
partial one.

A finished run is `runs/<key>.parquet` whose Parquet schema metadata (key `migsim.run`)
records what it is: the scenario hash, seed and replication, and the sha256 of its table
content. A resumed batch verifies every stored run against the run it expects
(`verify_run`); one that is unreadable, truncated, empty, without that record, of another
scenario or replication, or whose content does not match its checksum is recomputed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

TMP_PREFIX = "."
RUN_META_KEY = b"migsim.run"
RUN_META_FORMAT = 1


class DamagedRun(Exception):
    """A stored run that cannot be used (the message says why, in a few words)."""


def content_digest(frame: pd.DataFrame) -> str:
    """sha256 of a table's columns, dtypes and values (independent of how it is encoded)."""
    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def stamp_run(data: bytes, record: dict[str, Any]) -> tuple[bytes, pd.DataFrame]:
    """The Parquet bytes `data` with `record` and the content checksum in the schema
    metadata, and the table as it reads back (what the checksum is of)."""
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    frame = table.to_pandas()
    meta = {**record, "format": RUN_META_FORMAT, "rows": len(frame)}
    meta["sha256"] = content_digest(frame)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), RUN_META_KEY: json.dumps(meta).encode()}
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue(), frame


def verify_run(data: bytes, expected: dict[str, Any]) -> pd.DataFrame:
    """The daily table of stored run bytes, if they are the run `expected` describes
    (its `hash`, `seed`, `replication`); else `DamagedRun`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not data:
        raise DamagedRun("empty")
    try:
        table = pq.read_table(io.BytesIO(data))
        frame = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError, TypeError, KeyError) as e:
        raise DamagedRun(
            f"not a readable Parquet file, truncated or damaged ({type(e).__name__})"
        ) from None
    raw = (table.schema.metadata or {}).get(RUN_META_KEY)
    try:
        meta = json.loads(raw) if raw is not None else None
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise DamagedRun("it records no run metadata (written by another program or version)")
    for field in ("hash", "seed", "replication"):
        if meta.get(field) != expected[field]:
            raise DamagedRun(
                f"it holds {field} {meta.get(field)!r}, not {expected[field]!r} "
                "(a copy of another run?)"
            )
    if meta.get("rows") != len(frame) or meta.get("sha256") != content_digest(frame):
        raise DamagedRun("its content does not match its checksum")
    return frame


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
        """The keys among `keys` whose run file exists (not verified: see `load_verified`)."""
        return {k for k in keys if self.run_path(k).is_file()}

    def load_verified(self, key: str, expected: dict[str, Any]) -> pd.DataFrame:
        """The daily table of the stored run `key`, verified (`verify_run`); `DamagedRun`
        if it is missing, not a regular file, unreadable or not the run `expected`."""
        path = self.run_path(key)
        if not path.is_file():
            raise DamagedRun("missing" if not path.exists() else "not a regular file")
        try:
            data = path.read_bytes()
        except OSError as e:
            raise DamagedRun(f"unreadable ({e.strerror})") from None
        return verify_run(data, expected)

    def save_run(self, key: str, data: bytes) -> None:
        write_bytes(self.run_path(key), data)
        self.error_path(key).unlink(missing_ok=True)

    def save_error(self, key: str, record: dict[str, Any]) -> None:
        write_json(self.error_path(key), record)

    def load_run(self, key: str) -> bytes:
        return self.run_path(key).read_bytes()
