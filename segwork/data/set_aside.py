"""Rows set aside at an as-of date (docs/metrics.md "Rows set aside"), written once.

:func:`set_aside` is the definition: one aggregate query per dated table at the date.  The
engine's faster path (:meth:`segwork.engine.Engine.set_aside`, for a page that changes dates)
counts each table once per date and signup date (:func:`dates_histogram`) and sums that for any
date with :func:`from_histogram`; a test holds the two equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.derive import month_index, month_index_of

__all__ = [
    "DATE_COLUMNS",
    "SET_ASIDE_COLUMNS",
    "SET_ASIDE_REASONS",
    "dated_tables",
    "dates_histogram",
    "from_histogram",
    "histogram_frame",
    "nothing_set_aside",
    "set_aside",
]

#: The date column that says "when" for each table (used for date ranges and the data end).
DATE_COLUMNS: dict[str, str] = {
    "customers": "signup_date",
    "subscriptions": "start_date",
    "mrr": "month",
    "events": "timestamp",
    "transactions": "date",
}

#: The dated tables and the reason their rows dated after as_of are set aside (in this order).
SET_ASIDE_REASONS: tuple[tuple[str, str], ...] = (
    ("customers", "signed up after as_of"),
    ("subscriptions", "starts after as_of"),
    ("mrr", "month after as_of's month"),
    ("events", "dated after as_of"),
    ("transactions", "dated after as_of"),
)

#: The reason of rows dated up to as_of whose customer signed up after it.
LATER_SIGNUP = "customer signed up after as_of"

#: Columns of a set-aside frame.
SET_ASIDE_COLUMNS = ["table", "reason", "rows", "table_rows"]


def dated_tables(tables: Sequence[str] | str | None) -> dict[str, str]:
    """The dated tables to count (all when ``tables`` is None) and their date reason; a name
    that is no dated table raises an error naming the dated tables."""
    dated = dict(SET_ASIDE_REASONS)
    if tables is None:
        return dated
    names = [tables] if isinstance(tables, str) else list(tables)
    unknown = [n for n in names if n not in dated]
    if unknown:
        raise ValueError(
            f"set_aside: {', '.join(map(repr, unknown))} is no dated table; the dated "
            f"tables are {', '.join(dated)}"
        )
    return {n: r for n, r in dated.items() if n in names}


def _dated_rows(tables: Mapping[str, ir.Table], name: str) -> ir.Table:
    """``_d[, _s]``: each row of table ``name`` with its date (the month index for ``mrr``) and
    its customer's signup date (absent for ``customers`` itself or without customers)."""
    t = tables[name]
    customers = tables.get("customers")
    joined = t
    if name != "customers" and customers is not None:
        signups = customers.select(_cid=customers.customer_id, _signup=customers.signup_date)
        joined = t.left_join(signups, t.customer_id == signups._cid)
    col = joined[DATE_COLUMNS[name]]
    d = month_index(col) if name == "mrr" else (col.date() if name == "events" else col)
    keys = {"_d": d}
    if "_signup" in joined.columns:
        keys["_s"] = joined._signup
    return joined.select(**keys)


def set_aside(
    tables: Mapping[str, ir.Table], as_of: dt.date, names: Sequence[str] | str | None = None
) -> pd.DataFrame:
    """``table, reason, rows, table_rows``: the rows the metrics leave out at ``as_of``.

    The definition (:meth:`segwork.Dataset.set_aside` documents it): per dated table present,
    the rows dated after as_of (after its month for ``mrr``), then the rows up to it of a
    customer who signed up after it (null signups are not later); one query per table.
    ``tables`` are the tables as given (a derived ``mrr`` has no row to set aside).
    """
    rows: list[dict[str, object]] = []
    for name, reason in dated_tables(names).items():
        if name not in tables:
            continue
        r = _dated_rows(tables, name)
        bound = month_index_of(as_of) if name == "mrr" else ibis.literal(as_of)
        after = r._d > bound
        aggs = {"_total": r.count(), "_after": after.cast("int64").sum()}
        if "_s" in r.columns:
            later = ~after & r._s.notnull() & (r._s > as_of)
            aggs["_later"] = later.cast("int64").sum()
        got = r.aggregate(**aggs).to_pandas().iloc[0]
        total = int(got["_total"])
        counts = {reason: got["_after"]}
        if "_later" in got:
            counts[LATER_SIGNUP] = got["_later"]
        for why, k in counts.items():
            n = 0 if pd.isna(k) else int(k)
            rows.append({"table": name, "reason": why, "rows": n, "table_rows": total})
    return pd.DataFrame(rows, columns=SET_ASIDE_COLUMNS)


