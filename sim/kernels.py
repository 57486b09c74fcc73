"""The compiled kernels (numba): whether a run uses them, and compiling them at install.

Three parts of a run have a compiled twin that computes the same numbers with the same
random draws and floating-point operations (each tested against its plain version): the
processing lanes' priority queue (`sim.lanes_kernel`), journey planning
(`sim.journey_kernel`) and the day-buckets parties wait in (`sim.daybuckets_kernel`).
Loading numba and the cached kernels takes about 0.4 s and 110-190 MB of resident memory
(LLVM), so a run uses them only where that load is repaid:
in a process that plays many runs (calibration, backtests, attribution) or that has
loaded them already, from `COMPILED_FROM_ARRIVALS` expected parties a run; in a process
that plays a known number of runs (`migsim run`: one; a batch worker: its share of the
batch), where those runs together expect `COMPILED_ALONE_FROM_ARRIVALS`.
"""

from __future__ import annotations

import os
import sys

#: runs expecting at least this many parties use the compiled kernels, in a process that
#: runs many simulations or that has loaded them already
COMPILED_FROM_ARRIVALS = 150_000
#: ... or, in a process that will play a known number of runs, where those runs together
#: expect at least this many: the kernels save 0.8-1.4 microseconds a party (0.63 s of a
#: full-scale historical run, which expects 0.75 M parties; 0.26 s at scale 0.25) and load
#: in 0.37-0.39 s, so they repay their load from 0.3-0.45 M; the margin is for the memory
#: (LLVM: a full-scale `migsim run` peaks at about 275 MB with them, 257 MB without) and
#: for two workers loading at once (0.45-0.6 s each)
COMPILED_ALONE_FROM_ARRIVALS = 600_000
_KERNELS = ("sim.lanes_kernel", "sim.journey_kernel", "sim.daybuckets_kernel")


def numba_available() -> bool:
    if os.environ.get("MIGSIM_NO_NUMBA"):
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def use_compiled(expected_arrivals: float, runs: int | None = None) -> bool:
    """Whether a run expecting `expected_arrivals` parties should use the compiled kernels,
    in a process that will play `runs` such runs in all (None: many, or not known). The
    numbers are the same either way: this decides only the time."""
    if expected_arrivals < COMPILED_FROM_ARRIVALS:
        return False
    paid = all(k in sys.modules for k in _KERNELS)  # loaded already
    if runs is not None and not paid and expected_arrivals * runs < COMPILED_ALONE_FROM_ARRIVALS:
        return False
    return numba_available()  # (imports numba: only where it will be used)


def warm_kernels() -> bool:
    """Compile the kernels into numba's on-disk cache now, so that no run pays their
    compilation (a few seconds, and 20 MB more at its peak); `make` calls it once at
    install, as it compiles the package's bytecode. False where numba is not installed."""
    if not numba_available():
        return False
    from sim.daybuckets import CompiledDayBuckets
    from sim.journey_kernel import warm
    from sim.lanes import Lanes

    Lanes(1, compiled=True)
    warm()
    CompiledDayBuckets(1, 1)
    return True
