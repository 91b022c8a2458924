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
import functools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.clv import CLVFitError
from segwork.data.dates import to_date
from segwork.data.derive import month_index_of, month_start_of
from segwork.engine import Data, Engine, engine_for
from segwork.engine.keys import CacheKey
from segwork.metrics._common import (
    Bins,
    Where,
    add_shares,
    as_list,
    bin_expr,
    cache_key,
    check_segment_params,
    rank_segments,
)
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.members import segment_match, segment_selections
from segwork.metrics.predictions import customer_predictions
from segwork.metrics.stats import safe_ratio, wilson_interval

__all__ = [
    "ALIVE_BAND_EDGES",
    "CLV_BAND_QUANTILES",
    "ECOMMERCE_SEGMENT_COLUMNS",
    "SHOP_ATTRIBUTES",
    "WinBack",
    "clv_band_edges",
    "customers_to_win_back",
    "ecommerce_attributes",
    "ecommerce_members",
    "ecommerce_segment_table",
    "first_product_expr",
    "window_start",
]

#: Derived criteria of transactions data (docs/metrics.md "Predicted customer value"): bands of
#: predicted CLV and of P(alive), and the product of the first purchase day.
SHOP_ATTRIBUTES: tuple[str, ...] = ("clv_band", "alive_band", "first_product")
#: Default edges of ``alive_band`` (right-closed bins of P(alive); ``bins={"alive_band": ...}``).
ALIVE_BAND_EDGES: tuple[float, ...] = (0.25, 0.5, 0.75)
#: Percentiles of the predicted CLV giving the default edges of ``clv_band``.
CLV_BAND_QUANTILES: tuple[float, ...] = (0.5, 0.8, 0.95)

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


@dataclass(frozen=True)
class WinBack(CacheKey):
    """The customers to win back at ``as_of`` (``where`` as :func:`cache_key`), without CLV."""

    as_of: dt.date
    top_share: float
    max_p_alive: float
    where: str


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
    data: Data,
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
    data : Dataset or Engine
        Needs ``transactions`` (``customer_id, order_id, date, amount``) and ``customers`` (given
        or derived from the transactions).
    by : str, list of str or None
        Segment columns (customer columns or derived attributes, and the derived criteria of
        shop data :data:`SHOP_ATTRIBUTES`: ``clv_band``, ``alive_band``, ``first_product``);
        None or ``[]`` gives one overall row.
    as_of : date-like
        Explicit as-of date.
    where : mapping, optional
        Restrict the population: ``{column: value or list of values}`` (the shop criteria too,
        e.g. ``{"alive_band": "<= 0.25"}``).
    bins : mapping, optional
        ``{numeric column: bin edges}``; ``{"clv_band": [...]}`` and ``{"alive_band": [...]}``
        set the edges of the bands (defaults :func:`clv_band_edges` and
        :data:`ALIVE_BAND_EDGES`).
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
        confidence, min_customers, clv_band_edges, alive_band_edges`` (the band edges in use)
        and, when the models failed, ``clv_error`` (P(alive) is still given when only the
        order-value model failed).

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
    eng = engine_for(data)
    day = to_date(as_of)
    start = window_start(day, int(window_months))
    rows = _customer_rows(
        eng,
        by,
        day,
        start,
        where=where,
        bins=bins,
        horizon_months=horizon_months,
        discount_rate=discount_rate,
        gross_margin=gross_margin,
    )
    t, by_names = rows.table, rows.by
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
            **rows.band_attrs(),
            **({"clv_error": rows.clv_error} if rows.clv_error is not None else {}),
        },
    )


def ecommerce_attributes(data: Data) -> list[str]:
    """The derived criteria of transactions data: ``clv_band``, ``alive_band``, and
    ``first_product`` when the transactions name products (docs/metrics.md "Predicted customer
    value", "Derived criteria of shop data"); none without a ``transactions`` table.

    >>> import pandas as pd, segwork
    >>> tx = pd.DataFrame({"customer_id": [1], "order_id": ["a"], "date": ["2024-01-01"],
    ...     "amount": [5.0], "product": ["mug"]})
    >>> ecommerce_attributes(segwork.load({"transactions": tx}))
    ['clv_band', 'alive_band', 'first_product']
    """
    data = engine_for(data).data
    if not data.has("transactions"):
        return []
    out = ["clv_band", "alive_band"]
    if "product" in data.table("transactions").columns:
        out.append("first_product")
    return out


