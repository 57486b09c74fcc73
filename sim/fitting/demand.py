"""Undeterred demand as a small structural model, and its fit given the mechanisms.

Per nationality x group, persons setting out in departure month j (undeterred) are

    rate[n, g] x S(calendar month of j) x exp(trend_stream(n, g)(j)) x caravan(n, g, j)

- `rate`: 15 free base rates (persons/month at seasonal factor 1 and trend 0);
- `S`: calendar seasonality shared by all origins, two harmonics (4 free parameters, their
  amplitude bounded by the documented seasonal swings: `SEASON_BOUND`), normalised to mean 1
  and written into the scenario as its 12 monthly values;
- `trend`: one smooth slow trend per stream (Mexico; Northern-Triangle single adults,
  families and children; other nationalities), linear in log between knots eight months
  apart (the 15th of `KNOTS`, plus the last fitted departure month), held flat before the
  first knot (anchored at 0) and after the last: beyond the data demand holds its level,
  and no rule replays a past year. Each step between knots is bounded to 20% over three
  months, so a sharp change has to come from a dated mechanism;
- `caravan`: one dated shock for the documented caravans (12 Oct 2018 - 31 Jan 2019,
  Northern-Triangle adults and families), multiplier in [1, 1.5] (7,000-12,000 people each,
  "a small share of total flows": domain facts).

Given the mechanisms (`sim.fitting.parameters`), the demand is fitted by a damped
fixed-point iteration: run the model, rake its monthly apprehensions to the two observed
margins (and to the published FY2019 family-unit totals by citizenship, when the fitted
months hold them: `rake`), shift the log ratio back by the journey lag (one month, none for Mexico) to the
departure month, and refit the structure above to the corrected log demand by bounded
weighted least squares (`scipy.optimize.lsq_linear`). The structure, not the data,
decides what demand can do: it cannot follow a monthly wiggle.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import lsq_linear

from sim.domain import GROUPS, NATIONALITIES
from sim.scenario.schema import MAX_TREND_LOG_PER_MONTH, Scenario, Shock

KNOTS = ("2017-10", "2018-06", "2019-02")
LAG_MONTHS = {"mexico": 0, "guatemala": 1, "honduras": 1, "el_salvador": 1, "other": 1}
NT = ("guatemala", "honduras", "el_salvador")
STREAMS: dict[str, list[tuple[str, str]]] = {
    "mexico": [("mexico", g) for g in GROUPS],
    "nt_single_adult": [(n, "single_adult") for n in NT],
    "nt_family": [(n, "family") for n in NT],
    "nt_unaccompanied_child": [(n, "unaccompanied_child") for n in NT],
    "other": [("other", g) for g in GROUPS],
}
CARAVAN = {
    "name": "caravans",
    "start": dt.date(2018, 10, 12),
    "end": dt.date(2019, 2, 1),
    "nationalities": list(NT),
    "groups": ["single_adult", "family"],
    "source": "caravans from San Pedro Sula, Oct 2018 - Jan 2019 (domain facts); amplitude fitted",
}
CARAVAN_MAX = 1.5
HARMONICS = 2
# bounds on the harmonic coefficients (log scale): the seasonal swing may not exceed about
# +-30% around the mean, the size of the documented swings (FY2018 months 25,500-41,500
# around 33,000; May->June -21% on average 2000-2017, WOLA; CBP: a typical ~8% slowdown),
# so that seasonality cannot absorb a surge that happened in one spring only
SEASON_BOUND = (0.2, 0.1)


def knots_for(last_departure: pd.Period) -> list[pd.Period]:
    """Trend knots: the fixed eight-monthly ones up to the last fitted departure month, plus
    that month when it is at least two months past them."""
    fixed = [pd.Period(k, "M") for k in KNOTS if pd.Period(k, "M") <= last_departure]
    if not fixed:
        return [last_departure]
    if (last_departure - fixed[-1]).n >= 2:
        fixed.append(last_departure)
    return fixed


def _season_log(coef: np.ndarray) -> np.ndarray:
    """The harmonics' log factor for each calendar month (Jan..Dec), before normalising."""
    m = np.arange(12)
    log = np.zeros(12)
    for h in range(HARMONICS):
        w = 2 * np.pi * (h + 1) * m / 12
        log += coef[2 * h] * np.cos(w) + coef[2 * h + 1] * np.sin(w)
    return log


