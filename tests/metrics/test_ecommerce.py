"""The segment table of transactions-only data (segwork.metrics.ecommerce; issue 23)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import segwork
import segwork.metrics.ecommerce as ecommerce
from segwork.clv import CLVFitError, predict_clv, simulate_bg_nbd
from segwork.metrics.ecommerce import (
    ECOMMERCE_SEGMENT_COLUMNS,
    WinBack,
    customers_to_win_back,
    ecommerce_segment_table,
    window_start,
)
from segwork.metrics.predictions import PredictedCLV
from segwork.metrics.segments import segment_table
from segwork.metrics.stats import wilson_interval

AS_OF = "2024-06-30"  # window_months=3: orders dated 2024-04-01 .. 2024-06-30


def _hand_data() -> segwork.Dataset:
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 7, 4, 5, 6, 8],
            "signup_date": ["2024-01-01"] * 7 + ["2024-07-15"],  # 8 signs up after as_of
            "country": ["DE", "DE", "DE", "DE", "FR", "FR", "FR", "DE"],
        }
    )
    rows = [
        # customer 1: order a (two lines) and order b on the same day in the window, c before it
        (1, "a", "2024-05-01", 10.0),
        (1, "a", "2024-05-01", 5.0),
        (1, "b", "2024-05-01", 20.0),
        (1, "c", "2024-02-01", 100.0),
        # customer 2: one order in the window
        (2, "d", "2024-06-10", 40.0),
        # customer 3: an order before the window only, and one after as_of (ignored)
        (3, "e", "2024-03-15", 50.0),
        (3, "f", "2024-07-05", 999.0),
        # customer 7: no order
        # customer 4: first day of the window, and as_of itself (two lines)
        (4, "g", "2024-04-01", 30.0),
        (4, "h", "2024-06-30", 10.0),
        (4, "h", "2024-06-30", 10.0),
        # customer 5: the day before the window, and one order in it
        (5, "i", "2024-03-31", 60.0),
        (5, "j", "2024-04-15", 15.0),
        # customer 6: two orders on one day (one purchase day)
        (6, "k", "2024-06-01", 25.0),
        (6, "l", "2024-06-01", 25.0),
        # customer 8: not in the population at as_of
        (8, "m", "2024-06-01", 500.0),
    ]
    tx = pd.DataFrame(rows, columns=["customer_id", "order_id", "date", "amount"])
    return segwork.load({"customers": customers, "transactions": tx})


def _fake_predict(data: object, as_of: object, **kwargs: object) -> pd.DataFrame:
    # customers with an order by as_of (8 included: the models see every customer)
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 8],
            "p_alive": [0.5, 0.7, 0.9, 0.2, 0.4, 0.6, 1.0],
            "clv": [10.0, 20.0, 30.0, 50.0, 60.0, 70.0, 1000.0],
        }
    )


def test_window_start() -> None:
    assert str(window_start(AS_OF, 3)) == "2024-04-01"
    assert str(window_start("2024-01-15", 1)) == "2024-01-01"
    assert str(window_start("2024-01-15", 13)) == "2023-01-01"


def test_hand_worked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ecommerce, "customer_predictions", _fake_predict)
    t = ecommerce_segment_table(_hand_data(), "country", AS_OF, window_months=3, min_customers=4)
    assert list(t.columns) == ["country", *ECOMMERCE_SEGMENT_COLUMNS]
    # ranked by mean CLV: FR (60) before DE (20)
    assert list(t.country) == ["FR", "DE"]
    fr, de = t.iloc[0], t.iloc[1]

    assert de.customers == 4 and fr.customers == 3  # 8 signed up after as_of; 7 has no order
    assert de.customers_share == pytest.approx(4 / 7) and fr.customers_share == pytest.approx(3 / 7)
    assert de.buyers == 2 and fr.buyers == 3  # 3 ordered before the window only
    assert de.orders == 3 and fr.orders == 5  # a (two lines), b, d; g, h, j, k, l
    assert de.revenue == pytest.approx(75.0) and fr.revenue == pytest.approx(115.0)
    assert de.revenue_share == pytest.approx(75 / 190)
    assert fr.revenue_share == pytest.approx(115 / 190)
    assert de.aov == pytest.approx(25.0) and fr.aov == pytest.approx(23.0)
    assert de.orders_per_customer == pytest.approx(1.5)
    assert fr.orders_per_customer == pytest.approx(5 / 3)
    # purchase days by as_of: 1 -> 2, 2 -> 1, 3 -> 1; 4 -> 2, 5 -> 2, 6 -> 1 (same-day orders)
    assert de.customers_with_orders == 3 and de.repeat_customers == 1
    assert fr.customers_with_orders == 3 and fr.repeat_customers == 2
    assert de.repeat_rate == pytest.approx(1 / 3) and fr.repeat_rate == pytest.approx(2 / 3)
    for row, k in ((de, 1), (fr, 2)):
        low, high = wilson_interval(k, 3, 0.95)
        assert row.repeat_rate_low == pytest.approx(float(low))
        assert row.repeat_rate_high == pytest.approx(float(high))
        # the Wilson score formula, z = 1.959964
        z, p, n = 1.959963984540054, k / 3, 3
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        assert row.repeat_rate_low == pytest.approx(centre - half)
        assert row.repeat_rate_high == pytest.approx(centre + half)
    # predictions: 7 has none (mean over 1, 2, 3), 8 is outside the population
    assert de.mean_p_alive == pytest.approx(0.7) and fr.mean_p_alive == pytest.approx(0.4)
    assert de.mean_clv == pytest.approx(20.0) and fr.mean_clv == pytest.approx(60.0)
    assert de.total_clv == pytest.approx(60.0) and fr.total_clv == pytest.approx(180.0)
    assert not de.small_segment and fr.small_segment
    for col in ("customers", "buyers", "orders", "customers_with_orders", "repeat_customers"):
        assert t[col].dtype == "int64"
    assert str(t.attrs["window_start"]) == "2024-04-01"
    assert "clv_error" not in t.attrs


def test_overall_row_and_where(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ecommerce, "customer_predictions", _fake_predict)
    data = _hand_data()
    for by in (None, []):
        t = ecommerce_segment_table(data, by, AS_OF, window_months=3)
        assert len(t) == 1 and list(t.columns) == list(ECOMMERCE_SEGMENT_COLUMNS)
        row = t.iloc[0]
        assert (row.customers, row.buyers, row.orders) == (7, 5, 8)
        assert row.revenue == pytest.approx(190.0) and row.revenue_share == pytest.approx(1.0)
        assert row.repeat_rate == pytest.approx(3 / 6)
        assert row.total_clv == pytest.approx(240.0) and row.mean_clv == pytest.approx(40.0)
    only = ecommerce_segment_table(data, "country", AS_OF, window_months=3, where={"country": "DE"})
    assert list(only.country) == ["DE"]
    assert (only.customers[0], only.orders[0], only.repeat_customers[0]) == (4, 3, 1)
    assert only.customers_share[0] == pytest.approx(1.0)


def test_failed_fit_leaves_clv_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: object, **kwargs: object) -> pd.DataFrame:
        raise CLVFitError("the fit did not converge")

    monkeypatch.setattr(ecommerce, "customer_predictions", failing)
    t = ecommerce_segment_table(_hand_data(), "country", AS_OF, window_months=3)
    assert t[["mean_p_alive", "mean_clv", "total_clv"]].isna().all().all()
    assert list(t.country) == ["DE", "FR"]  # NaN ranks tie: by the by column
    assert "did not converge" in t.attrs["clv_error"]
    assert t.orders.tolist() == [3, 5]


def test_bad_input() -> None:
    data = _hand_data()
    with pytest.raises(ValueError, match="window_months"):
        ecommerce_segment_table(data, "country", AS_OF, window_months=0)
    with pytest.raises(ValueError, match="min_customers"):
        ecommerce_segment_table(data, "country", AS_OF, min_customers=0)
    with pytest.raises(ValueError, match="unknown segment column"):
        ecommerce_segment_table(data, "nope", AS_OF)
    customers = pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-01"]})
    with pytest.raises(ValueError, match="transactions"):
        ecommerce_segment_table(segwork.load({"customers": customers}), None, AS_OF)


@pytest.fixture(scope="module")
def simulated() -> segwork.Dataset:
    params = {"r": 1.0, "alpha": 5.0, "a": 1.0, "b": 4.0}
    frames, ids = [], []
    for i, (country, mean_amount) in enumerate((("hi", 100.0), ("lo", 10.0), ("mid", 40.0))):
        tx = simulate_bg_nbd(150, params, mean_amount=mean_amount, seed=i)
        tx["customer_id"] = tx["customer_id"] + 1000 * i
        tx["order_id"] = f"{country}-" + tx["order_id"].astype(str)
        frames.append(tx)
        ids.append(pd.DataFrame({"customer_id": tx["customer_id"].unique(), "country": country}))
    tx = pd.concat(frames, ignore_index=True)
    customers = pd.concat(ids, ignore_index=True)
    first = tx.groupby("customer_id")["date"].min().rename("signup_date").reset_index()
    customers = customers.merge(first, on="customer_id")
    # a small segment of customers who never ordered
    none = pd.DataFrame(
        {"customer_id": [9001, 9002], "country": "none", "signup_date": pd.Timestamp("2024-02-01")}
    )
    customers = pd.concat([customers, none], ignore_index=True)
    return segwork.load({"customers": customers, "transactions": tx})


def test_simulated_ranking_and_dispatch(simulated: segwork.Dataset) -> None:
    as_of = "2024-12-31"
    t = ecommerce_segment_table(simulated, "country", as_of)
    assert "clv_error" not in t.attrs
    assert list(t.country) == ["hi", "mid", "lo", "none"]
    assert t.mean_clv.iloc[:3].is_monotonic_decreasing
    assert np.isnan(t.mean_clv.iloc[3]) and np.isnan(t.total_clv.iloc[3])
    assert t.small_segment.tolist() == [False, False, False, True]
    assert t.customers.iloc[:3].tolist() == [150, 150, 150]
    assert t.customers_with_orders.iloc[:3].tolist() == [150, 150, 150]
    assert t.customers_share.sum() == pytest.approx(1.0)
    assert t.revenue_share.sum() == pytest.approx(1.0)
    # the per-customer predictions, averaged per segment
    clv = predict_clv(simulated, as_of)
    hi = clv[clv.customer_id < 1000]
    assert t.mean_clv.iloc[0] == pytest.approx(hi.clv.mean())
    assert t.total_clv.iloc[0] == pytest.approx(hi.clv.sum())
    assert t.mean_p_alive.iloc[0] == pytest.approx(hi.p_alive.mean())
    # segment_table on transactions-only data is this table
    pd.testing.assert_frame_equal(segment_table(simulated, "country", as_of), t)
    # where keeps the models fitted on everybody: the row is the same
    only = segment_table(simulated, "country", as_of, where={"country": "mid"})
    row = t[t.country == "mid"].reset_index(drop=True)
    cols = ["customers", "buyers", "orders", "revenue", "repeat_rate", "mean_clv", "total_clv"]
    pd.testing.assert_frame_equal(only[["country", *cols]], row[["country", *cols]])


def test_segment_tables_on_transactions_only_data(simulated: segwork.Dataset) -> None:
    """Several segmentations of a shop: each table is segment_table's, and the customers' CLV
    is predicted once for all of them."""
    as_of = "2024-12-31"
    fresh = segwork.load(
        {name: simulated.to_pandas(name) for name in ("customers", "transactions")}
    )
    engine = segwork.Engine(fresh)
    tables = segwork.segment_tables(engine, [["country"], []], as_of)
    fits = [k for k in engine.frame_keys() if isinstance(k, PredictedCLV)]
    assert len(fits) == 1  # one fit served both tables
    pd.testing.assert_frame_equal(tables[0], segment_table(simulated, "country", as_of))
    pd.testing.assert_frame_equal(tables[1], segment_table(simulated, [], as_of))
    assert len(tables[1]) == 1 and tables[1].customers.iloc[0] == tables[0].customers.sum()


def test_customers_to_win_back_at_another_gross_margin_reuse_the_list(
    simulated: segwork.Dataset,
) -> None:
    """The list depends on revenue and P(alive): a page's engine keeps it per date, and another
    gross margin only looks its CLV up again; the result equals a one-off call's."""
    as_of = "2024-12-31"
    page = segwork.Engine(simulated)
    full = customers_to_win_back(page, as_of, gross_margin=1.0)
    assert len(full) > 0 and full.clv.notna().all()
    kept = [k for k in page.frame_keys() if isinstance(k, WinBack)]
    half = customers_to_win_back(page, as_of, gross_margin=0.5)
    assert [k for k in page.frame_keys() if isinstance(k, WinBack)] == kept
    alone = customers_to_win_back(simulated, as_of, gross_margin=0.5)
    pd.testing.assert_frame_equal(half, alone)
    assert half.attrs == alone.attrs
    pd.testing.assert_frame_equal(half.drop(columns="clv"), full.drop(columns="clv"))
    assert half.clv.to_numpy() == pytest.approx(0.5 * full.clv.to_numpy())
