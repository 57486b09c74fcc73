"""Structural calibration: the demand structure, the loss, the study and its outputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import observed
from sim.domain import NAT_INDEX
from sim.fitting import parameters as P
from sim.fitting.demand import STREAMS, Demand, _design, knots_for, rake, refit
from sim.fitting.posterior import load_draws, per_replication
from sim.fitting.targets import Observed, load_policy_targets, targets_through
from sim.scenario.loader import ScenarioError, load_scenario
from tests.conftest import ROOT, SCENARIOS, scenario


def test_knots_stop_at_the_last_fitted_departure_month() -> None:
    assert [str(k) for k in knots_for(pd.Period("2019-08", "M"))] == [
        "2017-10",
        "2018-06",
        "2019-02",
        "2019-08",
    ]
    assert [str(k) for k in knots_for(pd.Period("2019-02", "M"))] == [
        "2017-10",
        "2018-06",
        "2019-02",
    ]
    assert [str(k) for k in knots_for(pd.Period("2019-03", "M"))] == [
        "2017-10",
        "2018-06",
        "2019-02",
    ]
    assert [str(k) for k in knots_for(pd.Period("2018-11", "M"))] == [
        "2017-10",
        "2018-06",
        "2018-11",
    ]


def test_observed_never_includes_months_or_targets_after_through() -> None:
    usbp = observed.load_usbp()
    obs = Observed.from_usbp(usbp, pd.Period("2019-03", "M"))
    assert obs.months.max() == pd.Period("2019-03", "M")
    assert (obs.targets["period_end"] <= pd.Timestamp("2019-03-31").date()).all()
    full = targets_through(load_policy_targets(), pd.Period("2019-09", "M"))
    assert "port_asylum_processed" not in set(full["target"])  # data, not a target
    assert len(full) > len(obs.targets)


def test_refit_is_a_fixed_point_when_the_model_matches_the_data() -> None:
    """Simulated == observed: the refitted demand equals the structure's own best fit of the
    current log demand, so a second refit changes nothing."""
    base = scenario("historical")
    obs = Observed.from_usbp(observed.load_usbp(), pd.Period("2019-09", "M"))
    demand = Demand.initial(base, knots_for(pd.Period("2019-08", "M")))
    target = np.einsum("nm,gm->ngm", obs.by_nat, obs.by_group) / obs.by_nat.sum(axis=0)
    once = refit(demand, target, obs.by_nat, obs.by_group, obs.months)
    twice = refit(once, target, obs.by_nat, obs.by_group, obs.months)
    assert np.allclose(once.to_vector(), twice.to_vector(), atol=1e-6)


def test_a_scenarios_own_demand_is_read_back_from_its_levers() -> None:
    """`Demand.of_scenario` gives back the demand a fragment was written from (identify
    starts there): a demand inside its bounds, written into a scenario and read back, is
    the same up to the levers' rounding; and the shipped fragment reads back to itself,
    seasonality, trend and caravans included, which the rates-only start does not."""
    base = scenario("historical")
    knots = knots_for(pd.Period("2019-08", "M"))
    rng = np.random.default_rng(3)
    start = Demand.initial(base, knots)
    lo, hi = start.bounds()
    x = lo + (hi - lo) * rng.uniform(0.1, 0.9, len(lo))
    x[: start.log_rate.size] = np.log(rng.uniform(50.0, 5000.0, start.log_rate.size))
    written = start.from_vector(x)
    back = Demand.of_scenario(written.apply(base), knots)
    assert np.allclose(back.season, written.season, atol=2e-3)
    assert all(np.allclose(back.steps[k], written.steps[k], atol=2e-4) for k in STREAMS)
    assert back.log_caravan == pytest.approx(written.log_caravan, abs=1e-4)
    assert np.allclose(back.log_rate, written.log_rate, atol=1e-3)

    shipped = base.departures
    again = Demand.of_scenario(base, knots).apply(base).departures
    assert np.allclose(again.seasonality, shipped.seasonality, atol=1e-4)
    assert again.shocks == shipped.shocks
    assert again.trend.keys() == shipped.trend.keys()
    for key, knots_values in shipped.trend.items():
        assert again.trend[key].keys() == knots_values.keys()
        assert np.allclose(list(again.trend[key].values()), list(knots_values.values()), atol=2e-5)
    rates_only = Demand.initial(base, knots).apply(base).departures
    assert not np.allclose(rates_only.seasonality, shipped.seasonality, atol=1e-2)


def test_raking_meets_the_published_family_unit_totals_by_citizenship() -> None:
    """Fitted through September 2019, the FY2019 family-unit totals of Honduras, Guatemala,
    El Salvador and Mexico are a third margin: the raked table meets them and both monthly
    margins; fitted through March 2019 (a backtest origin) they are not used at all."""
    obs = Observed.from_usbp(observed.load_usbp(), pd.Period("2019-09", "M"))
    cells = obs.cell_totals()
    assert sorted(c.nat for c in cells) == sorted(
        NAT_INDEX[n] for n in ("honduras", "guatemala", "el_salvador", "mexico")
    )
    fy19 = obs.months >= pd.Period("2018-10", "M")
    assert all(np.array_equal(c.months, fy19) for c in cells)
    # a model whose nationalities all share the same family share (the two margins' product)
    joint = np.einsum("nm,gm->ngm", obs.by_nat, obs.by_group) / obs.by_nat.sum(axis=0)
    plain, pinned = (
        rake(joint, obs.by_nat, obs.by_group),
        rake(joint, obs.by_nat, obs.by_group, cells=cells),
    )
    for c in cells:
        published = c.total
        assert pinned[c.nat, c.group, c.months].sum() == pytest.approx(published, rel=1e-3)
        assert plain[c.nat, c.group, c.months].sum() != pytest.approx(published, rel=0.05)
    # both monthly margins to well within the published rounding (to 10 persons)
    assert np.allclose(pinned.sum(axis=1), obs.by_nat, rtol=1e-3)
    assert np.allclose(pinned.sum(axis=0), obs.by_group, rtol=1e-3)
    early = Observed.from_usbp(observed.load_usbp(), pd.Period("2019-03", "M"))
    assert early.cell_totals() == ()


def test_refit_follows_a_structured_shortfall_and_respects_the_trend_bound() -> None:
    """Simulated families 40% short everywhere: their rates rise by about 1/0.6; every
    trend step stays inside 20% over three months whatever the data ask."""
    base = scenario("historical")
    obs = Observed.from_usbp(observed.load_usbp(), pd.Period("2019-09", "M"))
    demand = Demand.initial(base, knots_for(pd.Period("2019-08", "M")))
    target = np.einsum("nm,gm->ngm", obs.by_nat, obs.by_group) / obs.by_nat.sum(axis=0)
    start = refit(demand, target, obs.by_nat, obs.by_group, obs.months, damping=1.0)
    sim = target.copy()
    sim[:, 1, :] *= 0.6
    sim[:, 0, :] *= 1.2
    moved = refit(start, sim, obs.by_nat, obs.by_group, obs.months, damping=1.0)
    lo, hi = moved.bounds()
    x = moved.to_vector()
    assert np.all(x >= lo - 1e-9) and np.all(x <= hi + 1e-9)
    fam = moved.log_rate[:, 1] - start.log_rate[:, 1]
    assert np.all(fam > 0.1)  # families' demand raised (the raking keeps both margins)
    B, _ = _design(moved, pd.period_range("2017-09", "2019-09", freq="M"))
    assert B.shape[1] == x.size


def test_free_parameters_are_few() -> None:
    base = scenario("historical")
    demand = Demand.initial(base, knots_for(pd.Period("2019-08", "M")))
    n = demand.n_free + len(P.PARAMETERS)
    assert n < 60
    assert demand.n_free == 15 + 4 + 3 * len(STREAMS) + 1  # three trend steps per stream


def test_parameters_apply_to_their_levers() -> None:
    base = scenario("historical")
    s = P.apply(
        base,
        {
            "deterrence.effect": 2.0,
            "enforcement.surge_ratio": 2.0,
            "border.processing_lanes": 3000.4,
        },
    )
    assert s.deterrence.effect == 2.0
    assert s.border.processing_lanes == 3000
    assert s.enforcement.mexico[1].daily_hazard == pytest.approx(
        2 * s.enforcement.mexico[0].daily_hazard
    )
    back = P.current(s)
    assert back["enforcement.surge_ratio"] == pytest.approx(2.0)


def test_mpp_shares_only_rise_with_the_expansion() -> None:
    """The fitted MPP steps are increases on the previous step, so a share never falls."""
    base = scenario("historical")
    s = P.apply(
        base,
        {
            "mpp.enrolment.0.share": 0.01,
            "mpp.increase.1": 0.1,
            "mpp.increase.2": 0.05,
            "mpp.increase.3": 0.0,
            "mpp.increase.4": 0.25,
        },
    )
    assert [st.from_.isoformat() for st in s.mpp.enrolment] == [
        "2019-01-29",
        "2019-04-01",
        "2019-05-01",
        "2019-06-01",
        "2019-07-01",
    ]
    assert [st.share for st in s.mpp.enrolment] == pytest.approx([0.01, 0.11, 0.16, 0.16, 0.41])
    back = P.current(s)
    assert back["mpp.increase.4"] == pytest.approx(0.25)
    assert back["mpp.increase.3"] == pytest.approx(0.0)
    assert back["mpp.increase.2"] == pytest.approx(0.05)


@pytest.mark.slow
@pytest.mark.slow
def test_the_fit_check_pairs_seeds_and_refits_nothing() -> None:
    """Before and after run at the same fresh seeds: a scenario against itself differs by
    exactly nothing at every seed; a changed mechanism moves every seed's loss; the seeds
    are none of those a calibration scores with."""
    from sim.fitting.check import SEED_OFFSET, fit_check

    base = scenario("historical")
    obs = Observed.from_usbp(observed.load_usbp(), pd.Period("2019-03", "M"))
    same = fit_check(base, base, obs, scale=0.02, seeds=2)
    assert (same.differences == 0.0).all() and same.difference == 0.0
    assert same.losses["seed"].min() >= base.seed + SEED_OFFSET
    assert len(set(same.losses["loss"])) == 2  # two seeds, two different losses
    other = P.apply(base, {"deterrence.effect": 0.0})
    moved = fit_check(base, other, obs, scale=0.02, seeds=2)
    assert (moved.differences != 0.0).all()
    assert moved.before == pytest.approx(same.before)  # the same runs as before
    assert "difference" in moved.line() and "standard error" in moved.line()
    # the yardstick: each policy figure's mean over the seeds against the observed
    figures = same.figures
    n = len(obs.targets)
    assert (figures["scenario"] == "before").sum() == n == (figures["scenario"] == "after").sum()
    before, after = (figures[figures["scenario"] == w].reset_index() for w in ("before", "after"))
    assert (before["simulated"] == after["simulated"]).all()  # a scenario against itself
    ratio = before["simulated"] / before["observed"]
    assert same.within("before") == int(((ratio <= 1.3) & (ratio >= 1 / 1.3)).sum())
    assert f"before {same.within('before')} of {n}, after {same.within('after')} of {n}" in (
        same.line()
    )


def test_calibrate_end_to_end_resumes_and_writes_a_loadable_fragment(tmp_path: Path) -> None:
    """Tiny settings: 2 trials, then 3 (resumed: one more), fragment + posterior written."""
    out = tmp_path / "calibration.toml"
    store = tmp_path / "study"
    cmd = [
        sys.executable, "-m", "sim", "calibrate", str(SCENARIOS / "historical.toml"),
        "--out", str(out), "--storage", str(store), "--trials", "2", "--scale", "0.02",
        "--prefit", "1", "--inner", "0", "--jobs", "1", "--through", "2019-03",
        "--posterior-evals", "2", "--check-seeds", "2",
    ]  # fmt: skip
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "fit check at 2 fresh seeds, each scenario as it is" in first.stdout
    check = pd.read_csv(store / "fit_check.csv")
    assert sorted(check["scenario"]) == ["after", "after", "before", "before"]
    figures = pd.read_csv(store / "fit_check_figures.csv")
    assert {"target", "observed", "simulated", "ratio", "within_1_3"} <= set(figures.columns)
    assert "policy figures within 1.3 of observed" in first.stdout
    assert "free parameters:" in first.stdout and "undetermined (fewer than 10" in first.stdout
    # two ABC draws cannot make an ESS of 10: the indifference set is used instead
    assert "posterior: ABC-SMC's ESS" in first.stdout
    assert "Monte Carlo sd of the loss" in first.stderr
    assert "posterior generation 1/1" in first.stderr
    # one more posterior draw: the search is done, generation 1 re-makes the same proposal
    cmd[cmd.index("--posterior-evals") + 1] = "3"
    second = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert second.returncode == 0, second.stderr
    assert "resuming: 2 trials done, 0 to go" in second.stderr
    assert "posterior generation 1: resuming, 2 of 3 draws done" in second.stderr
    trials = pd.read_csv(store / "trials.csv")
    assert sorted(trials.loc[trials["stage"] == "posterior", "index"]) == [0, 1, 2]
    # one more search trial: the search resumes; a changed search re-makes the posterior
    cmd[cmd.index("--trials") + 1] = "3"
    third = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert third.returncode == 0, third.stderr
    assert "resuming: 2 trials done, 1 to go" in third.stderr
    trials = pd.read_csv(store / "trials.csv")
    assert (trials["stage"] == "search").sum() == 3
    assert (trials["stage"] == "posterior").sum() == 3
    # the fragment loads as a parent and carries no monthly levels
    child = tmp_path / "child.toml"
    child.write_text(
        f'extends = "{out.name}"\nname = "child"\nstart = 2019-01-01\nend = 2019-03-01\n'
    )
    s = load_scenario(child)
    # every estimated strength is in the fragment, at its estimate (to the fragment's digits)
    table = pd.read_csv(store / "parameters.csv").set_index("parameter")
    written = P.current(s)
    for p in P.PARAMETERS:
        assert written[p.name] == pytest.approx(table.at[p.name, "estimate"], rel=2e-3, abs=2e-4)
    assert s.departures.level == {}
    assert s.departures.trend and s.departures.shocks
    draws = load_draws(out.with_suffix(".posterior.csv"))
    scen = per_replication(s, draws, 3)
    assert len(scen) == 3 and all(x.departures.trend for x in scen)


def test_posterior_file_errors_name_the_file_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "p.csv"
    bad.write_text("deterrence.effect\n0.5\n")
    with pytest.raises(ScenarioError, match="column missing"):
        load_draws(bad)
    cols = [p.name for p in P.PARAMETERS]
    vals = [str(p.low) for p in P.PARAMETERS]
    vals[0] = "99"
    bad.write_text(",".join(cols) + "\n" + ",".join(vals) + "\n")
    with pytest.raises(ScenarioError, match="deterrence.effect"):
        load_draws(bad)


def _posterior(tmp_path: Path) -> Path:
    base = P.current(scenario("historical"))
    clipped = {p.name: min(max(base[p.name], p.low), p.high) for p in P.PARAMETERS}
    rows = [dict(clipped, **{"deterrence.effect": e}) for e in (0.0, 2.0)]
    path = tmp_path / "draws.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_batch_and_validate_draw_one_posterior_draw_per_replication(tmp_path: Path) -> None:
    post = _posterior(tmp_path)
    common = ["--set", "scale=0.02", "--set", "start=2019-04-01", "--set", "end=2019-07-01"]
    out = tmp_path / "b"
    r = subprocess.run(
        [sys.executable, "-m", "sim", "batch", str(SCENARIOS / "historical.toml"), "--reps", "2",
         "--jobs", "1", "--no-charts", "--quiet", "--posterior", str(post), "--out", str(out), *common],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    design = pd.read_parquet(out / "design.parquet")
    assert design["hash"].nunique() == 2  # two draws, two distinct resolved scenarios
    v = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(SCENARIOS / "historical.toml"), "--reps", "2",
         "--jobs", "1", "--posterior", str(post), "--out", str(tmp_path / "v"), *common],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert v.returncode == 0, v.stderr
    assert "posterior" in v.stdout


def test_model_discrepancy_widens_bands_by_the_in_sample_error() -> None:
    from sim.fitting.discrepancy import residual_sd, with_discrepancy

    terms = pd.DataFrame(
        {
            "kind": ["usbp"] * 4,
            "what": ["mexico", "mexico", "honduras", "honduras"],
            "period": ["2019-01", "2019-02", "2019-01", "2019-02"],
            "observed": [100.0, 100.0, 100.0, 100.0],
            "simulated": [100.0 * np.e**0.2, 100.0 * np.e**-0.2, 100.0, 100.0],
        }
    )
    sd = residual_sd(terms)
    assert sd["mexico"] == pytest.approx(0.2) and sd["honduras"] == pytest.approx(0.0)
    sim = pd.DataFrame(
        {
            "rep": [0, 1],
            "month": ["2019-10"] * 2,
            "series": ["mexico", "honduras"],
            "value": [1e4, 1e4],
        }
    )
    wide = with_discrepancy(sim, sd, draws=2000)
    mx = wide[wide["series"] == "mexico"]["value"]
    assert np.log(mx).std() == pytest.approx(0.2, rel=0.05)  # 2,000 normal draws: 5% is 3 se
    assert (wide[wide["series"] == "honduras"]["value"] == 1e4).all()


def test_model_discrepancy_is_corrected_for_the_parameters_fitted() -> None:
    """n = 8 terms, p = 4 free parameters: sd x sqrt(8 / 4); p = 7 is capped at n / 4 left."""
    from sim.fitting.discrepancy import residual_drift, residual_sd

    terms = pd.DataFrame(
        {
            "kind": ["usbp"] * 8,
            "what": ["mexico"] * 8,
            "period": [f"2019-0{m}" for m in range(1, 9)],
            "observed": [100.0] * 8,
            "simulated": [100.0 * np.e ** (0.1 * (-1) ** m) for m in range(8)],
        }
    )
    assert residual_sd(terms)["mexico"] == pytest.approx(0.1)
    assert residual_sd(terms, 4)["mexico"] == pytest.approx(0.1 * np.sqrt(2))
    assert residual_sd(terms, 7)["mexico"] == pytest.approx(0.2)
    assert residual_drift(terms, 4)["mexico"] == pytest.approx(
        np.sqrt(2) * residual_drift(terms)["mexico"]
    )


def test_model_discrepancy_grows_with_the_horizon() -> None:
    """sd(h)^2 = sd^2 + h d^2 with d^2 half the mean squared monthly change of the error:
    errors +0.2, -0.2 give sd 0.2 and d^2 = 0.4^2 / 2 = 0.08."""
    from sim.fitting.discrepancy import residual_drift, residual_sd, with_discrepancy

    terms = pd.DataFrame(
        {
            "kind": ["usbp"] * 2,
            "what": ["mexico"] * 2,
            "period": ["2019-01", "2019-02"],
            "observed": [100.0, 100.0],
            "simulated": [100.0 * np.e**0.2, 100.0 * np.e**-0.2],
        }
    )
    drift = residual_drift(terms)
    assert drift["mexico"] == pytest.approx(np.sqrt(0.08))
    sim = pd.DataFrame(
        {"rep": [0, 0, 0], "month": ["2019-01", "2019-03", "2019-06"], "series": "mexico",
         "value": 1e4}
    )  # fmt: skip
    wide = with_discrepancy(
        sim, residual_sd(terms), draws=4000, drift=drift, last_fitted=pd.Period("2019-02", "M")
    )
    for month, h in (("2019-01", 0), ("2019-03", 1), ("2019-06", 4)):
        v = wide[wide["month"] == month]["value"]
        assert np.log(v).std() == pytest.approx(np.sqrt(0.04 + h * 0.08), rel=0.05), month


def test_loss_sigmas_hold_the_monte_carlo_noise_of_the_scale() -> None:
    """sigma^2 = stated^2 + 2 / (observed count x scale): a count of under one simulated
    party weighs almost nothing, a monthly series at full scale just its stated sigma."""
    from sim.fitting.targets import RunDigest, loss_terms

    obs = Observed.from_usbp(observed.load_usbp(), pd.Period("2019-09", "M"))
    days = np.arange(np.datetime64("2017-10-01"), np.datetime64("2019-10-01"))
    zeros = np.zeros(len(days))

    def terms(scale: float) -> pd.DataFrame:
        d = RunDigest(days, np.zeros((len(days), 5, 3)), zeros, zeros, zeros, zeros, scale)
        return loss_terms(d, obs).set_index(["what", "period"])

    small, full = terms(0.05), terms(1.0)
    jan = ("mpp_new_court_cases", "2019-01-01..2019-01-31")
    assert small.at[jan, "sigma"] == pytest.approx(np.sqrt(0.4**2 + 2 / (15 * 0.05)))
    assert full.at[jan, "sigma"] == pytest.approx(np.sqrt(0.4**2 + 2 / 15))
    mx = ("mexico", "2018-10")
    assert full.at[mx, "sigma"] == pytest.approx(np.sqrt(0.15**2 + 2 / 13870), rel=1e-3)
    rate = ("mexico_apprehensions_per_day", "2019-01-01..2019-05-31")
    assert small.at[rate, "sigma"] == pytest.approx(np.sqrt(0.2**2 + 2 / (547 * 151 * 0.05)))


def test_log_ratio_adds_one_simulated_party_so_zero_parties_is_a_modest_misfit() -> None:
    """Jan 2019 MPP court cases (15 persons) at scale 0.2: zero simulated parties cost about
    what one party costs, not log(1 / 15); a monthly series of thousands is the plain log ratio."""
    from sim.fitting.targets import RunDigest, loss_terms, term_losses

    obs = Observed.from_usbp(observed.load_usbp(), pd.Period("2019-09", "M"))
    days = np.arange(np.datetime64("2017-10-01"), np.datetime64("2019-10-01"))
    zeros = np.zeros(len(days))

    def jan(enrolled: float) -> pd.Series:
        mpp = zeros.copy()
        mpp[days == np.datetime64("2019-01-30")] = enrolled
        d = RunDigest(days, np.ones((len(days), 5, 3)), mpp, zeros, zeros, zeros, 0.2)
        terms = loss_terms(d, obs)
        terms["rho"] = term_losses(terms)
        return terms.set_index(["what", "period"]).loc[
            ("mpp_new_court_cases", "2019-01-01..2019-01-31")
        ]

    none, one, exact = jan(0.0), jan(10.0), jan(15.0)
    assert none["pseudo"] == pytest.approx(10.0)
    assert none["z"] == pytest.approx(np.log(10 / 25) / none["sigma"])
    assert exact["z"] == pytest.approx(0.0)
    assert 0 < one["rho"] < none["rho"] < 15  # log(1 / 15) would have cost about 47
    d = RunDigest(days, np.full((len(days), 5, 3), 100.0), zeros, zeros, zeros, zeros, 0.2)
    usbp = loss_terms(d, obs).iloc[0]
    plain = np.log(usbp["simulated"] / usbp["observed"]) / usbp["sigma"]
    assert usbp["z"] == pytest.approx(plain, rel=2e-3)


def test_policy_terms_have_student_t_tails_and_usbp_terms_are_gaussian() -> None:
    """A policy figure missed by far adds (nu + 1) log(1 + z^2 / nu), not z^2, so one stock
    the model cannot reach does not dominate the loss; the monthly series stay Gaussian."""
    from sim.fitting.targets import NU_POLICY, POLICY_WEIGHT, RunDigest, loss_terms, total_loss

    obs = Observed.from_usbp(observed.load_usbp(), pd.Period("2019-09", "M"))
    days = np.arange(np.datetime64("2017-10-01"), np.datetime64("2019-10-01"))
    zeros = np.zeros(len(days))
    d = RunDigest(days, np.ones((len(days), 5, 3)), zeros, zeros, zeros, zeros, 1.0)
    terms = loss_terms(d, obs)
    usbp, policy = terms[terms["kind"] == "usbp"], terms[terms["kind"] == "policy"]
    assert np.isinf(usbp["nu"]).all() and (policy["nu"] == NU_POLICY).all()
    expected = (usbp["z"] ** 2).sum() + POLICY_WEIGHT * (
        (NU_POLICY + 1) * np.log1p(policy["z"] ** 2 / NU_POLICY)
    ).sum()
    assert total_loss(terms) == pytest.approx(expected)
    # bounded influence: a term ten sigmas off costs far less than the Gaussian 100
    one = policy.iloc[[0]].assign(z=10.0, weight=1.0)
    assert total_loss(one) == pytest.approx(5 * np.log(26.0)) and total_loss(one) < 20
    near = policy.iloc[[0]].assign(z=0.1, weight=1.0)
    assert total_loss(near) == pytest.approx(0.01 * (NU_POLICY + 1) / NU_POLICY, rel=1e-2)


def test_point_estimate_is_the_best_mean_over_seeds_not_the_luckiest_trial(monkeypatch) -> None:
    """Trial 0 scored 10 at its seed but 30 at every other; trial 1 scored 12 and then 11:
    the point is trial 1 (mean 11.2), its sd over the other seeds the noise; a second call
    (a resume) reuses the stored re-evaluations and runs nothing."""
    import importlib

    import optuna

    C = importlib.import_module("sim.fitting.calibrate")  # the module, not its function
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize")
    dist = {"deterrence.effect": optuna.distributions.FloatDistribution(0.0, 4.0)}
    for x, v in ((1.0, 10.0), (2.0, 12.0), (3.0, 50.0)):
        study.add_trial(
            optuna.trial.create_trial(params={"deterrence.effect": x}, distributions=dist, value=v)
        )
    later = {1.0: [30.0] * 4, 2.0: [11.0, 11.5, 10.5, 11.0], 3.0: [50.0] * 4}
    seeds_seen = []

    def fake(tasks, executor):  # noqa: ANN001, ANN202
        out = []
        for k, t in enumerate(tasks):
            seeds_seen.append(t.window.seed)
            out.append((later[t.values["deterrence.effect"]][k % C.NOISE_SEEDS], [], None))
        return out

    monkeypatch.setattr(C, "_evaluate_all", fake)
    window = scenario("historical")
    template = C.Trial(window, {}, None, None, 1, 1)
    point = C.choose_point(study, template, None)
    assert point["trial"] == 1
    assert point["loss"] == pytest.approx((12 + 11 + 11.5 + 10.5 + 11) / 5)
    assert point["sd"] == pytest.approx(np.std([11, 11.5, 10.5, 11], ddof=1))
    assert sorted(set(seeds_seen)) == [window.seed + 1 + i for i in range(C.NOISE_SEEDS)]
    assert study.user_attrs[C.POINT_KEY]["trial"] == 1

    def never(tasks, executor):  # noqa: ANN001, ANN202
        raise AssertionError("a resume must reuse the stored re-evaluations")

    monkeypatch.setattr(C, "_evaluate_all", never)
    assert C.choose_point(study, template, None) == point
    trials = C._frame(C._complete(study))
    row = C._point_row(trials, study)
    assert row["trial"] == 1 and row["loss"] == pytest.approx(point["loss"])


def test_the_parameter_table_keeps_its_columns_for_the_longest_name() -> None:
    """The children's momentum threshold (49 characters) once pushed its row out of line."""
    import io

    from sim.commands.calibrate import print_table

    rows = [
        {"parameter": p.name, "prior_low": p.low, "prior_high": p.high, "estimate": p.low,
         "lo90": p.low, "hi90": p.high, "constrained": "no (not identified)"}
        for p in P.PARAMETERS
    ]  # fmt: skip
    out = io.StringIO()
    print_table(pd.DataFrame(rows), 59, out)
    lines = out.getvalue().splitlines()
    table = lines[lines.index(next(x for x in lines if x.startswith("---"))) + 1 :]
    assert len(table) == len(P.PARAMETERS)
    ends = {line.index("]") for line in table}  # the prior column's right edge
    assert len(ends) == 1
