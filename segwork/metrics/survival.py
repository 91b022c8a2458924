"""Kaplan-Meier survival of customers: months to first churn (docs/metrics.md "Survival").

The durations are computed in the engine (gaps-and-islands over the monthly MRR table); only the
small table of counts per (segment, duration) comes to pandas, where the product over tenures and
the confidence interval are taken.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.dates import to_date
from segwork.engine import Data, engine_for
from segwork.metrics._common import Bins, Where
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.lifetimes import customer_durations, kaplan_meier, lifetime_counts
from segwork.metrics.stats import two_sided_z

__all__ = ["median_lifetime", "survival"]

_VALUE_COLUMNS = [
    "tenure",
    "n_at_risk",
    "n_events",
    "n_censored",
    "survival",
    "ci_low",
    "ci_high",
]


def survival(
    data: Data,
    as_of: Any,
    *,
    by: str | Sequence[str] | None = None,
    where: Where | None = None,
    bins: Bins | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Kaplan-Meier survival curve: months from first activity to first churn.

    Implements docs/metrics.md "Survival": with A the as-of month, s a customer's first month with
    MRR > 0 and T the number of consecutive active months from s (active in s .. s+T-1): an event at
    tenure T when s + T <= A, else censored at tenure A - s.  A comeback after the first run plays
    no part.  At risk n(t) = customers with duration >= t, events d(t) = events with duration t,
    censored c(t) = censored customers with duration t, S(t) = prod over j <= t of (1 - d(j)/n(j));
    S(0) = 1.

    Population: customers with ``signup_date <= as_of`` (docs/metrics.md "Conventions") that have at
    least one month with MRR > 0 up to as_of's month; customers never active by then have no first
    activity and are not in the survival population.

    Interval: the shared definitions leave the choice open (docs/metrics.md "Extensions to the
    definitions"); segwork uses the **log-log (exponential Greenwood) interval**, the default of
    lifelines' ``KaplanMeierFitter``: with V(t) = sum over j <= t of d(j) / (n(j) (n(j) - d(j))) (a
    term with n = d counts 0) and z the normal quantile, the bounds are
    ``exp(-exp(log(-log S) -/+ z sqrt(V) / log S))``.  Where S(t) = 1 the interval is 1..1, where
    S(t) = 0 it is 0..0 (as in lifelines).

    Parameters
    ----------
    data : Dataset or Engine
        Needs subscription data (an ``mrr`` table, or ``subscriptions`` to derive it).
    as_of : date-like
        The as-of date; its month is A.  Data after as_of is ignored.
    by : str or list of str, optional
        Segment columns (customer attributes or derived attributes, at as_of): one curve each.
    where : dict, optional
        Filter on customers, e.g. ``{"plan": ["pro"]}``.
    bins : dict, optional
        Bin edges for numeric ``by`` columns.
    confidence : float, default 0.95
        Two-sided confidence level of the interval, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        ``[*by], tenure, n_at_risk, n_events, n_censored, survival, ci_low, ci_high``: one row per
        tenure t = 0, 1, ... up to the largest duration observed in the segment, sorted by segment
        and tenure.  Counts are int64; row t = 0 has every customer at risk and survival 1.

    Raises
    ------
    ValueError
        The Dataset has no subscription data (survival needs MRR), ``confidence`` is out of
        range, a ``by``/``where`` column is unknown, or no customer was active by as_of.

    See Also
    --------
    median_lifetime : the median tenure of each curve.

    Examples
    --------
    Customer 1 is active Jan-Feb (churns at tenure 2), customer 2 Jan-Jun (still active in June:
    censored at 5), customer 3 only in March (churns at tenure 1).

    >>> import pandas as pd, segwork
    >>> from segwork.metrics.survival import survival
    >>> mrr = pd.DataFrame({"customer_id": [1, 1, 3] + [2] * 6,
    ...     "month": ["2024-01-01", "2024-02-01", "2024-03-01"]
    ...              + [f"2024-0{m}-01" for m in range(1, 7)],
    ...     "mrr": [10.0] * 9})
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3], "signup_date": ["2024-01-01"] * 3})
    >>> data = segwork.load({"customers": customers, "mrr": mrr})
    >>> survival(data, "2024-06-30")[["tenure", "n_at_risk", "n_events", "survival"]]
       tenure  n_at_risk  n_events  survival
    0       0          3         0  1.000000
    1       1          3         1  0.666667
    2       2          2         1  0.333333
    3       3          1         0  0.333333
    4       4          1         0  0.333333
    5       5          1         0  0.333333
    """
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if not data.has("mrr"):
        raise ValueError(
            "survival needs MRR (subscription data: an 'mrr' or 'subscriptions' table); this "
            f"Dataset has: {', '.join(data.names) or 'no tables'}.  For transaction data use "
            "cohort retention or RFM."
        )
    attrs, by_names = customer_attributes(eng, day, by, where=where, bins=bins)
    counts = _duration_counts(eng, day, attrs, by_names).to_pandas()
    if counts.empty:
        raise ValueError(
            f"no customer in the population had MRR > 0 by as_of={day}: there is no survival "
            "curve to estimate"
        )
    return _kaplan_meier(counts, by_names, confidence)


