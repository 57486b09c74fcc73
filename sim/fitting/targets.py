"""What the calibration compares: the observed series and published policy figures, and the
same quantities read off a simulated run.

Loss (documented in the README, "Calibration"): a Gaussian pseudo log-likelihood on log
counts, `loss = sum(((log sim - log obs) / sigma) ** 2)`, over

- the eight monthly USBP series (five citizenships, three family statuses), each month from
  October 2017 to the last fitted month, sigma = `SIGMA_USBP` (model error plus Monte Carlo
  noise at the calibration's reduced scale; the published counts are exact to 10);
- the FY2019 policy figures of `sim/data/policy_targets_fy2019.csv` that fall wholly inside
  the fitted months, sigma = `SIGMA_TARGET` (the source note: rounded secondary-source
  figures, 10-20% uncertain; MPP court cases lag and undercount returns, so they get twice
  that).

Weights: each policy term counts `POLICY_WEIGHT` times (`loss = sum(weight * rho(z))`), so
the 21 policy figures weigh about as much as the 192 monthly USBP terms. Without it the
border series alone would decide every mechanism, and a mechanism can reproduce them with
any stocks; the published stocks are what tie each mechanism to its own evidence.

Each sigma also holds the Monte Carlo noise of the simulated value at the calibration's
scale: `sigma^2 = stated^2 + PERSONS_PER_PARTY / (observed count x scale)` (the log of a
Poisson count of parties), so small counts (MPP court cases in early 2019, under one
simulated party at scale 0.05) weigh what their noise allows; and the log ratio adds one
simulated party to both counts (`log_ratio`), so a count of zero parties is not log(0).

Tails: a monthly USBP term is Gaussian, `rho(z) = z^2`; a policy term is Student-t with
`NU_POLICY` degrees of freedom, `rho(z) = (nu + 1) log(1 + z^2 / nu)` (its -2 log density):
quadratic for small misfits, logarithmic for large ones. The policy figures are rounded
secondary-source counts whose definitions differ from the model's (the waitlists of 8-12
cities, "as many as 20,000" held), and a stock the model misses by a factor of three
(the December 2018 waitlist) would otherwise dominate the loss and, because the slope of
z^2 grows with the misfit, its Monte Carlo noise too (measured at the shipped fit: that one
term had sd 70-144 of a total sd of 88-166 over seeds, the 192 USBP terms together 17-21).

`port_asylum_processed` is not a target: the metering intake is set from it (data, not fit).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from sim.domain import GROUPS, NAT_INDEX, NATIONALITIES, STATE_INDEX
from sim.metrics import FLOW_INDEX

SIGMA_USBP = 0.15
SIGMA_TARGET = 0.20
POLICY_WEIGHT = 8.0
NU_POLICY = 4.0  # Student-t degrees of freedom of the policy terms (Gaussian: infinite)
PERSONS_PER_PARTY = 2.0  # about (families 2.6 persons, single adults and children 1)
FAMILY_STATUS = {
    "single_adult": "single_adults",
    "family": "family_unit_individuals",
    "unaccompanied_child": "unaccompanied_children",
}
# targets a run can be compared with; `port_asylum_processed` sets the metering intake
FITTED_TARGETS = (
    "mpp_new_court_cases",
    "mpp_returned_cumulative",
    "metering_waitlist",
    "mexico_apprehensions_per_day",
    "mexico_apprehensions",
    "cbp_custody_peak",
    "usbp_family_unit_individuals",
)
_SIGMA_FACTOR = {"mpp_new_court_cases": 2.0}
_CITIZENSHIP = {
    "persons (Honduras)": "honduras",
    "persons (Guatemala)": "guatemala",
    "persons (El Salvador)": "el_salvador",
    "persons (Mexico)": "mexico",
}


def load_policy_targets() -> pd.DataFrame:
    """The shipped FY2019 policy figures (`sim/data/policy_targets_fy2019.csv`)."""
    with resources.files("sim.data").joinpath("policy_targets_fy2019.csv").open() as f:
        frame = pd.read_csv(f)
    for c in ("period_start", "period_end"):
        frame[c] = pd.to_datetime(frame[c]).dt.date
    return frame


@dataclass(frozen=True)
class RunDigest:
    """The few arrays of one run the loss needs (small enough to leave a worker)."""

    dates: np.ndarray  # datetime64[D] of every simulated day
    apprehensions: np.ndarray  # [day, nat, group], persons at full scale
    mpp_enrolled: np.ndarray  # [day]
    stopped: np.ndarray  # [day]
    waitlist: np.ndarray  # [day] stock
    custody: np.ndarray  # [day] stock
    scale: float = 1.0  # the run's scale: sets the Monte Carlo noise of each term

    def months(self) -> pd.PeriodIndex:
        return pd.PeriodIndex(pd.DatetimeIndex(self.dates), freq="M")

    def monthly_apprehensions(self, months: pd.PeriodIndex) -> np.ndarray:
        """[nat, group, month] totals for `months` (0 for months outside the run)."""
        keys = self.months()
        out = np.zeros((len(NATIONALITIES), len(GROUPS), len(months)))
        for i, m in enumerate(months):
            out[:, :, i] = self.apprehensions[keys == m].sum(axis=0)
        return out

    def _window(self, start: dt.date, end: dt.date) -> np.ndarray:
        d = pd.DatetimeIndex(self.dates).date
        return (d >= start) & (d <= end)


def digest(result) -> RunDigest:  # noqa: ANN001
    """Read the loss's inputs off a `RunResult` (its recorder, at full scale)."""
    rec, scale = result.recorder, result.scenario.scale
    flows = result.flows.sum(axis=-1)  # [day, metric, nat, group]
    states = rec.state_snap
    return RunDigest(
        dates=np.asarray(result.calendar.dates.values, dtype="datetime64[D]"),
        apprehensions=flows[:, FLOW_INDEX["apprehensions"]] / scale,
        mpp_enrolled=flows[:, FLOW_INDEX["mpp_enrolled"]].sum(axis=(1, 2)) / scale,
        stopped=flows[:, FLOW_INDEX["stopped_in_mexico"]].sum(axis=(1, 2)) / scale,
        waitlist=states[:, STATE_INDEX["metering_waitlist"]].sum(axis=1) / scale,
        custody=states[:, STATE_INDEX["in_custody"]].sum(axis=1) / scale,
        scale=scale,
    )


