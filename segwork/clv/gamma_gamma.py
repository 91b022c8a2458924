"""The Gamma-Gamma model of average order value (Fader & Hardie 2013, "The Gamma-Gamma model of
monetary value"), fitted by maximum likelihood on the repeat buyers of a
:func:`~segwork.clv.clv_summary`.

A customer's purchase amounts are Gamma(p, nu) around their mean p / nu, and nu ~ Gamma(q, v)
across customers; the mean of x amounts, m_x, has a closed-form marginal density.  The model
assumes a customer's average order value is independent of their purchase frequency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from segwork.clv._optim import CLVFitError, fit_log_params, fit_results

__all__ = ["GammaGammaFit", "fit_gamma_gamma"]

_NAMES = ("p", "q", "v")


def _columns(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in ("frequency", "monetary_value") if c not in summary.columns]
    if missing:
        raise ValueError(
            f"the summary lacks column(s) {', '.join(missing)} (build it with clv_summary)"
        )
    x = summary["frequency"].to_numpy(dtype=float)
    m = summary["monetary_value"].to_numpy(dtype=float)
    return x, m


def _log_lik(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Log density of the mean m of x amounts (Fader & Hardie 2013, eq. 3 with m = z-bar)."""
    p, q, v = params
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m)
    )


@dataclass(frozen=True)
class _Sums:
    """What the likelihood needs of the repeat buyers' (x, m), computed once per fit.

    Every term of :func:`_log_lik` but ``log(v + x m)`` is linear in a parameter times a sum
    over the customers, or a Gamma function of ``p x``: so an evaluation is one pass over ``x m``
    (a log and a reciprocal) plus the Gamma functions at the distinct frequencies ``ux`` (with
    their counts ``nx``), whatever the number of customers.
    """

    n: float
    ux: np.ndarray
    nx: np.ndarray
    x: np.ndarray
    xm: np.ndarray
    sum_x_log_m: float
    sum_log_m: float
    sum_x_log_x: float

    @classmethod
    def of(cls, x: np.ndarray, m: np.ndarray) -> _Sums:
        ux, nx = np.unique(x, return_counts=True)
        with np.errstate(all="ignore"):
            log_m = np.log(m)
            return cls(
                n=float(len(x)),
                ux=ux,
                nx=nx.astype(float),
                x=x,
                xm=x * m,
                sum_x_log_m=float(x @ log_m),
                sum_log_m=float(log_m.sum()),
                sum_x_log_x=float(nx @ (ux * np.log(ux))),
            )

    def neg_ll_and_grad(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """The mean negative log-likelihood and its gradient in ``(p, q, v)``."""
        p, q, v = params
        psi, gammaln = special.digamma, special.gammaln
        n, ux, nx, x = self.n, self.ux, self.nx, self.x
        with np.errstate(all="ignore"):
            d = v + self.xm
            spent = np.log(d)
            s_spent, x_spent = float(spent.sum()), float(x @ spent)
            inv_d = 1.0 / d
            s_inv, x_inv = float(inv_d.sum()), float(x @ inv_d)
            pu = p * ux
            both = psi(pu + q)
            ll = (
                float(nx @ (gammaln(pu + q) - gammaln(pu)))
                - n * gammaln(q)
                + n * q * np.log(v)
                + p * self.sum_x_log_m
                - self.sum_log_m
                + p * self.sum_x_log_x
                - (p * x_spent + q * s_spent)
            )
            g0 = float((nx * ux) @ (both - psi(pu))) + self.sum_x_log_m + self.sum_x_log_x - x_spent
            g1 = float(nx @ both) - n * psi(q) + n * np.log(v) - s_spent
            g2 = n * q / v - (p * x_inv + q * s_inv)
        return -float(ll) / n, -np.array([g0, g1, g2]) / n


def _neg_ll_and_grad(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean negative log-likelihood of :func:`_log_lik` and its gradient in ``(p, q, v)``
    in one pass (see :class:`_Sums`; a fit builds its sums once)."""
    return _Sums.of(x, m).neg_ll_and_grad(params)


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma model of average order value.

    Attributes
    ----------
    params : dict
        ``p`` (shape of a customer's amounts), ``q, v`` (Gamma heterogeneity of their scale).
    standard_errors : dict
        Same keys, from the inverse Hessian of the negative log-likelihood (natural parameters).
    log_likelihood : float
        Total log-likelihood over the repeat buyers fitted.
    n_customers : int
        Repeat buyers (frequency > 0) the model was fitted on.
    frequency_monetary_correlation : float
        Pearson correlation of frequency and monetary_value among those repeat buyers; the model
        assumes it is about 0.
    """

    params: dict[str, float]
    standard_errors: dict[str, float] = field(repr=False)
    log_likelihood: float
    n_customers: int
    frequency_monetary_correlation: float

    @property
    def population_mean(self) -> float:
        """E[M] = p v / (q - 1): the mean order value of a customer with no repeat purchase
        (infinite when q <= 1)."""
        p, q, v = (self.params[k] for k in _NAMES)
        return p * v / (q - 1.0) if q > 1.0 else float("inf")

    def expected_value(self, summary: pd.DataFrame) -> np.ndarray:
        """E[M | x, m_x]: conditional expected average order value of each summary row.

        A weighted average of the population mean p v / (q - 1) (weight (q - 1) / (p x + q - 1))
        and the customer's own mean m_x (weight p x / (p x + q - 1)); the population mean for
        frequency 0.

        Examples
        --------
        >>> import pandas as pd
        >>> fit = GammaGammaFit({"p": 6.25, "q": 3.74, "v": 15.44}, {}, 0.0, 0, 0.0)
        >>> s = pd.DataFrame({"frequency": [0, 2], "monetary_value": [float("nan"), 22.35]})
        >>> fit.expected_value(s).round(2)
        array([35.22, 24.66])
        """
        p, q, v = (self.params[k] for k in _NAMES)
        x, m = _columns(summary)
        repeat = x > 0
        out = np.full_like(x, self.population_mean)
        xr, mr = x[repeat], m[repeat]
        out[repeat] = p * (v + xr * mr) / (p * xr + q - 1.0)
        return out


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGammaFit:
    """Fit the Gamma-Gamma model by maximum likelihood on the summary's repeat buyers.

    Only customers with frequency > 0 (and a positive monetary_value) enter the likelihood.
    L-BFGS-B on the log parameters from a few starting values.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``frequency, monetary_value`` per customer, from :func:`~segwork.clv.clv_summary`.

    Returns
    -------
    GammaGammaFit

    Raises
    ------
    CLVFitError
        Fewer than two repeat buyers, no interior maximum, or a fit with q <= 1 (an infinite
        mean order value: amounts too spread out for the model); the message says what to try.
    ValueError
        A repeat buyer with a monetary_value that is not a positive number.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from segwork.clv import fit_gamma_gamma
    >>> rng = np.random.default_rng(0)  # 40 repeat buyers drawn from the model (p=4, q=3, v=40)
    >>> x = rng.integers(1, 6, 40)
    >>> nu = rng.gamma(3.0, 1 / 40.0, 40)
    >>> m = [rng.gamma(4.0 * k, 1 / n) / k for k, n in zip(x, nu)]
    >>> s = pd.DataFrame({"frequency": [*x, 0], "monetary_value": [*m, float("nan")]})
    >>> fit = fit_gamma_gamma(s)  # the customer without a repeat purchase is left out
    >>> fit.n_customers, sorted(fit.params)
    (40, ['p', 'q', 'v'])
    """
    x, m = _columns(summary)
    repeat = x > 0
    x, m = x[repeat], m[repeat]
    if not (np.isfinite(m).all() and (m > 0).all()):
        raise ValueError(
            "every repeat buyer needs a positive monetary_value (the Gamma-Gamma model is for "
            "positive amounts: drop refunds or zero-amount purchase days first)"
        )
    if len(x) < 2:
        raise CLVFitError(
            f"the Gamma-Gamma fit needs repeat buyers and has {len(x)}; try more customers, a "
            "longer calibration period (a later as_of), or another time unit"
        )
    n = float(len(x))
    sums = _Sums.of(x, m)

    def neg_ll(params: np.ndarray) -> float:
        return sums.neg_ll_and_grad(params)[0]

    value_and_grad = sums.neg_ll_and_grad

    mean_m = float(m.mean())
    starts = [(1.0, 2.0, mean_m), (5.0, 3.0, mean_m), (2.0, 5.0, 2.0 * mean_m)]
    with np.errstate(all="ignore"):
        corr = float(np.corrcoef(x, m)[0, 1]) if np.ptp(x) > 0 and np.ptp(m) > 0 else np.nan
    try:
        params = fit_log_params(
            neg_ll, starts, "Gamma-Gamma", _NAMES, value_and_grad=value_and_grad
        )
    except CLVFitError as err:
        # q <= 1 with p running off (p v fixed) is the same finding as an interior q <= 1
        if err.params is None or err.params[1] > 1.0:
            raise
        params = err.params
    if params[1] <= 1.0:
        raise CLVFitError(
            f"the Gamma-Gamma fit of order values gives q = {params[1]:.2f} <= 1, so the mean "
            "order value it implies is infinite and no customer value can be predicted: the "
            f"{int(n):,} repeat buyers' average amounts are too spread out (from "
            f"{float(m.min()):,.2f} to {float(m.max()):,.2f}; frequency and amount correlate "
            f"{corr:+.2f}, the model assumes 0). Try data with the orders of one kind of buyer "
            "(leave out wholesale or B2B invoices and the largest orders), or compare segments "
            "on revenue, AOV and repeat rate"
        )
    return GammaGammaFit(
        **fit_results(value_and_grad, params, _NAMES, n), frequency_monetary_correlation=corr
    )
