"""Calibration/holdout validation of BG/NBD: planted truth, hand-worked holdout counts, refusals."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork.clv import (
    CLVFitError,
    CLVValidation,
    clv_summary,
    clv_validation,
    simulate_bg_nbd,
)
from segwork.clv.validation import holdout_expr

TRUTH = {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5}


@pytest.fixture(scope="module")
def planted() -> CLVValidation:
    tx = simulate_bg_nbd(3000, TRUTH, end="2025-06-30", seed=3)
    return clv_validation(segwork.load({"transactions": tx}), "2024-12-31", "2025-06-30")


def test_planted_truth_total_within_ten_percent(planted: CLVValidation) -> None:
    total = planted.total
    assert total["actual"] > 1000  # enough holdout purchases for a 10% check to mean something
    assert abs(total["relative_error"]) < 0.10, total
    assert total["difference"] == pytest.approx(total["predicted"] - total["actual"])
    assert total["relative_error"] == pytest.approx(total["difference"] / total["actual"])
    # the calibration fit is near the truth
    for name, value in TRUTH.items():
        assert planted.params[name] == pytest.approx(value, rel=0.35), name


def test_planted_truth_buckets_track_actuals(planted: CLVValidation) -> None:
    t = planted.by_frequency
    assert list(t.columns) == ["frequency", "customers", "actual", "predicted", "error"]
    assert list(t.frequency) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert t.customers.sum() == len(planted.by_customer) == planted.fit.n_customers
    assert np.allclose(t.error, t.predicted - t.actual)
    # frequent buyers in calibration buy more in the holdout, and the predictions say so
    assert t.actual.iloc[-1] > 3 * t.actual.iloc[0]
    assert t.predicted.iloc[-1] > 3 * t.predicted.iloc[0]
    # each bucket's prediction within 3 standard errors (+ 0.05) of its actual mean
    per = planted.by_customer
    bucket = per.frequency.clip(upper=7)
    se = (per.actual.groupby(bucket).std() / np.sqrt(per.actual.groupby(bucket).size())).to_numpy()
    assert (np.abs(t.error.to_numpy()) < 3 * se + 0.05).all(), (t, se)
    # bucket means are the per-customer values averaged
    seven = per[per.frequency >= 7]
    last = t.iloc[-1]
    assert last.customers == len(seven)
    assert last.actual == pytest.approx(seven.actual.mean())
    assert last.predicted == pytest.approx(seven.predicted.mean())
    assert planted.mae == pytest.approx((per.predicted - per.actual).abs().mean())
    assert planted.holdout_periods == pytest.approx(181 / 7)
    assert planted.calibration_end == dt.date(2024, 12, 31)
    assert planted.as_of == dt.date(2025, 6, 30)
    assert planted.period == "week"


# Hand-worked data: calibration to 2024-01-31, holdout (2024-01-31, 2024-02-29].
#  customer 1: calibration days 01-01, 01-15 (frequency 1); holdout orders on 02-05 twice (one
#              purchase day) and 02-20 -> 2; an order on 03-05 is after as_of (ignored).
#  customer 2: calibration days 01-03, 01-10, 01-20 (frequency 2); an order on 01-31 exactly
#              (calibration, not holdout); holdout 02-29 (as_of itself, included) -> 1.
#  customer 3: calibration day 01-05 (frequency 0), nothing later -> 0.
#  customer 4: first order 02-10, in the holdout: not a calibration customer.
HAND = pd.DataFrame(
    {
        "customer_id": [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 4, 4],
        "order_id": list("abcdefghijklmn"),
        "date": pd.to_datetime(
            [
                "2024-01-01", "2024-01-15", "2024-02-05", "2024-02-05", "2024-02-20",
                "2024-03-05", "2024-01-03", "2024-01-10", "2024-01-20", "2024-01-31",
                "2024-02-29", "2024-01-05", "2024-02-10", "2024-02-12",
            ]
        ),
        "amount": [10.0] * 14,
    }
)


def test_holdout_counts_by_hand() -> None:
    data = segwork.load({"transactions": HAND})
    counts = holdout_expr(data, "2024-01-31", "2024-02-29").to_pandas()
    assert counts.to_dict("list") == {"customer_id": [1, 2], "holdout_purchases": [2, 1]}


def test_validation_by_hand() -> None:
    v = clv_validation(segwork.load({"transactions": HAND}), "2024-01-31", "2024-02-29")
    per = v.by_customer
    assert per.customer_id.tolist() == [1, 2, 3]  # customer 4 starts in the holdout
    assert per.frequency.tolist() == [1, 3, 0]  # 01-31 is a calibration day of customer 2
    assert per.actual.tolist() == [2.0, 1.0, 0.0]
    assert v.total["actual"] == 3.0
    assert v.holdout_periods == pytest.approx(29 / 7)
    summary = clv_summary(segwork.load({"transactions": HAND}), "2024-01-31")
    assert np.allclose(per.predicted, v.fit.expected_purchases(29 / 7, summary))
    t = v.by_frequency
    assert t.frequency.tolist() == ["0", "1", "3"]  # only buckets that have customers
    assert t.customers.tolist() == [1, 1, 1]
    assert t.actual.tolist() == [0.0, 2.0, 1.0]


def test_day_period_holdout_length() -> None:
    v = clv_validation(
        segwork.load({"transactions": HAND}), "2024-01-31", "2024-02-29", period="day"
    )
    assert v.holdout_periods == 29.0 and v.period == "day"


def test_refusals() -> None:
    data = segwork.load({"transactions": HAND})
    with pytest.raises(ValueError, match="calibration_end=2024-02-29 must be before as_of"):
        clv_validation(data, "2024-02-29", "2024-02-29")
    with pytest.raises(ValueError, match="must be before as_of"):
        clv_validation(data, "2024-03-01", "2024-02-01")
    with pytest.raises(ValueError, match="no order is dated on or before calibration_end"):
        clv_validation(data, "2023-12-31", "2024-02-29")
    with pytest.raises(ValueError, match="period must be one of"):
        clv_validation(data, "2024-01-31", "2024-02-29", period="fortnight")
    with pytest.raises(ValueError, match="calibration_end"):
        clv_validation(data, None, "2024-02-29")
    # no repeat purchase by calibration_end: the fit says what to try
    with pytest.raises(CLVFitError, match="no customer has a repeat purchase"):
        clv_validation(data, "2024-01-09", "2024-02-29")
