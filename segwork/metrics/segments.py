"""The segment table and lifecycle stages (docs/metrics.md "Segment table", "Segmentations and
derived attributes", "Churn window", "LTV", "NRR and GRR").

Everything per customer and per segment is computed by the engine in one Ibis query; only the
small per-segment aggregate comes back to pandas, where the ratios, the Wilson intervals and the
LTV bounds are derived from the aggregated counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypedDict, Unpack

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.dates import to_date
from segwork.data.derive import month_index_of
from segwork.engine import Data, Engine, engine_for
from segwork.engine.keys import CacheKey
from segwork.metrics._common import (
    Bins,
    Where,
    add_shares,
    as_list,
    check_segment_params,
    days_between,
    engagement_expr,
    lifecycle_expr,
    population,
    rank_segments,
)
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.ecommerce import ecommerce_segment_table
from segwork.metrics.history import (
    ADDITIVE,
    history_applies,
    history_kept,
    keep_counts,
    monthly_mrr_next,
    next_active,
    rollup,
    segment_counts_over_time,
    segment_history,
    typed_counts,
)
from segwork.metrics.nrr import NRR_MONTHS, nrr_base, nrr_end
from segwork.metrics.page_months import (
    PerCustomer,
    bit_count,
    page_months_serve,
    page_totals,
    per_customer_of_months,
)
from segwork.metrics.stats import safe_ratio, wilson_interval
from segwork.options import bind_options

__all__ = [
    "SEGMENT_COLUMNS",
    "SegmentOptions",
    "engagement",
    "lifecycle_stage",
    "per_customer",
    "per_customer_bits",
    "prepare_totals",
    "segment_table",
    "segment_tables",
]


#: The columns of :func:`segment_table` after the ``by`` columns, in order.
SEGMENT_COLUMNS: tuple[str, ...] = (
    "customers",
    "customers_share",
    "active_customers",
    "mrr",
    "mrr_share",
    "arpa",
    "at_risk_customer_months",
    "churned_customer_months",
    "churn_rate",
    "churn_rate_low",
    "churn_rate_high",
    "nrr_12m",
    "ltv",
    "ltv_low",
    "ltv_high",
    "small_segment",
)


def per_customer(data: Data, as_of_month: int, window_months: int, as_of: Any) -> ir.Table:
    """Engine table: per customer, its MRR in A, churn-window counts and NRR base/end MRR.

    Columns ``customer_id, active_a, mrr_a, at_risk, churned, nrr_base, nrr_end``; cached in
    the engine per (as_of, window) (:meth:`segwork.Engine.table`), so a change of segment criteria
    re-runs only the join with the attributes and the group-by.
    """
    eng = engine_for(data)
    data = eng.data
    bits = eng.fast_paths and eng.backend_name == "duckdb" and window_months <= MAX_BITS_WINDOW
    if bits and page_months_serve(eng):
        # a page: every date's window from the active months of all time, kept once
        got = per_customer_of_months(eng, as_of_month, window_months, as_of)
        if got is not None:
            return got
    build = per_customer_bits if bits else _per_customer_expr  # faster path / the definition
    return eng.table(
        PerCustomer(as_of, window_months),
        lambda: build(eng, as_of_month, window_months, as_of),
    )


#: The longest churn window :func:`per_customer_bits` holds in one 64-bit integer per customer.
MAX_BITS_WINDOW = 60


def per_customer_bits(data: Data, as_of_month: int, window_months: int, as_of: Any) -> ir.Table:
    """:func:`per_customer` in one group-by: each customer's active months A-w .. A as the bits
    of one integer (bit k = month A-w+k), the churn-window counts read from the bits.

    At risk in m (A-w+1 .. A) <=> active in m-1 (a row of A-w .. A-1); churned in m <=> active
    in m-1 and not in m: bit k set and bit k+1 clear, counted as the set bits of ``bits & ~next``
    where ``next`` has bit k set when month A-w+k+1 is active (less month A's own bit).  The
    definition's "the next active month is not m-1 + 1" without a window function over each
    customer's months.  The engine uses it on DuckDB for a window of at most
    :data:`MAX_BITS_WINDOW` months (a page reads :func:`per_customer_of_months` instead); tested
    equal to the definition (tests/metrics/test_segments.py).
    """
    eng = engine_for(data)
    a, w = as_of_month, window_months
    base_idx = a - NRR_MONTHS
    mrr = eng.monthly_mrr(as_of)
    r = mrr.filter(((mrr.month_idx >= a - w) & (mrr.month_idx <= a)) | (mrr.month_idx == base_idx))
    k = (r.month_idx - (a - w)).cast("int64")
    one = ibis.literal(1).cast("int64")
    zero_bits = ibis.literal(0).cast("int64")
    in_window = r.month_idx >= a - w
    at_a = r.month_idx == a
    per = r.group_by("customer_id").aggregate(
        bits=ibis.ifelse(in_window, one << k, zero_bits).bit_or(),
        next_bits=ibis.ifelse(in_window & (k > 0), one << (k - 1), zero_bits).bit_or(),
        at_risk=(in_window & ~at_a).cast("int64").sum(),
        active_a=at_a.any(),
        mrr_a=ibis.ifelse(at_a, r.mrr, ibis.literal(0.0)).sum(),
        nrr_base=nrr_base(r, base_idx),
    )
    # one term per operator: bitwise operators' precedence differs between SQL dialects
    ended = bit_count(per.bits & ~per.next_bits)
    return per.select(
        "customer_id",
        "active_a",
        "mrr_a",
        "at_risk",
        churned=(ended - per.active_a.cast("int64")).cast("int64"),
        nrr_base=per.nrr_base,
        nrr_end=nrr_end(per.nrr_base, per.mrr_a),
    )


def _per_customer_expr(data: Data, as_of_month: int, window_months: int, as_of: Any) -> ir.Table:
    eng = engine_for(data)
    data = eng.data
    a = as_of_month
    w = window_months
    base_idx = a - NRR_MONTHS
    # customer-months with MRR > 0, months <= A, with the customer's next active month
    # ("active in m-1 and not in m" <=> next != (m-1) + 1)
    if not eng.serves_every_date:
        mrr = eng.monthly_mrr(as_of)
        # Only the months A-w .. A and A-12 are needed (A-12 precedes the window or lies inside
        # it, so the "next active month" of a window row below is unaffected by it).
        r = mrr.filter((mrr.month_idx >= a - w) | (mrr.month_idx == base_idx))
        r = r.mutate(next_idx=next_active(r))
    else:
        # a given mrr in a page: the next active month of every month, computed once for every
        # as_of (for a row of the window, month < A, "next == month + 1" reads months <= A only)
        every = monthly_mrr_next(eng)
        r = every.filter(
            (every.month_idx <= a) & ((every.month_idx >= a - w) | (every.month_idx == base_idx))
        )
    at_a = r.month_idx == a
    # At risk in m (A-w+1 .. A) <=> active in m-1, i.e. an active row in A-w .. A-1.
    at_risk = (r.month_idx >= a - w) & (r.month_idx <= a - 1)
    churned = at_risk & (r.next_idx.isnull() | (r.next_idx != r.month_idx + 1))
    zero = ibis.literal(0.0)
    per = r.group_by("customer_id").aggregate(
        active_a=at_a.any(),
        mrr_a=ibis.ifelse(at_a, r.mrr, zero).sum(),
        at_risk=at_risk.cast("int64").sum(),
        churned=churned.cast("int64").sum(),
        nrr_base=nrr_base(r, base_idx),
    )
    # NRR over 12 months (segwork.metrics.nrr, docs/metrics.md "NRR and GRR": m = A-12, k = 12)
    return per.mutate(nrr_end=nrr_end(per.nrr_base, per.mrr_a))


def segment_table(
    data: Data,
    by: str | Sequence[str] | None,
    as_of: Any,
    *,
    window_months: int = 12,
    gross_margin: float = 1.0,
    min_customers: int = 30,
    confidence: float = 0.95,
    where: Where | None = None,
    bins: Bins | None = None,
) -> pd.DataFrame:
    """One row per segment: size, MRR, ARPA, logo churn with CI, 12-month NRR and LTV with CI.

    docs/metrics.md "Segment table": one row per segment with its customers, active customers,
    their shares, MRR, ARPA, logo churn rate with its interval, 12-month NRR, LTV with its interval
    and the small-segment flag, ordered by LTV rather than by size.  With A the as-of month:

    - population: customers with ``signup_date <= as_of`` (docs/metrics.md "Conventions"); a segment
      is a distinct combination of the ``by`` values, a null value being a segment of its own.  A
      customer's segment is its attribute **at as_of** (customer columns as given, derived
      attributes such as ``lifecycle_stage`` computed at as_of) and is used for every month of the
      window: customers are not moved between segments month by month.
    - ``customers`` / ``customers_share``: population count and its share of all rows' customers;
      ``active_customers``: MRR > 0 in A (docs/metrics.md "Active customer"); ``mrr`` their MRR
      in A, ``mrr_share`` its share of the total; ``arpa`` = mrr / active_customers
      (docs/metrics.md "ARPA").
    - churn window (docs/metrics.md "Churn window"): months m = A-w+1 .. A; a customer is at risk in
      m when active in m-1 and churned in m when active in m-1 and not in m.  ``churn_rate`` =
      churned / at-risk customer-months, pooled, not the mean of the monthly rates (docs/metrics.md
      "Logo churn"), with the Wilson score interval ``churn_rate_low/high`` (docs/metrics.md
      "Confidence intervals").
    - ``nrr_12m``: MRR in A of the customers active in A-12 / their MRR in A-12 (docs/metrics.md
      "NRR and GRR" with m = A-12, k = 12); NaN when no customer of the segment was active in A-12.
    - ``ltv`` = arpa x gross_margin / churn_rate (docs/metrics.md "LTV"); NaN, never inf, where the
      churn rate is 0 or undefined.  Its interval follows from the churn interval's ends:
      ``ltv_low`` = arpa x gm / churn_rate_high, ``ltv_high`` = arpa x gm / churn_rate_low.  When no
      churn was observed the lower churn bound is 0 and the upper LTV bound is unbounded:
      ``ltv_high`` is NaN.
    - ``small_segment``: customers < ``min_customers`` (docs/metrics.md "Small segments").

    On transactions-only data (no ``mrr``, given or derivable, but a ``transactions`` table) there
    is no MRR or churn to count: the table is then
    :func:`segwork.metrics.ecommerce.ecommerce_segment_table` (buyers, orders, revenue, AOV, repeat
    rate and predicted customer value, docs/metrics.md "Predicted customer value"), with the same
    ``by``, ``where``, ``bins``, ``window_months``, ``min_customers``, ``gross_margin`` and
    ``confidence``.

    Parameters
    ----------
    data : Dataset or Engine
        Needs ``customers`` and ``mrr`` (given or derived from ``subscriptions``), or
        ``transactions`` (see above).
    by : str, list of str or None
        Segment columns: customer columns or derived attributes (see
        :func:`segwork.metrics.attributes.customer_attributes`); None or ``[]`` gives one
        overall row.
    as_of : date-like
        Explicit as-of date; data dated after it is ignored.
    window_months : int, default 12
        Length w of the churn window (months A-w+1 .. A).
    gross_margin : float, default 1.0
        Gross margin in (0, 1] used in LTV; stated in ``result.attrs["gross_margin"]``.
    min_customers : int, default 30
        Segments with fewer customers are flagged ``small_segment``.
    confidence : float, default 0.95
        Level of the Wilson interval of the churn rate (and so of the LTV interval).
    where : mapping, optional
        Restrict the population: ``{column: value or list of values}``.
    bins : mapping, optional
        ``{numeric column: bin edges}``: segment by right-closed bins of a numeric column.

    Returns
    -------
    pandas.DataFrame
        Columns: the ``by`` columns, then ``customers, customers_share, active_customers, mrr,
        mrr_share, arpa, at_risk_customer_months, churned_customer_months, churn_rate,
        churn_rate_low, churn_rate_high, nrr_12m, ltv, ltv_low, ltv_high, small_segment``; counts
        are int64.  Rows are ordered by ``ltv`` descending (NaN last), ties by the ``by`` columns
        ascending.  ``attrs`` holds ``as_of, gross_margin, window_months, confidence,
        min_customers``.

    Raises
    ------
    ValueError
        Bad parameters, an unknown ``by``/``where`` column (the message lists the available ones),
        a ``where`` matching nobody, or an as_of before all data.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> from segwork.metrics.segments import segment_table
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3],
    ...     "signup_date": ["2024-01-05", "2024-01-10", "2024-02-01"],
    ...     "plan": ["pro", "pro", "starter"]})
    >>> mrr = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2, 3, 3],
    ...     "month": ["2024-01-01", "2024-02-01", "2024-03-01", "2024-01-01", "2024-02-01",
    ...               "2024-02-01", "2024-03-01"],
    ...     "mrr": [100.0, 100.0, 100.0, 100.0, 100.0, 50.0, 50.0]})
    >>> data = segwork.load({"customers": customers, "mrr": mrr})
    >>> t = segment_table(data, "plan", "2024-03-31", window_months=2)
    >>> t[["plan", "customers", "active_customers", "mrr", "arpa", "churn_rate", "ltv"]]
          plan  customers  active_customers    mrr   arpa  churn_rate    ltv
    0      pro          2                 1  100.0  100.0        0.25  400.0
    1  starter          1                 1   50.0   50.0        0.00    NaN
    >>> t.attrs["gross_margin"]
    1.0
    """
    eng = engine_for(data)
    data = eng.data
    if not data.has("mrr") and data.has("transactions"):
        return ecommerce_segment_table(
            eng,
            by,
            as_of,
            where=where,
            bins=bins,
            window_months=window_months,
            min_customers=min_customers,
            gross_margin=gross_margin,
            confidence=confidence,
        )
    check_segment_params(window_months, gross_margin, min_customers, confidence)
    day = to_date(as_of)
    got, by_names = _segment_counts(eng, by, day, int(window_months), where=where, bins=bins)
    return _segment_finish(
        got,
        by_names,
        day,
        window_months=int(window_months),
        gross_margin=gross_margin,
        min_customers=min_customers,
        confidence=confidence,
    )


class SegmentOptions(TypedDict, total=False):
    """The keyword options of :func:`segment_table`, which :func:`segment_tables` takes too (their
    defaults are ``segment_table``'s)."""

    window_months: int
    gross_margin: float
    min_customers: int
    confidence: float
    where: Where | None
    bins: Bins | None


def segment_tables(
    data: Data,
    segmentations: Sequence[Sequence[str]],
    as_of: Any,
    **options: Unpack[SegmentOptions],
) -> list[pd.DataFrame]:
    """:func:`segment_table` for several segmentations, from ONE engine query.

    Every segmentation is a list of criteria; the engine counts the segments of all their
    criteria together once, and each segmentation's table is summed from those counts (customers,
    active customers, MRR, churn-window customer-months and NRR base / end add up over segments),
    then finished exactly as :func:`segment_table` (same columns, order, attrs and numbers).  For
    the ideal customer profile's combinations of criteria, or any report comparing several
    segmentations.

    On a page's engine (:attr:`segwork.Engine.serves_every_date`, a given ``mrr`` table),
    criteria that are customer columns and no ``where``, the counts are read from the segment
    history (:mod:`segwork.metrics.history`), built once and summed for any as_of: the same
    segmentations at another date cost a query over small tables.  Same numbers either way.
    On transactions-only data each table is :func:`segment_table`'s e-commerce table.

    The keyword ``options`` are :func:`segment_table`'s (:class:`SegmentOptions`: window_months,
    gross_margin, min_customers, confidence, where, bins), with its defaults; an unknown one is a
    ``TypeError`` naming the options.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3], "signup_date": ["2024-01-05"] * 3,
    ...     "plan": ["pro", "pro", "starter"], "region": ["EU", "US", "EU"]})
    >>> mrr = pd.DataFrame({"customer_id": [1, 2, 3], "month": ["2024-03-01"] * 3,
    ...     "mrr": [100.0, 80.0, 20.0]})
    >>> data = segwork.load({"customers": customers, "mrr": mrr})
    >>> by_plan, by_both = segment_tables(data, [["plan"], ["plan", "region"]], "2024-03-31")
    >>> by_plan[["plan", "customers", "mrr"]]
          plan  customers    mrr
    0      pro          2  180.0
    1  starter          1   20.0
    >>> by_both.equals(segment_table(data, ["plan", "region"], "2024-03-31"))
    True
    """
    eng = engine_for(data)
    data = eng.data
    if not data.has("mrr") and data.has("transactions"):  # the e-commerce table, one per
        # segmentation (the customers' CLV is predicted once and shared)
        return [segment_table(eng, s, as_of, **options) for s in segmentations]
    o = bind_options(segment_table, options, what="segment table", leading=3)
    window_months = int(o["window_months"])
    check_segment_params(window_months, o["gross_margin"], o["min_customers"], o["confidence"])
    day = to_date(as_of)
    wanted = [as_list(s) for s in segmentations]
    every = list(dict.fromkeys(c for s in wanted for c in s))
    counts, names = _segment_counts(
        eng, every, day, window_months, where=o["where"], bins=o["bins"], over_time=True
    )
    rename = dict(zip(every, names, strict=True))
    return [
        _segment_finish(
            rollup(counts, [rename[c] for c in s]),
            [rename[c] for c in s],
            day,
            window_months=window_months,
            gross_margin=o["gross_margin"],
            min_customers=o["min_customers"],
            confidence=o["confidence"],
        )
        for s in wanted
    ]


@dataclass(frozen=True)
class TotalRow(CacheKey):
    """The additive counts of every customer together at ``as_of`` over ``window_months``."""

    as_of: dt.date
    window_months: int


def _segment_counts(
    data: Data,
    by: str | Sequence[str] | None,
    day: dt.date,
    window_months: int,
    *,
    where: Where | None = None,
    bins: Bins | None = None,
    over_time: bool = False,
) -> tuple[pd.DataFrame, list[str]]:
    """The additive counts (:data:`~segwork.metrics.history.ADDITIVE`) per segment of ``by``.

    ONE engine query; with ``over_time`` read from the segment history where it applies.
    Without ``where``, the sum of the segments' counts is every customer's (each customer is in
    one segment), kept by the engine: the total row at that date and window (a page's key
    numbers) is then that sum, not another query.
    """
    eng = engine_for(data)
    if where:
        return _counts_query(
            eng, by, day, window_months, bins=bins, where=where, over_time=over_time
        )
    total = TotalRow(day, int(window_months))
    if not as_list(by):  # kept from a segmentation at this date, else queried now and kept
        counts = partial(_counts_query, eng, None, day, window_months, over_time=over_time)
        return eng.frame(total, lambda: counts()[0]), []
    got, by_names = _counts_query(eng, by, day, window_months, bins=bins, over_time=over_time)
    eng.frame(total, partial(_sum_of_segments, got))
    # and the segments' own counts: a coarser segmentation at this date (the market page's
    # penetration after its ideal customer profile) rolls them up
    keep_counts(eng, by_names, bins, day, window_months, got)
    return got, by_names


def prepare_totals(data: Data) -> None:
    """Build ahead what the total row of every customer at any date reads on a page (its key
    numbers at a new as_of and the month before): the segment history of no column
    (:func:`~segwork.metrics.history.segment_history`), one pass over the MRR rows; nothing
    where it does not apply (not a page's engine, no ``mrr`` table)."""
    eng = engine_for(data)
    if history_applies(eng, []):
        segment_history(eng, [])


def _sum_of_segments(counts: pd.DataFrame) -> pd.DataFrame:
    """The one row of ``counts`` summed over segments (:data:`ADDITIVE` columns)."""
    return typed_counts(counts[list(ADDITIVE)].sum().to_frame().T.reset_index(drop=True))


def _counts_query(
    eng: Engine, by: Any, day: dt.date, window_months: int, **options: Any
) -> tuple[pd.DataFrame, list[str]]:
    """:func:`_segment_counts`'s one engine query (``options``: ``where``, ``bins``,
    ``over_time``)."""
    where, bins = options.get("where"), options.get("bins")
    over_time = bool(options.get("over_time", False))
    a = month_index_of(day)
    attrs, by_names = customer_attributes(eng, day, by, where=where, bins=bins)
    # from the history: asked for, or every customer together on a page that built it ahead
    # (its key numbers at a new date and a month before: :func:`prepare_totals`)
    if (over_time and history_applies(eng, by_names, where)) or (
        not by_names and not where and history_kept(eng, [])
    ):
        return segment_counts_over_time(eng, by_names, day, window_months, bins=bins), by_names
    w = int(window_months)
    # every customer together at a date whose per-customer table the page has not built:
    # sums of the bits, no per-customer table
    if not by_names and not where and w <= MAX_BITS_WINDOW and page_months_serve(eng):
        if PerCustomer(day, w) not in eng.table_keys():
            totals = page_totals(eng, day, w)
            if totals is not None:
                return totals, by_names
    per = per_customer(eng, a, w, day)
    t = attrs.left_join(per, "customer_id")
    aggs = {
        "customers": t.customer_id.count(),
        "active_customers": t.active_a.fill_null(False).cast("int64").sum(),
        "mrr": t.mrr_a.sum(),
        "at_risk_customer_months": t.at_risk.sum(),
        "churned_customer_months": t.churned.sum(),
        "nrr_base": t.nrr_base.sum(),
        "nrr_end": t.nrr_end.sum(),
    }
    grouped = t.group_by(by_names).aggregate(**aggs) if by_names else t.aggregate(**aggs)
    return typed_counts(grouped.to_pandas()), by_names


def _segment_finish(
    got: pd.DataFrame,
    by_names: list[str],
    day: dt.date,
    *,
    window_months: int,
    gross_margin: float,
    min_customers: int,
    confidence: float,
) -> pd.DataFrame:
    """The segment table from the counts per segment (pandas: rates, intervals, LTV, order)."""
    got = got.copy()
    customers = got["customers"].to_numpy()
    mrr = got["mrr"].to_numpy()
    at_risk = got["at_risk_customer_months"].to_numpy()
    churned = got["churned_customer_months"].to_numpy()
    add_shares(got, "customers", "mrr")
    arpa = safe_ratio(mrr, got["active_customers"].to_numpy())
    got["arpa"] = arpa
    churn = safe_ratio(churned, at_risk)
    low, high = wilson_interval(churned, at_risk, confidence)
    got["churn_rate"] = churn
    got["churn_rate_low"] = low
    got["churn_rate_high"] = high
    base = got["nrr_base"].to_numpy()
    got["nrr_12m"] = np.where(base > 0, safe_ratio(got["nrr_end"].to_numpy(), base), np.nan)
    value = arpa * float(gross_margin)
    # LTV is undefined where churn is 0 (docs/metrics.md "LTV": missing, never infinite); the upper
    # bound likewise wherever no churn was seen (the Wilson lower end is then 0, possibly up to
    # rounding), so it is tied to the count rather than to a float comparison.
    got["ltv"] = np.where(churn > 0, safe_ratio(value, churn), np.nan)
    got["ltv_low"] = np.where(high > 0, safe_ratio(value, high), np.nan)
    got["ltv_high"] = np.where((churned > 0) & (low > 0), safe_ratio(value, low), np.nan)
    got["small_segment"] = customers < int(min_customers)

    got = rank_segments(got, "ltv", by_names)
    out = got[[*by_names, *SEGMENT_COLUMNS]].reset_index(drop=True)
    out.attrs.update(
        {
            "as_of": day,
            "gross_margin": float(gross_margin),
            "window_months": int(window_months),
            "confidence": float(confidence),
            "min_customers": int(min_customers),
        }
    )
    return out


def lifecycle_stage(data: Data, as_of: Any, edges: Sequence[int] = (30, 180)) -> pd.DataFrame:
    """Each customer's tenure in days at as_of and its lifecycle stage.

    docs/metrics.md "Segmentations and derived attributes": lifecycle stage by tenure, onboarding up
    to 30 days, growth 31 to 180, mature from 181, the edges a parameter.  Tenure = days from
    ``signup_date`` to ``as_of``; a stage includes its upper edge (tenure 30 is onboarding, 31
    growth, 180 growth, 181 mature).  Population: customers with ``signup_date <= as_of``.

    Parameters
    ----------
    data : Dataset or Engine
    as_of : date-like
        Explicit as-of date.
    edges : pair of int, default (30, 180)
        Last tenure day of onboarding and of growth.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, signup_date, tenure_days, lifecycle_stage`` sorted by ``customer_id``;
        ``tenure_days`` is int64.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> from segwork.metrics.segments import lifecycle_stage
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3],
    ...     "signup_date": ["2024-06-01", "2024-11-30", "2024-12-31"]})
    >>> data = segwork.load({"customers": customers})
    >>> lifecycle_stage(data, "2024-12-31")[["customer_id", "tenure_days", "lifecycle_stage"]]
       customer_id  tenure_days lifecycle_stage
    0            1          213          mature
    1            2           31          growth
    2            3            0      onboarding
    """
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    pop = population(eng, day)
    t = pop.select(
        customer_id=pop.customer_id,
        signup_date=pop.signup_date,
        tenure_days=days_between(pop.signup_date, day).cast("int64"),
        lifecycle_stage=lifecycle_expr(pop.signup_date, day, edges),
    )
    out = t.order_by("customer_id").to_pandas().reset_index(drop=True)
    out["tenure_days"] = out["tenure_days"].astype("int64")
    return out


def engagement(data: Data, as_of: Any, *, window_months: int = 3, levels: int = 3) -> pd.DataFrame:
    """Each active customer's usage intensity and engagement level at as_of.

    docs/metrics.md "Engagement": events per active month over a trailing window, cut into levels
    by quantile; the window and the number of levels are parameters.  The window is the
    ``window_months`` calendar months ending with as_of's month; events are summed (``count``) over
    it and divided by the customer's active months in it.  Levels are quantiles of that rate over
    the customers active in the window (percent rank; ties share a level): ``low < medium < high``
    for 3 levels.  Customers with no active month in the window have no level and are not listed.

    Parameters
    ----------
    data : Dataset or Engine
        Needs ``events`` and ``mrr`` (given or derived).
    as_of : date-like
    window_months : int, default 3
    levels : int, default 3
        2, 3 or 4 levels.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, events_per_active_month, engagement`` sorted by ``customer_id``.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> customers = pd.DataFrame({"customer_id": [1, 2], "signup_date": ["2024-01-01"] * 2})
    >>> mrr = pd.DataFrame({"customer_id": [1, 2], "month": ["2024-03-01"] * 2,
    ...                     "mrr": [10.0, 10.0]})
    >>> events = pd.DataFrame({"customer_id": [1, 1], "timestamp": ["2024-03-02", "2024-03-09"],
    ...                        "event": ["api", "api"]})
    >>> data = segwork.load({"customers": customers, "mrr": mrr, "events": events})
    >>> engagement(data, "2024-03-31", levels=2)
       customer_id  events_per_active_month engagement
    0            1                      2.0       high
    1            2                      0.0        low
    """
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    if not isinstance(window_months, int) or window_months < 1:
        raise ValueError(f"window_months must be an integer >= 1, got {window_months!r}")
    pop = population(eng, day).select("customer_id")
    levels_of = engagement_expr(eng, day, window_months=window_months, levels=levels)
    out = levels_of.semi_join(pop, "customer_id").order_by("customer_id").to_pandas()
    out["events_per_active_month"] = out["events_per_active_month"].astype("float64")
    return out.reset_index(drop=True)