def clv_band_edges(clv: Any) -> list[float]:
    """The default edges of ``clv_band``: the 50th, 80th and 95th percentiles of the predicted
    CLV, each rounded to two significant figures (equal edges merged; none without a finite CLV).

    >>> clv_band_edges([float(v) for v in range(1, 1001)])
    [500.0, 800.0, 950.0]
    >>> clv_band_edges([float("nan")])
    []
    """
    values = pd.to_numeric(pd.Series(clv, dtype="float64"), errors="coerce").to_numpy()
    values = values[np.isfinite(values)]
    if not len(values):
        return []
    edges = {float(f"{q:.2g}") for q in np.quantile(values, CLV_BAND_QUANTILES)}
    return sorted(edges)


@dataclass
class _Rows:
    """The per-customer rows behind the e-commerce table and its member lists."""

    table: ir.Table
    by: list[str]
    clv_error: str | None
    edges: dict[str, list[float]]
    #: whether the purchase model was fitted (else every ``p_alive`` is missing)
    p_alive_known: bool = True

    def band_attrs(self) -> dict[str, list[float]]:
        return {f"{name}_edges": list(edges) for name, edges in self.edges.items()}


def _customer_rows(
    eng: Engine,
    by: str | Sequence[str] | None,
    day: dt.date,
    start: dt.date,
    *,
    where: Where | None,
    bins: Bins | None,
    horizon_months: int,
    discount_rate: float,
    gross_margin: float,
    detail: bool = False,
) -> _Rows:
    """One row per customer of the population (engine table): the ``by`` columns (derived
    criteria of shop data included), window and to-date order counts, ``p_alive`` and ``clv``.

    ``detail`` adds ``orders_to_date, revenue_to_date, last_order`` (the member lists)."""
    data = eng.data
    if not data.has("transactions"):
        raise ValueError(
            "the e-commerce segment table needs a 'transactions' table (orders: customer_id, "
            f"order_id, date, amount); this Dataset has: {', '.join(data.names) or 'no tables'}"
        )
    by_names = as_list(by)
    where = dict(where or {})
    bins = dict(bins or {})
    shop = ecommerce_attributes(eng)
    for name in [*by_names, *where, *bins]:
        if name in SHOP_ATTRIBUTES and name not in shop:
            raise ValueError(
                f"{name!r} needs a 'product' column in the transactions table; this data's "
                f"derived criteria of orders are: {', '.join(shop)}"
            )
    if "first_product" in bins:
        raise ValueError("bins apply to numeric criteria; 'first_product' is a product name")
    attrs, _ = customer_attributes(
        eng,
        day,
        [n for n in by_names if n not in SHOP_ATTRIBUTES],
        where={k: v for k, v in where.items() if k not in SHOP_ATTRIBUTES} or None,
        bins={k: v for k, v in bins.items() if k not in SHOP_ATTRIBUTES} or None,
    )

    tx = data.table("transactions", needed_for="the e-commerce segment table")
    tx = tx.filter(tx.date <= day)
    in_window = tx.date >= start
    extra = (
        {
            "orders_to_date": tx.order_id.nunique().cast("int64"),
            "revenue_to_date": tx.amount.sum().cast("float64"),
            "last_order": tx.date.max(),
        }
        if detail
        else {}
    )
    per = tx.group_by("customer_id").aggregate(
        w_revenue=tx.amount.sum(where=in_window).cast("float64"),
        w_orders=tx.order_id.nunique(where=in_window).cast("int64"),
        purchase_days=tx.date.nunique().cast("int64"),
        **extra,
    )
    t = attrs.left_join(per, "customer_id").select(
        *attrs.columns, "w_revenue", "w_orders", "purchase_days", *extra
    )

    clv_error: str | None = None
    clv: pd.DataFrame | None = None
    if int(tx.count().to_pyarrow().as_py()) > 0:
        try:
            clv = customer_predictions(
                eng,
                day,
                horizon_months=horizon_months,
                discount_rate=discount_rate,
                gross_margin=gross_margin,
            )
        except CLVFitError as err:
            clv_error = str(err)
        else:
            clv_error = clv.attrs.get("clv_error")
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

    needed = [n for n in dict.fromkeys([*by_names, *where]) if n in SHOP_ATTRIBUTES]
    edges = {
        "clv_band": [float(e) for e in bins.get("clv_band", ())]
        or clv_band_edges(clv["clv"] if clv is not None else []),
        "alive_band": [float(e) for e in bins.get("alive_band", ALIVE_BAND_EDGES)],
    }
    for name, column in (("clv_band", t.clv), ("alive_band", t.p_alive)):
        if name in needed:
            band = bin_expr(column, edges[name]) if edges[name] else ibis.null("string")
            t = t.mutate(**{name: band})
    if "first_product" in needed:
        t = t.left_join(first_product_expr(eng, day), "customer_id").select(
            *t.columns, "first_product"
        )
    shop_where = {k: v for k, v in where.items() if k in SHOP_ATTRIBUTES}
    for name, value in shop_where.items():
        values = list(value) if isinstance(value, list | tuple | set) else [value]
        t = t.filter(t[name].isin(values))
    if shop_where and int(t.count().to_pyarrow().as_py()) == 0:
        raise ValueError(f"where={where} matches no customer signed up by {day}")
    return _Rows(t, by_names, clv_error, edges, p_alive_known=clv is not None)


