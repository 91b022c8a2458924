"""RFM (recency, frequency, monetary) scores and named segments (docs/metrics.md "RFM").

Everything is one Ibis expression (:func:`rfm_expr`), so the ``rfm_segment`` attribute can be joined
into any metric's ``by``/``where`` in the engine; :func:`rfm` executes it.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from segwork.data.dates import to_date
from segwork.engine import Data, engine_for
from segwork.metrics._common import population

__all__ = ["RFM_SEGMENTS", "rfm", "rfm_expr"]

#: Named segment for each (R score, F score), exactly the table of docs/metrics.md "RFM".
RFM_SEGMENTS: dict[tuple[int, int], str] = {
    (5, 1): "New",
    (5, 2): "Potential loyalist",
    (5, 3): "Potential loyalist",
    (5, 4): "Champions",
    (5, 5): "Champions",
    (4, 1): "Promising",
    (4, 2): "Potential loyalist",
    (4, 3): "Potential loyalist",
    (4, 4): "Loyal",
    (4, 5): "Loyal",
    (3, 1): "About to sleep",
    (3, 2): "About to sleep",
    (3, 3): "Need attention",
    (3, 4): "Loyal",
    (3, 5): "Loyal",
    (2, 1): "Hibernating",
    (2, 2): "Hibernating",
    (2, 3): "At risk",
    (2, 4): "At risk",
    (2, 5): "Cannot lose",
    (1, 1): "Lost",
    (1, 2): "Hibernating",
    (1, 3): "At risk",
    (1, 4): "At risk",
    (1, 5): "Cannot lose",
}

_COLUMNS = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
]


def _quintile_score(rank0: ir.IntegerValue, n: ir.IntegerValue) -> ir.IntegerValue:
    """``1 + floor(5 (r - 1) / n)`` from Ibis's 0-based min rank ``rank0 = r - 1``."""
    return (1 + (rank0 * 5 / n).floor()).cast("int64")


def _ranked_before(per: ir.Table, column: str, *, descending: bool = False) -> ir.Table:
    """``column, _before_<column>``: for each distinct value, how many rows of ``per`` come
    before it (a smaller value; a larger one when ``descending``): the 0-based "min" rank of
    the value, from the histogram of the values rather than a sort of the rows."""
    hist = per.group_by(column).aggregate(_n=per.count())
    order = ibis.desc(hist[column]) if descending else hist[column]
    before = hist._n.sum().over(ibis.window(order_by=order, rows=(None, -1)))
    return hist.select(column, **{f"_before_{column}": before.fill_null(0).cast("int64")})


def _segment_expr(r_score: ir.IntegerValue, f_score: ir.IntegerValue) -> ir.StringValue:
    """The named segment of (R, F) per :data:`RFM_SEGMENTS`, as a CASE expression."""
    return ibis.cases(
        *(((r_score == r) & (f_score == f), name) for (r, f), name in RFM_SEGMENTS.items()),
        else_=ibis.null("string"),
    )


