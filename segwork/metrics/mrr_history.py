"""The MRR bridge of every as_of from one table: a page's faster path for MRR movements.

:func:`segwork.metrics.mrr.mrr_movements` is the definition (docs/metrics.md "MRR movements").
For a page (an engine that serves every date, a given ``mrr`` table in one currency, no split
or filter), the movements of every month of all time are summed once per month and per the
signup date of the customers who signed up after that month began (:func:`movement_history`):
at any as_of, the bridge is then the months up to as_of's, of the customers signed up by
as_of, summed in pandas without a query (:func:`movements_at`).

Why every as_of can be read from it: a customer's movement in month m compares its months
m - 1 and m (and whether it had any earlier month), none of which depends on as_of when m is
as_of's month or earlier; as_of only drops the months after its own and the customers who
signed up after it.  A customer whose signup is on or before the first day of month m is in
the population of every as_of in or after m, so its rows need no signup date; only the others
keep theirs (about one per day of each month).  Tested equal to the definition at many dates
(tests/metrics/test_mrr_history.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.derive import month_index, month_index_of, month_start_of
from segwork.engine import Engine
from segwork.engine.keys import CacheKey

__all__ = [
    "MovementHistory",
    "history_applies",
    "movement_history",
    "movement_rows",
    "movements_at",
]

#: The sums kept per month (and later signup date), in :func:`movement_history`'s columns.
_SUMS = ("new", "reactivation", "expansion", "contraction", "kept_start", "mrr_end", "churn")
_COUNTS = ("kept_n", "customers_end", "churn_n")


@dataclass(frozen=True)
class MovementHistory(CacheKey):
    """Every month's MRR movements of a given ``mrr``, per later signup date."""


def history_applies(eng: Engine, *, split: bool, converts: bool) -> bool:
    """Whether :func:`mrr_movements` reads the history: a page's engine on a given ``mrr`` in
    one currency, without a split or filter (those are per as_of), faster paths on."""
    return eng.serves_every_date and eng.fast_paths and not split and not converts


def _later(signup: ir.DateValue, idx: ir.IntegerValue) -> ir.BooleanValue:
    """Whether ``signup`` is after the first day of month ``idx``."""
    s_idx = month_index(signup)
    return (s_idx > idx) | ((s_idx == idx) & (signup.day() > 1))


def movement_rows(t: ir.Table) -> tuple[ir.Table, dict[str, ir.Value], ir.BooleanValue]:
    """Each customer-month of ``t`` (``customer_id, month_idx, mrr``, MRR > 0) classified by one
    window over the customer's months, the rows of docs/metrics.md "MRR movements" in one
    currency: ``(r, flows, gone)``.

    ``r`` is ``t`` with the previous and next active months; ``flows`` the month's ``new``,
    ``reactivation``, ``expansion``, ``contraction``, ``kept_start`` (the previous month's MRR
    when it was the month before) and ``kept_n`` (1 then), as expressions on ``r``; ``gone`` is
    true on a last active month before a gap or the end, whose MRR is churned the month after.
    With a column ``next_at`` (each month's MRR at the next month's rates, data in several
    currencies), expansion and contraction compare with the previous month's ``next_at``, and
    ``kept_fx`` is its change of value (``next_at`` - MRR of the month before).
    Shared by :func:`segwork.metrics.mrr.movement_sums_window` and :func:`movement_history`.
    """
    w = ibis.window(group_by=t.customer_id, order_by=t.month_idx)
    fx = "next_at" in t.columns
    r = t.mutate(
        _pmi=t.month_idx.lag().over(w),
        _pmrr=t.mrr.lag().over(w),
        _nmi=t.month_idx.lead().over(w),
        **({"_pat": t.next_at.lag().over(w)} if fx else {}),
    )
    zero = ibis.literal(0.0)
    kept = r._pmi == r.month_idx - 1
    # several currencies: last month's MRR at this month's rates (docs/metrics.md "MRR movements")
    start_at = r._pat if fx else r._pmrr
    up, down = r.mrr - start_at, start_at - r.mrr
    flows: dict[str, ir.Value] = {
        "new": ibis.ifelse(r._pmi.isnull(), r.mrr, zero),
        "reactivation": ibis.ifelse(r._pmi < r.month_idx - 1, r.mrr, zero),
        "expansion": ibis.ifelse(kept & (up > 0), up, zero),
        "contraction": ibis.ifelse(kept & (down > 0), down, zero),
        "kept_start": ibis.ifelse(kept, r._pmrr, zero),
        "kept_n": kept.cast("int64"),
    }
    if fx:
        flows["kept_fx"] = ibis.ifelse(kept, r._pat - r._pmrr, zero)
    gone = r._nmi.isnull() | (r._nmi > r.month_idx + 1)  # no MRR the month after
    return r, flows, gone


