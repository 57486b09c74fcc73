"""The README documents every output metric (the table is checked, not trusted)."""

from __future__ import annotations

from sim.metrics import FLOWS, INDICATORS, STOCKS
from tests.conftest import ROOT


def test_readme_lists_every_metric():
    readme = (ROOT / "README.md").read_text()
    missing = [m for m in (*FLOWS, *STOCKS, *INDICATORS) if f"| `{m}` |" not in readme]
    assert not missing, f"metrics missing from the README's metrics table: {missing}"


def test_license_is_an_spdx_expression():
    """A TOML table here makes every install print setuptools' deprecation warning."""
    import re
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "MIT"
    # SPDX strings need setuptools >= 77; an older build backend would reject them
    (req,) = [r for r in meta["build-system"]["requires"] if r.startswith("setuptools")]
    assert int(re.fullmatch(r"setuptools>=(\d+).*", req).group(1)) >= 77
