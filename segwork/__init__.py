"""segwork: market sizing, customer segmentation and cohort retention for Jupyter.

Importing segwork changes no global state (no plotting defaults, no pandas options, no RNG seeds).
"""

from segwork.data import TABLE_NAMES, DataContractError, Dataset, load, load_sample
from segwork.data.generate import make_saas_data
from segwork.metrics.mrr import monthly_mrr, mrr_movements

__version__ = "0.1.0"

__all__ = [
    "TABLE_NAMES",
    "DataContractError",
    "Dataset",
    "__version__",
    "load",
    "load_sample",
    "make_saas_data",
    "monthly_mrr",
    "mrr_movements",
]
