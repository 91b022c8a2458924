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

from segwork.data.derive import month_index_of
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
    "Months",
    "PerCustomer",
    "active_months",
    "bit_count",
    "bits_of",
    "held_column",
    "month_span",
    "page_months_serve",
    "page_totals",
    "per_customer_of_months",
    "prepare_month_values",
    "window_counts",
    "window_terms",
]


def page_months_serve(data: Data) -> bool:
    """Whether this module's tables can serve ``data``'s engine: a page's engine
    (:attr:`segwork.Engine.serves_every_date`) on a given ``mrr`` in one currency, on DuckDB,
    with its faster paths."""
    eng = engine_for(data)
    return (
        eng.fast_paths
        and eng.backend_name == "duckdb"
        and eng.serves_every_date
        and not eng.data.currencies.converts
    )


@dataclass(frozen=True)
class PerCustomer(CacheKey):
    """Each customer's MRR, churn-window counts and NRR base and end at ``as_of``."""

    as_of: Any
    window_months: int


@dataclass(frozen=True)
class ActiveMonths(CacheKey):
    """Every customer's active months of all time as the bits of one integer (bit k = month
    ``origin`` + k), and each customer's MRR in the months ``held`` (read in the same pass);
    with ``values``, also its MRR of every active month (a list in month order)."""

    origin: int
    held: tuple[int, ...] = ()
    values: bool = False


@dataclass(frozen=True)
class MonthSpan(CacheKey):
    """The first and last month index of a given ``mrr`` table."""


#: The most months :func:`per_customer_of_months` holds in one 64-bit integer per customer.
MAX_BITS_MONTHS = 62


def month_span(data: Data) -> tuple[int, int] | None:
    """``(first, last)`` month index of the months with MRR > 0 of a given ``mrr`` (one query
    per engine, on the month column itself: the engine answers it without computing every row's
    month index); None when it has no such row."""
    eng = engine_for(data)
    given = eng.data.table("mrr", needed_for="MRR metrics")

    def build() -> tuple[int, int] | None:
        rows = given.filter(given.mrr > 0)
        got = rows.aggregate(lo=rows.month.min(), hi=rows.month.max()).to_pandas()
        lo, hi = got["lo"].iloc[0], got["hi"].iloc[0]
        if pd.isna(lo):
            return None
        return month_index_of(pd.Timestamp(lo).date()), month_index_of(pd.Timestamp(hi).date())

    span: tuple[int, int] | None = eng.value(MonthSpan(), build)
    return span


@dataclass(frozen=True)
class Months:
    """What :func:`active_months` returns.

    Attributes
    ----------
    table : ibis Table
        ``customer_id, months`` (bit k = month ``origin`` + k), and for each month m of
        ``held`` a column :func:`held_column` (m): the customer's MRR in m (0 when none).
    origin : int
        The month index of bit 0.
    held : tuple of int
        The months whose MRR the table holds.
    values : bool
        Whether the table also has ``mrrs``: the customer's MRR of each active month, in month
        order (the i-th value is the month of the i-th set bit), so it holds every month.
    """

    table: ir.Table
    origin: int
    held: tuple[int, ...]
    values: bool = False

    def holds(self, month: int) -> bool:
        """Whether the table holds the MRR of ``month`` and of its NRR base, 12 months
        before."""
        return self.values or (month in self.held and month - NRR_MONTHS in self.held)

    def mrr_at(self, month: int, t: ir.Table | None = None) -> ir.FloatingValue:
        """Each customer's MRR in ``month`` (0 when none), a column of :attr:`table` (or of
        ``t``, a table with its columns) where it :meth:`holds` it.  From ``mrrs``: the value
        at the position of ``month``'s bit among the set bits before it."""
        t = self.table if t is None else t
        if not self.values:
            return t[held_column(month)]
        k = month - self.origin
        if k < 0 or k >= MAX_BITS_MONTHS:  # no month of the data is there
            return ibis.literal(0.0)
        before = (t.months & ibis.literal((1 << k) - 1).cast("int64")).cast("int64")
        active = ((t.months >> k) & ibis.literal(1).cast("int64")) == 1
        return ibis.ifelse(active, t.mrrs[bit_count(before)], ibis.literal(0.0))


