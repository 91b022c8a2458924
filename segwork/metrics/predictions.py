"""Every customer's predicted value at a date, on a page's engine (docs/metrics.md "Predicted
customer value").

:func:`segwork.clv.predict_clv` is the definition: the customer-value summary, the BG/NBD and
Gamma-Gamma fits, and the discounted sum.  Here each part is kept by the engine under its own
key, so the segment tables, their derived criteria, the members, the customers to win back and
the calibration check (the purchase model fitted at an earlier date) share one summary and one
fit per date, and a page can build them one step at a time while idle (:func:`prediction_steps`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from segwork.clv import (
    BetaGeoFit,
    CLVValidation,
    GammaGammaFit,
    check_holdout,
    clv_from_fits,
    clv_summary,
    fit_bg_nbd,
    fit_value_model,
    validation_from_fit,
)
from segwork.data.dates import to_date
from segwork.engine import Data, Engine, engine_for
from segwork.engine.keys import CacheKey

__all__ = [
    "CLVSummary",
    "PredictedCLV",
    "PredictionCheck",
    "PurchaseModel",
    "ValueModel",
    "customer_predictions",
    "prediction_check",
    "prediction_steps",
]

Step = Callable[[], object]


@dataclass(frozen=True)
class PredictedCLV(CacheKey):
    """Every customer's predicted CLV at ``as_of`` (one fit per date and CLV parameters)."""

    as_of: dt.date
    horizon_months: int
    discount_rate: float
    gross_margin: float


@dataclass(frozen=True)
class CLVSummary(CacheKey):
    """The customer-value summary in weeks at ``as_of`` (:func:`segwork.clv.clv_summary`)."""

    #: one row per customer with an order: the engine keeps the two most recent
    kept: ClassVar[int] = 2
    as_of: dt.date


@dataclass(frozen=True)
class PurchaseModel(CacheKey):
    """The BG/NBD fit of the :class:`CLVSummary` at ``as_of``."""

    as_of: dt.date


@dataclass(frozen=True)
class ValueModel(CacheKey):
    """The Gamma-Gamma fit of the :class:`CLVSummary` at ``as_of``, or why there is none."""

    as_of: dt.date


@dataclass(frozen=True)
class PredictionCheck(CacheKey):
    """The holdout check of the purchase model fitted at ``calibration_end`` (to ``as_of``)."""

    calibration_end: dt.date
    as_of: dt.date


def _summary(eng: Engine, day: dt.date) -> pd.DataFrame:
    return eng.frame(CLVSummary(day), lambda: clv_summary(eng.data, day))


def _purchase_model(eng: Engine, day: dt.date) -> BetaGeoFit:
    return eng.value(PurchaseModel(day), lambda: fit_bg_nbd(_summary(eng, day)))


def _value_model(eng: Engine, day: dt.date) -> tuple[GammaGammaFit | None, str | None]:
    return eng.value(ValueModel(day), lambda: fit_value_model(_summary(eng, day), "missing"))


def customer_predictions(
    data: Data,
    as_of: Any,
    *,
    horizon_months: int = 12,
    discount_rate: float = 0.01,
    gross_margin: float = 1.0,
) -> pd.DataFrame:
    """Every customer's predictions at as_of: the models fitted once per date, the table kept
    per date and CLV parameters.

    :func:`segwork.clv.predict_clv` (weeks, ``on_value_error="missing"``) on the customers with
    an order dated on or before ``as_of``, kept by the engine (the segment tables, their derived
    criteria ``clv_band`` / ``alive_band``, the members and the customers to win back all read
    this one table; another gross margin, horizon or discount rate reuses the fits).  When only
    the order-value model fails, ``p_alive`` and ``expected_purchases`` are still there, ``clv``
    is NaN and ``attrs["clv_error"]`` says why.

    Raises
    ------
    CLVFitError
        The purchase model (BG/NBD) cannot be fitted.
    ValueError
        No ``transactions`` table, or no order dated on or before as_of.
    """
    eng = engine_for(data)
    day = to_date(as_of)

    def build() -> pd.DataFrame:
        # predict_clv(data, day, on_value_error="missing") from the engine's summary and fits,
        # which the other CLV parameters and the calibration check share
        gg, error = _value_model(eng, day)
        return clv_from_fits(
            _summary(eng, day),
            _purchase_model(eng, day),
            gg,
            horizon_months=horizon_months,
            discount_rate=discount_rate,
            gross_margin=gross_margin,
            value_error=error,
        )

    # one fit per date, one table per CLV parameters, whatever the segmentation (several tables,
    # the derived criteria, the members and the customers to win back)
    return eng.frame(PredictedCLV(day, horizon_months, discount_rate, gross_margin), build)


def prediction_steps(data: Data, as_of: Any, *, gross_margin: float = 1.0) -> list[Step]:
    """The parts of :func:`customer_predictions` at ``as_of`` as steps a page runs while idle
    (segwork.widgets.idle), each a few seconds at 1M customers: the summary query, the purchase
    model's fit, the order-value model's fit, and the predictions (12 months, 1 %/month).

    Examples
    --------
    >>> import segwork
    >>> from segwork.clv import simulate_bg_nbd
    >>> tx = simulate_bg_nbd(80, {"r": 1.0, "alpha": 5.0, "a": 1.0, "b": 4.0}, seed=0)
    >>> page = segwork.Engine(segwork.load({"transactions": tx}))
    >>> steps = prediction_steps(page, "2024-12-31")
    >>> for step in steps:
    ...     _ = step()
    >>> len(steps), len(customer_predictions(page, "2024-12-31"))  # made by the steps
    (4, 80)
    """
    eng = engine_for(data)
    day = to_date(as_of)
    return [
        functools.partial(_summary, eng, day),
        functools.partial(_purchase_model, eng, day),
        functools.partial(_value_model, eng, day),
        functools.partial(customer_predictions, eng, day, gross_margin=gross_margin),
    ]


def prediction_check(data: Data, calibration_end: Any, as_of: Any) -> CLVValidation:
    """:func:`segwork.clv.clv_validation` (weeks) on the engine: its calibration summary and
    fit are the ones :func:`customer_predictions` at ``calibration_end`` uses, and the check is
    kept per dates.

    Raises
    ------
    ValueError, CLVFitError
        As :func:`segwork.clv.clv_validation`.
    """
    eng = engine_for(data)
    start, end = to_date(calibration_end, "calibration_end"), to_date(as_of)

    def build() -> CLVValidation:
        start_, end_ = check_holdout(eng.data, start, end)
        summary = _summary(eng, start_)
        return validation_from_fit(eng.data, summary, _purchase_model(eng, start_), start_, end_)

    return eng.value(PredictionCheck(start, end), build)
