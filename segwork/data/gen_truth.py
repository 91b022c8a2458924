"""The vocabulary of the synthetic SaaS sample (plans, prices, features, countries, industries,
channels) and the truth planted in its churn model (:data:`PLANTED_EFFECTS`)."""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "ACQUISITION_CHANNELS",
    "ANNUAL_PRICE_MONTHS",
    "COUNTRY_REGION",
    "FEATURES",
    "INDUSTRIES",
    "LIST_PRICES",
    "PLANS",
    "PLANTED_EFFECTS",
    "REGIONS",
]

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
"""The truth behind the sample's churn model (see :func:`segwork.data.generate.make_saas_data`).

The monthly churn hazard of a customer is ``base_monthly_churn[plan] x
interval_multiplier[interval] x (cohort_multiplier if signed up in cohort_quarter) x
(feature_multiplier if it uses feature)``, all by the customer's *initial* plan and billing interval
(the ``customers`` columns)."""
