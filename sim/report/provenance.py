"""The manifest section: versions, commit, seeds, scenario hash and run time, so anyone
holding the file can cite the results and reproduce them."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.report.html import Cell, Html, code, details, join, key_values, preformatted

BULKY = ("scenario", "resolved")  # shown in the scenario section, left out of the raw JSON


def software(manifest: Mapping[str, Any]) -> list[tuple[str, Cell]]:
    """migsim version and commit, Python, platform, package versions (what is recorded)."""
    rows: list[tuple[str, Cell]] = []
    if "migsim_version" in manifest:
        rows.append(("migsim", str(manifest["migsim_version"])))
    commit = manifest.get("git_commit")
    if "git_commit" in manifest:
        rows.append(("Git commit", code(commit) if commit else "not recorded (not a git checkout)"))
    for key, label in (("python", "Python"), ("platform", "Platform")):
        if manifest.get(key):
            rows.append((label, str(manifest[key])))
    packages = manifest.get("packages")
    if isinstance(packages, Mapping) and packages:
        rows.append(("Packages", ", ".join(f"{k} {v or '–'}" for k, v in packages.items())))
    return rows


def written_at(folder: Path) -> str:
    """When the folder's manifest (or the folder) was last written, UTC."""
    path = folder / "manifest.json"
    stamp = (path if path.exists() else folder).stat().st_mtime
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _without_bulk(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_bulk(v) for k, v in value.items() if k not in BULKY}
    if isinstance(value, list):
        return [_without_bulk(v) for v in value]
    return value


def raw_manifest(manifest: Mapping[str, Any]) -> Html:
    """manifest.json as written (resolved scenarios left out: they are above), folded."""
    text = json.dumps(_without_bulk(copy.deepcopy(dict(manifest))), indent=2, default=str)
    return details("manifest.json (without the resolved scenarios)", preformatted(text))


def manifest_body(
    manifest: Mapping[str, Any], folder: Path, facts: Sequence[tuple[str, Cell]]
) -> Html:
    """Kind-specific `facts` (hash, seeds, run time), then software, then the raw file."""
    if not manifest:
        return key_values([("manifest.json", "missing from this folder")])
    rows = [*facts, *software(manifest), ("Files written", written_at(folder))]
    return join([key_values(rows), raw_manifest(manifest)])
