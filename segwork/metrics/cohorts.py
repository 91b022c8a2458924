"""Cohort retention tables: logo, net and gross revenue retention (docs/metrics.md "Cohorts").

Everything up to the small (segment x cohort x age) table runs in the engine as Ibis expressions:
periods are integer indexes (months: ``year * 12 + month - 1``; quarters and years: that index
``// 3`` and ``// 12``; ISO weeks: days since a fixed Monday ``// 7``), ages are differences of
indexes, and the dense cohort x age grid is a join with a small in-memory table of ages, so cells
without activity exist (with 0 active customers) while cells after as_of do not exist at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from segwork.data.dates import to_date
from segwork.data.derive import month_index_of, positions_in_runs
from segwork.engine import Data, Engine, engine_for
from segwork.engine.keys import CacheKey
from segwork.metrics._common import Bins, Where, cache_key
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.page_months import active_months, bit_count, page_months_serve
from segwork.metrics.periods import (
    MONTHS_PER_PERIOD,
    PERIODS,
    check_choice,
    month_to_period,
    period_expr,
    period_of,
    period_starts,
)
from segwork.metrics.stats import safe_ratio

__all__ = [
    "COHORT_BASES",
    "METRICS",
    "PERIODS",
    "cohort_matrix",
    "cohort_retention",
    "prepare_period_tables",
]


@dataclass(frozen=True)
class _ByPeriodUpTo(CacheKey):
    """A per-customer, per-``period`` table up to ``as_of`` (the keys below are of this form)."""

    as_of: dt.date
    period: str


@dataclass(frozen=True)
class CohortActivity(_ByPeriodUpTo):
    """Each customer's revenue per period up to ``as_of`` (subscriptions)."""


@dataclass(frozen=True)
class ActivityAll(CacheKey):
    """Each customer's activity per period of all time (a given ``mrr``)."""

    period: str


@dataclass(frozen=True)
class ActivityCurrent(CacheKey):
    """Each customer's activity in as_of's (partial) period, as_of's month ``month_idx``."""

    month_idx: int
    period: str


@dataclass(frozen=True)
class FirstActiveMonth(CacheKey):
    """Each customer's first month with MRR of all time (a given ``mrr``)."""


@dataclass(frozen=True)
class CohortOf(_ByPeriodUpTo):
    """Each customer's first period of activity up to ``as_of``."""


@dataclass(frozen=True)
class CohortCells(CacheKey):
    """The cohort x age cells of a cohort table (logo and NRR read the same ones)."""

    as_of: dt.date
    period: str
    cohort: str
    by: tuple[str, ...]
    where: str
    bins: str
    capped: bool


#: Allowed ``metric`` values.
METRICS: tuple[str, ...] = ("logo", "nrr", "grr")
#: Allowed ``cohort`` values.
COHORT_BASES: tuple[str, ...] = ("first_active", "signup")


_LOGO_COLUMNS = ["cohort", "age", "cohort_customers", "active_customers", "retention"]
#: Names used inside the computation; a ``by`` column may not take them.
_RESERVED = frozenset(
    [
        *_LOGO_COLUMNS,
        *METRICS,
        "mrr_base",
        "mrr_at_age",
        "customer_id",
        "p",
        "cohort_p",
        "revenue",
        "base",
    ]
)


def _revenue_columns(metric: str) -> list[str]:
    return ["cohort", "age", "mrr_base", "mrr_at_age", metric]


