"""Customer lifetimes: each customer's first unbroken run of active periods, and whether it ended.

docs/metrics.md "Survival" (and "Retention projection", which uses the same lifetimes in weeks,
months, quarters or years): a customer's lifetime starts at its origin (its first active period,
or its signup period for ``cohort="signup"``) and lasts for its first unbroken run of active
periods (MRR > 0 in one of its months, or an order); it is an *event* (churn) when the run ended
before the as-of period, else it is censored at the as-of period.  One definition, used by
:func:`segwork.survival` and the retention projection.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from segwork.data.dataset import Dataset
from segwork.metrics._common import population
from segwork.metrics.periods import month_to_period, period_expr, period_of

__all__ = ["customer_durations"]


def customer_durations(
    data: Dataset, day: dt.date, period: str = "month", cohort: str = "first_active"
) -> ir.Table:
    """Engine table ``customer_id, o, duration, event``: every customer's lifetime at ``day``.

    ``o`` is the origin period index, ``duration`` the number of periods of the first unbroken
    run of activity from it (censored: periods from the origin to the as-of period), ``event`` 1
    when the run ended before the as-of period.  Customers signed up after ``day`` are left out.
    A customer-level fact (whatever the split or filter), cached in the engine per date, period
    and cohort.
    """
    return data.cached(
        ("durations", day, period, cohort),
        lambda: _durations_expr(data, day, period, cohort),
    )


def _durations_expr(data: Dataset, day: dt.date, period: str, cohort: str) -> ir.Table:
    a = period_of(day, period)
    if data.has("mrr"):
        mm = data.monthly_mrr(day)
        act = mm.select("customer_id", p=month_to_period(mm.month_idx, period))
    else:
        tx = data.table("transactions", needed_for="retention projection")
        tx = tx.filter(tx.date <= day)
        act = tx.select("customer_id", p=period_expr(tx.date, period))
    act = act.distinct()
    pop = population(data, day)
    people = pop.select("customer_id", _o_signup=period_expr(pop.signup_date, period))
    j = act.join(people, "customer_id")
    if cohort == "signup":
        j = j.filter(j.p >= j._o_signup)
    # gaps and islands: p - row_number() is constant on an unbroken run of periods
    w = ibis.window(group_by=j.customer_id, order_by=j.p)
    j = j.mutate(_g=j.p - ibis.row_number().over(w))
    j = j.mutate(_g0=j._g.min().over(group_by=j.customer_id))
    run = j.filter(j._g == j._g0)
    per = run.group_by(["customer_id", "_o_signup"]).aggregate(_s=run.p.min(), _e=run.p.max())
    origin = per._o_signup if cohort == "signup" else per._s
    is_event = per._e < a
    return per.select(
        "customer_id",
        o=origin.cast("int64"),
        duration=ibis.ifelse(is_event, per._e - origin + 1, a - origin).cast("int64"),
        event=is_event.cast("int64"),
    )
