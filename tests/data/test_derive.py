"""Subscriptions -> MRR (docs/metrics.md "MRR"), on hand-worked cases."""

from __future__ import annotations

import pandas as pd
import pytest

import segwork


def _mrr(subs: dict, as_of: str = "2024-12-31") -> pd.DataFrame:
    subs = pd.DataFrame(subs)
    ids = sorted(set(subs.customer_id))
    customers = pd.DataFrame({"customer_id": ids, "signup_date": ["2024-01-01"] * len(ids)})
    data = segwork.load({"customers": customers, "subscriptions": subs})
    out = segwork.monthly_mrr(data, as_of)
    out["month"] = out["month"].dt.strftime("%Y-%m")
    return out


def test_yearly_plan_is_normalised_to_a_month():
    # docs/metrics.md "MRR": amount x quantity / the interval's length in months (a year is 12):
    # 1200 / 12 = 100
    out = _mrr({"customer_id": [1], "start_date": ["2024-01-01"], "end_date": ["2024-03-01"],
                "amount": [1200.0], "billing_interval": ["year"]})
    assert out.mrr.tolist() == [100.0, 100.0]  # Jan, Feb; an end on 1 Mar does not count March


def test_quantity_multiplies():
    # 3 seats x 10 = 30 per month
    out = _mrr({"customer_id": [1], "start_date": ["2024-01-01"], "end_date": ["2024-02-01"],
                "amount": [10.0], "billing_interval": ["month"], "quantity": [3]})
    assert out.mrr.tolist() == [30.0]


def test_mid_month_end_still_counts_that_month():
    # docs/metrics.md "MRR": a subscription that stops partway through a month counts in that month
    out = _mrr({"customer_id": [1], "start_date": ["2024-01-20"], "end_date": ["2024-03-15"],
                "amount": [10.0], "billing_interval": ["month"]})
    assert out.month.tolist() == ["2024-01", "2024-02", "2024-03"]


def test_quarter_week_and_discount():
    # quarter: 30 / 3 = 10; week: 12 x 52 / 12 = 52; discount 0.25 on 40 -> 30
    out = _mrr({"customer_id": [1, 2, 3], "start_date": ["2024-01-01"] * 3,
                "end_date": ["2024-02-01"] * 3, "amount": [30.0, 12.0, 40.0],
                "billing_interval": ["quarter", "week", "month"], "discount": [0.0, 0.0, 0.25]})
    assert out.mrr.tolist() == pytest.approx([10.0, 52.0, 30.0])


def test_empty_discount_means_zero_with_or_without_an_end_date_column():
    # docs/metrics.md "Input tables": an empty discount is 0 (it used to be left null, and the
    # subscription never active, when the table had no end_date column)
    out = _mrr({"customer_id": [1], "start_date": ["2024-11-01"], "amount": [10.0],
                "billing_interval": ["month"], "discount": [None]})
    assert out.mrr.tolist() == [10.0, 10.0]


def test_overlapping_subscriptions_add_up_and_boundary_changes_do_not_double_count():
    # customer 1: two products at once (10 + 5); customer 2 upgrades on 1 March from 10 to 20
    out = _mrr({"customer_id": [1, 1, 2, 2],
                "start_date": ["2024-01-01", "2024-01-01", "2024-01-01", "2024-03-01"],
                "end_date": ["2024-02-01", "2024-02-01", "2024-03-01", "2024-04-01"],
                "amount": [10.0, 5.0, 10.0, 20.0], "billing_interval": ["month"] * 4})
    assert out[out.customer_id == 1].mrr.tolist() == [15.0]
    assert out[out.customer_id == 2].mrr.tolist() == [10.0, 10.0, 20.0]


def test_open_subscription_runs_to_as_of():
    out = _mrr({"customer_id": [1], "start_date": ["2024-11-10"], "end_date": [None],
                "amount": [10.0], "billing_interval": ["month"]}, as_of="2025-02-03")
    assert out.month.tolist() == ["2024-11", "2024-12", "2025-01", "2025-02"]


def test_nothing_after_as_of_and_zero_amounts_are_not_active():
    out = _mrr({"customer_id": [1, 2], "start_date": ["2024-01-01", "2024-01-01"],
                "end_date": [None, None], "amount": [10.0, 0.0], "billing_interval": ["month"] * 2},
               as_of="2024-02-15")
    assert out.customer_id.tolist() == [1, 1]  # customer 2 has MRR 0: never active


def test_subscription_starting_after_as_of_in_the_same_month_is_ignored():
    # docs/metrics.md "Conventions": later data is ignored - a start on 20 Jan is unknown on 10 Jan
    subs = {"customer_id": [1, 2], "start_date": ["2024-01-02", "2024-01-20"], "end_date": [None, None],
            "amount": [10.0, 10.0], "billing_interval": ["month"] * 2}
    assert _mrr(subs, as_of="2024-01-10").customer_id.tolist() == [1]
    assert _mrr(subs, as_of="2024-01-31").customer_id.tolist() == [1, 2]


def test_no_subscription_started_by_as_of_is_no_month_not_an_error():
    # every subscription starts after as_of: monthly MRR has no row, and the metrics reading it
    # answer (zeros and NaN rates, or their own "no customer has MRR" message) instead of failing
    # on the empty table's types
    from segwork.metrics.conventions import churn_conventions

    subs = {"customer_id": [1], "start_date": ["2024-03-01"], "end_date": [None],
            "amount": [10.0], "billing_interval": ["month"]}
    assert _mrr(subs, as_of="2024-01-31").empty
    customers = pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-01"]})
    data = segwork.load({"customers": customers, "subscriptions": pd.DataFrame(subs)})
    out = churn_conventions(data, "2024-01-31", months=1)
    assert out[["customers_start", "rolling_at_risk"]].to_numpy().tolist() == [[0, 0]]
    assert out["churn_rate"].isna().all()
    with pytest.raises(ValueError, match="no customer has MRR > 0"):
        segwork.mrr_movements(data, "2024-01-31")
