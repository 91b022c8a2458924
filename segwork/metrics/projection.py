"""Young-cohort projection: the shifted-beta-geometric (sBG) retention model.

Fader, P. S. and Hardie, B. G. S. (2007), "How to project customer retention", *Journal of
Interactive Marketing* 21(1), 76-90.  Each customer churns at the end of every period with its own
probability theta (a coin flip per period, so its lifetime is geometric), and theta varies over
customers as Beta(alpha, beta).  Then, with t = 1, 2, ... periods of age:

- P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)  (churn at age t: active at ages
  0 .. t-1, not at t),
- S(t) = P(T > t) = B(alpha, beta + t) / B(alpha, beta), S(0) = 1,
- r(t) = S(t) / S(t-1) = (beta + t - 1) / (alpha + beta + t - 1)  (retention rate, rising with
  age because the churn-prone customers leave first).

The parameters are fitted by maximum likelihood (``scipy.optimize.minimize``, SLSQP, on log alpha
and log beta within [-12, 12], with the analytic gradient; SLSQP rather than L-BFGS-B because the
latter slows down tenfold when its BLAS threads compete with the engine's), on the likelihood
per customer (on the raw sum of a million customers SLSQP stopped at its start); a bootstrap's
refits are made at once by Newton's method (``_fit_many``).  The fitter is small
enough that no extra dependency is needed; it is checked against the paper's "High End" and
"Regular" data sets (tests/metrics/test_projection.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special as sp

from segwork.data.dates import to_date
from segwork.engine import Data, engine_for
from segwork.metrics._common import Bins, Where
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.cohorts import (
    COHORT_BASES,
    PERIODS,
    check_activity_source,
    check_choice,
    period_of,
)
from segwork.metrics.lifetimes import customer_durations, kaplan_meier, lifetime_counts

__all__ = [
    "PROJECTION_COLUMNS",
    "SBGFit",
    "fit_sbg",
    "fit_sbg_censored",
    "project_retention",
    "retention_fits",
]

#: Value columns of :func:`project_retention` (after the segment columns).
PROJECTION_COLUMNS: tuple[str, ...] = (
    "age",
    "observed",
    "projected",
    "projected_low",
    "projected_high",
)
_FIT_COLUMNS = ["alpha", "beta", "log_likelihood", "customers", "events", "max_age"]
#: Bounds of log(alpha) and log(beta): keeps degenerate fits (no survivor, a homogeneous
#: population) finite; exp(12) ~ 1.6e5.
_LOG_BOUNDS = (-12.0, 12.0)


# -- the model -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SBGFit:
    """A fitted shifted-beta-geometric model (Fader & Hardie 2007).

    Attributes
    ----------
    alpha, beta : float
        The Beta(alpha, beta) distribution of the per-period churn probability over customers
        (mean churn probability alpha / (alpha + beta)).
    log_likelihood : float
        Maximised log-likelihood of the data.
    n : float
        Customers in the data (the cohort size, or the pooled count of customers).
    events : float
        Churn events observed.
    converged : bool
        Whether the optimiser reported success.
    """

    alpha: float
    beta: float
    log_likelihood: float
    n: float
    events: float
    converged: bool = True

    def churn_probability(self, t: npt.ArrayLike) -> np.ndarray:
        """P(T = t): the probability of churning at age t (t >= 1; 0 at t = 0)."""
        tt = np.asarray(t, dtype="float64")
        a, b = self.alpha, self.beta
        with np.errstate(invalid="ignore"):
            lp = sp.betaln(a + 1, b + np.maximum(tt, 1.0) - 1) - sp.betaln(a, b)
        return np.where(tt >= 1, np.exp(lp), 0.0)

    def survival(self, t: npt.ArrayLike) -> np.ndarray:
        """S(t) = B(alpha, beta + t) / B(alpha, beta): the share still active at age t."""
        tt = np.asarray(t, dtype="float64")
        return np.exp(sp.betaln(self.alpha, self.beta + tt) - sp.betaln(self.alpha, self.beta))

    def retention_rate(self, t: npt.ArrayLike) -> np.ndarray:
        """r(t) = S(t) / S(t-1) = (beta + t - 1) / (alpha + beta + t - 1), for t >= 1."""
        tt = np.asarray(t, dtype="float64")
        return (self.beta + tt - 1) / (self.alpha + self.beta + tt - 1)


def _neg_ll(
    log_params: np.ndarray, t: np.ndarray, d: np.ndarray, c: np.ndarray
) -> tuple[float, np.ndarray]:
    """Negative log-likelihood of events ``d`` at ages ``t`` (>= 1) and censored ``c`` at ``t``.

    Returns the value and its gradient with respect to (log alpha, log beta).
    """
    a, b = np.exp(log_params)
    base = sp.betaln(a, b)
    log_p = sp.betaln(a + 1, b + t - 1) - base
    log_s = sp.betaln(a, b + t) - base
    ll = float(np.dot(d, log_p) + np.dot(c, log_s))
    psi_ab, psi_a, psi_b = sp.digamma(a + b), sp.digamma(a), sp.digamma(b)
    psi_abt = sp.digamma(a + b + t)
    dp_da = sp.digamma(a + 1) - psi_abt - psi_a + psi_ab
    dp_db = sp.digamma(b + t - 1) - psi_abt - psi_b + psi_ab
    ds_da = psi_ab - psi_abt
    ds_db = sp.digamma(b + t) - psi_abt - psi_b + psi_ab
    grad = np.array(
        [a * (np.dot(d, dp_da) + np.dot(c, ds_da)), b * (np.dot(d, dp_db) + np.dot(c, ds_db))]
    )
    return -ll, -grad


def fit_sbg_censored(events: npt.ArrayLike, censored: npt.ArrayLike) -> SBGFit:
    """Fit the sBG model to churn events and right-censored survivors, pooled over cohorts.

    The pooled likelihood of several cohorts observed for different lengths of time: every
    customer that churned at age t contributes P(T = t), every customer still active when last
    observed, at age t, contributes S(t):
    ``LL = sum_t events[t] log P(T = t) + sum_t censored[t] log S(t)``.  These are exactly the
    Kaplan-Meier counts of docs/metrics.md "Survival" (events d(t), censored c(t)).

    Parameters
    ----------
    events : array-like
        ``events[t]`` = customers that churned at age t, for t = 0, 1, ... (``events[0]`` must be
        0: a customer is active at age 0 by definition).
    censored : array-like
        ``censored[t]`` = customers last observed (still active) at age t; the same length.

    Returns
    -------
    SBGFit

    Raises
    ------
    ValueError
        Lengths differ, negative counts, events at age 0, or no churn event at all (the maximum
        likelihood estimate does not exist: every customer could be immortal).

    Examples
    --------
    Two cohorts of 100: the older one is observed for 2 periods (20 then 12 churn, 68 left), the
    younger one for 1 period (25 churn, 75 left).

    >>> fit = fit_sbg_censored([0, 45, 12], [0, 75, 68])
    >>> round(float(fit.survival(1)), 3), round(float(fit.survival(2)), 3)
    (0.775, 0.659)
    """
    d = np.asarray(events, dtype="float64")
    c = np.asarray(censored, dtype="float64")
    if d.ndim != 1 or d.shape != c.shape:
        raise ValueError(
            f"events and censored must be 1-d of the same length, got {d.shape} and {c.shape}"
        )
    if (d < 0).any() or (c < 0).any() or not (np.isfinite(d).all() and np.isfinite(c).all()):
        raise ValueError("events and censored must be finite counts >= 0")
    if len(d) and d[0] != 0:
        raise ValueError("events[0] must be 0: every customer is active at age 0")
    if d.sum() <= 0:
        raise ValueError(
            "no churn event observed: the shifted-beta-geometric fit is undefined (the likelihood "
            "keeps rising as the churn probability goes to 0: there is no maximum)"
        )
    return _fit(d, c)


def import_optimize() -> Any:
    """``scipy.optimize``, imported on a fit only: a few tenths of a second on a cold kernel,
    so the cohort page imports it while its kernel is idle, before a click on its Projection
    section (:meth:`segwork.widgets.CohortExplorer.preparations`).

    >>> import_optimize().minimize.__name__
    'minimize'
    """
    from scipy import optimize

    return optimize


def _fit(d: np.ndarray, c: np.ndarray, start: SBGFit | None = None) -> SBGFit:
    """The MLE on (log alpha, log beta); ``start``: warm start with a looser tolerance."""
    optimize = import_optimize()
    t = np.arange(len(d), dtype="float64")
    keep = (t >= 1) & ((d > 0) | (c > 0))
    # the likelihood per customer (counts as shares): with a million customers the raw
    # likelihood's gradient at the start is in the millions, and SLSQP stopped there at once,
    # reporting success (alpha = beta = 1); the maximum is the same
    n = max(float(d.sum() + c.sum()), 1.0)
    tt, dd, cc = t[keep], d[keep] / n, c[keep] / n
    if start is None:
        x0 = np.zeros(2)
        options = {"ftol": 1e-14, "maxiter": 1000}
    else:
        x0 = np.clip(np.log([start.alpha, start.beta]), *_LOG_BOUNDS)
        options = {"ftol": 1e-12, "maxiter": 500}
    res = optimize.minimize(
        _neg_ll,
        x0=x0,
        args=(tt, dd, cc),
        jac=True,
        method="SLSQP",
        bounds=[_LOG_BOUNDS, _LOG_BOUNDS],
        options=options,
    )
    a, b = np.exp(res.x)
    return SBGFit(
        alpha=float(a),
        beta=float(b),
        log_likelihood=-float(res.fun) * n,
        n=float(d.sum() + c.sum()),
        events=float(d.sum()),
        converged=bool(res.success),
    )


def fit_sbg(survivors: Sequence[float] | npt.ArrayLike, n0: float | None = None) -> SBGFit:
    """Fit the shifted-beta-geometric model to one cohort's survivor counts (Fader & Hardie 2007).

    Parameters
    ----------
    survivors : sequence of numbers
        Customers still active at ages 1, 2, ..., T when ``n0`` is given; when ``n0`` is None the
        first element is the cohort size at age 0 and the rest are ages 1..T.  Counts must not
        increase (a survivor curve; reactivations are not part of the model).
    n0 : number, optional
        The cohort size at age 0.

    Returns
    -------
    SBGFit
        ``alpha``, ``beta``, ``log_likelihood``, ``n`` (= n0); ``.survival(t)``,
        ``.retention_rate(t)``.  The survivors at age T are right-censored: they contribute
        S(T) to the likelihood.

    Raises
    ------
    ValueError
        Fewer than one age, increasing counts, or no churn at all.

    Examples
    --------
    Fader & Hardie's "High End" customers (1,000 at the start, then per year):

    >>> fit = fit_sbg([869, 743, 653, 593, 551, 517, 491], n0=1000)
    >>> round(fit.alpha, 3), round(fit.beta, 3)
    (0.668, 3.806)
    >>> round(float(fit.retention_rate(8)), 3)
    0.942
    """
    s = np.asarray(survivors, dtype="float64").ravel()
    if n0 is not None:
        s = np.concatenate([[float(n0)], s])
    if len(s) < 2:
        raise ValueError("fit_sbg needs the cohort size and at least one later survivor count")
    drops = s[:-1] - s[1:]
    if (drops < 0).any():
        raise ValueError(
            f"survivor counts must not increase with age, got {s.tolist()} (reactivated customers "
            "are not part of the sBG model: use each customer's first run of activity)"
        )
    events = np.concatenate([[0.0], drops])
    censored = np.zeros_like(events)
    censored[-1] = s[-1]
    return fit_sbg_censored(events, censored)


# -- data: first-run durations in the engine -------------------------------------------------------
def _duration_table(
    data: Data,
    day: dt.date,
    period: str,
    cohort: str,
    attrs: ir.Table,
    by_names: list[str],
) -> ir.Table:
    """Engine: ``[*by], o (origin period), duration, event, n`` counts of customers.

    The customers' lifetimes (:func:`segwork.metrics.lifetimes.customer_durations`, cached per
    as_of, period and cohort) counted per segment of ``attrs``: a change of split or filter, and
    the fits beside the projection, reuse them.
    """
    eng = engine_for(data)
    data = eng.data
    per = customer_durations(eng, day, period, cohort)
    j = per.join(attrs.select("customer_id", *by_names), "customer_id")
    return j.group_by([*by_names, "o", "duration", "event"]).aggregate(n=j.count())


def _counts(
    data: Data,
    as_of: Any,
    by: str | Sequence[str] | None,
    where: Where | None,
    bins: Bins | None,
    period: str,
    cohort: str,
) -> tuple[pd.DataFrame, list[str], int]:
    eng = engine_for(data)
    data = eng.data
    check_choice("period", period, PERIODS)
    check_choice("cohort", cohort, COHORT_BASES)
    day = to_date(as_of)
    check_activity_source(eng, period, "the retention projection")
    attrs, by_names = customer_attributes(eng, day, by, where=where, bins=bins)
    counts = _duration_table(eng, day, period, cohort, attrs, by_names).to_pandas()
    if counts.empty:
        raise ValueError(
            f"no customer has any activity (MRR > 0 or an order) on or before as_of={day}: "
            "there is nothing to project"
        )
    for col in ("o", "duration", "event", "n"):
        counts[col] = counts[col].astype("int64")
    return counts, by_names, period_of(day, period)


def _segments(
    counts: pd.DataFrame, by_names: list[str]
) -> list[tuple[tuple[Any, ...], pd.DataFrame]]:
    """(segment key, its rows), sorted by segment (null values last)."""
    if not by_names:
        return [((), counts)]
    keys = counts[by_names].drop_duplicates()
    keys = keys.sort_values(by_names, na_position="last", kind="stable")
    out = []
    for key in keys.itertuples(index=False, name=None):
        mask = np.ones(len(counts), dtype=bool)
        for col, val in zip(by_names, key, strict=True):
            same = counts[col].isna() if pd.isna(val) else counts[col] == val
            mask &= same.to_numpy()
        out.append((tuple(key), counts[mask]))
    return out


def _event_censor_arrays(seg: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``d[t]`` events and ``c[t]`` censored customers at duration t (KM counts)."""
    event = seg["event"].to_numpy() == 1
    n = seg["n"].to_numpy()
    return lifetime_counts(seg["duration"].to_numpy(), np.where(event, n, 0), n)


