"""Periods: weeks, months, quarters and years as integer indexes, in the engine and in Python.

docs/metrics.md "Conventions" and "Cohorts": a month is ``year x 12 + month - 1``; a quarter and a
year are that divided by 3 and 12 (floor); week w starts on Monday 1970-01-05 + 7 w days (ISO
weeks).  The same arithmetic is written once for engine columns (:func:`period_expr`,
:func:`month_to_period`) and Python dates (:func:`period_of`), so both always agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from segwork.data.derive import month_index, month_index_of

__all__ = [
    "MONTHS_PER_PERIOD",
    "PERIODS",
    "check_choice",
    "month_to_period",
    "period_expr",
    "period_of",
    "period_starts",
]

#: Allowed ``period`` values.
PERIODS: tuple[str, ...] = ("week", "month", "quarter", "year")
#: Months per period for the month-based periods.
MONTHS_PER_PERIOD: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
#: Week 0 starts on this Monday; week w starts ``7 * w`` days later (ISO weeks start on Monday).
_WEEK_ORIGIN = dt.date(1970, 1, 5)


def period_expr(d: ir.DateValue, period: str) -> ir.IntegerValue:
    """Engine expression: the period index of a date column."""
    if period == "week":
        days = d.delta(ibis.literal(_WEEK_ORIGIN), unit="day")
        return (days.cast("float64") / 7).floor().cast("int64")
    return month_to_period(month_index(d), period)


def month_to_period(month_idx: ir.IntegerValue, period: str) -> ir.IntegerValue:
    k = MONTHS_PER_PERIOD[period]
    if k == 1:
        return month_idx.cast("int64")
    # month indexes are >= 0 for every date after year 0, so // is a plain floor division
    return (month_idx // k).cast("int64")


def period_of(day: dt.date, period: str) -> int:
    """Python: the period index of a date (same arithmetic as :func:`period_expr`)."""
    if period == "week":
        return (day - _WEEK_ORIGIN).days // 7
    return month_index_of(day) // MONTHS_PER_PERIOD[period]


def period_starts(idx: pd.Series, period: str) -> pd.Series:
    """pandas: the first day of each period index, as datetime64[ns] (vectorised)."""
    idx = idx.astype("int64")
    if period == "week":
        starts = pd.Timestamp(_WEEK_ORIGIN) + pd.to_timedelta(idx * 7, unit="D")
        return pd.Series(starts, index=idx.index).astype("datetime64[ns]")
    m = idx * MONTHS_PER_PERIOD[period]
    parts = pd.DataFrame({"year": m // 12, "month": m % 12 + 1, "day": 1}, index=idx.index)
    return pd.to_datetime(parts).astype("datetime64[ns]")


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(
            f"{name}={value!r} is not supported; allowed: {', '.join(repr(a) for a in allowed)}"
        )
