"""Preparation of a market size: the market rows in canonical order, the segments, the serviceable
filter and the top-down figure, checked once for the evaluation and the Monte Carlo."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segwork.formatting import currency_code
from segwork.market.assumptions import AssumptionRange, is_real, row_assumptions, triple
from segwork.market.table import (
    ASSUMPTION_COLUMNS,
    criteria_columns,
    market_currency,
    market_frame,
)

__all__ = ["Prepared", "prepare"]


@dataclass
class Prepared:
    """The checked inputs of a market size (see :func:`prepare`)."""

    rows: pd.DataFrame  # the market rows in canonical order
    criteria: list[str]
    keys: pd.DataFrame  # one row per segment: the criteria values (sorted)
    codes: np.ndarray  # row -> segment number
    serviceable_seg: np.ndarray  # per segment
    serviceable_row: np.ndarray  # per row
    ranges: dict[str, AssumptionRange]  # share, accounts, acv, growth (+ top_down)
    acv_scale: float
    horizon: float
    serviceable_share: float | None = None
    top_down_label: str = "stated total market"
    currency: str = "USD"

    @property
    def n_segments(self) -> int:
        """Number of segments (rows of ``keys``)."""
        return len(self.keys)


def _criteria(frame: pd.DataFrame, criteria: Any) -> list[str]:
    available = criteria_columns(frame)
    if criteria is None:
        return available
    names = [criteria] if isinstance(criteria, str) else list(criteria)
    if len(set(names)) != len(names):
        raise ValueError(f"criteria={names} names a column twice")
    for name in names:
        if name in ASSUMPTION_COLUMNS:
            raise ValueError(
                f"{name!r} is an assumption column, not a segment criterion; criteria are: "
                f"{', '.join(available) or 'none'}"
            )
        if name not in frame.columns:
            raise ValueError(
                f"unknown market criterion {name!r}; the market's criteria columns are: "
                f"{', '.join(available) or 'none'}"
            )
    return names


def _serviceable(
    rows: pd.DataFrame, criteria: list[str], serviceable: Mapping[str, Any] | None
) -> np.ndarray:
    mask = np.ones(len(rows), dtype=bool)
    if not serviceable:
        return mask
    if not isinstance(serviceable, Mapping):
        raise ValueError(
            "serviceable must be a mapping {criterion: value or list of values}, e.g. "
            f'{{"region": ["Europe"]}}, got {serviceable!r}'
        )
    for col, value in serviceable.items():
        if col not in criteria:
            raise ValueError(
                f'serviceable filters on the segment criteria (docs/metrics.md "Market sizing"); '
                f"{col!r} is not "
                f"one of them: {', '.join(criteria) or 'none'}"
            )
        values = list(value) if isinstance(value, list | tuple | set) else [value]
        present = rows[col].dropna().unique().tolist()
        if not values:
            raise ValueError(
                f"serviceable[{col!r}] is an empty list, which would make SAM 0; list the "
                f"serviceable values (of: {', '.join(map(repr, sorted(present, key=str)))}) or "
                f"drop {col!r} from serviceable"
            )
        unknown = [v for v in values if v not in present]
        if unknown:
            raise ValueError(
                f"serviceable[{col!r}]: {', '.join(map(repr, unknown))} not in the market; "
                f"values are: {', '.join(map(repr, sorted(present, key=str)))}"
            )
        mask &= rows[col].isin(values).to_numpy()
    return mask


def _top_down(top_down: Any) -> tuple[AssumptionRange | None, float | None, str]:
    if top_down is None:
        return None, None, ""
    label = "stated total market"
    share: float | None = None
    total = top_down
    if isinstance(top_down, Mapping):
        unknown = set(top_down) - {"total", "serviceable_share", "source"}
        if unknown or "total" not in top_down:
            raise ValueError(
                "top_down must be a number, a (low, mode, high) triple or a mapping with keys "
                f"'total' (required), 'serviceable_share', 'source'; got {dict(top_down)!r}"
            )
        total = top_down["total"]
        if top_down.get("serviceable_share") is not None:
            s = top_down["serviceable_share"]
            if not is_real(s) or not 0 <= s <= 1:
                raise ValueError(f"top_down serviceable_share must be in [0, 1], got {s!r}")
            share = float(s)
        if top_down.get("source"):
            label = str(top_down["source"])
    return AssumptionRange.scalar(triple(total, "top_down total", low=0.0)), share, label


def prepare(
    market: Any,
    criteria: Any,
    serviceable: Mapping[str, Any] | None,
    share: Any,
    horizon_years: Any,
    top_down: Any,
    acv_scale: Any,
    currency: str | None = None,
) -> Prepared:
    """Check the arguments of a market size and prepare the rows, segments and ranges.

    Parameters
    ----------
    market, criteria, serviceable, share, horizon_years, top_down, acv_scale, currency
        As in :func:`segwork.market.market_size`.

    Returns
    -------
    Prepared
        The market rows sorted by every criteria column (so the draws a row gets do not depend on
        how segments are defined), the segment of each row, the serviceable rows and segments, and
        the assumption ranges.

    Raises
    ------
    ValueError
        Bad horizon, ACV scale, share, criteria, serviceable filter, top-down figure or market
        table (the message says which and lists the valid choices).
    """
    if not is_real(horizon_years) or horizon_years < 0:
        raise ValueError(f"horizon_years must be a number >= 0, got {horizon_years!r}")
    if not is_real(acv_scale) or acv_scale <= 0:
        raise ValueError(f"acv_scale must be a number > 0 (1.0 = as stated), got {acv_scale!r}")
    share_t = triple(share, "share", low=0.0, high=1.0)
    frame = market_frame(market)
    crit = _criteria(frame, criteria)
    # Canonical row order: by every criteria column of the table (not only the chosen criteria),
    # so that the draws a row gets do not depend on how segments are defined.
    order_cols = criteria_columns(frame)
    rows = (
        frame.sort_values(order_cols, kind="mergesort", na_position="last").reset_index(drop=True)
        if order_cols
        else frame
    )
    ranges = row_assumptions(rows)
    ranges["share"] = AssumptionRange.scalar(share_t)
    td, td_share, td_label = _top_down(top_down)
    if td is not None:
        ranges["top_down"] = td
    if crit:
        grouped = rows.groupby(crit, dropna=False, sort=True)
        codes = grouped.ngroup().to_numpy()
        keys = grouped.size().reset_index()[crit]
    else:
        codes = np.zeros(len(rows), dtype=np.int64)
        keys = pd.DataFrame(index=range(1))
    serv_row = _serviceable(rows, crit, serviceable)
    serv_seg = np.zeros(len(keys), dtype=bool)
    serv_seg[codes[serv_row]] = True
    return Prepared(
        rows=rows,
        criteria=crit,
        keys=keys.reset_index(drop=True),
        codes=codes.astype(np.int64),
        serviceable_seg=serv_seg,
        serviceable_row=serv_row,
        ranges=ranges,
        acv_scale=float(acv_scale),
        horizon=float(horizon_years),
        serviceable_share=td_share,
        top_down_label=td_label,
        currency=currency_code(currency) if currency else market_currency(market),
    )
