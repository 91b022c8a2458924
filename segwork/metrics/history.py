"""Date-independent engine tables, so that a page's change of as_of reads sums, not raw rows.

A page (:attr:`segwork.Engine.serves_every_date`: its engine, a given ``mrr`` table) asks the same
questions at many as-of dates.  Two kinds of table are built once and every date reads them:

- :func:`monthly_mrr_next`: every customer-month with MRR > 0 and the customer's next such month (to
  tell churned months, active in m-1 and not in m: docs/metrics.md "Churn window"), which the
  segment table's per-customer counts of any date read on a page;
- :func:`segment_history`: for segments of plain customer columns (the ideal customer profile's
  firmographics, penetration's market criteria; none: every customer together, a page's key
  numbers), per segment and month the active customers, their MRR, how many of them are not
  active the next month and the MRR of those who were active 12 months before (NRR's end).
  The segment table's additive counts at any as_of (:func:`segment_counts_over_time`) are then
  range sums over it, plus the signups up to the date; the same numbers as the per-customer
  query of :func:`segwork.metrics.segments.segment_table` (tested on random data).

The population (docs/metrics.md "Conventions": customers with ``signup_date <= as_of``) is kept
exact: a month row of a customer who signed up on or after that month's first day carries the signup
date, and a date reads such a row only when the signup is on or before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from segwork.data.derive import month_index, month_index_of
from segwork.engine import Data, engine_for
from segwork.engine.keys import CacheKey
from segwork.metrics._common import Where, bin_expr
from segwork.metrics.nrr import NRR_MONTHS

__all__ = [
    "ADDITIVE",
    "AT_DATE",
    "SegmentCounts",
    "SegmentHistory",
    "history_applies",
    "history_kept",
    "keep_counts",
    "kept_counts",
    "monthly_mrr_next",
    "next_active",
    "rollup",
    "segment_counts_over_time",
    "segment_history",
    "typed_counts",
]

#: The segment counts that add up over segments (a coarser segmentation is their sum over a
#: finer one's rows): :func:`segwork.metrics.segments.segment_table`'s counts before the ratios.
ADDITIVE: tuple[str, ...] = (
    "customers",
    "active_customers",
    "at_risk_customer_months",
    "churned_customer_months",
    "mrr",
    "nrr_base",
    "nrr_end",
)
_INT_COLUMNS = ADDITIVE[:4]
_FLOAT_COLUMNS = ADDITIVE[4:]

#: Canonical ``bins`` of a history: ``((column, (edges...)), ...)`` sorted by column.
BinsKey = tuple[tuple[str, tuple[float, ...]], ...]


@dataclass(frozen=True)
class MonthlyMRRNext(CacheKey):
    """Every month of a given ``mrr`` with the customer's next active month."""


@dataclass(frozen=True)
class HistoryPart(CacheKey):
    """A table of the segment history of ``columns`` cut by ``bins``: its ``part`` is
    ``"segments"``, ``"customers"``, ``"months"`` or ``"keys"``."""

    columns: tuple[str, ...]
    bins: BinsKey
    part: str


@dataclass(frozen=True)
class HistoryCounts(CacheKey):
    """The additive counts of a history's own segments at ``as_of`` over ``window_months``."""

    columns: tuple[str, ...]
    bins: BinsKey
    as_of: dt.date
    window_months: int


def next_active(r: ir.Table) -> ir.IntegerColumn:
    """The customer's next month with MRR after the row's month (null for the last one)."""
    return r.month_idx.lead().over(ibis.window(group_by=r.customer_id, order_by=r.month_idx))


def monthly_mrr_next(data: Data) -> ir.Table:
    """:meth:`segwork.Engine.monthly_mrr_all` with ``next_idx``, the customer's next active month.

    Cached in the engine once per Dataset (for a row of a month before as_of's, "next ==
    month + 1" reads months up to as_of only, so every date can use it).
    """
    eng = engine_for(data)
    data = eng.data

    def build() -> ir.Table:
        every = eng.monthly_mrr_all()
        return every.mutate(next_idx=next_active(every))

    return eng.table(MonthlyMRRNext(), build)