def seasonality(coef: np.ndarray) -> np.ndarray:
    """Twelve monthly factors (Jan..Dec), mean 1, from harmonic coefficients."""
    s = np.exp(_season_log(coef))
    return s / s.mean()


@dataclass
class Demand:
    """The free demand parameters (log scale)."""

    log_rate: np.ndarray  # [nat, group]
    season: np.ndarray  # [2 * HARMONICS]
    steps: dict[str, np.ndarray]  # per stream: log change from one knot to the next
    knots: list[pd.Period]
    log_caravan: float

    @classmethod
    def initial(cls, base: Scenario, knots: list[pd.Period]) -> Demand:
        rates = np.array(
            [
                [max(getattr(base.departures.rates[n], g), 1.0) for g in GROUPS]
                for n in NATIONALITIES
            ]
        )
        return cls(
            np.log(rates),
            np.zeros(2 * HARMONICS),
            {s: np.zeros(len(knots) - 1) for s in STREAMS},
            knots,
            0.0,
        )

    @classmethod
    def of_scenario(cls, base: Scenario, knots: list[pd.Period]) -> Demand:
        """The demand `base` already holds (a calibration fragment's), so that a fit can
        start where the last one ended instead of from the rates alone (`initial`): its
        rates; its twelve seasonal factors read back into the harmonics (least squares on
        the log factors, exact for a fragment's own up to their rounding); per stream, the
        mean over its cells of the log trend at `knots` (linear between the scenario's own
        knots, flat outside them), less its value at the first knot, which goes into the
        rates; and the caravans' multiplier. Each is clipped to the fit's bounds."""
        dep = base.departures
        rates = [[max(getattr(dep.rates[n], g), 1.0) for g in GROUPS] for n in NATIONALITIES]
        log_rate = np.log(np.array(rates))
        log_s = np.log(np.asarray(dep.seasonality, dtype=float))
        basis = np.stack([_season_log(unit) for unit in np.eye(2 * HARMONICS)])
        season = np.linalg.lstsq(basis.T, log_s - log_s.mean(), rcond=None)[0]
        at = np.array([(k - knots[0]).n for k in knots], dtype=float)
        steps = {}
        for stream, cells in STREAMS.items():
            values = np.mean([_log_trend_at(dep.trend, n, g, knots[0], at) for n, g in cells], 0)
            for n, g in cells:
                log_rate[NATIONALITIES.index(n), GROUPS.index(g)] += values[0]
            steps[stream] = np.diff(values)
        caravan = next((s.multiplier for s in dep.shocks if s.name == CARAVAN["name"]), 1.0)
        out = cls(log_rate, season, steps, knots, float(np.log(max(caravan, 1e-12))))
        lo, hi = out.bounds()
        return out.from_vector(np.clip(out.to_vector(), lo, hi))

    @property
    def n_free(self) -> int:
        return int(
            self.log_rate.size + self.season.size + sum(v.size for v in self.steps.values()) + 1
        )

    def knot_values(self, stream: str) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(self.steps[stream])])

    def apply(self, scenario: Scenario) -> Scenario:
        """`scenario` with this demand: rates, seasonality, trend knots and the caravan shock;
        legacy monthly levels removed."""
        dep = scenario.departures
        rates = {
            n: dep.rates[n].model_copy(
                update={
                    g: round(float(np.exp(self.log_rate[i, j])), 1) for j, g in enumerate(GROUPS)
                }
            )
            for i, n in enumerate(NATIONALITIES)
        }
        trend: dict[str, dict[str, float]] = {}
        for stream, cells in STREAMS.items():
            values = self.knot_values(stream)
            if not np.any(values):
                continue
            knots = {str(k): round(float(v), 5) for k, v in zip(self.knots, values, strict=True)}
            for n, g in cells:
                key = n if all(c[0] == n for c in cells) else f"{n}.{g}"
                trend[key] = knots
        shocks = [s for s in dep.shocks if s.name != CARAVAN["name"]]
        # where the caravans' members go is a lever of its own, not demand: kept
        port = next((s.port_of_entry_share for s in dep.shocks if s.name == CARAVAN["name"]), None)
        shocks.append(
            Shock(
                **CARAVAN,
                multiplier=round(float(np.exp(self.log_caravan)), 4),
                port_of_entry_share=port,
            )
        )
        new = dep.model_copy(
            update={
                "rates": rates,
                "seasonality": [round(float(x), 4) for x in seasonality(self.season)],
                "trend": trend,
                "shocks": shocks,
                "level": {},
                "level_after_fit": "one",
            }
        )
        # round-trip through validation, so the trend bound is checked like a file's
        return Scenario.model_validate(
            {**scenario.model_dump(by_alias=True), "departures": new.model_dump(by_alias=True)}
        )

    # ------------------------------------------------------------------ least squares
    def to_vector(self) -> np.ndarray:
        return np.concatenate(
            [
                self.log_rate.ravel(),
                self.season,
                *[self.steps[s] for s in STREAMS],
                [self.log_caravan],
            ]
        )

    def from_vector(self, x: np.ndarray) -> Demand:
        k = len(self.knots) - 1
        n_rate = self.log_rate.size
        steps = {}
        off = n_rate + self.season.size
        for s in STREAMS:
            steps[s] = x[off : off + k].copy()
            off += k
        return Demand(
            x[:n_rate].reshape(self.log_rate.shape).copy(),
            x[n_rate : n_rate + self.season.size].copy(),
            steps,
            self.knots,
            float(x[off]),
        )

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = [], []
        lo += [np.log(1.0)] * self.log_rate.size
        hi += [np.log(2e6)] * self.log_rate.size
        amp = [SEASON_BOUND[h] for h in range(HARMONICS) for _ in range(2)]
        lo += [-a for a in amp]
        hi += amp
        gaps = np.array([(b - a).n for a, b in zip(self.knots, self.knots[1:], strict=False)])
        for _ in STREAMS:
            lo += list(-MAX_TREND_LOG_PER_MONTH * gaps * 0.999)
            hi += list(MAX_TREND_LOG_PER_MONTH * gaps * 0.999)
        lo.append(0.0)
        hi.append(np.log(CARAVAN_MAX))
        return np.array(lo), np.array(hi)