# -- activity per customer and period --------------------------------------------------------------
def _subscription_activity(data: Data, day: dt.date, period: str) -> ir.Table:
    """``customer_id, p, revenue``: periods with MRR > 0 in some month, and month-end MRR."""
    eng = engine_for(data)
    data = eng.data
    a_month = month_index_of(day)
    k = MONTHS_PER_PERIOD[period]
    if k > 1 and eng.serves_every_date:
        return _given_activity(eng, a_month, period)
    mm = eng.monthly_mrr(day)
    if k == 1:  # one row per customer and month already: the month's MRR is the revenue
        return mm.select("customer_id", p=mm.month_idx.cast("int64"), revenue=mm.mrr)
    p = month_to_period(mm.month_idx, period)
    # the period's last month, or as_of's month for the current (partial) period
    end_month = ibis.least(p * k + (k - 1), ibis.literal(a_month))
    per = mm.select(
        "customer_id",
        p=p,
        end_mrr=ibis.ifelse(mm.month_idx == end_month, mm.mrr, ibis.literal(0.0)),
    )
    return eng.table(  # a change of split or filter on the page reuses it
        CohortActivity(day, period),
        lambda: per.group_by(["customer_id", "p"]).aggregate(
            revenue=per.end_mrr.sum().cast("float64")
        ),
    )


