"""Plans: the ``current_plan`` and ``first_plan`` criteria and the plan moves between months.

docs/metrics.md "Current and first plan" and "Plan moves".  A customer's plan is read from
``subscriptions.plan`` or, when an ``mrr`` table is given with a ``plan`` column, from
``mrr.plan`` (:func:`segwork.metrics._common.plan_source`).  Only paid rows name a plan: a
subscription whose MRR is 0 (a trial, a free or never-paid subscription) or an ``mrr`` row with
``mrr`` 0 does not count, nor does a row without a plan (empty or missing).  Rows dated after
as_of are ignored.

Everything up to the last step is one Ibis expression run in the Dataset's engine:
:func:`plans_expr` is joined into any metric's ``by`` / ``where``
(:func:`segwork.metrics._common.customer_attributes`), :func:`plan_by_month_expr` feeds
:func:`plan_moves`, whose small result comes out as pandas.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.dataset import Dataset
from segwork.data.derive import (
    calendar,
    month_index,
    month_index_of,
    month_start_of,
    subscription_mrr,
)
from segwork.data.fx import to_base
from segwork.metrics._common import (
    PLAN_ATTRIBUTES,
    Where,
    customer_attributes,
    plan_source,
    population,
    to_date,
)

__all__ = [
    "DIRECTIONS",
    "PLAN_MOVE_COLUMNS",
    "customer_plans",
    "plan_by_month_expr",
    "plan_moves",
    "plans_expr",
]

#: The ``direction`` of a plan move, by the sign of its ``mrr_change``.
DIRECTIONS: tuple[str, ...] = ("upgrade", "downgrade", "lateral")

#: The columns of :func:`plan_moves`.
PLAN_MOVE_COLUMNS: tuple[str, ...] = (
    "from_plan",
    "to_plan",
    "customers",
    "mrr_from",
    "mrr_to",
    "mrr_change",
    "direction",
)

#: A change of MRR within this relative tolerance of the larger side is "lateral" (float sums).
_LATERAL_TOLERANCE = 1e-9


def _require_plans(data: Dataset, what: str) -> str:
    source = plan_source(data)
    if source is None:
        raise ValueError(
            f"{what} needs a plan: a 'plan' column in the subscriptions table or in a given mrr "
            'table (docs/metrics.md "Current and first plan"); this Dataset has neither'
        )
    return source


def _names_a_plan(plan: ir.StringValue) -> ir.BooleanValue:
    return plan.notnull() & (plan != "")


def _paid_subscriptions(data: Dataset, day: dt.date) -> ir.Table:
    """``customer_id, plan, start_date, first_idx, last_idx, value[, currency]``: the paid
    subscriptions naming a plan, started on or before ``day``, active in at least one month.

    ``first_idx`` / ``last_idx`` are the first and last month indexes the subscription is active
    in (docs/metrics.md "MRR": start_date <= last day of m and end_date empty or > first day of
    m), the last capped at ``day``'s month; ``value`` is its MRR in its own currency.
    """
    a = month_index_of(day)
    subs = data.table("subscriptions")
    subs = subs.filter(subs.start_date <= day)  # data dated after as_of is ignored
    last = ibis.coalesce(month_index(subs.end_date - ibis.interval(days=1)), ibis.literal(a))
    cols: dict[str, ir.Value] = {
        "customer_id": subs.customer_id,
        "plan": subs.plan.cast("string"),
        "start_date": subs.start_date,
        "first_idx": month_index(subs.start_date),
        "last_idx": ibis.least(last, ibis.literal(a)),
        "value": subscription_mrr(subs).cast("float64"),
    }
    if data.currencies.converts and "currency" in subs.columns:
        cols["currency"] = subs.currency
    t = subs.select(**cols)
    return t.filter((t.value > 0) & _names_a_plan(t.plan) & (t.last_idx >= t.first_idx))


def _paid_mrr_rows(m: ir.Table) -> ir.Table:
    """``customer_id, month_idx, plan`` of the rows of a given mrr table with mrr > 0 naming a
    plan."""
    rows = m.filter((m.mrr > 0) & _names_a_plan(m.plan.cast("string")))
    return rows.select(
        "customer_id", month_idx=month_index(rows.month), plan=rows.plan.cast("string")
    )


def _valued_at(data: Dataset, t: ir.Table, month_col: str) -> ir.Table:
    """``t`` with ``value`` in the base currency at the rate of month ``month_col`` (docs/metrics.md
    "Currencies"), so subscriptions in different currencies compare; as it is in one currency."""
    if "currency" not in t.columns:
        return t
    keep = [c for c in t.columns if c != "currency"]
    keyed = t.mutate(month_idx=t[month_col]) if month_col != "month_idx" else t
    conv = to_base(keyed, "value", data.table("fx"), data.currency)
    # a missing rate (named by the MRR's own check) ranks last rather than failing here
    return conv.select(*[c for c in keep if c != "value"], value=conv.value.fill_null(0.0))


def _first_row(t: ir.Table, keys: list[str], order: list[Any]) -> ir.Table:
    """The first row of each ``keys`` group in the order ``order`` (a deterministic pick)."""
    rn = ibis.row_number().over(group_by=keys, order_by=order)
    ranked = t.mutate(_rn=rn)
    return ranked.filter(ranked._rn == 0).drop("_rn")


def _desc(col: ir.Value) -> Any:
    return ibis.desc(col, nulls_first=False)


def plans_expr(data: Dataset, as_of: Any) -> ir.Table:
    """``customer_id, current_plan, first_plan`` of every customer with a paid plan up to as_of.

    docs/metrics.md "Current and first plan".  Customers without any paid row naming a plan are
    absent (a left join gives them null, a segment of its own).  Not restricted to the
    population: :func:`segwork.metrics._common.customer_attributes` joins it to it.  Materialised
    once per as_of in the engine (:meth:`segwork.Dataset.cached`).

    From ``subscriptions`` (paid: MRR > 0; naming a plan; start_date <= as_of):

    - ``current_plan``: the plan of the subscription active in the latest month, capped at as_of's
      month, that the customer had one paid subscription active in (so the highest-MRR
      subscription active in the as-of month; for a customer with none active then, its latest
      paid subscription).  Ties: highest MRR (in the base currency at that month's rate), then
      latest start_date, then plan name (alphabetical, first wins).
    - ``first_plan``: the plan of the paid subscription with the earliest start_date.  Ties:
      highest MRR, then plan name.

    From a given ``mrr`` table with ``plan`` (rows with mrr > 0 naming a plan, months up to
    as_of's): ``current_plan`` is the plan of the latest such month (the as-of month's row when
    it is paid), ``first_plan`` of the earliest (one row per customer and month: no ties).

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> customers = pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-01"]})
    >>> subs = pd.DataFrame({"customer_id": [1, 1], "plan": ["starter", "pro"],
    ...     "start_date": ["2024-01-01", "2024-03-01"], "end_date": ["2024-03-01", None],
    ...     "amount": [20.0, 50.0], "billing_interval": ["month", "month"]})
    >>> data = segwork.load({"customers": customers, "subscriptions": subs})
    >>> plans_expr(data, "2024-06-30").to_pandas()
       customer_id current_plan first_plan
    0            1          pro    starter
    """
    day = to_date(as_of)
    source = _require_plans(data, "current_plan / first_plan")
    return data.cached(("customer_plans", day), lambda: _plans(data, day, source))


def _plans(data: Dataset, day: dt.date, source: str) -> ir.Table:
    if source == "mrr":
        m = data.table("mrr")
        rows = _paid_mrr_rows(m)
        rows = rows.filter(rows.month_idx <= month_index_of(day))
        current = _first_row(rows, ["customer_id"], [_desc(rows.month_idx)])
        first = _first_row(rows, ["customer_id"], [rows.month_idx])
    else:
        paid = _paid_subscriptions(data, day)
        at_last = _valued_at(data, paid, "last_idx")
        current = _first_row(
            at_last,
            ["customer_id"],
            [
                _desc(at_last.last_idx),
                _desc(at_last.value),
                _desc(at_last.start_date),
                at_last.plan,
            ],
        )
        at_first = _valued_at(data, paid, "first_idx")
        first = _first_row(
            at_first,
            ["customer_id"],
            [at_first.start_date, _desc(at_first.value), at_first.plan],
        )
    cur = current.select("customer_id", current_plan=current.plan)
    fst = first.select("customer_id", first_plan=first.plan)
    return cur.join(fst, "customer_id").select("customer_id", "current_plan", "first_plan")


def customer_plans(data: Dataset, as_of: Any) -> pd.DataFrame:
    """Each customer's ``current_plan`` and ``first_plan`` at as_of.

    docs/metrics.md "Current and first plan" (the definition and tie-breaks are in
    :func:`plans_expr`).  Every customer of the population (signed up on or before as_of) is
    listed; one without a paid plan up to as_of (only trials, nothing yet) has nulls.

    Parameters
    ----------
    data : Dataset
        Needs a ``plan`` column in ``subscriptions`` or in a given ``mrr`` table.
    as_of : date-like
        The as-of date; rows dated after it are ignored.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, current_plan, first_plan`` sorted by customer_id (plans as object, None
        for no plan).

    Raises
    ------
    ValueError
        The Dataset has no plan column, or as_of is before every signup.

    Examples
    --------
    Customer 1 trials starter (amount 0) then pays for starter and upgrades to pro; customer 2
    only trials.

    >>> import pandas as pd, segwork
    >>> customers = pd.DataFrame({"customer_id": [1, 2], "signup_date": ["2024-01-01"] * 2})
    >>> subs = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...     "plan": ["pro", "starter", "pro", "pro"],
    ...     "start_date": ["2024-01-01", "2024-02-01", "2024-04-01", "2024-01-01"],
    ...     "end_date": ["2024-02-01", "2024-04-01", None, "2024-02-01"],
    ...     "amount": [0.0, 20.0, 50.0, 0.0], "billing_interval": ["month"] * 4})
    >>> data = segwork.load({"customers": customers, "subscriptions": subs})
    >>> customer_plans(data, "2024-06-30")
       customer_id current_plan first_plan
    0            1          pro    starter
    1            2         None       None
    """
    day = to_date(as_of)
    plans = plans_expr(data, day)
    pop = population(data, day).select("customer_id")
    j = pop.left_join(plans, "customer_id")
    out = j.select(pop.customer_id, j.current_plan, j.first_plan).order_by("customer_id")
    frame = out.to_pandas()
    for col in PLAN_ATTRIBUTES:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame.reset_index(drop=True)


def plan_by_month_expr(data: Dataset, as_of: Any, first_idx: int) -> ir.Table:
    """``customer_id, month_idx, plan``: each customer's plan in each month ``first_idx`` ..
    as_of's month in which it has a paid row naming a plan.

    docs/metrics.md "Plan moves".  From ``subscriptions``: the plan of the highest-MRR paid
    subscription active in the month (in the base currency at that month's rate), ties broken
    by latest start_date, then plan name (alphabetical, first wins).  From a given ``mrr`` table
    with ``plan``: the month's row's plan when its mrr > 0.
    """
    day = to_date(as_of)
    a = month_index_of(day)
    source = _require_plans(data, "plan moves")
    if source == "mrr":
        m = data.table("mrr")
        rows = _paid_mrr_rows(m)
        return rows.filter((rows.month_idx >= first_idx) & (rows.month_idx <= a))
    paid = _paid_subscriptions(data, day)
    paid = paid.filter((paid.last_idx >= first_idx) & (paid.first_idx <= a))
    cal = calendar(first_idx, a).select("month_idx")
    j = paid.join(cal, [cal.month_idx >= paid.first_idx, cal.month_idx <= paid.last_idx])
    j = _valued_at(data, j, "month_idx")
    best = _first_row(
        j, ["customer_id", "month_idx"], [_desc(j.value), _desc(j.start_date), j.plan]
    )
    return best.select("customer_id", "month_idx", "plan")


def _direction(change: pd.Series, scale: pd.Series) -> pd.Series:
    tol = _LATERAL_TOLERANCE * scale.clip(lower=1.0)
    out = np.where(change > tol, "upgrade", np.where(change < -tol, "downgrade", "lateral"))
    return pd.Series(out, index=change.index, dtype=object)


def plan_moves(
    data: Dataset, as_of: Any, *, months: int = 12, where: Where | None = None
) -> pd.DataFrame:
    """Plan moves over the last ``months`` months: from-plan x to-plan counts and their MRR.

    docs/metrics.md "Plan moves".  With A the as-of month, for every month m = A - months + 1 ..
    A and every customer of the population (signed up on or before as_of, restricted by
    ``where``) with MRR > 0 in both m - 1 and m: its plan in a month is the plan of its
    highest-MRR paid subscription active then (ties: latest start_date, then plan name) or, for
    a given ``mrr`` table with ``plan``, that month's row's plan (:func:`plan_by_month_expr`).
    When both months have a plan and they differ, the customer made one move from the plan of
    m - 1 to the plan of m.  Moves are counted per customer and month (a customer moving twice
    counts twice).

    Parameters
    ----------
    data : Dataset
        Needs a ``plan`` column in ``subscriptions`` or in a given ``mrr`` table.
    as_of : date-like
        The as-of date: the last month is its month; data dated after it is ignored.
    months : int, default 12
        The number of months m looked at (each compared with the month before it).
    where : dict, optional
        Filter on customers, e.g. ``{"region": "Europe"}`` (any ``by``-able name).

    Returns
    -------
    pandas.DataFrame
        One row per (from_plan, to_plan) pair with at least one move: ``from_plan, to_plan,
        customers`` (customer-month moves, int64), ``mrr_from`` / ``mrr_to`` (the sum of those
        customers' MRR in m - 1 and in m, all their subscriptions), ``mrr_change`` (``mrr_to -
        mrr_from``) and ``direction``: "upgrade" when the pair's MRR rose, "downgrade" when it
        fell, "lateral" otherwise.  Sorted by from_plan, to_plan; empty (same columns) without
        any move.  ``attrs`` holds ``as_of``, ``months``, ``first_month`` and ``last_month``
        (the first and last month m).

    Raises
    ------
    ValueError
        No plan column, ``months`` not an integer >= 1, an unknown ``where`` name or a ``where``
        matching nobody, or as_of before every signup.

    Examples
    --------
    Customer 1 upgrades from starter to pro in March; customer 2 moves down from pro to starter
    in April (one subscription replacing another on the 1st of the month).

    >>> import pandas as pd, segwork
    >>> customers = pd.DataFrame({"customer_id": [1, 2], "signup_date": ["2024-01-01"] * 2})
    >>> subs = pd.DataFrame({"customer_id": [1, 1, 2, 2],
    ...     "plan": ["starter", "pro", "pro", "starter"],
    ...     "start_date": ["2024-01-01", "2024-03-01", "2024-01-01", "2024-04-01"],
    ...     "end_date": ["2024-03-01", None, "2024-04-01", None],
    ...     "amount": [20.0, 50.0, 50.0, 20.0], "billing_interval": ["month"] * 4})
    >>> data = segwork.load({"customers": customers, "subscriptions": subs})
    >>> plan_moves(data, "2024-06-30")
      from_plan  to_plan  customers  mrr_from  mrr_to  mrr_change  direction
    0       pro  starter          1      50.0    20.0       -30.0  downgrade
    1   starter      pro          1      20.0    50.0        30.0    upgrade
    """
    day = to_date(as_of)
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
        raise ValueError(f"months must be an integer >= 1, got {months!r}")
    months = int(months)
    _require_plans(data, "plan moves")
    a = month_index_of(day)
    lo = a - months  # month m - 1 of the first month m
    attrs, _ = customer_attributes(data, day, None, where=where)
    mrr = data.monthly_mrr(day)
    mrr = mrr.filter(mrr.month_idx >= lo).select("customer_id", "month_idx", "mrr")
    mrr = mrr.semi_join(attrs.select("customer_id"), "customer_id")
    plans = plan_by_month_expr(data, day, lo)
    monthly = mrr.join(plans, ["customer_id", "month_idx"]).select(
        "customer_id", "month_idx", "mrr", "plan"
    )
    before = monthly.select(
        "customer_id", month_idx=monthly.month_idx + 1, mrr_from=monthly.mrr,
        from_plan=monthly.plan,
    )  # fmt: skip
    pairs = monthly.join(before, ["customer_id", "month_idx"])
    moved = pairs.filter((pairs.from_plan != pairs.plan) & (pairs.month_idx > lo))
    agg = moved.group_by(["from_plan", moved.plan.name("to_plan")]).aggregate(
        customers=moved.count(),
        mrr_from=moved.mrr_from.sum(),
        mrr_to=moved.mrr.sum(),
    )
    out = agg.order_by(["from_plan", "to_plan"]).to_pandas()
    out["customers"] = out["customers"].astype("int64")
    for col in ("mrr_from", "mrr_to"):
        out[col] = out[col].astype("float64")
    out["mrr_change"] = out["mrr_to"] - out["mrr_from"]
    out["direction"] = _direction(out["mrr_change"], out[["mrr_from", "mrr_to"]].max(axis=1))
    for col in ("from_plan", "to_plan"):
        out[col] = out[col].astype(object)
    out = out[list(PLAN_MOVE_COLUMNS)].reset_index(drop=True)
    out.attrs.update(
        as_of=day,
        months=months,
        first_month=month_start_of(lo + 1),
        last_month=month_start_of(a),
    )
    return out
