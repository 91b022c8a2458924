"""The :class:`Dataset`: validated input tables kept in the engine as Ibis expressions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import ibis.expr.types as ir
import pandas as pd

from segwork.data.contract import TABLE_SPECS
from segwork.data.dates import to_date
from segwork.data.derive import derive_mrr
from segwork.data.fx import DEFAULT_CURRENCY, Currencies
from segwork.data.monthly import in_base, native_monthly
from segwork.data.set_aside import DATE_COLUMNS, set_aside

__all__ = ["DATE_COLUMNS", "LEFT_OUT_COLUMNS", "TABLE_NAMES", "Dataset"]

#: The canonical table names, in the order of docs/metrics.md "Input tables".
TABLE_NAMES: tuple[str, ...] = tuple(TABLE_SPECS)

#: Columns of :attr:`Dataset.left_out`: rows of an export left out at import, per file and reason.
LEFT_OUT_COLUMNS = ["file", "table", "reason", "rows"]


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
        # facts of the (immutable) tables, each found by one query when first asked
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
            return self._derived_mrr().drop("month_idx")
        if name not in self._tables:
            purpose = f" {needed_for} needs it;" if needed_for else ""
            raise ValueError(
                f"this Dataset has no '{name}' table;{purpose} it has: "
                f"{', '.join(self.names) or 'no tables'}"
            )
        return self._tables[name]

    @property
    def given(self) -> Mapping[str, ir.Table]:
        """The tables as given (read-only): no ``mrr`` derived from subscriptions."""
        return MappingProxyType(self._tables)

    def _derived_mrr(self) -> ir.Table:
        """The ``mrr`` derived from subscriptions through the data's end, in the base currency
        (docs/metrics.md "MRR", "Currencies"); an expression, computed when queried."""
        end = self.data_end
        if not self.currencies.converts:
            return derive_mrr(self._tables["subscriptions"], end)
        native = native_monthly(self._tables, end, derived=True)
        return in_base(native, self._tables["fx"], self.currency)

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
        not dropped) and ``market`` has no dates, so there is no other reason.  This is the
        definition, one aggregate query per table (:func:`segwork.data.set_aside.set_aside`); a
        page asks its :class:`segwork.engine.Engine`, which counts each table once per date and
        signup date and sums that for any as_of.

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
        return set_aside(self._tables, to_date(as_of), tables)


def _as_date(value: Any) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()