def held_column(month: int) -> str:
    """The column of :attr:`Months.table` with each customer's MRR in ``month``."""
    return f"mrr_{month}"


def active_months(data: Data, month: int | None = None, *, values: bool = False) -> Months | None:
    """Each customer's months with MRR > 0 of all time as the bits of one integer, built by one
    group-by and kept by the engine (:class:`Months`); None when the data spans more than
    :data:`MAX_BITS_MONTHS` months or has no row (use another path).

    The first call with a ``month`` (a page's first date) also sums, in the same pass, each
    customer's MRR of that month, of the month before (the date its key numbers compare with)
    and of their NRR bases 12 months before: that date's per-customer table and the previous
    month's total row then read no MRR row again.  A table already kept serves any later call;
    one with every month's MRR (``values``, :func:`prepare_month_values`) first.
    """
    eng = engine_for(data)
    span = month_span(eng)
    if span is None or span[1] - span[0] + 1 > MAX_BITS_MONTHS:
        return None
    origin = span[0]
    kept = [k for k in eng.table_keys() if isinstance(k, ActiveMonths) and k.origin == origin]
    kept.sort(key=lambda k: k.values)  # one with every month's MRR last (sorting is stable)
    if kept and (kept[-1].values or not values):
        key = kept[-1]
    elif kept:
        key = ActiveMonths(origin, kept[-1].held, values=True)
    else:
        firsts = () if month is None else (month, month - 1)
        held = tuple(sorted({m - d for m in firsts for d in (0, NRR_MONTHS)}))
        key = ActiveMonths(origin, held, values=values)
    every = eng.monthly_mrr_all()
    one = ibis.literal(1).cast("int64")

    def every_month() -> ir.Table:
        k = (every.month_idx - origin).cast("int64")
        zero = ibis.literal(0.0)
        sums: dict[str, ir.Value] = {"months": (one << k).bit_or()}
        for m in key.held:
            sums[held_column(m)] = ibis.ifelse(every.month_idx == m, every.mrr, zero).sum()
        if key.values:  # (month, MRR) pairs in any order, sorted per customer below
            sums["_pairs"] = ibis.struct({"m": every.month_idx, "v": every.mrr}).collect()
        t = every.group_by("customer_id").aggregate(**sums)
        if key.values:
            t = t.mutate(mrrs=t._pairs.sort().map(lambda p: p.v)).drop("_pairs")
        return t

    return Months(eng.table(key, every_month), origin, key.held, key.values)


def prepare_month_values(data: Data) -> None:
    """Build ahead, on a page's engine, :func:`active_months` with every customer's MRR of every
    month (one more pass over the MRR rows, about 1.4 s at 1M customers): a new date's
    per-customer table and total row then read no MRR row.  Nothing where the bits do not
    serve (:func:`page_months_serve`)."""
    eng = engine_for(data)
    if page_months_serve(eng):
        active_months(eng, values=True)


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
    a, w = as_of_month, window_months
    got = active_months(eng, a)
    if got is None:
        return None
    bits, origin = got.table, got.origin

    def at_date() -> ir.Table:
        if got.holds(a):  # this month's MRR summed with the bits
            j = bits.mutate(mrr_a=got.mrr_at(a), nrr_base=got.mrr_at(a - NRR_MONTHS))
        else:
            base_idx = a - NRR_MONTHS
            m = given_months(eng.data.table("mrr"), [a, base_idx])
            now = m.group_by("customer_id").aggregate(
                mrr_a=ibis.ifelse(m.month_idx == a, m.mrr, ibis.literal(0.0)).sum(),
                nrr_base=nrr_base(m, base_idx),
            )
            j = bits.left_join(now, "customer_id")
        t = j.select(
            "customer_id",
            **window_terms(j.months, a, w, origin),
            mrr_a=j.mrr_a.fill_null(0.0),
            nrr_base=j.nrr_base.fill_null(0.0),
            has_base=j.nrr_base.notnull() & (j.nrr_base > 0),
        )
        # a customer with no row of the window nor an NRR base has no row, as in the definition
        return t.filter((t.window != 0) | t.has_base)

    # kept per date: the window's bit terms are read by the query below as columns
    per = eng.table(PerCustomer(as_of, w), at_date)
    at_risk, churned = window_counts(per)
    return per.select(
        "customer_id",
        active_a=per.active == 1,
        mrr_a=per.mrr_a,
        at_risk=at_risk,
        churned=churned,
        nrr_base=per.nrr_base,
        nrr_end=nrr_end(per.nrr_base, per.mrr_a),
    )


