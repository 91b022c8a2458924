"""Date arithmetic of the sample generator on int64 day numbers (days since 1970-01-01) and month
numbers (months since 1970-01), vectorised over numpy arrays."""

from __future__ import annotations

import datetime as _dt
from typing import Final

import numpy as np
import pandas as pd

__all__ = [
    "NO_END",
    "DateLike",
    "add_months",
    "add_years",
    "days_in_month",
    "first_day_of",
    "month_of",
    "to_datetime",
    "to_day",
    "year_of",
]

DateLike = str | _dt.date | np.datetime64

NO_END: Final[int] = np.iinfo(np.int64).max // 4  # day number standing for "no end date"


def to_day(value: DateLike) -> int:
    return int(np.datetime64(pd.Timestamp(value).normalize().date(), "D").astype(np.int64))


def month_of(day: np.ndarray) -> np.ndarray:
    return day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def first_day_of(month: np.ndarray) -> np.ndarray:
    return month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def days_in_month(month: np.ndarray) -> np.ndarray:
    return first_day_of(month + 1) - first_day_of(month)


def add_months(day: np.ndarray, k: np.ndarray | int) -> np.ndarray:
    """``day`` + ``k`` calendar months, the day of month clipped to the target month's length."""
    month = month_of(day)
    dom = day - first_day_of(month)
    target = month + k
    return first_day_of(target) + np.minimum(dom, days_in_month(target) - 1)


def add_years(day: np.ndarray, k: np.ndarray | int) -> np.ndarray:
    return add_months(day, 12 * np.asarray(k))


def year_of(day: np.ndarray) -> np.ndarray:
    return day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def to_datetime(day: np.ndarray) -> np.ndarray:
    """int64 day numbers -> datetime64[ns]; ``NO_END`` becomes NaT."""
    day = np.asarray(day, dtype=np.int64)
    missing = day >= NO_END
    out = np.where(missing, 0, day) * np.int64(86_400_000_000_000)
    out[missing] = np.iinfo(np.int64).min  # NaT
    return out.view("datetime64[ns]")
