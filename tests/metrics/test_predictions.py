"""Every customer's predicted value on a page's engine (segwork.metrics.predictions): the
parts kept by the engine, built step by step, equal the definitions in segwork.clv."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import segwork
from segwork.clv import clv_validation, predict_clv
from segwork.metrics.predictions import (
    PurchaseModel,
    ValueModel,
    customer_predictions,
    prediction_check,
    prediction_steps,
)
from tests.metrics import test_ecommerce

simulated = test_ecommerce.simulated  # the fixture: three segments of simulated buyers


@pytest.mark.parametrize("value_model", ["fits", "fails"])
def test_page_engine_predictions_and_check_are_the_definitions(
    simulated: segwork.Dataset, value_model: str
) -> None:
    """customer_predictions and prediction_check on a page's engine, built step by step from
    the engine's summary and fits, equal predict_clv (order-value errors kept as missing) and
    clv_validation on the Dataset; the summary and fits are made once and shared."""
    if value_model == "fits":
        data = simulated
    else:  # the sample's order values: the Gamma-Gamma model is refused (q <= 1)
        sample = segwork.load_sample()
        data = segwork.load({n: sample.to_pandas(n) for n in ("customers", "transactions")})
    as_of, end = "2024-12-31", "2024-09-30"
    page = segwork.Engine(data)
    for step in prediction_steps(page, as_of, gross_margin=0.6):
        step()
    kept = set(page.frame_keys())
    got = customer_predictions(page, as_of, gross_margin=0.6)
    want = predict_clv(data, as_of, gross_margin=0.6, on_value_error="missing")
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs == want.attrs
    assert ("clv_error" in got.attrs) == (value_model == "fails")
    assert set(page.frame_keys()) == kept  # nothing built again
    for model in (PurchaseModel, ValueModel):  # the fits the steps made
        page.value(model(dt.date(2024, 12, 31)), _never)
    check, by_def = prediction_check(page, end, as_of), clv_validation(data, end, as_of)
    pd.testing.assert_frame_equal(check.by_frequency, by_def.by_frequency)
    pd.testing.assert_frame_equal(check.by_customer, by_def.by_customer)
    assert (check.total, check.mae, check.params) == (by_def.total, by_def.mae, by_def.params)
    assert prediction_check(page, end, as_of) is check  # kept
    # the calibration fit is the purchase model at that date, kept for the predictions there
    assert page.value(PurchaseModel(dt.date(2024, 9, 30)), _never).params == by_def.params
    with pytest.raises(ValueError, match="before as_of"):
        prediction_check(page, as_of, end)


def _never() -> object:
    raise AssertionError("a fit was not kept")