def history_applies(data: Data, names: Sequence[str], where: Where | None = None) -> bool:
    """Whether :func:`segment_counts_over_time` can serve segments of ``names``: a page's
    Dataset with a given ``mrr`` table, segments of plain customer columns and no ``where``."""
    eng = engine_for(data)
    data = eng.data
    if where or not eng.serves_every_date:
        return False
    if not (data.has("mrr") and data.has("customers")):
        return False
    plain = set(data.table("customers").columns) - {"customer_id", "signup_date"}
    return all(n in plain for n in names)


def history_kept(data: Data, names: Sequence[str]) -> bool:
    """Whether the engine keeps a :func:`segment_history` that serves segments of ``names``
    (uncut): :func:`segment_counts_over_time` of any date then reads no raw row."""
    eng = engine_for(data)
    return any(_served_by(key, names, ()) for key in eng.table_keys())


@dataclass(frozen=True)
class SegmentHistory:
    """The as_of-independent tables of :func:`segment_history` (engine tables, cached).

    Attributes
    ----------
    columns : tuple of str
        The segment columns (a segment is a distinct combination, a null value being one).
    bins : tuple
        ``((column, edges), ...)``: numeric columns cut into right-closed bins first.
    customers : ibis Table
        ``customer_id, signup_date, seg``: each customer's segment number.
    months : ibis Table
        ``seg, month_idx, sd, active, mrr, churned, nrr_end`` per segment, month and ``sd``
        (the signup date of customers who signed up on or after that month's first day, else
        null): customers with MRR > 0 in the month, their MRR, how many have none the next
        month, and the MRR of those with MRR 12 months before.
    keys : pandas.DataFrame
        ``seg`` and the ``columns``: what each segment number stands for.
    """

    columns: tuple[str, ...]
    bins: BinsKey
    customers: ir.Table
    months: ir.Table
    keys: pd.DataFrame


def _bins_key(bins: Mapping[str, Sequence[float]] | None) -> BinsKey:
    return tuple(sorted((c, tuple(float(e) for e in v)) for c, v in dict(bins or {}).items()))


def _covers(columns: Sequence[str], cut: BinsKey, names: Sequence[str], bins: BinsKey) -> bool:
    """Whether segments of ``columns`` cut by ``cut`` roll up to segments of ``names`` cut by
    ``bins``: every name is a column, cut the same way."""
    cuts, want = dict(cut), dict(bins)
    return all(n in columns and cuts.get(n) == want.get(n) for n in names)


def _served_by(
    key: CacheKey, names: Sequence[str], bins: BinsKey
) -> tuple[tuple[str, ...], BinsKey] | None:
    """The ``(columns, bins)`` of the history kept under ``key`` when it has every column of
    ``names``, cut the same way; None for any other key."""
    if not (isinstance(key, HistoryPart) and key.part == "months"):
        return None
    if _covers(key.columns, key.bins, names, bins):
        return key.columns, key.bins
    return None


@dataclass(frozen=True)
class SegmentCounts(CacheKey):
    """The additive counts per segment of ``columns`` (cut by ``bins``) that a segment table at
    ``as_of`` over ``window_months`` computed without a filter."""

    columns: tuple[str, ...]
    bins: BinsKey
    as_of: dt.date
    window_months: int


#: The counts of :data:`ADDITIVE` that do not depend on the churn window.
AT_DATE = ("customers", "active_customers", "mrr")


def keep_counts(
    data: Data,
    names: Sequence[str],
    bins: Mapping[str, Sequence[float]] | None,
    as_of: dt.date,
    window_months: int,
    counts: pd.DataFrame,
) -> None:
    """Keep a segment table's counts per segment of ``names`` at ``as_of`` (no filter) in the
    engine, so that a coarser segmentation at that date rolls them up (:func:`kept_counts`)."""
    eng = engine_for(data)
    cut = _bins_key({c: e for c, e in dict(bins or {}).items() if c in names})
    key = SegmentCounts(tuple(names), cut, as_of, int(window_months))
    eng.frame(key, counts.copy)  # its own copy: the caller goes on with its frame


def kept_counts(
    data: Data,
    names: Sequence[str],
    as_of: dt.date,
    bins: Mapping[str, Sequence[float]] | None = None,
) -> pd.DataFrame | None:
    """``[*names], customers, active_customers, mrr`` at ``as_of``, rolled up from the counts
    of a finer segmentation kept at that date (:func:`keep_counts`, any churn window: these
    three do not depend on it); None when the engine keeps none that serves ``names``."""
    eng = engine_for(data)
    want = _bins_key({c: e for c, e in dict(bins or {}).items() if c in names})
    for key in reversed(eng.frame_keys()):
        if (
            isinstance(key, SegmentCounts)
            and key.as_of == as_of
            and _covers(key.columns, key.bins, names, want)
        ):
            got = eng.frame(key, pd.DataFrame)  # kept: a copy
            return rollup(got[[*key.columns, *AT_DATE]], list(names), values=AT_DATE)
    return None


