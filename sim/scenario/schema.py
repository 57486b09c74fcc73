"""The scenario schema: every lever of the model, its unit, bounds and the source of its default.

Scenario files are TOML; `sim.scenario.loader` resolves `extends` and `--set` and then
validates the result against `Scenario`. The lever names used by notebooks, sweeps and
tests (`deterrence.effect`, `agreements[].phase_in[].weekly_cap`, ...) are a contract.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from sim.scenario.fields import Frozen, lever

Nationality = Literal["mexico", "guatemala", "honduras", "el_salvador", "other"]
Group = Literal["single_adult", "family", "unaccompanied_child"]
AdultGroup = Literal["single_adult", "family"]
Country = Literal["mexico", "guatemala", "honduras", "el_salvador", "other"]
Consequence = Literal["removed", "mpp", "transferred", "detained", "stopped_in_mexico"]

NonNeg = Field(ge=0)

# Bounds of the physical quantities (issue 10: every number is bounded, so a typo fails at
# load time, not inside numpy). Every float is also finite (`Frozen` refuses inf and NaN).
MAX_DAYS = 3650  # durations and exponential means in days: at most ten years
MAX_HOURS = 8760  # durations in hours: at most a year
MAX_RATE = 10_000_000  # persons (or cases) per month, day or year in one cell
MAX_COUNT = 100_000_000  # capacities, caps and backlogs in persons or cases
MAX_LANES = 1_000_000
#: the longest horizon (end - start; the warm-up adds at most 730 days)
MAX_HORIZON_YEARS = 30
MAX_HORIZON_DAYS = round(MAX_HORIZON_YEARS * 365.25)
#: the most persons a run may simulate (estimated from rates x months x scale)
MAX_PERSONS = 50_000_000
#: seeds are numpy seeds stored as int64: [0, 2**63)
SEED_LIMIT = 2**63
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
#: a monthly level multiplier (a type, so an error names the month and the file setting it)
LevelValue = Annotated[float, Field(ge=0, le=100)]
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# FY2018 USBP Southwest-border apprehensions by calendar month (Jan..Dec), normalised to mean 1.
# Source: DHS OHSS "KHSM CBP Encounters - USBP" (sim/data/usbp_swb_monthly_fy2018_fy2019.csv).
_FY2018_PROFILE = [
    25970,
    26670,
    37400,
    38240,
    40350,
    34090,
    31300,
    37520,
    41490,
    25500,
    29090,
    28990,
]
FY2018_SEASONALITY = [round(12 * v / sum(_FY2018_PROFILE), 4) for v in _FY2018_PROFILE]


# ----------------------------------------------------------------------------- departures
class GroupRates(Frozen):
    """Undeterred departures in persons per month at seasonal factor 1."""

    single_adult: float = lever(0.0, unit="persons/month", ge=0, le=MAX_RATE)
    family: float = lever(
        0.0, unit="persons/month", ge=0, le=MAX_RATE, doc="family-unit individuals"
    )
    unaccompanied_child: float = lever(0.0, unit="persons/month", ge=0, le=MAX_RATE)


def _default_rates() -> dict[str, GroupRates]:
    # FY2019 USBP apprehensions by citizenship (OHSS) split by an assumed family-status mix,
    # plus an allowance for port-of-entry encounters and people stopped in Mexico.
    # Replaced by `migsim calibrate`; these are only a starting point.
    return {
        "mexico": GroupRates(single_adult=14500, family=1500, unaccompanied_child=1000),
        "guatemala": GroupRates(single_adult=7500, family=14000, unaccompanied_child=3300),
        "honduras": GroupRates(single_adult=5500, family=16000, unaccompanied_child=2000),
        "el_salvador": GroupRates(single_adult=2300, family=5000, unaccompanied_child=1000),
        "other": GroupRates(single_adult=3500, family=3500, unaccompanied_child=300),
    }


# the steepest trend the calibration may fit: 20% over three months (issue: sharp changes
# must come from dated mechanisms, not from demand)
MAX_TREND_LOG_PER_MONTH = 0.0607738  # ln(1.2) / 3


_NATS = ("mexico", "guatemala", "honduras", "el_salvador", "other")
_GROUPS = ("single_adult", "family", "unaccompanied_child")
_DEMAND_KEYS = frozenset({"all", *_NATS, *(f"{n}.{g}" for n in _NATS for g in _GROUPS)})


def _check_demand_key(key: str) -> None:
    """Keys of `departures.level` and `departures.trend`: multiplied together per cell."""
    if key not in _DEMAND_KEYS:
        raise ValueError(
            f"unknown key {key!r} (expected 'all', a nationality or 'nationality.group')"
        )


class _GroupDeparture(Frozen):
    """What dated events share: a name, a window, the cells they concern, a source, and
    where their own members present themselves."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    start: dt.date
    end: dt.date = lever(doc="exclusive")
    nationalities: list[Nationality] = Field(min_length=1)
    groups: list[Group] = Field(
        default_factory=lambda: ["single_adult", "family", "unaccompanied_child"]
    )
    source: str = ""
    port_of_entry_share: float | None = lever(
        None,
        unit="share of the event's members",
        ge=0,
        le=1,
        doc="share of the event's own members (the departures it adds) who present at a "
        "port of entry, and so join a metering list; none = as everyone of their "
        "nationality (`border.port_of_entry_share`)",
    )

    @model_validator(mode="after")
    def _dates(self) -> _GroupDeparture:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Shock(_GroupDeparture):
    """A documented, dated event that multiplies departures while it lasts."""

    multiplier: float = lever(1.0, unit="multiplier on departures", ge=0, le=10)

    @model_validator(mode="after")
    def _members(self) -> Shock:
        if self.port_of_entry_share is not None and self.multiplier < 1:
            raise ValueError("port_of_entry_share needs a multiplier of at least 1 (members)")
        return self


