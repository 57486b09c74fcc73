"""The README documents every output metric (the table is checked, not trusted)."""

from __future__ import annotations

from sim.metrics import FLOWS, INDICATORS, STOCKS
from tests.conftest import ROOT


def test_readme_lists_every_metric():
    readme = (ROOT / "README.md").read_text()
    missing = [m for m in (*FLOWS, *STOCKS, *INDICATORS) if f"| `{m}` |" not in readme]
    assert not missing, f"metrics missing from the README's metrics table: {missing}"
