"""Plan moves: from-plan x to-plan counts and their MRR, month by month (docs/metrics.md
"Plan moves").

Each customer's plan per month comes from :func:`segwork.metrics.plans.plan_by_month_expr`; the
population and ``where`` from :func:`segwork.metrics.attributes.customer_attributes`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.dates import to_date
from segwork.data.derive import month_index_of, month_start_of
from segwork.engine import Data, Engine, engine_for
from segwork.engine.keys import CacheKey
from segwork.metrics._common import Where
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.plans import plan_by_month_expr, require_plans

__all__ = ["DIRECTIONS", "PLAN_MOVE_COLUMNS", "plan_moves"]

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


@dataclass(frozen=True)
class PlanMonths(CacheKey):
    """The MRR and plan of each month ``first_idx`` .. as_of's of the customers with two plans."""

    as_of: dt.date
    first_idx: int


def _plan_months(eng: Engine, day: dt.date, first_idx: int) -> ir.Table:
    """``customer_id, month_idx, mrr, plan``: every month ``first_idx`` .. as_of's with MRR > 0
    and a plan, of the customers with two plans or more in those months
    (:func:`plan_by_month_expr`), kept by the engine per as_of and first month.

    Both sides of a move (months m - 1 and m) read it, and a page's ``where`` filters it: the
    plans are picked (a window over the subscriptions' months) and the MRR read once, not once
    per side and per filter."""

    def build() -> ir.Table:
        mrr = eng.monthly_mrr(day)
        mrr = mrr.filter(mrr.month_idx >= first_idx).select("customer_id", "month_idx", "mrr")
        plans = plan_by_month_expr(eng, day, first_idx)
        return mrr.join(plans, ["customer_id", "month_idx"]).select(
            "customer_id", "month_idx", "mrr", "plan"
        )

    return eng.table(PlanMonths(day, first_idx), build)


def _direction(change: pd.Series, scale: pd.Series) -> pd.Series:
    tol = _LATERAL_TOLERANCE * scale.clip(lower=1.0)
    out = np.where(change > tol, "upgrade", np.where(change < -tol, "downgrade", "lateral"))
    return pd.Series(out, index=change.index, dtype=object)


def plan_moves(
    data: Data, as_of: Any, *, months: int = 12, where: Where | None = None
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
    data : Dataset or Engine
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
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
        raise ValueError(f"months must be an integer >= 1, got {months!r}")
    months = int(months)
    require_plans(eng, "plan moves")
    a = month_index_of(day)
    lo = a - months  # month m - 1 of the first month m
    attrs, _ = customer_attributes(eng, day, None, where=where)
    monthly = _plan_months(eng, day, lo).semi_join(attrs.select("customer_id"), "customer_id")
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
