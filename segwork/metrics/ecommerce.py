"""The segment table of transactions-only data (docs/metrics.md "Predicted customer value").

A shop without subscriptions has no MRR and no churn event, so its segments are compared on what
orders show: buyers, revenue, orders, average order value, the repeat-purchase rate, and the
customer value predicted by BG/NBD and Gamma-Gamma (:func:`segwork.clv.predict_clv`).

The per-customer aggregates and the per-segment sums run in the engine in one Ibis query; the
per-customer predictions (a pandas result of the models) are joined into that query, and only the
small per-segment table comes back to pandas, where the ratios and the Wilson intervals are derived
from the aggregated counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis
import pandas as pd

from segwork.clv import CLVFitError, predict_clv
from segwork.data.dataset import Dataset
from segwork.data.dates import to_date
from segwork.data.derive import month_index_of, month_start_of
from segwork.metrics._common import Bins, Where, check_segment_params, rank_segments
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.stats import safe_ratio, wilson_interval

__all__ = ["ECOMMERCE_SEGMENT_COLUMNS", "ecommerce_segment_table", "window_start"]

#: The columns of :func:`ecommerce_segment_table` after the ``by`` columns, in order.
ECOMMERCE_SEGMENT_COLUMNS: tuple[str, ...] = (
    "customers",
    "customers_share",
    "buyers",
    "orders",
    "revenue",
    "revenue_share",
    "aov",
    "orders_per_customer",
    "customers_with_orders",
    "repeat_customers",
    "repeat_rate",
    "repeat_rate_low",
    "repeat_rate_high",
    "mean_p_alive",
    "mean_clv",
    "total_clv",
    "small_segment",
)

_INT_COLUMNS = ("customers", "buyers", "orders", "customers_with_orders", "repeat_customers")


def window_start(as_of: Any, window_months: int) -> dt.date:
    """First day of the order window: the first day of month A - w + 1 (A = as_of's month).

    The window is the ``window_months`` calendar months ending with as_of's month, that month
    counted up to as_of (docs/metrics.md "Conventions": A is included even when not over).

    Examples
    --------
    >>> window_start("2024-12-31", 12), window_start("2024-06-15", 3)
    (datetime.date(2024, 1, 1), datetime.date(2024, 4, 1))
    """
    return month_start_of(month_index_of(to_date(as_of)) - int(window_months) + 1)


def ecommerce_segment_table(
    data: Dataset,
    by: str | Sequence[str] | None,
    as_of: Any,
    *,
    where: Where | None = None,
    bins: Bins | None = None,
    window_months: int = 12,
    min_customers: int = 30,
    horizon_months: int = 12,
    discount_rate: float = 0.01,
    gross_margin: float = 1.0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per segment of a transactions-only Dataset: buyers, revenue, repeat rate, CLV.

    docs/metrics.md "Predicted customer value", segment table of transactions-only data.  Orders
    dated after ``as_of`` are ignored; the window is the ``window_months`` calendar months ending
    with as_of's month A (from the first day of month A - w + 1 to as_of, :func:`window_start`).

    - population: customers with ``signup_date <= as_of`` (docs/metrics.md "Conventions"), with
      their segment at as_of (:func:`segwork.metrics.attributes.customer_attributes`; a null value
      is a segment of its own); ``customers`` its count, ``customers_share`` its share of all rows'
      customers.
    - in the window: ``buyers`` = customers with an order, ``orders`` = distinct ``order_id``
      (order lines count once), ``revenue`` = sum of the amounts (lines summed) and
      ``revenue_share`` its share of the total; ``aov`` = revenue / orders,
      ``orders_per_customer`` = orders / buyers (NaN when 0 below the line).
    - ``repeat_rate`` = repeat_customers / customers_with_orders: among the customers with an order
      dated on or before as_of (``customers_with_orders``, at any time, not only in the window),
      the share with two or more purchase days (distinct order dates: several orders on one day
      are one purchase day, as in the CLV summary); Wilson score interval ``repeat_rate_low/high``
      (docs/metrics.md "Confidence intervals").
    - ``mean_p_alive``, ``mean_clv``, ``total_clv``: from :func:`segwork.clv.predict_clv` at as_of
      (models fitted on every customer with an order by as_of, whatever ``where`` says).  A
      customer without an order by as_of has no prediction: the means are over the predicted
      customers, the total sums them; NaN for a segment without any.  When the models cannot be
      fitted (:class:`segwork.clv.CLVFitError`, e.g. too few repeat buyers) the three columns are
      NaN and ``attrs["clv_error"]`` says why.
    - ``small_segment``: customers < ``min_customers`` (docs/metrics.md "Small segments").

    Rows are ordered by ``mean_clv`` descending (NaN last), ties by the ``by`` columns ascending,
    as :func:`segwork.metrics.segments.segment_table` orders by LTV.

    Parameters
    ----------
    data : Dataset
        Needs ``transactions`` (``customer_id, order_id, date, amount``) and ``customers`` (given
        or derived from the transactions).
    by : str, list of str or None
        Segment columns (customer columns or derived attributes); None or ``[]`` gives one overall
        row.
    as_of : date-like
        Explicit as-of date.
    where : mapping, optional
        Restrict the population: ``{column: value or list of values}``.
    bins : mapping, optional
        ``{numeric column: bin edges}``.
    window_months : int, default 12
        Calendar months of the order window (buyers, orders, revenue).
    min_customers : int, default 30
        Segments with fewer customers are flagged ``small_segment``.
    horizon_months, discount_rate, gross_margin
        Passed to :func:`segwork.clv.predict_clv` (CLV over H months, monthly discount rate, share
        of revenue kept).
    confidence : float, default 0.95
        Level of the Wilson interval of the repeat rate.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, then :data:`ECOMMERCE_SEGMENT_COLUMNS`; counts int64.  ``attrs`` holds
        ``as_of, window_start, window_months, horizon_months, discount_rate, gross_margin,
        confidence, min_customers`` and, when the models failed, ``clv_error``.

    Raises
    ------
    ValueError
        Bad parameters, no ``transactions`` table, an unknown ``by``/``where`` column, a
        ``where`` matching nobody, or an as_of before all data.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3], "signup_date": ["2024-01-01"] * 3,
    ...     "country": ["DE", "DE", "FR"]})
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2, 3], "order_id": ["a", "a", "b", "c", "d"],
    ...     "date": ["2024-02-01", "2024-02-01", "2024-03-01", "2024-03-05", "2024-03-09"],
    ...     "amount": [10.0, 5.0, 20.0, 8.0, 30.0]})
    >>> data = segwork.load({"customers": customers, "transactions": tx})
    >>> t = ecommerce_segment_table(data, "country", "2024-03-31", window_months=1)
    >>> t[["country", "customers", "buyers", "orders", "revenue", "aov", "repeat_rate"]]
      country  customers  buyers  orders  revenue   aov  repeat_rate
    0      DE          2       2       2     28.0  14.0          0.5
    1      FR          1       1       1     30.0  30.0          0.0
    """
    check_segment_params(window_months, gross_margin, min_customers, confidence)
    if not data.has("transactions"):
        raise ValueError(
            "the e-commerce segment table needs a 'transactions' table (orders: customer_id, "
            f"order_id, date, amount); this Dataset has: {', '.join(data.names) or 'no tables'}"
        )
    day = to_date(as_of)
    start = window_start(day, int(window_months))
    attrs, by_names = customer_attributes(data, day, by, where=where, bins=bins)

    tx = data.table("transactions", needed_for="the e-commerce segment table")
    tx = tx.filter(tx.date <= day)
    in_window = tx.date >= start
    per = tx.group_by("customer_id").aggregate(
        w_revenue=tx.amount.sum(where=in_window).cast("float64"),
        w_orders=tx.order_id.nunique(where=in_window).cast("int64"),
        purchase_days=tx.date.nunique().cast("int64"),
    )
    t = attrs.left_join(per, "customer_id").select(
        *attrs.columns, "w_revenue", "w_orders", "purchase_days"
    )

    clv_error: str | None = None
    clv: pd.DataFrame | None = None
    if int(tx.count().to_pyarrow().as_py()) > 0:
        try:
            # one fit per date and CLV parameters, whatever the segmentation (several tables,
            # the ideal customer profile's combinations)
            clv = data.cached_frame(
                ("predict_clv", day, horizon_months, discount_rate, gross_margin),
                lambda: predict_clv(
                    data,
                    day,
                    horizon_months=horizon_months,
                    discount_rate=discount_rate,
                    gross_margin=gross_margin,
                ),
            )
        except CLVFitError as err:
            clv_error = str(err)
    else:
        clv_error = f"no order dated on or before {day}"
    if clv is not None:
        pred = ibis.memtable(
            pd.DataFrame(
                {
                    "customer_id": clv["customer_id"],
                    "p_alive": clv["p_alive"].astype("float64"),
                    "clv": clv["clv"].astype("float64"),
                }
            )
        )
        pred = pred.cast({"customer_id": attrs.customer_id.type()})
        t = t.left_join(pred, "customer_id").select(*t.columns, "p_alive", "clv")
    else:
        t = t.mutate(p_alive=ibis.null("float64"), clv=ibis.null("float64"))

    aggs = {
        "customers": t.customer_id.count(),
        "buyers": (t.w_orders.fill_null(0) > 0).cast("int64").sum(),
        "orders": t.w_orders.sum(),
        "revenue": t.w_revenue.sum(),
        "customers_with_orders": (t.purchase_days.fill_null(0) >= 1).cast("int64").sum(),
        "repeat_customers": (t.purchase_days.fill_null(0) >= 2).cast("int64").sum(),
        "mean_p_alive": t.p_alive.mean(),
        "mean_clv": t.clv.mean(),
        "total_clv": t.clv.sum(),
    }
    grouped = t.group_by(by_names).aggregate(**aggs) if by_names else t.aggregate(**aggs)
    got = grouped.to_pandas()
    return _finish(
        got,
        by_names,
        day,
        start=start,
        window_months=int(window_months),
        min_customers=int(min_customers),
        confidence=float(confidence),
        extra={
            "horizon_months": horizon_months,
            "discount_rate": float(discount_rate),
            "gross_margin": float(gross_margin),
            **({"clv_error": clv_error} if clv_error is not None else {}),
        },
    )


def _finish(
    got: pd.DataFrame,
    by_names: list[str],
    day: dt.date,
    *,
    start: dt.date,
    window_months: int,
    min_customers: int,
    confidence: float,
    extra: dict[str, Any],
) -> pd.DataFrame:
    """The table from the sums per segment (pandas: shares, ratios, interval, order)."""
    got = got.copy()
    for col in _INT_COLUMNS:
        got[col] = pd.to_numeric(got[col]).fillna(0).astype("int64")
    got["revenue"] = pd.to_numeric(got["revenue"]).fillna(0.0).astype("float64")
    for col in ("mean_p_alive", "mean_clv", "total_clv"):
        got[col] = pd.to_numeric(got[col]).astype("float64")
    customers = got["customers"].to_numpy()
    revenue = got["revenue"].to_numpy()
    orders = got["orders"].to_numpy()
    with_orders = got["customers_with_orders"].to_numpy()
    repeat = got["repeat_customers"].to_numpy()
    got["customers_share"] = safe_ratio(customers, customers.sum())
    got["revenue_share"] = safe_ratio(revenue, revenue.sum())
    got["aov"] = safe_ratio(revenue, orders)
    got["orders_per_customer"] = safe_ratio(orders, got["buyers"].to_numpy())
    got["repeat_rate"] = safe_ratio(repeat, with_orders)
    low, high = wilson_interval(repeat, with_orders, confidence)
    got["repeat_rate_low"] = low
    got["repeat_rate_high"] = high
    got["small_segment"] = customers < min_customers

    got = rank_segments(got, "mean_clv", by_names)
    out = got[[*by_names, *ECOMMERCE_SEGMENT_COLUMNS]].reset_index(drop=True)
    out.attrs.update(
        {
            "as_of": day,
            "window_start": start,
            "window_months": window_months,
            "confidence": confidence,
            "min_customers": min_customers,
            **extra,
        }
    )
    return out
