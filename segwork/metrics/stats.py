"""Small statistics shared by the metrics (docs/metrics.md "Confidence intervals")."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = ["safe_ratio", "two_sided_z", "wilson_interval"]

ArrayLike = npt.ArrayLike


def two_sided_z(confidence: float) -> float:
    """The standard normal quantile of a two-sided ``confidence`` level (1.96 at 95 %).

    ``scipy.special.ndtri``, the function ``scipy.stats.norm.ppf`` evaluates, without importing
    ``scipy.stats`` (seconds on a cold kernel, paid by every page).

    Examples
    --------
    >>> round(two_sided_z(0.95), 4)
    1.96
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return float(special.ndtri(0.5 + confidence / 2))


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial rate, vectorised.

    docs/metrics.md "Confidence intervals": a rate (churn, retention, conversion) gets the Wilson
    score interval, 95 % unless ``confidence`` says otherwise.  Where ``trials`` is 0 both ends
    are NaN.

    Parameters
    ----------
    successes, trials : array-like
        Counts (``successes <= trials``).
    confidence : float
        Two-sided confidence level in (0, 1).

    Returns
    -------
    (low, high) : tuple of numpy arrays

    Examples
    --------
    >>> low, high = wilson_interval(10, 100)
    >>> round(float(low), 4), round(float(high), 4)
    (0.0552, 0.1744)
    """
    z = two_sided_z(confidence)
    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        # exact ends where no / every trial succeeded (the formula leaves ~1e-17 there)
        low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        high = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
        low = np.where(n > 0, low, np.nan)
        high = np.where(n > 0, high, np.nan)
    return low, high


def safe_ratio(num: ArrayLike, den: ArrayLike) -> np.ndarray:
    """``num / den`` with NaN where the denominator is 0 (docs/metrics.md "Conventions")."""
    a = np.asarray(num, dtype="float64")
    b = np.asarray(den, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b != 0, a / b, np.nan)