def nothing_set_aside(
    table_rows: Mapping[str, int], names: Sequence[str] | str | None = None
) -> pd.DataFrame:
    """:func:`set_aside` at an as_of on or after the data's last date (every date column's, so no
    row is dated after it and nobody signed up after it): every count is 0.

    ``table_rows`` holds the row count of each table present (``customers`` among them when
    given: it decides which tables have the later-signup reason); no query is run.
    """
    rows: list[dict[str, object]] = []
    for name, reason in dated_tables(names).items():
        if name not in table_rows:
            continue
        reasons = [reason]
        if name != "customers" and "customers" in table_rows:
            reasons.append(LATER_SIGNUP)
        for why in reasons:
            rows.append({"table": name, "reason": why, "rows": 0, "table_rows": table_rows[name]})
    return pd.DataFrame(rows, columns=SET_ASIDE_COLUMNS)


def dates_histogram(tables: Mapping[str, ir.Table], name: str) -> ir.Table:
    """``_d, [_s,] _n``: the rows of table ``name`` counted per date and customer signup date.

    Whatever the as-of date, the rows it sets aside are sums over this table (bounded by the
    dates, not the rows).  The signup date is kept only where it is after the row's date (in or
    after its month for ``mrr``): any other row is never of a customer who signed up after an
    as_of it is counted at."""
    r = _dated_rows(tables, name)
    if "_s" in r.columns:
        # a row is of a later signup at some as_of only when its customer signed up after the
        # row's date (in or after its month for mrr): other rows keep no signup date, so the
        # histogram has about one row per date instead of one per date and signup date
        later = (month_index(r._s) >= r._d) if name == "mrr" else (r._s > r._d)
        r = r.mutate(_s=ibis.ifelse(later, r._s, ibis.null("date")))
    keys = [c for c in ("_d", "_s") if c in r.columns]
    return r.group_by(keys).aggregate(_n=r.count())


def histogram_frame(histogram: ir.Table, name: str) -> pd.DataFrame:
    """:func:`dates_histogram` in pandas: ``_n`` int64, ``_d`` int64 month index (``mrr``) or
    datetime64[D], ``_s`` datetime64[D]."""
    frame = histogram.to_pandas()
    out = pd.DataFrame({"_n": frame["_n"].fillna(0).to_numpy(dtype="int64")})
    if name == "mrr":
        out["_d"] = frame["_d"].to_numpy(dtype="int64")
    else:
        out["_d"] = pd.to_datetime(frame["_d"]).to_numpy(dtype="datetime64[D]")
    if "_s" in frame.columns:
        out["_s"] = pd.to_datetime(frame["_s"]).to_numpy(dtype="datetime64[D]")
    return out


def from_histogram(
    frames: Mapping[str, pd.DataFrame], as_of: dt.date, names: Sequence[str] | str | None = None
) -> pd.DataFrame:
    """:func:`set_aside` summed from the :func:`histogram_frame` of each table present
    (``frames`` by table name), in numpy: no query."""
    rows: list[dict[str, object]] = []
    for name, reason in dated_tables(names).items():
        if name not in frames:
            continue
        hist = frames[name]
        n = hist["_n"].to_numpy()
        bound = np.int64(month_index_of(as_of)) if name == "mrr" else np.datetime64(as_of, "D")
        after = hist["_d"].to_numpy() > bound
        counts = {reason: int(n[after].sum())}
        if "_s" in hist.columns:  # NaT (no signup known) compares False
            later = ~after & (hist["_s"].to_numpy() > np.datetime64(as_of, "D"))
            counts[LATER_SIGNUP] = int(n[later].sum())
        for why, k in counts.items():
            rows.append({"table": name, "reason": why, "rows": k, "table_rows": int(n.sum())})
    return pd.DataFrame(rows, columns=SET_ASIDE_COLUMNS)
