"""Shared maximum-likelihood machinery of the CLV models: multi-start L-BFGS-B on log parameters,
a clear error when the fit does not converge, and standard errors from a numerical Hessian."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from segwork.errors import SegworkError

if TYPE_CHECKING:  # scipy.optimize is imported when a model is fitted: a page need not pay it
    from scipy import optimize

__all__ = [
    "CLVFitError",
    "FitResults",
    "fit_log_params",
    "fit_results",
    "standard_errors",
]

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

    #: The best parameters reached when the fit stopped on a bound (None otherwise): where the
    #: likelihood was still rising, for a model to say what it means.
    params: np.ndarray | None = None


def fit_log_params(
    neg_ll: Callable[[np.ndarray], float],
    starts: Sequence[Sequence[float]],
    model: str,
    names: Sequence[str],
    *,
    value_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
) -> np.ndarray:
    """Minimise ``neg_ll(params)`` over positive params from several starts; the best params.

    ``neg_ll`` takes natural (positive) parameters; the search runs on their logs with L-BFGS-B,
    each log bounded to +-6 ln 10.  ``value_and_grad`` (``neg_ll`` and its gradient in the
    natural parameters, from one pass) replaces finite differences: one evaluation a step
    instead of one a parameter.
    The starts are tried in order, and the search stops once two of them reach the same
    maximum (same likelihood to 1e-10, same parameters to 1e-4).  Raises :class:`CLVFitError`
    when no start converges, the likelihood is not finite, or a parameter ends on its bound
    (the maximum is not interior).
    """

    def value(theta: np.ndarray) -> float:
        v = neg_ll(np.exp(theta))
        return float(v) if np.isfinite(v) else 1e300

    def log_value_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        p = np.exp(theta)
        assert value_and_grad is not None
        v, g = value_and_grad(p)
        if not np.isfinite(v):
            return 1e300, np.zeros_like(theta)
        g = np.asarray(g, dtype=float) * p  # d/d(log p) = p d/dp
        return float(v), np.where(np.isfinite(g), g, 0.0)

    from scipy import optimize

    objective = value if value_and_grad is None else log_value_and_grad
    best: optimize.OptimizeResult | None = None
    found: list[optimize.OptimizeResult] = []
    for start in starts:
        theta0 = np.log(np.clip(np.asarray(start, dtype=float), 1e-5, 1e5))
        res = optimize.minimize(
            objective,
            theta0,
            jac=value_and_grad is not None,
            method="L-BFGS-B",
            bounds=[(-_LOG_BOUND, _LOG_BOUND)] * len(theta0),
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )
        if not (np.isfinite(res.fun) and res.fun < 1e299):
            continue
        if any(_same_maximum(res, other) for other in found):
            best = res if best is None or res.fun < best.fun else best
            break
        found.append(res)
        if best is None or res.fun < best.fun:
            best = res
    if best is None:
        raise CLVFitError(f"the {model} likelihood is not finite at any start; {_ADVICE}")
    # a log parameter within 0.1 of its bound (a parameter beyond ~9e5 or below ~1.1e-6): the
    # likelihood still rises towards 0 or infinity, there is no interior maximum
    at_bound = [n for n, t in zip(names, best.x, strict=True) if abs(t) > _LOG_BOUND - 0.1]
    if at_bound:
        err = CLVFitError(
            f"the {model} fit did not converge: {', '.join(at_bound)} ran off to 0 or infinity "
            f"(the data do not pin the model down); {_ADVICE}"
        )
        err.params = np.exp(best.x)
        raise err
    if not best.success:
        # L-BFGS-B may stop on a tiny relative change that is a maximum all the same: accept it
        # when the gradient (scaled to the log parameters) is small.
        slope = optimize.approx_fprime(best.x, value, 1e-7)
        if not np.all(np.abs(slope) < 1e-3 * max(1.0, abs(best.fun))):
            raise CLVFitError(f"the {model} fit did not converge ({best.message}); {_ADVICE}")
    return np.exp(best.x)


def _same_maximum(a: optimize.OptimizeResult, b: optimize.OptimizeResult) -> bool:
    close_fun = abs(a.fun - b.fun) <= 1e-10 * max(1.0, abs(a.fun))
    return bool(close_fun and np.allclose(np.exp(a.x), np.exp(b.x), rtol=1e-4))


def standard_errors(
    neg_ll: Callable[[np.ndarray], float],
    params: np.ndarray,
    *,
    gradient: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Square roots of the diagonal of the inverse Hessian of ``neg_ll`` at ``params``.

    The Hessian is taken in the natural parameters by central finite differences (relative step
    1e-4): of ``gradient`` when given (2 k evaluations), else of ``neg_ll``; NaN where the
    Hessian is not invertible or not positive definite.
    """
    p = np.asarray(params, dtype=float)
    k = len(p)
    h = 1e-4 * np.maximum(np.abs(p), 1e-8)
    hess = np.empty((k, k))
    if gradient is not None:
        for i in range(k):
            ei = np.zeros(k)
            ei[i] = h[i]
            hess[:, i] = (gradient(p + ei) - gradient(p - ei)) / (2.0 * h[i])
        hess = (hess + hess.T) / 2.0
    else:
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


class FitResults(TypedDict):
    """The fields every CLV fit result shares (see :func:`fit_results`)."""

    params: dict[str, float]
    standard_errors: dict[str, float]
    log_likelihood: float
    n_customers: int


def fit_results(
    value_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    params: np.ndarray,
    names: Sequence[str],
    n: float,
) -> FitResults:
    """The end of a fit: the fields ``params``, ``standard_errors``, ``log_likelihood`` and
    ``n_customers`` of its result, from the per-customer ``value_and_grad`` (mean negative
    log-likelihood and its gradient) at the fitted ``params`` over ``n`` customers."""
    se = standard_errors(
        lambda p: value_and_grad(p)[0] * n, params, gradient=lambda p: value_and_grad(p)[1] * n
    )
    return FitResults(
        params=dict(zip(names, map(float, params), strict=True)),
        standard_errors=dict(zip(names, map(float, se), strict=True)),
        log_likelihood=-value_and_grad(params)[0] * n,
        n_customers=int(n),
    )
