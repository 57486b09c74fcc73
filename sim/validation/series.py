"""Which simulated count is compared with which published column.

Border Patrol (USBP) apprehensions between ports are the model metric `apprehensions`;
OFO encounters at ports of entry are `port_encounters`; both together are `encounters`.
Model groups map to the published family-status columns; nationalities use the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP_COLUMNS: dict[str, str] = {
    "single_adult": "single_adults",
    "family": "family_unit_individuals",
    "unaccompanied_child": "unaccompanied_children",
}


@dataclass(frozen=True)
class Series:
    """One compared series: `name` is the observed column and the row label."""

    name: str
    label: str
    chart: str  # chart (and ARD group) it belongs to
    metric: str  # simulated metric summed per month
    by: str | None = None  # "group" or "nationality" breakdown of the metric
    key: str | None = None  # the model label selected within `by`
    source: str = "usbp"  # "usbp" (OHSS, FY2018-FY2019) or "swb" (CBP, FY2019)


SERIES: tuple[Series, ...] = (
    Series("usbp_total", "USBP apprehensions", "total", "apprehensions"),
    *(
        Series(col, col.replace("_", " "), "family_status", "apprehensions", "group", grp)
        for grp, col in GROUP_COLUMNS.items()
    ),
    *(
        Series(
            nat, nat.replace("_", " ").title(), "citizenship", "apprehensions", "nationality", nat
        )
        for nat in ("mexico", "guatemala", "honduras", "el_salvador", "other")
    ),
    Series("swb_total", "SWB encounters (USBP + OFO)", "swb", "encounters", source="swb"),
    Series("ofo_total", "OFO encounters at ports", "swb", "port_encounters", source="swb"),
)
SERIES_BY_NAME: dict[str, Series] = {s.name: s for s in SERIES}

CHARTS: dict[str, str] = {
    "total": "USBP apprehensions, Southwest border",
    "family_status": "USBP apprehensions by family status",
    "citizenship": "USBP apprehensions by citizenship",
    "swb": "Southwest-border encounters (FY2019 CBP series)",
}

# Series whose components add up to one total: the Flee ARD is computed across them.
ARD_GROUPS: dict[str, tuple[str, ...]] = {
    "family_status": tuple(s.name for s in SERIES if s.chart == "family_status"),
    "citizenship": tuple(s.name for s in SERIES if s.chart == "citizenship"),
}


def series_in(chart: str) -> list[Series]:
    return [s for s in SERIES if s.chart == chart]
