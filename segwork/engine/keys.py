"""Typed cache keys: one frozen dataclass per kind of cached result.

A key's class says what was cached and its fields everything the result depends on (the as-of
date, the window, the period...), so two results can share a key only when they are equal, and
code that looks for a kind of table (the segment histories) reads fields, not tuple positions.
The metric modules define the keys of what they cache beside the code, as subclasses of
:class:`CacheKey`; the engine's own tables (monthly MRR, the set-aside histograms) are here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass

__all__ = [
    "CacheKey",
    "DatesHistogram",
    "EveryMonthMRR",
    "MonthlyMRR",
    "MonthlyMRRNext",
    "NativeMRR",
    "NativeRates",
    "PageMemo",
    "TableRows",
]


@dataclass(frozen=True)
class CacheKey:
    """Base of every key of :class:`segwork.engine.Engine`'s caches."""


@dataclass(frozen=True)
class MonthlyMRR(CacheKey):
    """Customer-month MRR > 0 in the base currency, months up to ``through``'s."""

    through: dt.date


@dataclass(frozen=True)
class MonthlyMRRNext(CacheKey):
    """:class:`MonthlyMRR` of data in several currencies, with each month's MRR at the next
    month's rates (``next_at``)."""

    through: dt.date


@dataclass(frozen=True)
class NativeMRR(CacheKey):
    """Customer-month MRR > 0 in each currency's own units, months up to ``through``'s."""

    through: dt.date


@dataclass(frozen=True)
class NativeRates(CacheKey):
    """The fx table has every rate converting :class:`NativeMRR` at ``through`` needs."""

    through: dt.date


@dataclass(frozen=True)
class EveryMonthMRR(CacheKey):
    """Every month of a given ``mrr`` table (the as_of-independent base of monthly MRR)."""


@dataclass(frozen=True)
class DatesHistogram(CacheKey):
    """A table's rows counted per date and customer signup date (rows set aside)."""

    table: str


@dataclass(frozen=True)
class TableRows(CacheKey):
    """The number of rows of a table as given."""

    table: str


@dataclass(frozen=True)
class PageMemo(CacheKey):
    """A page's own result (a figure, a table) under the page's key."""

    page: str
    key: Hashable
