"""BG/NBD: planted truth, the prediction formulas against simulation, and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork.clv import BetaGeoFit, CLVFitError, clv_summary, fit_bg_nbd, simulate_bg_nbd

TRUTH = {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5}


def test_planted_truth_recovered() -> None:
    tx = simulate_bg_nbd(3000, TRUTH, end="2025-06-30", seed=3)
    fit = fit_bg_nbd(clv_summary(segwork.load({"transactions": tx}), "2025-06-30"))
    for name, value in TRUTH.items():
        se = fit.standard_errors[name]
        assert np.isfinite(se) and se > 0
        assert abs(fit.params[name] - value) < 3 * se, (name, fit.params[name], se)


def test_predictions_match_simulation() -> None:
    """E[X(t)] of new customers and E[Y(t) | x, t_x, T] of a holdout, both with the true params."""
    # rates without a heavy tail, so that two purchases on one day (merged by the summary) are rare
    smooth = {"r": 2.0, "alpha": 10.0, "a": 0.8, "b": 2.5}
    truth = BetaGeoFit(smooth, {}, 0.0, 0)
    tx = simulate_bg_nbd(
        20000, smooth, acquisition_periods=0.0, end="2025-06-30", seed=11
    )  # everyone starts 2024-01-01; calibration 52 weeks to 2024-12-30 (leap year), holdout 26 weeks
    data = segwork.load({"transactions": tx})
    calibration = clv_summary(data, "2024-12-30")
    assert (calibration["T"] == 52.0).all()
    # purchases (orders, one per simulated purchase; the summary merges the rare same-day pairs)
    repeats = tx[tx.date <= "2024-12-30"].groupby("customer_id").size() - 1
    new = truth.expected_purchases_new(52.0)
    sd = repeats.std() / np.sqrt(len(repeats))
    assert repeats.mean() == pytest.approx(float(new), abs=3 * sd)

    holdout = tx[tx.date > "2024-12-30"].groupby("customer_id").size()
    actual = holdout.reindex(calibration.customer_id, fill_value=0).to_numpy()
    expected = truth.expected_purchases(26.0, calibration)
    # the rare same-day merges and the day rounding allow 3%
    assert actual.sum() == pytest.approx(expected.sum(), rel=0.03)
    # by frequency group too (the conditional part of eq. 10); not frequency 0, which also holds
    # the customers whose first repeat fell on their first day (merged into one purchase day)
    for x in (1, 3, 5):
        rows = (calibration.frequency == x).to_numpy()
        assert actual[rows].mean() == pytest.approx(expected[rows].mean(), rel=0.1, abs=0.02)


def test_p_alive_and_vector_t() -> None:
    fit = BetaGeoFit(TRUTH, {}, 0.0, 0)
    s = pd.DataFrame({"frequency": [0, 3, 3], "recency": [0.0, 39.0, 5.0], "T": [40.0] * 3})
    alive = fit.p_alive(s)
    assert alive[0] == 1.0  # no repeat purchase: cannot have dropped out under BG/NBD
    assert 0 < alive[2] < alive[1] < 1  # a long silence since the last purchase
    both = fit.expected_purchases(np.array([10.0, 20.0, 20.0]), s)
    assert both[1] > both[2]
    assert both[1] > fit.expected_purchases(10.0, s)[1]


def test_no_repeat_buyers_refused() -> None:
    s = pd.DataFrame({"frequency": [0] * 20, "recency": [0.0] * 20, "T": np.linspace(1, 30, 20)})
    with pytest.raises(CLVFitError, match="no customer has a repeat purchase") as info:
        fit_bg_nbd(s)
    assert "longer calibration period" in str(info.value)
    assert isinstance(info.value, segwork.SegworkError)


def test_non_convergence_message() -> None:
    # identical, perfectly regular buyers: no heterogeneity, r and alpha run off to infinity
    s = pd.DataFrame({"frequency": [5] * 50, "recency": [40.0] * 50, "T": [40.0] * 50})
    with pytest.raises(CLVFitError, match="did not converge") as info:
        fit_bg_nbd(s)
    message = str(info.value)
    assert "more customers" in message and "period='day'" in message


def test_bad_summary() -> None:
    with pytest.raises(ValueError, match="lacks column"):
        fit_bg_nbd(pd.DataFrame({"frequency": [1]}))
    with pytest.raises(ValueError, match="recency <= T"):
        fit_bg_nbd(pd.DataFrame({"frequency": [1], "recency": [5.0], "T": [2.0]}))
    with pytest.raises(ValueError, match="no customers"):
        fit_bg_nbd(pd.DataFrame({"frequency": [], "recency": [], "T": []}))


def test_the_fast_likelihood_and_gradient_equal_the_definition() -> None:
    """The fit's one-pass likelihood (Gamma and Beta functions per distinct frequency) equals
    eq. 6 written out (:func:`_log_lik`), and its gradient the finite differences of it."""
    from scipy import optimize

    from segwork.clv.bg_nbd import _log_lik, _neg_ll_and_grad

    rng = np.random.default_rng(1)
    x = rng.integers(0, 6, 200).astype(float)
    T = rng.uniform(5, 40, 200)
    t_x = np.where(x > 0, rng.uniform(0, 1, 200) * T, 0.0)
    w = rng.integers(1, 4, 200).astype(float)
    for p in ([0.7, 3.1, 0.9, 2.2], [0.24, 4.4, 0.79, 2.43], [2.0, 0.5, 0.3, 0.8]):
        params = np.array(p)
        value, grad = _neg_ll_and_grad(params, x, t_x, T, w)
        assert value == pytest.approx(-(w @ _log_lik(params, x, t_x, T)) / w.sum(), rel=1e-12)
        numeric = optimize.approx_fprime(
            params, lambda q: -(w @ _log_lik(q, x, t_x, T)) / w.sum(), 1e-8
        )
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)
