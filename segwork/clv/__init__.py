"""Predicted customer value from transactions-only data (docs/metrics.md "Predicted customer
value"): the BG/NBD model of purchase counts and dropout, the Gamma-Gamma model of order value,
and their discounted customer lifetime value.

Implemented here with numpy/scipy (closed-form likelihoods); no CLV library is used.
"""

from segwork.clv._optim import CLVFitError
from segwork.clv.bg_nbd import BetaGeoFit, fit_bg_nbd
from segwork.clv.gamma_gamma import GammaGammaFit, fit_gamma_gamma
from segwork.clv.predict import clv_from_fits, fit_value_model, predict_clv
from segwork.clv.simulate import simulate_bg_nbd
from segwork.clv.summary import clv_summary
from segwork.clv.validation import (
    CLVValidation,
    check_holdout,
    clv_validation,
    validation_from_fit,
)

__all__ = [
    "BetaGeoFit",
    "CLVFitError",
    "CLVValidation",
    "GammaGammaFit",
    "check_holdout",
    "clv_from_fits",
    "clv_summary",
    "clv_validation",
    "fit_bg_nbd",
    "fit_gamma_gamma",
    "fit_value_model",
    "predict_clv",
    "simulate_bg_nbd",
    "validation_from_fit",
]
