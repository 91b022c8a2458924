"""Input data: the table contract, the loader of segwork's own tables, the Dataset and the sample
generator.  Vendor exports and the public ``segwork.load`` are in :mod:`segwork.sources`."""

from segwork.data.contract import DataContractError
from segwork.data.dataset import TABLE_NAMES, Dataset
from segwork.data.load import load, load_sample

__all__ = ["TABLE_NAMES", "DataContractError", "Dataset", "load", "load_sample"]
