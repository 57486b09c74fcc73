"""The notebooks in notebooks/ run top to bottom, and are committed without outputs.

Each notebook is executed with nbclient in a fresh kernel of this very Python (so the
kernel sees the installed `sim` of this virtualenv), with the notebooks folder as the
working directory, as Jupyter would run it. Execution times are what `pytest --durations`
reports for `test_notebook_runs`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import ROOT

if TYPE_CHECKING:
    from nbformat import NotebookNode

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = [
    "01_quickstart.ipynb",
    "02_policy_levers.ipynb",
    "03_validation.ipynb",
    "04_batch_and_sensitivity.ipynb",
]
KERNEL = "python3"
# Per cell. Each notebook takes about a minute in all on two cores; a cell that runs ten
# minutes is stuck, not slow.
CELL_TIMEOUT = 600


def read(name: str) -> dict:
    return json.loads((NOTEBOOK_DIR / name).read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- committed form
def test_every_notebook_is_listed():
    """A new notebook must be added to NOTEBOOKS, so that it is executed here too."""
    assert sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs(name):
    """Outputs and execution counts stay out of the repository (clear them before committing:
    `jupyter nbconvert --clear-output --inplace notebooks/*.ipynb`)."""
    nb = read(name)
    assert nb["metadata"]["kernelspec"]["name"] == KERNEL
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"cell {i} has outputs"
        assert cell.get("execution_count") is None, f"cell {i} has an execution count"
        assert "execution" not in cell.get("metadata", {}), f"cell {i} has execution timings"


def code_of(name: str) -> str:
    nb = read(name)
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_starts_with_a_title_and_finds_the_repository(name):
    """A title a reader can follow, the repository found by `sim.notebook.find_repo_root`
    (not a copy of it), and no hard-coded relative path to the repository."""
    nb = read(name)
    first = "".join(nb["cells"][0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown" and first.startswith("# ")
    code = code_of(name)
    assert "find_repo_root()" in code, "locate the repository with sim.notebook.find_repo_root"
    assert "def find_repo_root" not in code, "use sim.notebook.find_repo_root, not a copy"
    assert '"../' not in code and "'../" not in code


#: what a notebook may import from migsim: the package itself and its notebook helpers
PUBLIC = {"sim", "sim.notebook"}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_uses_only_public_api(name):
    """Internal modules move; notebooks import `sim` and `sim.notebook` only."""
    import re

    code = code_of(name)
    modules = re.findall(r"^\s*from\s+(sim[\w.]*)\s+import", code, re.M)
    modules += re.findall(r"^\s*import\s+(sim[\w.]*)", code, re.M)
    assert modules, "a notebook that does not use migsim"
    internal = sorted(set(modules) - PUBLIC)
    assert not internal, f"{name} imports internal modules: {internal}"
    assert not re.search(
        r"\bsim\.(?!notebook\b|run\b|batch\b|load_scenario\b|__version__)\w+", code
    )


# ----------------------------------------------------------------------------- execution
@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory):
    """A `python3` kernel spec that runs this interpreter, found first on JUPYTER_PATH.

    ipykernel installs a `python3` spec into the virtualenv; pinning it here means a
    `python3` kernel registered elsewhere for the user (another Python) cannot be picked.
    """
    from ipykernel.kernelspec import write_kernel_spec

    root = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(root / "kernels" / KERNEL)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(root))
        yield root


def execute(nb: NotebookNode, kernel_path: Path) -> NotebookNode:
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()
    return nb


def outputs_text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        elif "data" in out and "text/plain" in out["data"]:
            parts.append(out["data"]["text/plain"])
    return "".join(parts)


@pytest.mark.slow
def test_kernel_runs_this_python_with_sim(kernel_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import os, sys, sim\nprint(sys.prefix)\nprint(sim.__file__)\nprint(os.getcwd())"
        )
    ]
    prefix, sim_file, cwd = outputs_text(execute(nb, kernel_path).cells[0]).split()
    assert Path(prefix) == Path(sys.prefix)
    assert Path(sim_file).resolve().is_relative_to(ROOT.resolve())
    assert Path(cwd).resolve() == NOTEBOOK_DIR.resolve()


# The smallest run size that still exercises every cell: two replications still give the
# paired differences and the 5-95% bands every chart draws (a quantile over two values),
# while scale stays 0.1 (below it the first step's cap of 25 persons is under one simulated
# person a week and the agreement cells would have nothing to show). Each substitution must
# match the notebook's parameter line exactly, so a renamed parameter fails here loudly
# instead of silently running at full size.
SMALLEST = {
    "02_policy_levers.ipynb": [("REPS = 3 ", "REPS = 2 ")],
    "03_validation.ipynb": [("REPS = 4 ", "REPS = 2 ")],
}


def smallest(nb: NotebookNode, name: str) -> NotebookNode:
    for old, new in SMALLEST.get(name, []):
        cells = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        assert len(cells) == 1, f"{name}: parameter line {old.strip()!r} not found once"
        cells[0].source = cells[0].source.replace(old, new)
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, kernel_path):
    """Top to bottom without an error, writing nothing next to the notebooks."""
    import nbformat

    before = sorted(p.name for p in NOTEBOOK_DIR.iterdir())
    nb = smallest(nbformat.read(NOTEBOOK_DIR / name, as_version=4), name)
    nb = execute(nb, kernel_path)
    images = sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert images >= 2, "every notebook shows its results as charts"
    assert sorted(p.name for p in NOTEBOOK_DIR.iterdir()) == before