class Event(_GroupDeparture):
    """A documented, dated group departure of documented size (a caravan): its members are
    people who left, added to the departures as they are (no deterrence multiplier), and
    they may present at the ports of entry (`port_of_entry_share`). An input, not fitted."""

    persons: float = lever(
        unit="persons (full scale)",
        gt=0,
        le=MAX_COUNT,
        doc="the event's documented size: persons setting out evenly over its days, split "
        "between its cells by their own undeterred demand over the window",
    )


class Departures(Frozen):
    """Non-homogeneous Poisson departures of travelling parties, per nationality x group."""

    rates: dict[Nationality, GroupRates] = lever(
        default_factory=_default_rates,
        unit="persons/month",
        source="FY2019 USBP apprehensions by citizenship (DHS OHSS); group mix assumed; refit by `migsim calibrate`",
        doc="undeterred departure intensity per nationality and group at seasonal factor 1",
    )
    seasonality: list[float] = lever(
        default_factory=lambda: list(FY2018_SEASONALITY),
        unit="multiplier, Jan..Dec",
        source="FY2018 USBP monthly apprehensions, normalised to mean 1 (DHS OHSS)",
        doc="calendar-month multiplier on every rate: 12 values, each > 0 and <= 10, used as "
        "given (not renormalised); with mean 1 (the default) a rate is the average month's",
        min_length=12,
        max_length=12,
    )
    level: dict[str, dict[str, LevelValue]] = lever(
        default_factory=dict,
        unit="multiplier by YYYY-MM",
        source="fitted by `migsim calibrate` to FY2018-FY2019; empty = 1",
        doc="monthly level multiplier; keys 'all', a nationality, or 'nationality.group' (multiplied together)",
    )
    level_after_fit: Literal["one", "hold"] = lever(
        "one",
        source="documented forecasting rule (README, Calibration)",
        doc="for months outside the `level` months: 1, or hold the nearest fitted month's level "
        "(no rule replays a past year)",
    )
    trend: dict[str, dict[str, float]] = lever(
        default_factory=dict,
        unit="log multiplier at knot months YYYY-MM",
        source="fitted by `migsim calibrate` (structural demand, README 'Calibration'); empty = no trend",
        doc="smooth slow trend of undeterred departures: knots per key ('all', a nationality or "
        "'nationality.group', multiplied together), linear in log between the 15th of the knot "
        "months, held flat before the first and after the last knot; never more than 20% over "
        "any three months",
    )
    shocks: list[Shock] = lever(
        default_factory=list,
        doc="named, dated multipliers on departures for documented events (e.g. the caravans)",
    )
    events: list[Event] = lever(
        default_factory=list,
        doc="documented group departures of documented size (inputs, not fitted): people "
        "who left, added as they are",
    )
    family_extra_members: float = lever(
        0.6,
        unit="persons",
        ge=0,
        le=20,
        source="assumption: most FY2019 family units were one parent with one or two children",
        doc="family party size = 2 + Poisson(this)",
    )

    @field_validator("trend")
    @classmethod
    def _trend(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for key, knots in v.items():
            _check_demand_key(key)
            months = sorted(knots)
            for m in months:
                if not _MONTH.match(m):
                    raise ValueError(f"{key}: month {m!r} is not YYYY-MM")
                if not -3.0 <= knots[m] <= 3.0 or knots[m] != knots[m]:
                    raise ValueError(f"{key}.{m}: log multiplier must be finite, in [-3, 3]")
            for a, b in zip(months, months[1:], strict=False):
                gap = (int(b[:4]) - int(a[:4])) * 12 + int(b[5:]) - int(a[5:])
                if abs(knots[b] - knots[a]) > MAX_TREND_LOG_PER_MONTH * gap + 1e-9:
                    raise ValueError(
                        f"{key}: {a} -> {b} moves more than 20% over three months; sharp "
                        "changes must come from dated mechanisms"
                    )
        return v

    @field_validator("seasonality")
    @classmethod
    def _season(cls, v: list[float]) -> list[float]:
        for month, x in zip(_MONTH_NAMES, v, strict=False):
            if not 0 < x <= 10:
                raise ValueError(f"{month} multiplier {x:g} must be > 0 and <= 10")
        return v

    @field_validator("level")
    @classmethod
    def _months(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for nat, months in v.items():
            _check_demand_key(nat)
            for m, x in months.items():
                if not _MONTH.match(m):
                    raise ValueError(f"{nat}: month {m!r} is not YYYY-MM")
                if not 0 <= x <= 100:
                    raise ValueError(f"{nat}.{m}: level {x:g} must be in [0, 100]")
        return v


# ----------------------------------------------------------------------------- journey
class Leg(Frozen):
    country: Country
    mean_days: float = lever(unit="days", ge=0, le=MAX_DAYS)
    cv: float = lever(
        0.5, unit="coefficient of variation", ge=0, le=10, doc="gamma-distributed; 0 = fixed"
    )


class Route(Frozen):
    share: float = lever(1.0, ge=0, le=1, doc="share of the nationality's parties on this route")
    legs: list[Leg] = Field(min_length=1)


def _nt(origin: str, origin_days: float) -> list[Route]:
    legs = [Leg(country=origin, mean_days=origin_days, cv=0.5)] if origin != "guatemala" else []
    legs += [
        Leg(country="guatemala", mean_days=5, cv=0.5),
        Leg(country="mexico", mean_days=24, cv=0.4),
    ]
    return [Route(share=1.0, legs=legs)]


def _default_routes() -> dict[str, list[Route]]:
    mexico = Leg(country="mexico", mean_days=24, cv=0.4)
    guatemala = Leg(country="guatemala", mean_days=5, cv=0.5)
    return {
        "mexico": [Route(legs=[Leg(country="mexico", mean_days=6, cv=0.6)])],
        "guatemala": _nt("guatemala", 0),
        "honduras": [
            Route(share=0.85, legs=_nt("honduras", 3)[0].legs),
            # the Pan-American highway through El Salvador (assumption: a minority route)
            Route(
                share=0.15,
                legs=[
                    Leg(country="honduras", mean_days=2, cv=0.5),
                    Leg(country="el_salvador", mean_days=2, cv=0.5),
                    guatemala,
                    mexico,
                ],
            ),
        ],
        "el_salvador": _nt("el_salvador", 2),
        "other": [
            # Nicaraguans, Cubans, South Americans and others coming overland through Central America
            Route(
                share=0.6,
                legs=[
                    Leg(country="other", mean_days=10, cv=0.6),
                    Leg(country="honduras", mean_days=3, cv=0.5),
                    guatemala,
                    mexico,
                ],
            ),
            # ... or reaching Mexico directly (by air or sea)
            Route(share=0.4, legs=[Leg(country="mexico", mean_days=14, cv=0.6)]),
        ],
    }


class ProtectionSeeking(Frozen):
    apply_probability: float = lever(
        0.0, ge=0, le=1, doc="chance a party applies for protection in this transit country"
    )
    continue_share: float = lever(
        0.3,
        ge=0,
        le=1,
        doc="share of applicants who still continue north (and are then exempt from transfer there)",
    )


def _default_protection() -> dict[str, ProtectionSeeking]:
    return {
        # Mexico: COMAR asylum claims ~30,000 (2018) -> ~71,000 (2019) against roughly
        # a million transiting; ~4% (domain facts, COMAR).
        "mexico": ProtectionSeeking(apply_probability=0.04, continue_share=0.3),
        # Guatemala: 263 applications in 2018 (UNHCR-derived) against hundreds of thousands transiting.
        "guatemala": ProtectionSeeking(apply_probability=0.001, continue_share=0.5),
    }


class Journey(Frozen):
    """Travel north in legs; about a month from the Northern Triangle (domain facts, caravan 2018)."""

    routes: dict[Nationality, list[Route]] = lever(
        default_factory=_default_routes,
        unit="days per leg",
        source="~1 month San Pedro Sula -> Tijuana (Oct 2018 caravan); 38-42 days on foot to McAllen",
    )
    protection: dict[Country, ProtectionSeeking] = lever(
        default_factory=_default_protection,
        source="COMAR claims 2018-2019; Guatemala 263 applications in 2018 (UNHCR)",
        doc="protection seeking per transit country (not the origin)",
    )

    @model_validator(mode="after")
    def _shares(self) -> Journey:
        for nat, routes in self.routes.items():
            total = sum(r.share for r in routes)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"routes.{nat}: route shares sum to {total:g}, not 1")
        return self


# ----------------------------------------------------------------------------- enforcement
class HazardStep(Frozen):
    from_: dt.date = Field(alias="from")
    daily_hazard: float = lever(unit="1/day", ge=0, le=1)


class Enforcement(Frozen):
    """Mexico stops non-Mexican migrants in transit at a dated, piecewise-constant hazard."""

    mexico: list[HazardStep] = lever(
        default_factory=lambda: [
            HazardStep(**{"from": dt.date(2000, 1, 1), "daily_hazard": 0.0055}),
            HazardStep(**{"from": dt.date(2019, 6, 7), "daily_hazard": 0.011}),
        ],
        unit="1/day while in Mexico",
        source="Mexican apprehensions ~547/day Jan-May 2019 -> ~1,030/day Jun-Jul 2019 (SEDENA; Mexico News Daily)",
    )
    announcement_risk_shift: float = lever(
        0.0,
        unit="added perceived risk",
        ge=0,
        le=1,
        source="the 7 Jun 2019 US-Mexico declaration and the National Guard's deployment were "
        "announced, not phased in (domain facts); no published estimate of how origin "
        "communities read them: estimated by `migsim calibrate` (prior 0-0.5)",
        doc="on the start date of each later hazard step (the surge) the perceived risk of "
        "every non-Mexican cell jumps by this and the jump decays with "
        "announcement_decay_days: word of a crackdown travels faster than its outcomes, "
        "which reach origins only after deterrence.delay_days; 0 = none",
    )
    announcement_decay_days: float = lever(
        90,
        unit="days (e-folding)",
        gt=0,
        le=MAX_DAYS,
        source="no published estimate: estimated by `migsim calibrate` (prior 20-365, log)",
    )

    port_shift: float = lever(
        0.0,
        unit="share",
        ge=0,
        le=1,
        source="no published estimate; a lever, not among the fitted strengths: fitted as a "
        "25th strength in round 11 (README, Calibration), not shipped",
        doc="the response of routes to Mexico's enforcement: from the surge (the start of the "
        "first later hazard step, 7 Jun 2019, when Mexico deployed its National Guard), this "
        "share of the non-Mexican parties reaching the border who would cross between ports "
        "present at a port of entry instead (joining a metering list); 0 = none",
    )

    def port_shift_from(self) -> dt.date | None:
        """When the routes' response to the surge starts (None: no response, or no surge)."""
        if self.port_shift == 0.0 or len(self.mexico) < 2:
            return None
        return self.mexico[1].from_

    def announcements(self) -> list[Announcement]:
        """The surge's announcements as perceived-risk shifts (none when the shift is 0):
        Mexico's enforcement stops non-Mexicans only, so only they hear it as a risk."""
        if self.announcement_risk_shift == 0.0:
            return []
        return [
            Announcement(
                date=step.from_,
                risk_shift=self.announcement_risk_shift,
                decay_days=self.announcement_decay_days,
                nationalities=["guatemala", "honduras", "el_salvador", "other"],
                groups=["single_adult", "family", "unaccompanied_child"],
            )
            for step in self.mexico[1:]
        ]

    @field_validator("mexico")
    @classmethod
    def _sorted(cls, v: list[HazardStep]) -> list[HazardStep]:
        if any(b.from_ <= a.from_ for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("steps must have strictly increasing 'from' dates")
        return v


# ----------------------------------------------------------------------------- border
class GroupFloat(Frozen):
    single_adult: float = Field(ge=0, le=MAX_HOURS)
    family: float = Field(ge=0, le=MAX_HOURS)
    unaccompanied_child: float = Field(ge=0, le=MAX_HOURS)


class Border(Frozen):
    """CBP processing: parallel lanes with random processing times; a priority rule orders the queue."""

    processing_lanes: int = lever(
        2800,
        unit="parallel processing lanes",
        gt=0,
        le=MAX_LANES,
        source="assumption: with processing_hours about 2,500 parties a day; the historical run then "
        "peaks near 16,000 in custody in May 2019 (up to ~20,000 held, AP/DHS Jul 2019)",
    )
    processing_hours: GroupFloat = lever(
        default_factory=lambda: GroupFloat(single_adult=22, family=30, unaccompanied_child=30),
        unit="hours per party (exponential mean)",
        source="average USBP custody 39 h overall, 44 h for Central Americans, 2014-15 (Cato analysis of CBP data)",
    )
    holding_capacity: int = lever(
        4000,
        unit="persons",
        ge=0,
        le=MAX_COUNT,
        source="about 4,000 considered capacity, Jul 2019 (AP/DHS)",
    )
    priority: list[Group] | Literal["fifo"] = lever(
        default_factory=lambda: ["unaccompanied_child", "family", "single_adult"],
        doc="processing order by group, or 'fifo'",
        source="TEDS standards prioritise children and families",
    )
    port_of_entry_share: dict[Nationality, float] = lever(
        default_factory=lambda: {
            "mexico": 0.12,
            "guatemala": 0.06,
            "honduras": 0.08,
            "el_salvador": 0.08,
            "other": 0.45,
        },
        unit="share of arriving parties",
        source="FY2019 OFO inadmissibles 126,001 of 977,509 SWB encounters (CBP); mix by nationality assumed",
        doc="share presenting at ports of entry (OFO) rather than crossing between ports (USBP)",
    )
    hhs_hours: float = lever(
        48,
        unit="hours",
        ge=0,
        le=MAX_HOURS,
        source="TEDS: children moved to HHS within 72 h",
        doc="custody of unaccompanied children after processing",
    )

    @field_validator("priority")
    @classmethod
    def _prio(cls, v: list[str] | str) -> list[str] | str:
        if v != "fifo" and sorted(v) != sorted(["single_adult", "family", "unaccompanied_child"]):
            raise ValueError("priority must list each group exactly once, or be 'fifo'")
        return v

    @field_validator("port_of_entry_share")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not 0 <= x <= 1:
                raise ValueError(f"{k}: share must be in [0, 1]")
        return v


# ----------------------------------------------------------------------------- dispositions
class Shares(Frozen):
    removal: float = Field(ge=0, le=1)
    release: float = Field(ge=0, le=1)
    detention: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _sum(self) -> Shares:
        total = self.removal + self.release + self.detention
        if abs(total - 1) > 1e-6:
            raise ValueError(f"removal + release + detention = {total:g}, must be 1")
        return self


def _default_shares() -> dict[str, dict[str, Shares]]:
    central = {
        "single_adult": Shares(removal=0.35, release=0.15, detention=0.50),
        "family": Shares(removal=0.05, release=0.80, detention=0.15),
    }
    return {
        "mexico": {
            "single_adult": Shares(removal=0.85, release=0.03, detention=0.12),
            "family": Shares(removal=0.45, release=0.40, detention=0.15),
        },
        "guatemala": dict(central),
        "honduras": dict(central),
        "el_salvador": dict(central),
        "other": {
            "single_adult": Shares(removal=0.25, release=0.25, detention=0.50),
            "family": Shares(removal=0.05, release=0.80, detention=0.15),
        },
    }


class Dispositions(Frozen):
    """Outcome of processing for adults and families; unaccompanied children always go to HHS."""

    shares: dict[Nationality, dict[AdultGroup, Shares]] = lever(
        default_factory=_default_shares,
        source="ICE FY2019: 37,906 booked into family centres vs ~200,000 family members released; Mexican adults mostly returned (assumption)",
    )
    overcrowding_release_share: float = lever(
        0.5,
        ge=0,
        le=1,
        source="assumption: direct releases when custody overflowed in 2019 (ICE FY2019 report)",
        doc="when custody exceeds holding capacity, this share of would-be detentions are released instead",
    )


# ----------------------------------------------------------------------------- agreements
CapRule = Literal["fixed", "capacity_share", "backlog_ceiling", "backlog_shrink"]


class PhaseStep(Frozen):
    from_: dt.date = Field(alias="from")
    weekly_cap: int = lever(
        unit="persons per week",
        ge=0,
        le=MAX_COUNT,
        doc="the cap; under a rule other than 'fixed', the most the rule may allow",
    )
    groups: list[AdultGroup] = lever(doc="groups allowed: subset of single_adult, family")
    cap_rule: CapRule = lever(
        "fixed",
        source="design choice of the agreement (what if transfers followed the receiving "
        "system rather than a calendar)",
        doc="how the day's weekly cap is set (persons a week, rounded down; C = the receiving "
        "country's decision capacity in cases a year that day, B = its pending cases at the "
        "start of the day, a = its base apply_share): 'fixed' = weekly_cap; 'capacity_share' = "
        "min(weekly_cap, floor(capacity_share x C / 52 / a)), the transfers whose expected "
        "applications fill that share of a week's decisions; 'backlog_ceiling' = weekly_cap "
        "while B < backlog_ceiling, else 0; 'backlog_shrink' = floor(weekly_cap x max(0, 1 - "
        "B / backlog_ceiling))",
    )
    capacity_share: float | None = lever(
        None,
        unit="share of decision capacity",
        gt=0,
        le=100,
        source="assumption of the scenario",
        doc="for cap_rule 'capacity_share'",
    )
    backlog_ceiling: int | None = lever(
        None,
        unit="cases pending",
        gt=0,
        le=MAX_COUNT,
        source="assumption of the scenario",
        doc="for the cap_rules 'backlog_ceiling' and 'backlog_shrink'",
    )

    @model_validator(mode="after")
    def _rule_needs(self) -> PhaseStep:
        if self.cap_rule == "capacity_share" and self.capacity_share is None:
            raise ValueError("cap_rule 'capacity_share' needs capacity_share")
        if self.cap_rule in ("backlog_ceiling", "backlog_shrink") and self.backlog_ceiling is None:
            raise ValueError(f"cap_rule {self.cap_rule!r} needs backlog_ceiling")
        return self

    @field_validator("groups", mode="before")
    @classmethod
    def _no_children(cls, v: object) -> object:
        if isinstance(v, list) and "unaccompanied_child" in v:
            raise ValueError(
                "unaccompanied_child cannot be transferred (children are exempt from the ACAs)"
            )
        return v


def _after_start(end: dt.date | None, info: ValidationInfo) -> dt.date | None:
    """A field validator (not a model one) so the error names the `end` field."""
    start = info.data.get("start")
    if end is not None and start is not None and end <= start:
        raise ValueError(f"{end} is not after start {start}")
    return end


class Agreement(Frozen):
    """An Asylum Cooperative Agreement: transfers to a receiving country, phased in by dated steps."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    receiving_country: Literal["guatemala", "honduras", "el_salvador"]
    eligible_nationalities: list[Nationality] = Field(min_length=1)
    start: dt.date
    end: dt.date | None = None
    phase_in: list[PhaseStep] = Field(min_length=1)
    max_wait_days: float = lever(
        3.0,
        unit="days",
        ge=0,
        le=MAX_DAYS,
        source="TEDS 72-hour standard",
        doc="longest wait in custody for a transfer slot before the fallback disposition",
    )
    referral_share: float = lever(
        1.0, ge=0, le=1, source="assumption", doc="share of eligible parties referred for transfer"
    )

    @field_validator("end")
    @classmethod
    def _end(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        return _after_start(v, info)

    @model_validator(mode="after")
    def _dates(self) -> Agreement:
        steps = self.phase_in
        if any(b.from_ <= a.from_ for a, b in zip(steps, steps[1:], strict=False)):
            raise ValueError("phase_in steps must have strictly increasing 'from' dates")
        if steps[0].from_ < self.start:
            raise ValueError(
                f"phase_in starts {steps[0].from_}, before the agreement start {self.start}"
            )
        if self.receiving_country in self.eligible_nationalities:
            raise ValueError("the receiving country's own nationals cannot be eligible")
        return self


class CapacityStep(Frozen):
    from_: dt.date = Field(alias="from")
    cases_per_year: float = lever(unit="cases/year", gt=0, le=MAX_RATE)


class CapacityBuilding(Frozen):
    """What pledged funding buys: decisions a year added after a lag, reached over a ramp."""

    funding_musd: float = lever(
        47.0,
        unit="million US$",
        ge=0,
        le=100_000,
        source="at least $47 million pledged to build Guatemala's asylum system with UNHCR "
        "(seed article; not confirmed elsewhere)",
    )
    start: dt.date = lever(doc="the day the money starts to be spent")
    lag_days: float = lever(
        180,
        unit="days",
        ge=0,
        le=MAX_DAYS,
        source="assumption (range 90-365): hiring and training adjudicators, opening offices",
        doc="no added capacity before start + lag_days",
    )
    ramp_days: float = lever(
        180,
        unit="days",
        ge=0,
        le=MAX_DAYS,
        source="assumption (range 0-365)",
        doc="added capacity grows linearly to full over this many days after the lag",
    )
    decisions_per_year_per_musd: float = lever(
        20.0,
        unit="cases/year per million US$",
        ge=0,
        le=100_000,
        source="ASSUMPTION (range 5-100): no published cost per decision in Guatemala; 20 "
        "means the whole pledge, spread over several years, countries and uses, adds about "
        "940 decisions a year, some six times the 2019 system",
        doc="the conversion from money to decisions, the key uncertain lever",
    )

    def added(self, day: dt.date) -> float:
        """Decisions a year added on `day`."""
        t = (day - self.start).days - self.lag_days
        if t < 0:
            return 0.0
        full = self.funding_musd * self.decisions_per_year_per_musd
        return full if self.ramp_days == 0 else full * min(1.0, t / self.ramp_days)


class ReceivingCountry(Frozen):
    """What transferees do in the receiving country, and its asylum system's capacity."""

    apply_share: float = lever(
        0.03,
        ge=0,
        le=1,
        source="'very few applied (a few percent)', HRW / Refugees International May 2020",
    )
    retry_share: float = lever(
        0.2,
        ge=0,
        le=1,
        source="assumption",
        doc="share who set out for the US again (the rest go home)",
    )
    decision_hours: float = lever(
        72,
        unit="hours",
        ge=0,
        le=MAX_HOURS,
        source="transferees given ~72 h to apply or leave (HRW 2020)",
    )
    retry_delay_days: float = lever(
        30, unit="days (exponential mean)", ge=0, le=MAX_DAYS, source="assumption"
    )
    asylum_cases_per_year: float = lever(
        150,
        unit="cases/year",
        gt=0,
        le=MAX_RATE,
        source="100-150 cases a year, US Embassy cable Jun 2019",
    )
    initial_backlog: int = lever(
        400,
        unit="cases",
        ge=0,
        le=MAX_COUNT,
        source="more than 400 pending, US Embassy cable Jun 2019",
    )
    backlog_date: dt.date = lever(
        dt.date(2019, 6, 1),
        source="the date of the US Embassy cable that counted the pending cases (Jun 2019)",
        doc="the asylum queue starts on this date with initial_backlog cases: no decision is "
        "made before it, so the backlog a transferee meets does not depend on how long "
        "before the agreement a run starts",
    )
    capacity: list[CapacityStep] = lever(
        default_factory=list,
        source="empty: asylum_cases_per_year throughout (100-150 a year in 2019, US Embassy "
        "cable Jun 2019)",
        doc="dated schedule of decision capacity: from each step's date, its cases_per_year "
        "(before the first step, asylum_cases_per_year)",
    )
    capacity_building: CapacityBuilding | None = lever(
        None, doc="decisions a year bought by funding, added to the schedule; none = no building"
    )
    apply_wait_elasticity: float = lever(
        0.0,
        ge=0,
        le=5,
        source="assumption: 0 reproduces the constant apply_share (today's evidence, HRW 2020)",
        doc="the share who apply is apply_share x (reference_wait_days / W) ^ elasticity, "
        "W = the expected wait (pending cases / decisions a day) when they decide, capped so "
        "apply + retry <= 1; > 0 lets a shorter queue draw more applications",
    )
    reference_wait_days: float = lever(
        975,
        unit="days",
        gt=0,
        le=MAX_DAYS * 10,
        source="400 pending cases at 150 a year (US Embassy cable, Jun 2019): the wait that "
        "went with 'very few applied'",
        doc="the expected wait at which the apply share is apply_share",
    )

    @field_validator("capacity")
    @classmethod
    def _increasing(cls, v: list[CapacityStep]) -> list[CapacityStep]:
        if any(b.from_ <= a.from_ for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("capacity steps must have strictly increasing 'from' dates")
        return v

    def cases_per_year(self, day: dt.date) -> float:
        """Decision capacity on `day`: the schedule plus any capacity building."""
        base = self.asylum_cases_per_year
        for step in self.capacity:
            if step.from_ <= day:
                base = step.cases_per_year
        if self.capacity_building is not None:
            base += self.capacity_building.added(day)
        return base

    @model_validator(mode="after")
    def _sum(self) -> ReceivingCountry:
        if self.apply_share + self.retry_share > 1 + 1e-9:
            raise ValueError("apply_share + retry_share must be <= 1")
        return self


# ----------------------------------------------------------------------------- behaviour
class Reattempt(Frozen):
    probability: float = lever(ge=0, le=1)
    mean_delay_days: float = lever(unit="days (exponential mean)", ge=0, le=MAX_DAYS)


class Reattempts(Frozen):
    """Who sets out again, and after how long (assumptions; no published estimate)."""

    removed: Reattempt = lever(
        default_factory=lambda: Reattempt(probability=0.25, mean_delay_days=60), source="assumption"
    )
    stopped_in_mexico: Reattempt = lever(
        default_factory=lambda: Reattempt(probability=0.4, mean_delay_days=45), source="assumption"
    )
    home_from_abroad: Reattempt = lever(
        default_factory=lambda: Reattempt(probability=0.15, mean_delay_days=90), source="assumption"
    )
    gave_up: Reattempt = lever(
        default_factory=lambda: Reattempt(probability=0.2, mean_delay_days=60), source="assumption"
    )


class Announcement(Frozen):
    date: dt.date
    risk_shift: float = lever(unit="added perceived risk", ge=-1, le=1)
    decay_days: float = lever(60, unit="days (e-folding)", gt=0, le=MAX_DAYS)
    nationalities: list[Nationality] = Field(
        default_factory=lambda: ["guatemala", "honduras", "el_salvador", "other"]
    )
    groups: list[Group] = Field(default_factory=lambda: ["single_adult", "family"])


class MomentumThreshold(Frozen):
    """Perceived risk at which a group's network momentum is stationary."""

    single_adult: float = lever(0.5, unit="share", ge=0, le=1)
    family: float = lever(0.5, unit="share", ge=0, le=1)
    unaccompanied_child: float = lever(0.5, unit="share", ge=0, le=1)


class Deterrence(Frozen):
    """Departures respond to the perceived risk of a consequence at the border."""

    effect: float = lever(
        0.0,
        ge=0,
        le=4,
        source="no published causal estimate (domain facts); estimated by `migsim calibrate` "
        "(prior 0-4, sim/fitting/parameters.py)",
        doc="0 = departures ignore consequences; m = 1 - effect x (risk - ref) / (1 - ref), "
        "clipped to [0, 1 + effect]",
    )
    memory_days: float = lever(
        60,
        unit="days",
        gt=0,
        le=MAX_DAYS,
        source="assumption",
        doc="smoothing window of perceived risk",
    )
    delay_days: int = lever(
        14,
        unit="days",
        ge=0,
        le=MAX_DAYS,
        source="assumption",
        doc="news lag from the border to origin",
    )
    reference_date: dt.date = lever(
        dt.date(2019, 1, 28),
        source="the day before MPP began; risk then is the reference",
        doc="multiplier is 1 until this date; afterwards it responds to risk relative to the risk on this date "
        "(a run starting later uses the risk once warmed up: delay_days + memory_days after its first day)",
    )
    consequences: list[Consequence] = lever(
        default_factory=lambda: ["removed", "mpp", "transferred", "stopped_in_mexico"],
        source="a stop by Mexican enforcement also ends the journey in a return home, and it is "
        "counted among the outcomes, so it must count as a consequence (issue 12, logic error 1)",
        doc="outcomes that count as a consequence",
    )
    announcements: list[Announcement] = Field(default_factory=list)
    momentum_rate: float = lever(
        0.0,
        unit="log change per month per unit of risk below the threshold",
        ge=0,
        le=10,
        source="networks recruit while word is that the journey ends well, and stop when it "
        "ends in consequences (cumulative causation, Massey 1990); no published estimate for "
        "2018-19: estimated by `migsim calibrate` (prior 0-2, sim/fitting/parameters.py)",
        doc="for the momentum_nationalities, once perceived risk has warmed up (delay_days + "
        "memory_days), the log of a momentum factor changes each day by momentum_rate / 30 x "
        "(momentum_threshold[group] - risk): departures grow month after month while the "
        "perceived risk stays below the group's threshold and shrink while it is above; "
        "0 = no momentum (factor 1)",
    )
    momentum_threshold: MomentumThreshold = lever(
        default_factory=lambda: MomentumThreshold(),
        source="estimated by `migsim calibrate` (prior 0-1 each)",
        doc="perceived risk at which a group's momentum neither grows nor shrinks",
    )
    momentum_from: dt.date = lever(
        dt.date(2017, 10, 1),
        source="the first month of the data the calibration fitted (Oct 2017)",
        doc="the momentum is integrated from this date (after the perceived risk's warm-up), "
        "whatever the run's start: a run starting later is simulated from this date minus "
        "warmup_days, so it follows the same path as the calibration's runs",
    )
    momentum_nationalities: list[Nationality] = lever(
        default_factory=lambda: ["guatemala", "honduras", "el_salvador", "other"],
        source="assumption: the asylum-seeking streams through Mexico, whose networks carried "
        "the 2018-19 surge (Northern Triangle; the other nationalities, x10 from Oct 2017 to "
        "May 2019, are subject to MPP, the bar and Mexico's enforcement too); Mexicans "
        "(mostly circular single adults, exempt from MPP, the bar and the agreements) keep "
        "the level response only",
        doc="nationalities whose departures carry the momentum factor",
    )
    momentum_bound: float = lever(
        20.0,
        unit="factor",
        ge=1,
        le=1000,
        source="assumption: a safety bound on the integrated response",
        doc="the momentum factor stays within [1 / bound, bound]",
    )


class MPPStep(Frozen):
    from_: dt.date = Field(alias="from")
    share: float = lever(unit="share of eligible arriving parties", ge=0, le=1)


class MPP(Frozen):
    """Remain in Mexico: eligible parties are returned to Mexico to wait for US hearings."""

    enrolment: list[MPPStep] = lever(
        default_factory=lambda: [
            MPPStep(**{"from": dt.date(2019, 1, 29), "share": 0.01}),
            MPPStep(**{"from": dt.date(2019, 4, 1), "share": 0.05}),
            MPPStep(**{"from": dt.date(2019, 5, 1), "share": 0.08}),
            MPPStep(**{"from": dt.date(2019, 6, 1), "share": 0.15}),
            MPPStep(**{"from": dt.date(2019, 7, 1), "share": 0.35}),
        ],
        source="MPP court cases Jan-Jul 2019 (TRAC) against Central American apprehensions; expansion Jul 2019 (DHS)",
        doc="empty = no MPP",
    )
    daily_capacity: float | None = lever(
        None, unit="persons/day", ge=0, le=MAX_RATE, doc="optional enrolment limit"
    )
    nationalities: list[Nationality] = Field(
        default_factory=lambda: ["guatemala", "honduras", "el_salvador", "other"]
    )
    groups: list[AdultGroup] = Field(default_factory=lambda: ["single_adult", "family"])
    hearings_per_day: float = lever(
        250,
        unit="persons/day",
        gt=0,
        le=MAX_RATE,
        source="assumption (immigration court capacity for MPP dockets)",
    )
    give_up_days: float = lever(
        120,
        unit="days (exponential mean)",
        gt=0,
        le=MAX_DAYS,
        source="about half missed a hearing by Nov 2019 (TRAC)",
    )
    cross_days: float = lever(
        240, unit="days (exponential mean)", gt=0, le=MAX_DAYS, source="assumption"
    )
    grant_share: float = lever(0.05, ge=0, le=1, source="MPP relief grants ~1-5% (TRAC)")

    @field_validator("enrolment")
    @classmethod
    def _sorted(cls, v: list[MPPStep]) -> list[MPPStep]:
        if any(b.from_ <= a.from_ for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("steps must have strictly increasing 'from' dates")
        return v


class Metering(Frozen):
    """Daily intake limits at ports of entry; the rest wait on lists in Mexican border cities."""

    start: dt.date | None = lever(
        dt.date(2018, 4, 1),
        source="CBP formalised metering Apr 2018 (Strauss Center)",
        doc="none = no metering",
    )
    daily_intake: float = lever(
        138,
        unit="persons/day",
        ge=0,
        le=MAX_RATE,
        source="~4,200 asylum seekers a month processed at ports under metering, spring 2019 "
        "(Leutert, Strauss Center; policy_targets_fy2019.csv): 4,200 / 30.4 days = 138",
    )
    exempt: list[str] = lever(
        default_factory=lambda: ["mexico.single_adult"],
        unit="nationality.group",
        source="metering applied to asylum seekers; Mexican single adults at ports are mostly "
        "inadmissibles processed the same day and returned (assumption from OFO practice)",
        doc="arrivals at ports of these cells are not put on a waiting list (children never are)",
    )
    give_up_days: float = lever(
        90, unit="days (exponential mean)", gt=0, le=MAX_DAYS, source="assumption"
    )

    @field_validator("exempt")
    @classmethod
    def _cells(cls, v: list[str]) -> list[str]:
        ok = {f"{n}.{g}" for n in _NATS for g in ("single_adult", "family")}
        for key in v:
            if key not in ok:
                raise ValueError(f"{key!r} is not 'nationality.group' (single_adult or family)")
        return v

    cross_share: float = lever(
        0.6,
        ge=0,
        le=1,
        source="assumption",
        doc="share of those leaving the list who cross between ports",
    )


class CoverageStep(Frozen):
    from_: dt.date = Field(alias="from")
    share: float = lever(unit="share of arrivals the bar applies to", ge=0, le=1)


def _bar_coverage() -> list[CoverageStep]:
    return [
        CoverageStep(**{"from": dt.date(2019, 7, 24), "share": 0.0}),
        CoverageStep(**{"from": dt.date(2019, 8, 16), "share": 0.75}),
        CoverageStep(**{"from": dt.date(2019, 9, 9), "share": 0.0}),
        CoverageStep(**{"from": dt.date(2019, 9, 11), "share": 1.0}),
    ]


class TransitBar(Frozen):
    """Asylum ineligibility for transiting a third country without seeking protection there."""

    start: dt.date | None = lever(
        dt.date(2019, 7, 16),
        source="interim final rule, Federal Register 16 Jul 2019",
        doc="none = no bar; in force border-wide from this date until the first `coverage` step",
    )
    coverage: list[CoverageStep] = lever(
        default_factory=_bar_coverage,
        source="court rulings (dated policy facts): enjoined nationwide 24 Jul 2019 (N.D. Cal.); "
        "from 16 Aug applied outside the Ninth Circuit (Texas and New Mexico sectors, about 75% "
        "of apprehensions: our assumption); injunction restored 9 Sep; Supreme Court stay "
        "11 Sep 2019, border-wide from then",
        doc="dated share of arrivals the bar applies to after `start`",
    )
    release_multiplier: float = lever(
        0.5,
        ge=0,
        le=1,
        source="assumption",
        doc="release share is multiplied by this; the difference goes to removal",
    )


# ----------------------------------------------------------------------------- calibration
class CalibrationRecord(Frozen):
    """How the departure intensities were fitted (written by `migsim calibrate`)."""

    method: str
    objective: str
    observed: str = lever(doc="the series and months the fit used")
    iterations: int = Field(ge=0)
    replications: int = Field(ge=1)
    scale: float = Field(gt=0, le=1)
    final_error: dict[str, float] = lever(
        unit="% MAPE per series", doc="error after the last iteration"
    )
    command: str


# ----------------------------------------------------------------------------- scenario
class Scenario(Frozen):
    """A complete, validated scenario. Frozen: the model never mutates its configuration."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=100)
    description: str = ""
    start: dt.date
    end: dt.date
    seed: int = lever(
        20191121, ge=0, lt=SEED_LIMIT, doc="root of all random streams (numpy's range)"
    )
    warmup_days: int = lever(
        120,
        unit="days",
        ge=0,
        le=730,
        source="longer than the journey plus custody times, so the system is warm on `start`",
        doc="the model runs this many days before `start`; outputs begin at `start`",
    )
    scale: float = lever(
        1.0,
        gt=0,
        le=1,
        doc="simulate this share of parties with capacities scaled to match; counts are scaled back",
    )
    departures: Departures = Field(default_factory=Departures)
    journey: Journey = Field(default_factory=Journey)
    enforcement: Enforcement = Field(default_factory=Enforcement)
    border: Border = Field(default_factory=Border)
    dispositions: Dispositions = Field(default_factory=Dispositions)
    agreements: list[Agreement] = Field(default_factory=list)
    receiving: dict[Literal["guatemala", "honduras", "el_salvador"], ReceivingCountry] = Field(
        default_factory=lambda: {
            "guatemala": ReceivingCountry(),
            "honduras": ReceivingCountry(asylum_cases_per_year=50, initial_backlog=50),
            "el_salvador": ReceivingCountry(asylum_cases_per_year=50, initial_backlog=50),
        }
    )
    reattempts: Reattempts = Field(default_factory=Reattempts)
    deterrence: Deterrence = Field(default_factory=Deterrence)
    mpp: MPP = Field(default_factory=MPP)
    metering: Metering = Field(default_factory=Metering)
    transit_bar: TransitBar = Field(default_factory=TransitBar)
    calibration: CalibrationRecord | None = lever(
        None, doc="record of the fit that produced the departure levels"
    )

    @field_validator("end")
    @classmethod
    def _end(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        end = _after_start(v, info)
        days = (end - info.data["start"]).days if "start" in info.data else 0
        if days > MAX_HORIZON_DAYS:
            raise ValueError(
                f"the horizon would be {days:,} days ({days / 365.25:.0f} years); "
                f"at most {MAX_HORIZON_DAYS:,} days ({MAX_HORIZON_YEARS} years) are allowed"
            )
        return end

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: object) -> object:
        """A single safe path component: it names the results folder (results/<name>)."""
        if isinstance(v, str) and (
            v in (".", "..") or len(v) > 100 or not re.fullmatch(r"[A-Za-z0-9_.-]+", v)
        ):
            shown = v if len(v) <= 40 else v[:37] + "..."
            raise ValueError(
                f"{shown!r} is not a safe folder name: use 1-100 letters, digits, '-', '_' or "
                "'.', and not '.' or '..'"
            )
        return v

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, v: object) -> object:
        if isinstance(v, int) and not isinstance(v, bool) and not 0 <= v < SEED_LIMIT:
            raise ValueError(f"{v} is outside numpy's seed range [0, 2**63)")
        return v

    @model_validator(mode="after")
    def _size(self) -> Scenario:
        """Refuse up front a run whose size would be absurd (time and memory grow with it):
        persons estimated as departures.rates x mean seasonality x months (warm-up
        included) x scale, before levels, trends, shocks and re-attempts."""
        months = (self.end - self.origin).days / 30.4375
        per_month = sum(sum(r.model_dump().values()) for r in self.departures.rates.values())
        persons = per_month * (sum(self.departures.seasonality) / 12) * months * self.scale
        if persons > MAX_PERSONS:
            raise ValueError(
                f"departures.rates x horizon x scale: the run would simulate about "
                f"{persons:,.0f} persons ({per_month:,.0f} a month x {months:,.0f} months x "
                f"scale {self.scale:g}); at most {MAX_PERSONS:,} are allowed: lower the "
                "scale, the rates or the horizon"
            )
        return self

    @model_validator(mode="after")
    def _checks(self) -> Scenario:
        names = [a.name for a in self.agreements]
        if len(set(names)) != len(names):
            raise ValueError(f"agreement names must be unique, got {names}")
        for a in self.agreements:
            if a.receiving_country not in self.receiving:
                raise ValueError(
                    f"agreement {a.name!r}: no [receiving.{a.receiving_country}] section"
                )
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def origin(self) -> dt.date:
        """The first simulated day: `start - warmup_days`, or earlier when the network
        momentum must be integrated from `deterrence.momentum_from`."""
        first = self.start
        if self.deterrence.momentum_rate > 0:
            first = min(first, self.deterrence.momentum_from)
        return first - dt.timedelta(days=self.warmup_days)
