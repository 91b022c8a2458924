"""Customer lifetimes: each customer's first unbroken run of active periods, and whether it ended.

docs/metrics.md "Survival" (and "Retention projection", which uses the same lifetimes in weeks,
months, quarters or years): a customer's lifetime starts at its origin (its first active period,
or its signup period for ``cohort="signup"``) and lasts for its first unbroken run of active
periods (MRR > 0 in one of its months, or an order); it is an *event* (churn) when the run ended
before the as-of period, else it is censored at the as-of period.  One definition, used by
:func:`segwork.survival` and the retention projection, as is the Kaplan-Meier estimate over
them (:func:`kaplan_meier`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt

from segwork.engine import Data, engine_for
from segwork.engine.keys import CacheKey
from segwork.metrics._common import population
from segwork.metrics.periods import month_to_period, period_expr, period_of

__all__ = [
    "KaplanMeier",
    "customer_durations",
    "first_runs",
    "first_runs_fast",
    "kaplan_meier",
    "lifetime_counts",
]


@dataclass(frozen=True)
class Durations(CacheKey):
    """Each customer's observed duration and whether it ended, at ``as_of``."""

    as_of: dt.date
    period: str
    cohort: str


def customer_durations(
    data: Data, day: dt.date, period: str = "month", cohort: str = "first_active"
) -> ir.Table:
    """Engine table ``customer_id, o, duration, event``: every customer's lifetime at ``day``.

    ``o`` is the origin period index, ``duration`` the number of periods of the first unbroken
    run of activity from it (censored: periods from the origin to the as-of period), ``event`` 1
    when the run ended before the as-of period.  Customers signed up after ``day`` are left out.
    A customer-level fact (whatever the split or filter), cached in the engine per date, period
    and cohort.
    """
    eng = engine_for(data)
    data = eng.data
    return eng.table(
        Durations(day, period, cohort),
        lambda: _durations_expr(eng, day, period, cohort),
    )


def _durations_expr(data: Data, day: dt.date, period: str, cohort: str) -> ir.Table:
    eng = engine_for(data)
    data = eng.data
    a = period_of(day, period)
    if data.has("mrr"):
        mm = eng.monthly_mrr(day)
        act = mm.select("customer_id", p=month_to_period(mm.month_idx, period))
    else:
        tx = data.table("transactions", needed_for="retention projection")
        tx = tx.filter(tx.date <= day)
        act = tx.select("customer_id", p=period_expr(tx.date, period))
    if not (data.has("mrr") and period == "month"):
        act = act.distinct()  # monthly MRR has one row per customer and month already
    pop = population(eng, day)
    people = pop.select("customer_id", _o_signup=period_expr(pop.signup_date, period))
    j = act.join(people, "customer_id")
    if cohort == "signup":
        j = j.filter(j.p >= j._o_signup)
    per = first_runs_fast(j) if eng.fast_paths else first_runs(j)
    origin = per._o_signup if cohort == "signup" else per._s
    is_event = per._e < a
    return per.select(
        "customer_id",
        o=origin.cast("int64"),
        duration=ibis.ifelse(is_event, per._e - origin + 1, a - origin).cast("int64"),
        event=is_event.cast("int64"),
    )


def first_runs(j: ir.Table) -> ir.Table:
    """``customer_id, _o_signup, _s, _e``: each customer's first active period ``_s`` and the
    last period ``_e`` of its first unbroken run of active periods, from its rows ``j``
    (``customer_id, _o_signup, p``, one per active period).

    The definition: the run ends at the first period whose next active period is not the one
    after it (one LEAD window over each customer's periods, no gaps-and-islands numbering).
    """
    nxt = j.p.lead().over(ibis.window(group_by=j.customer_id, order_by=j.p))
    j = j.mutate(_ends=nxt.isnull() | (nxt != j.p + 1))
    return j.group_by(["customer_id", "_o_signup"]).aggregate(
        _s=j.p.min(), _e=j.p.min(where=j._ends)
    )


def first_runs_fast(j: ir.Table) -> ir.Table:
    """:func:`first_runs` with the window over the few customers that need it: a customer whose
    periods have no gap (as many periods as from its first to its last) has one run, ending at
    its last period; only the others' periods are ordered.  Chosen by the engine
    (:attr:`segwork.Engine.fast_paths`); tested equal to the definition
    (tests/metrics/test_lifetimes.py)."""
    per = j.group_by(["customer_id", "_o_signup"]).aggregate(
        _s=j.p.min(), _last=j.p.max(), _n=j.p.count()
    )
    unbroken = per._n == per._last - per._s + 1
    whole = per.filter(unbroken).select("customer_id", "_o_signup", "_s", _e=per._last)
    gaps = per.filter(~unbroken).select("customer_id")
    return whole.union(first_runs(j.semi_join(gaps, "customer_id")))


# -- the Kaplan-Meier estimate over lifetimes (docs/metrics.md "Survival") ---------------------
@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan-Meier estimate at durations t = 0 .. len - 1 (arrays of that length).

    Attributes
    ----------
    n_at_risk : numpy.ndarray
        n(t): lifetimes not ended nor censored before t.
    events, censored : numpy.ndarray
        d(t) lifetimes ending at t; c(t) censored at t.
    survival : numpy.ndarray
        S(t) = product over j <= t of (1 - d(j) / n(j)); NaN once nobody is at risk.
    greenwood : numpy.ndarray
        V(t) = sum over j <= t of d(j) / (n(j) (n(j) - d(j))) (terms with n(j) = d(j) are 0),
        the Greenwood sum of the intervals.
    """

    n_at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    survival: np.ndarray
    greenwood: np.ndarray


def kaplan_meier(events: npt.ArrayLike, censored: npt.ArrayLike) -> KaplanMeier:
    """The Kaplan-Meier estimate from events d(t) and censored c(t) at t = 0, 1, ...

    >>> km = kaplan_meier([0, 1, 1, 0], [0, 0, 0, 1])
    >>> km.n_at_risk.tolist(), km.survival.round(3).tolist()
    ([3.0, 3.0, 2.0, 1.0], [1.0, 0.667, 0.333, 0.333])
    """
    d = np.asarray(events, dtype="float64")
    c = np.asarray(censored, dtype="float64")
    removed = d + c
    n = removed.sum() - (np.cumsum(removed) - removed)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = 1.0 - d / n
        terms = np.where(n > d, d / (n * (n - d)), 0.0)
    return KaplanMeier(n, d, c, np.cumprod(factor), np.cumsum(terms))


def lifetime_counts(
    durations: npt.ArrayLike, events: npt.ArrayLike, customers: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """``(d, c)`` at t = 0 .. the largest duration: events and censored lifetimes per duration,
    from rows of ``durations`` with their ``events`` and ``customers`` (``events <= customers``).

    >>> d, c = lifetime_counts([1, 3, 1], [1, 0, 0], [2, 1, 1])
    >>> d.tolist(), c.tolist()
    ([0.0, 1.0, 0.0, 0.0], [0.0, 2.0, 0.0, 1.0])
    """
    t = np.asarray(durations, dtype="int64")
    ev = np.asarray(events, dtype="float64")
    n = np.asarray(customers, dtype="float64")
    length = int(t.max()) + 1 if len(t) else 0
    d = np.zeros(length)
    c = np.zeros(length)
    np.add.at(d, t, ev)
    np.add.at(c, t, n - ev)
    return d, c