def first_product_expr(data: Data, as_of: Any) -> ir.Table:
    """``customer_id, first_product``: the product a customer spent most on in their first
    purchase day (lines of that day summed per product; ties by the product name), orders dated
    on or before as_of; customers whose first day names no product have none.

    >>> import pandas as pd, segwork
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2], "order_id": ["a", "a", "b", "c"],
    ...     "date": ["2024-01-01", "2024-01-01", "2024-02-01", "2024-01-05"],
    ...     "amount": [5.0, 9.0, 50.0, 3.0], "product": ["mug", "tea", "pot", "mug"]})
    >>> first_product_expr(segwork.load({"transactions": tx}), "2024-12-31").order_by(
    ...     "customer_id").to_pandas()
       customer_id first_product
    0            1           tea
    1            2           mug
    """
    eng = engine_for(data)
    day = to_date(as_of)
    tx = eng.data.table("transactions", needed_for="first_product")
    tx = tx.filter(tx.date <= day)
    tx = tx.mutate(_first=tx.date.min().over(ibis.window(group_by=tx.customer_id)))
    first = tx.filter((tx.date == tx._first) & tx.product.notnull())
    per = first.group_by(["customer_id", "product"]).aggregate(_amount=first.amount.sum())
    rank = ibis.row_number().over(
        ibis.window(group_by=per.customer_id, order_by=[ibis.desc(per._amount), per.product])
    )
    per = per.mutate(_rank=rank)
    per = per.filter(per._rank == 0)
    return per.select("customer_id", first_product=per["product"].cast("string"))


def ecommerce_members(
    data: Data,
    by: str | Sequence[str],
    as_of: Any,
    segment: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    where: Where | None = None,
    bins: Bins | None = None,
    window_months: int = 12,
    horizon_months: int = 12,
    discount_rate: float = 0.01,
    gross_margin: float = 1.0,
) -> pd.DataFrame:
    """The customers of segments of the e-commerce table, with their orders and predictions.

    The segments are :func:`ecommerce_segment_table`'s with the same ``by``, ``where`` and
    ``bins`` (derived criteria of shop data included); ``segment`` selects them as in
    :func:`segwork.metrics.members.segment_members` (``{column: value or list}``, ``None``
    matching a missing value; a list of such dicts is their union).

    Returns
    -------
    pandas.DataFrame
        ``customer_id, signup_date, [*by], orders, revenue, last_order, p_alive, clv`` sorted by
        ``customer_id``: ``orders`` and ``revenue`` over all orders dated on or before as_of (0
        without any), ``last_order`` the date of the last one, ``p_alive`` and ``clv`` the
        predictions (NaN without an order or when the models cannot be fitted).
    """
    eng = engine_for(data)
    day = to_date(as_of)
    rows = _customer_rows(
        eng,
        by,
        day,
        window_start(day, int(window_months)),
        where=where,
        bins=bins,
        horizon_months=horizon_months,
        discount_rate=discount_rate,
        gross_margin=gross_margin,
        detail=True,
    )
    if not rows.by:
        raise ValueError("by must name at least one segment column")
    t = rows.table
    selections = segment_selections(segment, rows.by)
    conds = [
        functools.reduce(
            operator.and_, [segment_match(t, c, v) for c, v in sel.items()], ibis.literal(True)
        )
        for sel in selections
    ]
    t = t.filter(functools.reduce(operator.or_, conds))
    return _member_frame(t, rows.by)


