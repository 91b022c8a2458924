"""The metric core: one Ibis implementation of every metric of docs/metrics.md.

Each function takes a :class:`segwork.Dataset` and an explicit ``as_of`` and returns a small
pandas DataFrame; the work runs in the Dataset's engine (DuckDB by default).
"""

from segwork.metrics._common import DERIVED_ATTRIBUTES, available_attributes
from segwork.metrics.cohorts import cohort_matrix, cohort_retention
from segwork.metrics.cohorts_compare import compare_cohort_years, weighted_average_retention
from segwork.metrics.conventions import churn_conventions
from segwork.metrics.members import segment_members
from segwork.metrics.mix import mix_shift
from segwork.metrics.moves import plan_moves
from segwork.metrics.mrr import monthly_mrr, mrr_movements
from segwork.metrics.personas import personas
from segwork.metrics.plans import customer_plans
from segwork.metrics.projection import fit_sbg, project_retention
from segwork.metrics.rfm import RFM_SEGMENTS, rfm
from segwork.metrics.segments import engagement, lifecycle_stage, segment_table, segment_tables
from segwork.metrics.stats import wilson_interval
from segwork.metrics.survival import median_lifetime, survival

__all__ = [
    "DERIVED_ATTRIBUTES",
    "RFM_SEGMENTS",
    "available_attributes",
    "churn_conventions",
    "cohort_matrix",
    "cohort_retention",
    "compare_cohort_years",
    "customer_plans",
    "engagement",
    "fit_sbg",
    "lifecycle_stage",
    "median_lifetime",
    "mix_shift",
    "monthly_mrr",
    "mrr_movements",
    "personas",
    "plan_moves",
    "project_retention",
    "rfm",
    "segment_members",
    "segment_table",
    "segment_tables",
    "survival",
    "weighted_average_retention",
    "wilson_interval",
]
