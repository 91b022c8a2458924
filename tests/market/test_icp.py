"""Tests of the ideal customer profile (docs/metrics.md "Ideal customer profile": the segment
table's LTV with its interval, NRR, churn; headroom as in "Penetration").  Hand-worked numbers are
in the comments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork.data.generate import PLANTED_EFFECTS, company_size_band
from segwork.market import ideal_customer_profile
from segwork.market.icp import ICP_COLUMNS
from segwork.sentences import describe_segment

AS_OF = "2024-02-29"


def hand_data(with_market: bool = False) -> segwork.Dataset:
    """6 customers signed up 2024-01-01, each at MRR 100.

    c1..c3: software, annual; active in Jan and Feb 2024.
    c4:     retail, monthly; active in Jan and Feb.
    c5, c6: retail, monthly; active in Jan only (churned in Feb).
    """
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "signup_date": ["2024-01-01"] * 6,
            "industry": ["software"] * 3 + ["retail"] * 3,
            "billing_interval": ["annual"] * 3 + ["monthly"] * 3,
        }
    )
    mrr = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 1, 2, 3, 4],
            "month": ["2024-01-01"] * 6 + ["2024-02-01"] * 4,
            "mrr": [100.0] * 10,
        }
    )
    frames = {"customers": customers, "mrr": mrr}
    if with_market:
        frames["market"] = pd.DataFrame(
            {"industry": ["software", "retail"], "accounts": [100, 50], "acv": [1000.0, 500.0]}
        )
    return segwork.load(frames)


def test_icp_by_hand() -> None:
    # churn window Feb 2024 (nothing earlier): at risk = active in Jan = all 6
    # annual: 3 at risk, 0 churned -> churn 0, LTV undefined; Wilson upper bound for 0 of 3:
    #   z = 1.95996, z^2/n = 1.28049, high = (z^2/2n) / (1 + z^2/n) x 2 = 0.56150
    #   ltv_low = ARPA 100 / 0.56150 = 178.09
    # monthly: 3 at risk, 2 churned -> churn 2/3, ARPA = 100 (c4 only) -> LTV 150;
    #   Wilson upper for 2 of 3 = 0.93850 -> ltv_low = 106.55
    # ranked by ltv_low: annual (178.09) first
    icp = ideal_customer_profile(hand_data(), AS_OF, by="billing_interval", min_customers=3)
    seg = icp.segments
    assert list(seg.columns) == ["rank", "segment", "billing_interval", *ICP_COLUMNS]
    assert seg["billing_interval"].tolist() == ["annual", "monthly"]
    assert seg["rank"].tolist() == [1, 2]
    assert seg["ltv_low"].tolist() == pytest.approx([178.09, 106.55], abs=0.01)
    assert math.isnan(seg["ltv"].iloc[0]) and seg["ltv"].iloc[1] == pytest.approx(150.0)
    assert seg["churn_rate"].tolist() == pytest.approx([0.0, 2 / 3])
    assert seg["customers"].tolist() == [3, 3]
    assert icp.profile == {"billing_interval": "annual"}
    assert icp.statement.startswith(
        "Customers on annual plans: LTV undefined (no churn seen; at least $178 at the 95% upper "
        "churn bound), churn 0.00%/month, ARPA $100/month, n = 3 customers"
    )
    assert "no market table: headroom not computed" in icp.statement
    assert math.isnan(icp.headroom)


def test_icp_headroom_by_hand() -> None:
    # by industry: software (the annual ones, no churn) beats retail; the market has 100 software
    # accounts at ACV 1000 and we have 3 software customers -> headroom 97 accounts x 1000 = 97,000
    icp = ideal_customer_profile(hand_data(with_market=True), AS_OF, by=["industry"],
                                 min_customers=3)  # fmt: skip
    assert icp.profile == {"industry": "software"}
    assert icp.headroom_accounts == 97.0
    assert icp.headroom == pytest.approx(97_000.0)
    best = icp.segments.iloc[0]
    assert (best["market_accounts"], best["market_acv"]) == (100.0, 1000.0)
    assert icp.statement.endswith(
        "Headroom: 97 companies in software in the market are not yet customers, x ACV $1.0k = "
        "$97.0k a year."
    )
    # combinations: industry x billing_interval gives the same two groups twice (3 candidates
    # of 3 customers each kind): the single criterion wins ties (fewer criteria first)
    icp2 = ideal_customer_profile(hand_data(with_market=True), AS_OF, min_customers=3)
    assert icp2.by == ("industry", "billing_interval")
    assert icp2.profile in ({"industry": "software"}, {"billing_interval": "annual"})
    assert icp2.segments["n_criteria"].iloc[0] == 1
    # billing_interval does not restrict the market: its headroom is the whole market
    annual = icp2.segments[icp2.segments["segment"] == "billing_interval = annual"].iloc[0]
    assert annual["market_accounts"] == 150.0


def test_no_segment_large_enough() -> None:
    icp = ideal_customer_profile(hand_data(), AS_OF, by="billing_interval", min_customers=30)
    assert icp.segments.empty and icp.profile == {}
    assert icp.statement.startswith("No segment by billing_interval has at least 30 customers")


def test_errors() -> None:
    with pytest.raises(ValueError, match="unknown segment column 'plan'; available: industry"):
        ideal_customer_profile(hand_data(), AS_OF, by=["plan"])
    with pytest.raises(ValueError, match="min_customers must be an integer >= 1"):
        ideal_customer_profile(hand_data(), AS_OF, min_customers=0)


def test_describe_segment() -> None:
    assert describe_segment(
        {"industry": "software", "company_size": "51-250", "region": "Europe",
         "billing_interval": "annual"}
    ) == "Companies in software with 51-250 employees in Europe, on annual plans"  # fmt: skip
    assert describe_segment({"uses_api": False, "lifecycle_stage": "mature"}) == (
        "Customers not using api, in the mature stage"
    )


# -- the sample: the planted effects ---------------------------------------------------------------
@pytest.fixture(scope="module")
def sample() -> segwork.Dataset:
    return segwork.load_sample()


def test_sample_icp_is_the_planted_best_firmographic_segment(sample: segwork.Dataset) -> None:
    # Planted (segwork.data.generate.PLANTED_EFFECTS): annual billing x 0.4 churn; bigger companies
    # buy bigger plans (enterprise churns 0.015 vs starter 0.05 a month, and pays most per seat,
    # with more seats). Among firmographics the best with >= 30 customers is therefore annual
    # billing in the largest size band that has enough customers: 251-1000 employees (1001+ has
    # about 15 customers in the sample). Industry and region have no planted effect.
    assert PLANTED_EFFECTS["interval_multiplier"]["annual"] < 1
    icp = ideal_customer_profile(sample, "2024-12-31")
    assert icp.by == ("industry", "company_size", "region", "billing_interval")
    assert icp.profile == {"company_size": "251-1000", "billing_interval": "annual"}
    assert icp.statement.startswith("Companies with 251-1000 employees, on annual plans: LTV $")
    best = icp.segments.iloc[0]
    assert best["customers"] >= 30
    # its churn is below every single-criterion segment's
    singles = icp.segments[icp.segments["n_criteria"] == 1]
    assert best["churn_rate"] < singles["churn_rate"].min()
    # headroom = 251-1000 accounts of every industry and region minus our 251-1000 customers
    market = sample.to_pandas("market")
    band = market[market["company_size"] == "251-1000"]
    customers = sample.to_pandas("customers")
    ours = customers.assign(band=company_size_band(customers["company_size"]))
    ours = ours[ours["band"] == "251-1000"].groupby(["industry", "region"]).size()
    cells = band.set_index(["industry", "region"])
    mine = ours.reindex(cells.index, fill_value=0)
    expected_accounts = np.maximum(cells["accounts"] - mine, 0)
    assert icp.headroom_accounts == float(expected_accounts.sum())
    assert icp.headroom == pytest.approx(float((expected_accounts * cells["acv_mode"]).sum()))
    assert "Headroom: " in icp.statement and "companies with 251-1000 employees" in icp.statement


def test_sample_icp_by_plan_and_feature(sample: segwork.Dataset) -> None:
    # Planted: enterprise (0.015) x annual (0.4) x invoice_automation users (0.5) is the lowest
    # hazard; enterprise pays most. The ICP is enterprise invoice_automation users (the annual
    # ones have no churn at all in the window, so the interval of the larger union wins), never
    # monthly-billed.
    icp = ideal_customer_profile(
        sample, "2024-12-31", by=["plan", "billing_interval", "uses_invoice_automation"]
    )
    assert icp.profile["plan"] == "enterprise"
    assert icp.profile["uses_invoice_automation"] is True
    assert icp.profile.get("billing_interval", "annual") == "annual"
    assert icp.statement.startswith("Enterprise customers")
    assert "using invoice automation" in icp.statement
