"""The metrics written to `daily.parquet`, with their meaning (also printed in the README).

Flows are persons per day (unless the description says otherwise); stocks are persons at
the end of the day. `agreement` is filled only for the metrics marked per agreement.
"""

from __future__ import annotations

from sim.domain import STATES

STATE_DOC: dict[str, str] = {
    "in_transit": "persons on the journey north",
    "home_after_stop": "persons at home after being stopped in Mexico (until they set out again)",
    "settled_en_route": "persons who sought protection in a transit country and stayed",
    "metering_waitlist": "persons on port-of-entry waiting lists in Mexican border cities",
    "in_custody": "persons in US custody at the border (incl. waiting for a transfer slot)",
    "mpp_waiting": "persons returned to Mexico under MPP, waiting for a hearing",
    "home_after_removal": "persons at home after removal by the US (until they set out again)",
    "in_us_released": "persons released into the US (notice to appear or MPP relief)",
    "in_detention": "persons handed to ICE detention",
    "in_hhs": "unaccompanied children handed to HHS",
    "in_receiving_country": "transferees in the receiving country who have not applied or gone home",
    "asylum_abroad": "transferees who applied for asylum in the receiving country",
    "home_after_transfer": "transferees who went home from the receiving country",
    "home_gave_up": "persons who gave up waiting in Mexico (metering or MPP) and went home",
}

FLOWS: dict[str, str] = {
    "departures": "persons setting out for the US border (every attempt)",
    "first_departures": "persons setting out for the first time (distinct people)",
    "reattempts": "persons setting out again after removal, return, transfer or giving up",
    "deterred": "persons who would have set out at the undeterred rate and did not",
    "stopped_in_mexico": "persons stopped in transit by Mexican enforcement and returned home",
    "sought_protection": "persons applying for protection in a transit country (some continue north)",
    "protection_en_route": "persons who applied for protection in a transit country and stayed",
    "encounters": "persons taken into US custody at the border (apprehensions + port encounters)",
    "apprehensions": "Border Patrol apprehensions between ports of entry (part of encounters)",
    "port_encounters": "encounters at ports of entry (OFO; part of encounters)",
    "processed": "persons whose processing finished",
    "removed": "persons removed to their home country",
    "released": "persons released into the US with a notice to appear",
    "detained": "persons handed to ICE detention",
    "hhs_referred": "unaccompanied children handed to HHS",
    "mpp_enrolled": "persons returned to Mexico under MPP",
    "mpp_gave_up": "MPP enrollees who gave up and went home",
    "mpp_crossed": "MPP enrollees who crossed again between ports",
    "mpp_hearing_removed": "MPP enrollees ordered removed at their hearing",
    "mpp_hearing_released": "MPP enrollees granted relief at their hearing",
    "metering_joined": "persons put on a port-of-entry waiting list",
    "metering_gave_up": "persons leaving a waiting list for home",
    "metering_crossed": "persons leaving a waiting list to cross between ports",
    "transfer_referred": "persons found eligible and referred for transfer (per agreement)",
    "transferred": "persons transferred to the receiving country (per agreement)",
    "transfer_fallback": "referred persons who got no slot in time and got the usual disposition (per agreement)",
    "applied_abroad": "transferees applying for asylum in the receiving country (per agreement)",
    "home_from_abroad": "transferees going home from the receiving country (per agreement)",
    "retry_from_abroad": "transferees setting out for the US again from the receiving country (per agreement)",
    "asylum_decided": "persons whose asylum case was decided in the receiving country (per agreement)",
    "asylum_wait_days": "person-days waited from application to decision by the persons decided that day (per agreement)",
    "consequences": "processed persons who met a consequence counted by deterrence",
    "queue_wait_days": "person-days waited for processing, by the day processing started",
    "custody_days": "person-days in custody, by the day custody ended",
    "custody_exits_over_72h": "persons leaving custody after more than 72 hours",
}

STOCKS: dict[str, str] = {
    **{s: STATE_DOC[s] for s in STATES},
    "custody_over_72h": "persons in custody for more than 72 hours",
    "awaiting_transfer": "persons in custody waiting for a transfer slot (per agreement)",
    "asylum_backlog": "transferees' asylum cases pending in the receiving country, persons (per agreement)",
    "asylum_backlog_cases": "transferees' asylum cases pending in the receiving country, cases = parties (per agreement)",
    "asylum_backlog_over_180d": "transferees pending in the receiving country's asylum queue for more than 180 days, persons (per agreement)",
    "asylum_backlog_over_365d": "transferees pending in the receiving country's asylum queue for more than 365 days, persons (per agreement)",
}

CELL_INDICATORS: dict[str, str] = {
    "deterrence_multiplier": "departure multiplier from deterrence (1 = no effect), per nationality x group",
    "perceived_risk": "perceived share of arrivals meeting a consequence, per nationality x group",
}
AGREEMENT_INDICATORS: dict[str, str] = {
    "transfer_cap": "weekly cap in force that day, persons a week (per agreement; set by its phase-in step's cap_rule)",
    "asylum_capacity": "the receiving country's decision capacity that day, cases a year (per agreement)",
    "asylum_expected_wait_days": "the wait a new applicant faces in the receiving country: pending cases / decisions a day (per agreement)",
    "asylum_median_wait_days": "median wait of the agreement's applicants so far: decided ones their wait, pending ones their age plus their FIFO position at that day's capacity (per agreement)",
}
INDICATORS: dict[str, str] = {**CELL_INDICATORS, **AGREEMENT_INDICATORS}

FLOW_INDEX = {m: i for i, m in enumerate(FLOWS)}
