"""The `validation/` folder: metrics, monthly table, charts, manifest, written atomically.

It is built in a temporary sibling folder and renamed into place at the end (as results
folders are), so a failure never leaves a half-written folder behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim.chartstyle import of_scenario, policy_markers
from sim.ownership import check_output_dir, write_failed
from sim.results import make_temp_dir, replace_dir
from sim.rounding import round_columns
from sim.scenario.loader import resolved_dict, scenario_hash
from sim.scenario.schema import Scenario
from sim.summarytext import period_record
from sim.validation.charts import write_charts
from sim.validation.compare import Comparison
from sim.validation.naive import NAIVE
from sim.validation.runner import ReplicationOutput

_RUN_KEYS = ("migsim_version", "git_commit", "python", "platform", "packages")


def monthly_table(sim: pd.DataFrame, comparisons: Sequence[Comparison]) -> pd.DataFrame:
    """Every simulated series-month, with the observed value and naives where compared."""
    parts = [c.monthly.assign(sample=c.sample) for c in comparisons if len(c.monthly)]
    cols = ["series", "month", "sample", "observed", *NAIVE]
    obs = pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
    out = sim.merge(obs, on=["series", "month"], how="left")
    out["sample"] = out["sample"].fillna("")
    out["month"] = out["month"].astype(str)
    order = ["series", "month", "sample", "observed", "sim_mean", "sim_p5", "sim_p95", "reps"]
    return out[[*order, *NAIVE]]


def file_record(path: Path, role: str) -> dict[str, str]:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"role": role, "path": str(path), "sha256": digest}


def build_manifest(
    scenario: Scenario,
    outputs: Sequence[ReplicationOutput],
    jobs: int,
    observed_files: Sequence[dict[str, str]],
    notes: Sequence[str],
) -> dict:
    first = outputs[0].manifest
    return {
        "kind": "validation",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **{k: first.get(k) for k in _RUN_KEYS},
        "scenario_name": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "seed": scenario.seed,
        "scale": scenario.scale,
        # first and last simulated day, both inclusive (`scenario.end` is exclusive)
        "period": period_record(scenario.start, scenario.end),
        "reps": len(outputs),
        "jobs": jobs,
        "replications": [
            {
                "replication": o.replication,
                "seed": o.manifest.get("seed"),
                "run_seconds": o.manifest.get("run_seconds"),
                "simpy_events": o.manifest.get("simpy_events"),
            }
            for o in outputs
        ],
        "seeding": "every replication r draws from streams keyed by (seed, stream name, r)",
        "observed": list(observed_files),
        "notes": list(notes),
        "scenario": resolved_dict(scenario),
    }


#: persons in the validation CSVs, written as whole numbers (no float noise)
PERSON_COLUMNS = (
    "observed",
    "sim_mean",
    "sim_p5",
    "sim_p95",
    "naive_same_month",
    "naive_last_month",
    "observed_total",
    "sim_total",
)


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as written to CSV: persons rounded to whole numbers (`sim.rounding`)."""
    return round_columns(frame, dict.fromkeys(PERSON_COLUMNS, 0))


def write_validation(
    out: Path,
    sim: pd.DataFrame,
    in_sample: Comparison,
    out_of_sample: Comparison | None,
    manifest: dict,
    scenario: Scenario,
    stocks: pd.DataFrame | None = None,
) -> Path:
    """Write the folder atomically; returns its path."""
    check_output_dir(out, "validation")
    tmp = make_temp_dir(out, "validation")
    try:
        readable(in_sample.metrics).to_csv(tmp / "metrics.csv", index=False)
        comps = [in_sample]
        if out_of_sample is not None:
            readable(out_of_sample.metrics).to_csv(tmp / "metrics_out_of_sample.csv", index=False)
            comps.append(out_of_sample)
        monthly = monthly_table(sim, comps)
        if stocks is not None and len(stocks):
            round_columns(stocks, {"sim_mean": 0, "sim_min": 0, "sim_max": 0, "ratio": 3}).to_csv(
                tmp / "policy_targets.csv", index=False
            )
        readable(monthly).to_csv(tmp / "monthly.csv", index=False)
        chart_rows = monthly.assign(month=pd.PeriodIndex(monthly["month"], freq="M"))
        reps = manifest.get("reps") if isinstance(manifest.get("reps"), int) else None
        write_charts(
            chart_rows, tmp / "charts", policy_markers(scenario), of_scenario(scenario, reps)
        )
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        replace_dir(tmp, out)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise write_failed(out, e) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
