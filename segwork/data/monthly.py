"""Monthly MRR as engine expressions (docs/metrics.md "MRR", "Currencies"), written once.

Pure functions of the tables: nothing here caches.  :class:`segwork.engine.Engine` caches their
results (per as_of, or once for a given ``mrr`` table); :meth:`segwork.Dataset.table` uses them
for the ``mrr`` table derived from subscriptions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import ibis.expr.types as ir

from segwork.data.derive import derive_mrr, month_index, month_index_of, month_start_of
from segwork.data.fx import code, require_rates, to_base

__all__ = [
    "given_monthly",
    "given_months",
    "in_base",
    "in_base_with_next",
    "native_monthly",
    "require_monthly_rates",
]


def given_monthly(mrr: ir.Table) -> ir.Table:
    """``customer_id, month_idx, month, mrr``: every month with MRR > 0 of a given ``mrr``."""
    expr = mrr.select("customer_id", month_idx=month_index(mrr.month), month=mrr.month, mrr=mrr.mrr)
    return expr.filter(expr.mrr > 0)


def given_months(mrr: ir.Table, months: Sequence[int]) -> ir.Table:
    """:func:`given_monthly`'s rows of the months of index ``months`` (``customer_id, month_idx,
    month, mrr``), filtered on the month column itself: the engine prunes a stored file's rows
    before reading them, where :func:`given_monthly` computes every row's month index first."""
    rows = mrr.filter(mrr.month.isin([month_start_of(m) for m in months]) & (mrr.mrr > 0))
    return rows.select(
        "customer_id", month_idx=month_index(rows.month), month=rows.month, mrr=rows.mrr
    )


def native_monthly(tables: Mapping[str, ir.Table], through: dt.date, *, derived: bool) -> ir.Table:
    """``customer_id, currency, month_idx, month, mrr``: MRR > 0 in each currency's own units,
    months up to ``through``'s, from the subscriptions (``derived``) or the given ``mrr``;
    ``currency`` is the code (trimmed, upper-cased: :func:`segwork.data.fx.code`), so that a
    kept native table is converted without a string function per row (``to_base(coded=True)``).
    """
    if derived:
        native = derive_mrr(tables["subscriptions"], through, by_currency=True)
        return native.mutate(currency=code(native.currency))
    m = tables["mrr"]
    native = m.select(
        "customer_id",
        currency=code(m.currency),
        month_idx=month_index(m.month),
        month=m.month,
        mrr=m.mrr,
    )
    return native.filter((native.mrr > 0) & (native.month_idx <= month_index_of(through)))


def require_monthly_rates(native: ir.Table, fx: ir.Table, base: str, through: dt.date) -> None:
    """Raise naming each currency and month when ``fx`` lacks a rate that converting
    ``native`` needs: every month with MRR, and the month after each (a churn or a change is
    valued at the new month's rate, docs/metrics.md "MRR movements"), through ``through``'s."""
    last = month_index_of(through)
    # the few distinct pairs first, then the month after each: one pass over the rows
    pairs = native.select("currency", "month_idx").distinct()
    after = pairs.select("currency", month_idx=pairs.month_idx + 1)
    needed = pairs.union(after.filter(after.month_idx <= last))
    require_rates(needed, fx, base, "MRR")


def in_base(native: ir.Table, fx: ir.Table, base: str) -> ir.Table:
    """``customer_id, month_idx, month, mrr``: :func:`native_monthly` converted to ``base`` at
    each month's rate and summed per customer-month (MRR > 0)."""
    conv = to_base(native, "mrr", fx, base, coded=True)
    monthly = conv.group_by(["customer_id", "month_idx", "month"]).aggregate(mrr=conv.mrr.sum())
    return monthly.filter(monthly.mrr > 0)


def in_base_with_next(native: ir.Table, fx: ir.Table, base: str) -> ir.Table:
    """:func:`in_base` with ``next_at``: each customer-month's MRR valued at the next month's
    rates (0 where the fx table has no next month), for MRR movements in several currencies
    (docs/metrics.md "MRR movements": a churn or a change is valued at the new month's rate).
    One pass over the native rows for both values."""
    nxt = native.mutate(
        next_at=native.mrr, _month_idx=native.month_idx, month_idx=native.month_idx + 1
    )
    nxt = to_base(nxt, "next_at", fx, base, coded=True).drop("rate")
    now = to_base(nxt.mutate(month_idx=nxt._month_idx), "mrr", fx, base, coded=True)
    monthly = now.group_by(["customer_id", "month_idx", "month"]).aggregate(
        mrr=now.mrr.sum(), next_at=now.next_at.fill_null(0.0).sum()
    )
    return monthly.filter(monthly.mrr > 0)
