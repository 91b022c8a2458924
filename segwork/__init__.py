"""segwork: market sizing, customer segmentation and cohort retention for Jupyter.

Importing segwork changes no global state (no plotting defaults, no pandas options, no RNG seeds).
"""

from segwork.data import TABLE_NAMES, DataContractError, Dataset, load, load_sample, open_data
from segwork.data.generate import make_saas_data
from segwork.metrics import (
    DERIVED_ATTRIBUTES,
    RFM_SEGMENTS,
    available_attributes,
    cohort_matrix,
    cohort_retention,
    engagement,
    lifecycle_stage,
    median_lifetime,
    monthly_mrr,
    mrr_movements,
    rfm,
    segment_table,
    survival,
    wilson_interval,
)

__version__ = "0.1.0"

__all__ = [
    "DERIVED_ATTRIBUTES",
    "RFM_SEGMENTS",
    "TABLE_NAMES",
    "DataContractError",
    "Dataset",
    "__version__",
    "available_attributes",
    "cohort_matrix",
    "cohort_retention",
    "engagement",
    "lifecycle_stage",
    "load",
    "load_sample",
    "make_saas_data",
    "median_lifetime",
    "monthly_mrr",
    "mrr_movements",
    "open_data",
    "rfm",
    "segment_table",
    "survival",
    "wilson_interval",
]
