"""predict_clv: the monthly discounted sum, margin scaling, p_alive, parameter checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork.clv import BetaGeoFit, GammaGammaFit, clv_from_fits, predict_clv, simulate_bg_nbd

BG = BetaGeoFit({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, {}, 0.0, 0)
GG = GammaGammaFit({"p": 6.25, "q": 3.74, "v": 15.44}, {}, 0.0, 0, 0.0)
SUMMARY = pd.DataFrame(
    {
        "customer_id": [1, 2, 3],
        "frequency": [2, 0, 5],
        "recency": [30.43, 0.0, 10.0],
        "T": [38.86, 20.0, 38.86],
        "monetary_value": [22.35, np.nan, 40.0],
    }
)
WEEKS_PER_MONTH = 365.25 / 12 / 7


def test_monthly_discounted_sum_by_hand() -> None:
    out = clv_from_fits(SUMMARY, BG, GG, horizon_months=3, discount_rate=0.02, gross_margin=0.6)
    ev = GG.expected_value(SUMMARY)
    cum = [BG.expected_purchases(k * WEEKS_PER_MONTH, SUMMARY) for k in range(4)]
    by_hand = sum(0.6 * ev * (cum[k] - cum[k - 1]) / 1.02**k for k in (1, 2, 3))
    assert out.clv.to_numpy() == pytest.approx(by_hand)
    assert out.expected_purchases.to_numpy() == pytest.approx(cum[3])
    assert out.expected_value.to_numpy() == pytest.approx(ev)
    assert cum[0] == pytest.approx(np.zeros(3))
    # no discount: margin x value x purchases over the horizon
    flat = clv_from_fits(SUMMARY, BG, GG, horizon_months=3, discount_rate=0.0)
    assert flat.clv.to_numpy() == pytest.approx(ev * cum[3])
    # gross margin scales linearly; discounting lowers the value
    half = clv_from_fits(SUMMARY, BG, GG, horizon_months=3, discount_rate=0.0, gross_margin=0.5)
    assert half.clv.to_numpy() == pytest.approx(0.5 * flat.clv.to_numpy())
    assert (out.clv.to_numpy() < 0.6 * flat.clv.to_numpy()).all()


def test_customers_with_the_same_history_share_one_computation() -> None:
    """clv_from_fits computes the purchase model once per distinct (frequency, recency, T) and
    gathers: the result is the per-row computation exactly, whatever the rows' order."""
    rng = np.random.default_rng(3)
    rows = SUMMARY.sample(40, replace=True, random_state=1).reset_index(drop=True)
    rows["customer_id"] = np.arange(40)
    rows.loc[rows.frequency > 0, "monetary_value"] = rng.uniform(5, 50, (rows.frequency > 0).sum())
    out = clv_from_fits(rows, BG, GG, horizon_months=4, discount_rate=0.03, gross_margin=0.7)
    cum = np.column_stack(
        [np.zeros(40)] + [BG.expected_purchases(k * WEEKS_PER_MONTH, rows) for k in range(1, 5)]
    )
    assert np.array_equal(out.p_alive.to_numpy(), BG.p_alive(rows))
    assert np.array_equal(out.expected_purchases.to_numpy(), cum[:, -1])
    by_row = 0.7 * GG.expected_value(rows) * (np.diff(cum, axis=1) @ 1.03 ** -np.arange(1, 5))
    assert np.array_equal(out.clv.to_numpy(), by_row)
    assert out.customer_id.tolist() == list(range(40))


def test_period_units_agree() -> None:
    """The same customers in days and in weeks give the same CLV (alpha rescaled)."""
    days = SUMMARY.assign(recency=SUMMARY.recency * 7, T=SUMMARY["T"] * 7)
    bg_days = BetaGeoFit({**BG.params, "alpha": BG.params["alpha"] * 7}, {}, 0.0, 0)
    weeks = clv_from_fits(SUMMARY, BG, GG, horizon_months=6)
    in_days = clv_from_fits(days, bg_days, GG, horizon_months=6, period="day")
    assert in_days.clv.to_numpy() == pytest.approx(weeks.clv.to_numpy())


@pytest.fixture(scope="module")
def predicted() -> pd.DataFrame:
    tx = simulate_bg_nbd(300, {"r": 1.0, "alpha": 5.0, "a": 1.0, "b": 4.0}, seed=2)
    extra = pd.DataFrame(
        [  # 9001: one order; 9002: repeat buyer silent since February; 9003: the same, recent
            (9001, "h1", "2024-03-01", 50.0),
            (9002, "h2", "2024-01-05", 50.0),
            (9002, "h3", "2024-01-20", 50.0),
            (9002, "h4", "2024-02-05", 50.0),
            (9003, "h5", "2024-01-05", 50.0),
            (9003, "h6", "2024-06-20", 50.0),
            (9003, "h7", "2024-12-20", 50.0),
        ],
        columns=["customer_id", "order_id", "date", "amount"],
    ).assign(date=lambda d: pd.to_datetime(d.date))
    data = segwork.load({"transactions": pd.concat([tx, extra], ignore_index=True)})
    return predict_clv(data, "2024-12-31", horizon_months=12, discount_rate=0.01).set_index(
        "customer_id"
    )


def test_predict_clv_end_to_end(predicted: pd.DataFrame) -> None:
    assert list(predicted.columns) == [
        "frequency", "recency", "T", "monetary_value",
        "p_alive", "expected_purchases", "expected_value", "clv",
    ]  # fmt: skip
    assert len(predicted) == 303
    assert predicted.loc[9001, "p_alive"] == 1.0  # no repeat purchase: not yet able to drop out
    assert predicted.loc[9002, "p_alive"] < predicted.loc[9003, "p_alive"] < 1.0
    assert predicted.loc[9002, "clv"] < predicted.loc[9003, "clv"]
    assert (predicted.clv > 0).all() and np.isfinite(predicted.clv).all()
    assert (predicted.p_alive <= 1.0).all() and (predicted.p_alive < 1.0).any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon_months": 0}, "horizon_months must be a whole number >= 1"),
        ({"horizon_months": 1.5}, "horizon_months must be a whole number >= 1"),
        ({"horizon_months": True}, "horizon_months must be a whole number >= 1"),
        ({"discount_rate": -0.01}, "discount_rate is a monthly rate >= 0"),
        ({"gross_margin": 0.0}, r"gross_margin is a share of revenue in \(0, 1\]"),
        ({"gross_margin": 1.5}, r"gross_margin is a share of revenue in \(0, 1\]"),
        ({"period": "year"}, "period must be one of"),
    ],
)
def test_parameter_errors(kwargs: dict, message: str) -> None:
    tx = pd.DataFrame(
        {"customer_id": [1], "order_id": ["a"], "date": ["2024-01-01"], "amount": [1.0]}
    )
    with pytest.raises(ValueError, match=message):
        predict_clv(segwork.load({"transactions": tx}), "2024-12-31", **kwargs)