def rfm_expr(data: Data, as_of: Any) -> ir.Table:
    """RFM values, scores and segment of each customer, as an Ibis (engine) expression.

    docs/metrics.md "RFM": orders dated <= as_of; recency = days from the latest order's date to
    as_of; frequency = distinct orders (``order_id``, not lines); monetary = total amount.  Scores
    1-5 by quintile over customers: with n customers and r the "min" rank of a value (ties share
    the smallest rank, 1-based), score = 1 + floor(5 (r - 1) / n); recency is scored on its
    negative (the most recent gets 5).  The named segment comes from (R, F) by the table of
    docs/metrics.md "RFM" (:data:`RFM_SEGMENTS`).

    The customers scored are the population at as_of (signup_date <= as_of) with at least one
    order dated <= as_of; n is their number.

    Parameters
    ----------
    data : Dataset or Engine
        Needs a ``transactions`` table.
    as_of : date-like
        The as-of date; orders after it are ignored.

    Returns
    -------
    ibis Table
        ``customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
        rfm_segment`` (unordered; :func:`rfm` executes and sorts it).

    Raises
    ------
    ValueError
        The Dataset has no ``transactions`` table, or as_of is before every signup.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> from segwork.metrics.rfm import rfm_expr
    >>> customers = pd.DataFrame({"customer_id": [1, 2], "signup_date": ["2024-01-01"] * 2})
    >>> transactions = pd.DataFrame({"customer_id": [1, 2], "order_id": ["a", "b"],
    ...     "date": ["2024-03-01", "2024-01-15"], "amount": [10.0, 99.0]})
    >>> data = segwork.load({"customers": customers, "transactions": transactions})
    >>> t = rfm_expr(data, "2024-03-31")
    >>> t.order_by("customer_id").select("customer_id", "r_score", "rfm_segment").to_pandas()
       customer_id  r_score     rfm_segment
    0            1        3  About to sleep
    1            2        1            Lost
    """
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    if not data.has("transactions"):
        raise ValueError(
            "RFM needs a 'transactions' table (orders: customer_id, order_id, date, amount); this "
            f"Dataset has: {', '.join(data.names) or 'no tables'}"
        )
    pop = population(eng, day).select("customer_id")
    tx = data.table("transactions", needed_for="RFM")
    tx = tx.filter(tx.date <= day)
    tx = tx.semi_join(pop, "customer_id")
    per = tx.group_by("customer_id").aggregate(
        _last=tx.date.max(),
        frequency=tx.order_id.nunique().cast("int64"),
        monetary=tx.amount.sum().cast("float64"),
    )
    per = per.select(
        "customer_id",
        recency_days=ibis.literal(day).delta(per._last, unit="day").cast("int64"),
        frequency=per.frequency,
        monetary=per.monetary,
    )
    n = per.customer_id.count().over(ibis.window())
    # r - 1 of docs/metrics.md "RFM" is the number of customers ranked before: for recency and
    # frequency (few distinct values) read from a histogram of the values, for monetary from
    # ibis.rank(), the SQL "min" rank minus 1 (0-based)
    per = per.join(_ranked_before(per, "recency_days", descending=True), "recency_days")
    per = per.join(_ranked_before(per, "frequency"), "frequency")
    scored = per.mutate(
        r_score=_quintile_score(per._before_recency_days, n),
        f_score=_quintile_score(per._before_frequency, n),
        m_score=_quintile_score(ibis.rank().over(order_by=per.monetary), n),
    )
    scored = scored.mutate(rfm_segment=_segment_expr(scored.r_score, scored.f_score))
    return scored.select(*_COLUMNS)


def rfm(data: Data, as_of: Any) -> pd.DataFrame:
    """RFM values, 1-5 scores and named segment per customer (docs/metrics.md "RFM").

    The executed result of :func:`rfm_expr` (see there for the exact definition): recency in days
    since the last order dated <= as_of, frequency = distinct orders, monetary = total amount;
    scores ``1 + floor(5 (r - 1) / n)`` with r the min rank over the n customers that have an
    order (recency ranked on its negative, so recent = 5); segment from (R, F) by the table of
    docs/metrics.md "RFM".

    Parameters
    ----------
    data, as_of
        As in :func:`rfm_expr`.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
        rfm_segment`` sorted by customer_id; integer columns are int64, monetary float64.

    Raises
    ------
    ValueError
        As in :func:`rfm_expr`.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> from segwork.metrics.rfm import rfm
    >>> customers = pd.DataFrame({"customer_id": [1, 2], "signup_date": ["2024-01-01"] * 2})
    >>> transactions = pd.DataFrame({"customer_id": [1, 1, 2], "order_id": ["a", "b", "c"],
    ...     "date": ["2024-02-01", "2024-03-01", "2024-01-15"], "amount": [10.0, 5.0, 99.0]})
    >>> data = segwork.load({"customers": customers, "transactions": transactions})
    >>> out = rfm(data, "2024-03-31")
    >>> out[["customer_id", "recency_days", "frequency", "monetary"]]
       customer_id  recency_days  frequency  monetary
    0            1            30          2      15.0
    1            2            76          1      99.0

    With n = 2 the ranks r = 1, 2 give scores 1 + floor(5 (r - 1) / 2) = 1, 3:

    >>> out[["customer_id", "r_score", "f_score", "m_score", "rfm_segment"]]
       customer_id  r_score  f_score  m_score     rfm_segment
    0            1        3        3        1  Need attention
    1            2        1        1        3            Lost
    """
    eng = engine_for(data)
    data = eng.data
    out = rfm_expr(eng, as_of).order_by("customer_id").to_pandas()
    for col in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
        out[col] = out[col].astype("int64")
    out["monetary"] = out["monetary"].astype("float64")
    out["rfm_segment"] = out["rfm_segment"].astype(object)
    return out[_COLUMNS].reset_index(drop=True)
