"""Derived criteria of shop data (clv_band, alive_band, first_product), the customers to win
back and the member export of the e-commerce table (segwork.metrics.ecommerce; issue 23)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segwork
import segwork.metrics.ecommerce as ecommerce
from segwork.metrics.ecommerce import (
    clv_band_edges,
    customers_to_win_back,
    ecommerce_attributes,
    ecommerce_members,
    ecommerce_segment_table,
)
from segwork.metrics.segments import segment_table
from tests.metrics.test_ecommerce import AS_OF, _fake_predict, _hand_data

# _fake_predict: p_alive 1: 0.5, 2: 0.7, 3: 0.9, 4: 0.2, 5: 0.4, 6: 0.6, 8: 1.0 (7: no order);
# clv 10, 20, 30, 50, 60, 70, 1000 in that order


@pytest.fixture(autouse=True)
def _fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ecommerce, "customer_predictions", _fake_predict)


def test_bands_by_hand() -> None:
    t = ecommerce_segment_table(_hand_data(), "alive_band", AS_OF, window_months=3)
    got = {
        (None if pd.isna(b) else b): (n, m)
        for b, n, m in zip(t.alive_band, t.customers, t.mean_clv, strict=True)
    }
    assert got["<= 0.25"] == (1, 50.0)  # customer 4
    assert got["(0.25, 0.5]"] == (2, 35.0)  # 1 and 5
    assert got["(0.5, 0.75]"] == (2, 45.0)  # 2 and 6
    assert got["> 0.75"] == (1, 30.0)  # 3
    assert got[None][0] == 1 and np.isnan(got[None][1])  # 7 has no order
    # ranked by mean CLV, the band without a prediction last
    assert t.alive_band.tolist()[:4] == ["<= 0.25", "(0.5, 0.75]", "(0.25, 0.5]", "> 0.75"]
    assert t.attrs["alive_band_edges"] == [0.25, 0.5, 0.75]
    # segment_table dispatches to the same table
    pd.testing.assert_frame_equal(
        segment_table(_hand_data(), "alive_band", AS_OF, window_months=3), t
    )


def test_band_edges_adjustable_and_where() -> None:
    data = _hand_data()
    bins = {"clv_band": [25, 55]}
    t = ecommerce_segment_table(data, ["clv_band"], AS_OF, bins=bins, window_months=3)
    counts = dict(zip(t.clv_band.fillna("none"), t.customers, strict=True))
    assert counts == {"> 55": 2, "(25, 55]": 2, "<= 25": 2, "none": 1}
    assert t.attrs["clv_band_edges"] == [25.0, 55.0]
    only = ecommerce_segment_table(
        data, "country", AS_OF, bins=bins, where={"clv_band": "> 55"}, window_months=3
    )
    assert only.country.tolist() == ["FR"] and only.customers.tolist() == [2]  # 5 and 6
    assert only.mean_clv.tolist() == [65.0]
    alive = ecommerce_segment_table(
        data, "alive_band", AS_OF, bins={"alive_band": [0.5]}, window_months=3
    )
    assert dict(zip(alive.alive_band.fillna("none"), alive.customers, strict=True)) == {
        "<= 0.5": 3,
        "> 0.5": 3,
        "none": 1,
    }
    with pytest.raises(ValueError, match="matches no customer"):
        ecommerce_segment_table(data, "country", AS_OF, bins=bins, where={"clv_band": "> 5000"})
    with pytest.raises(ValueError, match="increasing"):
        ecommerce_segment_table(data, "clv_band", AS_OF, bins={"clv_band": [50, 10]})
    with pytest.raises(ValueError, match="product"):
        ecommerce_segment_table(data, "first_product", AS_OF)
    assert ecommerce_attributes(data) == ["clv_band", "alive_band"]


def test_default_clv_band_edges() -> None:
    # 50th, 80th, 95th percentiles of 10, 20, 30, 50, 60, 70, 1000: 50, 68, 721 -> 720
    t = ecommerce_segment_table(_hand_data(), "clv_band", AS_OF, window_months=3)
    assert t.attrs["clv_band_edges"] == [50.0, 68.0, 720.0]
    counts = dict(zip(t.clv_band.fillna("none"), t.customers, strict=True))
    assert counts == {"<= 50": 4, "(50, 68]": 1, "(68, 720]": 1, "none": 1}
    assert clv_band_edges([1.0, 1.0, 1.0]) == [1.0]
    assert clv_band_edges([0.012, 0.5, 3.3, 1234.0]) == [1.9, 500.0, 1000.0]  # 1.9, 496, 1049


def test_first_product() -> None:
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "signup_date": ["2024-01-01"] * 3})
    tx = pd.DataFrame(
        [
            (1, "a", "2024-02-01", 5.0, "mug"),
            (1, "a", "2024-02-01", 9.0, "tea"),
            (1, "b", "2024-02-01", 2.0, "mug"),  # mug 7 < tea 9 on the first day
            (1, "c", "2024-03-01", 90.0, "pot"),  # a later day does not count
            (2, "d", "2024-02-05", 4.0, "pot"),
            (2, "d", "2024-02-05", 4.0, "cup"),  # a tie: by name
            (3, "e", "2024-02-07", 6.0, None),  # no product named
        ],
        columns=["customer_id", "order_id", "date", "amount", "product"],
    )
    data = segwork.load({"customers": customers, "transactions": tx})
    assert ecommerce_attributes(data) == ["clv_band", "alive_band", "first_product"]
    t = ecommerce_segment_table(data, "first_product", AS_OF, min_customers=1)
    got = dict(zip(t.first_product.fillna("none"), t.customers, strict=True))
    assert got == {"tea": 1, "cup": 1, "none": 1}
    m = ecommerce_members(data, "first_product", AS_OF, {"first_product": "tea"})
    assert m.customer_id.tolist() == [1] and m.revenue.tolist() == [106.0]


def test_value_model_fails_p_alive_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_value(*args: object, **kwargs: object) -> pd.DataFrame:
        out = _fake_predict(*args).assign(clv=np.nan)
        out.attrs["clv_error"] = "the Gamma-Gamma fit of order values gives q = 0.52 <= 1"
        return out

    monkeypatch.setattr(ecommerce, "customer_predictions", no_value)
    t = ecommerce_segment_table(_hand_data(), ["country", "clv_band"], AS_OF, window_months=3)
    assert t.attrs["clv_error"].startswith("the Gamma-Gamma fit")
    assert t.mean_clv.isna().all() and t.clv_band.isna().all()
    de = t[t.country == "DE"].iloc[0]
    assert de.mean_p_alive == pytest.approx(0.7)  # 1, 2, 3
    a = ecommerce_segment_table(_hand_data(), "alive_band", AS_OF, window_months=3)
    assert a.alive_band.notna().sum() == 4 and a.attrs["clv_band_edges"] == []


def test_customers_to_win_back_by_hand() -> None:
    data = _hand_data()
    # revenue to date: 1: 135, 2: 40, 3: 50, 4: 50, 5: 75, 6: 50 (8 signed up after as_of)
    w = customers_to_win_back(data, AS_OF)  # revenue >= 80th percentile (75), P(alive) <= 0.5
    assert w.customer_id.tolist() == [1, 5]
    assert w.revenue.tolist() == [135.0, 75.0] and w.orders.tolist() == [3, 2]
    assert w.attrs["revenue_threshold"] == pytest.approx(75.0) and w.attrs["customers"] == 6
    assert str(w.last_order.iloc[0])[:10] == "2024-05-01"
    assert customers_to_win_back(data, AS_OF, max_p_alive=0.45).customer_id.tolist() == [5]
    half = customers_to_win_back(data, AS_OF, top_share=0.5)  # revenue >= 50
    assert half.customer_id.tolist() == [1, 5, 4]
    with pytest.raises(ValueError, match="top_share"):
        customers_to_win_back(data, AS_OF, top_share=0)


def test_members_of_a_band() -> None:
    m = ecommerce_members(_hand_data(), "alive_band", AS_OF, {"alive_band": "(0.25, 0.5]"})
    assert list(m.columns) == [
        "customer_id",
        "signup_date",
        "alive_band",
        "orders",
        "revenue",
        "last_order",
        "p_alive",
        "clv",
    ]
    assert m.customer_id.tolist() == [1, 5]
    assert m.orders.tolist() == [3, 2] and m.revenue.tolist() == [135.0, 75.0]
    assert m.p_alive.tolist() == [0.5, 0.4] and m.clv.tolist() == [10.0, 60.0]
    none = ecommerce_members(_hand_data(), "alive_band", AS_OF, {"alive_band": None})
    assert none.customer_id.tolist() == [7] and none.orders.tolist() == [0]
