"""migsim: a discrete-event simulation of asylum-seeker flows and the 2019 agreements."""

from __future__ import annotations

__version__ = "0.1.0"

# `batch` is imported eagerly (the module is light) so that `sim.batch` stays this function
# even after submodules of the `sim.batch` package are imported.
from sim.batch import batch  # noqa: E402
from sim.scenario.loader import ScenarioError, load_scenario  # noqa: E402

__all__ = ["ScenarioError", "batch", "load_scenario", "run", "__version__"]


def run(scenario, seed: int | None = None, replication: int = 0, overrides=None):
    """Run a scenario (a path or a `Scenario`) once; returns a `RunResult`.

    `seed` replaces the scenario's seed; `overrides` is a mapping of dotted lever paths.
    A cap or capacity that the scale distorts (smaller than a family, or rounded) gives a
    `sim.scalecheck.ScaleWarning` naming the lever and the value in effect.
    """
    from pathlib import Path

    from sim.model import Model
    from sim.scalecheck import warn_scale
    from sim.scenario.loader import with_overrides
    from sim.scenario.schema import Scenario

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(Path(scenario))
    if overrides:
        scenario = with_overrides(scenario, overrides)
    if seed is not None:
        scenario = scenario.model_copy(update={"seed": seed})
    warn_scale([scenario])
    return Model(scenario, replication).run()
