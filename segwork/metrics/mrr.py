"""Monthly MRR and MRR movements (docs/metrics.md "MRR", "MRR movements")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.dates import to_date
from segwork.data.derive import month_index_of, month_start_of
from segwork.data.fx import to_base
from segwork.engine import Data, Engine, engine_for
from segwork.metrics._common import Bins, Where, population
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.mrr_history import (
    history_applies,
    movement_history,
    movement_rows,
    movements_at,
)
from segwork.metrics.stats import safe_ratio

__all__ = ["MOVEMENTS", "monthly_mrr", "mrr_movements"]

#: The MRR movement categories, in bridge order.
MOVEMENTS: tuple[str, ...] = ("new", "reactivation", "expansion", "contraction", "churn")

_COLUMNS = [
    "month",
    "mrr_start",
    *MOVEMENTS,
    "fx_adjustment",
    "mrr_end",
    "customers_start",
    "customers_end",
    "quick_ratio",
    "gross_mrr_churn",
    "net_mrr_churn",
]


def _population_mrr(
    data: Data,
    as_of: Any,
    by: str | Sequence[str] | None = None,
    where: Where | None = None,
    bins: Bins | None = None,
    *,
    next_at: bool = False,
) -> tuple[ir.Table, list[str]]:
    """Monthly MRR (months <= as_of, MRR > 0) of the population, with the ``by`` columns;
    ``next_at`` (data in several currencies): also each month's MRR at the next month's rates
    (:meth:`segwork.Engine.monthly_mrr_with_next`)."""
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    attrs, by_names = customer_attributes(eng, day, by, where=where, bins=bins)
    mrr = eng.monthly_mrr_with_next(day) if next_at else eng.monthly_mrr(day)
    joined = mrr.join(attrs.drop("signup_date"), "customer_id")
    extra = ["next_at"] if next_at else []
    return joined.select("customer_id", "month_idx", "month", "mrr", *extra, *by_names), by_names


def monthly_mrr(data: Data, as_of: Any) -> pd.DataFrame:
    """Each customer's MRR per month, for months up to as_of (only months with MRR > 0).

    docs/metrics.md "MRR": MRR of a subscription in a month is amount x quantity x (1 - discount)
    normalised to one month; a customer's MRR is the sum over its active subscriptions; active
    when start_date <= last day of m and (end_date empty or > first day of m).
    Population: customers with signup_date <= as_of.

    Parameters
    ----------
    data : Dataset or Engine
    as_of : date-like
        The last month included is as_of's month.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, month, mrr`` sorted by customer and month; ``month`` is the first day.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> data = segwork.load({
    ...     "customers": pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-10"]}),
    ...     "subscriptions": pd.DataFrame({"customer_id": [1], "start_date": ["2024-01-10"],
    ...         "end_date": ["2024-03-15"], "amount": [1200.0], "billing_interval": ["year"]})})
    >>> segwork.monthly_mrr(data, "2024-06-30")
       customer_id      month    mrr
    0            1 2024-01-01  100.0
    1            1 2024-02-01  100.0
    2            1 2024-03-01  100.0
    """
    eng = engine_for(data)
    data = eng.data
    t, _ = _population_mrr(eng, as_of)
    out = t.select("customer_id", "month", "mrr").order_by(["customer_id", "month"]).to_pandas()
    out["month"] = pd.to_datetime(out["month"])
    out["mrr"] = out["mrr"].astype("float64")
    return out


def mrr_movements(
    data: Data,
    as_of: Any,
    *,
    by: str | Sequence[str] | None = None,
    where: Where | None = None,
    bins: Bins | None = None,
) -> pd.DataFrame:
    """The monthly MRR bridge: new, reactivation, expansion, contraction and churn MRR.

    docs/metrics.md "MRR movements": for month m, per customer, from m-1 to m: new (0 -> > 0 in its
    first month with MRR), reactivation (0 -> > 0 later), expansion (up), contraction (down,
    still > 0), churn (> 0 -> 0);
    ``mrr_end = mrr_start + new + reactivation + expansion - contraction - churn +
    fx_adjustment`` in every row.  With amounts in several currencies (docs/metrics.md
    "Currencies") each movement of month m is valued at m's rates (a churn is last month's MRR at
    this month's rate) and ``fx_adjustment`` is the change of the start MRR's value from last
    month's rates to this month's, so a price that did not change is no expansion or
    contraction; in one currency it is 0.
    Rates: ``quick_ratio`` = (new + reactivation + expansion) / (churn + contraction)
    (docs/metrics.md "Quick ratio"); ``gross_mrr_churn`` = (churn + contraction) / mrr_start
    (docs/metrics.md "Gross MRR churn"); ``net_mrr_churn`` = (churn + contraction - expansion -
    reactivation) / mrr_start (ChartMogul's standard formula, a segwork extension also in
    docs/metrics.md "Gross MRR churn").  A zero denominator gives NaN.

    Parameters
    ----------
    data : Dataset or Engine
    as_of : date-like
        Last month of the bridge (its month may be partial: the data up to as_of).
    by : str or list of str, optional
        Segment columns (any customer attribute or derived attribute): one bridge per segment,
        the segment being the customer's attribute at as_of.
    where : dict, optional
        Filter on customers, e.g. ``{"plan": ["pro"]}``.
    bins : dict, optional
        Bin edges for numeric ``by`` columns.

    Returns
    -------
    pandas.DataFrame
        One row per month (and segment), from the first month with MRR to as_of's month:
        ``[*by], month, mrr_start, new, reactivation, expansion, contraction, churn,
        fx_adjustment, mrr_end,
        customers_start, customers_end, quick_ratio, gross_mrr_churn, net_mrr_churn``.

    Examples
    --------
    The ChartMogul example: $100 at the start, $10 churn, $10 contraction, $10 expansion.

    >>> import pandas as pd, segwork
    >>> mrr = pd.DataFrame({"customer_id": [1, 2, 3, 4, 1, 3, 4],
    ...     "month": ["2024-01-01"] * 4 + ["2024-02-01"] * 3,
    ...     "mrr": [10.0, 10.0, 40.0, 40.0, 20.0, 30.0, 40.0]})
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3, 4], "signup_date": ["2024-01-01"] * 4})
    >>> data = segwork.load({"customers": customers, "mrr": mrr})
    >>> m = segwork.mrr_movements(data, "2024-02-29").iloc[-1]
    >>> float(m.gross_mrr_churn), float(m.net_mrr_churn)
    (0.2, 0.1)
    """
    eng = engine_for(data)
    data = eng.data
    split = bool(by) or bool(where) or bool(bins)
    if history_applies(eng, split=split, converts=data.currencies.converts):
        # a page: every as_of's bridge from one table (tested equal to the definition)
        day = to_date(as_of)
        population(eng, day)  # as_of before every signup: the definition's error
        bridge = movements_at(movement_history(eng), day)
        if bridge is None:
            raise ValueError(f"no customer has MRR > 0 on or before as_of={day}")
        return _finish(bridge, [])
    # the faster path in several currencies reads each month also at the next month's rates
    fx_window = eng.fast_paths and data.currencies.converts
    t, by_names = _population_mrr(eng, as_of, by, where, bins, next_at=fx_window)
    last_idx = month_index_of(to_date(as_of))
    if eng.fast_paths:  # tested equal to the definition
        agg = movement_sums_window(t, by_names, last_idx)
    else:
        agg = _movement_sums(eng, t, by_names, to_date(as_of), last_idx)
    # one query: the bridge's first month and its segments are read from the sums (every
    # month with MRR has a row of its segment), not from t again
    sums = agg.to_pandas()
    if sums.empty:
        raise ValueError(f"no customer has MRR > 0 on or before as_of={to_date(as_of)}")
    out = _on_calendar(sums, by_names, last_idx)
    return _finish(out, by_names)


def _on_calendar(sums: pd.DataFrame, by_names: list[str], last_idx: int) -> pd.DataFrame:
    """The bridge's rows from the per-month (and segment) ``sums``: every month from the first
    with MRR to ``last_idx`` for every segment, a month without a row left empty (0 after
    :func:`_finish`), ordered by segment and month.  A null segment value is a segment of its
    own (pandas matches null keys with null keys)."""
    idx = np.arange(int(sums["month_idx"].min()), last_idx + 1)
    months = np.array([month_start_of(int(i)) for i in idx], "datetime64[D]")
    grid = pd.DataFrame({"month_idx": idx, "month": months})
    if by_names:
        grid = sums[by_names].drop_duplicates().merge(grid, how="cross")
    out = grid.merge(sums, on=["month_idx", *by_names], how="left")
    out = out.sort_values([*by_names, "month_idx"], kind="stable")
    return out[["month", *by_names, *_COLUMNS[1:11]]]


def _movement_sums(
    eng: Engine, t: ir.Table, by_names: list[str], day: dt.date, last_idx: int
) -> ir.Table:
    """The definition: per month (and segment), the movements summed over every customer-month
    of the full outer join of each month's MRR with the previous month's (docs/metrics.md "MRR
    movements"); ``t`` is :func:`_population_mrr`'s table."""
    data = eng.data
    keys = ["customer_id", "month_idx"]
    prev = t.select("customer_id", *by_names, month_idx=t.month_idx + 1, prev_mrr=t.mrr)
    cur = t.select("customer_id", *by_names, "month_idx", cur_mrr=t.mrr)
    both = cur.outer_join(prev, keys)
    both = both.select(
        customer_id=ibis.coalesce(both.customer_id, both.customer_id_right),
        month_idx=ibis.coalesce(both.month_idx, both.month_idx_right),
        **{b: ibis.coalesce(both[b], both[f"{b}_right"]) for b in by_names},
        cur=both.cur_mrr.fill_null(0.0),
        prev=both.prev_mrr.fill_null(0.0),
    )
    both = both.filter(both.month_idx <= last_idx)
    first = t.group_by("customer_id").aggregate(first_idx=t.month_idx.min())
    both = both.join(first, "customer_id")
    if data.currencies.converts:
        # last month's MRR at this month's rates: a change of rate is not a customer's movement
        at_new = _previous_at_new_rates(eng, day, last_idx)
        both = both.left_join(at_new, keys).drop("customer_id_right", "month_idx_right")
        both = both.mutate(prev_at=both.prev_at.fill_null(0.0))
    else:
        both = both.mutate(prev_at=both.prev)
    up, down = both.cur - both.prev_at, both.prev_at - both.cur
    starts = (both.prev == 0) & (both.cur > 0)
    zero = ibis.literal(0.0)
    flows = both.mutate(
        new=ibis.ifelse(starts & (both.month_idx == both.first_idx), both.cur, zero),
        reactivation=ibis.ifelse(starts & (both.month_idx > both.first_idx), both.cur, zero),
        expansion=ibis.ifelse((both.prev > 0) & (up > 0), up, zero),
        contraction=ibis.ifelse((both.cur > 0) & (down > 0), down, zero),
        churn=ibis.ifelse((both.prev > 0) & (both.cur == 0), both.prev_at, zero),
        fx_adjustment=both.prev_at - both.prev,
    )
    agg = flows.group_by(["month_idx", *by_names]).aggregate(
        mrr_start=flows.prev.sum(),
        **{m: flows[m].sum() for m in (*MOVEMENTS, "fx_adjustment")},
        mrr_end=flows.cur.sum(),
        customers_start=(flows.prev > 0).cast("int64").sum(),
        customers_end=(flows.cur > 0).cast("int64").sum(),
    )
    return agg


def movement_sums_window(t: ir.Table, by_names: list[str], last_idx: int) -> ir.Table:
    """:func:`_movement_sums` from one window over each customer's months: a month's row
    compares itself with the customer's previous active month (new, reactivation, expansion,
    contraction, the MRR kept) and the month after a last active month counts the churn, no
    outer join of all months with all months shifted.  In several currencies ``t`` also has
    ``next_at`` (:func:`segwork.data.monthly.in_base_with_next`; see
    :func:`segwork.metrics.mrr_history.movement_rows`).
    Chosen by the engine (:attr:`segwork.Engine.fast_paths`); tested equal to the definition
    (tests/metrics/test_mrr.py)."""
    r, flows, gone = movement_rows(t)
    fx = "kept_fx" in flows  # several currencies: t has each month's MRR at the next's rates
    cur = r.group_by(["month_idx", *by_names]).aggregate(
        **{m: flows[m].sum() for m in ("new", "reactivation", "expansion", "contraction")},
        _kept_start=flows["kept_start"].sum(),
        _kept_fx=flows["kept_fx"].sum() if fx else ibis.literal(0.0),
        _kept_n=flows["kept_n"].sum(),
        mrr_end=r.mrr.sum(),
        customers_end=r.month_idx.count().cast("int64"),
    )
    ends = r.filter(gone & (r.month_idx + 1 <= last_idx))
    gone_n = ends.group_by([(ends.month_idx + 1).name("month_idx"), *by_names]).aggregate(
        # a churn is the last month's MRR at the churn month's rates
        churn=(ends.next_at if fx else ends.mrr).sum(),
        _gone_start=ends.mrr.sum(),
        _churn_n=ends.count().cast("int64"),
    )
    keys = ["month_idx", *by_names]
    both = cur.outer_join(gone_n, [cur[k].identical_to(gone_n[k]) for k in keys])
    sums = (
        "new",
        "reactivation",
        "expansion",
        "contraction",
        "_kept_start",
        "_kept_fx",
        "mrr_end",
        "churn",
        "_gone_start",
    )
    filled = {c: both[c].fill_null(0.0) for c in sums}
    counts = {
        c: both[c].fill_null(0).cast("int64") for c in ("_kept_n", "customers_end", "_churn_n")
    }
    return both.select(
        **{k: ibis.coalesce(both[k], both[f"{k}_right"]) for k in keys},
        mrr_start=filled["_kept_start"] + (filled["_gone_start"] if fx else filled["churn"]),
        new=filled["new"],
        reactivation=filled["reactivation"],
        expansion=filled["expansion"],
        contraction=filled["contraction"],
        churn=filled["churn"],
        fx_adjustment=(
            filled["_kept_fx"] + filled["churn"] - filled["_gone_start"]
            if fx
            else ibis.literal(0.0)
        ),
        mrr_end=filled["mrr_end"],
        customers_start=counts["_kept_n"] + counts["_churn_n"],
        customers_end=counts["customers_end"],
    )


def _previous_at_new_rates(data: Data, day: Any, last_idx: int) -> ir.Table:
    """``customer_id, month_idx, prev_at``: each customer's MRR of month m - 1 valued at month
    m's rates (docs/metrics.md "MRR movements", currencies): sum over its currencies of
    x_{m-1} r_m."""
    eng = engine_for(data)
    data = eng.data
    native = eng.monthly_mrr_native(day)
    shifted = native.select(
        "customer_id", "currency", month_idx=native.month_idx + 1, mrr=native.mrr
    )
    valued = to_base(
        shifted.filter(shifted.month_idx <= last_idx),
        "mrr",
        data.table("fx"),
        data.currency,
        coded=True,
    )
    return valued.group_by(["customer_id", "month_idx"]).aggregate(prev_at=valued.mrr.sum())


def _finish(out: pd.DataFrame, by_names: list[str]) -> pd.DataFrame:
    money = ["mrr_start", *MOVEMENTS, "fx_adjustment", "mrr_end"]
    out[money] = out[money].astype("float64").fillna(0.0)
    for c in ("customers_start", "customers_end"):
        out[c] = out[c].fillna(0).astype("int64")
    out["month"] = pd.to_datetime(out["month"])
    gains = out["new"] + out["reactivation"] + out["expansion"]
    losses = out["churn"] + out["contraction"]
    out["quick_ratio"] = safe_ratio(gains, losses)
    out["gross_mrr_churn"] = safe_ratio(losses, out["mrr_start"])
    out["net_mrr_churn"] = safe_ratio(
        losses - out["expansion"] - out["reactivation"], out["mrr_start"]
    )
    out = out[[*by_names, *_COLUMNS]]
    return out.reset_index(drop=True).replace({np.inf: np.nan})
