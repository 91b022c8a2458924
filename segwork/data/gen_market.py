"""The synthetic market table of the sample: industry x company-size band x region, with accounts,
an ACV range and growth (plausible, not real statistics)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segwork.data.bands import COMPANY_SIZE_BAND_LABELS
from segwork.data.gen_draws import as_object, make_frame
from segwork.data.gen_truth import INDUSTRIES, REGIONS

__all__ = ["draw_market"]

_BAND_ACCOUNTS = np.array([2_400_000, 520_000, 140_000, 32_000, 11_000])  # before the weights
_REGION_ACCOUNT_W = np.array([1.0, 1.3, 1.6, 0.5])
_INDUSTRY_ACCOUNT_W = np.array([0.10, 0.16, 0.08, 0.12, 0.07, 0.12, 0.06])
_BAND_ACV = np.array([600.0, 3_000.0, 12_000.0, 45_000.0, 150_000.0])
_REGION_ACV_W = np.array([1.0, 0.85, 0.6, 0.45])
_INDUSTRY_ACV_W = np.array([1.15, 0.95, 1.25, 1.10, 0.70, 0.90, 0.85])
_INDUSTRY_GROWTH = np.array([0.12, 0.10, 0.06, 0.08, 0.04, 0.03, 0.05])
_REGION_GROWTH = np.array([0.0, -0.01, 0.03, 0.02])


def draw_market(rng: np.random.Generator) -> pd.DataFrame:
    n_i, n_b, n_r = len(INDUSTRIES), len(COMPANY_SIZE_BAND_LABELS), len(REGIONS)
    grid = np.meshgrid(np.arange(n_i), np.arange(n_b), np.arange(n_r), indexing="ij")
    ii, bb, rr = (a.ravel() for a in grid)
    size = len(ii)
    accounts = _BAND_ACCOUNTS[bb] * _REGION_ACCOUNT_W[rr] * _INDUSTRY_ACCOUNT_W[ii]
    accounts = accounts * np.exp(rng.normal(0.0, 0.15, size))
    accounts = np.maximum(np.round(accounts), 1).astype(np.int64)
    mode = _BAND_ACV[bb] * _REGION_ACV_W[rr] * _INDUSTRY_ACV_W[ii]
    mode = mode * np.exp(rng.normal(0.0, 0.1, size))
    low = mode * rng.uniform(0.45, 0.65, size)
    high = mode * rng.uniform(1.6, 2.4, size)
    growth = _INDUSTRY_GROWTH[ii] + _REGION_GROWTH[rr] + rng.normal(0.0, 0.005, size)
    return make_frame(
        {
            "industry": as_object(INDUSTRIES, ii),
            "company_size": as_object(COMPANY_SIZE_BAND_LABELS, bb),
            "region": as_object(REGIONS, rr),
            "accounts": accounts,
            "acv_low": np.round(low, 0),
            "acv_mode": np.round(mode, 0),
            "acv_high": np.round(high, 0),
            "growth": np.round(np.clip(growth, 0.02, 0.15), 4),
        }
    )
