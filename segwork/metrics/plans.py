"""Plans: the ``current_plan`` and ``first_plan`` criteria and the plan moves between months.

docs/metrics.md "Current and first plan" and "Plan moves".  A customer's plan is read from
``subscriptions.plan`` or, when an ``mrr`` table is given with a ``plan`` column, from
``mrr.plan`` (:func:`segwork.metrics._common.plan_source`).  Only paid rows name a plan: a
subscription whose MRR is 0 (a trial, a free or never-paid subscription) or an ``mrr`` row with
``mrr`` 0 does not count, nor does a row without a plan (empty or missing).  Rows dated after
as_of are ignored.

Everything up to the last step is one Ibis expression run in the Dataset's engine:
:func:`plans_expr` is joined into any metric's ``by`` / ``where``
(:func:`segwork.metrics.attributes.customer_attributes`), :func:`plan_by_month_expr` feeds
:func:`plan_moves`, whose small result comes out as pandas.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from segwork.data.dates import to_date
from segwork.data.derive import (
    calendar,
    month_index,
    month_index_of,
    subscription_mrr,
)
from segwork.data.fx import to_base
from segwork.engine import Data, engine_for
from segwork.engine.keys import CacheKey
from segwork.metrics._common import PLAN_ATTRIBUTES, plan_source, population

__all__ = [
    "customer_plans",
    "plan_by_month_expr",
    "plan_history",
    "plans_expr",
    "prepare_plans",
    "require_plans",
]


@dataclass(frozen=True)
class CustomerPlans(CacheKey):
    """Each customer's current and first plan at ``as_of``."""

    as_of: dt.date


@dataclass(frozen=True)
class PlanHistory(CacheKey):
    """Every customer's current and first plan on every day, as runs of days (no as_of)."""


def require_plans(data: Data, what: str) -> str:
    eng = engine_for(data)
    data = eng.data
    source = plan_source(eng)
    if source is None:
        raise ValueError(
            f"{what} needs a plan: a 'plan' column in the subscriptions table or in a given mrr "
            'table (docs/metrics.md "Current and first plan"); this Dataset has neither'
        )
    return source


def _names_a_plan(plan: ir.StringValue) -> ir.BooleanValue:
    return plan.notnull() & (plan != "")


def _paid_rows(data: Data, subs: ir.Table) -> ir.Table:
    """``customer_id, plan, start_date, first_idx, last_raw, value[, currency]`` of the paid
    subscriptions among ``subs`` naming a plan and active in at least one month.

    ``first_idx`` / ``last_raw`` are the first and last month indexes the subscription is
    active in (docs/metrics.md "MRR": start_date <= last day of m and end_date empty or > first
    day of m; ``last_raw`` null while it runs); ``value`` is its MRR in its own currency.
    """
    data = engine_for(data).data
    cols: dict[str, ir.Value] = {
        "customer_id": subs.customer_id,
        "plan": subs.plan.cast("string"),
        "start_date": subs.start_date,
        "first_idx": month_index(subs.start_date),
        "last_raw": month_index(subs.end_date - ibis.interval(days=1)),
        "value": subscription_mrr(subs).cast("float64"),
    }
    if data.currencies.converts and "currency" in subs.columns:
        cols["currency"] = subs.currency
    t = subs.select(**cols)
    active = t.last_raw.isnull() | (t.last_raw >= t.first_idx)
    return t.filter((t.value > 0) & _names_a_plan(t.plan) & active)


def _paid_subscriptions(data: Data, day: dt.date) -> ir.Table:
    """:func:`_paid_rows` of the subscriptions started on or before ``day``, with ``last_idx``:
    the last month index they are active in, capped at ``day``'s month."""
    eng = engine_for(data)
    a = month_index_of(day)
    subs = eng.data.table("subscriptions")
    t = _paid_rows(eng, subs.filter(subs.start_date <= day))  # data after as_of is ignored
    cap = ibis.literal(a)
    return t.mutate(last_idx=ibis.least(ibis.coalesce(t.last_raw, cap), cap)).drop("last_raw")


def _paid_mrr_rows(m: ir.Table) -> ir.Table:
    """``customer_id, month_idx, plan`` of the rows of a given mrr table with mrr > 0 naming a
    plan."""
    rows = m.filter((m.mrr > 0) & _names_a_plan(m.plan.cast("string")))
    return rows.select(
        "customer_id", month_idx=month_index(rows.month), plan=rows.plan.cast("string")
    )