def simulated_target(d: RunDigest, row: pd.Series) -> float:
    """The simulated counterpart of one policy figure."""
    w = d._window(row.period_start, row.period_end)
    kind = row.target
    if kind in ("mpp_new_court_cases", "mpp_returned_cumulative"):
        return float(d.mpp_enrolled[w].sum())
    if kind == "metering_waitlist":
        return float(d.waitlist[w].mean())
    if kind == "mexico_apprehensions_per_day":
        return float(d.stopped[w].mean())
    if kind == "mexico_apprehensions":
        return float(d.stopped[w].sum())
    if kind == "cbp_custody_peak":
        return float(d.custody[w].max())
    if kind == "usbp_family_unit_individuals":
        nat = NAT_INDEX[_CITIZENSHIP[row.unit]]
        return float(d.apprehensions[w, nat, GROUPS.index("family")].sum())
    raise ValueError(f"no simulated counterpart for target {kind!r}")


def targets_through(targets: pd.DataFrame, through: pd.Period) -> pd.DataFrame:
    """The fitted figures whose period ends by the end of month `through` (none after)."""
    last = (through + 1).start_time.date() - dt.timedelta(days=1)
    keep = targets["target"].isin(FITTED_TARGETS) & (targets["period_end"] <= last)
    return targets[keep].reset_index(drop=True)


@dataclass(frozen=True)
class Observed:
    """The margins the loss compares: [nat, month] and [group, month], persons."""

    months: pd.PeriodIndex
    by_nat: np.ndarray
    by_group: np.ndarray
    targets: pd.DataFrame

    @classmethod
    def from_usbp(
        cls, usbp: pd.DataFrame, through: pd.Period, targets: pd.DataFrame | None = None
    ) -> Observed:
        """From the wide USBP frame (index or column `month`); only months <= `through`."""
        frame = usbp.copy()
        if "month" in frame.columns:
            frame = frame.set_index("month")
        frame.index = pd.PeriodIndex(frame.index, freq="M")
        frame = frame[frame.index <= through].sort_index()
        if frame.empty:
            raise ValueError(f"no observed months up to {through}")
        by_nat = frame[list(NATIONALITIES)].to_numpy(dtype=float).T
        by_group = frame[[FAMILY_STATUS[g] for g in GROUPS]].to_numpy(dtype=float).T
        # the source rounds every cell to 10: make the two margins agree exactly
        by_group = by_group * (by_nat.sum(axis=0) / by_group.sum(axis=0))[None, :]
        policy = targets_through(load_policy_targets() if targets is None else targets, through)
        return cls(frame.index, by_nat, by_group, policy)

    def cell_totals(self):  # noqa: ANN201
        """Published nationality x group totals inside the fitted months (`CellTotal`s)."""
        return _cell_totals(self)


