"""segwork: market sizing, customer segmentation and cohort retention for Jupyter.

Importing segwork changes no global state (no plotting defaults, no pandas options, no RNG seeds).
"""

from segwork.data import TABLE_NAMES, DataContractError, Dataset, load_sample
from segwork.data.generate import make_saas_data
from segwork.errors import SegworkError
from segwork.market import ideal_customer_profile, market_size, penetration, sensitivity
from segwork.metrics import (
    DERIVED_ATTRIBUTES,
    RFM_SEGMENTS,
    available_attributes,
    churn_conventions,
    cohort_matrix,
    cohort_retention,
    compare_cohort_years,
    customer_plans,
    engagement,
    fit_sbg,
    lifecycle_stage,
    median_lifetime,
    mix_shift,
    monthly_mrr,
    mrr_movements,
    personas,
    plan_moves,
    project_retention,
    rfm,
    segment_members,
    segment_table,
    segment_tables,
    survival,
    weighted_average_retention,
    wilson_interval,
)
from segwork.sources import load, open_data
from segwork.version import __version__

__all__ = [
    "DERIVED_ATTRIBUTES",
    "RFM_SEGMENTS",
    "TABLE_NAMES",
    "DataContractError",
    "Dataset",
    "SegworkError",
    "__version__",
    "available_attributes",
    "churn_conventions",
    "cohort_matrix",
    "cohort_retention",
    "compare_cohort_years",
    "customer_plans",
    "engagement",
    "fit_sbg",
    "ideal_customer_profile",
    "lifecycle_stage",
    "load",
    "load_sample",
    "make_saas_data",
    "market_size",
    "median_lifetime",
    "mix_shift",
    "monthly_mrr",
    "mrr_movements",
    "open_data",
    "penetration",
    "personas",
    "plan_moves",
    "project_retention",
    "rfm",
    "segment_members",
    "segment_table",
    "segment_tables",
    "sensitivity",
    "survival",
    "weighted_average_retention",
    "wilson_interval",
]