def window_terms(months: ir.IntegerValue, a: int, w: int, origin: int) -> dict[str, ir.Value]:
    """The churn window of month index ``a`` over ``w`` months as three columns of a
    customer's ``months`` bits (bit k = month ``origin`` + k): ``window`` the months A-w .. A
    as bits 0..w, ``next`` the month after each as bits 0..w-1, ``active`` month A's bit.  Kept
    as columns and read by :func:`window_counts` (bitwise operators' precedence differs between
    SQL dialects, so they are never nested)."""
    return {
        "window": bits_of(months, a - w - origin, w + 1),
        "next": bits_of(months, a - w + 1 - origin, w),
        "active": bits_of(months, a - origin, 1),
    }


def window_counts(t: ir.Table) -> tuple[ir.IntegerValue, ir.IntegerValue]:
    """``(at_risk, churned)`` customer-months of each row of ``t``'s :func:`window_terms`:
    active months A-w .. A-1, and those not followed by an active month (docs/metrics.md "Churn
    window")."""
    active = t.active.cast("int64")
    in_window = bit_count(t.window).cast("int64")
    followed = bit_count(t.window & t.next).cast("int64")
    return (in_window - active).cast("int64"), (in_window - followed - active).cast("int64")


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
    :func:`per_customer_of_months` over the population in one query: of the bits alone when
    they hold months A and A-12 (a page's first date and the month before), else also of one
    read of those months' rows (one per customer and month: the ``mrr`` table's key).  None
    where :func:`active_months` is.  Tested equal to the definition
    (tests/metrics/test_segments.py).
    """
    eng = engine_for(data)
    day = as_of
    a, w = month_index_of(day), int(window_months)
    got = active_months(eng, a)
    if got is None:
        return None
    bits, origin = got.table, got.origin
    base_idx = a - NRR_MONTHS
    pop = population(eng, day)
    # who is not in the population: few customers (none at the data's last date), so leaving
    # them out probes a small hash table (every customer of the mrr table is in the customers
    # table: the contract refuses others)
    c = eng.data.table("customers")
    late = c.filter(c.signup_date.isnull() | (c.signup_date > day)).select("customer_id")

    # the churn window of each customer of the population, as bits
    b = bits.anti_join(late, "customer_id")
    held = {}
    if got.holds(a):  # months A and A-12 summed with the bits: no MRR row read again
        held = {"mrr_a": got.mrr_at(a, b), "mrr_base": got.mrr_at(base_idx, b)}
    b = b.select(
        **window_terms(b.months, a, w, origin),
        **held,
    )
    at_risk, churned = window_counts(b)
    sums: dict[str, ir.Value] = {
        "at_risk_customer_months": at_risk.sum(),
        "churned_customer_months": churned.sum(),
    }
    customers = pop.aggregate(customers=pop.count())
    if held:
        sums |= {
            "active_customers": b.active.cast("int64").sum(),
            "mrr": b.mrr_a.sum(),
            "nrr_base": b.mrr_base.sum(),
            "nrr_end": nrr_end(b.mrr_base, b.mrr_a).sum(),
        }
        q = customers.cross_join(b.aggregate(**sums))
        return typed_counts(q.to_pandas())[list(ADDITIVE)]
    window = b.aggregate(**sums)
    # the rows of months A and A-12 (one per customer and month: the mrr table's key)
    rows = given_months(eng.data.table("mrr"), [a, base_idx]).anti_join(late, "customer_id")
    now = rows.filter(rows.month_idx == a)
    then = rows.filter(rows.month_idx == base_idx)
    pairs = now.semi_join(then, "customer_id")
    at_a = now.aggregate(active_customers=now.count(), mrr=now.mrr.sum())
    at_base = then.aggregate(nrr_base=then.mrr.sum())
    ends = pairs.aggregate(nrr_end=pairs.mrr.sum())
    q = customers.cross_join(at_a).cross_join(window).cross_join(at_base).cross_join(ends)
    return typed_counts(q.to_pandas())[list(ADDITIVE)]