def _member_frame(t: ir.Table, by: list[str]) -> pd.DataFrame:
    t = t.select(
        "customer_id",
        "signup_date",
        *by,
        orders=t.orders_to_date.fill_null(0),
        revenue=t.revenue_to_date.fill_null(0.0),
        last_order=t.last_order,
        p_alive=t.p_alive,
        clv=t.clv,
    )
    out = t.order_by("customer_id").to_pandas().reset_index(drop=True)
    out["orders"] = out["orders"].astype("int64")
    for col in ("revenue", "p_alive", "clv"):
        out[col] = pd.to_numeric(out[col]).astype("float64")
    return out


def customers_to_win_back(
    data: Data,
    as_of: Any,
    *,
    top_share: float = 0.2,
    max_p_alive: float = 0.5,
    where: Where | None = None,
    horizon_months: int = 12,
    discount_rate: float = 0.01,
    gross_margin: float = 1.0,
) -> pd.DataFrame:
    """Customers of high past value who have probably stopped buying: the ones to win back.

    docs/metrics.md "Predicted customer value", "Customers to win back": among the customers
    with an order dated on or before as_of, those whose revenue to date is at least the
    ``1 - top_share`` quantile of that revenue (the top 20 % by default) and whose P(alive) is
    at most ``max_p_alive`` (BG/NBD; a customer with one purchase day has P(alive) = 1 and is
    never listed).

    Returns
    -------
    pandas.DataFrame
        ``customer_id, signup_date, orders, revenue, last_order, p_alive, clv`` (as
        :func:`ecommerce_members`), highest revenue first (ties by customer_id).  ``attrs``:
        ``as_of, top_share, max_p_alive, revenue_threshold`` (the quantile), ``customers`` (with
        an order by as_of, after ``where``) and ``clv_error`` when the order-value model failed.

    Raises
    ------
    ValueError
        Bad ``top_share`` / ``max_p_alive``, no transactions, or as_of before the data.
    CLVFitError
        The purchase model cannot be fitted, so no P(alive) is known.
    """
    if not 0 < float(top_share) <= 1:
        raise ValueError(f"top_share must be in (0, 1] (0.2 = the top 20 %), got {top_share!r}")
    if not 0 <= float(max_p_alive) <= 1:
        raise ValueError(f"max_p_alive must be a probability in [0, 1], got {max_p_alive!r}")
    eng = engine_for(data)
    day = to_date(as_of)

    def build() -> pd.DataFrame:
        rows = _customer_rows(
            eng,
            [],
            day,
            day,
            where=where,
            bins=None,
            horizon_months=horizon_months,
            discount_rate=discount_rate,
            gross_margin=gross_margin,
            detail=True,
        )
        if not rows.p_alive_known:
            raise CLVFitError(f"no P(alive) to find customers to win back: {rows.clv_error}")
        buyers = _member_frame(rows.table.filter(rows.table.purchase_days >= 1), [])
        threshold = (
            float(np.quantile(buyers["revenue"], 1.0 - float(top_share))) if len(buyers) else np.nan
        )
        picked = buyers[
            (buyers["revenue"] >= threshold) & (buyers["p_alive"] <= float(max_p_alive))
        ]
        out = picked.sort_values(
            ["revenue", "customer_id"], ascending=[False, True], kind="mergesort"
        ).reset_index(drop=True)
        out.attrs.update(
            {
                "as_of": day,
                "top_share": float(top_share),
                "max_p_alive": float(max_p_alive),
                "revenue_threshold": threshold,
                "customers": len(buyers),
                **({"clv_error": rows.clv_error} if rows.clv_error is not None else {}),
            }
        )
        return out.drop(columns="clv")

    # who is listed depends on revenue and P(alive) only (the purchase model, one fit per date):
    # the list is kept without its CLV column, which another gross margin, horizon or discount
    # rate only looks up again in that CLV table
    key = WinBack(day, float(top_share), float(max_p_alive), cache_key(where))
    out = eng.frame(key, build)
    attrs = dict(out.attrs)
    pred = customer_predictions(
        eng,
        day,
        horizon_months=horizon_months,
        discount_rate=discount_rate,
        gross_margin=gross_margin,
    )
    clv = pd.Series(pred["clv"].to_numpy(dtype="float64"), index=pred["customer_id"].to_numpy())
    out["clv"] = out["customer_id"].map(clv).astype("float64")
    out.attrs = attrs
    return out


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
    add_shares(got, "customers", "revenue")
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