def _activity_all(data: Data, period: str) -> ir.Table:
    """``customer_id, p, first_m, end_mrr``: every customer's activity per period of all time
    (a given ``mrr``), cached in the engine once per period; see :func:`_given_activity`.
    Years are summed from the quarters when those are kept (a quarter of the rows)."""
    eng = engine_for(data)
    data = eng.data
    k = MONTHS_PER_PERIOD[period]

    def build() -> ir.Table:
        quarters = ActivityAll("quarter")
        if period == "year" and quarters in eng.table_keys():
            # a year's quarters hold its rows: its first active month is their first, its
            # last month (December) is the last month of its fourth quarter
            q = _activity_all(eng, "quarter")
            y = q.select(
                "customer_id",
                "first_m",
                p=(q.p // 4).cast("int64"),
                end_mrr=ibis.ifelse(q.p % 4 == 3, q.end_mrr, ibis.literal(0.0)),
            )
            return y.group_by(["customer_id", "p"]).aggregate(
                first_m=y.first_m.min(), end_mrr=y.end_mrr.sum().cast("float64")
            )
        every = eng.monthly_mrr_all()
        p = month_to_period(every.month_idx, period)
        rows = every.select(
            "customer_id",
            "month_idx",
            p=p,
            end_mrr=ibis.ifelse(every.month_idx == p * k + (k - 1), every.mrr, ibis.literal(0.0)),
        )
        return rows.group_by(["customer_id", "p"]).aggregate(
            first_m=rows.month_idx.min(), end_mrr=rows.end_mrr.sum().cast("float64")
        )

    return eng.table(ActivityAll(period), build)


def _given_activity(data: Data, a_month: int, period: str) -> ir.Table:
    """:func:`_subscription_activity` of a given ``mrr`` table, from its periods of all time.

    Every customer's activity per period of all time (``first_m``: its first active month in
    the period; ``end_mrr``: MRR in the period's last month) is computed once for the period
    (:meth:`segwork.Engine.table`) and serves every as_of: the periods before as_of's are complete;
    in as_of's own (partial) period a customer is active when its first active month there is
    on or before as_of, and its revenue is the MRR in as_of's month.  The result is an
    expression (filters, one join with as_of's month), not a table per as_of: a new as_of reads
    the periods table again instead of copying its millions of rows.
    """
    eng = engine_for(data)
    data = eng.data
    k = MONTHS_PER_PERIOD[period]
    p_a = a_month // k
    allp = _activity_all(eng, period)
    past = allp.filter(allp.p < p_a).select("customer_id", "p", revenue=allp.end_mrr)
    cur = allp.filter((allp.p == p_a) & (allp.first_m <= a_month))
    if a_month == p_a * k + (k - 1):  # as_of's month ends its period
        return past.union(cur.select("customer_id", "p", revenue=cur.end_mrr))

    def current() -> ir.Table:  # as_of's period: one row per customer, cached per as_of
        every = eng.monthly_mrr_all()
        at_a = every.filter(every.month_idx == a_month).select("customer_id", mrr_a=every.mrr)
        j = cur.left_join(at_a, "customer_id")
        return j.select("customer_id", "p", revenue=j.mrr_a.fill_null(0.0).cast("float64"))

    return past.union(eng.table(ActivityCurrent(a_month, period), current))


def prepare_period_tables(data: Data, periods: Sequence[str] = ("quarter", "year")) -> list[str]:
    """Build now the engine tables a page's quarter / year cohorts will read, for every as_of.

    With a page's engine (:attr:`segwork.Engine.serves_every_date`, a given ``mrr``), the first
    cohort table at quarters or years builds each customer's activity per period of all time
    (0.8 s for quarters, 0.4 s for years at 1M customers on 2 cores, once per Dataset); a page
    calls this with its first render so that its first change of period is as quick as the
    others.  Does nothing for derived MRR or transactions (their activity is per as_of) or a
    one-off call's engine.  Returns the periods prepared.

    >>> import pandas as pd, segwork
    >>> data = segwork.load({"customers": pd.DataFrame({"customer_id": [1],
    ...     "signup_date": ["2024-01-05"]}), "mrr": pd.DataFrame({"customer_id": [1],
    ...     "month": ["2024-01-01"], "mrr": [10.0]})})
    >>> prepare_period_tables(data)
    []
    >>> prepare_period_tables(segwork.Engine(data, reuse_across_dates=True))
    ['quarter', 'year']
    """
    eng = engine_for(data)
    data = eng.data
    if not eng.serves_every_date:
        return []
    done = []
    for period in periods:
        check_choice("period", period, PERIODS)
        if MONTHS_PER_PERIOD.get(period, 1) > 1:
            _activity_all(eng, period)
            done.append(period)
    return done


def _first_active(data: Data, day: dt.date, period: str, act: ir.Table) -> ir.Table:
    """``customer_id, cohort_p``: each customer's first period of activity, cached in the engine.

    A customer-level fact whatever the split or filter, so a change of page reuses it.  With a
    given ``mrr`` table it does not depend on as_of either: the first active month of all time
    is the first one up to as_of whenever that is on or before as_of, and the cohort query joins
    it with the activity up to as_of (customers first active later have none), so one table
    serves every as_of and period (a period's first is the first month's period).
    """
    eng = engine_for(data)
    data = eng.data
    if data.has("mrr") and not data.mrr_derived:
        months = eng.table(FirstActiveMonth(), partial(_first_active_months, eng, day))
        return months.select("customer_id", cohort_p=month_to_period(months.first_idx, period))
    return eng.table(
        CohortOf(day, period),
        lambda: act.group_by("customer_id").aggregate(cohort_p=act.p.min()),
    )


def _first_active_months(eng: Engine, day: dt.date) -> ir.Table:
    """``customer_id, first_idx``: each customer's first month with MRR of all time (a given
    ``mrr``).  On a page whose key numbers keep every customer's active months as the bits of
    one integer (:func:`segwork.metrics.page_months.active_months`, built with its first render
    in any case), the lowest set bit, with no pass over the MRR rows; else one group-by of them.
    """
    got = active_months(eng, month_index_of(day)) if page_months_serve(eng) else None
    if got is not None:
        t = got.table
        # one term per operator: bitwise operators' precedence differs between SQL dialects
        lowest = t.months & (-t.months)  # the lowest set bit alone
        below = bit_count(lowest - 1)  # the bits under it: the first month's offset
        return t.select("customer_id", first_idx=(below + got.origin).cast("int64"))
    every = eng.monthly_mrr_all()
    return every.group_by("customer_id").aggregate(first_idx=every.month_idx.min())


def _transaction_activity(data: Data, day: dt.date, period: str) -> ir.Table:
    """``customer_id, p, revenue``: periods with >= 1 order dated <= as_of, and the order total."""
    eng = engine_for(data)
    data = eng.data
    tx = data.table("transactions", needed_for="cohort retention")
    tx = tx.filter(tx.date <= day)
    per = tx.select("customer_id", p=period_expr(tx.date, period), amount=tx.amount)
    return per.group_by(["customer_id", "p"]).aggregate(revenue=per.amount.sum().cast("float64"))


def check_activity_source(data: Data, period: str, what: str) -> str:
    """``"mrr"`` or ``"transactions"``: where activity comes from; a clear error if neither, or
    if ``period="week"`` is asked of monthly MRR data."""
    eng = engine_for(data)
    data = eng.data
    if data.has("mrr"):
        if period == "week":
            raise ValueError(
                "period='week' needs transactions data (orders); this Dataset's activity is MRR, "
                "which is monthly: use period='month', 'quarter' or 'year'"
            )
        return "mrr"
    if data.has("transactions"):
        return "transactions"
    raise ValueError(
        f"{what} needs subscription data (an 'mrr' or 'subscriptions' table) or a "
        f"'transactions' table; this Dataset has: {', '.join(data.names) or 'no tables'}"
    )


def cohort_retention(
    data: Data,
    as_of: Any,
    *,
    period: Literal["week", "month", "quarter", "year"] = "month",
    metric: Literal["logo", "nrr", "grr"] = "logo",
    cohort: Literal["first_active", "signup"] = "first_active",
    by: str | Sequence[str] | None = None,
    where: Where | None = None,
    bins: Bins | None = None,
) -> pd.DataFrame:
    """Cohort retention as a long table: one row per (segment, cohort, age) up to as_of.

    Implements docs/metrics.md "Cohorts", "Logo retention" and "Revenue retention":

    - A customer's **cohort** is a period (week / month / quarter / year).  With
      ``cohort="first_active"`` it is the period of its first activity: its first month with
      MRR > 0 (subscription data) or its first order (transaction data); customers with no
      activity up to as_of belong to no cohort.  With ``cohort="signup"`` it is the period of
      ``signup_date`` and holds every customer of the population, including those not (yet)
      active.  Activity in a period before the cohort period (possible with
      ``cohort="signup"``) is ignored: ages are >= 0.
    - **Age** k: complete periods since the cohort period, which is age 0.
    - **Logo retention** of cohort c at age k: the customers of c active in period c+k / the
      customers of c, activity being MRR > 0 (subscriptions) or at least one order in the period
      (transactions).  For quarters and years a customer is active in the period when its MRR is
      > 0 in at least one month of it.
    - **Revenue retention** of cohort c at age k: the revenue of c's customers in c+k / their
      revenue in c (``metric="nrr"``).  ``metric="grr"`` caps each customer's revenue in c+k at its
      own revenue in c (the GRR cap of docs/metrics.md "NRR and GRR").
      Revenue of a period: for subscription data the customer's MRR in the period's **last
      month** (month-end MRR; for the current, partial period the month of as_of), so for
      ``period="month"`` it is simply the month's MRR; for transaction data the sum of the
      period's order amounts.  With ``cohort="signup"`` a customer may have no revenue in its
      cohort period: the base counts only the revenue it had then (0), and with GRR its later
      revenue is capped at that 0.
    - Cells whose period starts after as_of do not exist (missing, not 0): such rows are absent.
      A cohort with no active customer at age k, where period c+k starts on or before as_of, has
      a row with 0 active customers (retention 0).  The current, partial period of as_of is
      included.

    Population: customers with ``signup_date <= as_of`` (docs/metrics.md "Conventions"); data
    dated after as_of is ignored.  A ratio with a zero denominator (NRR/GRR with no base revenue)
    is NaN.

    Parameters
    ----------
    data : Dataset or Engine
        Subscription data (``mrr`` or ``subscriptions``) or, without those, ``transactions``.
        When the Dataset has MRR, activity is MRR even if it also has transactions.
    as_of : date-like
        The as-of date (explicit; e.g. ``"2024-12-31"``).
    period : {"week", "month", "quarter", "year"}, default "month"
        Cohort and age period.  Weeks start on Monday (ISO) and need transaction data: MRR is
        monthly, so ``period="week"`` on subscription data raises.  Quarters are calendar
        quarters, years calendar years.
    metric : {"logo", "nrr", "grr"}, default "logo"
        Logo retention, net revenue retention or gross revenue retention.
    cohort : {"first_active", "signup"}, default "first_active"
        What defines a customer's cohort (see above).
    by : str or list of str, optional
        Segment columns (customer or derived attributes at as_of, via the shared segment
        machinery): one cohort table per segment; a null value is a segment of its own.
    where : dict, optional
        Filter on customers, e.g. ``{"plan": "pro"}`` or ``{"plan": ["pro", "enterprise"]}``.
    bins : dict, optional
        Bin edges for numeric ``by`` columns.

    Returns
    -------
    pandas.DataFrame
        ``metric="logo"``: ``[*by], cohort, age, cohort_customers, active_customers,
        retention``; ``metric="nrr"``/``"grr"``: ``[*by], cohort, age, mrr_base, mrr_at_age,
        nrr`` (or ``grr``; for GRR ``mrr_at_age`` is the capped revenue).  ``cohort`` is the first
        day of the cohort period (pandas ``datetime64[ns]``, normalised to midnight); ``age`` and
        the customer counts are int64, revenues and ratios float64.  Sorted by ``by``, cohort,
        age (null segment values last).

    Raises
    ------
    ValueError
        Unknown ``period``/``metric``/``cohort`` (the message lists the allowed values), unknown
        ``by``/``where`` column (lists the available ones), ``period="week"`` on subscription
        data, a Dataset without MRR or transactions, as_of before all data, or no customer with
        any activity up to as_of (``cohort="first_active"``).

    Examples
    --------
    Customer 1 pays from January to March, customer 2 from January to February.

    >>> import pandas as pd, segwork
    >>> customers = pd.DataFrame({"customer_id": [1, 2], "signup_date": ["2024-01-03"] * 2})
    >>> mrr = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2],
    ...     "month": ["2024-01-01", "2024-02-01", "2024-03-01", "2024-01-01", "2024-02-01"],
    ...     "mrr": [100.0, 100.0, 150.0, 50.0, 50.0]})
    >>> data = segwork.load({"customers": customers, "mrr": mrr})
    >>> cohort_retention(data, "2024-04-30")
          cohort  age  cohort_customers  active_customers  retention
    0 2024-01-01    0                 2                 2        1.0
    1 2024-01-01    1                 2                 2        1.0
    2 2024-01-01    2                 2                 1        0.5
    3 2024-01-01    3                 2                 0        0.0
    >>> cohort_retention(data, "2024-04-30", metric="nrr")[["age", "mrr_at_age", "nrr"]]
       age  mrr_at_age  nrr
    0    0       150.0  1.0
    1    1       150.0  1.0
    2    2       150.0  1.0
    3    3         0.0  0.0
    """
    eng = engine_for(data)
    data = eng.data
    check_choice("period", period, PERIODS)
    check_choice("metric", metric, METRICS)
    check_choice("cohort", cohort, COHORT_BASES)
    day = to_date(as_of)
    activity_of = (
        _subscription_activity
        if check_activity_source(eng, period, "cohort retention") == "mrr"
        else _transaction_activity
    )
    attrs, by_names = customer_attributes(eng, day, by, where=where, bins=bins)
    clash = [b for b in by_names if b in _RESERVED or b.startswith("c_")]
    if clash:
        raise ValueError(f"by={by_names} uses reserved column names {clash}; rename them first")

    a_idx = period_of(day, period)
    act = activity_of(eng, day, period)
    first = None
    if cohort == "first_active":
        first = _first_active(eng, day, period, act)
    capped = metric == "grr"
    # logo and NRR read the same cells (a page showing both runs the query once)
    key = CohortCells(
        day, period, cohort, tuple(by_names), cache_key(where), cache_key(bins), capped
    )
    cells = eng.frame(
        key, lambda: _cells(act, attrs, by_names, first, period, capped=capped).to_pandas()
    )
    full = _dense_grid(cells, by_names, cohort, a_idx)
    if full.empty:
        raise ValueError(
            f"no customer has any activity (MRR > 0 or an order) on or before as_of={day}; "
            "there is no cohort to show"
        )
    return _finish(full, by_names, period, metric)


def _cells(
    act: ir.Table,
    attrs: ir.Table,
    by_names: list[str],
    first: ir.Table | None,
    period: str,
    *,
    capped: bool = False,
) -> ir.Table:
    """ONE engine query: ``[*by], cohort_p, age, c_active, c_revenue, c_capped`` per cell.

    ``first`` (``customer_id, cohort_p``) gives the first-activity cohorts; None means signup
    cohorts, and then the cohort sizes (which include customers without activity) are added as
    rows with age -1.  For ``capped`` GRR revenue each customer's age-0 revenue is a window
    aggregate over its activity rows; ``c_capped`` is 0 unless ``capped``.
    """
    if first is not None:
        j = act.join(first, "customer_id").join(attrs, "customer_id")
    else:
        j = act.join(attrs, "customer_id")
        j = j.mutate(cohort_p=period_expr(j.signup_date, period))
    j = j.mutate(age=(j.p - j.cohort_p).cast("int64"))
    j = j.filter(j.age >= 0)  # activity before a signup cohort is ignored
    if capped:
        base = ibis.ifelse(j.age == 0, j.revenue, ibis.literal(0.0)).sum()
        j = j.mutate(capped=ibis.least(j.revenue, base.over(group_by=j.customer_id)))
    else:
        j = j.mutate(capped=ibis.literal(0.0, "float64"))
    keys = [*by_names, "cohort_p", "age"]
    cells = j.group_by(keys).aggregate(
        c_active=j.count(),
        c_revenue=j.revenue.sum().cast("float64"),
        c_capped=j.capped.sum().cast("float64"),
    )
    if first is None:  # signup cohorts
        sizes = attrs.select(*by_names, cohort_p=period_expr(attrs.signup_date, period))
        sizes = sizes.group_by([*by_names, "cohort_p"]).aggregate(c_active=sizes.count())
        sizes = sizes.mutate(
            age=ibis.literal(-1, "int64"),
            c_revenue=ibis.literal(0.0, "float64"),
            c_capped=ibis.literal(0.0, "float64"),
        )
        cells = cells.union(sizes.select(*cells.columns))
    return cells


def _dense_grid(cells: pd.DataFrame, by_names: list[str], cohort: str, a_idx: int) -> pd.DataFrame:
    """pandas, on the small cell table: every (segment, cohort, age) up to as_of, 0 when idle.

    Cohort size and base revenue come from the age-0 cells (``first_active``: every customer of
    the cohort is active at age 0) or from the age -1 size rows (``signup``).  Null segment values
    are a segment of their own (pandas merges null keys with null keys).
    """
    keys = [*by_names, "cohort_p"]
    cells = cells.astype({"cohort_p": "int64", "age": "int64"})
    age0 = cells[cells["age"] == 0]
    if cohort == "first_active":
        cohorts = age0[keys].assign(
            cohort_customers=age0["c_active"].to_numpy(), mrr_base=age0["c_revenue"].to_numpy()
        )
    else:
        sizes = cells[cells["age"] == -1]
        cohorts = sizes[keys].assign(cohort_customers=sizes["c_active"].to_numpy())
        base = age0[keys].assign(mrr_base=age0["c_revenue"].to_numpy())
        cohorts = cohorts.merge(base, on=keys, how="left")
        cells = cells[cells["age"] >= 0]
    n_ages = (a_idx - cohorts["cohort_p"].to_numpy() + 1).clip(min=0)
    grid = cohorts.loc[cohorts.index.repeat(n_ages)].reset_index(drop=True)
    grid["age"] = positions_in_runs(n_ages)  # ages 0 .. n-1 for each cohort row
    return grid.merge(cells, on=[*keys, "age"], how="left")


def _finish(out: pd.DataFrame, by_names: list[str], period: str, metric: str) -> pd.DataFrame:
    """pandas post-processing of the small (segment x cohort x age) table: types, ratios, order."""
    out = out.sort_values([*by_names, "cohort_p", "age"], na_position="last", kind="stable")
    out = out.reset_index(drop=True)
    res = out[by_names].copy()
    res["cohort"] = period_starts(out["cohort_p"], period)
    res["age"] = out["age"].astype("int64")
    if metric == "logo":
        counts = {"cohort_customers": "cohort_customers", "active_customers": "c_active"}
        for name, col in counts.items():
            res[name] = out[col].astype("float64").fillna(0.0).astype("int64")
        res["retention"] = safe_ratio(res["active_customers"], res["cohort_customers"])
        return res[[*by_names, *_LOGO_COLUMNS]]
    res["mrr_base"] = out["mrr_base"].astype("float64").fillna(0.0)
    at_age = out["c_revenue"] if metric == "nrr" else out["c_capped"]
    res["mrr_at_age"] = at_age.astype("float64").fillna(0.0)
    res[metric] = safe_ratio(res["mrr_at_age"], res["mrr_base"])
    return res[[*by_names, *_revenue_columns(metric)]]


def cohort_matrix(long: pd.DataFrame, value: str = "retention") -> pd.DataFrame:
    """Pivot a :func:`cohort_retention` table to the classic triangle: cohorts x ages.

    docs/metrics.md "Cohorts": cells after as_of do not exist and are drawn blank, never as 0:
    they are NaN here, as are cells absent from ``long``.

    Parameters
    ----------
    long : pandas.DataFrame
        The output of :func:`cohort_retention` (columns ``[*by], cohort, age, ...``; every column
        before ``cohort`` is a segment column).
    value : str, default "retention"
        The column to show, e.g. ``"retention"``, ``"active_customers"``, ``"nrr"``, ``"grr"``.

    Returns
    -------
    pandas.DataFrame
        Index ``cohort`` (a MultiIndex ``[*by, cohort]`` when there are segment columns),
        columns the ages ``0, 1, ...`` (named ``age``), values ``value``; missing cells NaN.

    Raises
    ------
    ValueError
        ``value`` (or ``cohort``/``age``) is not a column of ``long``; the message lists them.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({"cohort": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
    ...     "age": [0, 1, 0], "retention": [1.0, 0.5, 1.0]})
    >>> cohort_matrix(long)  # doctest: +NORMALIZE_WHITESPACE
    age           0    1
    cohort
    2024-01-01  1.0  0.5
    2024-02-01  1.0  NaN
    """
    columns = list(long.columns)
    for needed in ("cohort", "age"):
        if needed not in columns:
            raise ValueError(
                f"cohort_matrix needs a cohort_retention table with a {needed!r} column; "
                f"columns are: {', '.join(map(str, columns))}"
            )
    if value not in columns or value in ("cohort", "age"):
        raise ValueError(
            f"value={value!r} is not a value column of the table; columns are: "
            f"{', '.join(map(str, columns))}"
        )
    by_names = columns[: columns.index("cohort")]
    index = [*by_names, "cohort"]
    ages = sorted(int(a) for a in long["age"].unique())
    if long.empty:
        empty_index = (
            pd.MultiIndex.from_tuples([], names=index)
            if by_names
            else pd.Index([], name="cohort", dtype="datetime64[ns]")
        )
        return pd.DataFrame(index=empty_index, columns=pd.Index([], name="age"), dtype="float64")
    wide = long.set_index([*index, "age"])[value].unstack("age")
    wide = wide.reindex(columns=ages).sort_index(na_position="last")
    wide.columns = pd.Index(ages, name="age", dtype="int64")
    return wide
