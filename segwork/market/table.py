"""The market table: reading it (DataFrame, Ibis table or Dataset), its assumption and criteria
columns, and the currency of its ACVs (docs/metrics.md "Market sizing", "Input tables")."""

from __future__ import annotations

from typing import Any, TypeAlias

import ibis.expr.types as ir
import pandas as pd

from segwork.data.dataset import Dataset
from segwork.formatting import currency_code

__all__ = [
    "ASSUMPTION_COLUMNS",
    "MarketLike",
    "criteria_columns",
    "market_currency",
    "market_frame",
]

#: Columns of the market table that hold assumptions (every other column is a segment criterion).
ASSUMPTION_COLUMNS: tuple[str, ...] = (
    "accounts",
    "accounts_low",
    "accounts_high",
    "acv",
    "price",
    "acv_low",
    "acv_mode",
    "acv_high",
    "growth",
    "growth_low",
    "growth_mode",
    "growth_high",
)

MarketLike: TypeAlias = pd.DataFrame | ir.Table | Dataset


def market_currency(market: Any) -> str:
    """The currency of a market's ACVs: the Dataset's (docs/metrics.md "Currencies"), else the
    one code of a frame's ``currency`` column, else USD."""
    if isinstance(market, Dataset):
        return market.currency
    if isinstance(market, pd.DataFrame) and "currency" in market.columns:
        codes = market["currency"].dropna().astype(str).str.strip().str.upper()
        codes = codes[codes != ""].unique()
        if len(codes) == 1:
            return str(codes[0])
    return currency_code(None)


def market_frame(market: Any) -> pd.DataFrame:
    """The market table as a pandas DataFrame (a copy), from a DataFrame, Ibis table or Dataset."""
    if isinstance(market, Dataset):
        frame = market.table("market", needed_for="market sizing").to_pandas()
    elif isinstance(market, ir.Table):
        frame = market.to_pandas()
    elif isinstance(market, pd.DataFrame):
        frame = market.copy()
    else:
        raise ValueError(
            "market must be a pandas DataFrame, an Ibis table or a Dataset with a 'market' "
            f"table, got {type(market).__name__}"
        )
    if len(frame) == 0:
        raise ValueError("the market table is empty: it needs one row per market segment")
    return frame.reset_index(drop=True)


def criteria_columns(frame: pd.DataFrame) -> list[str]:
    """Every column of the market table that is not an assumption, in table order."""
    return [c for c in frame.columns if c not in ASSUMPTION_COLUMNS]
