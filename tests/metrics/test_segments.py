"""Tests of the segment table and lifecycle stages (docs/metrics.md "Segment table", "Segmentations
and derived attributes", "Churn window", "LTV").

Expected values are worked out by hand; the arithmetic is in the comments.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import segwork
from segwork.headline import previous_period
from segwork.metrics.page_months import ActiveMonths, PerCustomer, prepare_month_values
from segwork.metrics.segments import (
    SEGMENT_COLUMNS,
    engagement,
    lifecycle_stage,
    prepare_totals,
    segment_table,
)
from segwork.metrics.stats import wilson_interval

AS_OF = "2024-04-30"


def _mrr_rows(values: dict[int, dict[str, float]]) -> pd.DataFrame:
    rows = [
        {"customer_id": cid, "month": pd.Timestamp(month), "mrr": v}
        for cid, months in values.items()
        for month, v in months.items()
    ]
    return pd.DataFrame(rows)


def hand_data() -> segwork.Dataset:
    """6 customers in plans a and b (+ one signing up after as_of), MRR in 2023-04 and 2024-01..05.

    month:    2023-04  2024-01  02   03   04  | 05 (after as_of: ignored)
    c1 (a)      120      100   100  100  150  | 150
    c2 (a)       50       50    50    -    -
    c3 (a)        -       80     -   80   80
    c4 (b)      200      200   200  200  200
    c5 (b)      100        -     -    -    -
    c6 (b)        -        -    60   60    -      (signed up 2024-02-10)
    c7 (b)        -        -     -    -    -  |  90  (signed up 2024-05-10: not in the population)
    """
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "signup_date": pd.to_datetime(["2023-04-01"] * 5 + ["2024-02-10", "2024-05-10"]),
            "plan": ["a", "a", "a", "b", "b", "b", "b"],
            "seats": [5, 12, 8, 40, 3, 10, 1],
        }
    )
    mrr = _mrr_rows(
        {
            1: {
                "2023-04-01": 120,
                "2024-01-01": 100,
                "2024-02-01": 100,
                "2024-03-01": 100,
                "2024-04-01": 150,
                "2024-05-01": 150,
            },
            2: {"2023-04-01": 50, "2024-01-01": 50, "2024-02-01": 50},
            3: {"2024-01-01": 80, "2024-03-01": 80, "2024-04-01": 80},
            4: {
                "2023-04-01": 200,
                "2024-01-01": 200,
                "2024-02-01": 200,
                "2024-03-01": 200,
                "2024-04-01": 200,
            },
            5: {"2023-04-01": 100},
            6: {"2024-02-01": 60, "2024-03-01": 60},
            7: {"2024-05-01": 90},
        }
    )
    return segwork.load({"customers": customers, "mrr": mrr})


@pytest.fixture(scope="module")
def data() -> segwork.Dataset:
    return hand_data()


# -- the hand-worked table ------------------------------------------------------------------------
def test_hand_worked_table(data: segwork.Dataset) -> None:
    t = segment_table(data, "plan", AS_OF, window_months=3)
    assert list(t.columns) == ["plan", *SEGMENT_COLUMNS]
    # Order by LTV descending, not by size (docs/metrics.md "Segment table"):
    # b 1000 > a 402.5
    assert list(t["plan"]) == ["b", "a"]
    b, a = t.iloc[0], t.iloc[1]
    # Population: signup_date <= as_of (docs/metrics.md "Conventions") -> c7 (2024-05-10) is
    # out: a 3, b 3.
    assert (a["customers"], b["customers"]) == (3, 3)
    assert a["customers_share"] == pytest.approx(0.5) and b["customers_share"] == pytest.approx(0.5)
    # Active in A = April (docs/metrics.md "Active customer": MRR > 0 in A): a = c1 150 + c3 80,
    # b = c4 200; May rows are after as_of and ignored.
    assert (a["active_customers"], b["active_customers"]) == (2, 1)
    assert a["mrr"] == pytest.approx(230.0) and b["mrr"] == pytest.approx(200.0)
    assert a["mrr_share"] == pytest.approx(230 / 430) and b["mrr_share"] == pytest.approx(200 / 430)
    # ARPA = MRR / active customers (docs/metrics.md "ARPA"): a 230 / 2 = 115, b 200 / 1 = 200.
    assert a["arpa"] == pytest.approx(115.0) and b["arpa"] == pytest.approx(200.0)
    # Churn window w=3 (docs/metrics.md "Churn window"): m = Feb, Mar, Apr; at risk when active
    # in m-1.
    # a: c1 active Jan, Feb, Mar -> at risk Feb, Mar, Apr (3), churned 0
    #    c2 active Jan, Feb      -> at risk Feb, Mar (2), churned Mar (1)
    #    c3 active Jan, Mar      -> at risk Feb, Apr (2), churned Feb (1)   => 7 at risk, 2 churned
    # b: c4 3 at risk, 0 churned; c5 none;
    #    c6 active Feb, Mar      -> at risk Mar, Apr (2), churned Apr (1)   => 5 at risk, 1 churned
    assert (a["at_risk_customer_months"], a["churned_customer_months"]) == (7, 2)
    assert (b["at_risk_customer_months"], b["churned_customer_months"]) == (5, 1)
    assert t["at_risk_customer_months"].dtype == "int64"
    assert t["churned_customer_months"].dtype == "int64"
    assert t["customers"].dtype == "int64" and t["active_customers"].dtype == "int64"
    # Pooled churn (docs/metrics.md "Logo churn"): churned / at-risk customer-months.
    assert a["churn_rate"] == pytest.approx(2 / 7) and b["churn_rate"] == pytest.approx(0.2)
    # NRR 12 m (docs/metrics.md "NRR and GRR", m = A-12 = 2023-04, k = 12):
    # a: active 2023-04 c1 120 + c2 50 = 170; their April MRR 150 + 0 = 150 -> 150 / 170
    # b: active 2023-04 c4 200 + c5 100 = 300; their April MRR 200 + 0 = 200 -> 2 / 3
    assert a["nrr_12m"] == pytest.approx(150 / 170) and b["nrr_12m"] == pytest.approx(2 / 3)
    # LTV = ARPA x gross margin / churn (docs/metrics.md "LTV"):
    # a 115 / (2/7) = 402.5, b 200 / 0.2 = 1000
    assert a["ltv"] == pytest.approx(402.5) and b["ltv"] == pytest.approx(1000.0)
    # LTV interval from the churn interval's ends (docs/metrics.md "LTV").
    assert a["ltv_low"] == pytest.approx(115 / a["churn_rate_high"])
    assert a["ltv_high"] == pytest.approx(115 / a["churn_rate_low"])
    assert a["ltv_low"] < a["ltv"] < a["ltv_high"]
    # docs/metrics.md "Small segments": fewer than 30 customers by default: 3 < 30 -> both flagged.
    assert t["small_segment"].tolist() == [True, True]


def test_small_segment_flag(data: segwork.Dataset) -> None:
    # docs/metrics.md "Small segments": fewer than min_customers (default 30): 3 < 30, flagged.
    t = segment_table(data, "plan", AS_OF, window_months=3)
    assert t["small_segment"].tolist() == [True, True]
    assert t["small_segment"].dtype == bool
    # 3 < 3 is false; 3 < 4 is true.
    t3 = segment_table(data, "plan", AS_OF, window_months=3, min_customers=3)
    assert t3["small_segment"].tolist() == [False, False]
    t4 = segment_table(data, "plan", AS_OF, window_months=3, min_customers=4)
    assert t4["small_segment"].tolist() == [True, True]
    assert segment_table(data, None, AS_OF, min_customers=6)["small_segment"].tolist() == [False]


def test_wilson_columns_match_counts(data: segwork.Dataset) -> None:
    # docs/metrics.md "Confidence intervals": Wilson score interval, 95 % unless set otherwise.
    for conf in (0.95, 0.8):
        t = segment_table(data, "plan", AS_OF, window_months=3, confidence=conf)
        low, high = wilson_interval(
            t["churned_customer_months"], t["at_risk_customer_months"], conf
        )
        np.testing.assert_allclose(t["churn_rate_low"], low)
        np.testing.assert_allclose(t["churn_rate_high"], high)
        assert (t["churn_rate_low"] < t["churn_rate"]).all()
        assert (t["churn_rate"] < t["churn_rate_high"]).all()
        assert t.attrs["confidence"] == conf


def test_gross_margin_scales_ltv(data: segwork.Dataset) -> None:
    # docs/metrics.md "LTV": ARPA x gross margin / monthly logo churn rate: b 200 x 0.8 / 0.2 = 800,
    # a 115 x 0.8 / (2/7) = 322.
    t1 = segment_table(data, "plan", AS_OF, window_months=3)
    t8 = segment_table(data, "plan", AS_OF, window_months=3, gross_margin=0.8)
    assert t8["ltv"].tolist() == pytest.approx([800.0, 322.0])
    for col in ("ltv", "ltv_low", "ltv_high"):
        np.testing.assert_allclose(t8[col], 0.8 * t1[col])
    # the gross margin is a parameter, recorded so that it can be stated wherever LTV is shown
    assert t8.attrs["gross_margin"] == 0.8
    assert t8.attrs == {
        "as_of": dt.date(2024, 4, 30),
        "gross_margin": 0.8,
        "window_months": 3,
        "confidence": 0.95,
        "min_customers": 30,
    }


def test_by_none_gives_one_overall_row(data: segwork.Dataset) -> None:
    t = segment_table(data, None, AS_OF, window_months=3)
    assert list(t.columns) == list(SEGMENT_COLUMNS)
    assert len(t) == 1
    row = t.iloc[0]
    # 6 customers, 3 active in April (230 + 200 = 430), arpa 430 / 3
    assert (row["customers"], row["active_customers"]) == (6, 3)
    assert row["mrr"] == pytest.approx(430.0) and row["arpa"] == pytest.approx(430 / 3)
    assert row["customers_share"] == 1.0 and row["mrr_share"] == 1.0
    # at risk 7 + 5 = 12, churned 2 + 1 = 3 -> 0.25; NRR (150 + 200) / (170 + 300)
    assert (row["at_risk_customer_months"], row["churned_customer_months"]) == (12, 3)
    assert row["churn_rate"] == pytest.approx(0.25)
    assert row["nrr_12m"] == pytest.approx(350 / 470)
    # LTV = (430/3) / 0.25
    assert row["ltv"] == pytest.approx(430 / 3 / 0.25)
    pd.testing.assert_frame_equal(t, segment_table(data, [], AS_OF, window_months=3))


def test_vendor_example_ltv_2000() -> None:
    # The common vendor example: ARPA $100 at 5 % monthly churn -> LTV 100 / 0.05 = $2,000
    # (docs/metrics.md "LTV"). 5 customers active Jan..Apr at 100; c1..c4 stay in May, c5 leaves.
    # Window w=4 (m = Feb..May): every customer is at risk in each of the 4 months -> 5 x 4 = 20
    # at-risk customer-months, 1 churned (c5 in May) -> 1 / 20 = 0.05; ARPA in May 400 / 4 = 100.
    ids = [1, 2, 3, 4, 5]
    customers = pd.DataFrame(
        {"customer_id": ids, "signup_date": pd.to_datetime(["2024-01-01"] * 5)}
    )
    months = ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]
    mrr = _mrr_rows({c: {m: 100.0 for m in (months if c < 5 else months[:4])} for c in ids})
    data = segwork.load({"customers": customers, "mrr": mrr})
    row = segment_table(data, None, "2024-05-31", window_months=4).iloc[0]
    assert (row["at_risk_customer_months"], row["churned_customer_months"]) == (20, 1)
    assert row["churn_rate"] == 0.05
    assert row["arpa"] == 100.0
    assert row["ltv"] == 2000.0


def test_no_churn_gives_undefined_ltv() -> None:
    # docs/metrics.md "LTV": where the churn rate is 0 the LTV is missing, never infinite.
    customers = pd.DataFrame(
        {"customer_id": [1, 2], "signup_date": pd.to_datetime(["2024-01-01"] * 2)}
    )
    months = ["2024-01-01", "2024-02-01", "2024-03-01"]
    mrr = _mrr_rows({1: dict.fromkeys(months, 50.0), 2: dict.fromkeys(months, 150.0)})
    data = segwork.load({"customers": customers, "mrr": mrr})
    row = segment_table(data, None, "2024-03-31", window_months=2).iloc[0]
    # at risk: 2 customers x 2 months = 4; churned 0 -> churn 0, Wilson low 0 (up to rounding)
    assert (row["at_risk_customer_months"], row["churned_customer_months"]) == (4, 0)
    assert row["churn_rate"] == 0.0
    assert math.isnan(row["ltv"])
    assert math.isnan(row["ltv_high"])  # churn_rate_low = 0: upper bound unbounded -> NaN
    assert row["churn_rate_low"] == pytest.approx(0.0, abs=1e-12)
    # ltv_low = ARPA / churn_rate_high is finite: ARPA (50 + 150) / 2 = 100
    assert math.isfinite(row["ltv_low"])
    assert row["ltv_low"] == pytest.approx(100.0 / row["churn_rate_high"])
    # NRR: no data a year before -> NaN (docs/metrics.md "NRR and GRR": nobody active in A - 12)
    assert math.isnan(row["nrr_12m"])


def test_window_without_at_risk_months_is_nan() -> None:
    # Nobody active before A: at risk 0 -> churn NaN (docs/metrics.md "Conventions").
    customers = pd.DataFrame({"customer_id": [1], "signup_date": pd.to_datetime(["2024-03-05"])})
    mrr = _mrr_rows({1: {"2024-03-01": 10.0}})
    data = segwork.load({"customers": customers, "mrr": mrr})
    row = segment_table(data, None, "2024-03-31").iloc[0]
    assert row["at_risk_customer_months"] == 0
    for col in ("churn_rate", "churn_rate_low", "churn_rate_high", "ltv", "ltv_low", "ltv_high"):
        assert math.isnan(row[col]), col
    assert row["arpa"] == 10.0


def test_ltv_order_nan_last_and_ties_by_column() -> None:
    # Segments: x (no churn -> LTV NaN, huge ARPA), y and z (equal LTV), w (lower LTV).
    # Each segment: 2 customers active Jan..Mar; in y, z, w one of them leaves in March.
    plans = ["x", "x", "z", "z", "y", "y", "w", "w"]
    price = {"x": 1000.0, "y": 100.0, "z": 100.0, "w": 10.0}
    customers = pd.DataFrame(
        {
            "customer_id": range(1, 9),
            "signup_date": pd.to_datetime(["2024-01-01"] * 8),
            "plan": plans,
        }
    )
    values = {}
    for i, p in enumerate(plans, start=1):
        leaves = p != "x" and i % 2 == 0
        months = ["2024-01-01", "2024-02-01"] + ([] if leaves else ["2024-03-01"])
        values[i] = {m: price[p] for m in months}
    data = segwork.load({"customers": customers, "mrr": _mrr_rows(values)})
    t = segment_table(data, "plan", "2024-03-31", window_months=2)
    # y, z: ARPA 100 / churn (1/4) = 400 each, tie broken by plan ascending; w 10 / 0.25 = 40; x NaN
    assert t["plan"].tolist() == ["y", "z", "w", "x"]
    assert t["ltv"].tolist()[:3] == pytest.approx([400.0, 400.0, 40.0])
    assert math.isnan(t["ltv"].iloc[3])


def test_null_segment_is_its_own_row() -> None:
    data = hand_data()
    customers = data.to_pandas("customers")
    customers["plan"] = customers["plan"].astype(object)
    customers.loc[customers["customer_id"].isin([3, 6]), "plan"] = None
    mrr = data.to_pandas("mrr")
    data2 = segwork.load({"customers": customers, "mrr": mrr})
    t = segment_table(data2, "plan", AS_OF, window_months=3)
    assert len(t) == 3
    null = t[t["plan"].isna()]
    assert len(null) == 1
    # null segment = c3 + c6: 2 customers; at risk c3 2 + c6 2 = 4, churned 1 + 1 = 2;
    # active April: c3 80 -> arpa 80, churn 0.5, LTV 160
    r = null.iloc[0]
    assert (r["customers"], r["at_risk_customer_months"], r["churned_customer_months"]) == (2, 4, 2)
    assert r["ltv"] == pytest.approx(160.0)
    assert t["customers"].sum() == 6
    # the rest: a = c1, c2 (5 at risk, 1 churned, ARPA 150 -> LTV 750); b = c4, c5 (no churn -> NaN)
    assert t["plan"].tolist()[0] == "a" and t["plan"].tolist()[2] == "b"
    assert t["ltv"].tolist()[:2] == pytest.approx([750.0, 160.0])


def test_bins_on_numeric_column(data: segwork.Dataset) -> None:
    # seats: c1 5, c2 12, c3 8, c4 40, c5 3, c6 10 -> "<= 10": c1, c3, c5, c6; "> 10": c2, c4
    t = segment_table(data, "seats", AS_OF, window_months=3, bins={"seats": [10]})
    got = dict(zip(t["seats"], t["customers"], strict=True))
    assert got == {"<= 10": 4, "> 10": 2}
    # "> 10": c2 (2 at risk, 1 churned) + c4 (3, 0) = 5 at risk, 1 churned; active April: c4 200
    big = t[t["seats"] == "> 10"].iloc[0]
    assert (big["at_risk_customer_months"], big["churned_customer_months"]) == (5, 1)
    assert big["ltv"] == pytest.approx(200 / 0.2)


def test_where_restricts_population(data: segwork.Dataset) -> None:
    t = segment_table(data, "plan", AS_OF, window_months=3, where={"plan": "a"})
    assert t["plan"].tolist() == ["a"]
    assert t["customers_share"].tolist() == [1.0] and t["mrr_share"].tolist() == [1.0]
    assert t["ltv"].iloc[0] == pytest.approx(402.5)
    t2 = segment_table(data, None, AS_OF, window_months=3, where={"plan": ["b"]})
    assert t2["ltv"].iloc[0] == pytest.approx(1000.0)


def test_default_window_is_12_months(data: segwork.Dataset) -> None:
    # w=12: m = 2023-05 .. 2024-04, m-1 = 2023-04 .. 2024-03. Extra vs w=3: 2023-04 actives
    # c1, c2, c4, c5 are at risk in 2023-05 and all churned then (no rows 2023-05..12); nobody is
    # active in 2023-05 .. 2023-12, so nobody else is at risk before Feb 2024 (the w=3 window).
    # a: 7 + 2 = 9 at risk, 2 + 2 = 4 churned;
    # b: 5 + 2 = 7 at risk, 1 + 2 = 3 churned.
    t = segment_table(data, "plan", AS_OF).set_index("plan")
    assert t.loc["a", "at_risk_customer_months"] == 9 and t.loc["a", "churned_customer_months"] == 4
    assert t.loc["b", "at_risk_customer_months"] == 7 and t.loc["b", "churned_customer_months"] == 3


# -- errors ---------------------------------------------------------------------------------------
def test_unknown_by_column_lists_available(data: segwork.Dataset) -> None:
    with pytest.raises(ValueError, match=r"unknown segment column 'tier'.*available.*plan.*seats"):
        segment_table(data, "tier", AS_OF)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"window_months": 0}, "window_months"),
        ({"window_months": 1.5}, "window_months"),
        ({"window_months": True}, "window_months"),
        ({"gross_margin": 0.0}, "gross_margin"),
        ({"gross_margin": 1.2}, "gross_margin"),
        ({"gross_margin": float("nan")}, "gross_margin"),
        ({"min_customers": 0}, "min_customers"),
        ({"confidence": 1.0}, "confidence"),
        ({"confidence": 0}, "confidence"),
    ],
)
def test_bad_parameters(data: segwork.Dataset, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        segment_table(data, "plan", AS_OF, **kwargs)


def test_as_of_before_data_and_empty_where(data: segwork.Dataset) -> None:
    with pytest.raises(ValueError, match="before all data"):
        segment_table(data, "plan", "2020-01-01")
    with pytest.raises(ValueError, match="matches no customer"):
        segment_table(data, "plan", AS_OF, where={"plan": "zzz"})
    with pytest.raises(ValueError, match="as_of"):
        segment_table(data, "plan", None)


# -- lifecycle stage ------------------------------------------------------------------------------
def test_lifecycle_stage_edges() -> None:
    # docs/metrics.md "Segmentations and derived attributes": lifecycle stage by tenure,
    # onboarding up to 30 days, growth 31 to 180, mature from 181.
    as_of = dt.date(2024, 12, 31)
    tenures = [0, 30, 31, 180, 181, 400]
    customers = pd.DataFrame(
        {
            "customer_id": range(1, 8),
            "signup_date": [as_of - dt.timedelta(days=d) for d in tenures]
            + [dt.date(2025, 1, 5)],  # after as_of: not in the population
        }
    )
    data = segwork.load({"customers": customers})
    t = lifecycle_stage(data, as_of)
    assert list(t.columns) == ["customer_id", "signup_date", "tenure_days", "lifecycle_stage"]
    assert t["customer_id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert t["tenure_days"].tolist() == tenures
    assert t["tenure_days"].dtype == "int64"
    assert t["lifecycle_stage"].tolist() == [
        "onboarding",
        "onboarding",
        "growth",
        "growth",
        "mature",
        "mature",
    ]
    # edges adjustable: (10, 100): 0 onb, 30 growth, 31 growth, 180 mature, ...
    t2 = lifecycle_stage(data, as_of, edges=(10, 100))
    assert t2["lifecycle_stage"].tolist() == [
        "onboarding",
        "growth",
        "growth",
        "mature",
        "mature",
        "mature",
    ]
    with pytest.raises(ValueError, match="increasing"):
        lifecycle_stage(data, as_of, edges=(100, 10))


def test_lifecycle_stage_as_segment(data: segwork.Dataset) -> None:
    # At 2024-04-30: c1..c5 signed up 2023-04-01 (395 days) -> mature; c6 2024-02-10 (80 days) ->
    # growth. The segment is the attribute at as_of (documented).
    t = segment_table(data, "lifecycle_stage", AS_OF, window_months=3)
    got = dict(zip(t["lifecycle_stage"], t["customers"], strict=True))
    assert got == {"mature": 5, "growth": 1}


# -- properties -----------------------------------------------------------------------------------
MONTHS = pd.date_range("2023-01-01", periods=16, freq="MS")


@st.composite
def mrr_tables(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    n = draw(st.integers(1, 8))
    n_plans = draw(st.integers(2, 3))
    plans = draw(st.lists(st.sampled_from("pqr"[:n_plans]), min_size=n, max_size=n))
    signup_month = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n))
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1, dtype="int64"),
            "signup_date": [MONTHS[i] + pd.Timedelta(days=3) for i in signup_month],
            "plan": plans,
        }
    )
    rows = []
    for cid, s in zip(customers["customer_id"], signup_month, strict=True):
        active = draw(st.lists(st.booleans(), min_size=16 - s, max_size=16 - s))
        for k, on in enumerate(active):
            if on:
                value = draw(st.sampled_from([0.0, 10.0, 25.5, 100.0]))
                rows.append({"customer_id": int(cid), "month": MONTHS[s + k], "mrr": value})
    if not rows:
        rows.append({"customer_id": 1, "month": MONTHS[signup_month[0]], "mrr": 5.0})
    mrr = pd.DataFrame(rows)
    as_of = MONTHS[draw(st.integers(min(signup_month), 15))] + pd.offsets.MonthEnd(0)
    return customers, mrr, as_of


def _reference(customers: pd.DataFrame, mrr: pd.DataFrame, as_of: pd.Timestamp, w: int) -> dict:
    """Plain pandas: the overall numbers by the definitions of docs/metrics.md."""
    pop = customers[customers["signup_date"] <= as_of]
    m = mrr[(mrr["mrr"] > 0) & mrr["customer_id"].isin(pop["customer_id"])].copy()
    m["idx"] = m["month"].dt.year * 12 + m["month"].dt.month - 1
    a = as_of.year * 12 + as_of.month - 1
    active = set(zip(m["customer_id"], m["idx"], strict=True))
    prev = m[(m["idx"] >= a - w) & (m["idx"] <= a - 1)]
    churned = sum(
        (c, i + 1) not in active for c, i in zip(prev["customer_id"], prev["idx"], strict=True)
    )
    now = m[m["idx"] == a]
    return {
        "customers": len(pop),
        "active_customers": len(now),
        "mrr": float(now["mrr"].sum()),
        "at_risk_customer_months": len(prev),
        "churned_customer_months": churned,
    }


#: A customer whose only MRR row is 0.0: no month of MRR, no active months to keep (found by
#: hypothesis).
NO_ACTIVE_MONTH = (
    pd.DataFrame({"customer_id": [1], "signup_date": [pd.Timestamp("2023-12-04")], "plan": ["p"]}),
    pd.DataFrame({"customer_id": [1], "month": [pd.Timestamp("2024-04-01")], "mrr": [0.0]}),
    pd.Timestamp("2023-12-31"),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mrr_tables(), st.integers(1, 13))
@example(NO_ACTIVE_MONTH, 1)
def test_segments_add_up_and_engines_agree(
    tables: tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp], w: int
) -> None:
    customers, mrr, as_of = tables
    data = segwork.load({"customers": customers, "mrr": mrr})
    by_plan = segment_table(data, "plan", as_of, window_months=w)
    total = segment_table(data, None, as_of, window_months=w)
    ref = _reference(customers, mrr, as_of, w)
    for col, expected in ref.items():
        assert by_plan[col].sum() == pytest.approx(expected), col
        assert total[col].iloc[0] == pytest.approx(expected), col
    assert by_plan["customers_share"].sum() == pytest.approx(1.0)
    if ref["mrr"] > 0:
        assert by_plan["mrr_share"].sum() == pytest.approx(1.0)
    assert not np.isinf(by_plan[["ltv", "ltv_low", "ltv_high", "arpa"]].to_numpy()).any()
    # The definition (an engine without its faster paths: the churn window by a window function
    # over each customer's months, not by the bits of one integer) gives the same table.
    definition = segwork.Engine(data, fast_paths=False)
    pd.testing.assert_frame_equal(segment_table(definition, "plan", as_of, window_months=w), by_plan)
    # the total row after a segmentation at its date is the sum of the segments (kept by the
    # engine, no query): the definition's total row, queried on an engine that keeps none
    queried = segment_table(segwork.Engine(data, fast_paths=False), None, as_of, window_months=w)
    pd.testing.assert_frame_equal(total, queried)
    # Same numbers from a Parquet-backed Dataset.
    with tempfile.TemporaryDirectory() as tmp:
        customers.to_parquet(Path(tmp) / "customers.parquet")
        mrr.to_parquet(Path(tmp) / "mrr.parquet")
        pq = segwork.load(tmp)
        pd.testing.assert_frame_equal(segment_table(pq, "plan", as_of, window_months=w), by_plan)
    # An earlier as_of on the same Dataset (its engine tables shared across dates; the months
    # after that as_of are in the data and must not count).
    # A page's engine (every customer's active months of all time kept once as the bits of one
    # integer, each date a shift and a mask of it) gives the same table at any date, also before
    # the first month with MRR and long after the last one.
    # (its first date's MRR summed in the same pass as the bits)
    page = segwork.Engine(
        segwork.load({"customers": customers, "mrr": mrr}), reuse_across_dates=True
    )
    pd.testing.assert_frame_equal(segment_table(page, "plan", as_of, window_months=w), by_plan)
    for months in (1, w + 1, -14, -70):
        other = as_of - pd.offsets.MonthEnd(months)
        if other >= customers["signup_date"].min():
            pd.testing.assert_frame_equal(
                segment_table(page, "plan", other, window_months=w),
                segment_table(definition, "plan", other, window_months=w),
            )
    # a page that built ahead every customer's MRR of every month beside the bits
    # (prepare_month_values): any date's per-customer table and total row read no MRR row
    values = segwork.Engine(
        segwork.load({"customers": customers, "mrr": mrr}), reuse_across_dates=True
    )
    pd.testing.assert_frame_equal(segment_table(values, "plan", as_of, window_months=w), by_plan)
    prepare_month_values(values)
    for months in (1, 0, w + 1, -14, -70):
        other = as_of - pd.offsets.MonthEnd(months) if months else as_of - pd.Timedelta(days=9)
        if other >= customers["signup_date"].min():
            for by in (None, "plan"):  # the total row first: from the bits, no table
                pd.testing.assert_frame_equal(
                    segment_table(values, by, other, window_months=w),
                    segment_table(definition, by, other, window_months=w),
                )
    if (mrr["mrr"] > 0).any():
        assert any(k.values for k in values.table_keys() if isinstance(k, ActiveMonths))
    # every customer together at dates a page has no per-customer table of (its key numbers
    # a month before): sums of the bits (page_totals), the same row as the definition's
    totals = segwork.Engine(
        segwork.load({"customers": customers, "mrr": mrr}), reuse_across_dates=True
    )
    for months in (0, 1, w, -13):
        other = as_of - pd.offsets.MonthEnd(months) if months else as_of
        if other >= customers["signup_date"].min():
            pd.testing.assert_frame_equal(
                segment_table(totals, None, other, window_months=w),
                segment_table(segwork.Engine(data, fast_paths=False), None, other, window_months=w),
            )
    if (mrr["mrr"] > 0).any():  # else no active months: the definition ran
        assert not any(isinstance(k, PerCustomer) for k in totals.table_keys())
    # and after the page built its key numbers' history ahead (prepare_totals): range sums of
    # the segment history of no column at any date, mid-month ones too (the population is cut
    # at the day: a customer who signs up later in the month is not in it)
    ahead = segwork.Engine(
        segwork.load({"customers": customers, "mrr": mrr}), reuse_across_dates=True
    )
    prepare_totals(ahead)
    for other in (
        as_of,
        as_of - pd.offsets.MonthEnd(1),
        as_of - pd.Timedelta(days=17),
        as_of - pd.offsets.MonthEnd(w + 1),
        as_of + pd.offsets.MonthEnd(13),
    ):
        if other >= customers["signup_date"].min():
            pd.testing.assert_frame_equal(
                segment_table(ahead, None, other, window_months=w),
                segment_table(segwork.Engine(data, fast_paths=False), None, other, window_months=w),
            )
    assert not any(isinstance(k, PerCustomer | ActiveMonths) for k in ahead.table_keys())
    # a page's first date, then the month before that its key numbers compare with: both
    # months' MRR were summed with the bits
    first = segwork.Engine(
        segwork.load({"customers": customers, "mrr": mrr}), reuse_across_dates=True
    )
    pd.testing.assert_frame_equal(segment_table(first, "plan", as_of, window_months=w), by_plan)
    before = previous_period(as_of.date().isoformat())
    if pd.Timestamp(before) >= customers["signup_date"].min():
        pd.testing.assert_frame_equal(
            segment_table(first, None, before, window_months=w),
            segment_table(segwork.Engine(data, fast_paths=False), None, before, window_months=w),
        )
    # kept once; data without a month of MRR > 0 has no active months (the definition runs)
    kept = sum(isinstance(k, ActiveMonths) for k in page.table_keys())
    assert kept == int(bool((mrr["mrr"] > 0).any()))
    earlier = as_of - pd.offsets.MonthEnd(3)
    if earlier >= customers["signup_date"].min():
        expected_earlier = _reference(customers, mrr, earlier, w)
        for d in (data, page):
            again = segment_table(d, None, earlier, window_months=w)
            for col, expected in expected_earlier.items():
                assert again[col].iloc[0] == pytest.approx(expected), col


# -- planted effects of the synthetic sample ------------------------------------------------------
def test_planted_effects_recovered() -> None:
    generate = pytest.importorskip("segwork.data.generate")
    if not hasattr(generate, "make_saas_data"):
        pytest.skip("segwork.data.generate.make_saas_data not available")
    effects = generate.PLANTED_EFFECTS
    data = generate.make_saas_data(3000, random_state=0)

    def ratio_range(
        t: pd.DataFrame, col: str, num: object, den: object
    ) -> tuple[float, float, float]:
        r = t.set_index(col)
        n, d = r.loc[num], r.loc[den]
        return (
            n["churn_rate_low"] / d["churn_rate_high"],
            n["churn_rate"] / d["churn_rate"],
            n["churn_rate_high"] / d["churn_rate_low"],
        )

    # Annual customers churn less, with non-overlapping Wilson intervals.
    t = segment_table(data, ["billing_interval"], "2024-12-31").set_index("billing_interval")
    assert t.loc["annual", "churn_rate"] < t.loc["monthly", "churn_rate"]
    assert t.loc["annual", "churn_rate_high"] < t.loc["monthly", "churn_rate_low"]
    lo, _, hi = ratio_range(t.reset_index(), "billing_interval", "annual", "monthly")
    planted = effects["interval_multiplier"]["annual"] / effects["interval_multiplier"]["monthly"]
    # "near": annual terms can only end at an anniversary, so the months of a customer's first term
    # are at risk but cannot churn; with growing signups that dilutes the pooled annual rate, and
    # annual customers are mostly on the low-churn plans. The observed ratio is therefore below the
    # planted hazard multiplier (0.4), but of the same order: within a factor 2 of the range.
    assert lo <= planted <= 2 * hi

    # Feature adopters churn less; the planted multiplier lies in the ratio range of the intervals.
    f = effects["feature"]
    col = f"uses_{f}"
    u = segment_table(data, [col], "2024-12-31")
    r = u.set_index(col)
    assert r.loc[True, "churn_rate"] < r.loc[False, "churn_rate"]
    lo, _, hi = ratio_range(u, col, True, False)
    assert lo <= effects["feature_multiplier"] <= hi


@pytest.mark.parametrize(
    ("segmentations", "kwargs"),
    [
        ([["plan"], ["billing_interval"], ["plan", "billing_interval"], []], {}),
        (
            [["company_size"], ["company_size", "region"], ["region"]],
            {
                "bins": {"company_size": [10, 50, 250]},
                "where": {"plan": ["pro", "enterprise"]},
                "window_months": 6,
                "gross_margin": 0.8,
                "min_customers": 40,
            },
        ),
        (
            [["lifecycle_stage", "engagement"], ["engagement"], ["lifecycle_stage"]],
            {"confidence": 0.9},
        ),
    ],
)
@pytest.mark.filterwarnings("error")  # pandas' "mismatched null-like values" (NaN vs None)
def test_segment_tables_equal_one_segment_table_each(segmentations, kwargs):
    """Several segmentations from one engine query, summed from the finest counts: each equals
    segment_table exactly (values, dtypes, order, attrs), derived and binned criteria included."""
    data = segwork.load_sample()
    got = segwork.segment_tables(data, segmentations, "2024-12-31", **kwargs)
    assert len(got) == len(segmentations)
    for by, table in zip(segmentations, got, strict=True):
        want = segwork.segment_table(data, by, "2024-12-31", **kwargs)
        pd.testing.assert_frame_equal(table, want)
        assert table.attrs == want.attrs


def test_a_page_spanning_more_months_than_the_bits_runs_the_definition() -> None:
    """Data over more than MAX_BITS_MONTHS months: a page's engine keeps no bits of all time and
    gives the definition's table."""
    from segwork.metrics.page_months import MAX_BITS_MONTHS

    months = pd.date_range("2018-01-01", periods=MAX_BITS_MONTHS + 8, freq="MS")
    customers = pd.DataFrame(
        {"customer_id": [1, 2, 3], "signup_date": ["2018-01-01"] * 3, "plan": ["a", "a", "b"]}
    )
    mrr = pd.DataFrame(
        {
            "customer_id": [1] * len(months) + [2, 2, 3],
            "month": [*months, months[0], months[-1], months[-2]],
            "mrr": 10.0,
        }
    )
    data = segwork.load({"customers": customers, "mrr": mrr})
    page = segwork.Engine(data, reuse_across_dates=True)
    as_of = months[-1] + pd.offsets.MonthEnd(0)
    got = segment_table(page, "plan", as_of, window_months=3)
    pd.testing.assert_frame_equal(
        got, segment_table(segwork.Engine(data, fast_paths=False), "plan", as_of, window_months=3)
    )
    assert not any(isinstance(k, ActiveMonths) for k in page.table_keys())
    assert got["churned_customer_months"].sum() == 1  # customer 3 left in the last month


