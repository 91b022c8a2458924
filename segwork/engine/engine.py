"""The :class:`Engine`: everything segwork keeps between metric calls on one Dataset.

A :class:`~segwork.Dataset` is the user's tables and nothing else.  What the metrics keep to
answer the next question faster lives here: the engine tables they reuse (monthly MRR per as_of,
the segment histories...), small query results several metrics finish differently, a page's own
results, and the decision whether to build the as_of-independent tables that serve every date.
A page, a report or a long analysis owns one Engine; a metric called with a Dataset makes a
throwaway one (:func:`engine_for`), so a one-off call computes only what its date needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from functools import partial
from typing import Any, TypeVar

import ibis.expr.types as ir
import pandas as pd

from segwork.data.dataset import Dataset
from segwork.data.dates import to_date
from segwork.data.derive import derive_mrr, month_index_of
from segwork.data.monthly import (
    given_monthly,
    given_months,
    in_base,
    in_base_with_next,
    native_monthly,
    require_monthly_rates,
)
from segwork.data.set_aside import (
    dated_tables,
    dates_histogram,
    from_histogram,
    histogram_frame,
    nothing_set_aside,
)
from segwork.engine.keys import (
    CacheKey,
    DatesHistogram,
    EveryMonthMRR,
    MonthlyMRR,
    MonthlyMRRNext,
    NativeMRR,
    NativeRates,
    TableRows,
)
from segwork.engine.lru import LRU

__all__ = [
    "FRAME_CACHE_SIZE",
    "TABLE_CACHE_SIZE",
    "VALUE_CACHE_SIZE",
    "Data",
    "Engine",
    "engine_for",
]

#: How many engine tables (:meth:`Engine.table`) an Engine keeps.
TABLE_CACHE_SIZE = 16
#: How many small query results (:meth:`Engine.frame`) an Engine keeps.
FRAME_CACHE_SIZE = 32
#: How many of a page's own results (:meth:`Engine.value`) an Engine keeps.
VALUE_CACHE_SIZE = 64

T = TypeVar("T")


class Engine:
    """The caches and reuse decisions of metric calls on one :class:`~segwork.Dataset`.

    Parameters
    ----------
    data : Dataset
        The tables the metrics read (never changed by the engine).
    reuse_across_dates : bool, default False
        Build the metrics' as_of-independent engine tables (each period's activity of all
        time for cohorts, the segment histories; every month's next active month for the churn
        window where the faster paths do not apply), so that a change of as_of reuses them.
        A page sets it (it changes dates); a one-off call leaves it False and computes only
        what its date needs, which is cheaper once.  Both give the same numbers (each faster
        path is tested equal to the definition).
    fast_paths : bool, default True
        Run a metric's faster expression where it has one (the churn window's months as the
        bits of one integer per customer instead of a window function over its months; on a
        page, every date's window read from each customer's active months of all time, ...);
        each is tested equal to the definition, which ``False`` runs.

    Examples
    --------
    >>> import segwork
    >>> data = segwork.make_saas_data(200, random_state=1)
    >>> engine = segwork.Engine(data, reuse_across_dates=True)
    >>> table = segwork.segment_table(engine, "plan", "2024-06-30")
    >>> again = segwork.segment_table(engine, "plan", "2024-05-31")  # reuses the engine tables
    >>> engine.data is data
    True
    """

    def __init__(
        self,
        data: Dataset,
        *,
        reuse_across_dates: bool = False,
        fast_paths: bool = True,
    ) -> None:
        if not isinstance(data, Dataset):
            raise TypeError(f"an Engine runs on a segwork Dataset, not {type(data).__name__}")
        self.data = data
        self.reuse_across_dates = reuse_across_dates
        self.fast_paths = fast_paths
        self._tables: LRU[ir.Table] = LRU(TABLE_CACHE_SIZE)
        self._frames: LRU[pd.DataFrame] = LRU(FRAME_CACHE_SIZE)
        self._values: LRU[Any] = LRU(VALUE_CACHE_SIZE)
        self._histograms: dict[str, pd.DataFrame] = {}
        #: A throwaway engine of one metric call on a Dataset (:func:`engine_for`): it keeps
        #: no table that its one call reads in one query (DuckDB then plans it into that query
        #: and drops its rows as it goes, where a kept copy costs a write and the memory).
        self.one_off = False

    def __repr__(self) -> str:
        reuse = ", reuse_across_dates" if self.reuse_across_dates else ""
        return f"<segwork.Engine on {self.data!r}{reuse}>"

    # -- the choice of path -----------------------------------------------------------------
    @property
    def serves_every_date(self) -> bool:
        """Whether the metrics read the as_of-independent tables (the faster path of a page):
        :attr:`reuse_across_dates` and a given ``mrr`` table (MRR derived from subscriptions
        depends on the as-of date, so it has no such table)."""
        return self.reuse_across_dates and self.data.has("mrr") and not self.data.mrr_derived

    @property
    def backend_name(self) -> str:
        """The engine the tables live on (``"duckdb"``, ``"pyspark"``, ...): faster paths
        written for one engine's functions are chosen by it."""
        return str(getattr(self.data.backend, "name", ""))

    # -- caches -----------------------------------------------------------------------------
    def table(
        self, key: CacheKey, build: Callable[[], ir.Table], *, view: bool = False
    ) -> ir.Table:
        """``build()``, materialised once in the engine and reused for the same ``key``.

        The metrics keep what every change of a page needs again (monthly MRR per as_of,
        per-customer churn-window counts per as_of and window...), so a change of criterion
        only re-runs the small last step.  On DuckDB the table is materialised
        (``Table.cache``; the :data:`TABLE_CACHE_SIZE` most recent kept); other engines
        (Spark, warehouses) keep the lazy expression and plan it with each query.  ``key``'s
        fields must name everything the table depends on.  A ``view`` (a projection of the
        user's table, as cheap to scan again as the copy) is never copied: every month of a
        given ``mrr`` is read in place by each query that needs it.
        """
        _check_key(key)
        if view:  # a projection of the user's table: scanned in place
            return build()

        def materialised() -> ir.Table:
            expr = build()
            # ibis drops the materialised table once no expression refers to it any more
            return expr.cache() if self.backend_name == "duckdb" else expr

        return self._tables.get_or_build(key, materialised)

    def table_keys(self) -> list[CacheKey]:
        """The keys of the engine tables kept now, least recently used first."""
        return [k for k in self._tables if isinstance(k, CacheKey)]

    def frame(self, key: CacheKey, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """A copy of ``build()``'s small pandas result, kept for the same ``key``.

        For an engine query whose result several metrics finish differently (the cohort cells
        give logo and revenue retention alike), so a page showing both runs it once; the
        :data:`FRAME_CACHE_SIZE` most recent are kept.
        """
        _check_key(key)
        return self._frames.get_or_build(key, build).copy()

    def frame_keys(self) -> list[CacheKey]:
        """The keys of the results :meth:`frame` keeps now, least recently used first."""
        return [k for k in self._frames if isinstance(k, CacheKey)]

    def value(self, key: CacheKey, build: Callable[[], T]) -> T:
        """``build()``, kept for the same ``key`` (a page's figures and tables; the
        :data:`VALUE_CACHE_SIZE` most recent); returned as kept, not copied."""
        _check_key(key)
        got: T = self._values.get_or_build(key, build)
        return got

    def value_keys(self) -> list[CacheKey]:
        """The keys of the results :meth:`value` keeps now, least recently used first."""
        return [k for k in self._values if isinstance(k, CacheKey)]

    def clear(self) -> None:
        """Forget every kept table and result (the Dataset is untouched)."""
        for cache in (self._tables, self._frames, self._values):
            cache.clear()
        self._histograms.clear()

    # -- monthly MRR (docs/metrics.md "MRR", "Currencies") ------------------------------------
    def monthly_mrr(self, through: dt.date) -> ir.Table:
        """``customer_id, month_idx, month, mrr``: the months <= ``through``'s with MRR > 0.

        Derived from ``subscriptions`` when no ``mrr`` table was given (open subscriptions run
        through ``through``; none starting after it), kept per date.  A given ``mrr`` table is
        kept once, every month (:meth:`monthly_mrr_all`), and each date reads its months from
        it.
        """
        data = self.data
        if data.currencies.converts:
            return self.table(
                MonthlyMRR(through),
                lambda: in_base(self.monthly_mrr_native(through), data.given["fx"], data.currency),
            )
        if data.mrr_derived:
            return self.table(
                MonthlyMRR(through), lambda: derive_mrr(data.given["subscriptions"], through)
            )
        every = self.monthly_mrr_all()
        return every.filter(every.month_idx <= month_index_of(through))

    def monthly_mrr_with_next(self, through: dt.date) -> ir.Table:
        """:meth:`monthly_mrr` of data converted with an fx table, with ``next_at``: each
        month's MRR valued at the next month's rates (the MRR movements' faster path,
        :func:`segwork.data.monthly.in_base_with_next`), kept per date."""
        data = self.data
        if not data.currencies.converts:
            raise ValueError("monthly_mrr_with_next is for data converted with an fx table")

        def build() -> ir.Table:
            # from the user's table in one pass, not from a kept native copy (the rates are
            # checked on it first, once per date)
            native = native_monthly(data.given, through, derived=data.mrr_derived)
            self.value(NativeRates(through), partial(self._check_rates, native, through))
            return in_base_with_next(native, data.given["fx"], data.currency)

        # read by one query of the bridge: kept for a page or a user's engine, not a one-off
        return self.table(MonthlyMRRNext(through), build, view=self.one_off)

    def mrr_in_month(self, as_of: dt.date) -> ir.Table:
        """``customer_id, month_idx, month, mrr``: :meth:`monthly_mrr`'s rows of as_of's month
        (one per customer with MRR > 0 then).  Of a given ``mrr`` in one currency, read on its
        month column itself (:func:`segwork.data.monthly.given_months`: the engine prunes the
        rows while reading, where a month index would be computed for every row first)."""
        data = self.data
        a = month_index_of(as_of)
        if not data.mrr_derived and not data.currencies.converts:
            return given_months(data.table("mrr", needed_for="MRR metrics"), [a])
        m = self.monthly_mrr(as_of)
        return m.filter(m.month_idx == a)

    def monthly_mrr_native(self, through: dt.date) -> ir.Table:
        """``customer_id, currency, month_idx, month, mrr``: MRR > 0 in each currency's own
        units, months <= ``through``'s (data converted with an ``fx`` table only).

        Checks once per date that the fx table has every rate converting it needs
        (:func:`segwork.data.monthly.require_monthly_rates`).
        """
        data = self.data
        if not data.currencies.converts:
            raise ValueError("monthly_mrr_native is for data converted with an fx table")

        native = self.table(
            NativeMRR(through),
            lambda: native_monthly(data.given, through, derived=data.mrr_derived),
        )

        # on the kept table: two scans of it, not of the user's table
        self.value(NativeRates(through), partial(self._check_rates, native, through))
        return native

    def _check_rates(self, native: ir.Table, through: dt.date) -> bool:
        """:func:`segwork.data.monthly.require_monthly_rates` of ``native`` (True, or raises)."""
        data = self.data
        require_monthly_rates(native, data.given["fx"], data.currency, through)
        return True

    def monthly_mrr_all(self) -> ir.Table:
        """``customer_id, month_idx, month, mrr`` of every month with MRR > 0 of a given
        ``mrr``, kept once: the as_of-independent base of :meth:`monthly_mrr`.  Not available
        for MRR derived from subscriptions (there the open subscriptions' months depend on the
        as-of date)."""
        data = self.data
        if data.mrr_derived:
            raise ValueError(
                "monthly_mrr_all needs a given 'mrr' table; derived MRR depends on the as-of date: "
                "use monthly_mrr(as_of)"
            )

        def build() -> ir.Table:
            m = data.table("mrr", needed_for="MRR metrics")
            if data.currencies.converts:
                native = self.monthly_mrr_native(data.data_end)
                return in_base(native, data.given["fx"], data.currency)
            return given_monthly(m)

        # a projection of the given mrr (a join with the rates when it converts currencies)
        return self.table(EveryMonthMRR(), build, view=not data.currencies.converts)

    # -- rows set aside (docs/metrics.md "Rows set aside") ------------------------------------
    def set_aside(self, as_of: Any, tables: Sequence[str] | None = None) -> pd.DataFrame:
        """:meth:`segwork.Dataset.set_aside`, faster for a page that changes dates.

        Each dated table is counted once by one aggregate query, per date and customer signup
        date (bounded by the dates, not the rows), and pulled into pandas; every as_of is then
        a sum in numpy without a query.  On or after the data's last date nothing is set aside
        and only the tables' row counts are read (a page's first date is usually that one).
        Equal to the definition (tests/data/test_set_aside.py).
        """
        day = to_date(as_of)
        present = self.dated_tables()
        if present and day >= self.data.data_end:  # nothing is dated after it: no histogram
            return nothing_set_aside({name: self._rows(name) for name in present}, tables)
        frames = {name: self._histogram(name) for name in self.dated_tables(tables)}
        return from_histogram(frames, day, tables)

    def dated_tables(self, tables: Sequence[str] | None = None) -> list[str]:
        """The dated tables of the data (among ``tables``; all when None) whose rows
        :meth:`set_aside` counts."""
        return [name for name in dated_tables(tables) if name in self.data.given]

    def prepare_set_aside(self, tables: Sequence[str] | None = None) -> list[str]:
        """Build now the histograms :meth:`set_aside` sums at any date before the data's
        last (one aggregate query per table, kept); a page does this once it is shown, so that
        its first change to an earlier as_of does not wait for them.  Returns the tables.

        >>> import segwork
        >>> page = segwork.Engine(segwork.make_saas_data(100, random_state=1))
        >>> page.prepare_set_aside(["customers", "mrr", "events"])  # MRR derived: no mrr rows
        ['customers', 'events']
        >>> page.prepare_set_aside()
        ['customers', 'subscriptions', 'events', 'transactions']
        """
        names = self.dated_tables(tables)
        for name in names:
            self._histogram(name)
        return names

    def _rows(self, name: str) -> int:
        table = self.data.given[name]
        return int(self.value(TableRows(name), lambda: int(table.count().to_pandas())))

    def _histogram(self, name: str) -> pd.DataFrame:
        if name not in self._histograms:
            given = self.data.given
            hist = self.table(DatesHistogram(name), lambda: dates_histogram(given, name))
            self._histograms[name] = histogram_frame(hist, name)
        return self._histograms[name]


#: What the metrics accept: the user's tables (a throwaway engine is made) or an Engine.
Data = Dataset | Engine


def engine_for(data: Data) -> Engine:
    """``data`` itself when it is an :class:`Engine`, else a throwaway one on the Dataset.

    >>> import segwork
    >>> data = segwork.make_saas_data(50, random_state=1)
    >>> engine_for(data).data is data
    True
    >>> page = Engine(data, reuse_across_dates=True)
    >>> engine_for(page) is page
    True
    """
    if isinstance(data, Engine):
        return data
    if isinstance(data, Dataset):
        engine = Engine(data)
        engine.one_off = True
        return engine
    raise TypeError(
        f"expected a segwork Dataset or Engine, not {type(data).__name__}; "
        "load tables with segwork.load(...)"
    )


def _check_key(key: Hashable) -> None:
    if not isinstance(key, CacheKey):
        raise TypeError(
            f"engine cache keys are CacheKey dataclasses (segwork.engine.keys), not {key!r}"
        )
