"""Customer lifetime value from transactions-only data: BG/NBD purchases x Gamma-Gamma order value,
discounted by month (docs/metrics.md "Predicted customer value")."""

from __future__ import annotations

import numbers
from typing import Any, Literal

import numpy as np
import pandas as pd

from segwork.clv._optim import CLVFitError
from segwork.clv.bg_nbd import BetaGeoFit, fit_bg_nbd
from segwork.clv.gamma_gamma import GammaGammaFit, fit_gamma_gamma
from segwork.clv.summary import PERIOD_DAYS, clv_summary, period_days
from segwork.data.dataset import Dataset

__all__ = ["clv_from_fits", "fit_value_model", "predict_clv"]

_MONTH_DAYS = 365.25 / 12


def _check(horizon_months: Any, discount_rate: Any, gross_margin: Any) -> None:
    if (
        isinstance(horizon_months, bool)
        or not isinstance(horizon_months, numbers.Integral)
        or horizon_months < 1
    ):
        raise ValueError(f"horizon_months must be a whole number >= 1, got {horizon_months!r}")
    if not isinstance(discount_rate, numbers.Real) or not 0.0 <= float(discount_rate) < np.inf:
        raise ValueError(
            f"discount_rate is a monthly rate >= 0 (0.01 = 1% a month), got {discount_rate!r}"
        )
    if not isinstance(gross_margin, numbers.Real) or not 0.0 < float(gross_margin) <= 1.0:
        raise ValueError(
            f"gross_margin is a share of revenue in (0, 1] (1 = revenue), got {gross_margin!r}"
        )


def clv_from_fits(
    summary: pd.DataFrame,
    bg: BetaGeoFit,
    gg: GammaGammaFit | None,
    *,
    horizon_months: int = 12,
    discount_rate: float = 0.01,
    gross_margin: float = 1.0,
    period: str = "week",
    value_error: str | None = None,
) -> pd.DataFrame:
    """The CLV table of :func:`predict_clv` from a summary and already fitted models.

    ``period`` is the time unit of the summary (and so of ``bg``'s alpha).  ``gg=None`` (no
    order-value model) leaves ``expected_value`` and ``clv`` missing (NaN); ``p_alive`` and
    ``expected_purchases`` come from ``bg`` alone.  ``value_error`` (why there is no order-value
    model, from :func:`fit_value_model`) goes to ``attrs["clv_error"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> from segwork.clv import BetaGeoFit, GammaGammaFit, clv_from_fits
    >>> bg = BetaGeoFit({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, {}, 0.0, 0)
    >>> gg = GammaGammaFit({"p": 6.25, "q": 3.74, "v": 15.44}, {}, 0.0, 0, 0.0)
    >>> s = pd.DataFrame({"customer_id": [1], "frequency": [2], "recency": [30.43],
    ...     "T": [38.86], "monetary_value": [22.35]})
    >>> out = clv_from_fits(s, bg, gg, horizon_months=9, discount_rate=0.0)
    >>> round(float(out.expected_purchases[0]), 3), round(float(out.clv[0]), 2)
    (1.23, 30.33)
    """
    _check(horizon_months, discount_rate, gross_margin)
    month = _MONTH_DAYS / period_days(period)
    out = summary.copy()
    # the purchase model's predictions depend on (frequency, recency, T) only: computed once
    # per distinct triple (about 1 in 7 rows at 1M customers) and gathered
    key = ["frequency", "recency", "T"]
    codes = summary.groupby(key, sort=False).ngroup().to_numpy()
    triples = summary[key].drop_duplicates()  # in order of first appearance, as the codes
    out["p_alive"] = bg.p_alive(triples)[codes]
    cumulative = np.column_stack(
        [np.zeros(len(triples))]
        + [bg.expected_purchases(k * month, triples) for k in range(1, horizon_months + 1)]
    )
    out["expected_purchases"] = cumulative[:, -1][codes]
    if value_error is not None:
        out.attrs["clv_error"] = value_error
    if gg is None:
        out["expected_value"] = np.nan
        out["clv"] = np.nan
        return out
    out["expected_value"] = gg.expected_value(summary)
    factors = (1.0 + float(discount_rate)) ** -np.arange(1, horizon_months + 1)
    discounted = np.diff(cumulative, axis=1) @ factors
    out["clv"] = float(gross_margin) * out["expected_value"].to_numpy() * discounted[codes]
    return out


