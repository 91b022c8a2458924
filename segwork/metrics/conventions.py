"""Churn conventions side by side: calendar month vs rolling 30 days, two denominators.

Vendors and spreadsheets disagree on "the churn rate" mostly through two choices: the window
(a calendar month, or the 30 days before a date) and the denominator (customers active at the
start, or those plus the customers who started during the window).  :func:`churn_conventions`
computes the four combinations for the same data so that a reader can match a vendor's figure and
see how much the convention alone moves it.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.dates import to_date
from segwork.data.derive import month_index_of, month_start_of, subscription_mrr
from segwork.engine import Data, engine_for
from segwork.metrics._common import Where
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.segments import MAX_BITS_WINDOW
from segwork.metrics.stats import safe_ratio

__all__ = ["CONVENTION_COLUMNS", "VENDOR_NOTE", "churn_conventions"]

#: Output columns of :func:`churn_conventions`, in order.
CONVENTION_COLUMNS: tuple[str, ...] = (
    "month",
    "customers_start",
    "new_customers",
    "churned_customers",
    "churn_rate",
    "churn_rate_start_plus_new",
    "diff_start_plus_new",
    "rolling_day",
    "rolling_at_risk",
    "rolling_new",
    "rolling_churned",
    "rolling_new_churned",
    "rolling_churn_rate",
    "rolling_churn_rate_start_plus_new",
    "diff_rolling",
)

#: Which vendor documents which convention (sources in :func:`churn_conventions`' docstring).
VENDOR_NOTE = (
    "churn_rate (calendar month, customers active at the start) is the default of docs/metrics.md "
    '("Logo churn") and '
    "ChartMogul's B2B customer churn formula (which also leaves out customers who joined and "
    "churned within the period); rolling_churn_rate (the last 30 days over the customers active "
    "30 days ago) is Baremetrics' user churn; rolling_churn_rate_start_plus_new (the last 30 "
    "days over the customers active 30 days ago plus the new ones) is Stripe Billing's "
    "subscriber churn rate. Details such as reactivations, trials and dunning differ by vendor: "
    "check your vendor's definition."
)

_WINDOW_DAYS = 30


def _calendar_churn(
    data: Data, day: dt.date, people: ir.Table, first_idx: int, last_idx: int, *, bits: bool
) -> dict[str, ir.Table]:
    """``customers_start, new_customers, churned_customers``: ``month_idx, n`` from monthly MRR.

    With ``bits`` (the engine's faster path, tested equal to the definition): each customer's
    active months first_idx-1 .. last_idx as the bits of one integer, read per month (active in
    m-1: at the start; and not in m: churned) instead of an anti-join of every month with the
    month before.
    """
    eng = engine_for(data)
    data = eng.data
    mm = eng.monthly_mrr(day)
    mm = mm.join(people, "customer_id").select("customer_id", "month_idx")
    first = mm.group_by("customer_id").aggregate(month_idx=mm.month_idx.min())
    first = first.filter((first.month_idx >= first_idx) & (first.month_idx <= last_idx))
    parts = {"new_customers": first.group_by("month_idx").aggregate(n=first.count())}
    if bits:
        r = mm.filter((mm.month_idx >= first_idx - 1) & (mm.month_idx <= last_idx))
        one = ibis.literal(1).cast("int64")
        per = r.group_by("customer_id").aggregate(
            bits=(one << (r.month_idx - (first_idx - 1)).cast("int64")).bit_or()
        )
        months = np.arange(first_idx, last_idx + 1, dtype="int64")
        cal = ibis.memtable(
            pd.DataFrame({"month_idx": months, "i": months - first_idx}),
            schema={"month_idx": "int64", "i": "int64"},
        )
        j = per.cross_join(cal)
        # one term per operator: bitwise operators' precedence differs between SQL dialects
        before = (j.bits & (one << j.i)) != 0
        now = (j.bits & (one << (j.i + 1))) != 0
        counts = j.group_by("month_idx").aggregate(
            customers_start=before.cast("int64").sum(),
            churned_customers=(before & ~now).cast("int64").sum(),
        )
        for name in ("customers_start", "churned_customers"):
            parts[name] = counts.select("month_idx", n=counts[name])
        return parts
    cur = mm.select("customer_id", "month_idx")
    prev = mm.select("customer_id", month_idx=(mm.month_idx + 1).cast("int64"))
    prev = prev.filter((prev.month_idx >= first_idx) & (prev.month_idx <= last_idx))
    churned = prev.anti_join(cur, ["customer_id", "month_idx"])
    parts["customers_start"] = prev.group_by("month_idx").aggregate(n=prev.count())
    parts["churned_customers"] = churned.group_by("month_idx").aggregate(n=churned.count())
    return parts


def _rolling_churn(
    data: Data, day: dt.date, people: ir.Table, days: pd.DataFrame
) -> dict[str, ir.Table]:
    """``rolling_at_risk, rolling_new, rolling_churned, rolling_new_churned``: ``month_idx, n``.

    From subscription dates: a customer is active on day x when one of its subscriptions with
    MRR > 0 has ``start_date <= x`` and (no ``end_date`` or ``end_date > x``).
    """
    eng = engine_for(data)
    data = eng.data
    subs = data.table("subscriptions", needed_for="rolling 30-day churn")
    subs = subs.filter((subs.start_date <= day) & (subscription_mrr(subs) > 0))
    subs = subs.join(people, "customer_id").select("customer_id", "start_date", "end_date")
    cal = ibis.memtable(days, schema={"month_idx": "int64", "d": "date", "d30": "date"})

    def active_on(col: str) -> ir.Table:
        x = cal[col]
        on = [subs.start_date <= x, subs.end_date.isnull() | (subs.end_date > x)]
        j = subs.join(cal, on)
        return j.select("customer_id", "month_idx").distinct()

    at_risk, at_end = active_on("d30"), active_on("d")
    churned = at_risk.anti_join(at_end, ["customer_id", "month_idx"])
    first = subs.group_by("customer_id").aggregate(first_day=subs.start_date.min())
    new = first.join(cal, [first.first_day > cal.d30, first.first_day <= cal.d]).select(
        "customer_id", "month_idx"
    )
    new_churned = new.anti_join(at_end, ["customer_id", "month_idx"])
    parts = {
        "rolling_at_risk": at_risk.group_by("month_idx").aggregate(n=at_risk.count()),
        "rolling_new": new.group_by("month_idx").aggregate(n=new.count()),
        "rolling_churned": churned.group_by("month_idx").aggregate(n=churned.count()),
        "rolling_new_churned": new_churned.group_by("month_idx").aggregate(n=new_churned.count()),
    }
    return parts


def _rolling_churn_bits(
    data: Data, day: dt.date, people: ir.Table, days: pd.DataFrame
) -> dict[str, ir.Table]:
    """:func:`_rolling_churn` from one pass over the subscriptions: no range join, no distinct.

    Each subscription's days of the calendar it is active on are the bits of two integers (bit
    i: active on ``d`` / on ``d30`` of the calendar's row i, the definition's test with the
    dates as literals); OR-ed per customer, they say on which of those days the customer was
    active, which is what the definition's range join and distinct give.  At risk in row i: bit
    i of the ``d30`` mask; churned: that bit and not bit i of the ``d`` mask; new: the first
    start in (d30, d]; new and churned: new without bit i of the ``d`` mask.  The engine uses it
    on DuckDB for at most :data:`~segwork.metrics.segments.MAX_BITS_WINDOW` months (the bits of a
    churn window of as many months); tested equal to the definition
    (tests/metrics/test_conventions.py).
    """
    eng = engine_for(data)
    data = eng.data
    subs = data.table("subscriptions", needed_for="rolling 30-day churn")
    subs = subs.filter((subs.start_date <= day) & (subscription_mrr(subs) > 0))
    subs = subs.join(people, "customer_id").select("customer_id", "start_date", "end_date")
    one = ibis.literal(1).cast("int64")
    zero = ibis.literal(0).cast("int64")

    def mask(col: str) -> ir.IntegerValue:
        """The bits of the calendar's days ``col`` the subscription is active on."""
        out: ir.IntegerValue = zero
        for i, x in enumerate(days[col]):
            x = ibis.literal(x, "date")
            on = (subs.start_date <= x) & (subs.end_date.isnull() | (subs.end_date > x))
            out = out + ibis.ifelse(on, one << i, zero)  # distinct bits: + is |
        return out

    per = subs.group_by("customer_id").aggregate(
        at_d=mask("d").bit_or(), at_d30=mask("d30").bit_or(), first_day=subs.start_date.min()
    )
    cal = ibis.memtable(
        days.assign(i=np.arange(len(days), dtype="int64")),
        schema={"month_idx": "int64", "d": "date", "d30": "date", "i": "int64"},
    )
    j = per.cross_join(cal)
    bit = one << j.i
    # one term per operator: bitwise operators' precedence differs between SQL dialects
    start = (j.at_d30 & bit) != 0
    end = (j.at_d & bit) != 0
    new = (j.first_day > j.d30) & (j.first_day <= j.d)
    counts = j.group_by("month_idx").aggregate(
        rolling_at_risk=start.cast("int64").sum(),
        rolling_new=new.cast("int64").sum(),
        rolling_churned=(start & ~end).cast("int64").sum(),
        rolling_new_churned=(new & ~end).cast("int64").sum(),
    )
    return {
        name: counts.select("month_idx", n=counts[name])
        for name in ("rolling_at_risk", "rolling_new", "rolling_churned", "rolling_new_churned")
    }