def _duration_counts(data: Data, day: dt.date, attrs: ir.Table, by_names: list[str]) -> ir.Table:
    """Engine expression: ``[*by], _duration, _d (events), _n (customers)`` per duration.

    Durations by the rule of docs/metrics.md "Survival", from the first unbroken run of active
    months (MRR > 0).
    """
    eng = engine_for(data)
    data = eng.data
    durations = customer_durations(eng, day)
    per_customer = durations.join(attrs.drop("signup_date"), "customer_id")
    return per_customer.group_by([*by_names, per_customer.duration.name("_duration")]).aggregate(
        _d=per_customer.event.sum(), _n=per_customer.count()
    )


def _kaplan_meier(counts: pd.DataFrame, by_names: list[str], confidence: float) -> pd.DataFrame:
    """Curves from counts ``[*by], _duration, _d (events), _n (customers)`` (small, in pandas):
    one :func:`~segwork.metrics.lifetimes.kaplan_meier` per segment, tenure 0 .. its largest
    duration."""
    frames = []
    groups = counts.groupby(by_names, dropna=False, sort=True) if by_names else [((), counts)]
    for key, seg in groups:
        d, c = lifetime_counts(seg["_duration"], seg["_d"], seg["_n"])
        km = kaplan_meier(d, c)
        low, high = _loglog_bounds(km.survival, km.greenwood, confidence)
        frame = pd.DataFrame(
            {
                "tenure": np.arange(len(d), dtype="int64"),
                "n_at_risk": km.n_at_risk.astype("int64"),
                "n_events": d.astype("int64"),
                "n_censored": c.astype("int64"),
                "survival": km.survival,
                "ci_low": low,
                "ci_high": high,
            }
        )
        values = key if isinstance(key, tuple) else (key,)
        for col, value in zip(by_names, values, strict=True):
            frame.insert(by_names.index(col), col, value)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)[[*by_names, *_VALUE_COLUMNS]]


def _loglog_bounds(
    surv: np.ndarray, cum_var: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Log-log (exponential Greenwood) bounds, exactly as lifelines' ``KaplanMeierFitter``."""
    z = two_sided_z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.log(surv)
        spread = z * np.sqrt(cum_var) / v
        low = np.exp(-np.exp(np.log(-v) - spread))
        high = np.exp(-np.exp(np.log(-v) + spread))
    # S = 1 gives 0/0 (NaN): the interval is 1..1 there (lifelines fills NaN with 1.0).
    return np.where(np.isnan(low), 1.0, low), np.where(np.isnan(high), 1.0, high)


def median_lifetime(surv_df: pd.DataFrame) -> pd.DataFrame:
    """Median tenure of each survival curve: the smallest t with S(t) <= 0.5.

    The usual Kaplan-Meier median (the same rule as lifelines' ``median_survival_time_``),
    applied to the output of :func:`survival` (docs/metrics.md "Survival").  Where a curve never
    falls to 0.5 the median is not reached and is NaN.

    Parameters
    ----------
    surv_df : pandas.DataFrame
        A :func:`survival` result; the columns before ``tenure`` are the segment columns.

    Returns
    -------
    pandas.DataFrame
        ``[*by], median_tenure`` (float64, NaN where not reached), one row per curve, sorted by
        segment.

    Examples
    --------
    >>> import pandas as pd
    >>> from segwork.metrics.survival import median_lifetime
    >>> curves = pd.DataFrame({"plan": ["a"] * 3 + ["b"] * 3, "tenure": [0, 1, 2] * 2,
    ...     "survival": [1.0, 0.6, 0.5, 1.0, 0.9, 0.8]})
    >>> median_lifetime(curves)
      plan  median_tenure
    0    a            2.0
    1    b            NaN
    """
    if "tenure" not in surv_df.columns or "survival" not in surv_df.columns:
        raise ValueError(
            "median_lifetime needs a survival() result with 'tenure' and 'survival' columns; got "
            f"columns {list(surv_df.columns)}"
        )
    by_names = list(surv_df.columns[: list(surv_df.columns).index("tenure")])
    reached = surv_df.assign(
        _t=surv_df["tenure"].where(surv_df["survival"] <= 0.5).astype("float64")
    )
    if by_names:
        out = reached.groupby(by_names, dropna=False, sort=True)["_t"].min().reset_index()
    else:
        out = pd.DataFrame({"_t": [reached["_t"].min()]})
    out = out.rename(columns={"_t": "median_tenure"})
    out["median_tenure"] = out["median_tenure"].astype("float64")
    return out[[*by_names, "median_tenure"]].reset_index(drop=True)