def _cell_totals(obs: Observed):  # noqa: ANN202
    """The published totals of one nationality x group over whole fitted months (FY2019
    family-unit members by citizenship), as margins for the demand's raking."""
    from sim.fitting.demand import CellTotal

    out = []
    starts = obs.months.to_timestamp(how="start").date
    ends = ((obs.months + 1).to_timestamp(how="start") - pd.Timedelta(days=1)).date
    for row in obs.targets.itertuples(index=False):
        if row.target != "usbp_family_unit_individuals":
            continue
        inside = (starts >= row.period_start) & (ends <= row.period_end)
        if inside.any():
            nat = NAT_INDEX[_CITIZENSHIP[row.unit]]
            out.append(CellTotal(nat, GROUPS.index("family"), inside, float(row.value)))
    return tuple(out)


def loss_terms(d: RunDigest, obs: Observed) -> pd.DataFrame:
    """Every term of the loss: what, observed, simulated, sigma, z = log ratio / sigma."""
    sim = d.monthly_apprehensions(obs.months)
    rows = []
    for i, nat in enumerate(NATIONALITIES):
        for k, m in enumerate(obs.months):
            rows.append(
                ("usbp", nat, str(m), obs.by_nat[i, k], sim[i, :, k].sum(), SIGMA_USBP, 1.0)
            )
    for j, g in enumerate(GROUPS):
        for k, m in enumerate(obs.months):
            rows.append(
                (
                    "usbp",
                    FAMILY_STATUS[g],
                    str(m),
                    obs.by_group[j, k],
                    sim[:, j, k].sum(),
                    SIGMA_USBP,
                    1.0,
                )
            )
    for row in obs.targets.itertuples(index=False):
        sigma = SIGMA_TARGET * _SIGMA_FACTOR.get(row.target, 1.0)
        label = f"{row.period_start}..{row.period_end}"
        what = (
            row.target
            if row.target != "usbp_family_unit_individuals"
            else f"{row.target} {row.unit}"
        )
        days = (row.period_end - row.period_start).days + 1
        per_count = days if row.kind == "daily_rate" else 1.0  # a rate a day: count it whole
        rows.append(
            ("policy", what, label, float(row.value), simulated_target(d, row), sigma, per_count)
        )
    frame = pd.DataFrame(
        rows, columns=["kind", "what", "period", "observed", "simulated", "sigma", "per_count"]
    )
    # Monte Carlo noise: at scale s a count of n persons is about n s / PERSONS_PER_PARTY
    # simulated parties, whose log has variance ~ 1 / parties; added to the stated sigma so
    # a small count (MPP cases in early 2019 at scale 0.05: under one party) cannot steer
    # the fit with noise
    per_count = frame.pop("per_count")
    parties = np.maximum(frame["observed"] * per_count, 1.0) * d.scale
    frame["sigma"] = np.sqrt(frame["sigma"] ** 2 + PERSONS_PER_PARTY / parties)
    frame["pseudo"] = PERSONS_PER_PARTY / (d.scale * per_count)
    frame["z"] = log_ratio(frame) / frame["sigma"]
    policy = frame["kind"] == "policy"
    frame["weight"] = np.where(policy, POLICY_WEIGHT, 1.0)
    frame["nu"] = np.where(policy, NU_POLICY, np.inf)
    return frame


def log_ratio(terms: pd.DataFrame) -> pd.Series:
    """log((simulated + c) / (observed + c)), c = one simulated party in the term's units
    (`pseudo`): a count of zero or one party at the calibration's scale (MPP court cases in
    the three days of January 2019 are 15 persons, under two parties at scale 0.2) is then
    a modest misfit instead of log(1 / 15), whose swing between 0 and 1 party was the
    largest Monte Carlo noise of the loss (47 against 12 of its weighted Student-t term);
    on counts of thousands, c changes nothing."""
    c = terms["pseudo"]
    return np.log((terms["simulated"] + c) / (terms["observed"] + c))


def rho(z: np.ndarray | pd.Series, nu: np.ndarray | pd.Series) -> np.ndarray:
    """-2 log density of each term (up to a constant): z^2 where nu is infinite (Gaussian),
    (nu + 1) log(1 + z^2 / nu) otherwise (Student-t)."""
    z2 = np.asarray(z, dtype=float) ** 2
    nu = np.asarray(nu, dtype=float)
    finite = np.isfinite(nu)
    safe = np.where(finite, nu, 1.0)
    return np.where(finite, (safe + 1.0) * np.log1p(z2 / safe), z2)


def term_losses(terms: pd.DataFrame) -> np.ndarray:
    """Each term's weighted contribution to the loss."""
    nu = terms["nu"] if "nu" in terms else np.full(len(terms), np.inf)
    return terms["weight"].to_numpy(dtype=float) * rho(terms["z"], nu)


def total_loss(terms: pd.DataFrame) -> float:
    """-2 log pseudo-likelihood (up to a constant): the weighted sum of rho(z)."""
    return float(term_losses(terms).sum())


def loss(d: RunDigest, obs: Observed) -> float:
    return total_loss(loss_terms(d, obs))
