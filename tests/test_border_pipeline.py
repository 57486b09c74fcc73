"""The border as array stages against the border it replaced.

1. The processing lanes (`sim.lanes`, both kernels) against a straightforward SimPy model
   of the same rule (one process per party, a `simpy.PriorityResource`), on the same
   arrivals and processing times: the rule is deterministic given those, so every start
   and every completion must be the same number.
2. The compiled and the plain-Python kernel on a long congested stream, a day at a time:
   identical outputs.
3. Whole runs: the model with the array border against replications of the model with the
   per-party border (SimPy event per completion, one `Party` object per arrival), saved in
   `tests/data/object_border_stats.json` from commit 348b435 (historical, scale 0.1, 12
   replications; its scenario frozen in `tests/data/border_equivalence/`). Draws are
   consumed differently, so the comparison is in distribution.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import simpy

from sim.kernels import numba_available
from sim.lanes import Lanes
from tests.conftest import fresh_python, imports_of_cli

DATA = Path(__file__).parent / "data"


def simpy_reference(t, service, rank, lanes):
    """Start and end time of each party (arrivals sorted, distinct) under the rule."""
    env = simpy.Environment()
    station = simpy.PriorityResource(env, capacity=lanes)
    start = np.full(len(t), np.nan)
    end = np.full(len(t), np.nan)

    def party(i):
        yield env.timeout(t[i])
        with station.request(priority=int(rank[i])) as req:
            yield req
            start[i] = env.now
            yield env.timeout(service[i])
            end[i] = env.now

    for i in range(len(t)):
        env.process(party(i))
    env.run()
    return start, end


def play(lanes: Lanes, t, service, rank, days: int):
    """Feed the arrivals a day at a time; the start and end of each party."""
    ids = np.arange(len(t))
    day = t.astype(int)
    start = t.copy()  # a party that never waited starts on arrival
    end = np.full(len(t), np.nan)
    for d in range(days):
        m = day == d
        done, t_done, started, t_start = lanes.advance(ids[m], t[m], service[m], rank[m], d + 1.0)
        end[done] = t_done
        start[started] = t_start
    return start, end


def stream(seed: int, n: int, days: int):
    g = np.random.default_rng(seed)
    t = np.sort(g.random(n) * days * 0.8)
    return t, g.exponential(0.9, n), g.integers(0, 3, n)


KERNELS = [False, pytest.param(True, marks=pytest.mark.skipif(not numba_available(), reason="numba not installed"))]  # fmt: skip


@pytest.mark.parametrize("compiled", KERNELS)
@pytest.mark.parametrize("lanes", [1, 4, 25])
def test_lanes_match_a_simpy_priority_resource(compiled, lanes):
    days = 40
    t, service, rank = stream(lanes, 60 * lanes, days)  # about twice what the lanes serve
    ref_start, ref_end = simpy_reference(t, service, rank, lanes)
    start, end = play(Lanes(lanes, compiled=compiled), t, service, rank, days + 400)
    assert np.array_equal(start, ref_start)
    assert np.array_equal(end, ref_end)
    assert (start > t).sum() > len(t) / 3  # congested: the queue's order was exercised


@pytest.mark.skipif(not numba_available(), reason="numba not installed")
@pytest.mark.parametrize("grid", [0.0, 0.25])
def test_compiled_and_python_kernels_agree_a_day_at_a_time(grid):
    """Also with times on a grid of `grid` days: then completions tie and waiting parties
    tie in rank and time, and the heaps' order is decided by party id."""
    g = np.random.default_rng(7)
    plain, compiled = Lanes(30, compiled=False), Lanes(30, compiled=True)
    assert compiled.compiled and not plain.compiled
    first = 0
    on_grid = (lambda x: np.floor(x / grid) * grid) if grid else (lambda x: x)
    for day in range(200):
        n = int(g.integers(0, 120))
        t = np.sort(day + on_grid(g.random(n)))
        t[: n // 4] = day  # admissions at the daily tick: ties at the day's start
        t = np.sort(t)
        ids = np.arange(first, first + n)
        first += n
        svc, rank = on_grid(g.exponential(1.0, n)), g.integers(0, 3, n)
        a = plain.advance(ids, t, svc, rank, day + 1.0)
        b = compiled.advance(ids, t, svc, rank, day + 1.0)
        for x, y in zip(a, b, strict=True):
            assert np.array_equal(x, y), day
    assert plain.waiting == compiled.waiting > 0


def test_quiet_days_played_with_numpy_match_the_loop(monkeypatch):
    """The Python kernel plays a day on which nobody waits with numpy (`_free_day`): the
    same outputs and state as its loop, over days alternating quiet and congested, with
    ties (arrivals at the day's start, at a completion's instant, no service)."""
    import sim.lanes as lanes_module

    g = np.random.default_rng(11)
    days, first = [], 0
    for day in range(300):
        n = int(g.integers(0, 40 if day % 7 < 5 else 150))  # busy weekends
        t = np.sort(day + g.random(n))
        t[: n // 5] = day
        svc = g.exponential(0.3, n)
        svc[g.random(n) < 0.05] = 0.0
        if n > 2:  # an arrival at the instant an earlier one completes
            t[-1] = max(t[-1], min(t[0] + svc[0], day + 0.999))
            t = np.sort(t)
        days.append((np.arange(first, first + n), t, svc, g.integers(0, 3, n), day + 1.0))
        first += n
    lanes = Lanes(20, compiled=False)
    fast = [lanes.advance(*d) for d in days]
    monkeypatch.setattr(lanes_module, "_free_day", lambda *a: None)
    loop = Lanes(20, compiled=False)
    slow = [loop.advance(*d) for d in days]
    quiet = sum(not len(f[2]) for f in fast)
    assert 50 < quiet < 280  # both kinds of day were played
    for day, (a, b) in enumerate(zip(fast, slow, strict=True)):
        for x, y in zip(a, b, strict=True):
            assert x.dtype == y.dtype and np.array_equal(x, y), day
    assert lanes.waiting == loop.waiting


@pytest.mark.slow
def test_whole_runs_match_the_object_border_in_distribution():
    """Per metric, Welch's z between 6 replications of the array border and the 12 saved
    of the object border; |z| < 4.5 for every metric (16 metrics: a false alarm about once
    in 9,000 runs), and the means within 5% where the metric varies by under 2% between
    replications (queue waits and custody past 72 hours vary by 10-70%: z alone)."""
    from sim.metrics import FLOW_INDEX
    from sim.model import run
    from sim.scenario.loader import load_scenario

    old = json.loads((DATA / "object_border_stats.json").read_text())
    # the scenario the saved replications ran (frozen: a recalibration must not move it)
    sc = load_scenario(DATA / "border_equivalence" / "historical.toml", ["scale=0.1"])
    new: dict[str, list[float]] = {m: [] for m in old}
    for rep in range(6):
        flows = run(sc, rep).recorder.flow_array()
        for m in old:
            new[m].append(float(flows[:, FLOW_INDEX[m]].sum()) / 0.1)
    for m, before in old.items():
        a, b = np.array(before), np.array(new[m])
        se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        z = (b.mean() - a.mean()) / se if se > 0 else 0.0
        assert abs(z) < 4.5, (m, a.mean(), b.mean(), z)
        if a.std(ddof=1) < 0.02 * a.mean():  # precise metrics: the means within 5%
            assert b.mean() == pytest.approx(a.mean(), rel=0.05), m


@pytest.mark.skipif(not numba_available(), reason="numba not installed")
def test_a_run_loads_the_compiled_kernels_from_the_cache_install_wrote():
    """`make` compiles the kernels once at install (`warm_kernels`); a new process, as a
    run is, then loads them from numba's on-disk cache and compiles nothing."""
    from sim.kernels import warm_kernels

    assert warm_kernels()
    probe = (
        "from sim.model import Model; from tests.conftest import scenario; "
        "from sim.lanes_kernel import advance; from sim.journey_kernel import plan; "
        "Model(scenario('historical', 'scale=0.01'), compiled=True).run(); "
        "s = [advance.stats, plan.stats]; "
        "print(sum(sum(x.cache_hits.values()) for x in s), "
        "sum(sum(x.cache_misses.values()) for x in s))"
    )
    hits, misses = map(int, fresh_python(probe, timeout=120).split())
    assert (hits, misses) == (2, 0)


@pytest.mark.skipif(not numba_available(), reason="numba not installed")
def test_a_process_loads_numba_only_where_its_runs_repay_it():
    """A process with a known number of runs (`migsim run`: one; a batch worker: its
    share) keeps numba out where those runs together expect fewer than
    `COMPILED_ALONE_FROM_ARRIVALS` parties; a process running many simulations
    (calibration), or with the kernels loaded already, uses them from
    `COMPILED_FROM_ARRIVALS`. (The kernels are tested equal to their plain twins.)"""
    from sim.kernels import COMPILED_ALONE_FROM_ARRIVALS, COMPILED_FROM_ARRIVALS

    probe = (
        "import sys; from sim.model import Model; from tests.conftest import scenario; "
        "runs = None if sys.argv[1] == 'many' else int(sys.argv[1]); "
        "m = Model(scenario('historical', 'scale=' + sys.argv[2]), 0, runs=runs); "
        "print(m.travel.expected_parties, int(m.border.lanes.compiled), "
        "int(m.travel.journey.compiled), int('numba' in sys.modules))"
    )

    def probe_run(runs: str, scale: float) -> tuple[float, int, int, int]:
        parties, lanes, journeys, loaded = fresh_python(
            probe, runs, str(scale), timeout=120
        ).split()
        return float(parties), int(lanes), int(journeys), int(loaded)

    half = 0.5  # a run expecting fewer parties than a lone run needs to repay the load
    parties, *used = probe_run("1", half)
    assert COMPILED_FROM_ARRIVALS <= parties < COMPILED_ALONE_FROM_ARRIVALS
    assert used == [0, 0, 0]  # numba is not even imported
    assert probe_run("many", half)[1:] == (1, 1, 1)
    enough = int(-(-COMPILED_ALONE_FROM_ARRIVALS // parties))  # runs that repay the load
    assert probe_run(str(enough - 1), half)[1:] == (0, 0, 0)
    assert probe_run(str(enough), half)[1:] == (1, 1, 1)
    assert probe_run("1", 1.0)[1:] == (1, 1, 1)  # a full-scale run repays it alone
    # too small to use them at all, however many runs
    assert probe_run("many", 0.9 * COMPILED_FROM_ARRIVALS / parties * half)[1:] == (0, 0, 0)


@pytest.mark.skipif(not numba_available(), reason="numba not installed")
def test_use_compiled_counts_loaded_kernels_as_paid(monkeypatch):
    """With every kernel already loaded in the process, their load is no longer a cost."""
    import sys
    import types

    from sim import kernels

    big = kernels.COMPILED_FROM_ARRIVALS
    names = kernels._KERNELS
    assert len(names) == 3
    for name in names:
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert not kernels.use_compiled(big, runs=1)
    assert kernels.use_compiled(big, runs=None)
    assert kernels.use_compiled(kernels.COMPILED_ALONE_FROM_ARRIVALS, runs=1)
    for name in names[:-1]:
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    assert not kernels.use_compiled(big, runs=1)  # not all of them: the load is not all paid
    monkeypatch.setitem(sys.modules, names[-1], types.ModuleType(names[-1]))
    assert kernels.use_compiled(big, runs=1)
    assert not kernels.use_compiled(big - 1, runs=None)
    monkeypatch.setenv("MIGSIM_NO_NUMBA", "1")
    assert not kernels.use_compiled(big, runs=None)


@pytest.mark.skipif(not numba_available(), reason="numba not installed")
def test_migsim_run_loads_numba_only_at_a_scale_that_repays_it(tmp_path):
    """`migsim run` is a process's only run (`Model(runs=1)`): at half scale it is as fast
    without numba's load, and 110-190 MB smaller (LLVM); at full scale the kernels repay
    it. (The output is the same either way: the kernels are tested equal.)"""
    for scale, loaded in ((0.5, 0), (1.0, 1)):
        out = tmp_path / f"run{scale}"
        args = ["run", "scenarios/historical.toml", "--no-charts", "--set", f"scale={scale}"]
        assert imports_of_cli([*args, "--out", str(out)], ["numba"]) == [0, loaded]
        assert (out / "daily.parquet").is_file()
