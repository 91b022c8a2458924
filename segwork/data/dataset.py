"""The :class:`Dataset`: validated input tables kept in the engine as Ibis expressions."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.contract import TABLE_SPECS
from segwork.data.dates import to_date
from segwork.data.derive import derive_mrr, month_index, month_index_of
from segwork.data.fx import DEFAULT_CURRENCY, Currencies, require_rates, to_base

__all__ = ["LEFT_OUT_COLUMNS", "TABLE_NAMES", "Dataset"]

#: The canonical table names, in the order of docs/metrics.md "Input tables".
TABLE_NAMES: tuple[str, ...] = tuple(TABLE_SPECS)

#: Columns of :attr:`Dataset.left_out`: rows of an export left out at import, per file and reason.
LEFT_OUT_COLUMNS = ["file", "table", "reason", "rows"]

#: How many engine-cached tables a Dataset keeps (see :meth:`Dataset.cached`).
ENGINE_CACHE_SIZE = 16
#: How many small query results (:meth:`Dataset.cached_frame`) a Dataset keeps.
FRAME_CACHE_SIZE = 32

#: The date column that says "when" for each table (used for date ranges and the data end).
DATE_COLUMNS: dict[str, str] = {
    "customers": "signup_date",
    "subscriptions": "start_date",
    "mrr": "month",
    "events": "timestamp",
    "transactions": "date",
}


class Dataset:
    """Validated segwork input tables, kept in the engine (DuckDB by default) as Ibis tables.

    Build one with :func:`segwork.load` (files, a DuckDB database, pandas DataFrames or an Ibis
    connection) or :func:`segwork.make_saas_data`; do not edit its tables in place.  Every table is
    optional except what a metric needs; a metric asking for a missing table gets a clear error.

    Attributes
    ----------
    backend : ibis backend
        The engine connection the tables live in.
    source : str
        Where the data came from (for reports and provenance).
    notes : tuple of str
        Things done on load that a reader should know (e.g. "mrr derived from subscriptions").
    format : str
        What was read: ``"segwork"`` (its own tables) or an export format (``"stripe"``,
        ``"shopify"``, ``"online_retail"``).
    currency : str
        The currency every amount and metric is in (docs/metrics.md "Currencies"): the
        ``base_currency`` given to :func:`segwork.load`, else the data's one currency, else USD.
    currencies : Currencies
        The base currency, the codes found and whether amounts are converted with ``fx``.
    left_out : pandas.DataFrame
        ``file, table, reason, rows``: the rows of an export left out at import on purpose
        (never paid, refunded, no customer, ...), by file and reason; empty for segwork's own
        tables, where loading leaves nothing out (a row that breaks the contract is refused).

    Examples
    --------
    >>> import segwork
    >>> data = segwork.make_saas_data(100, random_state=1)
    >>> data.names[:3]
    ('customers', 'subscriptions', 'mrr')
    >>> data.kind
    'subscription'
    """

    def __init__(
        self,
        tables: Mapping[str, ir.Table],
        *,
        backend: Any,
        source: str = "",
        notes: tuple[str, ...] = (),
        mrr_derived: bool = False,
    ) -> None:
        unknown = set(tables) - set(TABLE_NAMES)
        if unknown:
            raise ValueError(f"unknown tables {sorted(unknown)}; expected some of {TABLE_NAMES}")
        self._tables = {n: tables[n] for n in TABLE_NAMES if n in tables}
        self.backend = backend
        self.source = source
        self.notes = tuple(notes)
        self.mrr_derived = mrr_derived
        self.format = "segwork"
        self.left_out = pd.DataFrame(columns=LEFT_OUT_COLUMNS)
        #: the base currency and whether amounts are converted (docs/metrics.md "Currencies")
        self.currencies = Currencies(DEFAULT_CURRENCY)
        self._engine_cache: OrderedDict[Hashable, ir.Table] = OrderedDict()
        #: Build the metrics' date-independent engine tables (every month's next active month
        #: for the churn window, each period's activity of all time for cohorts) so that a
        #: change of as_of reuses them.  The explorers set it (a page changes dates); a one-off
        #: call leaves it False and computes only what its date needs, which is cheaper once.
        #: Either way gives the same numbers.
        self.reuse_across_dates = False
        # small aggregates pulled into pandas once (the per-date histograms of set_aside)
        self._histograms: dict[str, pd.DataFrame] = {}
        self._frame_cache: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()
        self._data_end: dt.date | None = None
        self._first_signup: dt.date | None = None

    # -- tables ---------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Names of the tables present (in canonical order); ``mrr`` is listed when derivable."""
        names = list(self._tables)
        if self.mrr_derived and "mrr" not in names:
            names.insert(names.index("subscriptions") + 1, "mrr")
        return tuple(n for n in TABLE_NAMES if n in names)

    def has(self, name: str) -> bool:
        """Whether the table ``name`` is present (or, for ``mrr``, derivable)."""
        return name in self.names

    def table(self, name: str, *, needed_for: str | None = None) -> ir.Table:
        """The Ibis table ``name``; a clear error when the Dataset does not have it."""
        if name == "mrr" and self.mrr_derived:
            return self.monthly_mrr(self.data_end).drop("month_idx")
        if name not in self._tables:
            purpose = f" {needed_for} needs it;" if needed_for else ""
            raise ValueError(
                f"this Dataset has no '{name}' table;{purpose} it has: "
                f"{', '.join(self.names) or 'no tables'}"
            )
        return self._tables[name]

    def __getitem__(self, name: str) -> ir.Table:
        return self.table(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.has(name)

    customers = property(lambda self: self.table("customers"), doc="The customers table.")
    subscriptions = property(lambda self: self.table("subscriptions"), doc="Subscriptions.")
    mrr = property(lambda self: self.table("mrr"), doc="Customer x month MRR (maybe derived).")
    events = property(lambda self: self.table("events"), doc="Usage events.")
    transactions = property(lambda self: self.table("transactions"), doc="Orders / invoices.")
    market = property(lambda self: self.table("market"), doc="Market segments.")

    @property
    def kind(self) -> Literal["subscription", "transactions", "market", "empty"]:
        """What the data supports: ``"subscription"`` (has MRR), ``"transactions"`` (orders only),
        ``"market"`` or ``"empty"``."""
        if self.has("mrr"):
            return "subscription"
        if self.has("transactions"):
            return "transactions"
        if self.has("market"):
            return "market"
        return "empty"

    @property
    def currency(self) -> str:
        """The currency of every amount and metric (docs/metrics.md "Currencies")."""
        return self.currencies.base

    # -- monthly MRR ----------------------------------------------------------------------------
    def monthly_mrr(self, through: dt.date) -> ir.Table:
        """``customer_id, month_idx, month, mrr`` for the months <= ``through`` with MRR > 0.

        Derived from ``subscriptions`` (docs/metrics.md "MRR") when no ``mrr`` table was given
        (open subscriptions run through ``through``; none starting after it), cached in the engine
        per date (:meth:`cached`).  A given ``mrr`` table is cached once, every month, and each
        date reads its months from it (a change of as_of does not copy the table again).
        """
        if self.currencies.converts:
            return self.cached(("monthly_mrr", through), lambda: self._converted_mrr(through))
        if self.mrr_derived:
            return self.cached(
                ("monthly_mrr", through),
                lambda: derive_mrr(self._tables["subscriptions"], through),
            )
        every = self.monthly_mrr_all()
        return every.filter(every.month_idx <= month_index_of(through))

    def monthly_mrr_native(self, through: dt.date) -> ir.Table:
        """``customer_id, currency, month_idx, month, mrr``: MRR > 0 in each currency's own
        units, months <= ``through`` (data converted with an ``fx`` table only).

        Checks once per date that the fx table has a rate for every currency and month with
        MRR and for the month after each (a churn or a change is valued at the new month's
        rate, docs/metrics.md "MRR movements"), through ``through``'s month.
        """
        if not self.currencies.converts:
            raise ValueError("monthly_mrr_native is for data converted with an fx table")
        last = month_index_of(through)

        def build() -> ir.Table:
            if self.mrr_derived:
                native = derive_mrr(self._tables["subscriptions"], through, by_currency=True)
            else:
                m = self.table("mrr")
                native = m.select(
                    "customer_id", "currency", month_idx=month_index(m.month), month=m.month,
                    mrr=m.mrr,
                )
                native = native.filter((native.mrr > 0) & (native.month_idx <= last))
            after = native.select("currency", month_idx=native.month_idx + 1)
            needed = native.select("currency", "month_idx").union(
                after.filter(after.month_idx <= last)
            )
            require_rates(needed, self._tables["fx"], self.currency, "MRR")
            return native

        return self.cached(("monthly_mrr_native", through), build)

    def _converted_mrr(self, through: dt.date) -> ir.Table:
        conv = to_base(self.monthly_mrr_native(through), "mrr", self._tables["fx"], self.currency)
        monthly = conv.group_by(["customer_id", "month_idx", "month"]).aggregate(
            mrr=conv.mrr.sum()
        )
        return monthly.filter(monthly.mrr > 0)

    def monthly_mrr_all(self) -> ir.Table:
        """``customer_id, month_idx, month, mrr`` of every month with MRR > 0 of a given ``mrr``.

        Cached in the engine once (:meth:`cached`); the as_of-independent base of
        :meth:`monthly_mrr`.  Not available for MRR derived from subscriptions (there the open
        subscriptions' months depend on the as-of date).
        """
        if self.mrr_derived:
            raise ValueError(
                "monthly_mrr_all needs a given 'mrr' table; derived MRR depends on the as-of date: "
                "use monthly_mrr(as_of)"
            )

        def build() -> ir.Table:
            m = self.table("mrr", needed_for="MRR metrics")
            if self.currencies.converts:
                return self._converted_mrr(self.data_end)
            expr = m.select("customer_id", month_idx=month_index(m.month), month=m.month, mrr=m.mrr)
            return expr.filter(expr.mrr > 0)

        return self.cached(("monthly_mrr_all",), build)

    def cached(self, key: Hashable, build: Callable[[], ir.Table]) -> ir.Table:
        """``build()``, materialised once in the engine and reused for the same ``key``.

        The metric core caches what every change of a page needs again (monthly MRR per as_of,
        per-customer churn-window counts per as_of and window...), so a change of criterion
        only re-runs the small last step.  On DuckDB the table is materialised (``Table.cache``,
        the ``ENGINE_CACHE_SIZE`` (16) most recent kept); other engines (Spark, warehouses) keep
        the lazy expression and plan it with each query.  ``key`` must identify everything the
        table depends on.
        """

        def materialised() -> ir.Table:
            expr = build()
            # ibis drops the materialised table once no expression refers to it any more
            return expr.cache() if getattr(self.backend, "name", "") == "duckdb" else expr

        return _remember(self._engine_cache, key, materialised, ENGINE_CACHE_SIZE)

    def cached_keys(self) -> list[Hashable]:
        """The keys of the engine tables :meth:`cached` holds now, least recently used first."""
        return list(self._engine_cache)

    def cached_frame(self, key: Hashable, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """A copy of ``build()``'s small pandas result, kept for the same ``key``.

        For an engine query whose result several metrics finish differently (the cohort cells
        give logo and revenue retention alike), so a page showing both runs it once.  The
        ``FRAME_CACHE_SIZE`` (32) most recent are kept; ``key`` must identify everything the
        result depends on.
        """
        return _remember(self._frame_cache, key, build, FRAME_CACHE_SIZE).copy()

    @property
    def data_end(self) -> dt.date:
        """The latest date present in the data (signups, starts, MRR months, orders, events).

        ``end_date`` of subscriptions is left out: it may hold scheduled future cancellations.
        """
        if self._data_end is None:
            ends: list[dt.date] = []
            for name, col in DATE_COLUMNS.items():
                if name in self._tables:
                    value = self._tables[name][col].max().to_pandas()
                    if value is not None and not pd.isna(value):
                        ends.append(pd.Timestamp(value).date())
            if not ends:
                raise ValueError("this Dataset has no dated rows")
            self._data_end = max(ends)
        return self._data_end

    @property
    def first_signup(self) -> dt.date:
        """The earliest ``signup_date`` of the customers table (one query, then remembered).

        Raises a clear error when the Dataset has no customers table or it is empty.
        """
        if self._first_signup is None:
            value = self.table("customers").signup_date.min().to_pandas()
            if value is None or pd.isna(value):
                raise ValueError("the customers table is empty")
            self._first_signup = pd.Timestamp(value).date()
        return self._first_signup

    # -- inspection and export ------------------------------------------------------------------
    def to_pandas(self, name: str, *, limit: int | None = None) -> pd.DataFrame:
        """Table ``name`` as a pandas DataFrame (for small tables; ``limit`` rows at most)."""
        t = self.table(name)
        return (t.limit(limit) if limit is not None else t).to_pandas()

    def summary(self) -> pd.DataFrame:
        """One row per table: rows, columns, and the date range of its date column."""
        rows = []
        for name in self.names:
            t = self.table(name)
            col = DATE_COLUMNS.get(name)
            aggs: dict[str, Any] = {"rows": t.count()}
            if col and col in t.columns:
                aggs["first"] = t[col].min()
                aggs["last"] = t[col].max()
            got = t.aggregate(**aggs).to_pandas().iloc[0]
            rows.append(
                {
                    "table": name,
                    "rows": int(got["rows"]),
                    "columns": len(t.columns),
                    "first": _as_date(got.get("first")),
                    "last": _as_date(got.get("last")),
                    "derived": name == "mrr" and self.mrr_derived,
                }
            )
        return pd.DataFrame(rows, columns=["table", "rows", "columns", "first", "last", "derived"])

    def write(
        self,
        directory: str | Path,
        *,
        format: Literal["csv", "parquet"] = "csv",
        derived: bool = True,
    ) -> list[Path]:
        """Write every table to ``directory/<table>.<format>``, rows in a deterministic order.

        The engine writes the files; nothing goes through pandas.  Returns the paths written.
        ``derived=False`` leaves out an ``mrr`` derived from subscriptions, so that loading the
        files derives it again at each as_of (a written ``mrr`` is taken as given, through the
        last month of the data).
        """
        if format not in ("csv", "parquet"):
            raise ValueError(f"format must be 'csv' or 'parquet', not {format!r}")
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name in self.names:
            if not derived and name == "mrr" and self.mrr_derived:
                continue
            t = self.table(name)
            t = t.order_by(list(t.columns))
            path = out / f"{name}.{format}"
            if format == "csv":
                t.to_csv(path)
            else:
                t.to_parquet(path)
            written.append(path)
        return written

    def __repr__(self) -> str:
        parts = ", ".join(n + ("*" if n == "mrr" and self.mrr_derived else "") for n in self.names)
        src = f" from {self.source}" if self.source else ""
        return f"<segwork.Dataset{src}: {parts}>"

    # -- rows set aside at an as-of date (docs/metrics.md "Rows set aside") --------------------
    def set_aside(self, as_of: Any, tables: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows the metrics leave out at ``as_of``, counted per table and reason.

        docs/metrics.md "Rows set aside": later data is ignored by the metrics but counted, and so
        are the rows of customers outside the population (``signup_date > as_of``; docs/metrics.md
        "Conventions").  The reasons:

        - ``customers``: *signed up after as_of*;
        - ``subscriptions``: *starts after as_of* (``start_date > as_of``);
        - ``mrr`` (a given table): *month after as_of's month*; derived MRR is built only up to
          as_of from the subscriptions, so it has no row to set aside and is not listed;
        - ``events``: *dated after as_of* (the timestamp's date); ``transactions``: *dated after
          as_of* (the order date);
        - ``subscriptions``, ``mrr``, ``events``, ``transactions``: *customer signed up after
          as_of*: rows dated up to as_of of a customer outside the population.

        A row counts under one reason only (the date first), so a table's rows set aside are the
        sum of its lines.  Loading sets no row aside (a row that breaks the contract is refused,
        not dropped) and ``market`` has no dates, so there is no other reason.  Each table is
        counted once by one aggregate query in the engine, into rows per date and signup date
        (bounded by the dates, not the rows); every as_of is then a sum over them in numpy.

        Parameters
        ----------
        as_of : date-like
            The as-of date of the metrics ("2024-06-30", a date or a Timestamp).
        tables : list of str, optional
            Count only these tables (those of them present), e.g. the ones a report reads;
            default every table.  A name that is no dated table raises an error.

        Returns
        -------
        pandas.DataFrame
            ``table, reason, rows, table_rows``: one line per table present and reason, ``rows``
            set aside (0 when none) out of the table's ``table_rows``.

        Examples
        --------
        >>> import pandas as pd, segwork
        >>> data = segwork.load({
        ...     "customers": pd.DataFrame({"customer_id": [1, 2],
        ...         "signup_date": ["2024-01-10", "2024-08-01"]}),
        ...     "subscriptions": pd.DataFrame({"customer_id": [1, 2],
        ...         "start_date": ["2024-01-10", "2024-08-01"], "amount": [100.0, 50.0],
        ...         "billing_interval": ["month", "month"]})})
        >>> data.set_aside("2024-06-30")
                   table                          reason  rows  table_rows
        0      customers           signed up after as_of     1           2
        1  subscriptions              starts after as_of     1           2
        2  subscriptions  customer signed up after as_of     0           2
        >>> data.set_aside("2024-06-30", tables=["customers"])["rows"].tolist()
        [1]
        """
        day = to_date(as_of)
        dated = dict(_SET_ASIDE_REASONS)
        if tables is not None:
            names = [tables] if isinstance(tables, str) else list(tables)
            unknown = [n for n in names if n not in dated]
            if unknown:
                raise ValueError(
                    f"set_aside: {', '.join(map(repr, unknown))} is no dated table; the dated "
                    f"tables are {', '.join(dated)}"
                )
            dated = {n: r for n, r in dated.items() if n in names}
        customers = self._tables.get("customers")
        signups = (
            None
            if customers is None
            else customers.select(_cid=customers.customer_id, _signup=customers.signup_date)
        )
        rows: list[dict[str, Any]] = []
        for name, reason in dated.items():
            if name not in self._tables:
                continue
            hist = self._histogram_frame(name, signups)
            n = hist["_n"].to_numpy()
            bound = np.int64(month_index_of(day)) if name == "mrr" else np.datetime64(day, "D")
            after = hist["_d"].to_numpy() > bound
            counts = {reason: int(n[after].sum())}
            if "_s" in hist.columns:  # NaT (no signup known) compares False
                later = ~after & (hist["_s"].to_numpy() > np.datetime64(day, "D"))
                counts["customer signed up after as_of"] = int(n[later].sum())
            for why, k in counts.items():
                rows.append({"table": name, "reason": why, "rows": k, "table_rows": int(n.sum())})
        return pd.DataFrame(rows, columns=["table", "reason", "rows", "table_rows"])

    def _histogram_frame(self, name: str, signups: ir.Table | None) -> pd.DataFrame:
        """:meth:`_dates_histogram` in pandas (pulled once): ``_d`` int64 month index (``mrr``)
        or datetime64[D], ``_s`` datetime64[D], ``_n`` int64; a change of as_of sums it in
        numpy without a query (its rows are the distinct (date, signup date) pairs, bounded by
        the dates, not the table: 600k for the events of 1M customers, 14 MB)."""
        if name not in self._histograms:
            frame = self._dates_histogram(name, signups).to_pandas()
            out = pd.DataFrame({"_n": frame["_n"].fillna(0).to_numpy(dtype="int64")})
            if name == "mrr":
                out["_d"] = frame["_d"].to_numpy(dtype="int64")
            else:
                out["_d"] = pd.to_datetime(frame["_d"]).to_numpy(dtype="datetime64[D]")
            if "_s" in frame.columns:
                out["_s"] = pd.to_datetime(frame["_s"]).to_numpy(dtype="datetime64[D]")
            self._histograms[name] = out
        return self._histograms[name]

    def _dates_histogram(self, name: str, signups: ir.Table | None) -> ir.Table:
        """``_d, [_s,] _n``: the rows of table ``name`` counted per date and customer signup.

        ``_d`` is the row's date (the month index for ``mrr``), ``_s`` the signup date of its
        customer (absent for ``customers`` itself): whatever the as-of date, the rows it sets
        aside are sums over this table, built once in the engine and read into pandas by
        :meth:`_histogram_frame`, so a change of as_of scans no table.
        """
        t = self._tables[name]

        def build() -> ir.Table:
            joined = t
            if name != "customers" and signups is not None:
                joined = t.left_join(signups, t.customer_id == signups._cid)
            col = joined[DATE_COLUMNS[name]]
            d = month_index(col) if name == "mrr" else (col.date() if name == "events" else col)
            keys = {"_d": d}
            if "_signup" in joined.columns:
                keys["_s"] = joined._signup
            return joined.group_by(**keys).aggregate(_n=joined.count())

        return self.cached(("dates_histogram", name), build)


#: The dated tables and the reason their rows dated after as_of are set aside (in this order).
_SET_ASIDE_REASONS: tuple[tuple[str, str], ...] = (
    ("customers", "signed up after as_of"),
    ("subscriptions", "starts after as_of"),
    ("mrr", "month after as_of's month"),
    ("events", "dated after as_of"),
    ("transactions", "dated after as_of"),
)

V = TypeVar("V")


def _remember(
    cache: OrderedDict[Hashable, V], key: Hashable, build: Callable[[], V], size: int
) -> V:
    """``cache[key]``, made by ``build()`` when missing; the ``size`` most recently used kept."""
    hit = cache.get(key)
    if hit is not None:
        cache.move_to_end(key)
        return hit
    value = cache[key] = build()
    while len(cache) > size:
        cache.popitem(last=False)
    return value


def _as_date(value: Any) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()
