"""The BG/NBD model of repeat purchasing and dropout (Fader, Hardie & Lee 2005, "Counting your
customers the easy way"), fitted by maximum likelihood on a :func:`~segwork.clv.clv_summary`.

While alive, a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after each
purchase they drop out with probability p ~ Beta(a, b).  The likelihood of (x, t_x, T) is closed
form (eq. 6 of the paper), evaluated on the log scale with ``gammaln``/``betaln``/``logaddexp``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from segwork.clv._optim import CLVFitError, fit_log_params, fit_results

__all__ = ["BetaGeoFit", "fit_bg_nbd"]

_NAMES = ("r", "alpha", "a", "b")


def _columns(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = [c for c in ("frequency", "recency", "T") if c not in summary.columns]
    if missing:
        raise ValueError(
            f"the summary lacks column(s) {', '.join(missing)} (build it with clv_summary)"
        )
    x = summary["frequency"].to_numpy(dtype=float)
    t_x = summary["recency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(T).all()):
        raise ValueError("frequency, recency and T must be finite numbers")
    if (x < 0).any() or (t_x < 0).any() or (t_x > T + 1e-9).any():
        raise ValueError("the summary needs frequency >= 0 and 0 <= recency <= T")
    return x, t_x, T


def _log_lik(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood of the BG/NBD model (eq. 6 of Fader, Hardie & Lee 2005)."""
    r, alpha, a, b = params
    base = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    alive = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    repeat = x > 0
    dropped = np.full_like(x, -np.inf)
    xr = x[repeat]
    dropped[repeat] = (
        special.betaln(a + 1.0, b + xr - 1.0)
        - special.betaln(a, b)
        - (r + xr) * np.log(alpha + t_x[repeat])
    )
    return base + np.logaddexp(alive, dropped)


def _neg_ll_and_grad(
    params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    w: np.ndarray,
    distinct: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, np.ndarray]:
    """The weighted mean negative log-likelihood of :func:`_log_lik` and its gradient in
    ``(r, alpha, a, b)``, in one pass.

    With l = base + log(exp(A) + exp(D)) (A: alive at T, D: dropped after the last purchase),
    dl = dbase + wA dA + wD dD, wA and wD the two terms' shares (wD = 0 without a repeat).  The
    Gamma and Beta functions depend on the parameters and x only, so they are evaluated once
    per distinct frequency and gathered: only the logs of alpha + T and alpha + t_x are per row.
    ``distinct`` is ``np.unique(x, return_inverse=True)``, which a fit computes once.
    """
    r, alpha, a, b = params
    psi, gammaln, betaln = special.digamma, special.gammaln, special.betaln
    ux, inv = np.unique(x, return_inverse=True) if distinct is None else distinct
    repeat = x > 0
    with np.errstate(all="ignore"):
        lbeta = betaln(a, b)
        ab = psi(a + b)
        l_t = np.log(alpha + T)
        l_tx = np.log(alpha + t_x)
        rx = r + x
        alive = (betaln(a, b + ux) - lbeta)[inv] - rx * l_t
        dropped = np.where(
            repeat, (betaln(a + 1.0, b + ux - 1.0) - lbeta)[inv] - rx * l_tx, -np.inf
        )
        total = np.logaddexp(alive, dropped)
        ll = (gammaln(r + ux) - gammaln(r))[inv] + r * np.log(alpha) + total
        w_alive = np.exp(alive - total)
        w_drop = np.where(repeat, np.exp(dropped - total), 0.0)
        psi_abx = psi(a + b + ux)[inv]
        g0 = psi(r + ux)[inv] - psi(r) + np.log(alpha) - w_alive * l_t - w_drop * l_tx
        g1 = r / alpha - w_alive * rx / (alpha + T) - w_drop * rx / (alpha + t_x)
        g2 = w_alive * (ab - psi_abx) + np.where(
            repeat, w_drop * (psi(a + 1.0) - psi_abx - psi(a) + ab), 0.0
        )
        g3 = w_alive * (psi(b + ux)[inv] - psi_abx - psi(b) + ab) + np.where(
            repeat, w_drop * (psi(b + ux - 1.0)[inv] - psi_abx - psi(b) + ab), 0.0
        )
    n = w.sum()
    grad = -np.array([w @ g0, w @ g1, w @ g2, w @ g3]) / n
    return -float(w @ ll) / n, grad


