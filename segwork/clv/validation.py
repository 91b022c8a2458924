"""Calibration/holdout validation of the BG/NBD model (docs/metrics.md "Predicted customer
value"): fit on the orders up to a calibration end, predict each customer's repeat purchases in
the holdout that follows, and compare with the purchase days they actually made.

The holdout counts run in the engine (one Ibis expression, :func:`holdout_expr`); only the
per-customer counts come out as pandas.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.clv.bg_nbd import BetaGeoFit, fit_bg_nbd
from segwork.clv.summary import clv_summary, period_days
from segwork.data.dataset import Dataset
from segwork.data.dates import to_date

__all__ = [
    "FREQUENCY_CAP",
    "CLVValidation",
    "check_holdout",
    "clv_validation",
    "holdout_expr",
    "validation_from_fit",
]

#: Calibration frequencies from this one up share the last bucket ("7+").
FREQUENCY_CAP = 7


@dataclass(frozen=True)
class CLVValidation:
    """Predicted against actual repeat purchases in a holdout, from :func:`clv_validation`.

    Attributes
    ----------
    by_frequency : pandas.DataFrame
        One row per calibration-frequency bucket that has customers, in order "0", "1", ...,
        "6", "7+": ``frequency`` (the bucket label, a string), ``customers``, ``actual`` (mean
        holdout purchase days), ``predicted`` (mean expected holdout purchases) and ``error``
        (predicted - actual).
    total : dict
        ``actual`` and ``predicted`` holdout purchases summed over the calibration customers,
        ``difference`` (predicted - actual) and ``relative_error`` (difference / actual; NaN
        when actual is 0).
    mae : float
        Mean absolute error per customer, mean of abs(predicted - actual).
    params : dict
        ``r, alpha, a, b`` of the BG/NBD model fitted on the calibration summary.
    calibration_end, as_of : datetime.date
        The holdout is (calibration_end, as_of].
    holdout_periods : float
        Length of the holdout in ``period`` units.
    period : str
        Time unit of the summary and of the holdout length.
    by_customer : pandas.DataFrame
        ``customer_id, frequency, actual, predicted`` of each calibration customer.
    fit : BetaGeoFit
        The calibration fit itself.
    """

    by_frequency: pd.DataFrame
    total: dict[str, float]
    mae: float
    params: dict[str, float]
    calibration_end: Any
    as_of: Any
    holdout_periods: float
    period: str
    by_customer: pd.DataFrame = field(repr=False)
    fit: BetaGeoFit = field(repr=False)


def holdout_expr(data: Dataset, calibration_end: Any, as_of: Any) -> ir.Table:
    """Purchase days in the holdout of each calibration customer, as an Ibis expression.

    Columns ``customer_id, holdout_purchases``: distinct order dates in (calibration_end,
    as_of] per customer who has an order dated on or before calibration_end.  Calibration
    customers with no holdout order have no row (their count is 0); customers whose first
    order is in the holdout are left out.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> from segwork.clv.validation import holdout_expr
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2], "order_id": ["a", "b", "c", "d"],
    ...     "date": ["2024-01-01", "2024-01-10", "2024-01-10", "2024-01-12"],
    ...     "amount": [5.0, 7.0, 1.0, 3.0]})
    >>> holdout_expr(segwork.load({"transactions": tx}), "2024-01-07", "2024-01-31").to_pandas()
       customer_id  holdout_purchases
    0            1                  1
    """
    start, end = to_date(calibration_end, "calibration_end"), to_date(as_of)
    tx = data.table("transactions", needed_for="the customer-value validation")
    calibration = tx.filter(tx.date <= start).select("customer_id").distinct()
    holdout = tx.filter((tx.date > start) & (tx.date <= end))
    counts = holdout.group_by("customer_id").aggregate(
        holdout_purchases=holdout.date.nunique().cast("int64")
    )
    return counts.semi_join(calibration, "customer_id").order_by("customer_id")


def _buckets(frequency: pd.Series) -> pd.Series:
    labels = [str(i) for i in range(FREQUENCY_CAP)] + [f"{FREQUENCY_CAP}+"]
    codes = frequency.clip(upper=FREQUENCY_CAP).astype("int64")
    return pd.Series(
        pd.Categorical.from_codes(codes.to_numpy(), categories=labels, ordered=True),
        index=frequency.index,
    )


def clv_validation(
    data: Dataset, calibration_end: Any, as_of: Any, *, period: str = "week"
) -> CLVValidation:
    """Fit BG/NBD up to ``calibration_end`` and check its holdout predictions against the data.

    The calibration summary (:func:`~segwork.clv.clv_summary` at calibration_end) is fitted
    with :func:`~segwork.clv.fit_bg_nbd`; each of its customers' expected repeat purchases in
    the holdout (calibration_end, as_of] (``expected_purchases(t, summary)``, t the holdout
    length in periods) is compared with the purchase days (distinct order dates) they made in
    the holdout.  Customers whose first order falls in the holdout are not in the comparison;
    orders after as_of are ignored.

    Parameters
    ----------
    data : Dataset
        As in :func:`~segwork.clv.clv_summary`.
    calibration_end : date-like
        Last day of the calibration period.
    as_of : date-like
        Last day of the holdout; after calibration_end.
    period : {"week", "day", "month"}
        Time unit of the summary and the model.

    Returns
    -------
    CLVValidation
        ``by_frequency`` (the calibration/holdout chart table), ``total``, ``mae``,
        ``params``, ``calibration_end``, ``as_of``, ``holdout_periods``.

    Raises
    ------
    ValueError
        calibration_end on or after as_of, no order dated on or before calibration_end, no
        ``transactions`` table, or an unknown period.
    CLVFitError
        The calibration fit does not converge (e.g. no repeat purchase by calibration_end).

    Examples
    --------
    >>> import segwork
    >>> from segwork.clv import clv_validation, simulate_bg_nbd
    >>> tx = simulate_bg_nbd(300, {"r": 1.0, "alpha": 5.0, "a": 1.0, "b": 3.0}, seed=1)
    >>> v = clv_validation(segwork.load({"transactions": tx}), "2024-10-01", "2024-12-31")
    >>> v.holdout_periods, list(v.by_frequency.columns)
    (13.0, ['frequency', 'customers', 'actual', 'predicted', 'error'])
    """
    start, end = check_holdout(data, calibration_end, as_of)
    summary = clv_summary(data, start, period=period)
    return validation_from_fit(data, summary, fit_bg_nbd(summary), start, end, period=period)


def check_holdout(data: Dataset, calibration_end: Any, as_of: Any) -> tuple[dt.date, dt.date]:
    """The calibration end and as_of of :func:`clv_validation` as dates, once checked: the
    calibration end before as_of, and an order dated on or before it.

    Raises
    ------
    ValueError
        calibration_end on or after as_of, no order dated on or before it, or no
        ``transactions`` table.
    """
    start, end = to_date(calibration_end, "calibration_end"), to_date(as_of)
    if start >= end:
        raise ValueError(
            f"calibration_end={start.isoformat()} must be before as_of={end.isoformat()}: the "
            "holdout (calibration_end, as_of] that the predictions are checked on is empty"
        )
    tx = data.table("transactions", needed_for="the customer-value validation")
    if int(tx.filter(tx.date <= start).count().to_pandas()) == 0:
        raise ValueError(
            f"no order is dated on or before calibration_end={start.isoformat()}: the "
            "calibration period needs customers to fit on (choose a later calibration_end)"
        )
    return start, end


def validation_from_fit(
    data: Dataset,
    summary: pd.DataFrame,
    fit: BetaGeoFit,
    calibration_end: dt.date,
    as_of: dt.date,
    *,
    period: str = "week",
) -> CLVValidation:
    """The comparison of :func:`clv_validation` from its calibration summary (at
    ``calibration_end``, in ``period``) and the BG/NBD fit of it: the holdout's purchase days
    are counted in ``data``."""
    start, end = calibration_end, as_of
    holdout_periods = (end - start).days / period_days(period)
    predicted = fit.expected_purchases(holdout_periods, summary)
    counts = holdout_expr(data, start, end).to_pandas()
    actual = (
        counts.set_index("customer_id")["holdout_purchases"]
        .reindex(summary["customer_id"], fill_value=0)
        .to_numpy(dtype="float64")
    )
    per = pd.DataFrame(
        {
            "customer_id": summary["customer_id"],
            "frequency": summary["frequency"],
            "actual": actual,
            "predicted": np.asarray(predicted, dtype="float64"),
        }
    )
    grouped = per.groupby(_buckets(per["frequency"]), observed=True, sort=True)
    by_frequency = pd.DataFrame(
        {
            "customers": grouped.size(),
            "actual": grouped["actual"].mean(),
            "predicted": grouped["predicted"].mean(),
        }
    )
    by_frequency["error"] = by_frequency["predicted"] - by_frequency["actual"]
    by_frequency.index = by_frequency.index.astype(str)
    by_frequency = by_frequency.rename_axis("frequency").reset_index()
    total_actual, total_predicted = float(actual.sum()), float(per["predicted"].sum())
    difference = total_predicted - total_actual
    return CLVValidation(
        by_frequency=by_frequency,
        total={
            "actual": total_actual,
            "predicted": total_predicted,
            "difference": difference,
            "relative_error": difference / total_actual if total_actual else float("nan"),
        },
        mae=float(np.abs(per["predicted"] - per["actual"]).mean()),
        params=dict(fit.params),
        calibration_end=start,
        as_of=end,
        holdout_periods=holdout_periods,
        period=period,
        by_customer=per,
        fit=fit,
    )
