"""What a run produces, and how it is written: atomically, self-describing.

A results folder holds `daily.parquet` (tidy), `summary.csv` (headline totals),
`manifest.json` (versions, commit, resolved scenario, hash, seed, run time) and `charts/`.
It is written to a temporary sibling folder and renamed at the end, so an interrupted or
failed write never leaves a half-written folder behind.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.calendar import SimCalendar
from sim.chartlist import skipped_run_charts
from sim.lookup import check_breakdown, check_metric
from sim.metrics import AGREEMENT_INDICATORS, FLOW_INDEX
from sim.ownership import (
    check_output_dir,
    clean_leftovers,
    marker_kind,
    old_name,
    temp_prefix,
    write_failed,
    write_marker,
)
from sim.recorder import Recorder
from sim.scenario.loader import resolved_dict, scenario_hash
from sim.scenario.schema import Scenario
from sim.summarytext import period_record

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from sim.outputhelpers import OutputHelpers

_SUMMED = (
    "departures",
    "first_departures",
    "reattempts",
    "deterred",
    "stopped_in_mexico",
    "protection_en_route",
    "encounters",
    "apprehensions",
    "port_encounters",
    "removed",
    "released",
    "detained",
    "hhs_referred",
    "mpp_enrolled",
    "metering_joined",
    "transferred",
    "transfer_fallback",
    "applied_abroad",
    "home_from_abroad",
    "retry_from_abroad",
    "custody_exits_over_72h",
)
_PEAKS = ("in_custody", "custody_over_72h", "mpp_waiting", "metering_waitlist", "awaiting_transfer")


#: per-agreement stocks and indicators reported at the end of the run in `summary.csv`
_AGREEMENT_END = (
    "asylum_backlog",
    "asylum_backlog_over_180d",
    "asylum_backlog_over_365d",
    "asylum_capacity",
    "asylum_expected_wait_days",
    "asylum_median_wait_days",
)


@dataclass
class RunResult:
    scenario: Scenario
    replication: int
    calendar: SimCalendar
    recorder: Recorder
    wall_seconds: float
    events: int
    extra_manifest: dict = field(default_factory=dict)

    @cached_property
    def flows(self) -> np.ndarray:
        """`Recorder.flow_array()`, made once (read-only): converting the flat list costs
        tens of ms at scale 0.1, and the table, summary and manifest all read it."""
        arr = self.recorder.flow_array()
        arr.flags.writeable = False
        return arr

    @cached_property
    def daily(self) -> pd.DataFrame:
        """Tidy daily table: date, metric, nationality, group, agreement, value (persons)."""
        return self.recorder.to_frame(
            self.calendar.dates, self.calendar.first_reported, self.scenario.scale, self.flows
        )

    @property
    def people_simulated(self) -> int:
        """Distinct persons who set out and were simulated, warm-up included (model parties
        x size, not scaled back: at scale 0.1 about a tenth of `people_represented`)."""
        return int(round(self.flows[:, FLOW_INDEX["first_departures"]].sum()))

    @property
    def people_represented(self) -> int:
        """The persons `people_simulated` stands for at full scale (divided by the scale)."""
        return int(round(self.people_simulated / self.scenario.scale))

    def series(self, metric: str, by: str | None = None) -> pd.Series | pd.DataFrame:
        """Daily totals of a metric, optionally broken down by a column (wide).

        An unknown metric or `by` column raises `UnknownNameError` listing close matches
        (a typo must not read as "zero throughout"); a known metric without rows in this
        run gives an empty series.
        """
        check_metric(metric)
        if by is not None:
            check_breakdown(by)
        d = self.daily[self.daily["metric"] == metric]
        if by is None:
            return d.groupby("date", observed=True)["value"].sum()
        return d.pivot_table(
            index="date", columns=by, values="value", aggfunc="sum", observed=True
        ).fillna(0.0)

    def plot(self, metric: str, by: str | None = None, ax: Axes | None = None) -> Axes:
        """Chart a metric inline (a notebook): flows as monthly bars, stocks and indicators
        as daily lines, by `nationality`, `group` or `agreement`, with the policy dates and
        the scale; draws into `ax` if given. Returns the matplotlib Axes."""
        from sim.plotting import plot_run

        return plot_run(self, metric, by=by, ax=ax)

    def summary(self) -> pd.DataFrame:
        """Headline totals over the reported period (persons), one row per indicator."""
        import pandas as pd

        return pd.DataFrame(self._summary_rows, columns=["indicator", "agreement", "value"])

    def totals(self) -> dict[str, float]:
        """The summary's totals over all agreements, by indicator: what `migsim run` prints
        (read without pandas when the output helpers computed the summary)."""
        return {i: v for i, a, v in self._summary_rows if a == ""}

    @cached_property
    def _summary_rows(self) -> list[tuple[str, str, float]]:
        """The summary's rows, made once (`write`, `migsim run`'s line and `summary` read
        them; the output helpers send them back to the run)."""
        d = self.daily
        rows: list[tuple[str, str, float]] = []
        totals = d[d["metric"].isin(_SUMMED)].groupby("metric", observed=True)["value"].sum()
        for m in _SUMMED:
            rows.append((m, "", float(totals.get(m, 0.0))))
        for agr in self.recorder.agreements[1:]:
            for m in ("transferred", "transfer_fallback", "applied_abroad", "asylum_decided"):
                v = d[(d["metric"] == m) & (d["agreement"] == agr)]["value"].sum()
                rows.append((m, agr, float(v)))
            for m in _AGREEMENT_END:  # the receiving system on the last reported day
                s = d[(d["metric"] == m) & (d["agreement"] == agr)]
                s = s.groupby("date", observed=True)["value"].sum(min_count=1)
                if not len(s) and m in AGREEMENT_INDICATORS:
                    continue  # never defined in the run
                value = float(s.iloc[-1]) if len(s) else 0.0  # a stock with no row: none
                if np.isfinite(value):  # an undefined indicator (no applicant yet): no row
                    rows.append((f"{m}_end", agr, value))
        for m in _PEAKS:
            s = d[d["metric"] == m].groupby("date", observed=True)["value"].sum()
            rows.append((f"peak_{m}", "", float(s.max()) if len(s) else 0.0))
        custody_days = float(d[d["metric"] == "custody_days"]["value"].sum())
        exits = float(
            d[
                d["metric"].isin(
                    [
                        "removed",
                        "released",
                        "detained",
                        "hhs_referred",
                        "transferred",
                        "mpp_enrolled",
                    ]
                )
            ]["value"].sum()
        )
        rows.append(
            ("mean_custody_hours", "", 24.0 * custody_days / exits if exits else float("nan"))
        )
        rows.append(("custody_person_days", "", custody_days))
        backlog = d[d["metric"] == "asylum_backlog"].groupby("date", observed=True)["value"].sum()
        rows.append(("asylum_backlog_end", "", float(backlog.iloc[-1]) if len(backlog) else 0.0))
        # the one row not scaled back: persons actually simulated (the manifest has both)
        rows.append(("people_simulated", "", float(self.people_simulated)))
        rows.append(("wall_seconds", "", self.wall_seconds))
        return rows

    def manifest(self) -> dict:
        return {
            "migsim_version": _version("migsim"),
            "git_commit": _git_commit(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "packages": {
                p: _version(p)
                for p in ("simpy", "numpy", "pandas", "pydantic", "pyarrow", "matplotlib")
            },
            "scenario_name": self.scenario.name,
            "scenario_hash": scenario_hash(self.scenario),
            "seed": self.scenario.seed,
            "replication": self.replication,
            "run_seconds": round(self.wall_seconds, 3),
            "simpy_events": self.events,
            "scale": self.scenario.scale,
            "period": period_record(self.scenario.start, self.scenario.end),
            "people_simulated": self.people_simulated,
            "people_represented": self.people_represented,
            "scenario": resolved_dict(self.scenario),
            **self.extra_manifest,
        }

    def write(
        self, out_dir: str | Path, charts: bool = True, helpers: OutputHelpers | None = None
    ) -> Path:
        """Write the results folder atomically; returns its path. With `helpers`
        (`sim.outputhelpers`), they write the tables and draw the charts while the run writes
        its manifest: the run's own process then never imports pandas or matplotlib."""
        out = Path(out_dir)
        check_output_dir(out, "run")
        tmp = make_temp_dir(out, "run")
        try:
            helped = False
            if charts and helpers is not None:
                (tmp / "charts").mkdir()
                helped = helpers.submit(self, tmp)
            manifest = self.manifest()
            rows = helpers.collect() if helped and helpers is not None else None
            if rows is not None:  # the helpers wrote the tables and drew the charts
                self.__dict__["_summary_rows"] = rows  # (the cached property's value)
            else:  # no helpers, or gone: everything here
                self.write_tables(tmp)
                if charts:
                    from sim.charts import write_run_charts

                    write_run_charts(self, tmp / "charts")
            if charts:
                manifest["charts_skipped"] = skipped_run_charts(self)
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
            replace_dir(tmp, out)
        except OSError as e:
            _stop(helpers)
            shutil.rmtree(tmp, ignore_errors=True)
            raise write_failed(out, e) from None
        except BaseException:
            _stop(helpers)
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out

    def write_tables(self, folder: Path) -> list[tuple[str, str, float]]:
        """`daily.parquet` and `summary.csv` into `folder`; returns the summary's rows."""
        from sim.rounding import round_by_indicator

        self.daily.to_parquet(folder / "daily.parquet", index=False)
        round_by_indicator(self.summary(), ["value"]).to_csv(folder / "summary.csv", index=False)
        return self._summary_rows