@dataclass(frozen=True)
class BetaGeoFit:
    """A fitted BG/NBD model: parameters, their standard errors and the model's predictions.

    Attributes
    ----------
    params : dict
        ``r, alpha`` (Gamma heterogeneity of the purchase rate; alpha in the summary's periods)
        and ``a, b`` (Beta heterogeneity of the dropout probability).
    standard_errors : dict
        Same keys: square roots of the diagonal of the inverse Hessian of the negative
        log-likelihood in the natural parameters (NaN when not positive definite).
    log_likelihood : float
        Total log-likelihood at the estimate.
    n_customers : int
        Customers the model was fitted on.
    """

    params: dict[str, float]
    standard_errors: dict[str, float] = field(repr=False)
    log_likelihood: float
    n_customers: int

    def _p(self) -> tuple[float, float, float, float]:
        return self.params["r"], self.params["alpha"], self.params["a"], self.params["b"]

    def expected_purchases_new(self, t: npt.ArrayLike) -> np.ndarray:
        """E[X(t)]: expected purchases of a new customer in (0, t] (eq. 9 of the paper).

        Examples
        --------
        >>> fit = BetaGeoFit({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, {}, 0.0, 0)
        >>> round(float(fit.expected_purchases_new(39.0)), 3)
        1.197
        """
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype=float)
        hyp = special.hyp2f1(r, b, a + b - 1.0, t / (alpha + t))
        return np.asarray((a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * hyp))

    def expected_purchases(self, t: npt.ArrayLike, summary: pd.DataFrame) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] of each summary row (eq. 10).

        ``t`` is in the summary's periods: a scalar, or one value per row.

        Examples
        --------
        >>> import pandas as pd
        >>> fit = BetaGeoFit({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, {}, 0.0, 0)
        >>> one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
        >>> round(float(fit.expected_purchases(39, one)[0]), 3)
        1.226
        """
        r, alpha, a, b = self._p()
        x, _t_x, T = _columns(summary)
        t = np.asarray(t, dtype=float)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1.0, t / (alpha + T + t))
        log_ratio = (r + x) * np.log((alpha + T) / (alpha + T + t))
        numer = (a + b + x - 1.0) / (a - 1.0) * (1.0 - np.exp(log_ratio) * hyp)
        return np.asarray(numer * self.p_alive(summary))

    def p_alive(self, summary: pd.DataFrame) -> np.ndarray:
        """P(alive | x, t_x, T) at T of each summary row (1 for customers with no repeat).

        Examples
        --------
        >>> import pandas as pd
        >>> fit = BetaGeoFit({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, {}, 0.0, 0)
        >>> one = pd.DataFrame({"frequency": [0, 2], "recency": [0, 30.43], "T": [38.86] * 2})
        >>> fit.p_alive(one).round(3)
        array([1.   , 0.727])
        """
        r, alpha, a, b = self._p()
        x, t_x, T = _columns(summary)
        repeat = x > 0
        odds = np.zeros_like(x)
        xr = x[repeat]
        odds[repeat] = np.exp(
            np.log(a)
            - np.log(b + xr - 1.0)
            + (r + xr) * (np.log(alpha + T[repeat]) - np.log(alpha + t_x[repeat]))
        )
        return 1.0 / (1.0 + odds)


def fit_bg_nbd(summary: pd.DataFrame) -> BetaGeoFit:
    """Fit the BG/NBD model by maximum likelihood on a :func:`~segwork.clv.clv_summary`.

    Identical (frequency, recency, T) rows are grouped and weighted; the search is L-BFGS-B on
    the log parameters from a few starting values (r = 1, alpha = mean T, a = b = 1 and
    neighbours), and the best converged maximum is kept.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``frequency, recency, T`` per customer (recency and T in one time unit).

    Returns
    -------
    BetaGeoFit

    Raises
    ------
    CLVFitError
        The maximum is not found (e.g. too few repeat buyers): the message says what to try.
    ValueError
        An empty or malformed summary.

    Examples
    --------
    >>> import pandas as pd
    >>> from segwork.clv import fit_bg_nbd
    >>> s = pd.DataFrame({"frequency": [0, 1, 2, 0, 3, 1, 0, 5, 2, 0],
    ...     "recency": [0, 5, 20, 0, 30, 2, 0, 35, 10, 0], "T": [40] * 10})
    >>> fit = fit_bg_nbd(s)
    >>> sorted(fit.params)
    ['a', 'alpha', 'b', 'r']
    >>> fit.p_alive(s).shape
    (10,)
    """
    x, t_x, T = _columns(summary)
    if len(x) == 0:
        raise ValueError("the summary has no customers to fit")
    grouped = (
        pd.DataFrame({"x": x, "t_x": t_x, "T": T})
        .value_counts(sort=False)
        .reset_index(name="weight")
    )
    gx = grouped["x"].to_numpy(dtype=float)
    gt = grouped["t_x"].to_numpy(dtype=float)
    gT = grouped["T"].to_numpy(dtype=float)
    w = grouped["weight"].to_numpy(dtype=float)
    n = w.sum()

    distinct = np.unique(gx, return_inverse=True)

    def neg_ll(params: np.ndarray) -> float:
        return _neg_ll_and_grad(params, gx, gt, gT, w, distinct)[0]

    def value_and_grad(params: np.ndarray) -> tuple[float, np.ndarray]:
        return _neg_ll_and_grad(params, gx, gt, gT, w, distinct)

    if not (x > 0).any():
        raise CLVFitError(
            "the BG/NBD fit did not converge: no customer has a repeat purchase day, so the "
            "dropout process cannot be estimated; try more customers, a longer calibration "
            "period (a later as_of), or another time unit (period='day' or period='month')"
        )
    mean_t = max(float(T.mean()), 1e-3)
    starts = [
        (1.0, mean_t, 1.0, 1.0),
        (0.5, mean_t / 4, 1.0, 3.0),
        (0.25, mean_t / 10, 0.5, 2.0),
        (2.0, mean_t * 2, 2.0, 5.0),
    ]
    params = fit_log_params(neg_ll, starts, "BG/NBD", _NAMES, value_and_grad=value_and_grad)
    return BetaGeoFit(**fit_results(value_and_grad, params, _NAMES, n))
