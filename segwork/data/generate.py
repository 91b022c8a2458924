"""Deterministic, vectorised synthetic SaaS sample data.

:func:`generate_frames` builds the raw tables of a fictitious B2B SaaS company (customers,
subscriptions, usage events, transactions) plus a synthetic market table, as pandas DataFrames that
follow the input-table contract of ``docs/metrics.md`` ("Input tables"). :func:`make_saas_data`
passes them through
segwork's loader, which derives ``mrr`` from ``subscriptions``. The churn model contains a few known
effects (:data:`PLANTED_EFFECTS`) so that analyses and tests can check that they recover the truth.

Everything is drawn from ``numpy.random.default_rng(random_state)`` (split into one independent
stream per table with ``Generator.spawn``), so the same arguments always give the same frames. The
work is done on whole arrays: the only Python loops run over the handful of plans, features, bands
or product types, never over customers or months.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from segwork.data.derive import positions_in_runs

if TYPE_CHECKING:  # pragma: no cover - import for type checkers only
    from segwork.data.dataset import Dataset

__all__ = [
    "ACQUISITION_CHANNELS",
    "COMPANY_SIZE_BANDS",
    "COMPANY_SIZE_BAND_LABELS",
    "COUNTRY_REGION",
    "FEATURES",
    "INDUSTRIES",
    "LIST_PRICES",
    "PLANS",
    "PLANTED_EFFECTS",
    "REGIONS",
    "company_size_band",
    "generate_frames",
    "make_saas_data",
]

DateLike = str | _dt.date | np.datetime64

# --------------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------------
PLANS: Final[tuple[str, ...]] = ("starter", "pro", "enterprise")
"""Plan tiers, cheapest first."""

LIST_PRICES: Final[dict[str, float]] = {"starter": 25.0, "pro": 60.0, "enterprise": 150.0}
"""List price in USD per seat per month; the annual price of a seat is 10 x the monthly price."""

ANNUAL_PRICE_MONTHS: Final[float] = 10.0

FEATURES: Final[tuple[str, ...]] = (
    "dashboard",
    "reports",
    "invoice_automation",
    "api",
    "integrations",
    "export",
)
"""Product features that appear as ``events.event``."""

COUNTRY_REGION: Final[dict[str, str]] = {
    "US": "North America",
    "CA": "North America",
    "GB": "Europe",
    "DE": "Europe",
    "FR": "Europe",
    "NL": "Europe",
    "ES": "Europe",
    "AU": "APAC",
    "IN": "APAC",
    "JP": "APAC",
    "BR": "LATAM",
}
"""Country (ISO 3166 alpha-2) -> sales region."""

REGIONS: Final[tuple[str, ...]] = ("North America", "Europe", "APAC", "LATAM")

INDUSTRIES: Final[tuple[str, ...]] = (
    "software",
    "ecommerce",
    "finance",
    "healthcare",
    "education",
    "manufacturing",
    "media",
)

ACQUISITION_CHANNELS: Final[tuple[str, ...]] = (
    "organic",
    "paid_search",
    "referral",
    "partner",
    "outbound",
)

COMPANY_SIZE_BANDS: Final[tuple[int, ...]] = (0, 10, 50, 250, 1000)
"""Lower edges (exclusive) of the company-size bands in employees: band i holds
``COMPANY_SIZE_BANDS[i] < employees <= COMPANY_SIZE_BANDS[i + 1]`` (the last band is open)."""

COMPANY_SIZE_BAND_LABELS: Final[tuple[str, ...]] = ("1-10", "11-50", "51-250", "251-1000", "1001+")
"""Labels of :data:`COMPANY_SIZE_BANDS`, as used in ``market.company_size``."""

PLANTED_EFFECTS: Final[dict[str, Any]] = {
    # Monthly churn hazard of a monthly-billed customer, by its initial plan (customers.plan).
    "base_monthly_churn": {"starter": 0.05, "pro": 0.03, "enterprise": 0.015},
    # Multiplier on the monthly hazard by initial billing interval (customers.billing_interval).
    # Annual subscriptions can only end at a renewal anniversary; the per-renewal churn probability
    # is 1 - (1 - 0.4 * hazard) ** 12, i.e. an effective monthly churn of 0.4 x the monthly one.
    "interval_multiplier": {"monthly": 1.0, "annual": 0.4},
    # Signup cohort with worse retention: signup_date in 2023-04-01 .. 2023-06-30 (2023-Q2).
    "cohort_quarter": "2023Q2",
    "cohort_signup_from": "2023-04-01",
    "cohort_signup_to": "2023-06-30",
    "cohort_multiplier": 2.0,
    # Customers who adopted this feature (any event of it) churn at half the rate.
    "feature": "invoice_automation",
    "feature_multiplier": 0.5,
    # Life-cycle probabilities (scheduled; a change happens only if the customer is still subscribed
    # and the date is within the window, so with the default window about 15 % of customers are
    # seen upgrading, 5 % downgrading and 8 % of churned customers returning).
    "upgrade_probability": {"starter": 0.28, "pro": 0.22, "enterprise": 0.0},
    "downgrade_probability": {"starter": 0.0, "pro": 0.17, "enterprise": 0.17},
    "seat_change_probability": 0.25,
    "reactivation_probability": 0.17,
    "min_reactivation_gap_months": 2,
}
"""The truth behind the sample's churn model (see :func:`make_saas_data`).

