"""Line the simulated months up with the observed ones and score the model and the naives.

"Beats naive" is judged on equal terms: the model's MAPE (for a split: its Flee ARD) is
recomputed over exactly the months where each naive forecast exists, and the model has to
be better than every naive forecast that exists for at least one month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.validation import metrics as m
from sim.validation.naive import NAIVE, lagged
from sim.validation.series import ARD_GROUPS, SERIES

MONTHLY_COLUMNS = [
    "series",
    "month",
    "observed",
    "sim_mean",
    "sim_p5",
    "sim_p95",
    *NAIVE,
]


@dataclass
class Comparison:
    """Monthly rows and metrics of one sample ("in_sample" or "out_of_sample")."""

    sample: str
    monthly: pd.DataFrame
    metrics: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.metrics.empty


def observed_wide(usbp: pd.DataFrame, swb: pd.DataFrame | None = None) -> pd.DataFrame:
    """Observed counts as month x series (names of `SERIES`), nan where unpublished."""
    frames = {"usbp": usbp, "swb": swb}
    cols = {
        s.name: frames[s.source][s.name].astype(float)
        for s in SERIES
        if frames[s.source] is not None and s.name in frames[s.source].columns
    }
    out = pd.DataFrame(cols)
    out.index.name = "month"
    return out


def _monthly_rows(sim: pd.DataFrame, observed: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for name in observed.columns:
        obs = observed[name].dropna()
        rows = sim[sim["series"] == name].set_index("month")
        months = rows.index.intersection(obs.index).sort_values()
        if len(months) == 0:
            continue
        part = rows.loc[months, ["sim_mean", "sim_p5", "sim_p95"]].copy()
        part.insert(0, "observed", obs.reindex(months).to_numpy())
        for naive, lag in NAIVE.items():
            part[naive] = lagged(history[name], months, lag).to_numpy()
        part.insert(0, "series", name)
        parts.append(part.rename_axis("month").reset_index())
    if not parts:
        return pd.DataFrame(columns=MONTHLY_COLUMNS)
    return pd.concat(parts, ignore_index=True)[MONTHLY_COLUMNS]


def _verdicts(wins: dict[str, bool]) -> dict[str, str]:
    """beats_<naive> per naive (yes/no/n/a) and beats_naive: yes only if it beats all."""
    out = {f"beats_{n}": ("n/a" if n not in wins else "yes" if wins[n] else "no") for n in NAIVE}
    out["beats_naive"] = "n/a" if not wins else "yes" if all(wins.values()) else "no"
    return out


def _series_metrics(name: str, rows: pd.DataFrame) -> dict[str, object]:
    sim, obs = rows["sim_mean"].to_numpy(), rows["observed"].to_numpy()
    out: dict[str, object] = {
        "series": name,
        "kind": "series",
        "months": len(rows),
        "first_month": str(rows["month"].min()),
        "last_month": str(rows["month"].max()),
        "observed_total": float(obs.sum()),
        "sim_total": float(sim.sum()),
        "mape": m.mape(sim, obs),
        "total_error": m.total_error(sim, obs),
        "correlation": m.correlation(sim, obs),
        "ard": m.ard(sim, obs),
    }
    wins: dict[str, bool] = {}
    for naive in NAIVE:
        fc = rows[naive].to_numpy()
        ok = ~np.isnan(fc)
        out[f"{naive}_months"] = int(ok.sum())
        out[f"{naive}_mape"] = m.mape(fc[ok], obs[ok])
        out[f"{naive}_ard"] = m.ard(fc[ok], obs[ok])
        if ok.any():
            wins[naive] = m.mape(sim[ok], obs[ok]) < out[f"{naive}_mape"]
    return {**out, **_verdicts(wins)}


def _group_metrics(group: str, names: tuple[str, ...], monthly: pd.DataFrame) -> dict | None:
    """Flee ARD across the components of a split (months where every component is known)."""
    sel = monthly[monthly["series"].isin(names)]
    if set(sel["series"]) != set(names):
        return None

    def wide(col: str) -> pd.DataFrame:
        return sel.pivot(index="month", columns="series", values=col)[list(names)]

    obs = wide("observed").dropna()
    if obs.empty:
        return None
    sim = wide("sim_mean").reindex(obs.index).to_numpy()
    o = obs.to_numpy()
    out: dict[str, object] = {
        "series": group,
        "kind": "group",
        "months": len(obs),
        "first_month": str(obs.index.min()),
        "last_month": str(obs.index.max()),
        "observed_total": float(o.sum()),
        "sim_total": float(sim.sum()),
        "ard": m.flee_ard(sim, o),
    }
    wins: dict[str, bool] = {}
    for naive in NAIVE:
        fc = wide(naive).reindex(obs.index).to_numpy()
        ok = ~np.isnan(fc).any(axis=1)
        out[f"{naive}_months"] = int(ok.sum())
        out[f"{naive}_ard"] = m.flee_ard(fc[ok], o[ok]) if ok.any() else float("nan")
        if ok.any():
            wins[naive] = m.flee_ard(sim[ok], o[ok]) < out[f"{naive}_ard"]
    return {**out, **_verdicts(wins)}


METRIC_COLUMNS = [
    "series",
    "kind",
    "months",
    "first_month",
    "last_month",
    "observed_total",
    "sim_total",
    "mape",
    "total_error",
    "correlation",
    "ard",
    *(f"{n}_{k}" for n in NAIVE for k in ("months", "mape", "ard")),
    *(f"beats_{n}" for n in NAIVE),
    "beats_naive",
]


def compare(
    sim: pd.DataFrame, observed: pd.DataFrame, history: pd.DataFrame, sample: str
) -> Comparison:
    """Score `sim` (long, from `summarise`) against `observed` (month x series).

    `history` (month x series) holds every observed month available for the naive forecasts;
    it should include `observed` itself.
    """
    monthly = _monthly_rows(sim, observed, history)
    rows = [
        _series_metrics(name, monthly[monthly["series"] == name])
        for name in observed.columns
        if (monthly["series"] == name).any()
    ]
    for group, names in ARD_GROUPS.items():
        row = _group_metrics(group, names, monthly)
        if row is not None:
            rows.append(row)
    metrics = pd.DataFrame(rows).reindex(columns=METRIC_COLUMNS).round(6)
    return Comparison(sample, monthly, metrics)
