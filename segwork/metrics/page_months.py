"""A page's months of all time: every customer's active months as the bits of one integer.

A page (:attr:`segwork.Engine.serves_every_date`: its own engine over a given ``mrr`` table in one
currency, on DuckDB) asks for the segment table's per-customer counts at many as-of dates.  Every
customer's months with MRR > 0 are kept once as the bits of one 64-bit integer
(:class:`ActiveMonths`); any date's churn window (docs/metrics.md "Churn window") is then a shift
and a mask of that 1M-row table, and its months at risk and churned are counts of set bits:

- :func:`per_customer_of_months`: :func:`segwork.metrics.segments.per_customer` of a date, the
  table the segment table joins with the customers' attributes;
- :func:`page_totals`: the segment table's additive counts of every customer together at a date
  (the total row a page's key numbers read), as sums without a per-customer table.

Both are tested equal to the definition (tests/metrics/test_segments.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from segwork.data.derive import month_index_of, month_start_of
from segwork.data.monthly import given_months
from segwork.engine import Data, engine_for
from segwork.engine.keys import CacheKey
from segwork.metrics._common import population
from segwork.metrics.history import ADDITIVE, typed_counts
from segwork.metrics.nrr import NRR_MONTHS, nrr_base, nrr_end

__all__ = [
    "MAX_BITS_MONTHS",
    "ActiveMonths",
    "MonthSpan",
    "PerCustomer",
    "active_months",
    "bit_count",
    "bits_of",
    "month_span",
    "page_totals",
    "per_customer_of_months",
]


@dataclass(frozen=True)
class PerCustomer(CacheKey):
    """Each customer's MRR, churn-window counts and NRR base and end at ``as_of``."""

    as_of: Any
    window_months: int


@dataclass(frozen=True)
class ActiveMonths(CacheKey):
    """Every customer's active months of all time as the bits of one integer (bit k = month
    ``origin`` + k)."""

    origin: int


@dataclass(frozen=True)
class MonthSpan(CacheKey):
    """The first and last month index of a given ``mrr`` table."""


#: The most months :func:`per_customer_of_months` holds in one 64-bit integer per customer.
MAX_BITS_MONTHS = 62


def month_span(data: Data) -> tuple[int, int] | None:
    """``(first, last)`` month index of every month of a given ``mrr`` (one query per engine);
    None when it has no row."""
    eng = engine_for(data)
    every = eng.monthly_mrr_all()

    def build() -> tuple[int, int] | None:
        got = every.aggregate(lo=every.month_idx.min(), hi=every.month_idx.max()).to_pandas()
        lo, hi = got["lo"].iloc[0], got["hi"].iloc[0]
        return None if pd.isna(lo) else (int(lo), int(hi))

    span: tuple[int, int] | None = eng.value(MonthSpan(), build)
    return span


def active_months(data: Data) -> tuple[ir.Table, int] | None:
    """``(table, origin)``: ``customer_id, months``, each customer's months with MRR > 0 of all
    time as the bits of one integer (bit k = month ``origin`` + k), built by one group-by and
    kept by the engine; None when the data spans more than :data:`MAX_BITS_MONTHS` months or has
    no row (use another path)."""
    eng = engine_for(data)
    span = month_span(eng)
    if span is None or span[1] - span[0] + 1 > MAX_BITS_MONTHS:
        return None
    origin = span[0]
    every = eng.monthly_mrr_all()
    one = ibis.literal(1).cast("int64")

    def every_month() -> ir.Table:
        k = (every.month_idx - origin).cast("int64")
        return every.group_by("customer_id").aggregate(months=(one << k).bit_or())

    return eng.table(ActiveMonths(origin), every_month), origin


def per_customer_of_months(
    data: Data, as_of_month: int, window_months: int, as_of: Any
) -> ir.Table | None:
    """:func:`segwork.metrics.segments.per_customer` of a page from every customer's active
    months of all time, kept as the bits of one integer (:func:`active_months`): any date's
    churn window is then a shift and a mask of a 1M-row table, plus one filtered read of months
    A and A-12 for the MRR and the NRR base.  None (use another path) when the data spans more
    than :data:`MAX_BITS_MONTHS` months or has no row.

    A given ``mrr`` in one currency only.  Tested equal to the definition
    (tests/metrics/test_segments.py).
    """
    eng = engine_for(data)
    got = active_months(eng)
    if got is None:
        return None
    bits, origin = got
    a, w = as_of_month, window_months
    every = eng.monthly_mrr_all()

    def at_date() -> ir.Table:
        base_idx = a - NRR_MONTHS
        m = every.filter(every.month_idx.isin([a, base_idx]))
        now = m.group_by("customer_id").aggregate(
            mrr_a=ibis.ifelse(m.month_idx == a, m.mrr, ibis.literal(0.0)).sum(),
            nrr_base=nrr_base(m, base_idx),
        )
        j = bits.left_join(now, "customer_id")
        # the window A-w .. A as bits 0..w, the months after each as bits 0..w-1, month A's bit
        t = j.select(
            "customer_id",
            window=bits_of(j.months, a - w - origin, w + 1),
            next=bits_of(j.months, a - w + 1 - origin, w),
            active=bits_of(j.months, a - origin, 1),
            mrr_a=j.mrr_a.fill_null(0.0),
            nrr_base=j.nrr_base.fill_null(0.0),
            has_base=j.nrr_base.notnull() & (j.nrr_base > 0),
        )
        # a customer with no row of the window nor an NRR base has no row, as in the definition
        return t.filter((t.window != 0) | t.has_base)

    # kept per date: the bit terms above are read by the query below as columns (bitwise
    # operators' precedence differs between SQL dialects, so they are never nested)
    per = eng.table(PerCustomer(as_of, w), at_date)
    active = per.active.cast("int64")
    in_window = bit_count(per.window).cast("int64")
    kept = bit_count(per.window & per.next).cast("int64")
    return per.select(
        "customer_id",
        active_a=per.active == 1,
        mrr_a=per.mrr_a,
        at_risk=(in_window - active).cast("int64"),
        churned=(in_window - kept - active).cast("int64"),
        nrr_base=per.nrr_base,
        nrr_end=nrr_end(per.nrr_base, per.mrr_a),
    )