def movement_history(eng: Engine) -> pd.DataFrame:
    """``month_idx, signup, new, reactivation, expansion, contraction, kept_start, mrr_end,
    churn, kept_n, customers_end, churn_n``: the movements of every month of all time.

    Each customer-month classified by :func:`movement_rows` (the window of
    :func:`segwork.metrics.mrr.movement_sums_window`), summed by month and by ``signup``: the
    customer's signup date where it is after the first day of the month (NaT otherwise; see
    the module docstring).  Customers without a signup date are in no population.  Kept in the
    engine (a few thousand rows at 1M customers).
    """

    def build() -> pd.DataFrame:
        every = eng.monthly_mrr_all()
        customers = eng.data.table("customers")
        signups = customers.filter(customers.signup_date.notnull()).select(
            "customer_id", _signup=customers.signup_date
        )
        t = every.join(signups, "customer_id")
        r, flows, gone = movement_rows(t)
        zero, none = ibis.literal(0.0), ibis.literal(0, "int64")
        rows = r.select(
            month_idx=r.month_idx,
            signup=ibis.ifelse(_later(r._signup, r.month_idx), r._signup, ibis.null("date")),
            **flows,
            mrr_end=r.mrr,
            churn=zero,
            customers_end=ibis.literal(1, "int64"),
            churn_n=none,
        ).select("month_idx", "signup", *_SUMS, *_COUNTS)
        ends = r.filter(gone)
        nxt = ends.month_idx + 1
        churns = ends.select(
            month_idx=nxt,
            signup=ibis.ifelse(_later(ends._signup, nxt), ends._signup, ibis.null("date")),
            **{c: zero for c in _SUMS if c != "churn"},
            churn=ends.mrr,
            **{c: none for c in _COUNTS if c != "churn_n"},
            churn_n=ibis.literal(1, "int64"),
        )
        both = rows.union(churns.select(*rows.columns))
        agg = both.group_by(["month_idx", "signup"]).aggregate(
            **{c: both[c].sum() for c in _SUMS},
            **{c: both[c].sum().cast("int64") for c in _COUNTS},
        )
        out = agg.to_pandas()
        for c in _SUMS:
            out[c] = out[c].astype("float64")
        for c in _COUNTS:
            out[c] = out[c].fillna(0).astype("int64")
        out["month_idx"] = out["month_idx"].astype("int64")
        out["signup"] = pd.to_datetime(out["signup"]).to_numpy(dtype="datetime64[D]")
        return out

    return eng.frame(MovementHistory(), build)


def movements_at(history: pd.DataFrame, as_of: dt.date) -> pd.DataFrame | None:
    """``month, mrr_start, new, reactivation, expansion, contraction, churn, fx_adjustment,
    mrr_end, customers_start, customers_end``: the bridge at ``as_of`` summed from
    :func:`movement_history` (one row per month from the population's first month with MRR to
    as_of's; None when nobody has MRR by then)."""
    last = month_index_of(as_of)
    signup = history["signup"].to_numpy()
    keep = (history["month_idx"].to_numpy() <= last) & ~(signup > np.datetime64(as_of, "D"))
    rows = history[keep]
    active = rows[rows["customers_end"] > 0]
    if active.empty:
        return None
    first = int(active["month_idx"].min())
    sums = rows.groupby("month_idx")[[*_SUMS, *_COUNTS]].sum()
    sums = sums.reindex(range(first, last + 1), fill_value=0)
    return pd.DataFrame(
        {
            "month": np.array([month_start_of(int(i)) for i in sums.index], "datetime64[D]"),
            "mrr_start": sums["kept_start"] + sums["churn"],
            **{m: sums[m] for m in ("new", "reactivation", "expansion", "contraction", "churn")},
            "fx_adjustment": 0.0,
            "mrr_end": sums["mrr_end"],
            "customers_start": sums["kept_n"] + sums["churn_n"],
            "customers_end": sums["customers_end"],
        }
    ).reset_index(drop=True)