def predict_clv(
    data: Dataset,
    as_of: Any,
    *,
    horizon_months: int = 12,
    discount_rate: float = 0.01,
    gross_margin: float = 1.0,
    period: str = "week",
    on_value_error: Literal["raise", "missing"] = "raise",
) -> pd.DataFrame:
    """Predicted customer lifetime value of each customer from transactions-only data.

    Builds :func:`~segwork.clv.clv_summary` at ``as_of``, fits BG/NBD (purchases and dropout)
    on all customers and Gamma-Gamma (order value) on the repeat buyers, and sums the discounted
    expected margin month by month:

    CLV = sum over k = 1..H of gross_margin x E[M] x (E[Y(k w)] - E[Y((k-1) w)]) / (1 + d)^k,

    with w one month (365.25/12 days) in periods, E[Y(t)] the BG/NBD conditional expected
    purchases in the t periods after as_of and E[M] the Gamma-Gamma conditional expected
    order value.

    Parameters
    ----------
    data : Dataset
        Needs a ``transactions`` table.
    as_of : date-like
        End of the calibration period; CLV is for the months after it.
    horizon_months : int
        H, whole months >= 1.
    discount_rate : float
        d, monthly discount rate >= 0.
    gross_margin : float
        Share of revenue kept, in (0, 1]; 1 gives revenue.
    period : {"week", "day", "month"}
        Time unit the models are fitted in.
    on_value_error : {"raise", "missing"}
        When the Gamma-Gamma model cannot be fitted: raise :class:`CLVFitError` (default), or
        return the purchase predictions (``p_alive``, ``expected_purchases``) with
        ``expected_value`` and ``clv`` missing and the reason in ``attrs["clv_error"]`` (a page
        still shows who is alive when order values do not fit the model).

    Returns
    -------
    pandas.DataFrame
        The summary columns plus ``p_alive``, ``expected_purchases`` (over the horizon),
        ``expected_value`` and ``clv``.

    Raises
    ------
    ValueError
        A bad parameter, no transactions, or no order by as_of.
    CLVFitError
        A model cannot be fitted (the message says what to try); with
        ``on_value_error="missing"`` only when BG/NBD cannot.

    Examples
    --------
    >>> import segwork
    >>> from segwork.clv import predict_clv, simulate_bg_nbd
    >>> tx = simulate_bg_nbd(60, {"r": 1.0, "alpha": 5.0, "a": 1.0, "b": 4.0}, seed=0)
    >>> out = predict_clv(segwork.load({"transactions": tx}), "2024-12-31")
    >>> list(out.columns[-4:])
    ['p_alive', 'expected_purchases', 'expected_value', 'clv']
    >>> bool((out.clv > 0).all())
    True
    """
    _check(horizon_months, discount_rate, gross_margin)
    if period not in PERIOD_DAYS:
        period_days(period)
    if on_value_error not in ("raise", "missing"):
        raise ValueError(f"on_value_error must be 'raise' or 'missing', got {on_value_error!r}")
    summary = clv_summary(data, as_of, period=period)
    bg = fit_bg_nbd(summary)
    gg, error = fit_value_model(summary, on_value_error)
    return clv_from_fits(
        summary,
        bg,
        gg,
        horizon_months=horizon_months,
        discount_rate=discount_rate,
        gross_margin=gross_margin,
        period=period,
        value_error=error,
    )


def fit_value_model(
    summary: pd.DataFrame, on_value_error: Literal["raise", "missing"] = "raise"
) -> tuple[GammaGammaFit | None, str | None]:
    """The order-value model of :func:`predict_clv`: its fit and no error, or, when it cannot be
    fitted and ``on_value_error="missing"``, no fit and the reason.

    Examples
    --------
    >>> import pandas as pd
    >>> from segwork.clv.predict import fit_value_model
    >>> one = pd.DataFrame({"frequency": [0], "monetary_value": [float("nan")]})
    >>> fit_value_model(one, "missing")[1][:36]
    'the Gamma-Gamma fit needs repeat buy'
    """
    if on_value_error not in ("raise", "missing"):
        raise ValueError(f"on_value_error must be 'raise' or 'missing', got {on_value_error!r}")
    try:
        return fit_gamma_gamma(summary), None
    except CLVFitError as err:
        if on_value_error == "raise":
            raise
        return None, str(err)