def _valued_at(data: Data, t: ir.Table, month_col: str) -> ir.Table:
    """``t`` with ``value`` in the base currency at the rate of month ``month_col`` (docs/metrics.md
    "Currencies"), so subscriptions in different currencies compare; as it is in one currency."""
    eng = engine_for(data)
    data = eng.data
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


def plans_expr(data: Data, as_of: Any) -> ir.Table:
    """``customer_id, current_plan, first_plan`` of every customer with a paid plan up to as_of.

    docs/metrics.md "Current and first plan".  Customers without any paid row naming a plan are
    absent (a left join gives them null, a segment of its own).  Not restricted to the
    population: :func:`segwork.metrics.attributes.customer_attributes` joins it to it.  Materialised
    once per as_of in the engine (:meth:`segwork.Engine.table`), or, on a page that built
    :func:`plan_history` ahead, a filter of its runs.

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
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    source = require_plans(eng, "current_plan / first_plan")
    if PlanHistory() in eng.table_keys():  # built ahead by a page: a filter of its runs,
        runs = plan_history(eng)  # planned into each query (no copy per date)
        on = (runs.since <= day) & (runs.until.isnull() | (runs.until > day))
        return runs.filter(on).select("customer_id", "current_plan", "first_plan")
    return eng.table(CustomerPlans(day), lambda: _plans(eng, day, source))


def _plans(data: Data, day: dt.date, source: str) -> ir.Table:
    eng = engine_for(data)
    data = eng.data
    if source == "mrr":
        m = data.table("mrr")
        rows = _paid_mrr_rows(m)
        rows = rows.filter(rows.month_idx <= month_index_of(day))
        current = _first_row(rows, ["customer_id"], [_desc(rows.month_idx)])
        first = _first_row(rows, ["customer_id"], [rows.month_idx])
    else:
        paid = _paid_subscriptions(eng, day)
        at_last = _valued_at(eng, paid, "last_idx")
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
        at_first = _valued_at(eng, paid, "first_idx")
        first = _first_row(
            at_first,
            ["customer_id"],
            [at_first.start_date, _desc(at_first.value), at_first.plan],
        )
    cur = current.select("customer_id", current_plan=current.plan)
    fst = first.select("customer_id", first_plan=first.plan)
    return cur.join(fst, "customer_id").select("customer_id", "current_plan", "first_plan")


def _history_applies(eng: Any) -> bool:
    """Plans from subscriptions in one currency, on a page's engine (one that serves dates)."""
    data = eng.data
    subs = data.table("subscriptions")
    one_currency = not (data.currencies.converts and "currency" in subs.columns)
    return bool(eng.reuse_across_dates) and plan_source(eng) == "subscriptions" and one_currency


def prepare_plans(data: Data) -> None:
    """Build ahead, on a page's engine, what any date's plans read (:func:`plan_history`), so a
    new as_of filters its runs instead of ranking every subscription again; nothing where the
    history does not apply (plans from a given ``mrr``, several currencies, a one-off call)."""
    eng = engine_for(data)
    if _history_applies(eng):
        plan_history(eng)


def plan_history(data: Data) -> ir.Table:
    """``customer_id, since, until, current_plan, first_plan``: each customer's plans of
    :func:`plans_expr` on every day from its first paid subscription on, as runs of days
    ``since <= day < until`` (``until`` null: every day after).  Kept by the engine.

    docs/metrics.md "Current and first plan".  A customer's current plan at a date depends on
    the subscriptions started by then and, through "capped at as_of's month", on which of them
    are still active in that month.  So it changes only on a start date or on the first day of
    the month after a subscription's last active month: the plan is ranked at those days
    exactly as :func:`plans_expr` ranks it (the same order, with each day's month as the cap),
    and holds until the next.  The first plan never changes once there is one.  Subscriptions
    in one currency only (in several, each month's rates rank them: no runs).  Tested equal to
    the definition at every kind of day (tests/metrics/test_plans.py).
    """
    eng = engine_for(data)
    return eng.table(PlanHistory(), lambda: _plan_runs(eng))


