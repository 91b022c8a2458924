"""The metric core: one Ibis implementation of every METRICS.md metric.

Each function takes a :class:`segwork.Dataset` and an explicit ``as_of`` and returns a small
pandas DataFrame; the work runs in the Dataset's engine (DuckDB by default).
"""

from segwork.metrics._common import DERIVED_ATTRIBUTES, available_attributes
from segwork.metrics.cohorts import cohort_matrix, cohort_retention
from segwork.metrics.mrr import monthly_mrr, mrr_movements
from segwork.metrics.rfm import RFM_SEGMENTS, rfm
from segwork.metrics.segments import engagement, lifecycle_stage, segment_table
from segwork.metrics.stats import wilson_interval
from segwork.metrics.survival import median_lifetime, survival

__all__ = [
    "DERIVED_ATTRIBUTES",
    "RFM_SEGMENTS",
    "available_attributes",
    "cohort_matrix",
    "cohort_retention",
    "engagement",
    "lifecycle_stage",
    "median_lifetime",
    "monthly_mrr",
    "mrr_movements",
    "rfm",
    "segment_table",
    "survival",
    "wilson_interval",
]
