"""Numbers in CSV files rounded to what they mean.

A count of persons divided by the scale, or averaged over replications, carries float
noise (`9721.499999999998`) that reads as false precision: persons (and person-days,
cases) are written as whole numbers, shares to 4 decimals, hours, days and capacities to
2, seconds to 3. Parquet tables keep the exact values for analysis; only the CSV files,
which are for reading, are rounded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: indicator name -> decimals, for the ones that are not whole counts
DECIMALS: dict[str, int] = {
    "wall_seconds": 3,
    "mean_custody_hours": 2,
    "asylum_capacity_end": 2,  # cases a year, can be fractional (capacity building)
    "asylum_expected_wait_days_end": 2,
    "asylum_median_wait_days_end": 2,
    "transfer_cap_end": 2,
}
SHARE_DECIMALS = 4


def decimals(indicator: str) -> int:
    """Decimals an indicator's values are written with (0 = a whole count)."""
    if indicator in DECIMALS:
        return DECIMALS[indicator]
    if "share" in indicator or "multiplier" in indicator or "risk" in indicator:
        return SHARE_DECIMALS
    return 0


def rounded(value: object, places: int) -> object:
    """`value` rounded to `places` (an int for 0); missing and non-finite values unchanged."""
    if value is None or isinstance(value, str):
        return value
    x = float(value)  # type: ignore[arg-type]
    if not math.isfinite(x):
        return x
    return int(round(x)) if places == 0 else round(x, places)


def round_by_indicator(
    frame: pd.DataFrame, columns: Iterable[str], key: str = "indicator"
) -> pd.DataFrame:
    """A copy of `frame` with `columns` rounded per row by the indicator in `key`; the
    columns become objects, so whole counts are written without a trailing `.0`."""
    import pandas as pd  # (not at import: `sim.results` is imported by every run)

    out = frame.copy()
    places = [decimals(str(i)) for i in out[key]]
    for col in columns:
        if col in out.columns:
            out[col] = pd.Series(
                [rounded(v, p) for v, p in zip(out[col], places, strict=True)],
                index=out.index,
                dtype=object,
            )
    return out


def round_columns(frame: pd.DataFrame, places: dict[str, int]) -> pd.DataFrame:
    """A copy of `frame` with each named column rounded to its places (whole counts as
    integers, without a trailing `.0`); columns it lacks are skipped."""
    import pandas as pd

    out = frame.copy()
    for col, p in places.items():
        if col in out.columns:
            out[col] = pd.Series([rounded(v, p) for v in out[col]], index=out.index, dtype=object)
    return out