def segment_history(
    data: Data, names: Sequence[str], bins: Mapping[str, Sequence[float]] | None = None
) -> SegmentHistory:
    """The :class:`SegmentHistory` of segments of the customer columns ``names``.

    A history already built for more columns (cut the same way) serves fewer of them: the
    ideal customer profile's history serves penetration's market criteria.
    """
    eng = engine_for(data)
    data = eng.data
    want = _bins_key({c: e for c, e in dict(bins or {}).items() if c in names})
    served = (_served_by(key, names, want) for key in reversed(eng.table_keys()))
    columns, have = next((found for found in served if found), (tuple(names), want))

    def part(name: str) -> HistoryPart:
        return HistoryPart(columns, have, name)

    edges = dict(have)

    def segments() -> ir.Table:
        c = data.table("customers")
        c = c.mutate(**{n: bin_expr(c[n], e) for n, e in edges.items()})
        k = c.select(*columns).distinct()
        return k.mutate(seg=ibis.row_number().over(order_by=[k[n] for n in columns]))

    def customers() -> ir.Table:
        c = data.table("customers")
        if not columns:
            return c.select("customer_id", "signup_date", seg=ibis.literal(0, "int64"))
        c = c.mutate(**{n: bin_expr(c[n], e) for n, e in edges.items()})
        k = eng.table(part("segments"), segments)
        # a missing value is a segment of its own: matched with IS NOT DISTINCT FROM
        j = c.join(k, [c[n].identical_to(k[n]) for n in columns])
        return j.select("customer_id", "signup_date", seg=j.seg.cast("int64"))

    cust = eng.table(part("customers"), customers)

    def months() -> ir.Table:
        every = eng.monthly_mrr_all()
        # a row is followed by the next month's row of the same customer, or the customer is
        # gone the next month (a hash join: cheaper than a window over every row)
        follows = every.select("customer_id", month_idx=every.month_idx - 1, stays=ibis.literal(1))
        # and by a row of the same customer 12 months before: the row's MRR is NRR's end
        before = every.select(
            "customer_id", month_idx=every.month_idx + NRR_MONTHS, based=ibis.literal(1)
        )
        e = every.left_join(follows, ["customer_id", "month_idx"])
        e = e.left_join(before, ["customer_id", "month_idx"])
        j = e.join(cust, "customer_id")
        late = month_index(j.signup_date) >= j.month_idx
        j = j.mutate(
            sd=ibis.ifelse(late, j.signup_date, ibis.null("date")),
            gone=(1 - j.stays.fill_null(0)).cast("int64"),
            end=ibis.ifelse(j.based.notnull(), j.mrr, ibis.literal(0.0)),
        )
        return j.group_by(["seg", "month_idx", "sd"]).aggregate(
            active=j.count(), mrr=j.mrr.sum(), churned=j.gone.sum(), nrr_end=j.end.sum()
        )

    mon = eng.table(part("months"), months)

    def keys() -> pd.DataFrame:
        if not columns:
            return pd.DataFrame({"seg": [0]})
        k = eng.table(part("segments"), segments).to_pandas()
        k["seg"] = k["seg"].astype("int64")
        return k.sort_values("seg").reset_index(drop=True)

    key_frame = eng.frame(part("keys"), keys)
    return SegmentHistory(columns, have, cust, mon, key_frame)


