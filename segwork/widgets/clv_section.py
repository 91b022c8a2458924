"""The segmentation page's section of predicted customer value, and its steps while idle.

The section (shop data, and the orders of mixed data) shows the predicted CLV of the customers
with an order (:func:`segwork.metrics.predictions.customer_predictions`), the calibration check of
the purchase model on the last weeks (:func:`segwork.metrics.predictions.prediction_check`) and the
customers to win back (:func:`segwork.metrics.ecommerce.customers_to_win_back`).  At 1M customers
that is a summary query and two model fits per date, so the page builds them while its kernel is
idle (:func:`clv_steps`), in steps of a few seconds each, and a click then finds them made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd

from segwork.clv import CLVValidation
from segwork.formatting import money_text
from segwork.metrics.ecommerce import customers_to_win_back
from segwork.metrics.predictions import customer_predictions, prediction_check, prediction_steps
from segwork.plots.clv import clv_distribution_figure, clv_validation_figure
from segwork.sentences import percent_text
from segwork.widgets.explorer import Explorer
from segwork.widgets.view import View

__all__ = [
    "CLV_SECTION",
    "HOLDOUT_WEEKS",
    "WIN_BACK_FILE",
    "WIN_BACK_SHOWN",
    "calibration_end",
    "clv_steps",
    "clv_view",
]

#: The section of predicted customer value (shop data, and the orders of mixed data).
CLV_SECTION = "Predicted customer value"
WIN_BACK_FILE = "customers_to_win_back.csv"
#: Customers to win back listed in the page (all of them in :data:`WIN_BACK_FILE`).
WIN_BACK_SHOWN = 20
#: Longest holdout of the page's calibration check, in weeks (half the order history at most).
HOLDOUT_WEEKS = 26

Step = Callable[[], object]


def _predictions(page: Explorer, as_of: str, gm: float) -> pd.DataFrame:
    return page.memo(
        ("clv_predictions", as_of, gm),
        lambda: customer_predictions(page.engine, as_of, gross_margin=gm),
    )


def _check(page: Explorer, end: str, as_of: str) -> CLVValidation:
    return page.memo(
        ("clv_validation", end, as_of), lambda: prediction_check(page.engine, end, as_of)
    )


def _win_back(page: Explorer, as_of: str, gm: float) -> pd.DataFrame:
    return page.memo(
        ("win_back", as_of, gm),
        lambda: customers_to_win_back(page.engine, as_of, gross_margin=gm),
    )


def calibration_end(pred: pd.DataFrame, as_of: str) -> tuple[str | None, int]:
    """The end of the calibration check's fit and the weeks set aside after it: half the order
    history up to :data:`HOLDOUT_WEEKS`; ``(None, weeks)`` when that is under 4 weeks.

    Examples
    --------
    >>> import pandas as pd
    >>> calibration_end(pd.DataFrame({"T": [10.0, 104.0]}), "2024-12-31")
    ('2024-07-02', 26)
    >>> calibration_end(pd.DataFrame({"T": [6.0]}), "2024-12-31")
    (None, 3)
    """
    weeks = int(min(HOLDOUT_WEEKS, float(pred["T"].max()) / 2)) if len(pred) else 0
    if weeks < 4:
        return None, weeks
    return (dt.date.fromisoformat(as_of) - dt.timedelta(weeks=weeks)).isoformat(), weeks


def clv_steps(page: Explorer, state: dict[str, Any]) -> list[Step]:
    """The section at the page's ``state``, in steps of a few seconds at 1M customers: the
    predictions' summary and fits (:func:`segwork.metrics.predictions.prediction_steps`), then
    the calibration check's summary and fit at its end date, the check, and the customers to win
    back.  A step that fails stops the rest (the click then shows the error)."""
    as_of, gm = state["as_of"], state["gross_margin"]
    engine_steps = prediction_steps(page.engine, as_of, gross_margin=gm)

    def at_end(i: int) -> None:
        end, _ = calibration_end(_predictions(page, as_of, gm), as_of)
        if end is not None:
            prediction_steps(page.engine, end)[i]()

    def check() -> None:
        end, _ = calibration_end(_predictions(page, as_of, gm), as_of)
        if end is not None:
            _check(page, end, as_of)

    return [
        *engine_steps,
        partial(_predictions, page, as_of, gm),
        partial(at_end, 0),
        partial(at_end, 1),
        check,
        partial(_win_back, page, as_of, gm),
    ]


def clv_view(page: Explorer, state: dict[str, Any], *, shop: bool) -> View:
    """Predicted customer value: totals, distribution, calibration, customers to win back.

    ``shop``: the page shows shop data (the order-value model's failure is then said above the
    table); else the section says that it values the orders only."""
    as_of, gm = state["as_of"], state["gross_margin"]
    currency = page.data.currency
    texts: dict[str, str] = {}
    if not shop:
        texts["clv_scope"] = (
            "This data has subscriptions and one-off orders: the predicted customer value "
            "below applies to the orders (the transactions table) only; subscription revenue "
            "is valued by the LTV of the segment table."
        )
    try:
        pred = _predictions(page, as_of, gm)
    except ValueError as err:  # CLVFitError included: the purchase model cannot be fitted
        texts["clv"] = f"Predicted customer value could not be computed: {err}"
        return View(texts=texts)
    clv = pred["clv"].astype(float)
    alive = float(pred["p_alive"].mean())
    error = pred.attrs.get("clv_error")
    n = len(pred)
    if error:
        why = " (the reason is given above)" if shop else f": {error.rstrip('.')}"
        texts["clv"] = (
            f"Predicted CLV could not be computed{why}. The purchase model "
            f"still gives P(alive): of the {n:,} customers with an order by {as_of}, "
            f"{percent_text(alive)} are expected to be still active (mean P(alive))."
        )
    else:
        texts["clv"] = (
            "Predicted CLV over the next 12 months (gross margin "
            f"{percent_text(gm)}, 1 %/month discount): "
            f"{money_text(clv.sum(), currency, short=True)} in total for the "
            f"{n:,} customers with an order by {as_of}, "
            f"{money_text(clv.mean(), currency)} per customer on average; "
            f"{percent_text(alive)} of them are expected to be still active (mean P(alive))."
        )
    figures = {"clv_distribution": clv_distribution_figure(pred, currency=currency)}
    tables: dict[str, pd.DataFrame] = {}
    # the calibration check: fitted without the last weeks, compared with them
    end, weeks = calibration_end(pred, as_of)
    if end is not None:
        try:
            check = _check(page, end, as_of)
        except ValueError as err:
            texts["calibration"] = f"Calibration check not available: {err}"
        else:
            total = check.total
            texts["calibration"] = (
                f"Calibration check: fitted on the orders up to {end}, the purchase model "
                f"predicts {total['predicted']:,.0f} repeat purchases in the {weeks} weeks "
                f"to {as_of}; the customers made {total['actual']:,.0f} "
                f"({total['relative_error'] * 100:+.1f} %)."
            )
            figures["calibration"] = clv_validation_figure(check.by_frequency)
    else:
        texts["calibration"] = (
            "Calibration check not shown: the order history is too short to set aside "
            "4 weeks or more."
        )
    wb = _win_back(page, as_of, gm)
    threshold = wb.attrs["revenue_threshold"]
    texts["win_back"] = (
        f"Customers to win back: {len(wb):,} customers whose revenue to date is in the top "
        f"20 % (at least {money_text(threshold, currency)}) and whose P(alive) is 50 % or "
        f"less. The {min(len(wb), WIN_BACK_SHOWN)} with the highest revenue are listed; "
        f"{WIN_BACK_FILE} holds all of them."
    )
    tables["Customers to win back"] = wb.head(WIN_BACK_SHOWN)
    return View(figures=figures, tables=tables, texts=texts, downloads={WIN_BACK_FILE: wb})
