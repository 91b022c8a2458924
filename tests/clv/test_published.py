"""BG/NBD and Gamma-Gamma on the CDNOW sample against the published estimates.

Fader, Hardie & Lee (2005), "Counting your customers the easy way": r = 0.243, alpha = 4.414,
a = 0.793, b = 2.426, log-likelihood -9582.4; a customer with x = 2, t_x = 30.43, T = 38.86 has
E[Y(39)] = 1.226.  Fader & Hardie (2013), "The Gamma-Gamma model of monetary value", on the 946
repeat buyers of the same 2,357: p = 6.25, q = 3.74, v = 15.44.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segwork.clv import BetaGeoFit, GammaGammaFit, fit_bg_nbd, fit_gamma_gamma

DATA = Path(__file__).parent / "data" / "cdnow_customers_summary_with_transactions.csv"
PUBLISHED_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    df = pd.read_csv(DATA).rename(
        columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"}
    )
    assert len(df) == 2357
    return df


@pytest.fixture(scope="module")
def bg(cdnow: pd.DataFrame) -> BetaGeoFit:
    return fit_bg_nbd(cdnow)


def test_bg_nbd_cdnow_published_params(bg: BetaGeoFit) -> None:
    for name, value in PUBLISHED_BG.items():
        assert bg.params[name] == pytest.approx(value, rel=2e-3), name
    assert bg.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert bg.n_customers == 2357
    # standard errors: finite, positive, and small next to the estimates
    for name in PUBLISHED_BG:
        assert 0 < bg.standard_errors[name] < bg.params[name]


def test_bg_nbd_conditional_expectation_published(bg: BetaGeoFit) -> None:
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    published = BetaGeoFit(PUBLISHED_BG, {}, -9582.4, 2357)
    assert published.expected_purchases(39, one)[0] == pytest.approx(1.226, abs=5e-4)
    assert bg.expected_purchases(39, one)[0] == pytest.approx(1.226, abs=2e-3)


def test_gamma_gamma_cdnow_published_params(cdnow: pd.DataFrame) -> None:
    gg = fit_gamma_gamma(cdnow)
    assert gg.n_customers == 946
    for name, value in PUBLISHED_GG.items():
        assert gg.params[name] == pytest.approx(value, rel=2e-3), name
    # the correlation the model assumes away, as measured on the repeat buyers (weak here)
    repeat = cdnow[cdnow["frequency"] > 0]
    corr = float(np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1])
    assert gg.frequency_monetary_correlation == pytest.approx(corr)
    assert abs(corr) < 0.2
    # population mean p v / (q - 1) with the published parameters
    published = GammaGammaFit(PUBLISHED_GG, {}, 0.0, 946, 0.11)
    assert published.population_mean == pytest.approx(6.25 * 15.44 / 2.74)