def segment_counts_over_time(
    data: Data,
    names: Sequence[str],
    as_of: dt.date,
    window_months: int,
    *,
    bins: Mapping[str, Sequence[float]] | None = None,
) -> pd.DataFrame:
    """The segment table's additive counts (:data:`ADDITIVE`) per segment of ``names`` at
    ``as_of``, from the :func:`segment_history` (one engine query over the small tables).

    The same frame as the per-customer query of :func:`segwork.metrics.segments.segment_table`
    (docs/metrics.md "Segment table", "Churn window", "NRR and GRR"), with A = as_of's month and w
    the window:
    customers = signups up to as_of; active customers and MRR = rows of month A; customer-months
    at risk = rows of months A-w .. A-1 (active in m-1 for m = A-w+1 .. A), churned = those
    without MRR the next month; NRR base = MRR of month A-12, NRR end = month-A MRR of the
    customers active in A-12.  Rows of customers who signed up after as_of are left out.
    Only for :func:`history_applies` data and names; bins as in ``segment_table``.
    """
    eng = engine_for(data)
    data = eng.data
    hist = segment_history(eng, names, bins)
    # the counts of the history's own segments at this date, kept: penetration at the same date
    # rolls them up again instead of querying
    got = eng.frame(
        HistoryCounts(hist.columns, hist.bins, as_of, int(window_months)),
        lambda: _history_counts(eng, hist, as_of, int(window_months)),
    )
    if tuple(names) == hist.columns:
        return got
    return rollup(got, list(names))


def _history_counts(
    data: Data, hist: SegmentHistory, as_of: dt.date, window_months: int
) -> pd.DataFrame:
    eng = engine_for(data)
    data = eng.data
    a = month_index_of(as_of)
    w = window_months
    base_idx = a - NRR_MONTHS
    m = hist.months
    m = m.filter(
        (m.month_idx >= min(a - w, base_idx))
        & (m.month_idx <= a)
        & (m.sd.isnull() | (m.sd <= as_of))
    )
    at_a = m.month_idx == a
    window = (m.month_idx >= a - w) & (m.month_idx <= a - 1)
    zero, zero_f = ibis.literal(0, "int64"), ibis.literal(0.0)
    sums = m.group_by("seg").aggregate(
        active_customers=ibis.ifelse(at_a, m.active, zero).sum(),
        mrr=ibis.ifelse(at_a, m.mrr, zero_f).sum(),
        at_risk_customer_months=ibis.ifelse(window, m.active, zero).sum(),
        churned_customer_months=ibis.ifelse(window, m.churned, zero).sum(),
        nrr_base=ibis.ifelse(m.month_idx == base_idx, m.mrr, zero_f).sum(),
        nrr_end=ibis.ifelse(at_a, m.nrr_end, zero_f).sum(),
    )
    pop = hist.customers.filter(hist.customers.signup_date <= as_of)
    signups = pop.group_by("seg").aggregate(customers=pop.count())
    q = signups.left_join(sums, "seg").drop("seg_right")
    got = typed_counts(q.to_pandas())
    got = hist.keys.merge(got, on="seg", how="inner").drop(columns="seg")
    return got[[*hist.columns, *ADDITIVE]].reset_index(drop=True)


def typed_counts(got: pd.DataFrame) -> pd.DataFrame:
    """The :data:`ADDITIVE` columns of an engine result as the segment table has them: counts
    int64, sums float64, a segment without rows 0 (the engine's integer sums may come back as
    float, its empty sums as null)."""
    for col in _INT_COLUMNS:
        got[col] = pd.to_numeric(got[col]).fillna(0).astype("int64")
    for col in _FLOAT_COLUMNS:
        got[col] = pd.to_numeric(got[col]).fillna(0.0).astype("float64")
    return got


def rollup(
    counts: pd.DataFrame, by: Sequence[str], values: Sequence[str] = ADDITIVE
) -> pd.DataFrame:
    """The additive counts ``values`` (default :data:`ADDITIVE`) of a coarser segmentation
    ``by`` (a subset of the columns), summed from a finer one's rows (missing values are a
    segment of their own, as in the engine).

    >>> fine = pd.DataFrame({"plan": ["a", "a", "b"], "region": ["x", "y", None],
    ...     **{c: [1, 2, 3] for c in ADDITIVE}})
    >>> rollup(fine, ["plan"])[["plan", "customers", "mrr"]]
      plan  customers  mrr
    0    a          3    3
    1    b          3    3
    """
    cols = list(by)
    additive = list(values)
    if not cols:
        return counts[additive].sum().to_frame().T.astype(counts[additive].dtypes)
    out = counts.groupby(cols, dropna=False, sort=False, observed=True)[additive].sum()
    out = out.reset_index()
    for c in cols:  # a missing text value stays None (groupby makes it NaN), as the engine gives
        if out[c].dtype == object:
            out[c] = out[c].where(out[c].notna(), None)
    return out
