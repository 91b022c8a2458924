"""clv_summary on hand-worked cases (docs/metrics.md "Predicted customer value")."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import segwork
from segwork.clv import clv_summary

MONTH = 365.25 / 12


@pytest.fixture
def data() -> segwork.Dataset:
    # customer 1: 2024-01-01 order a (two lines 10 + 5) and order b (3) -> one purchase day of 18;
    #   2024-01-15 order c (20); 2024-01-29 order d (two lines 4 + 6 = 10); 2024-03-01 after as_of.
    # customer 2: one order on 2024-02-05.  customer 3: only an order after as_of.
    tx = pd.DataFrame(
        [
            (1, "a", "2024-01-01", 10.0),
            (1, "a", "2024-01-01", 5.0),
            (1, "b", "2024-01-01", 3.0),
            (1, "c", "2024-01-15", 20.0),
            (1, "d", "2024-01-29", 4.0),
            (1, "d", "2024-01-29", 6.0),
            (1, "e", "2024-03-01", 500.0),
            (2, "f", "2024-02-05", 7.0),
            (3, "g", "2024-03-01", 9.0),
        ],
        columns=["customer_id", "order_id", "date", "amount"],
    )
    return segwork.load({"transactions": tx})


def test_weeks(data: segwork.Dataset) -> None:
    s = clv_summary(data, "2024-02-12")
    assert list(s.columns) == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert s.customer_id.tolist() == [1, 2]  # customer 3 has no order by as_of
    one, two = s.iloc[0], s.iloc[1]
    # three purchase days: Jan 1 (orders a, b), Jan 15, Jan 29; Mar 1 is after as_of
    assert one.frequency == 2
    assert one.recency == pytest.approx(28 / 7)
    assert one["T"] == pytest.approx(42 / 7)
    # the first day (18) excluded: (20 + 10) / 2; the order after as_of (500) ignored
    assert one.monetary_value == pytest.approx(15.0)
    assert two.frequency == 0 and two.recency == 0.0
    assert two["T"] == pytest.approx(1.0)
    assert math.isnan(two.monetary_value)
    assert s.frequency.dtype == "int64"


def test_days_and_months(data: segwork.Dataset) -> None:
    days = clv_summary(data, "2024-02-12", period="day")
    assert days.recency.tolist() == [28.0, 0.0]
    assert days["T"].tolist() == [42.0, 7.0]
    months = clv_summary(data, "2024-02-12", period="month")
    assert months.recency.tolist() == pytest.approx([28 / MONTH, 0.0])
    assert months["T"].tolist() == pytest.approx([42 / MONTH, 7 / MONTH])
    assert months.frequency.tolist() == [2, 0]


def test_as_of_inclusive(data: segwork.Dataset) -> None:
    s = clv_summary(data, "2024-03-01")
    assert s.customer_id.tolist() == [1, 2, 3]
    one = s.iloc[0]
    assert one.frequency == 3
    assert one.monetary_value == pytest.approx((20 + 10 + 500) / 3)
    assert s.iloc[2]["T"] == 0.0


def test_two_orders_one_day_is_one_purchase() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [5, 5, 5],
            "order_id": ["x", "y", "z"],
            "date": ["2024-01-01", "2024-01-08", "2024-01-08"],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    s = clv_summary(segwork.load({"transactions": tx}), "2024-01-08")
    assert s.frequency.tolist() == [1]
    assert s.monetary_value.tolist() == [5.0]
    assert s.recency.tolist() == [1.0] and s["T"].tolist() == [1.0]


def test_errors(data: segwork.Dataset) -> None:
    with pytest.raises(ValueError, match="no order is dated on or before as_of=2023-12-31"):
        clv_summary(data, "2023-12-31")
    with pytest.raises(ValueError, match="period must be one of"):
        clv_summary(data, "2024-02-12", period="year")
    with pytest.raises(ValueError, match="as_of is required"):
        clv_summary(data, None)
    customers = pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-01"]})
    with pytest.raises(ValueError, match="needs a 'transactions' table"):
        clv_summary(segwork.load({"customers": customers}), "2024-02-12")
