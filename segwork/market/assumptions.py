"""The assumptions of a market size: points and (low, mode, high) ranges, read from the arguments
and from the market table, and summarised in the assumption table (docs/metrics.md "Market
ranges and Monte Carlo")."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from segwork.market.table import criteria_columns
from segwork.metrics.stats import safe_ratio

__all__ = [
    "ASSUMPTIONS",
    "ASSUMPTION_TABLE_COLUMNS",
    "AssumptionRange",
    "Level",
    "Triple",
    "assumption_table",
    "is_real",
    "row_assumptions",
    "triple",
]

#: The assumptions of a market size, in the order they are drawn and reported.
ASSUMPTIONS: tuple[str, ...] = ("share", "accounts", "acv", "growth", "top_down")

#: Columns of :func:`assumption_table` (``MarketSize.assumptions``), in order.
ASSUMPTION_TABLE_COLUMNS: tuple[str, ...] = (
    "assumption", "scope", "low", "mode", "high", "is_range",
)  # fmt: skip

Level = Literal["low", "mode", "high"]
Triple = float | Sequence[float]


def is_real(v: Any) -> bool:
    """Whether ``v`` is a finite real number (booleans are not numbers here).

    Parameters
    ----------
    v : object
        Any value.

    Returns
    -------
    bool
        True for a finite int or float (numpy scalars included), False otherwise.

    Examples
    --------
    >>> is_real(3), is_real(float("nan")), is_real(True), is_real("3")
    (True, False, False, False)
    """
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))


def triple(
    value: Any, name: str, *, low: float | None = None, high: float | None = None
) -> tuple[float, float, float]:
    """A point ``v`` or a range ``(low, mode, high)`` as a checked ``(low, mode, high)`` triple."""
    if is_real(value):
        vals = (float(value),) * 3
    elif (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) == 3
        and all(is_real(v) for v in value)
    ):
        vals = (float(value[0]), float(value[1]), float(value[2]))
    else:
        raise ValueError(
            f"{name} must be a number or a (low, mode, high) triple of numbers, got {value!r}"
        )
    if not vals[0] <= vals[1] <= vals[2]:
        raise ValueError(f"{name} must satisfy low <= mode <= high, got {vals}")
    if (low is not None and vals[0] < low) or (high is not None and vals[2] > high):
        bounds = f"[{low:g}, {high:g}]" if high is not None else f">= {low:g}"
        raise ValueError(f"{name} must lie in {bounds}, got {value!r}")
    return vals


@dataclass(frozen=True)
class AssumptionRange:
    """low / mode / high arrays of one assumption (one value per market row, or one in all)."""

    low: np.ndarray
    mode: np.ndarray
    high: np.ndarray

    @property
    def is_range(self) -> bool:
        """Whether the assumption is a range anywhere (some high above its low)."""
        return bool(np.any(self.high > self.low))

    def at(self, level: Level) -> np.ndarray:
        """The values at ``level`` (``"low"``, ``"mode"`` or ``"high"``)."""
        return {"low": self.low, "mode": self.mode, "high": self.high}[level]

    @classmethod
    def scalar(cls, values: tuple[float, float, float]) -> AssumptionRange:
        """One (low, mode, high) for all rows, as arrays of length one."""
        lo, mo, hi = (np.array([v], dtype="float64") for v in values)
        return cls(lo, mo, hi)


def _numeric(frame: pd.DataFrame, col: str) -> np.ndarray:
    try:
        return pd.to_numeric(frame[col], errors="raise").to_numpy(dtype="float64")
    except (ValueError, TypeError) as err:
        raise ValueError(f"market column {col!r} must be numeric: {err}") from err


def _first_rows(frame: pd.DataFrame, mask: np.ndarray, cols: Sequence[str]) -> str:
    shown = frame.loc[mask, list(dict.fromkeys(cols))].head(5)
    return f"{int(mask.sum())} rows, first: {shown.to_dict('records')}"


def _column_range(
    frame: pd.DataFrame,
    name: str,
    low_col: str,
    mode_cols: Sequence[str],
    high_col: str,
    *,
    minimum: float | None,
    default: float | None = None,
) -> AssumptionRange:
    """The (low, mode, high) of a per-row assumption; low/high default to the mode."""
    mode_col = next((c for c in mode_cols if c in frame.columns), None)
    n = len(frame)
    if mode_col is None:
        if default is None:
            raise ValueError(
                f"the market table needs a {' or '.join(repr(c) for c in mode_cols)} column "
                f"for {name}; its columns are: {', '.join(map(str, frame.columns))}"
            )
        mode = np.full(n, float(default))
        cols: list[str] = []
    else:
        mode = _numeric(frame, mode_col)
        cols = [mode_col]
        bad = ~np.isfinite(mode)
        if bad.any():
            raise ValueError(
                f"market column {mode_col!r} ({name}) has missing values: "
                + _first_rows(frame, bad, [*criteria_columns(frame), mode_col])
            )
    low = mode.copy()
    high = mode.copy()
    if low_col in frame.columns:
        v = _numeric(frame, low_col)
        low = np.where(np.isfinite(v), v, mode)
        cols.append(low_col)
    if high_col in frame.columns:
        v = _numeric(frame, high_col)
        high = np.where(np.isfinite(v), v, mode)
        cols.append(high_col)
    if minimum is not None:
        bad = (low < minimum) | (mode < minimum) | (high < minimum)
        if bad.any():
            raise ValueError(
                f"market {name} must be >= {minimum:g} ({', '.join(cols)}): "
                + _first_rows(frame, bad, criteria_columns(frame) + cols)
            )
    bad = (low > mode) | (mode > high)
    if bad.any():
        raise ValueError(
            f"market {name} must satisfy low <= mode <= high ({', '.join(cols)}): "
            + _first_rows(frame, bad, criteria_columns(frame) + cols)
        )
    return AssumptionRange(low, mode, high)


def row_assumptions(frame: pd.DataFrame) -> dict[str, AssumptionRange]:
    """The per-row assumptions of the market table: accounts, ACV and growth.

    Parameters
    ----------
    frame : pandas.DataFrame
        The market table (one row per market segment).

    Returns
    -------
    dict of str to AssumptionRange
        ``"accounts"``, ``"acv"`` and ``"growth"``, one value per row (growth 0 without a column).

    Raises
    ------
    ValueError
        A missing accounts or ACV column, missing or negative values, or low > mode > high.
    """
    return {
        "accounts": _column_range(
            frame, "accounts", "accounts_low", ("accounts",), "accounts_high", minimum=0.0
        ),
        "acv": _column_range(
            frame, "ACV", "acv_low", ("acv_mode", "acv", "price"), "acv_high", minimum=0.0
        ),
        "growth": _column_range(
            frame,
            "growth",
            "growth_low",
            ("growth_mode", "growth"),
            "growth_high",
            minimum=-0.999999,
            default=0.0,
        ),
    }


def assumption_table(ranges: Mapping[str, AssumptionRange], acv_scale: float) -> pd.DataFrame:
    """What was assumed: one row per assumption (``MarketSize.assumptions``).

    Parameters
    ----------
    ranges : mapping of str to AssumptionRange
        ``share``, ``accounts``, ``acv``, ``growth`` and optionally ``top_down``.
    acv_scale : float
        Multiplier on every ACV.

    Returns
    -------
    pandas.DataFrame
        ``assumption, scope, low, mode, high, is_range`` (:data:`ASSUMPTION_TABLE_COLUMNS`);
        per-segment assumptions summarised: accounts summed, ACV accounts-weighted, growth
        TAM-weighted.
    """
    r = ranges
    rows: list[tuple[Any, ...]] = []
    share = r["share"]
    rows.append(("share", "global", share.low[0], share.mode[0], share.high[0], share.is_range))
    acc = r["accounts"]
    rows.append(
        ("accounts", "per segment (total)", acc.low.sum(), acc.mode.sum(), acc.high.sum(),
         acc.is_range)
    )  # fmt: skip
    w = acc.mode
    acv = r["acv"]
    rows.append(
        (
            "acv",
            "per segment (accounts-weighted mean)",
            *(float(safe_ratio((v * w * acv_scale).sum(), w.sum())) for v in
              (acv.low, acv.mode, acv.high)),
            acv.is_range,
        )
    )  # fmt: skip
    tam_w = acc.mode * acv.mode
    g = r["growth"]
    rows.append(
        (
            "growth",
            "per segment (TAM-weighted mean, a year)",
            *(float(safe_ratio((v * tam_w).sum(), tam_w.sum())) for v in (g.low, g.mode, g.high)),
            g.is_range,
        )
    )
    if "top_down" in r:
        td = r["top_down"]
        rows.append(("top_down", "global", td.low[0], td.mode[0], td.high[0], td.is_range))
    out = pd.DataFrame(rows, columns=list(ASSUMPTION_TABLE_COLUMNS))
    for col in ("low", "mode", "high"):
        out[col] = out[col].astype("float64")
    out["is_range"] = out["is_range"].astype(bool)
    return out