def _assemble(parts: dict[str, ir.Table], first_idx: int, last_idx: int) -> pd.DataFrame:
    """Every count per month in ONE engine query (the counts share their subqueries: the
    customers active at the window's start and end), aligned on the months (0 if absent)."""
    idx = pd.Index(range(first_idx, last_idx + 1), name="month_idx")
    labelled = [
        t.select(part=ibis.literal(name), month_idx=t.month_idx.cast("int64"), n=t.n)
        for name, t in parts.items()
    ]
    got = functools.reduce(lambda a, b: a.union(b), labelled).to_pandas()
    out = pd.DataFrame(index=idx)
    for name in parts:
        mine = got[got["part"] == name]
        series = pd.Series(
            mine["n"].astype("int64").to_numpy(),
            index=mine["month_idx"].astype("int64").to_numpy(),
        )
        out[name] = series.reindex(idx, fill_value=0).astype("int64").to_numpy()
    return out


def churn_conventions(
    data: Data,
    as_of: Any,
    *,
    months: int = 12,
    where: Where | None = None,
) -> pd.DataFrame:
    """Logo churn under four conventions, per month, with the differences.

    For each of the ``months`` calendar months ending with as_of's month:

    - ``churn_rate``: customers active in m-1 and not in m / customers active in m-1
      (docs/metrics.md "Logo churn"), active meaning MRR > 0 in the month (docs/metrics.md "Active
      customer").  ``customers_start`` = active in m-1, ``churned_customers`` = active in m-1 and
      not in m.
    - ``churn_rate_start_plus_new``: the same churned customers over
      ``customers_start + new_customers``, ``new_customers`` being those whose first month with MRR
      > 0 ever is m (docs/metrics.md "MRR movements"; reactivations are not new).  With monthly
      activity a customer new in m is active in m, so the numerator does not change.
      ``diff_start_plus_new`` = ``churn_rate_start_plus_new - churn_rate`` (<= 0).
    - ``rolling_churn_rate``: with d the last day of m (or as_of itself in as_of's month,
      ``rolling_day``): customers active on day d - 30 and not active on day d, over the customers
      active on day d - 30.  Day-level activity comes from the subscription dates: a customer is
      active on day x when one of its subscriptions with MRR > 0 (the subscription's MRR of
      docs/metrics.md "MRR") has ``start_date <= x`` and (no ``end_date`` or ``end_date > x``) --
      the day-level form of the monthly rule of docs/metrics.md "MRR" (active in m when
      ``start_date`` is on or before m's last day and ``end_date`` is empty or after m's first day).
      A customer who leaves and comes back within the 30 days is not churned.
    - ``rolling_churn_rate_start_plus_new``: (``rolling_churned + rolling_new_churned``) /
      (``rolling_at_risk + rolling_new``), where ``rolling_new`` are the customers whose first
      subscription with MRR > 0 starts in (d - 30, d] and ``rolling_new_churned`` those of them
      not active on day d.  ``diff_rolling`` = ``rolling_churn_rate - churn_rate``.

    The rolling columns need a ``subscriptions`` table (dates); a Dataset with only an ``mrr``
    table has monthly activity only, and its rolling columns are NaN (counts 0).

    Which vendor uses which (:data:`VENDOR_NOTE`), from the vendors' own help pages:

    - ChartMogul, "Metric: Customer Churn rate"
      (https://help.chartmogul.com/hc/en-us/articles/203359321-Metric-Customer-Churn-rate): the
      B2B formula is "Number of customers who churned in period (excluding any customers who both
      joined & churned in the period) / Total number of customers at start of period" -- our
      ``churn_rate``; its B2C formula sums daily churn over the period (not computed here).
    - Baremetrics, "User and Revenue Churn"
      (https://help.baremetrics.com/en/articles/5380347-user-and-revenue-churn): "(Cancelled
      Customers in the last 30 days ÷ Active Customers 30 days ago) x 100" -- our
      ``rolling_churn_rate``.
    - Stripe, "Calculating churn rate in Billing"
      (https://support.stripe.com/questions/calculating-churn-rate-in-billing): "the sum of
      churned subscribers in the past 30 days divided by the number of active subscribers as of
      30 days ago, plus any new subscribers in those 30 days" -- our
      ``rolling_churn_rate_start_plus_new``.  (Stripe counts a returning customer's second churn
      again; here a customer churns at most once per window.)

    Vendors also differ on trials, delinquency and reactivations: check your vendor's
    definition before comparing to the last decimal.

    Parameters
    ----------
    data : Dataset or Engine
        Subscription data (``mrr`` and/or ``subscriptions``).
    as_of : date-like
        The last month is as_of's month (evaluated at as_of for the rolling window); data after
        as_of is ignored; population: customers with signup_date <= as_of.
    months : int, default 12
        How many months to show (>= 1).
    where : dict, optional
        Filter on customers (any ``by``-able attribute), e.g. ``{"plan": ["pro"]}``.

    Returns
    -------
    pandas.DataFrame
        One row per month (oldest first), columns :data:`CONVENTION_COLUMNS`: ``month`` and
        ``rolling_day`` as datetime64[ns], counts int64, rates and differences float64 (NaN
        where the denominator is 0, docs/metrics.md "Conventions").

    Raises
    ------
    ValueError
        No subscription data (transactions-only data has no churn), ``months`` < 1, or an
        unknown ``where`` column.

    Examples
    --------
    Three customers active in January; in February customer 1 is gone (its subscription ended on
    2024-01-20), customer 4 starts on 2024-02-10.  The 30 days before 2024-02-29 start on
    2024-01-30, after customer 1 left: the rolling window sees no churn at all.

    >>> import pandas as pd, segwork
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3, 4],
    ...     "signup_date": ["2024-01-01"] * 3 + ["2024-02-10"]})
    >>> subs = pd.DataFrame({"customer_id": [1, 2, 3, 4],
    ...     "start_date": ["2024-01-01"] * 3 + ["2024-02-10"],
    ...     "end_date": ["2024-01-20", None, None, None],
    ...     "amount": [10.0] * 4, "billing_interval": ["month"] * 4})
    >>> data = segwork.load({"customers": customers, "subscriptions": subs})
    >>> out = churn_conventions(data, "2024-02-29", months=1)
    >>> out[["customers_start", "new_customers", "churned_customers"]]
       customers_start  new_customers  churned_customers
    0                3              1                  1
    >>> out[["churn_rate", "churn_rate_start_plus_new"]].round(4)
       churn_rate  churn_rate_start_plus_new
    0      0.3333                       0.25
    >>> out[["rolling_at_risk", "rolling_churned", "rolling_churn_rate"]]
       rolling_at_risk  rolling_churned  rolling_churn_rate
    0                2                0                 0.0
    """
    eng = engine_for(data)
    data = eng.data
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
        raise ValueError(f"months must be a whole number >= 1, got {months!r}")
    if not data.has("mrr"):
        raise ValueError(
            "churn conventions need subscription data (an 'mrr' or 'subscriptions' table); "
            f"this Dataset has: {', '.join(data.names) or 'no tables'} (transactions-only data "
            "has orders, not churn)"
        )
    day = to_date(as_of)
    attrs, _ = customer_attributes(eng, day, None, where=where)
    people = attrs.select("customer_id")
    last_idx = month_index_of(day)
    first_idx = last_idx - int(months) + 1
    # the faster paths (tested equal to the definition): each customer's months and days as bits
    bits = eng.fast_paths and eng.backend_name == "duckdb" and months <= MAX_BITS_WINDOW
    parts = _calendar_churn(eng, day, people, first_idx, last_idx, bits=bits)

    idx = np.arange(first_idx, last_idx + 1)
    month_starts = [month_start_of(int(i)) for i in idx]
    ends = [min(day, month_start_of(int(i) + 1) - dt.timedelta(days=1)) for i in idx]
    days = pd.DataFrame(
        {
            "month_idx": idx.astype("int64"),
            "d": ends,
            "d30": [e - dt.timedelta(days=_WINDOW_DAYS) for e in ends],
        }
    )
    has_days = data.has("subscriptions")
    if has_days:
        rolling = _rolling_churn_bits if bits else _rolling_churn
        parts.update(rolling(eng, day, people, days))
    counts = _assemble(parts, first_idx, last_idx)

    out = pd.DataFrame({"month": pd.to_datetime(month_starts).astype("datetime64[ns]")})
    for col in ("customers_start", "new_customers", "churned_customers"):
        out[col] = counts[col].to_numpy()
    out["churn_rate"] = safe_ratio(out["churned_customers"], out["customers_start"])
    out["churn_rate_start_plus_new"] = safe_ratio(
        out["churned_customers"], out["customers_start"] + out["new_customers"]
    )
    out["diff_start_plus_new"] = out["churn_rate_start_plus_new"] - out["churn_rate"]
    out["rolling_day"] = pd.to_datetime(days["d"]).astype("datetime64[ns]").to_numpy()
    for col in ("rolling_at_risk", "rolling_new", "rolling_churned", "rolling_new_churned"):
        # without subscriptions there are no rolling counts: 0, and the rates below NaN
        out[col] = counts[col].to_numpy() if has_days else np.zeros(len(out), dtype="int64")
    if has_days:
        out["rolling_churn_rate"] = safe_ratio(out["rolling_churned"], out["rolling_at_risk"])
        out["rolling_churn_rate_start_plus_new"] = safe_ratio(
            out["rolling_churned"] + out["rolling_new_churned"],
            out["rolling_at_risk"] + out["rolling_new"],
        )
    else:
        out["rolling_churn_rate"] = np.nan
        out["rolling_churn_rate_start_plus_new"] = np.nan
    out["diff_rolling"] = out["rolling_churn_rate"] - out["churn_rate"]
    return out[list(CONVENTION_COLUMNS)].reset_index(drop=True)
