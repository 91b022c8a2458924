"""Tests of segwork.metrics.conventions.churn_conventions (hand-worked; docs/metrics.md "Churn
conventions").

Rules checked (sections of docs/metrics.md, summarised):
- (L) "Logo churn": customers active in m-1 and not in m / customers active in m-1.
- (A) "Active customer": active in month m when MRR > 0 in m.
- (M) "MRR": a subscription is active in month m when start_date is on or before m's last day and
  end_date is empty or after m's first day (the day-level form, "Churn conventions": active on
  day x when start_date <= x and (no end_date or end_date > x)).
- (N) "MRR movements": new in m when m is the customer's first month with MRR > 0 ever.
- (P) "Conventions": data dated after as_of is ignored; the population is the customers with
  signup_date <= as_of.
- (R) "Conventions": a ratio whose denominator is 0 is missing (NaN), never 0 or infinite.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import segwork
from segwork.metrics.conventions import CONVENTION_COLUMNS, VENDOR_NOTE, churn_conventions

# Subscriptions (all monthly, 10 a month unless said; end_date exclusive, (M)):
#   c1: 2024-01-01 .. end 2024-02-15  months Jan, Feb       days Jan 1 .. Feb 14
#   c2: 2024-01-01 .. open            every month           every day
#   c3: 2024-01-01 .. end 2024-03-05  months Jan, Feb, Mar  days Jan 1 .. Mar 4
#   c4: 2024-02-20 .. end 2024-03-10  months Feb, Mar       days Feb 20 .. Mar 9   (new in Feb)
#   c5: 2024-03-15 .. open            months Mar            days Mar 15 ..         (new in Mar)
#   c6: 2024-01-10 .. end 2024-02-01  months Jan (end on Feb 1 is not > Feb 1)  days .. Jan 31
#   c7: free plan (amount 0) from 2024-01-01: MRR 0, never active (A)
#   c8: signs up 2024-04-02, after as_of: not in the population (P)
#   c9: 2024-03-10 .. end 2024-03-20  months Mar            days Mar 10 .. Mar 19  (new in Mar)
PLANS = {
    1: "pro",
    2: "pro",
    3: "starter",
    4: "starter",
    5: "pro",
    6: "starter",
    7: "pro",
    8: "pro",
    9: "starter",
}


def data(with_subscriptions: bool = True) -> segwork.Dataset:
    customers = pd.DataFrame(
        {
            "customer_id": list(PLANS),
            "signup_date": ["2024-01-01"] * 7 + ["2024-04-02", "2024-03-10"],
            "plan": list(PLANS.values()),
        }
    )
    subs = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7, 8, 9],
            "start_date": [
                "2024-01-01",
                "2024-01-01",
                "2024-01-01",
                "2024-02-20",
                "2024-03-15",
                "2024-01-10",
                "2024-01-01",
                "2024-04-02",
                "2024-03-10",
            ],
            "end_date": [
                "2024-02-15",
                None,
                "2024-03-05",
                "2024-03-10",
                None,
                "2024-02-01",
                None,
                None,
                "2024-03-20",
            ],
            "amount": [10.0] * 6 + [0.0, 10.0, 10.0],
            "billing_interval": ["month"] * 9,
        }
    )
    frames = {"customers": customers, "subscriptions": subs}
    if not with_subscriptions:
        mrr = segwork.monthly_mrr(segwork.load(frames), "2024-04-30")
        frames = {"customers": customers, "mrr": mrr}
    return segwork.load(frames)


def test_hand_worked_feb_and_march() -> None:
    out = churn_conventions(data(), "2024-03-31", months=2)
    assert list(out.columns) == list(CONVENTION_COLUMNS)
    assert out["month"].tolist() == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01")]
    assert out["rolling_day"].tolist() == [pd.Timestamp("2024-02-29"), pd.Timestamp("2024-03-31")]
    counts = [c for c in CONVENTION_COLUMNS if out[c].dtype == "int64"]
    assert counts == [
        "customers_start",
        "new_customers",
        "churned_customers",
        "rolling_at_risk",
        "rolling_new",
        "rolling_churned",
        "rolling_new_churned",
    ]
    # Calendar month (L, A, N):
    #   Feb: active in Jan c1 c2 c3 c6 = 4; active in Feb c1 c2 c3 c4; churned c6 = 1; new c4 = 1
    #        churn_rate = 1/4 = 0.25; start + new: 1/(4 + 1) = 0.2; diff -0.05
    #   Mar: active in Feb c1 c2 c3 c4 = 4; active in Mar c2 c3 c4 c5 c9; churned c1 = 1;
    #        new c5 c9 = 2; churn_rate = 1/4; start + new: 1/(4 + 2) = 1/6
    assert out["customers_start"].tolist() == [4, 4]
    assert out["new_customers"].tolist() == [1, 2]
    assert out["churned_customers"].tolist() == [1, 1]
    np.testing.assert_allclose(out["churn_rate"], [0.25, 0.25])
    np.testing.assert_allclose(out["churn_rate_start_plus_new"], [0.2, 1 / 6])
    np.testing.assert_allclose(out["diff_start_plus_new"], [-0.05, 1 / 6 - 0.25])
    # Rolling 30 days (M, day level):
    #   Feb: d = Feb 29, d - 30 = Jan 30. Active Jan 30: c1 c2 c3 c6 = 4. Active Feb 29: c2 c3 c4.
    #        churned c1 c6 = 2 -> 2/4 = 0.5.  New in (Jan 30, Feb 29]: c4 (active Feb 29).
    #        start + new: (2 + 0)/(4 + 1) = 0.4.  diff_rolling = 0.5 - 0.25 = 0.25
    #   Mar: d = Mar 31, d - 30 = Mar 1. Active Mar 1: c2 c3 c4 = 3. Active Mar 31: c2 c5.
    #        churned c3 c4 = 2 -> 2/3.  New in (Mar 1, Mar 31]: c5, c9; c9 is gone on Mar 31.
    #        start + new: (2 + 1)/(3 + 2) = 0.6.  diff_rolling = 2/3 - 1/4
    assert out["rolling_at_risk"].tolist() == [4, 3]
    assert out["rolling_new"].tolist() == [1, 2]
    assert out["rolling_churned"].tolist() == [2, 2]
    assert out["rolling_new_churned"].tolist() == [0, 1]
    np.testing.assert_allclose(out["rolling_churn_rate"], [0.5, 2 / 3])
    np.testing.assert_allclose(out["rolling_churn_rate_start_plus_new"], [0.4, 0.6])
    np.testing.assert_allclose(out["diff_rolling"], [0.25, 2 / 3 - 0.25])


def test_partial_month_is_evaluated_at_as_of() -> None:
    # as_of 2024-03-20: d = Mar 20, d - 30 = Feb 19.  Active Feb 19: c2 c3 = 2 (c1 left Feb 15,
    # c4 starts Feb 20).  Active Mar 20: c2 c5 (c9's end on Mar 20 is not > Mar 20).
    # churned: c3 -> 1/2.  New in (Feb 19, Mar 20]: c4 c5 c9 = 3; gone on Mar 20: c4 c9 = 2.
    # start + new: (1 + 2)/(2 + 3) = 0.6.  The calendar month is March as before (P: c8 starts
    # after as_of and is out anyway).
    out = churn_conventions(data(), "2024-03-20", months=1)
    assert out["rolling_day"].tolist() == [pd.Timestamp("2024-03-20")]
    assert out[
        ["rolling_at_risk", "rolling_new", "rolling_churned", "rolling_new_churned"]
    ].to_numpy().tolist() == [[2, 3, 1, 2]]
    assert out["rolling_churn_rate"].tolist() == [0.5]
    assert out["rolling_churn_rate_start_plus_new"].tolist() == [pytest.approx(0.6)]
    assert out["churned_customers"].tolist() == [1]


def test_where_and_empty_denominators() -> None:
    # starter only (c3 c4 c6 c9). January (months=3 from Jan): nobody active in December -> the
    # start denominators are 0 -> NaN (R); start + new: 0 churned / (0 + 2 new: c3 c6) = 0.
    # Rolling January: d - 30 = Jan 1, active then: c3 only (c6 starts Jan 10), still active on
    # Jan 31 -> 0/1 = 0.0, but diff_rolling = 0.0 - NaN = NaN.
    # Feb: active Jan c3 c6 = 2, churned c6 -> 1/2; new c4 -> 1/3.
    # Mar: active Feb c3 c4 = 2, both active in March -> 0; new c9 -> 0/3 = 0.
    out = churn_conventions(data(), "2024-03-31", months=3, where={"plan": "starter"})
    assert out["customers_start"].tolist() == [0, 2, 2]
    assert math.isnan(out["churn_rate"][0]) and out["churn_rate_start_plus_new"][0] == 0.0
    assert out["rolling_at_risk"][0] == 1 and out["rolling_churn_rate"][0] == 0.0
    assert math.isnan(out["diff_rolling"][0])
    np.testing.assert_allclose(out["churn_rate"][1:], [0.5, 0.0])
    np.testing.assert_allclose(out["churn_rate_start_plus_new"][1:], [1 / 3, 0.0])


def test_mrr_only_data_has_no_rolling_columns() -> None:
    out = churn_conventions(data(with_subscriptions=False), "2024-03-31", months=2)
    # the calendar columns are the same as from subscriptions (MRR derived by rule M)
    np.testing.assert_allclose(out["churn_rate_start_plus_new"], [0.2, 1 / 6])
    assert out["rolling_at_risk"].tolist() == [0, 0]
    assert out["rolling_churn_rate"].isna().all() and out["diff_rolling"].isna().all()


def test_errors_and_vendor_note() -> None:
    customers = pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-01"]})
    tx = pd.DataFrame(
        {"customer_id": [1], "order_id": [1], "date": ["2024-01-02"], "amount": [5.0]}
    )
    with pytest.raises(ValueError, match="need subscription data"):
        churn_conventions(segwork.load({"customers": customers, "transactions": tx}), "2024-03-31")
    with pytest.raises(ValueError, match="months must be"):
        churn_conventions(data(), "2024-03-31", months=0)
    with pytest.raises(ValueError, match="unknown segment column"):
        churn_conventions(data(), "2024-03-31", where={"nope": 1})
    for vendor in ("ChartMogul", "Baremetrics", "Stripe", "check your vendor's definition"):
        assert vendor in VENDOR_NOTE


def test_calendar_counts_match_mrr_movements_on_the_sample() -> None:
    sample = segwork.load_sample()
    out = churn_conventions(sample, "2024-12-31", months=12)
    mov = segwork.mrr_movements(sample, "2024-12-31").set_index("month")
    assert out["customers_start"].tolist() == mov.loc[out["month"], "customers_start"].tolist()
    assert (out["diff_start_plus_new"] <= 0).all()


# -- the faster paths equal the definition ----------------------------------------------------
@st.composite
def random_subscriptions(draw: st.DrawFn) -> segwork.Dataset:
    """Customers with one to three subscriptions each: gaps, overlaps, free plans, ends on a
    calendar day or the day after, starts after as_of."""
    n = draw(st.integers(min_value=1, max_value=8))
    day0 = pd.Timestamp("2023-10-01")
    rows = []
    for c in range(1, n + 1):
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            start = day0 + pd.Timedelta(days=draw(st.integers(min_value=0, max_value=200)))
            length = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=120)))
            end = None if length is None else start + pd.Timedelta(days=length)
            rows.append(
                {
                    "subscription_id": len(rows) + 1,
                    "customer_id": c,
                    "start_date": start.date().isoformat(),
                    "end_date": None if end is None else end.date().isoformat(),
                    "amount": draw(st.sampled_from([0.0, 10.0, 25.0])),
                    "billing_interval": "month",
                }
            )
    customers = pd.DataFrame(
        {
            "customer_id": range(1, n + 1),
            "signup_date": ["2023-10-01"] * n,
            # customer 1 is on plan a: the filter always matches someone
            "plan": ["a", *draw(st.lists(st.sampled_from("ab"), min_size=n - 1, max_size=n - 1))],
        }
    )
    return segwork.load({"customers": customers, "subscriptions": pd.DataFrame(rows)})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    random_subscriptions(),
    st.sampled_from(["2024-01-31", "2024-02-29", "2024-03-17", "2024-04-30"]),
    st.integers(min_value=1, max_value=7),
    st.sampled_from([None, {"plan": ["a"]}]),
)
def test_bits_equal_the_definition(
    data: segwork.Dataset, as_of: str, months: int, where: dict[str, list[str]] | None
) -> None:
    """The engine's faster path (each customer's months and calendar days as bits) gives the
    same counts and rates as the definition's anti-joins and range joins (fast_paths=False)."""
    fast = churn_conventions(segwork.Engine(data), as_of, months=months, where=where)
    slow = churn_conventions(
        segwork.Engine(data, fast_paths=False), as_of, months=months, where=where
    )
    pd.testing.assert_frame_equal(fast, slow)
