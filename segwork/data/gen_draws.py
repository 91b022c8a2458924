"""Vectorised random draws of the sample generator and the frames it builds from fresh arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["as_object", "choice", "make_frame", "uniform_int"]


def make_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """DataFrame over freshly made arrays without copying or consolidating them."""
    return pd.DataFrame(columns, copy=False)


def choice(rng: np.random.Generator, cum_p: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``cum_p`` (rows of cumulative probabilities)."""
    u = rng.random(size=(cum_p.shape[0],))
    return (u[:, None] >= cum_p[:, :-1]).sum(axis=1)


def uniform_int(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Uniform integers in ``[low, high]`` (inclusive), elementwise."""
    low = np.asarray(low, dtype=np.int64)
    span = np.maximum(np.asarray(high, dtype=np.int64) - low + 1, 1)
    # float32 draws are exact enough for spans of days/months and twice as cheap as float64
    draw = (rng.random(span.shape, dtype=np.float32) * span).astype(np.int64)
    return low + np.minimum(draw, span - 1)


def as_object(values: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    return np.array(values, dtype=object)[codes]
