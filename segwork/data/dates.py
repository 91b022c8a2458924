"""Dates given by the caller: an explicit as-of date, parsed once, with a clear error.

docs/metrics.md "Conventions": every metric takes ``as_of``; nothing reads the clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

__all__ = ["to_date"]


def to_date(value: Any, name: str = "as_of") -> dt.date:
    """A date from a date-like value ("2024-06-30", date, Timestamp), or a clear error."""
    if value is None:
        raise ValueError(
            f"{name} is required (an explicit date, e.g. '2024-12-31'); segwork never "
            "reads today's date"
        )
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{name}={value!r} is not a date (use YYYY-MM-DD)") from err
    if pd.isna(ts):
        raise ValueError(f"{name}={value!r} is not a date (use YYYY-MM-DD)")
    return ts.date()
