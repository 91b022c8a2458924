"""Horizon-capped, discounted LTV (docs/metrics.md "Horizon-capped LTV"; issue 24: "Enterprise
annual LTV $1.7M on about $3.8k a month implies a 37-year lifetime")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork.metrics.ltv import CAPPED_LTV_COLUMNS, capped_ltv, with_capped_ltv

AS_OF = "2024-12-31"


def test_hand_worked() -> None:
    # ARPA 100, gm 0.8, churn 2 %/month, 12 months, no discount: the customer pays month 1 for
    # sure, month t with probability 0.98^(t-1): 80 x (1 + 0.98 + ... + 0.98^11)
    months = sum(0.98**t for t in range(12))  # 10.7642
    assert capped_ltv(100.0, 0.8, 0.02, 12)[0] == pytest.approx(80 * months)
    assert 80 * months == pytest.approx(861.1331, abs=1e-4)
    # 10 % a year: each month further is worth 1 / 1.1^(1/12) less
    d = 1.1 ** (-1 / 12)
    disc = sum((0.98 * d) ** t for t in range(12))
    assert capped_ltv(100.0, 0.8, 0.02, 12, 0.10)[0] == pytest.approx(80 * disc)
    assert 80 * disc < 80 * months


def test_edges() -> None:
    # no churn: H months (the uncapped LTV is undefined there); churn 1: the first month only
    assert capped_ltv([50.0, 50.0], 1.0, [0.0, 1.0], 36).tolist() == [1800.0, 50.0]
    # a missing churn stays missing; one month is ARPA x gm whatever the churn
    assert np.isnan(capped_ltv(50.0, 1.0, float("nan"), 12)[0])
    assert capped_ltv(50.0, 0.5, 0.3, 1)[0] == 25.0
    # a long horizon without discount tends to the uncapped ARPA x gm / churn
    assert capped_ltv(100.0, 0.8, 0.02, 5_000)[0] == pytest.approx(80 / 0.02)
    for bad in ({"horizon_months": 0}, {"horizon_months": 1.5},
                {"horizon_months": 12, "annual_discount_rate": -0.1}):
        with pytest.raises(ValueError, match=r"horizon_months|annual_discount_rate"):
            capped_ltv(100.0, 0.8, 0.02, **bad)  # type: ignore[arg-type]


def test_never_above_the_uncapped_ltv_and_ordered_like_the_churn_interval() -> None:
    data = segwork.load_sample()
    table = segwork.segment_table(data, ["plan", "billing_interval"], AS_OF, gross_margin=0.8)
    capped = with_capped_ltv(table, 60, 0.1)
    # the rows, their order and every other column are the segment table's own
    pd.testing.assert_frame_equal(capped.drop(columns=list(CAPPED_LTV_COLUMNS)), table)
    cols = list(capped.columns)
    assert cols[cols.index("ltv") + 1: cols.index("ltv") + 4] == list(CAPPED_LTV_COLUMNS)
    assert capped.attrs["ltv_horizon_months"] == 60 and capped.attrs["ltv_discount_rate"] == 0.1
    has = table["ltv"].notna()
    assert (capped.loc[has, "ltv_capped"] <= capped.loc[has, "ltv"] + 1e-9).all()
    assert (capped["ltv_capped_low"] <= capped["ltv_capped"] + 1e-9).all()
    assert (capped["ltv_capped"] <= capped["ltv_capped_high"] + 1e-9).all()
    # each row by the formula, from its own ARPA and churn
    row = capped.iloc[0]
    q = (1 - row["churn_rate"]) / 1.1 ** (1 / 12)
    assert row["ltv_capped"] == pytest.approx(row["arpa"] * 0.8 * (1 - q**60) / (1 - q))


def test_the_page_offers_it() -> None:
    from segwork.widgets import SegmentExplorer

    data = segwork.load_sample()
    plain = SegmentExplorer(data)
    assert "ltv_capped" not in plain.result.columns  # no horizon: the table as before
    capped = SegmentExplorer(data, ltv_horizon_months=60, ltv_discount_rate=0.1)
    want = with_capped_ltv(plain.result, 60, 0.1)
    pd.testing.assert_frame_equal(capped.result, want, check_like=False)
    # the LTV chart follows: the capped LTV, its horizon and discount named in the title
    bars = capped.figures["ltv"].data[0]
    np.testing.assert_allclose(np.asarray(bars.y, dtype=float), want["ltv_capped"].to_numpy())
    title = capped.figures["ltv"].layout.title.text
    assert "over 60 months, discounted 10 % a year" in title
    assert "months" not in plain.figures["ltv"].layout.title.text
