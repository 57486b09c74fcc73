"""Domain vocabulary shared by every module: nationalities, groups, states, metrics.

Integer codes index the numpy arrays the recorder keeps; the names are what users see.
"""

from __future__ import annotations

NATIONALITIES: tuple[str, ...] = ("mexico", "guatemala", "honduras", "el_salvador", "other")
GROUPS: tuple[str, ...] = ("single_adult", "family", "unaccompanied_child")
SINGLE, FAMILY, UAC = 0, 1, 2
NAT_INDEX = {n: i for i, n in enumerate(NATIONALITIES)}
GROUP_INDEX = {g: i for i, g in enumerate(GROUPS)}

# Countries a party can transit; bit positions in Party.transited / Party.sought_protection.
COUNTRIES: tuple[str, ...] = (
    "mexico",
    "guatemala",
    "honduras",
    "el_salvador",
    "other",
)
COUNTRY_BIT = {c: 1 << i for i, c in enumerate(COUNTRIES)}

# Where every person is. Each person who ever departed is in exactly one of these.
STATES: tuple[str, ...] = (
    "in_transit",  # on the journey north (first or later attempt)
    "home_after_stop",  # stopped by Mexican enforcement and returned home
    "settled_en_route",  # sought protection in a transit country and stayed
    "metering_waitlist",  # on a port-of-entry waiting list in a Mexican border city
    "in_custody",  # in US (CBP) custody at the border, incl. awaiting a transfer slot
    "mpp_waiting",  # returned to Mexico under MPP, waiting for a US hearing
    "home_after_removal",  # removed / returned to the home country by the US
    "in_us_released",  # released into the US (notice to appear, or after an MPP hearing)
    "in_detention",  # handed to ICE detention
    "in_hhs",  # unaccompanied child handed to HHS custody
    "in_receiving_country",  # transferred under an agreement, deciding (about 72 h)
    "asylum_abroad",  # applied for asylum in the receiving country
    "home_after_transfer",  # went home from the receiving country
    "home_gave_up",  # gave up waiting in Mexico (metering or MPP) and went home
)
STATE_INDEX = {s: i for i, s in enumerate(STATES)}
