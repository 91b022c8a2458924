"""Company-size bands of the market table: the band edges in employees, their labels and the map
from numbers of employees to band labels (used by the sample generator and by
:mod:`segwork.market.penetration`)."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

__all__ = ["COMPANY_SIZE_BANDS", "COMPANY_SIZE_BAND_LABELS", "company_size_band"]

COMPANY_SIZE_BANDS: Final[tuple[int, ...]] = (0, 10, 50, 250, 1000)
"""Lower edges (exclusive) of the company-size bands in employees: band i holds
``COMPANY_SIZE_BANDS[i] < employees <= COMPANY_SIZE_BANDS[i + 1]`` (the last band is open)."""

COMPANY_SIZE_BAND_LABELS: Final[tuple[str, ...]] = ("1-10", "11-50", "51-250", "251-1000", "1001+")
"""Labels of :data:`COMPANY_SIZE_BANDS`, as used in ``market.company_size``."""


def company_size_band(employees: pd.Series) -> pd.Series:
    """Map numbers of employees to the market's company-size band labels.

    Parameters
    ----------
    employees : pandas.Series
        Number of employees (for example ``customers["company_size"]``).

    Returns
    -------
    pandas.Series
        Same index, object dtype: ``"1-10"`` (1..10 employees), ``"11-50"``, ``"51-250"``,
        ``"251-1000"`` or ``"1001+"``; missing (NaN) for missing values and values below 1.

    Examples
    --------
    >>> company_size_band(pd.Series([1, 10, 11, 1001])).tolist()
    ['1-10', '1-10', '11-50', '1001+']
    """
    values = pd.to_numeric(employees, errors="coerce").to_numpy(dtype="float64")
    edges = np.asarray(COMPANY_SIZE_BANDS, dtype="float64")
    labels = np.array((*COMPANY_SIZE_BAND_LABELS, np.nan), dtype=object)
    # band index: number of edges strictly below the value, minus one
    idx = np.searchsorted(edges, values, side="left") - 1
    invalid = np.isnan(values) | (values < 1)
    idx[invalid] = len(COMPANY_SIZE_BAND_LABELS)
    return pd.Series(labels[idx], index=employees.index, name=employees.name, dtype=object)