def _observed(d: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The observed retention: the Kaplan-Meier S(t) (:func:`kaplan_meier`) with age 0 at 1 (a
    cohort is whole at its origin: a lifetime ending at 0 counts as leaving, not as churn)."""
    return kaplan_meier(np.r_[0.0, d[1:]], np.r_[c[0] + d[0], c[1:]]).survival


def _bootstrap(
    fit: SBGFit,
    seg: pd.DataFrame,
    a_idx: int,
    ages: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Parametric bootstrap: ``(n_ok, len(ages))`` projected S(t) of refits on simulated data.

    Each replicate redraws every cohort from the fitted model with the cohort's own observation
    length (customers with origin o are observable up to age A - o): multinomial counts of churn
    at ages 1 .. A - o and survivors censored at A - o.  Replicates without any churn are skipped.
    """
    sizes = seg.groupby("o")["n"].sum()
    follow = (a_idx - sizes.index.to_numpy()).astype("int64")
    n_c = sizes.to_numpy().astype("int64")
    h = int(follow.max())
    t = np.arange(1, h + 1)
    p_t = fit.churn_probability(t)
    pvals = np.zeros((len(n_c), h + 1))  # columns: churn at ages 1..h, then censored
    mask = t[None, :] <= follow[:, None]
    pvals[:, :h] = np.where(mask, p_t[None, :], 0.0)
    pvals[:, h] = np.clip(1.0 - pvals[:, :h].sum(axis=1), 0.0, 1.0)
    pvals /= pvals.sum(axis=1, keepdims=True)
    draws = rng.multinomial(n_c, pvals, size=(n_boot, len(n_c)))  # (B, cohorts, h + 1)
    d_b = np.zeros((n_boot, h + 1))
    d_b[:, 1:] = draws[:, :, :h].sum(axis=1)
    c_b = np.zeros((n_boot, h + 1))
    np.add.at(c_b.T, follow, draws[:, :, h].T)
    d_b, c_b = d_b[d_b.sum(axis=1) > 0], c_b[d_b.sum(axis=1) > 0]
    x, ok = _fit_many(d_b, c_b, fit)
    for b in np.flatnonzero(~ok):  # where Newton's steps do not settle: the general fitter
        refit = _fit(d_b[b], c_b[b], start=fit)
        x[b] = np.log([refit.alpha, refit.beta])
    a, b_ = np.exp(x[:, :1]), np.exp(x[:, 1:])
    return np.exp(sp.betaln(a, b_ + ages[None, :]) - sp.betaln(a, b_))


def _fit_many(
    d: np.ndarray, c: np.ndarray, start: SBGFit, max_iter: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """The MLE of :func:`_fit` for every row of ``d`` and ``c`` (events and censored by age) at
    once: Newton's method on (log alpha, log beta) from ``start``, with step halving so that the
    likelihood never falls.  Returns the log parameters ``(rows, 2)`` and whether each row
    settled (a Newton step would gain under 1e-10 of log-likelihood, inside the bounds, the
    likelihood concave there); a row that did not is for :func:`_fit`.  A bootstrap's hundreds
    of refits in a few array operations instead of one optimizer call each
    (tests/metrics/test_projection.py holds them equal)."""
    t = np.arange(1, d.shape[1], dtype="float64")[None, :]
    dd, cc = d[:, 1:], c[:, 1:]
    x = np.tile(np.clip(np.log([start.alpha, start.beta]), *_LOG_BOUNDS), (len(d), 1))
    ok = np.zeros(len(d), dtype=bool)
    live = np.ones(len(d), dtype=bool)
    for _ in range(max_iter):
        rows = np.flatnonzero(live)
        if not len(rows):
            break
        xr = x[rows]
        ll, g, h = _ll_grad_hess(xr, t, dd[rows], cc[rows])
        det = h[:, 0, 0] * h[:, 1, 1] - h[:, 0, 1] ** 2
        concave = (h[:, 0, 0] < 0) & (det > 0)
        safe = np.where(concave, det, 1.0)
        step = np.stack(
            [
                -(h[:, 1, 1] * g[:, 0] - h[:, 0, 1] * g[:, 1]) / safe,
                -(h[:, 0, 0] * g[:, 1] - h[:, 0, 1] * g[:, 0]) / safe,
            ],
            axis=1,
        )
        # at most 2 in log alpha or log beta at once, then halved while the likelihood falls
        scale = np.minimum(1.0, 2.0 / np.maximum(np.abs(step).max(axis=1), 1e-300))
        for _ in range(30):
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                trial = xr + scale[:, None] * step
                new_ll = _ll_grad_hess(trial, t, dd[rows], cc[rows], ll_only=True)
            worse = ~(new_ll >= ll - 1e-12 * np.abs(ll))
            if not worse.any():
                break
            scale[worse] /= 2
        new_x = xr + scale[:, None] * step
        inside = (new_x > _LOG_BOUNDS[0]).all(axis=1) & (new_x < _LOG_BOUNDS[1]).all(axis=1)
        # settled: what a full Newton step could still gain (half its decrement) is below
        # 1e-10 of log-likelihood, the precision of the likelihood itself near its maximum
        gain = 0.5 * (g * step).sum(axis=1)
        done = concave & inside & (gain < 1e-10)
        x[rows] = np.where(inside[:, None], new_x, xr)
        ok[rows[done]] = True
        live[rows[done | ~concave | ~inside]] = False
    return x, ok


def _ll_grad_hess(
    x: np.ndarray, t: np.ndarray, d: np.ndarray, c: np.ndarray, *, ll_only: bool = False
) -> Any:
    """Per row: the log-likelihood of :func:`_neg_ll` (negated back), and unless ``ll_only`` its
    gradient and Hessian with respect to (log alpha, log beta)."""
    a, b = np.exp(x[:, :1]), np.exp(x[:, 1:])
    base = sp.betaln(a, b)
    log_p = sp.betaln(a + 1, b + t - 1) - base
    log_s = sp.betaln(a, b + t) - base
    ll = (d * log_p + c * log_s).sum(axis=1)
    if ll_only:
        return ll
    psi_ab, psi_abt = sp.digamma(a + b), sp.digamma(a + b + t)
    psi_a, psi_b = sp.digamma(a), sp.digamma(b)
    tri_ab, tri_abt = sp.polygamma(1, a + b), sp.polygamma(1, a + b + t)
    tri_a, tri_b = sp.polygamma(1, a), sp.polygamma(1, b)
    # first and second derivatives in alpha and beta of log P(T = t) and log S(t)
    p_a = sp.digamma(a + 1) - psi_abt - psi_a + psi_ab
    p_b = sp.digamma(b + t - 1) - psi_abt - psi_b + psi_ab
    s_a = psi_ab - psi_abt
    s_b = sp.digamma(b + t) - psi_abt - psi_b + psi_ab
    p_aa = sp.polygamma(1, a + 1) - tri_abt - tri_a + tri_ab
    p_bb = sp.polygamma(1, b + t - 1) - tri_abt - tri_b + tri_ab
    s_aa = tri_ab - tri_abt
    s_bb = sp.polygamma(1, b + t) - tri_abt - tri_b + tri_ab
    ab = tri_ab - tri_abt  # the cross derivative, the same for both
    a1, b1 = a[:, 0], b[:, 0]
    la = (d * p_a + c * s_a).sum(axis=1)
    lb = (d * p_b + c * s_b).sum(axis=1)
    laa = (d * p_aa + c * s_aa).sum(axis=1)
    lbb = (d * p_bb + c * s_bb).sum(axis=1)
    lab = ((d + c) * ab).sum(axis=1)
    g = np.stack([a1 * la, b1 * lb], axis=1)
    h = np.empty((len(x), 2, 2))
    h[:, 0, 0] = a1 * a1 * laa + a1 * la
    h[:, 1, 1] = b1 * b1 * lbb + b1 * lb
    h[:, 0, 1] = h[:, 1, 0] = a1 * b1 * lab
    return ll, g, h


def _check_common(horizon: int, confidence: float, n_boot: int) -> None:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a whole number of periods >= 1, got {horizon!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise ValueError(f"n_boot must be a whole number >= 0, got {n_boot!r}")


def retention_fits(
    data: Data,
    as_of: Any,
    *,
    by: str | Sequence[str] | None = None,
    where: Where | None = None,
    bins: Bins | None = None,
    period: Literal["week", "month", "quarter", "year"] = "month",
    cohort: Literal["first_active", "signup"] = "first_active",
) -> pd.DataFrame:
    """The sBG parameters fitted per segment (pooled over cohorts), as used by
    :func:`project_retention`.

    Parameters
    ----------
    data, as_of, by, where, bins, period, cohort
        As in :func:`project_retention`.

    Returns
    -------
    pandas.DataFrame
        ``[*by], alpha, beta, log_likelihood, customers, events, max_age``: one row per segment
        (alpha/beta/log_likelihood NaN where no churn was observed); ``customers``, ``events`` and
        ``max_age`` (the oldest age observed) are int64.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> from segwork.metrics.projection import retention_fits
    >>> months = [f"2024-{m:02d}-01" for m in range(1, 7)]
    >>> mrr = pd.DataFrame({"customer_id": [1] * 6 + [2, 2, 3], "month": months + months[:2]
    ...     + months[:1], "mrr": [10.0] * 9})
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3], "signup_date": ["2024-01-01"] * 3})
    >>> fits = retention_fits(segwork.load({"customers": customers, "mrr": mrr}), "2024-06-30")
    >>> fits[["customers", "events", "max_age"]]
       customers  events  max_age
    0          3       2        5
    """
    eng = engine_for(data)
    data = eng.data
    counts, by_names, _ = _counts(eng, as_of, by, where, bins, period, cohort)
    rows = []
    for key, seg in _segments(counts, by_names):
        d, c = _event_censor_arrays(seg)
        try:
            fit = fit_sbg_censored(d, c)
            values = [fit.alpha, fit.beta, fit.log_likelihood]
        except ValueError:
            values = [np.nan, np.nan, np.nan]
        rows.append([*key, *values, int(seg["n"].sum()), int(d.sum()), int(seg["duration"].max())])
    out = pd.DataFrame(rows, columns=[*by_names, *_FIT_COLUMNS])
    for col in ("customers", "events", "max_age"):
        out[col] = out[col].astype("int64")
    for col in ("alpha", "beta", "log_likelihood"):
        out[col] = out[col].astype("float64")
    return out


def project_retention(
    data: Data,
    as_of: Any,
    *,
    by: str | Sequence[str] | None = None,
    horizon: int = 24,
    period: Literal["week", "month", "quarter", "year"] = "month",
    cohort: Literal["first_active", "signup"] = "first_active",
    confidence: float = 0.95,
    n_boot: int = 200,
    random_state: int | None = 0,
    where: Where | None = None,
    bins: Bins | None = None,
) -> pd.DataFrame:
    """Project retention to a horizon with a shifted-beta-geometric model fitted per segment.

    docs/metrics.md "Retention projection".  **Data fitted**: the Kaplan-Meier counts of
    docs/metrics.md "Survival" -- with A the as-of month, s a customer's first month with MRR > 0
    and T the number of consecutive active months from s: an event at tenure T when s + T <= A, else
    censored at tenure A - s; a comeback after the first run plays no part -- generalised to the
    period (month, quarter, year; week for transaction data, where activity is an order in the
    period, docs/metrics.md "Cohorts").  Not the logo cohort retention: a customer that comes back
    would count again there, and a retention curve that can rise is not a survival curve; the sBG
    model is a model of the first lifetime.  Per segment the cohorts are pooled with
    right-censoring: each cohort contributes its churn counts per age and its survivors censored at
    its own age (:func:`fit_sbg_censored`; Fader & Hardie 2007), so young cohorts inform the early
    ages only.

    With ``cohort="first_active"`` (default) age 0 is the period of first activity (the cohort of
    docs/metrics.md "Cohorts"); with ``cohort="signup"`` age 0 is the signup period, activity before
    it is ignored and a customer counts as retained from signup to the end of its first run (a late
    start is not a churn).  Customers with no activity by as_of are not in the fit (as in
    :func:`segwork.survival`).

    **Band**: a parametric bootstrap (seeded with ``random_state``): ``n_boot`` data sets are
    drawn from the fitted model with the observed cohort sizes and observation lengths, the model
    is refitted on each, and the band is the pointwise ``(1 - confidence) / 2`` and
    ``(1 + confidence) / 2`` quantiles of the refitted curves.  It is an interval for the expected
    curve under the model (parameter uncertainty), not for a single future cohort.

    Parameters
    ----------
    data : Dataset or Engine
        Subscription data (``mrr``/``subscriptions``) or, without those, ``transactions``.
    as_of : date-like
        The as-of date: data after it is ignored; customers with signup_date <= as_of.
    by : str or list of str, optional
        Segment columns (customer or derived attributes): one fit and curve per segment.
    horizon : int, default 24
        Project ages 0 .. horizon (in periods).
    period : {"week", "month", "quarter", "year"}, default "month"
        The model's period (``"week"`` needs transaction data).
    cohort : {"first_active", "signup"}, default "first_active"
        Where age 0 is (see above).
    confidence : float, default 0.95
        Level of the band.
    n_boot : int, default 200
        Bootstrap replicates (0: no band, NaN bounds).
    random_state : int or None, default 0
        Seed of the bootstrap (the same seed gives the same band).
    where, bins : dict, optional
        As in :func:`~segwork.metrics.mrr.mrr_movements`.

    Returns
    -------
    pandas.DataFrame
        ``[*by], age, observed, projected, projected_low, projected_high``: one row per segment
        and age 0 .. horizon.  ``observed`` is the pooled Kaplan-Meier estimate (NaN beyond the
        oldest age observed in the segment); ``projected`` is the fitted S(age); where a segment
        has no churn event at all the model cannot be fitted and the projection is NaN.  Sorted
        by segment (nulls last) and age; ``age`` is int64.

    Raises
    ------
    ValueError
        Bad ``period``/``cohort`` (lists the allowed values), ``period="week"`` on subscription
        data, unknown ``by``/``where`` columns, bad ``horizon``/``confidence``/``n_boot``, or no
        activity by as_of.

    Examples
    --------
    Customer 1 stays 6 months, customer 2 two months, customer 3 one month (as of June).

    >>> import pandas as pd, segwork
    >>> months = [f"2024-{m:02d}-01" for m in range(1, 7)]
    >>> mrr = pd.DataFrame({"customer_id": [1] * 6 + [2, 2, 3], "month": months + months[:2]
    ...     + months[:1], "mrr": [10.0] * 9})
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3], "signup_date": ["2024-01-01"] * 3})
    >>> data = segwork.load({"customers": customers, "mrr": mrr})
    >>> out = project_retention(data, "2024-06-30", horizon=3, n_boot=0)
    >>> out[["age", "observed"]]
       age  observed
    0    0  1.000000
    1    1  0.666667
    2    2  0.333333
    3    3  0.333333
    """
    eng = engine_for(data)
    data = eng.data
    _check_common(horizon, confidence, n_boot)
    counts, by_names, a_idx = _counts(eng, as_of, by, where, bins, period, cohort)
    ages = np.arange(horizon + 1)
    rng = np.random.default_rng(random_state)
    lo_q, hi_q = (1 - confidence) / 2, (1 + confidence) / 2
    frames = []
    for key, seg in _segments(counts, by_names):
        d, c = _event_censor_arrays(seg)
        km = _observed(d, c)
        observed = np.full(len(ages), np.nan)
        upto = min(len(km), len(ages))
        observed[:upto] = km[:upto]
        projected = low = high = np.full(len(ages), np.nan)
        if d.sum() > 0:
            fit = fit_sbg_censored(d, c)
            projected = fit.survival(ages)
            if n_boot:
                curves = _bootstrap(fit, seg, a_idx, ages, int(n_boot), rng)
                if len(curves):
                    low = np.quantile(curves, lo_q, axis=0)
                    high = np.quantile(curves, hi_q, axis=0)
        frame = pd.DataFrame(
            {
                "age": ages.astype("int64"),
                "observed": observed,
                "projected": projected,
                "projected_low": low,
                "projected_high": high,
            }
        )
        for col, val in zip(by_names, key, strict=True):
            frame.insert(by_names.index(col), col, val)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out[[*by_names, *PROJECTION_COLUMNS]]
