"""segwork: market sizing, customer segmentation and cohort retention for Jupyter.

Importing segwork changes no global state (no plotting defaults, no pandas options, no RNG seeds).
"""

from segwork.data import TABLE_NAMES, DataContractError, Dataset, load, load_sample

__version__ = "0.1.0"

__all__ = [
    "TABLE_NAMES",
    "DataContractError",
    "Dataset",
    "__version__",
    "load",
    "load_sample",
]
