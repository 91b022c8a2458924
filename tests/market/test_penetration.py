"""Tests of penetration (docs/metrics.md "Penetration": the market segments with the customers of
the Dataset).

Expected values are worked out by hand; the arithmetic is in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork.market import market_size, penetration
from segwork.market.penetration import (
    PENETRATION_COLUMNS,
    PenetrationCounts,
    size_bands_from_labels,
)

AS_OF = "2024-03-31"


def hand_data() -> segwork.Dataset:
    """6 customers; market by industry x company-size band x region.

    c1 software,   5 employees, Europe   MRR 100 in 2024-03          -> software/1-10, active
    c2 software,  30 employees, Europe   MRR  50 in 2024-02 only     -> software/11-50, churned
    c3 retail,     5 employees, Europe   MRR  20 in 2024-03          -> retail/1-10, active
    c4 software,  no size,      Europe   MRR  30 in 2024-03          -> unmatched: missing size
    c5 mining,     5 employees, Europe   MRR  10 in 2024-03          -> unmatched: no segment
    c6 software,   5 employees, Europe   signs up 2024-04-15 (after as_of: not in the population)
    """
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "signup_date": ["2024-01-05", "2024-01-10", "2024-02-01", "2024-02-01", "2024-03-01",
                            "2024-04-15"],
            "industry": ["software", "software", "retail", "software", "mining", "software"],
            "company_size": [5, 30, 5, None, 5, 5],
            "region": ["Europe"] * 6,
        }
    )  # fmt: skip
    mrr = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "month": ["2024-03-01", "2024-02-01", "2024-03-01", "2024-03-01", "2024-03-01",
                      "2024-04-01"],
            "mrr": [100.0, 50.0, 20.0, 30.0, 10.0, 99.0],
        }
    )  # fmt: skip
    market = pd.DataFrame(
        {
            "industry": ["software", "software", "retail", "retail"],
            "company_size": ["1-10", "11-50", "1-10", "11-50"],
            "region": ["Europe"] * 4,
            "accounts": [100, 20, 50, 0],
            "acv": [1000.0, 5000.0, 500.0, 800.0],
        }
    )
    return segwork.load({"customers": customers, "mrr": mrr, "market": market})


def test_penetration_by_hand() -> None:
    data = hand_data()
    p = penetration(data, AS_OF, sizing={"share": 0.1, "horizon_years": 0})
    seg = p.segments
    assert list(seg.columns) == ["industry", "company_size", "region", *PENETRATION_COLUMNS]
    # penetration = customers / accounts, sorted descending (NaN last):
    #   software/11-50: 1 / 20 = 0.05; retail/1-10: 1 / 50 = 0.02; software/1-10: 1 / 100 = 0.01;
    #   retail/11-50: 0 / 0 -> NaN (denominator 0: NaN, docs/metrics.md "Conventions")
    assert seg[["industry", "company_size"]].values.tolist() == [
        ["software", "11-50"], ["retail", "1-10"], ["software", "1-10"], ["retail", "11-50"],
    ]  # fmt: skip
    assert seg["customers"].tolist() == [1, 1, 1, 0]
    assert seg["customers"].dtype == "int64" and seg["active_customers"].dtype == "int64"
    # active = MRR > 0 in 2024-03: c2 is not active
    assert seg["active_customers"].tolist() == [0, 1, 1, 0]
    # ARR = 12 x MRR in 2024-03: c3 12 x 20 = 240, c1 12 x 100 = 1200
    assert seg["arr"].tolist() == [0.0, 240.0, 1200.0, 0.0]
    assert seg["penetration"].tolist()[:3] == pytest.approx([0.05, 0.02, 0.01])
    assert np.isnan(seg["penetration"].iloc[3])
    assert seg["active_penetration"].tolist()[:3] == pytest.approx([0.0, 0.02, 0.01])
    # SOM per segment (share 0.1, horizon 0) = 0.1 x accounts x acv: 10,000; 2,500; 10,000; 0
    assert seg["som"].tolist() == pytest.approx([10_000.0, 2_500.0, 10_000.0, 0.0])
    # arr_to_som = arr / som: 0, 240 / 2500 = 0.096, 1200 / 10000 = 0.12, 0 / 0 = NaN
    assert seg["arr_to_som"].tolist()[:3] == pytest.approx([0.0, 0.096, 0.12])
    # headroom: accounts not yet customers x ACV: 19 x 5000, 49 x 500, 99 x 1000, 0
    assert seg["headroom_accounts"].tolist() == [19, 49, 99, 0]
    assert seg["headroom"].tolist() == pytest.approx([95_000.0, 24_500.0, 99_000.0, 0.0])

    # unmatched customers are counted and reported, never dropped
    assert (p.n_customers, p.n_matched, p.n_unmatched) == (5, 3, 2)
    un = p.unmatched
    # sorted by customers descending, then the criteria (mining < software)
    assert un["reason"].tolist() == ["no market segment", "missing company_size"]
    assert un["industry"].tolist() == ["mining", "software"]
    assert un["company_size"].tolist() == ["1-10", None]
    assert un["arr"].tolist() == [120.0, 360.0]  # 12 x 10, 12 x 30
    assert un["customers"].dtype == "int64"

    t = p.totals.iloc[0]
    assert (t["customers"], t["matched_customers"], t["unmatched_customers"]) == (5, 3, 2)
    assert t["active_customers"] == 4  # c1, c3, c4, c5
    # ARR = 1200 + 240 + 360 + 120 = 1,920; SOM = 0.1 x (100,000 + 100,000 + 25,000) = 22,500
    assert t["arr"] == pytest.approx(1920.0)
    assert t["matched_arr"] == pytest.approx(1440.0)
    assert t["som"] == pytest.approx(22_500.0)
    assert t["arr_to_som"] == pytest.approx(1920 / 22_500)
    # penetration overall = matched customers / accounts = 3 / 170
    assert t["penetration"] == pytest.approx(3 / 170)
    assert "3 of 5 customers" in p.sentence
    assert "missing company_size: 1; no market segment: 1" in p.sentence


def test_counts_add_up_on_the_sample_with_a_market_gap() -> None:
    data = segwork.load_sample()
    market = data.to_pandas("market")
    p = penetration(data, "2024-12-31", sizing={"n_draws": 100})
    assert p.n_unmatched == 0 and p.n_matched == p.n_customers == 2000
    assert p.segments["customers"].sum() == p.n_matched
    # without the LATAM rows the LATAM customers match no segment, and are reported
    no_latam = market[market["region"] != "LATAM"]
    q = penetration(data, "2024-12-31", market=no_latam, sizing={"n_draws": 100})
    latam = int((data.to_pandas("customers")["region"] == "LATAM").sum())
    assert q.n_unmatched == latam > 0
    assert q.n_matched + q.n_unmatched == q.n_customers == 2000
    assert set(q.unmatched["region"]) == {"LATAM"}
    assert set(q.unmatched["reason"]) == {"no market segment"}
    assert q.unmatched["customers"].sum() == latam
    assert len(q.segments) == len(no_latam)


def test_sizing_argument() -> None:
    data = hand_data()
    size = market_size(data, criteria=["industry", "company_size", "region"], share=0.2)
    p = penetration(data, AS_OF, sizing=size)
    assert p.sizing is size
    with pytest.raises(ValueError, match="sizing has criteria"):
        penetration(data, AS_OF, criteria=["industry"], sizing=size)


def test_criteria_subset_and_errors() -> None:
    data = hand_data()
    p = penetration(data, AS_OF, criteria=["industry"])
    # software: 3 customers (c1, c2, c4 - c4's missing size does not matter now) of 120 accounts
    seg = p.segments.set_index("industry")
    assert seg.loc["software", "customers"] == 3
    assert seg.loc["software", "accounts"] == 120
    assert (p.n_matched, p.n_unmatched) == (4, 1)
    with pytest.raises(ValueError, match="unknown market criterion 'country'"):
        penetration(data, AS_OF, criteria=["country"])
    market = data.to_pandas("market").assign(plan="pro")
    with pytest.raises(ValueError, match="unknown segment column 'plan'"):
        penetration(data, AS_OF, criteria=["plan"], market=market)


def test_size_bands() -> None:
    assert size_bands_from_labels(["1-10", "11-50", "51-250", "251-1000", "1001+"]) == (
        (0.0, 10.0, 50.0, 250.0, 1000.0), ("1-10", "11-50", "51-250", "251-1000", "1001+"),
    )  # fmt: skip
    assert size_bands_from_labels(["1-10", "20-50"]) is None  # a gap
    data = hand_data()
    # explicit bands: everything above 0 employees in "1-10" would put c2 (30) out of range...
    p = penetration(data, AS_OF, size_bands=((0, 20), ("1-10", "11-50")))
    # ...here 0 < 30 and 30 > 20 -> "11-50" (edges are lower edges), c1 (5) -> "1-10"
    assert (
        p.segments.set_index(["industry", "company_size"]).loc[("software", "11-50"), "customers"]
        == 1
    )
    market = data.to_pandas("market").assign(company_size=lambda d: d["company_size"] + " staff")
    with pytest.raises(ValueError, match="not bands like"):
        penetration(data, AS_OF, market=market)


def test_customer_counts_cached_across_sizing_assumptions() -> None:
    """The customers per segment do not depend on share or horizon: a Dataset counts them once
    per (as_of, criteria, bands) in the engine; results equal those of a fresh Dataset."""
    data = segwork.Engine(segwork.load_sample())
    first = penetration(data, "2024-12-31", sizing={"share": 0.05})
    keys = [k for k in data.table_keys() if isinstance(k, PenetrationCounts)]
    assert len(keys) == 1
    again = penetration(data, "2024-12-31", sizing={"share": 0.08, "horizon_years": 5})
    assert [k for k in data.table_keys() if isinstance(k, PenetrationCounts)] == keys
    fresh = penetration(
        segwork.load_sample(), "2024-12-31", sizing={"share": 0.08, "horizon_years": 5}
    )
    pd.testing.assert_frame_equal(again.segments, fresh.segments)
    pd.testing.assert_frame_equal(again.totals, fresh.totals)
    assert first.totals["customers"].iloc[0] == again.totals["customers"].iloc[0]
    assert not first.segments["som"].equals(again.segments["som"])
