"""Input data: the table contract, loaders, the Dataset and the sample generator."""

from segwork.data.contract import DataContractError
from segwork.data.dataset import TABLE_NAMES, Dataset
from segwork.data.load import load, load_sample, open_data

__all__ = ["TABLE_NAMES", "DataContractError", "Dataset", "load", "load_sample", "open_data"]
