"""Gamma-Gamma: conditional expected value by hand, planted truth, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segwork.clv import CLVFitError, GammaGammaFit, fit_gamma_gamma


def test_expected_value_by_hand() -> None:
    fit = GammaGammaFit({"p": 6.0, "q": 4.0, "v": 15.0}, {}, 0.0, 0, 0.0)
    s = pd.DataFrame({"frequency": [0, 2], "monetary_value": [np.nan, 20.0]})
    population = 6.0 * 15.0 / 3.0  # p v / (q - 1) = 30
    own = 6.0 * (15.0 + 2 * 20.0) / (6.0 * 2 + 4.0 - 1.0)  # p (v + x m) / (p x + q - 1)
    assert fit.expected_value(s).tolist() == pytest.approx([population, own])
    # the same as the weighted average of the population mean and the customer's own mean
    w = 3.0 / 15.0
    assert own == pytest.approx(w * population + (1 - w) * 20.0)


def test_planted_truth_recovered() -> None:
    rng = np.random.default_rng(5)
    p, q, v = 4.0, 5.0, 40.0
    x = rng.integers(1, 8, 3000)
    nu = rng.gamma(q, 1.0 / v, 3000)
    m = np.array([rng.gamma(p, 1.0 / n, k).mean() for n, k in zip(nu, x, strict=True)])
    fit = fit_gamma_gamma(pd.DataFrame({"frequency": x, "monetary_value": m}))
    for name, value in {"p": p, "q": q, "v": v}.items():
        assert abs(fit.params[name] - value) < 3 * fit.standard_errors[name], name
    assert abs(fit.frequency_monetary_correlation) < 0.06


def test_refusals() -> None:
    with pytest.raises(CLVFitError, match="needs repeat buyers and has 1"):
        fit_gamma_gamma(pd.DataFrame({"frequency": [0, 1], "monetary_value": [np.nan, 5.0]}))
    with pytest.raises(ValueError, match="positive monetary_value"):
        fit_gamma_gamma(pd.DataFrame({"frequency": [1, 2], "monetary_value": [5.0, -1.0]}))
    with pytest.raises(ValueError, match="lacks column"):
        fit_gamma_gamma(pd.DataFrame({"frequency": [1, 2]}))


def test_the_fast_likelihood_and_gradient_equal_the_definition() -> None:
    """The fit's one-pass likelihood equals eq. 3 written out (:func:`_log_lik`), and its
    gradient the finite differences of it."""
    from scipy import optimize

    from segwork.clv.gamma_gamma import _log_lik, _neg_ll_and_grad

    rng = np.random.default_rng(2)
    x = rng.integers(1, 8, 300).astype(float)
    m = rng.gamma(2.0, 20.0, 300)
    for p in ([3.0, 4.0, 30.0], [6.25, 3.74, 15.44], [0.8, 1.5, 200.0]):
        params = np.array(p)
        value, grad = _neg_ll_and_grad(params, x, m)
        assert value == pytest.approx(-_log_lik(params, x, m).mean(), rel=1e-12)
        numeric = optimize.approx_fprime(params, lambda q: -_log_lik(q, x, m).mean(), 1e-8)
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)
