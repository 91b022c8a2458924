"""Order values the Gamma-Gamma model cannot describe (q <= 1: an infinite mean order value) are
refused with a clear error, and predict_clv can still give P(alive) (issue 23)."""

from __future__ import annotations

import numpy as np
import pytest

import segwork
from segwork.clv import CLVFitError, clv_summary, fit_gamma_gamma, predict_clv


@pytest.fixture(scope="module")
def shop() -> segwork.Dataset:
    sample = segwork.load_sample()
    return segwork.load({n: sample.to_pandas(n) for n in ("customers", "transactions")})


def test_sample_order_values_refused(shop: segwork.Dataset) -> None:
    summary = clv_summary(shop, "2024-12-31")
    with pytest.raises(CLVFitError, match=r"q = 0\.\d\d <= 1.*infinite"):
        fit_gamma_gamma(summary)
    with pytest.raises(CLVFitError, match="Gamma-Gamma"):
        predict_clv(shop, "2024-12-31")
    out = predict_clv(shop, "2024-12-31", on_value_error="missing")
    assert "q = " in out.attrs["clv_error"]
    assert len(out) == len(summary) and out.clv.isna().all() and out.expected_value.isna().all()
    assert np.isfinite(out.p_alive).all() and ((out.p_alive > 0) & (out.p_alive <= 1)).all()
    assert np.isfinite(out.expected_purchases).all()
    with pytest.raises(ValueError, match="on_value_error"):
        predict_clv(shop, "2024-12-31", on_value_error="ignore")  # type: ignore[arg-type]
