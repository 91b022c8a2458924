"""The customers of the synthetic sample: signup days, firmographics, plans, billing, feature
adoption, seats, discounts and the planted churn hazard (:data:`PLANTED_EFFECTS`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from segwork.data.bands import COMPANY_SIZE_BANDS
from segwork.data.gen_days import to_day
from segwork.data.gen_draws import as_object, choice
from segwork.data.gen_truth import (
    ACQUISITION_CHANNELS,
    COUNTRY_REGION,
    FEATURES,
    INDUSTRIES,
    PLANS,
    PLANTED_EFFECTS,
)

__all__ = ["draw_customers"]

# Sampling parameters (not part of the documented truth beyond the docstring of make_saas_data)
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
_DISCOUNT_P = {"monthly": 0.15, "annual": 0.40}
_DISCOUNTS = np.array([0.05, 0.10, 0.15, 0.20, 0.25, 0.30])


def draw_customers(
    rng: np.random.Generator, n: int, start_day: int, end_day: int
) -> dict[str, Any]:
    n_days = end_day - start_day + 1
    # signup: density proportional to 1 + g x (x in [0, 1]) -> inverse CDF
    g = _SIGNUP_GROWTH
    u = rng.random(n)
    x = (np.sqrt(1.0 + 2.0 * g * u * (1.0 + g / 2.0)) - 1.0) / g
    signup = start_day + np.minimum(np.floor(x * n_days).astype(np.int64), n_days - 1)
    signup.sort()  # customer_id follows signup order

    countries = tuple(_COUNTRY_P)
    country_code = rng.choice(len(countries), size=n, p=np.array(list(_COUNTRY_P.values())))
    country = as_object(countries, country_code)
    region = as_object(tuple(COUNTRY_REGION[c] for c in countries), country_code)
    industry = rng.choice(len(INDUSTRIES), size=n, p=np.array(_INDUSTRY_P))
    size = np.exp(rng.normal(np.log(_SIZE_MEDIAN), _SIZE_SIGMA, n))
    company_size = np.clip(np.round(size), 1, _SIZE_MAX).astype(np.int64)
    band = np.searchsorted(np.asarray(COMPANY_SIZE_BANDS), company_size, side="left") - 1
    plan = choice(rng, np.cumsum(_PLAN_P_BY_BAND, axis=1)[band])
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
    lo, hi = to_day(eff["cohort_signup_from"]), to_day(eff["cohort_signup_to"])
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
