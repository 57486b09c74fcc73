"""Where the repository is, seen from wherever Jupyter was started inside it."""

from __future__ import annotations

from pathlib import Path


def find_repo_root(start: str | Path | None = None) -> Path:
    """The first folder at or above `start` (default: the working directory) holding
    `pyproject.toml` and `scenarios/`: notebooks then work from any folder of the
    repository, with no `../` paths that break when the notebook moves."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "scenarios").is_dir():
            return folder
    raise FileNotFoundError(
        f"no migsim repository (pyproject.toml and scenarios/) at or above {here}: "
        "start Jupyter inside the repository"
    )