The monthly churn hazard of a customer is ``base_monthly_churn[plan] x
interval_multiplier[interval] x (cohort_multiplier if signed up in cohort_quarter) x
(feature_multiplier if it uses feature)``, all by the customer's *initial* plan and billing interval
(the ``customers`` columns)."""

# --------------------------------------------------------------------------------------------------
# Sampling parameters (not part of the documented truth beyond the docstring of make_saas_data)
# --------------------------------------------------------------------------------------------------
_SIGNUP_GROWTH = 1.0  # signup rate at `end` is (1 + growth) x the rate at `start`
_COUNTRY_P = {
    "US": 0.35, "GB": 0.10, "DE": 0.09, "FR": 0.07, "NL": 0.04, "ES": 0.04,
    "CA": 0.06, "AU": 0.05, "BR": 0.05, "IN": 0.08, "JP": 0.07,
}  # fmt: skip
_INDUSTRY_P = (0.25, 0.18, 0.12, 0.12, 0.10, 0.13, 0.10)
_CHANNEL_P = (0.35, 0.25, 0.15, 0.10, 0.15)
_SIZE_MEDIAN, _SIZE_SIGMA, _SIZE_MAX = 20.0, 1.6, 20_000
# P(plan | company-size band), rows = bands, columns = PLANS
_PLAN_P_BY_BAND = np.array(
    [
        [0.80, 0.19, 0.01],
        [0.60, 0.35, 0.05],
        [0.35, 0.50, 0.15],
        [0.15, 0.45, 0.40],
        [0.05, 0.30, 0.65],
    ]
)
_ANNUAL_P = np.array([0.25, 0.40, 0.65])  # P(annual | plan)
# P(feature adopted | plan), rows = FEATURES, columns = PLANS
_FEATURE_P = np.array(
    [
        [0.95, 0.97, 0.99],  # dashboard
        [0.45, 0.65, 0.80],  # reports
        [0.22, 0.40, 0.55],  # invoice_automation
        [0.08, 0.30, 0.60],  # api
        [0.20, 0.45, 0.70],  # integrations
        [0.30, 0.35, 0.40],  # export
    ]
)
_FEATURE_RATE = np.array([20.0, 6.0, 8.0, 40.0, 10.0, 3.0])  # mean monthly uses per sqrt(seat)
_DISCOUNT_P = {"monthly": 0.15, "annual": 0.40}
_DISCOUNTS = np.array([0.05, 0.10, 0.15, 0.20, 0.25, 0.30])
_MAX_PLAN_CHANGE_DELAY, _MAX_SEAT_CHANGE_DELAY = 12, 24  # months after signup (uniform from 1)
_REACTIVATION_EXTRA_GAP_P = 0.35  # gap = 2 + Geometric(p) - 1 months
# one-off orders: product -> (P(order | plan) for starter/pro/enterprise, median amount by plan)
_ONE_OFF: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "onboarding": ((0.01, 0.05, 0.30), (500.0, 1500.0, 5000.0)),
    "training": ((0.005, 0.02, 0.15), (300.0, 800.0, 2500.0)),
    "addon": ((0.02, 0.04, 0.06), (99.0, 249.0, 599.0)),
}
_ONBOARDING_WINDOW_DAYS = 30

# market
_BAND_ACCOUNTS = np.array([2_400_000, 520_000, 140_000, 32_000, 11_000])  # before the weights
_REGION_ACCOUNT_W = np.array([1.0, 1.3, 1.6, 0.5])
_INDUSTRY_ACCOUNT_W = np.array([0.10, 0.16, 0.08, 0.12, 0.07, 0.12, 0.06])
_BAND_ACV = np.array([600.0, 3_000.0, 12_000.0, 45_000.0, 150_000.0])
_REGION_ACV_W = np.array([1.0, 0.85, 0.6, 0.45])
_INDUSTRY_ACV_W = np.array([1.15, 0.95, 1.25, 1.10, 0.70, 0.90, 0.85])
_INDUSTRY_GROWTH = np.array([0.12, 0.10, 0.06, 0.08, 0.04, 0.03, 0.05])
_REGION_GROWTH = np.array([0.0, -0.01, 0.03, 0.02])

_NO_END: Final[int] = np.iinfo(np.int64).max // 4  # day number standing for "no end date"


# --------------------------------------------------------------------------------------------------
# Public helpers
# --------------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------------
# Date arithmetic on int64 day numbers (days since 1970-01-01) and month numbers (since 1970-01)
# --------------------------------------------------------------------------------------------------
def _to_day(value: DateLike) -> int:
    return int(np.datetime64(pd.Timestamp(value).normalize().date(), "D").astype(np.int64))


def _month_of(day: np.ndarray) -> np.ndarray:
    return day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _first_day(month: np.ndarray) -> np.ndarray:
    return month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _days_in_month(month: np.ndarray) -> np.ndarray:
    return _first_day(month + 1) - _first_day(month)


def _add_months(day: np.ndarray, k: np.ndarray | int) -> np.ndarray:
    """``day`` + ``k`` calendar months, the day of month clipped to the target month's length."""
    month = _month_of(day)
    dom = day - _first_day(month)
    target = month + k
    return _first_day(target) + np.minimum(dom, _days_in_month(target) - 1)


