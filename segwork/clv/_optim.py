"""Shared maximum-likelihood machinery of the CLV models: multi-start L-BFGS-B on log parameters,
a clear error when the fit does not converge, and standard errors from a numerical Hessian."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import optimize

from segwork.errors import SegworkError

__all__ = ["CLVFitError", "fit_log_params", "standard_errors"]

#: Bounds on each log parameter: parameters between about 1e-6 and 1e6.
_LOG_BOUND = 6.0 * np.log(10.0)

_ADVICE = (
    "try more customers, a longer calibration period (a later as_of or an earlier first "
    "order), or another time unit (period='day' or period='month')"
)


class CLVFitError(SegworkError, ValueError):
    """A customer-value model could not be fitted (no maximum of the likelihood was found).

    Examples
    --------
    >>> import segwork.clv
    >>> issubclass(segwork.clv.CLVFitError, ValueError)
    True
    """


def fit_log_params(
    neg_ll: Callable[[np.ndarray], float],
    starts: Sequence[Sequence[float]],
    model: str,
    names: Sequence[str],
) -> np.ndarray:
    """Minimise ``neg_ll(params)`` over positive params from several starts; the best params.

    ``neg_ll`` takes natural (positive) parameters; the search runs on their logs with L-BFGS-B,
    each log bounded to +-6 ln 10.  Raises :class:`CLVFitError` when no start converges, the
    likelihood is not finite, or a parameter ends on its bound (the maximum is not interior).
    """

    def objective(theta: np.ndarray) -> float:
        value = neg_ll(np.exp(theta))
        return float(value) if np.isfinite(value) else 1e300

    best: optimize.OptimizeResult | None = None
    for start in starts:
        theta0 = np.log(np.clip(np.asarray(start, dtype=float), 1e-5, 1e5))
        res = optimize.minimize(
            objective,
            theta0,
            method="L-BFGS-B",
            bounds=[(-_LOG_BOUND, _LOG_BOUND)] * len(theta0),
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )
        if np.isfinite(res.fun) and res.fun < 1e299 and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise CLVFitError(f"the {model} likelihood is not finite at any start; {_ADVICE}")
    at_bound = [n for n, t in zip(names, best.x, strict=True) if abs(t) > _LOG_BOUND - 1e-3]
    if at_bound:
        raise CLVFitError(
            f"the {model} fit did not converge: {', '.join(at_bound)} ran off to 0 or infinity "
            f"(the data do not pin the model down); {_ADVICE}"
        )
    if not best.success:
        # L-BFGS-B may stop on a tiny relative change that is a maximum all the same: accept it
        # when the gradient (scaled to the log parameters) is small.
        grad = optimize.approx_fprime(best.x, objective, 1e-7)
        if not np.all(np.abs(grad) < 1e-3 * max(1.0, abs(best.fun))):
            raise CLVFitError(f"the {model} fit did not converge ({best.message}); {_ADVICE}")
    return np.exp(best.x)


def standard_errors(neg_ll: Callable[[np.ndarray], float], params: np.ndarray) -> np.ndarray:
    """Square roots of the diagonal of the inverse Hessian of ``neg_ll`` at ``params``.

    The Hessian is taken in the natural parameters by central finite differences (relative step
    1e-4); NaN where the Hessian is not invertible or not positive definite.
    """
    p = np.asarray(params, dtype=float)
    k = len(p)
    h = 1e-4 * np.maximum(np.abs(p), 1e-8)
    hess = np.empty((k, k))
    f0 = neg_ll(p)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        hess[i, i] = (neg_ll(p + ei) - 2.0 * f0 + neg_ll(p - ei)) / h[i] ** 2
        for j in range(i + 1, k):
            ej = np.zeros(k)
            ej[j] = h[j]
            val = (
                neg_ll(p + ei + ej)
                - neg_ll(p + ei - ej)
                - neg_ll(p - ei + ej)
                + neg_ll(p - ei - ej)
            ) / (4.0 * h[i] * h[j])
            hess[i, j] = hess[j, i] = val
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    var = np.diag(cov)
    return np.where(var > 0, np.sqrt(np.abs(var)), np.nan)