def _stop(helpers: OutputHelpers | None) -> None:
    """Output helpers still writing into a folder about to be removed are stopped first."""
    if helpers is not None:
        helpers.kill()


KEPT_SUBFOLDERS = ("validation",)  # written by other commands into the same folder


def make_temp_dir(out: Path, kind: str) -> Path:
    """A marked temporary sibling of `out` (`.NAME.tmp-PID-XXXX`) to write into; leftovers
    of killed earlier writes into the same place are cleaned up first."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_leftovers(out.parent, out.name)
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(out.name), dir=out.parent))
    except OSError as e:
        raise write_failed(out, e) from None
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; results are meant to be shared
        write_marker(tmp, kind)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise write_failed(out, e) from None
    return tmp


def replace_dir(tmp: Path, out: Path) -> None:
    """Swap a finished temporary folder into place (old results removed only after).

    `out` is checked again first (`check_output_dir`, with the kind in `tmp`'s marker): a
    folder migsim did not write, or one of another kind, is never replaced. Subfolders
    written by other commands (`validation/`) are carried over, so rerunning `migsim run`
    does not delete a validation made earlier.
    """
    check_output_dir(out, marker_kind(tmp) or "run")
    old = None
    if out.exists():
        for name in KEPT_SUBFOLDERS:
            if (out / name).is_dir() and not (tmp / name).exists():
                (out / name).rename(tmp / name)
        old = out.with_name(old_name(out.name))
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "unknown"


def _git_commit() -> str | None:
    try:
        here = Path(__file__).resolve().parent
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
