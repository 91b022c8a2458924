"""LTV over a horizon: the margin of a customer's expected months within ``horizon_months``,
discounted (docs/metrics.md "LTV", "Horizon-capped LTV").

The uncapped LTV, ARPA x gross margin / churn, assumes a customer pays for 1 / churn months on
average: 37 years at 0.22 % a month.  The horizon-capped LTV counts only the months within the
horizon and discounts them, so a segment that hardly churns is worth what it brings in the
years one plans for:

    q = (1 - churn) / (1 + annual_discount_rate) ** (1 / 12)
    LTV_H = ARPA x gross margin x (1 + q + ... + q ** (H - 1)) = ARPA x gm x (1 - q ** H) / (1 - q)

The first month counts undiscounted (a new customer pays for it); each later month is reached
with probability (1 - churn) per month.  Without a horizon and a discount the sum is 1 / churn:
the uncapped LTV.  Unlike it, LTV_H is defined at zero churn (ARPA x gm x H without a discount).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["CAPPED_LTV_COLUMNS", "capped_ltv", "with_capped_ltv"]

#: The columns :func:`with_capped_ltv` adds beside the uncapped LTV.
CAPPED_LTV_COLUMNS = ("ltv_capped", "ltv_capped_low", "ltv_capped_high")


def capped_ltv(
    arpa: npt.ArrayLike,
    gross_margin: float,
    churn: npt.ArrayLike,
    horizon_months: int,
    annual_discount_rate: float = 0.0,
) -> npt.NDArray[np.float64]:
    """Horizon-capped, discounted LTV: ARPA x gross margin x the discounted expected months of
    a customer within ``horizon_months`` (docs/metrics.md "Horizon-capped LTV").

    Parameters
    ----------
    arpa : array-like
        Average MRR per active customer.
    gross_margin : float
        In (0, 1].
    churn : array-like
        Monthly logo churn, in [0, 1]; missing gives missing.
    horizon_months : int
        Months counted, at least 1.
    annual_discount_rate : float, default 0
        Yearly rate the later months are discounted at (0.1 is 10 % a year), at least 0.

    Returns
    -------
    numpy.ndarray
        One value per ``arpa`` / ``churn`` pair.

    Examples
    --------
    ARPA 100, gross margin 80 %, churn 2 % a month, 12 months, no discount:
    80 x (1 - 0.98 ** 12) / 0.02.

    >>> round(float(capped_ltv(100.0, 0.8, 0.02, 12)[0]), 2)
    861.13
    >>> capped_ltv([100.0, 100.0], 1.0, [0.0, float("nan")], 24).tolist()  # no churn: 24 months
    [2400.0, nan]
    """
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise ValueError(
            f"horizon_months must be a whole number of at least 1, got {horizon_months}"
        )
    if not annual_discount_rate >= 0:
        raise ValueError(f"annual_discount_rate must be at least 0, got {annual_discount_rate}")
    a = np.atleast_1d(np.asarray(arpa, dtype="float64"))
    c = np.atleast_1d(np.asarray(churn, dtype="float64"))
    q = (1.0 - c) / (1.0 + float(annual_discount_rate)) ** (1.0 / 12.0)
    h = int(horizon_months)
    with np.errstate(divide="ignore", invalid="ignore"):
        months = np.where(np.isclose(q, 1.0), float(h), (1.0 - q**h) / (1.0 - q))
    return np.asarray(a * float(gross_margin) * months, dtype="float64")


def with_capped_ltv(
    table: pd.DataFrame, horizon_months: int, annual_discount_rate: float = 0.0
) -> pd.DataFrame:
    """A segment table with its horizon-capped LTV beside the uncapped one: ``ltv_capped``
    (at the segment's churn), ``ltv_capped_low`` and ``ltv_capped_high`` (at the upper and
    lower end of the churn interval), from its ``arpa`` and ``attrs["gross_margin"]``.

    The table's rows and order are unchanged (ranked by LTV, docs/metrics.md "Segment table");
    ``attrs`` records ``ltv_horizon_months`` and ``ltv_discount_rate``.

    Examples
    --------
    >>> t = pd.DataFrame({"plan": ["pro"], "arpa": [100.0], "churn_rate": [0.02],
    ...     "churn_rate_low": [0.01], "churn_rate_high": [0.03], "ltv": [4000.0]})
    >>> t.attrs["gross_margin"] = 0.8
    >>> with_capped_ltv(t, 12)[["ltv", *CAPPED_LTV_COLUMNS]].round(0).values.tolist()
    [[4000.0, 861.0, 816.0, 909.0]]
    """
    gm = float(table.attrs.get("gross_margin", 1.0))
    out = table.copy()
    at = list(out.columns).index("ltv") + 1 if "ltv" in out.columns else len(out.columns)
    for offset, (name, rate) in enumerate(
        zip(CAPPED_LTV_COLUMNS, ("churn_rate", "churn_rate_high", "churn_rate_low"), strict=True)
    ):
        values = capped_ltv(out["arpa"], gm, out[rate], horizon_months, annual_discount_rate)
        out.insert(at + offset, name, values)
    out.attrs.update(
        ltv_horizon_months=int(horizon_months), ltv_discount_rate=float(annual_discount_rate)
    )
    return out