def test_the_engine_chooses_the_bits_path_up_to_its_width(data: segwork.Dataset) -> None:
    """A one-off call counts the churn window with the bits of one integer per customer (up to
    MAX_BITS_WINDOW months; a longer window runs the definition): the same table either way."""
    from segwork.metrics.segments import MAX_BITS_WINDOW

    for w in (1, 12, MAX_BITS_WINDOW, MAX_BITS_WINDOW + 1):
        fast = segment_table(data, "plan", "2024-12-31", window_months=w)
        slow = segment_table(
            segwork.Engine(data, fast_paths=False), "plan", "2024-12-31", window_months=w
        )
        pd.testing.assert_frame_equal(fast, slow)


def test_engagement_window_edges_hand_worked() -> None:
    """docs/metrics.md "Engagement": the window is the calendar months ending with as_of's month,
    events dated up to as_of.  Events on the window's first day (00:00) and on as_of up to its
    last second count; the second before the window and as_of's next midnight do not (nor for
    ``uses_<event>``, docs/metrics.md "Segmentations and derived attributes")."""
    customers = pd.DataFrame(
        {"customer_id": [1, 2], "signup_date": ["2023-06-01", "2023-06-01"]}
    )
    mrr = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 2],
            "month": ["2024-01-01", "2024-02-01", "2024-03-01"] * 2,
            "mrr": [10.0] * 6,
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 1, 2],
            "event": ["login"] * 5 + ["export"] * 2,
            "timestamp": pd.to_datetime(
                [
                    "2023-12-31 23:59:59",  # before the window: left out
                    "2024-01-01 00:00:00",  # the window's first second
                    "2024-03-15 23:59:59",  # as_of's last second
                    "2024-03-16 00:00:00",  # after as_of: left out
                    "2024-02-10 12:00:00",
                    "2024-03-15 23:59:59",  # uses_export: dated up to as_of
                    "2024-03-16 00:00:00",  # after as_of: not a use yet
                ]
            ),
            "count": [100, 3, 6, 100, 3, 0, 0],
        }
    )
    data = segwork.load({"customers": customers, "mrr": mrr, "events": events})
    got = engagement(data, "2024-03-15", window_months=3, levels=2).set_index("customer_id")
    assert got.loc[1, "events_per_active_month"] == pytest.approx(9 / 3)
    assert got.loc[2, "events_per_active_month"] == pytest.approx(3 / 3)
    assert list(got["engagement"]) == ["high", "low"]
    uses = segment_table(data, "uses_export", "2024-03-15").set_index("uses_export")
    assert uses.loc[True, "customers"] == 1 and uses.loc[False, "customers"] == 1


def test_engagement_with_derived_attributes_in_one_segmentation() -> None:
    """Engagement beside attributes computed on the engine (current plan, RFM segment): each
    one's counts add up to the segmentation by it alone.  (The engagement table once took the
    engine's name in the attribute code, and the next attribute was computed on it: a
    TypeError.)"""
    data = segwork.load_sample()
    day = "2024-12-31"

    def counts(frame: pd.DataFrame, col: str) -> dict[str, int]:
        # a missing value is a segment of its own: one key for it
        keys = frame[col].astype(object).where(frame[col].notna(), "<none>")
        return frame.groupby(keys)["customers"].sum().to_dict()

    for other in ("current_plan", "rfm_segment"):
        both = segwork.segment_table(data, ["engagement", other], day)
        for col in ("engagement", other):
            assert counts(both, col) == counts(segwork.segment_table(data, col, day), col)