def _add_years(day: np.ndarray, k: np.ndarray | int) -> np.ndarray:
    return _add_months(day, 12 * np.asarray(k))


def _year_of(day: np.ndarray) -> np.ndarray:
    return day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _to_datetime(day: np.ndarray) -> np.ndarray:
    """int64 day numbers -> datetime64[ns]; ``_NO_END`` becomes NaT."""
    day = np.asarray(day, dtype=np.int64)
    missing = day >= _NO_END
    out = np.where(missing, 0, day) * np.int64(86_400_000_000_000)
    out[missing] = np.iinfo(np.int64).min  # NaT
    return out.view("datetime64[ns]")


def _frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """DataFrame over freshly made arrays without copying or consolidating them."""
    return pd.DataFrame(columns, copy=False)


def _choice(rng: np.random.Generator, cum_p: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``cum_p`` (rows of cumulative probabilities)."""
    u = rng.random(size=(cum_p.shape[0],))
    return (u[:, None] >= cum_p[:, :-1]).sum(axis=1)


def _uniform_int(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Uniform integers in ``[low, high]`` (inclusive), elementwise."""
    low = np.asarray(low, dtype=np.int64)
    span = np.maximum(np.asarray(high, dtype=np.int64) - low + 1, 1)
    # float32 draws are exact enough for spans of days/months and twice as cheap as float64
    draw = (rng.random(span.shape, dtype=np.float32) * span).astype(np.int64)
    return low + np.minimum(draw, span - 1)


def _as_object(values: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    return np.array(values, dtype=object)[codes]


# --------------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------------
def generate_frames(
    n_customers: int = 2000,
    *,
    start: DateLike = "2022-01-01",
    end: DateLike = "2024-12-31",
    random_state: int = 0,
) -> dict[str, pd.DataFrame]:
    """Generate the raw tables of the synthetic SaaS sample as pandas DataFrames.

    The tables, their columns and the planted effects are documented in :func:`make_saas_data`,
    which is this function followed by segwork's loader (that also derives ``mrr``).

    Parameters
    ----------
    n_customers : int, default 2000
        Number of customers (>= 1).
    start, end : str or date-like, default "2022-01-01" and "2024-12-31"
        First and last day of the observation window (inclusive). Nothing is dated after ``end``.
    random_state : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives identical frames.

    Returns
    -------
    dict of str to pandas.DataFrame
        Keys ``"customers"``, ``"subscriptions"``, ``"events"``, ``"transactions"``, ``"market"``.

    Raises
    ------
    ValueError
        If ``n_customers < 1`` or ``end`` is before ``start``.

    Examples
    --------
    >>> frames = generate_frames(200, random_state=1)
    >>> sorted(frames)
    ['customers', 'events', 'market', 'subscriptions', 'transactions']
    """
    n = int(n_customers)
    if n < 1:
        raise ValueError(f"n_customers must be >= 1, got {n_customers!r}")
    start_day, end_day = _to_day(start), _to_day(end)
    if end_day < start_day:
        raise ValueError(f"end ({end!r}) is before start ({start!r})")

    rng = np.random.default_rng(random_state)
    rng_cust, rng_subs, rng_events, rng_tx, rng_market = rng.spawn(5)

    cust = _customers(rng_cust, n, start_day, end_day)
    subs, runs = _subscriptions(rng_subs, cust, end_day)
    months = _active_months(runs, end_day)
    events = _events(rng_events, cust, months)
    transactions = _transactions(rng_tx, cust, runs, end_day)
    market = _market(rng_market)

    customers = _frame(
        {
            "customer_id": cust["customer_id"],
            "signup_date": _to_datetime(cust["signup"]),
            "country": cust["country"],
            "region": cust["region"],
            "industry": _as_object(INDUSTRIES, cust["industry"]),
            "company_size": cust["company_size"],
            "plan": _as_object(PLANS, cust["plan"]),
            "billing_interval": np.where(cust["annual"], "annual", "monthly").astype(object),
            "acquisition_channel": _as_object(ACQUISITION_CHANNELS, cust["channel"]),
        }
    )
    return {
        "customers": customers,
        "subscriptions": subs,
        "events": events,
        "transactions": transactions,
        "market": market,
    }


def _customers(rng: np.random.Generator, n: int, start_day: int, end_day: int) -> dict[str, Any]:
    n_days = end_day - start_day + 1
    # signup: density proportional to 1 + g x (x in [0, 1]) -> inverse CDF
    g = _SIGNUP_GROWTH
    u = rng.random(n)
    x = (np.sqrt(1.0 + 2.0 * g * u * (1.0 + g / 2.0)) - 1.0) / g
    signup = start_day + np.minimum(np.floor(x * n_days).astype(np.int64), n_days - 1)
    signup.sort()  # customer_id follows signup order

    countries = tuple(_COUNTRY_P)
    country_code = rng.choice(len(countries), size=n, p=np.array(list(_COUNTRY_P.values())))
    country = _as_object(countries, country_code)
    region = _as_object(tuple(COUNTRY_REGION[c] for c in countries), country_code)
    industry = rng.choice(len(INDUSTRIES), size=n, p=np.array(_INDUSTRY_P))
    size = np.exp(rng.normal(np.log(_SIZE_MEDIAN), _SIZE_SIGMA, n))
    company_size = np.clip(np.round(size), 1, _SIZE_MAX).astype(np.int64)
    band = np.searchsorted(np.asarray(COMPANY_SIZE_BANDS), company_size, side="left") - 1
    plan = _choice(rng, np.cumsum(_PLAN_P_BY_BAND, axis=1)[band])
    annual = rng.random(n) < _ANNUAL_P[plan]
    channel = rng.choice(len(ACQUISITION_CHANNELS), size=n, p=np.array(_CHANNEL_P))
    adopted = rng.random((n, len(FEATURES))) < _FEATURE_P[:, plan].T
    seats = 0.6 * company_size**0.75 * np.exp(rng.normal(0.0, 0.3, n))
    quantity = np.maximum(np.round(seats), 1).astype(np.int64)
    has_discount = rng.random(n) < np.where(annual, _DISCOUNT_P["annual"], _DISCOUNT_P["monthly"])
    discount = np.where(has_discount, rng.choice(_DISCOUNTS, size=n), 0.0)
    engagement = np.exp(rng.normal(0.0, 0.5, n))

    # planted churn hazard
    eff = PLANTED_EFFECTS
    base = np.array([eff["base_monthly_churn"][p] for p in PLANS])[plan]
    lo, hi = _to_day(eff["cohort_signup_from"]), _to_day(eff["cohort_signup_to"])
    cohort = (signup >= lo) & (signup <= hi)
    uses_feature = adopted[:, FEATURES.index(eff["feature"])]
    hazard = (
        base
        * np.where(cohort, eff["cohort_multiplier"], 1.0)
        * np.where(uses_feature, eff["feature_multiplier"], 1.0)
    )
    hazard = np.minimum(hazard, 0.95)
    annual_mult = eff["interval_multiplier"]["annual"]
    renewal_churn = 1.0 - (1.0 - annual_mult * hazard) ** 12

    return {
        "n": n,
        "customer_id": np.arange(1, n + 1, dtype=np.int64),
        "signup": signup,
        "country": country,
        "region": region,
        "industry": industry,
        "company_size": company_size,
        "plan": plan,
        "annual": annual,
        "channel": channel,
        "adopted": adopted,
        "quantity": quantity,
        "discount": discount,
        "engagement": engagement,
        "hazard": hazard,
        "renewal_churn": renewal_churn,
    }


def _run_end(
    last_start: np.ndarray,
    annual: np.ndarray,
    nominal_end: np.ndarray,
) -> np.ndarray:
    """End day of a run: monthly = nominal end; annual = first anniversary of ``last_start`` on or
    after the nominal end (annual terms end only at anniversaries)."""
    k = np.maximum(_year_of(nominal_end) - _year_of(last_start), 1)
    candidate = _add_years(last_start, k)
    k = k + (candidate < nominal_end)
    return np.where(annual, _add_years(last_start, k), nominal_end)


def _nominal_end(
    rng: np.random.Generator,
    start: np.ndarray,
    hazard: np.ndarray,
    renewal: np.ndarray,
    annual: np.ndarray,
) -> np.ndarray:
    """Churn day of a run starting on ``start`` before plan/seat changes are taken into account.

    Monthly: the run lasts T ~ Geometric(hazard) calendar months (the start month is the first), and
    the customer cancels on a uniform day of month T (end_date in (first day, first day of next
    month]).
    Annual: K ~ Geometric(renewal churn) terms; end = start + K years.
    """
    m0 = _month_of(start)
    t = rng.geometric(hazard)
    last_month = m0 + t - 1
    lo = np.maximum(start, _first_day(last_month))
    monthly_end = lo + _uniform_int(rng, np.ones_like(lo), _first_day(last_month + 1) - lo)
    years = rng.geometric(renewal)
    annual_end = _add_years(start, years)
    return np.where(annual, annual_end, monthly_end)


def _subscriptions(
    rng: np.random.Generator, cust: dict[str, Any], end_day: int
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    n = cust["n"]
    eff = PLANTED_EFFECTS
    signup, plan0, annual, q0 = cust["signup"], cust["plan"], cust["annual"], cust["quantity"]
    hazard, renewal = cust["hazard"], cust["renewal_churn"]
    s_month = _month_of(signup)
    end_month = int(_month_of(np.array([end_day]))[0])

    nominal = _nominal_end(rng, signup, hazard, renewal, annual)

    # --- scheduled plan change (first day of a month, 1..12 months after the signup month)
    up_p = np.array([eff["upgrade_probability"][p] for p in PLANS])[plan0]
    down_p = np.array([eff["downgrade_probability"][p] for p in PLANS])[plan0]
    u = rng.random(n)
    upgrade, downgrade = u < up_p, (u >= up_p) & (u < up_p + down_p)
    jump = np.where(rng.random(n) < 0.1, 2, 1)  # starter -> enterprise now and then
    new_plan = np.where(upgrade, np.minimum(plan0 + jump, 2), np.where(downgrade, plan0 - 1, plan0))
    p_month = s_month + _uniform_int(rng, np.ones(n, np.int64), np.full(n, _MAX_PLAN_CHANGE_DELAY))
    # --- scheduled seat change (1..24 months after the signup month), 75 % up / 25 % down
    seat_change = rng.random(n) < eff["seat_change_probability"]
    q_month = s_month + _uniform_int(rng, np.ones(n, np.int64), np.full(n, _MAX_SEAT_CHANGE_DELAY))
    q_month = np.where(q_month == p_month, q_month + 1, q_month)
    factor = np.where(rng.random(n) < 0.75, rng.uniform(1.2, 2.0, n), rng.uniform(0.4, 0.9, n))
    q1 = np.maximum(np.round(q0 * factor), 1).astype(np.int64)
    q1 = np.where(q1 == q0, q0 + 1, q1)

    inf = np.iinfo(np.int64).max // 8
    keep_p = (upgrade | downgrade) & (_first_day(p_month) < nominal) & (p_month <= end_month)
    keep_q = seat_change & (_first_day(q_month) < nominal) & (q_month <= end_month)
    pm = np.where(keep_p, p_month, inf)
    qm = np.where(keep_q, q_month, inf)
    first = np.minimum(pm, qm)
    second = np.where(keep_p & keep_q, np.maximum(pm, qm), inf)
    has1, has2 = first < inf, second < inf
    first_day = np.where(has1, _first_day(np.where(has1, first, 0)), 0)
    second_day = np.where(has2, _first_day(np.where(has2, second, 0)), 0)
    last_start = np.where(has2, second_day, np.where(has1, first_day, signup))
    run1_end = _run_end(last_start, annual, nominal)
    final_plan = np.where(keep_p, new_plan, plan0)
    final_q = np.where(keep_q, q1, q0)

    ids = cust["customer_id"]
    rows_a = {
        "idx": np.arange(n),
        "start": signup,
        "end": np.where(has1, first_day, run1_end),
        "plan": plan0,
        "quantity": q0,
    }
    i1 = np.flatnonzero(has1)
    rows_b = {
        "idx": i1,
        "start": first_day[i1],
        "end": np.where(has2, second_day, run1_end)[i1],
        "plan": np.where(pm == first, new_plan, plan0)[i1],
        "quantity": np.where(qm == first, q1, q0)[i1],
    }
    i2 = np.flatnonzero(has2)
    rows_c = {
        "idx": i2,
        "start": second_day[i2],
        "end": run1_end[i2],
        "plan": final_plan[i2],
        "quantity": final_q[i2],
    }

    # --- reactivation: a new subscription after >= 2 fully inactive months
    churned = run1_end <= end_day
    back = churned & (rng.random(n) < eff["reactivation_probability"])
    last_active = _month_of(run1_end - 1)
    gap = eff["min_reactivation_gap_months"] + rng.geometric(_REACTIVATION_EXTRA_GAP_P, n) - 1
    r_month = last_active + 1 + gap
    r_day = _uniform_int(rng, np.zeros(n, np.int64), _days_in_month(r_month) - 1)
    r_start = _first_day(r_month) + r_day
    back &= r_start <= end_day
    ir = np.flatnonzero(back)
    r_end = _nominal_end(rng, r_start[ir], hazard[ir], renewal[ir], annual[ir])
    rows_r = {
        "idx": ir,
        "start": r_start[ir],
        "end": r_end,
        "plan": final_plan[ir],
        "quantity": final_q[ir],
    }

    parts = [rows_a, rows_b, rows_c, rows_r]
    idx = np.concatenate([p["idx"] for p in parts])
    start_d = np.concatenate([p["start"] for p in parts])
    end_d = np.concatenate([p["end"] for p in parts])
    plan = np.concatenate([p["plan"] for p in parts])
    qty = np.concatenate([p["quantity"] for p in parts])
    order = np.lexsort((start_d, idx))
    idx, start_d, end_d = idx[order], start_d[order], end_d[order]
    plan, qty = plan[order], qty[order]
    end_d = np.where(end_d > end_day, _NO_END, end_d)
    is_annual = annual[idx]
    price = np.array([LIST_PRICES[p] for p in PLANS])[plan]
    amount = np.where(is_annual, price * ANNUAL_PRICE_MONTHS, price)

    subs = _frame(
        {
            "subscription_id": np.arange(1, len(idx) + 1, dtype=np.int64),
            "customer_id": ids[idx],
            "plan": _as_object(PLANS, plan),
            "billing_interval": np.where(is_annual, "year", "month").astype(object),
            "start_date": _to_datetime(start_d),
            "end_date": _to_datetime(end_d),
            "amount": amount.astype(np.float64),
            "quantity": qty.astype(np.int64),
            "currency": np.full(len(idx), "USD", dtype=object),
            "discount": cust["discount"][idx].astype(np.float64),
        }
    )
    # runs = unbroken stretches of activity (first run + optional reactivation), end exclusive
    run_idx = np.concatenate([np.arange(n), ir])
    run_start = np.concatenate([signup, r_start[ir]])
    run_end = np.concatenate([run1_end, r_end])
    runs = {
        "idx": run_idx,
        "start": run_start,
        "end": np.where(run_end > end_day, _NO_END, run_end),
        # rows of the subscriptions frame, for invoices
        "sub_idx": idx,
        "sub_start": start_d,
        "sub_end": end_d,
        "sub_annual": is_annual,
        "sub_billed": amount * qty * (1.0 - cust["discount"][idx]),
    }
    return subs, runs


def _active_months(runs: dict[str, np.ndarray], end_day: int) -> dict[str, np.ndarray]:
    """Customer x month rows of activity (active months of docs/metrics.md "MRR"), with the active
    day range."""
    last_day = np.minimum(runs["end"] - 1, end_day)
    m0 = _month_of(runs["start"])
    m1 = _month_of(last_day)
    n_months = m1 - m0 + 1
    rep = np.repeat(np.arange(len(m0)), n_months)
    offset = positions_in_runs(n_months)
    month = m0[rep] + offset
    lo = np.maximum(_first_day(month), runs["start"][rep])
    hi = np.minimum(_first_day(month + 1) - 1, last_day[rep])
    return {"idx": runs["idx"][rep], "month": month, "lo": lo, "hi": hi}


def _events(
    rng: np.random.Generator, cust: dict[str, Any], months: dict[str, np.ndarray]
) -> pd.DataFrame:
    idx = months["idx"]
    # one row per (active customer-month, adopted feature), in customer, month, feature order
    row, feat = np.nonzero(cust["adopted"][idx])
    c = idx[row]
    rate = _FEATURE_RATE[None, :] * (cust["engagement"] * np.sqrt(cust["quantity"]))[:, None]
    count = rng.poisson(rate.ravel()[c * len(FEATURES) + feat])
    count += 1
    del rate
    # a uniform day within the active days of the month (spans are at most 31 days)
    span = (months["hi"] - months["lo"] + 1).astype(np.float32)
    offset = rng.random(len(row), dtype=np.float32)
    offset *= span[row]
    day = months["lo"][row]
    day += np.minimum(offset.astype(np.int64), (span[row] - 1).astype(np.int64))
    del offset, span, row
    return _frame(
        {
            "customer_id": cust["customer_id"][c],
            "timestamp": _to_datetime(day),
            "event": _as_object(FEATURES, feat),
            "count": count.astype(np.int64, copy=False),
        }
    )


def _transactions(
    rng: np.random.Generator,
    cust: dict[str, Any],
    runs: dict[str, np.ndarray],
    end_day: int,
) -> pd.DataFrame:
    # --- invoices: one per billing period start within [start_date, min(end_date, end])
    s_start, s_end, s_annual = runs["sub_start"], runs["sub_end"], runs["sub_annual"]
    limit = np.minimum(s_end - 1, end_day)  # last billable day
    month_span = _month_of(limit) - _month_of(s_start)
    n_periods = np.where(s_annual, month_span // 12 + 1, month_span + 1)
    rep = np.repeat(np.arange(len(s_start)), n_periods)
    k = positions_in_runs(n_periods)
    inv_day = _add_months(s_start[rep], np.where(s_annual[rep], 12 * k, k))
    ok = inv_day <= limit[rep]
    rep, inv_day = rep[ok], inv_day[ok]
    inv_cust = runs["sub_idx"][rep]
    inv_amount = np.round(runs["sub_billed"][rep], 2)
    inv_product = np.zeros(len(rep), dtype=np.int64)

    # --- one-off orders during the first run
    n = cust["n"]
    plan = cust["plan"]
    run1_last = np.minimum(runs["end"][:n] - 1, end_day)  # runs[:n] are the first runs, by customer
    signup = cust["signup"]
    days, custs, amounts, products = [inv_day], [inv_cust], [inv_amount], [inv_product]
    for j, (probs, medians) in enumerate(_ONE_OFF.values(), start=1):
        has = rng.random(n) < np.asarray(probs)[plan]
        i = np.flatnonzero(has)
        hi = run1_last[i]
        if j == 1:  # onboarding: within the first 30 days
            hi = np.minimum(hi, signup[i] + _ONBOARDING_WINDOW_DAYS)
        days.append(_uniform_int(rng, signup[i], hi))
        custs.append(i)
        noise = np.exp(rng.normal(0.0, 0.3, len(i)))
        amounts.append(np.round(np.asarray(medians)[plan[i]] * noise, 2))
        products.append(np.full(len(i), j, dtype=np.int64))

    day = np.concatenate(days)
    c = np.concatenate(custs)
    amount = np.concatenate(amounts)
    product = np.concatenate(products)
    order = np.lexsort((product, c, day))
    names = ("subscription", *_ONE_OFF)
    return _frame(
        {
            "customer_id": cust["customer_id"][c[order]],
            "order_id": np.arange(1, len(order) + 1, dtype=np.int64),
            "date": _to_datetime(day[order]),
            "amount": amount[order].astype(np.float64),
            "product": _as_object(names, product[order]),
        }
    )


def _market(rng: np.random.Generator) -> pd.DataFrame:
    n_i, n_b, n_r = len(INDUSTRIES), len(COMPANY_SIZE_BAND_LABELS), len(REGIONS)
    grid = np.meshgrid(np.arange(n_i), np.arange(n_b), np.arange(n_r), indexing="ij")
    ii, bb, rr = (a.ravel() for a in grid)
    size = len(ii)
    accounts = _BAND_ACCOUNTS[bb] * _REGION_ACCOUNT_W[rr] * _INDUSTRY_ACCOUNT_W[ii]
    accounts = accounts * np.exp(rng.normal(0.0, 0.15, size))
    accounts = np.maximum(np.round(accounts), 1).astype(np.int64)
    mode = _BAND_ACV[bb] * _REGION_ACV_W[rr] * _INDUSTRY_ACV_W[ii]
    mode = mode * np.exp(rng.normal(0.0, 0.1, size))
    low = mode * rng.uniform(0.45, 0.65, size)
    high = mode * rng.uniform(1.6, 2.4, size)
    growth = _INDUSTRY_GROWTH[ii] + _REGION_GROWTH[rr] + rng.normal(0.0, 0.005, size)
    return _frame(
        {
            "industry": _as_object(INDUSTRIES, ii),
            "company_size": _as_object(COMPANY_SIZE_BAND_LABELS, bb),
            "region": _as_object(REGIONS, rr),
            "accounts": accounts,
            "acv_low": np.round(low, 0),
            "acv_mode": np.round(mode, 0),
            "acv_high": np.round(high, 0),
            "growth": np.round(np.clip(growth, 0.02, 0.15), 4),
        }
    )


def make_saas_data(
    n_customers: int = 2000,
    *,
    start: DateLike = "2022-01-01",
    end: DateLike = "2024-12-31",
    random_state: int = 0,
) -> Dataset:
    """Synthetic B2B SaaS sample with known (planted) churn effects, loaded as a segwork Dataset.

    A fictitious company sells a per-seat product on three plans, billed monthly or annually, from
    ``start`` to ``end``. The sample is generated by :func:`generate_frames` and loaded with
    :func:`segwork.data.load.load`, which also derives the ``mrr`` table from ``subscriptions`` with
    the rule of docs/metrics.md "MRR". It is deterministic for a given ``random_state`` and fully
    synthetic: no real company, customer or market is described.

    Parameters
    ----------
    n_customers : int, default 2000
        Number of customers (>= 1). The default gives about 3 MB of CSV and takes well under a
        second; 1,000,000 customers (35 million event rows) take 10-30 s and about 4 GB of memory.
    start, end : str or date-like, default "2022-01-01" and "2024-12-31"
        First and last day of the observation window (inclusive). Nothing is dated after ``end``;
        subscriptions still running at ``end`` have no end date.
    random_state : int, default 0
        Seed of ``numpy.random.default_rng``; the same arguments always give the same data.

    Returns
    -------
    Dataset
        Tables ``customers``, ``subscriptions``, ``mrr`` (derived), ``events``, ``transactions`` and
        ``market``.

    Notes
    -----
    **customers** - one row per customer.

    - ``customer_id`` (int64): 1..n, in signup order.
    - ``signup_date`` (datetime64[ns]): a day in [start, end]; signups grow over time (the daily
      rate at ``end`` is twice the rate at ``start``).
    - ``country`` (str): US, GB, DE, FR, NL, ES, CA, AU, BR, IN, JP (US about 35 %).
    - ``region`` (str): from the country - "North America" (US, CA), "Europe" (GB, DE, FR, NL, ES),
      "APAC" (AU, IN, JP), "LATAM" (BR).
    - ``industry`` (str): software, ecommerce, finance, healthcare, education, manufacturing, media.
    - ``company_size`` (int64): number of employees, log-normal (median 20), 1..20000. Map it to the
      market's bands with :func:`company_size_band`.
    - ``plan`` (str): the *initial* plan, "starter", "pro" or "enterprise"; bigger companies pick
      bigger plans (about 58 % / 34 % / 8 % overall).
    - ``billing_interval`` (str): the initial interval, "monthly" or "annual" (annual for 25 % of
      starter, 40 % of pro, 65 % of enterprise customers). A customer keeps its interval.
    - ``acquisition_channel`` (str): organic, paid_search, referral, partner, outbound.

    **subscriptions** - one row per subscription period (docs/metrics.md "Input tables").

    - ``subscription_id`` (int64): 1..N, ordered by customer then start date.
    - ``customer_id`` (int64), ``plan`` (str).
    - ``billing_interval`` (str): "month" or "year".
    - ``start_date`` (datetime64[ns]): the first subscription starts on the signup date, so the
      signup month is the first active month.
    - ``end_date`` (datetime64[ns]): NaT while still active at ``end``. Always after ``start_date``.
    - ``amount`` (float64): list price per seat per billing interval - starter 25, pro 60,
      enterprise 150 USD a month; a year costs 10 x the monthly price (250, 600, 1500).
    - ``quantity`` (int64): seats, >= 1, about 0.6 x employees ** 0.75 (median 6).
    - ``currency`` (str): "USD".
    - ``discount`` (float64): fraction 0..0.30, 0 for most customers (15 % of monthly and 40 % of
      annual customers get 5 %..30 %); a customer keeps its discount.

    The MRR of a row is ``amount x quantity x (1 - discount) / (12 if "year" else 1)``.
    Life cycle of a customer:

    - Plan changes: customers are scheduled for an upgrade (28 % of starter, 22 % of pro; starter
      jumps to enterprise in 10 % of upgrades) or a downgrade (17 % of pro and enterprise) 1..12
      months after the signup month; seat changes (25 % of customers, 1..24 months after signup,
      x 1.2..2.0 up or x 0.4..0.9 down). A change happens only if the customer is still subscribed
      then and it falls within the window (with the default window about 15 % of customers are seen
      upgrading and 5 % downgrading), always on the first day of a month: the old period's
      ``end_date`` equals the new period's ``start_date`` (no double counting under the active
      months of docs/metrics.md "MRR"). A change on an annual subscription starts a new annual
      term. Prices follow the new plan; the interval and discount stay.
    - Churn (cancellation): monthly subscriptions end on any day of the month in which the customer
      cancels (that month still counts as active); annual subscriptions end only at a renewal
      anniversary, ``end_date = start_date + k years``.
    - Reactivation: 17 % of churned customers are scheduled to come back after at least 2 fully
      inactive months (2 + Geometric(0.35) - 1 months) with one new subscription on their last
      plan, seats and interval, starting on any day of that month; returns that would fall after
      ``end`` are not in the sample, so with the default window about 8 % of churned customers are
      seen returning. Reactivated customers churn with the same hazard and do not return again.
    - A customer's periods never overlap except on the boundary day of a change.

    **mrr** - derived by the loader from subscriptions (customer x month, docs/metrics.md "MRR").

    **events** - product usage aggregated per customer x month x feature.

    - ``customer_id`` (int64).
    - ``timestamp`` (datetime64[ns]): a day of that month on which the customer is subscribed.
    - ``event`` (str): "dashboard", "reports", "invoice_automation", "api", "integrations",
      "export".
    - ``count`` (int64): uses in that month, >= 1 (Poisson, grows with sqrt(seats) and a
      per-customer engagement level).

    Each customer adopts a fixed subset of features when it signs up (probabilities by plan;
    "invoice_automation" by about 30 % of customers: 22 % of starter, 40 % of pro, 55 % of
    enterprise) and has one row per adopted feature in every month it is active; there are no events
    in inactive months.

    **transactions** - invoices and one-off orders.

    - ``customer_id`` (int64); ``order_id`` (int64): 1..N, in date order.
    - ``date`` (datetime64[ns]); ``amount`` (float64, > 0, USD).
    - ``product`` (str): "subscription" - one invoice at the start of every billing period (each
      month / year from a period's ``start_date``, while it runs and up to ``end``), amount
      ``amount x quantity x (1 - discount)`` of that period; "onboarding" (1 % of starter, 5 % of
      pro, 30 % of enterprise customers, within 30 days of signup), "training" (0.5 / 2 / 15 %) and
      "addon" (2 / 4 / 6 %) - one-off orders during the customer's first subscription run.

    **market** - SYNTHETIC market segments for market sizing (plausible, not real statistics).
    One row per industry x company-size band x region (7 x 5 x 4 = 140 rows).

    - ``industry`` (str), ``region`` (str): the customers' vocabularies.
    - ``company_size`` (str): band "1-10", "11-50", "51-250", "251-1000", "1001+" employees
      (:data:`COMPANY_SIZE_BANDS`).
    - ``accounts`` (int64): potential customers in the segment; far more small companies than big.
    - ``acv_low``, ``acv_mode``, ``acv_high`` (float64): annual contract value range in USD,
      low < mode < high, rising with company size.
    - ``growth`` (float64): annual growth of the segment, 0.02..0.15.

    **Planted effects** (the churn model; the truth is also in :data:`PLANTED_EFFECTS`). The monthly
    churn hazard of a customer is::

        hazard = base[plan] x interval_mult x cohort_mult x feature_mult
        base          = starter 0.05, pro 0.03, enterprise 0.015  (initial plan, customers.plan)
        interval_mult = 1.0 monthly, 0.4 annual      (initial interval, customers.billing_interval)
        cohort_mult   = 2.0 if signup_date in 2023-04-01..2023-06-30 (2023-Q2 cohort), else 1.0
        feature_mult  = 0.5 if the customer uses "invoice_automation" (has its events), else 1.0

    A monthly-billed customer cancels in each month with probability ``hazard`` (its first run lasts
    a Geometric(hazard) number of calendar months, the signup month being the first). An annual
    customer cancels only at a renewal, with probability ``1 - (1 - hazard) ** 12`` per renewal
    (``hazard`` including the 0.4), i.e. an effective monthly churn of 0.4 x the monthly one. The
    same hazard applies to a reactivated subscription. Plan changes do not change the hazard.
    Nothing else (country, industry, channel, discount, seats) affects churn.

    Expected findings (pooled monthly logo churn, docs/metrics.md "Logo churn", default window,
    2,000-5,000 customers):

    - annual customers churn far less than monthly ones. The observed ratio (about 0.2) is below
      the planted 0.4 because an annual customer cannot churn during its first term (most annual
      customer-months of a 3-year window with growing signups are first-term months) and annual
      customers are mostly on the low-churn plans;
    - the 2023-Q2 signup cohort churns about 1.5-2.0 x the other customers and 1.3-2.0 x its
      neighbouring quarters (planted 2.0; the cohort loses its high-hazard customers first, which
      pulls the pooled ratio below 2) and its retention curve lies clearly below theirs;
    - invoice_automation users churn about 0.4-0.55 x non-users (planted 0.5; users are more
      often on pro / enterprise);
    - churn falls from starter (about 0.035 a month) to pro (0.017) to enterprise (0.006), below the
      base rates because of the annual customers and the feature users in each plan. Monthly-billed
      starter and pro customers outside the cohort and without invoice_automation churn at their
      base rate (0.05, 0.03).

    Examples
    --------
    >>> data = make_saas_data(200, random_state=1)
    >>> "mrr" in data  # derived from subscriptions by the loader
    True
    >>> PLANTED_EFFECTS["cohort_multiplier"], PLANTED_EFFECTS["feature_multiplier"]
    (2.0, 0.5)
    """
    from segwork.data.load import load

    return load(generate_frames(n_customers, start=start, end=end, random_state=random_state))