def bits_of(months: ir.IntegerValue, shift: int, width: int) -> ir.IntegerValue:
    """Bits ``shift`` .. ``shift + width - 1`` of ``months`` as bits 0 .. width-1 (a negative
    shift: months before the first, which are never active)."""
    def mask(n: int) -> ir.IntegerScalar:
        return ibis.literal((1 << n) - 1).cast("int64")

    if shift >= MAX_BITS_MONTHS or width + shift <= 0:  # no month of the data is there
        return ibis.literal(0).cast("int64")
    if shift >= 0:
        return ((months >> shift) & mask(width)).cast("int64")
    # bits 0 .. width+shift-1 move up to -shift .. width-1 (masked first: nothing overflows)
    return ((months & mask(width + shift)) << -shift).cast("int64")


@ibis.udf.scalar.builtin(name="bit_count")
def bit_count(x: int) -> int:  # type: ignore[empty-body]
    """DuckDB's number of set bits of an integer."""



def page_totals(data: Data, as_of: Any, window_months: int) -> pd.DataFrame | None:
    """The segment table's additive counts of every customer at ``as_of`` (one row, the columns
    of :data:`segwork.metrics.history.ADDITIVE`), from :func:`active_months` without a
    per-customer table: the total row a page's key numbers read at a date it has not shown.

    Over the population at as_of (docs/metrics.md "Conventions"), with A = as_of's month and w the
    window (docs/metrics.md "Segment table", "Churn window", "NRR and GRR"):
    customers = the population; active customers, MRR = its rows of month A; customer-months at
    risk = its active months A-w .. A-1, churned = those not followed by an active month (set
    bits of the window less those of the window and the months after it); NRR base = its MRR of
    month A-12, NRR end = the month-A MRR of those active in A-12.  The sums of
    :func:`per_customer_of_months` over the population in one query of four aggregates (a
    month's rows are one per customer: the ``mrr`` table's key).  None where
    :func:`active_months` is.  Tested equal to the definition (tests/metrics/test_segments.py).
    """
    eng = engine_for(data)
    got = active_months(eng)
    if got is None:
        return None
    bits, origin = got
    day = as_of
    a, w = month_index_of(day), int(window_months)
    base_idx = a - NRR_MONTHS
    pop = population(eng, day)
    # who is not in the population: few customers (none at the data's last date), so leaving
    # them out probes a small hash table (every customer of the mrr table is in the customers
    # table: the contract refuses others)
    c = eng.data.table("customers")
    late = c.filter(c.signup_date.isnull() | (c.signup_date > day)).select("customer_id")

    # the churn window of each customer of the population, as bits (columns first: bitwise
    # operators are never nested, as in per_customer_of_months)
    b = bits.anti_join(late, "customer_id")
    b = b.select(
        window=bits_of(b.months, a - w - origin, w + 1),
        next=bits_of(b.months, a - w + 1 - origin, w),
        active=bits_of(b.months, a - origin, 1),
    )
    in_window = bit_count(b.window).cast("int64")
    kept = bit_count(b.window & b.next).cast("int64")
    active = b.active.cast("int64")
    window = b.aggregate(
        at_risk_customer_months=(in_window - active).sum(),
        churned_customer_months=(in_window - kept - active).sum(),
    )
    # the rows of months A and A-12 (one per customer and month: the mrr table's key)
    rows = given_months(eng.data.table("mrr"), [a, base_idx]).anti_join(late, "customer_id")
    now = rows.filter(rows.month == month_start_of(a))
    then = rows.filter(rows.month == month_start_of(base_idx))
    kept = now.semi_join(then, "customer_id")
    at_a = now.aggregate(active_customers=now.count(), mrr=now.mrr.sum())
    at_base = then.aggregate(nrr_base=then.mrr.sum())
    pairs = kept.aggregate(nrr_end=kept.mrr.sum())
    customers = pop.aggregate(customers=pop.count())
    q = customers.cross_join(at_a).cross_join(window).cross_join(at_base).cross_join(pairs)
    return typed_counts(q.to_pandas())[list(ADDITIVE)]