def _log_trend_at(
    trend: dict[str, dict[str, float]], nat: str, group: str, first: pd.Period, at: np.ndarray
) -> np.ndarray:
    """A cell's log trend (its 'all', nationality and cell knots summed, as the model adds
    them) at months `at` counted from `first`: linear between knots, flat outside them."""
    total = np.zeros(len(at))
    for key in ("all", nat, f"{nat}.{group}"):
        knots = trend.get(key)
        if not knots:
            continue
        x = np.array([(pd.Period(k, "M") - first).n for k in knots], dtype=float)
        total += np.interp(at, x, np.array(list(knots.values()), dtype=float))
    return total


def _design(
    demand: Demand, months: pd.PeriodIndex
) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Rows of the log-linear structure for every (nat, group, departure month), except the
    seasonal harmonics (nonlinear only through the normalisation, linearised here)."""
    k = len(demand.knots) - 1
    x_knots = np.array([(kn - months[0]).n for kn in demand.knots], dtype=float)
    t = np.arange(len(months), dtype=float)
    # the value at each month of a unit step at knot l (the cumulative hat functions)
    hats = np.zeros((len(months), len(demand.knots)))
    for i in range(len(demand.knots)):
        e = np.zeros(len(demand.knots))
        e[i] = 1.0
        hats[:, i] = np.interp(t, x_knots, e)
    cum = np.stack([hats[:, step + 1 :].sum(axis=1) for step in range(k)], axis=1)
    # share of each month inside the caravan window
    starts = months.to_timestamp(how="start")
    ends = (months + 1).to_timestamp(how="start")
    c0, c1 = pd.Timestamp(CARAVAN["start"]), pd.Timestamp(CARAVAN["end"])
    overlap = np.clip((np.minimum(ends, c1) - np.maximum(starts, c0)).days, 0, None)
    frac = overlap / (ends - starts).days
    cal = months.month.to_numpy() - 1
    n_par = demand.to_vector().size
    rows, keys = [], []
    n_rate = demand.log_rate.size
    stream_of = {cell: s for s, cells in STREAMS.items() for cell in cells}
    stream_index = {s: i for i, s in enumerate(STREAMS)}
    for i, nat in enumerate(NATIONALITIES):
        for j, g in enumerate(GROUPS):
            si = stream_index[stream_of[(nat, g)]]
            caravan = nat in CARAVAN["nationalities"] and g in CARAVAN["groups"]
            for m in range(len(months)):
                r = np.zeros(n_par)
                r[i * len(GROUPS) + j] = 1.0
                for h in range(HARMONICS):
                    w = 2 * np.pi * (h + 1) * cal[m] / 12
                    r[n_rate + 2 * h] = np.cos(w)
                    r[n_rate + 2 * h + 1] = np.sin(w)
                off = n_rate + demand.season.size + si * k
                r[off : off + k] = cum[m]
                if caravan:
                    r[-1] = frac[m]
                rows.append(r)
                keys.append((i, j, m))
    return np.array(rows), keys


@dataclass(frozen=True)
class CellTotal:
    """A published total of one nationality x group cell over some of the fitted months
    (FY2019 family-unit members by citizenship): a third margin for the raking."""

    nat: int
    group: int
    months: np.ndarray  # bool [month]
    total: float


def rake(
    joint: np.ndarray,
    by_nat: np.ndarray,
    by_group: np.ndarray,
    sweeps: int = 100,
    cells: tuple[CellTotal, ...] = (),
) -> np.ndarray:
    """Iterative proportional fitting of a [nat, group, month] table to both monthly margins
    and to the published cell totals `cells`. The two margins alone leave the split of each
    nationality between groups to the model's own structure; the totals pin it where they
    exist (the other nationalities absorb the rest of each group's monthly margin)."""
    t = np.maximum(joint, 1e-9).copy()
    for _ in range(sweeps):
        t *= (by_nat / t.sum(axis=1))[:, None, :]
        t *= (by_group / t.sum(axis=0))[None, :, :]
        for c in cells:
            t[c.nat, c.group, c.months] *= c.total / t[c.nat, c.group, c.months].sum()
    if cells:  # end on the monthly margins (the cell totals hold to the sweeps' tolerance)
        t *= (by_nat / t.sum(axis=1))[:, None, :]
        t *= (by_group / t.sum(axis=0))[None, :, :]
    return t


def refit(
    demand: Demand,
    simulated: np.ndarray,
    by_nat: np.ndarray,
    by_group: np.ndarray,
    obs_months: pd.PeriodIndex,
    damping: float = 0.8,
    cells: tuple[CellTotal, ...] = (),
) -> Demand:
    """One fixed-point step: the structure refitted to log demand corrected by the raked
    log ratio of observed to simulated apprehensions (raked to both monthly margins and the
    published cell totals `cells`), shifted back by the journey lag."""
    target = rake(simulated, by_nat, by_group, cells=cells)
    dep_months = pd.period_range(obs_months[0] - 1, obs_months[-1], freq="M")
    B, keys = _design(demand, dep_months)
    x0 = demand.to_vector()
    current = B @ x0  # the structure's log demand now (harmonics linear in log: the
    # normalisation to mean 1 is a constant absorbed by the rates)
    y = current.copy()
    w = np.zeros(len(keys))
    for r, (i, j, m) in enumerate(keys):
        arrival = m + LAG_MONTHS[NATIONALITIES[i]] - 1  # dep_months starts one month early
        if 0 <= arrival < len(obs_months):
            sim, tgt = simulated[i, j, arrival], target[i, j, arrival]
            if sim > 0 and tgt > 0:
                y[r] += damping * np.log(tgt / sim)
                w[r] = np.sqrt(tgt)
    keep = w > 0
    sw = w[keep][:, None]
    lo, hi = demand.bounds()
    x0c = np.clip(x0, lo, hi)
    sol = lsq_linear(B[keep] * sw, y[keep] * sw[:, 0], bounds=(lo, hi), method="bvls")
    x = sol.x if sol.success else x0c
    out = demand.from_vector(x)
    # the harmonics enter the scenario normalised to mean 1: move that constant into rates
    out.log_rate = out.log_rate + np.log(np.exp(_season_log(out.season)).mean())
    return out
