"""Monthly MRR derived from subscriptions, by the rule of docs/metrics.md "MRR".

Months are handled as integer indexes (``year * 12 + month - 1``) so that "the previous month" is
``idx - 1`` on every Ibis backend; a small calendar table maps indexes back to first-of-month dates.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.contract import BILLING_INTERVALS

__all__ = [
    "calendar",
    "derive_mrr",
    "month_index",
    "month_index_of",
    "month_start_of",
    "positions_in_runs",
    "subscription_mrr",
]


def month_index(d: ir.DateValue) -> ir.IntegerValue:
    """Engine expression: the month index ``year * 12 + month - 1`` of a date column."""
    return (d.year() * 12 + d.month() - 1).cast("int64")


def month_index_of(d: dt.date) -> int:
    """Python: the month index of a date."""
    return d.year * 12 + d.month - 1


def month_start_of(idx: int) -> dt.date:
    """Python: the first day of the month with index ``idx``."""
    return dt.date(idx // 12, idx % 12 + 1, 1)


def positions_in_runs(lengths: np.ndarray) -> np.ndarray:
    """``0, 1, ..., n - 1`` for each ``n`` of ``lengths``, concatenated (int64, vectorised).

    The offsets of the rows made by ``np.repeat(items, lengths)`` within their item's run.

    >>> positions_in_runs(np.array([3, 0, 2])).tolist()
    [0, 1, 2, 0, 1]
    """
    lengths = np.asarray(lengths, dtype="int64")
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(int(lengths.sum()), dtype="int64") - starts


def calendar(first_idx: int, last_idx: int) -> ir.Table:
    """A small in-memory table ``month_idx, month`` for the months first_idx..last_idx."""
    idx = list(range(first_idx, last_idx + 1))
    frame = pd.DataFrame({"month_idx": idx, "month": [month_start_of(i) for i in idx]})
    return ibis.memtable(frame, schema={"month_idx": "int64", "month": "date"})


def subscription_mrr(subs: ir.Table) -> ir.FloatingValue:
    """MRR of each subscription row: amount x quantity x (1 - discount) normalised to a month.

    docs/metrics.md "MRR": amount x quantity x (1 - discount) divided by the billing interval's
    length in months (:data:`~segwork.data.contract.BILLING_INTERVALS`: a year is 12, a quarter 3, a
    week 12 / 52, a day 12 / 365).  ``discount`` is the fraction taken off (0.2 = 20 % off).
    """
    months = ibis.cases(
        *((subs.billing_interval == name, n) for name, n in BILLING_INTERVALS.items()),
        else_=ibis.null("float64"),
    )
    return subs.amount * subs.quantity * (1 - subs.discount) / months


def derive_mrr(subs: ir.Table, through: dt.date, *, by_currency: bool = False) -> ir.Table:
    """``customer_id, month_idx, month, mrr``: every customer-month with MRR > 0 up to ``through``.

    ``by_currency=True`` keeps the subscriptions' ``currency`` (as written) as a key:
    ``customer_id, currency, month_idx, month, mrr``, the MRR in each currency's own units
    (docs/metrics.md "Currencies" converts it month by month).

    A subscription is active in month m when ``start_date <= last day of m`` and (``end_date`` is
    empty or ``end_date > first day of m``): its last active month is the month of
    ``end_date - 1 day``, so a mid-month end still counts that month and an end on the 1st does not.
    Open subscriptions run through the month of ``through``; subscriptions starting after
    ``through`` are ignored (docs/metrics.md "Conventions": later data is ignored), even within its
    month.
    A customer's MRR in a month is the sum over its active subscriptions.
    """
    last_idx = month_index_of(through)
    subs = subs.filter(subs.start_date <= through)  # data dated after as_of is ignored
    keys = ["customer_id", "currency"] if by_currency else ["customer_id"]
    spans = subs.select(
        *keys,
        start_idx=month_index(subs.start_date),
        end_idx=ibis.coalesce(
            month_index(subs.end_date - ibis.interval(days=1)), ibis.literal(last_idx)
        ),
        value=subscription_mrr(subs),
    )
    bounds = spans.aggregate(lo=spans.start_idx.min()).to_pandas()
    lo = bounds.iloc[0]["lo"]
    if pd.isna(lo) or int(lo) > last_idx:
        # no subscription started by then: no row (of the subscriptions' own backend, so the
        # table joins with the others; an empty pandas frame would not even type its dates)
        none = subs.filter(ibis.literal(False))
        return none.select(
            *keys,
            month_idx=ibis.literal(0, "int64"),
            month=ibis.null("date"),
            mrr=ibis.literal(0.0, "float64"),
        )
    cal = calendar(int(lo), last_idx)
    joined = spans.join(cal, [cal.month_idx >= spans.start_idx, cal.month_idx <= spans.end_idx])
    monthly = joined.group_by([*keys, "month_idx", "month"]).aggregate(
        mrr=joined.value.sum()
    )
    return monthly.filter(monthly.mrr > 0)