def _plan_runs(eng: Any) -> ir.Table:
    paid = _paid_rows(eng, eng.data.table("subscriptions"))
    starts = paid.select("customer_id", day=paid.start_date)
    gone = paid.filter(paid.last_raw.notnull())  # the first day of the month after its last
    n = (gone.last_raw + 1).cast("int64")
    ends = gone.select("customer_id", day=ibis.date(n // 12, n % 12 + 1, 1))
    days = starts.union(ends, distinct=True)
    j = days.join(paid, [days.customer_id == paid.customer_id, paid.start_date <= days.day])
    cap = month_index(j.day)
    j = j.mutate(last_idx=ibis.least(ibis.coalesce(j.last_raw, cap), cap))
    order = [_desc(j.last_idx), _desc(j.value), _desc(j.start_date), j.plan]
    current = _first_row(j, ["customer_id", "day"], order)
    first = _first_row(paid, ["customer_id"], [paid.start_date, _desc(paid.value), paid.plan])
    fst = first.select("customer_id", first_plan=first.plan)
    # keep the days whose plan differs from the day before's, then each run ends at the next
    prev = current.plan.lag().over(group_by="customer_id", order_by="day")
    changed = current.mutate(_prev=prev)
    changed = changed.filter(changed._prev.isnull() | (changed._prev != changed.plan))
    nxt = changed.day.lead().over(group_by="customer_id", order_by="day")
    runs = changed.select("customer_id", since=changed.day, until=nxt, current_plan=changed.plan)
    return runs.join(fst, "customer_id").select(
        "customer_id", "since", "until", "current_plan", "first_plan"
    )


def customer_plans(data: Data, as_of: Any) -> pd.DataFrame:
    """Each customer's ``current_plan`` and ``first_plan`` at as_of.

    docs/metrics.md "Current and first plan" (the definition and tie-breaks are in
    :func:`plans_expr`).  Every customer of the population (signed up on or before as_of) is
    listed; one without a paid plan up to as_of (only trials, nothing yet) has nulls.

    Parameters
    ----------
    data : Dataset or Engine
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
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    plans = plans_expr(eng, day)
    pop = population(eng, day).select("customer_id")
    j = pop.left_join(plans, "customer_id")
    out = j.select(pop.customer_id, j.current_plan, j.first_plan).order_by("customer_id")
    frame = out.to_pandas()
    for col in PLAN_ATTRIBUTES:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame.reset_index(drop=True)


def plan_by_month_expr(data: Data, as_of: Any, first_idx: int) -> ir.Table:
    """``customer_id, month_idx, plan``: the plan in each month ``first_idx`` .. as_of's month
    in which it has a paid row naming a plan, of each customer that has two plans or more in
    those months (no other customer can move from one plan to another in them).

    docs/metrics.md "Plan moves".  From ``subscriptions``: the plan of the highest-MRR paid
    subscription active in the month (in the base currency at that month's rate), ties broken
    by latest start_date, then plan name (alphabetical, first wins).  From a given ``mrr`` table
    with ``plan``: the month's row's plan when its mrr > 0.  The customers with one plan are
    left out before each month's plan is picked: at 1M customers, most of them.
    """
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    a = month_index_of(day)
    source = require_plans(eng, "plan moves")
    if source == "mrr":
        m = data.table("mrr")
        rows = _paid_mrr_rows(m)
        rows = rows.filter((rows.month_idx >= first_idx) & (rows.month_idx <= a))
        return rows.semi_join(_with_two_plans(rows), "customer_id")
    paid = _paid_subscriptions(eng, day)
    paid = paid.filter((paid.last_idx >= first_idx) & (paid.first_idx <= a))
    paid = paid.semi_join(_with_two_plans(paid), "customer_id")
    cal = calendar(first_idx, a).select("month_idx")
    j = paid.join(cal, [cal.month_idx >= paid.first_idx, cal.month_idx <= paid.last_idx])
    j = _valued_at(eng, j, "month_idx")
    best = _first_row(
        j, ["customer_id", "month_idx"], [_desc(j.value), _desc(j.start_date), j.plan]
    )
    return best.select("customer_id", "month_idx", "plan")


def _with_two_plans(t: ir.Table) -> ir.Table:
    """``customer_id`` of the customers with two different plans or more among ``t``'s rows."""
    g = t.group_by("customer_id").aggregate(_lo=t.plan.min(), _hi=t.plan.max())
    return g.filter(g._lo != g._hi).select("customer_id")
