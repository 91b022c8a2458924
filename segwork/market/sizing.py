"""Market size: TAM, SAM and SOM by market segment, with ranges and a seeded Monte Carlo.

docs/metrics.md "Market sizing" and "Market ranges and Monte Carlo":

- TAM is the sum over market segments of accounts x annual contract value (bottom-up), or a stated
  total market (top-down); the two can be shown side by side.
- SAM is the TAM of the segments the product can serve, chosen by filters on the segment criteria.
- SOM is the share of the serviceable market obtainable within a stated horizon.
- Any assumption may be a point or a range (low, mode, high); with ranges, a seeded Monte Carlo
  gives P10 / P50 / P90 of TAM, SAM and SOM, and the tornado table of
  :func:`segwork.market.sensitivity` (docs/metrics.md "Sensitivity") ranks the assumptions by how
  far they move SOM.

The ``market`` table has one row per market segment, so it is small (hundreds of rows, not
millions): it is read into memory once and the Monte Carlo runs on numpy arrays, vectorised over
segments and draws (chunks of rows bound the memory; the only Python loop runs over those chunks).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import special

from segwork.data.dataset import Dataset
from segwork.formatting import currency_code, money_one_decimal
from segwork.metrics.stats import safe_ratio

__all__ = [
    "ASSUMPTIONS",
    "ASSUMPTION_COLUMNS",
    "MEASURES",
    "MarketSize",
    "market_size",
]

#: The assumptions of a market size, in the order they are drawn and reported.
ASSUMPTIONS: tuple[str, ...] = ("share", "accounts", "acv", "growth", "top_down")

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

#: The rows of :attr:`MarketSize.totals`, in order.
MEASURES: tuple[str, ...] = ("TAM", "SAM", "SOM")

TOTALS_COLUMNS: tuple[str, ...] = ("measure", "point", "mean", "p10", "p50", "p90")
TOP_DOWN_COLUMNS: tuple[str, ...] = ("measure", "bottom_up", "top_down", "gap", "gap_pct")
SEGMENT_POINT_COLUMNS: tuple[str, ...] = (
    "accounts", "acv", "growth", "tam", "serviceable", "sam", "som",
)  # fmt: skip
SEGMENT_RANGE_COLUMNS: tuple[str, ...] = (
    "tam_p10", "tam_p50", "tam_p90",
    "sam_p10", "sam_p50", "sam_p90",
    "som_p10", "som_p50", "som_p90",
)  # fmt: skip
ASSUMPTION_TABLE_COLUMNS: tuple[str, ...] = (
    "assumption", "scope", "low", "mode", "high", "is_range",
)  # fmt: skip

_QUANTILES = (0.1, 0.5, 0.9)
#: Cells (rows x draws) per chunk of the Monte Carlo: bounds every temporary array to ~8 MB.
_CHUNK_CELLS = 1_000_000
#: Largest segments x draws matrix kept for per-segment percentiles (two of them: ~320 MB).
_MAX_SEGMENT_CELLS = 20_000_000

Distribution = Literal["triangular", "pert"]
Correlation = Literal["shared", "independent"]
Method = Literal["bottom_up", "top_down"]
Level = Literal["low", "mode", "high"]
MarketLike: TypeAlias = pd.DataFrame | ir.Table | Dataset
Triple = float | Sequence[float]


# --------------------------------------------------------------------------------------------------
# Small helpers shared by the market modules
# --------------------------------------------------------------------------------------------------
def money(value: float, currency: str | None = None) -> str:
    """Compact money text: ``$18.9B``, ``$350.2M``, ``$12.3k``, ``$950``; NaN is ``n/a``.

    ``currency`` (default USD) gives the symbol or code written in front
    (:func:`segwork.formatting.money_one_decimal`): ``money(2.5e6, "EUR")`` is ``€2.5M``.

    >>> money(18.9e9), money(-2.5e6, "EUR"), money(950, "CHF")
    ('$18.9B', '-€2.5M', 'CHF 950')
    """
    return money_one_decimal(value, currency)


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


def pct(value: float, digits: int = 1) -> str:
    """``0.0512`` -> ``"5.1%"``; NaN is ``n/a``."""
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    return f"{float(value) * 100:.{digits}f}%"


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


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))


def triple(
    value: Any, name: str, *, low: float | None = None, high: float | None = None
) -> tuple[float, float, float]:
    """A point ``v`` or a range ``(low, mode, high)`` as a checked ``(low, mode, high)`` triple."""
    if _is_real(value):
        vals = (float(value),) * 3
    elif (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) == 3
        and all(_is_real(v) for v in value)
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


# --------------------------------------------------------------------------------------------------
# Assumptions
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Range:
    """low / mode / high arrays of one assumption (one value per market row, or one in all)."""

    low: np.ndarray
    mode: np.ndarray
    high: np.ndarray

    @property
    def is_range(self) -> bool:
        return bool(np.any(self.high > self.low))

    def at(self, level: Level) -> np.ndarray:
        return {"low": self.low, "mode": self.mode, "high": self.high}[level]

    @classmethod
    def scalar(cls, values: tuple[float, float, float]) -> _Range:
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
) -> _Range:
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
    return _Range(low, mode, high)


def _row_assumptions(frame: pd.DataFrame) -> dict[str, _Range]:
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


# --------------------------------------------------------------------------------------------------
# Distributions (inverse CDFs, vectorised)
# --------------------------------------------------------------------------------------------------
def _ppf(
    dist: Distribution, u: np.ndarray, a: np.ndarray, m: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Inverse CDF of the triangular or PERT(a, m, b) distribution at ``u`` (broadcasting).

    A degenerate range (a == b) gives ``a`` for every ``u``.
    """
    width = b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        if dist == "triangular":
            c = np.where(width > 0, (m - a) / width, 0.5)
            left = a + np.sqrt(u * width * (m - a))
            right = b - np.sqrt((1.0 - u) * width * (b - m))
            return np.where(u < c, left, right)
        alpha = np.where(width > 0, 1.0 + 4.0 * (m - a) / width, 1.0)
        beta = np.where(width > 0, 1.0 + 4.0 * (b - m) / width, 1.0)
        return a + width * special.betaincinv(alpha, beta, u)


# --------------------------------------------------------------------------------------------------
# Preparation: rows, segments, the serviceable filter, the top-down figure
# --------------------------------------------------------------------------------------------------
@dataclass
class _Prepared:
    rows: pd.DataFrame  # the market rows in canonical order
    criteria: list[str]
    keys: pd.DataFrame  # one row per segment: the criteria values (sorted)
    codes: np.ndarray  # row -> segment number
    serviceable_seg: np.ndarray  # per segment
    serviceable_row: np.ndarray  # per row
    ranges: dict[str, _Range]  # share, accounts, acv, growth (+ top_down)
    acv_scale: float
    horizon: float
    serviceable_share: float | None = None
    top_down_label: str = "stated total market"
    currency: str = "USD"

    @property
    def n_segments(self) -> int:
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


def _top_down(top_down: Any) -> tuple[_Range | None, float | None, str]:
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
            if not _is_real(s) or not 0 <= s <= 1:
                raise ValueError(f"top_down serviceable_share must be in [0, 1], got {s!r}")
            share = float(s)
        if top_down.get("source"):
            label = str(top_down["source"])
    return _Range.scalar(triple(total, "top_down total", low=0.0)), share, label


def _prepare(
    market: Any,
    criteria: Any,
    serviceable: Mapping[str, Any] | None,
    share: Any,
    horizon_years: Any,
    top_down: Any,
    acv_scale: Any,
    currency: str | None = None,
) -> _Prepared:
    if not _is_real(horizon_years) or horizon_years < 0:
        raise ValueError(f"horizon_years must be a number >= 0, got {horizon_years!r}")
    if not _is_real(acv_scale) or acv_scale <= 0:
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
    ranges = _row_assumptions(rows)
    ranges["share"] = _Range.scalar(share_t)
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
    return _Prepared(
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


# --------------------------------------------------------------------------------------------------
# Evaluation at fixed levels (points, tornado) and Monte Carlo
# --------------------------------------------------------------------------------------------------
def _evaluate(prep: _Prepared, levels: Mapping[str, Level] | None = None) -> dict[str, Any]:
    """Totals and per-row values with each assumption at a level (default: every mode)."""
    lv: dict[str, Level] = {a: "mode" for a in ASSUMPTIONS}
    lv.update(levels or {})
    r = prep.ranges
    acc = r["accounts"].at(lv["accounts"])
    acv = r["acv"].at(lv["acv"]) * prep.acv_scale
    g = r["growth"].at(lv["growth"])
    share = float(r["share"].at(lv["share"])[0])
    tam_row = acc * acv
    factor_row = (1.0 + g) ** prep.horizon
    serv = prep.serviceable_row
    tam = float(tam_row.sum())
    sam = float(tam_row[serv].sum())
    grown_sam = float((tam_row * factor_row)[serv].sum())
    out: dict[str, Any] = {
        "acc_row": acc,
        "acv_row": acv,
        "g_row": g,
        "tam_row": tam_row,
        "factor_row": factor_row,
        "share": share,
        "tam": tam,
        "sam": sam,
        "som": grown_sam * share,
    }
    if "top_down" in r:
        total = float(r["top_down"].at(lv["top_down"])[0])
        s = prep.serviceable_share
        s_used = s if s is not None else (sam / tam if tam > 0 else 0.0)
        growth_factor = _growth_factor(tam_row, factor_row, serv)
        out.update(
            td_tam=total,
            td_sam=total * s_used,
            td_som=total * s_used * share * growth_factor,
            td_growth_factor=growth_factor,
        )
    return out


def _growth_factor(tam_row: np.ndarray, factor_row: np.ndarray, serv: np.ndarray) -> float:
    """SAM-weighted growth factor (1+g)^h of the serviceable rows (TAM-weighted if SAM is 0)."""
    for mask in (serv, np.ones_like(serv)):
        w = float(tam_row[mask].sum())
        if w > 0:
            return float((tam_row * factor_row)[mask].sum() / w)
    return 1.0


def _monte_carlo(
    prep: _Prepared,
    n_draws: int,
    random_state: int,
    distribution: Distribution,
    correlation: Correlation,
) -> dict[str, np.ndarray]:
    """Per-draw totals and per-segment P10/P50/P90 (see :func:`market_size`, Notes)."""
    n_seg = prep.n_segments
    if n_seg * n_draws > _MAX_SEGMENT_CELLS:
        raise ValueError(
            f"{n_seg} segments x {n_draws} draws is too large for per-segment percentiles "
            f"(limit {_MAX_SEGMENT_CELLS:,} cells); use fewer n_draws or coarser criteria"
        )
    streams = dict(
        zip(ASSUMPTIONS, np.random.default_rng(random_state).spawn(len(ASSUMPTIONS)), strict=True)
    )
    r = prep.ranges
    shared_u = {
        a: streams[a].random(n_draws)
        for a in ("accounts", "acv", "growth")
        if r[a].is_range and correlation == "shared"
    }

    def draw_scalar(name: str) -> np.ndarray:
        rng = r[name]
        if not rng.is_range:
            return np.full(n_draws, float(rng.mode[0]))
        u = streams[name].random(n_draws)
        return _ppf(distribution, u, rng.low, rng.mode, rng.high)

    def draw_rows(name: str, sl: slice) -> np.ndarray:
        rng = r[name]
        lo, mo, hi = rng.low[sl, None], rng.mode[sl, None], rng.high[sl, None]
        if not rng.is_range:
            return mo
        if correlation == "shared":
            u = shared_u[name][None, :]
        else:  # rows in canonical order, chunk after chunk: the same stream whatever the chunks
            u = streams[name].random((lo.shape[0], n_draws))
        return _ppf(distribution, u, lo, mo, hi)

    share = draw_scalar("share")
    top_total = draw_scalar("top_down") if "top_down" in r else None
    tam_seg = np.zeros((n_seg, n_draws))
    grown_seg = np.zeros((n_seg, n_draws))  # SOM before the share: TAM x (1 + g)^h, serviceable
    n_rows = len(prep.rows)
    chunk = max(1, _CHUNK_CELLS // n_draws)
    serv = prep.serviceable_row
    for start in range(0, n_rows, chunk):
        sl = slice(start, min(start + chunk, n_rows))
        acc = draw_rows("accounts", sl)
        acv = draw_rows("acv", sl) * prep.acv_scale
        g = draw_rows("growth", sl)
        tam = np.broadcast_to(acc * acv, (sl.stop - sl.start, n_draws))
        grown = tam * ((1.0 + g) ** prep.horizon) * serv[sl, None]
        np.add.at(tam_seg, prep.codes[sl], tam)
        np.add.at(grown_seg, prep.codes[sl], grown)
    tam_tot = tam_seg.sum(axis=0)
    sam_tot = tam_seg[prep.serviceable_seg].sum(axis=0)
    som_tot = grown_seg.sum(axis=0) * share
    out = {
        "tam": tam_tot,
        "sam": sam_tot,
        "som": som_tot,
        "seg_tam_q": np.quantile(tam_seg, _QUANTILES, axis=1),
    }
    grown_seg *= share[None, :]
    out["seg_som_q"] = np.quantile(grown_seg, _QUANTILES, axis=1)
    if top_total is not None:
        s = prep.serviceable_share
        s_used = s if s is not None else np.nan_to_num(safe_ratio(sam_tot, tam_tot), nan=0.0)
        point = _evaluate(prep)
        out["td_tam"] = top_total
        out["td_sam"] = top_total * s_used
        out["td_som"] = top_total * s_used * share * point["td_growth_factor"]
    return out


# --------------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MarketSize:
    """The result of :func:`market_size`.

    Attributes
    ----------
    segments : pandas.DataFrame
        One row per market segment: the ``criteria`` columns, ``accounts, acv, growth, tam,
        serviceable, sam, som`` (all assumptions at their mode; ``acv`` is the accounts-weighted
        mean ACV of the segment's rows, their plain mean where it has no accounts; ``growth`` the
        TAM-weighted mean growth) and, when any assumption is a
        range, ``tam_p10, tam_p50, tam_p90, sam_p10, sam_p50, sam_p90, som_p10, som_p50,
        som_p90`` from the Monte Carlo.
    totals : pandas.DataFrame
        Rows TAM, SAM, SOM (``measure``) of the chosen ``method`` with columns ``point`` (every
        assumption at its mode), ``mean, p10, p50, p90`` (Monte Carlo; equal to ``point`` when
        nothing is a range).
    top_down : pandas.DataFrame
        ``measure, bottom_up, top_down, gap, gap_pct`` (points; gap = top-down - bottom-up,
        gap_pct = gap / bottom-up); empty when no ``top_down`` figure was given.
    gap_sentence : str
        The gap between the top-down and the bottom-up figures in words.
    sentence : str
        TAM, SAM and SOM in words.
    assumptions : pandas.DataFrame
        ``assumption, scope, low, mode, high, is_range``: what was assumed (per-segment
        assumptions summarised: accounts summed, ACV accounts-weighted, growth TAM-weighted).
    draws : pandas.DataFrame or None
        The Monte Carlo totals per draw (``tam, sam, som`` of the chosen method), None without
        ranges.
    """

    segments: pd.DataFrame
    totals: pd.DataFrame
    top_down: pd.DataFrame
    gap_sentence: str
    sentence: str
    assumptions: pd.DataFrame
    draws: pd.DataFrame | None
    criteria: tuple[str, ...]
    serviceable: dict[str, Any]
    method: str
    share: tuple[float, float, float]
    horizon_years: float
    n_draws: int
    random_state: int
    distribution: str
    correlation: str
    has_ranges: bool

    def _point(self, measure: str) -> float:
        return float(self.totals.loc[self.totals["measure"] == measure, "point"].iloc[0])

    @property
    def tam(self) -> float:
        """TAM with every assumption at its mode (the ``point`` of ``totals``)."""
        return self._point("TAM")

    @property
    def sam(self) -> float:
        """SAM with every assumption at its mode."""
        return self._point("SAM")

    @property
    def som(self) -> float:
        """SOM with every assumption at its mode."""
        return self._point("SOM")

    def __repr__(self) -> str:
        return f"<MarketSize {self.method}: {self.sentence}>"


def _check_options(
    method: Any, top_down: Any, n_draws: Any, random_state: Any, distribution: Any,
    correlation: Any,
) -> None:  # fmt: skip
    if method not in ("bottom_up", "top_down"):
        raise ValueError(f"method must be one of 'bottom_up', 'top_down', got {method!r}")
    if method == "top_down" and top_down is None:
        raise ValueError("method='top_down' needs a top_down figure (the stated total market)")
    if not isinstance(n_draws, numbers.Integral) or isinstance(n_draws, bool) or n_draws < 1:
        raise ValueError(f"n_draws must be an integer >= 1, got {n_draws!r}")
    if (
        not isinstance(random_state, numbers.Integral)
        or isinstance(random_state, bool)
        or random_state < 0
    ):
        raise ValueError(f"random_state must be an integer >= 0, got {random_state!r}")
    if distribution not in ("triangular", "pert"):
        raise ValueError(f"distribution must be one of 'triangular', 'pert', got {distribution!r}")
    if correlation not in ("shared", "independent"):
        raise ValueError(f"correlation must be one of 'shared', 'independent', got {correlation!r}")


def _as_count(values: np.ndarray) -> np.ndarray:
    """int64 when every value is a whole number (accounts are counts), else float64."""
    if np.all(np.isfinite(values)) and np.all(values == np.round(values)):
        return values.astype("int64")
    return values.astype("float64")


def _assumption_table(prep: _Prepared) -> pd.DataFrame:
    r = prep.ranges
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
            *(float(safe_ratio((v * w * prep.acv_scale).sum(), w.sum())) for v in
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


def market_size(
    market: MarketLike,
    *,
    criteria: str | Sequence[str] | None = None,
    serviceable: Mapping[str, Any] | None = None,
    share: Triple = 0.05,
    horizon_years: float = 3,
    method: Method = "bottom_up",
    top_down: Triple | Mapping[str, Any] | None = None,
    n_draws: int = 10_000,
    random_state: int = 0,
    distribution: Distribution = "triangular",
    correlation: Correlation = "shared",
    acv_scale: float = 1.0,
    currency: str | None = None,
) -> MarketSize:
    """TAM, SAM and SOM by market segment (docs/metrics.md "Market sizing").

    Definitions (docs/metrics.md "Market sizing"), per market row and summed over rows:

    - **TAM** = accounts x ACV, summed over the market segments (bottom-up).  ACV is ``acv``, else
      ``price`` (both read as the annual contract value of one account), else the range
      ``acv_low, acv_mode, acv_high``; ``acv_scale`` multiplies it (a what-if on price).
    - **SAM** = TAM of the segments that pass the ``serviceable`` filter (the segments the product
      can serve, chosen on the segment criteria).
    - **SOM** = SAM x the obtainable share within a stated horizon.  segwork's convention: TAM and
      SAM are today's annual market; SOM is the annual revenue obtainable at the end of the horizon,
      i.e. the ``share`` of the serviceable market as it will be after ``horizon_years`` years of
      each segment's ``growth``:
      ``SOM = sum over serviceable rows of accounts x ACV x (1 + growth) ^ horizon_years x share``.
      Without a ``growth`` column (or with ``horizon_years=0``) SOM = SAM x share.
    - **Top-down** (a stated total market, shown side by side): TAM = the stated
      ``top_down`` total; SAM = that total x the serviceable share of the market (given as
      ``top_down["serviceable_share"]``, else the bottom-up SAM / TAM); SOM = that SAM x share x
      the SAM-weighted growth factor of the bottom-up segments.

    Parameters
    ----------
    market : pandas.DataFrame, Ibis table or Dataset
        One row per market segment (table ``market``, docs/metrics.md "Input tables"): criteria
        columns, ``accounts`` (with optional ``accounts_low``/``accounts_high``), ACV as ``acv`` or
        ``price`` or ``acv_low, acv_mode, acv_high``, optional ``growth`` (annual rate; or
        ``growth_low, growth_mode``/``growth``, ``growth_high``).  A Dataset's ``market`` table is
        used.  Missing low/high values default to the mode.
    criteria : str or list of str, optional
        Columns that define a segment; default every column that is not an assumption.  Rows
        with the same criteria values are added up into one segment.
    serviceable : mapping, optional
        ``{criterion: value or list of values}``: the segments the product can serve (every
        condition must hold).  None or ``{}``: every segment (SAM = TAM).
    share : float or (low, mode, high), default 0.05
        Obtainable share of the serviceable market, in [0, 1].
    horizon_years : float, default 3
        Years until the share is obtained (growth is compounded over them).
    method : {"bottom_up", "top_down"}, default "bottom_up"
        Which figures ``totals`` reports (both are in ``top_down`` when a figure is given).
    top_down : float, (low, mode, high) or mapping, optional
        The stated total market (annual spend); a mapping may add ``serviceable_share`` (fraction
        of it the serviceable segments represent) and ``source`` (a label for the sentence).
    n_draws : int, default 10000
        Monte Carlo draws (used only when some assumption is a range).
    random_state : int, default 0
        Seed of ``numpy.random.default_rng``; identical arguments give identical results.
    distribution : {"triangular", "pert"}, default "triangular"
        Distribution of every ranged assumption between its low, mode and high.
    correlation : {"shared", "independent"}, default "shared"
        How a per-segment assumption varies across segments within one draw (see Notes).
    acv_scale : float, default 1.0
        Multiplier on every ACV (what-if).
    currency : str, optional
        The currency the sentences write amounts in; default the Dataset's
        (docs/metrics.md "Currencies"), else the frame's one ``currency`` code, else USD.

    Returns
    -------
    MarketSize
        ``.segments``, ``.totals``, ``.top_down``, ``.gap_sentence``, ``.sentence``,
        ``.assumptions``, ``.draws`` (see :class:`MarketSize`).  ``segments`` are sorted by SAM
        descending (the serviceable segments first), then TAM descending, then the criteria.

    Raises
    ------
    ValueError
        Unknown criteria or serviceable columns/values (the message lists the available ones),
        missing or negative accounts/ACV, a range with low > mode or mode > high, a share outside
        [0, 1], ``method="top_down"`` without ``top_down``, or bad options.

    Notes
    -----
    Monte Carlo (only when an assumption is a range): each assumption is drawn by the inverse
    CDF of its triangular (or PERT, lambda = 4) distribution from uniform numbers.  ``share``
    and ``top_down`` are single numbers, drawn once per draw.  With ``correlation="shared"``
    (default) a per-segment assumption (accounts, ACV, growth) uses one uniform number per draw
    for every segment: all segments sit at the same quantile of their own range, i.e. the error
    of an assumption is systematic (if our ACVs are optimistic, they are optimistic everywhere),
    which does not let errors cancel out over many segments.  With ``"independent"`` every
    segment gets its own draw (errors cancel; narrower totals).  Different assumptions are
    independent of each other.  Each assumption has its own random stream spawned from
    ``random_state`` (so making one assumption a range does not change the draws of the
    others), rows are drawn in a canonical order (sorted by all criteria columns), and the work
    is chunked into blocks of about 1,000,000 cells: 140 segments x 10,000 draws take a fraction
    of a second and some 30 MB.  P10 / P50 / P90 are ``numpy.quantile`` (linear) of the draws.

    Examples
    --------
    >>> import pandas as pd
    >>> from segwork.market import market_size
    >>> market = pd.DataFrame({"region": ["Europe", "Europe", "Asia"],
    ...                        "industry": ["software", "retail", "software"],
    ...                        "accounts": [100, 200, 50], "acv": [1000.0, 500.0, 2000.0]})
    >>> m = market_size(market, serviceable={"region": "Europe"}, share=0.1, horizon_years=0)
    >>> m.totals[["measure", "point"]]
      measure     point
    0     TAM  300000.0
    1     SAM  200000.0
    2     SOM   20000.0
    >>> m.segments[["region", "industry", "tam", "serviceable", "sam", "som"]]
       region  industry       tam  serviceable       sam      som
    0  Europe    retail  100000.0         True  100000.0  10000.0
    1  Europe  software  100000.0         True  100000.0  10000.0
    2    Asia  software  100000.0        False       0.0      0.0
    """
    _check_options(method, top_down, n_draws, random_state, distribution, correlation)
    prep = _prepare(
        market, criteria, serviceable, share, horizon_years, top_down, acv_scale, currency
    )
    point = _evaluate(prep)
    has_ranges = any(r.is_range for r in prep.ranges.values())
    mc = (
        _monte_carlo(prep, int(n_draws), int(random_state), distribution, correlation)
        if has_ranges
        else None
    )
    segments = _segments_table(prep, point, mc)
    td_prefix = "td_" if method == "top_down" else ""
    totals = _totals_table(point, mc, td_prefix)
    top = (
        _top_down_table(point)
        if "top_down" in prep.ranges
        else pd.DataFrame(
            {
                c: pd.Series(dtype="object" if c == "measure" else "float64")
                for c in TOP_DOWN_COLUMNS
            }
        )
    )
    draws = (
        pd.DataFrame({m.lower(): mc[td_prefix + m.lower()] for m in MEASURES})
        if mc is not None
        else None
    )
    shown_serviceable = {
        k: (list(v) if isinstance(v, list | tuple | set) else v)
        for k, v in dict(serviceable or {}).items()
    }
    result = MarketSize(
        segments=segments,
        totals=totals,
        top_down=top,
        gap_sentence=_gap_sentence(prep, point),
        sentence=_sentence(prep, totals, method, has_ranges),
        assumptions=_assumption_table(prep),
        draws=draws,
        criteria=tuple(prep.criteria),
        serviceable=shown_serviceable,
        method=method,
        share=(
            float(prep.ranges["share"].low[0]),
            float(prep.ranges["share"].mode[0]),
            float(prep.ranges["share"].high[0]),
        ),
        horizon_years=float(horizon_years),
        n_draws=int(n_draws),
        random_state=int(random_state),
        distribution=distribution,
        correlation=correlation,
        has_ranges=has_ranges,
    )
    return result


def _segments_table(
    prep: _Prepared, point: dict[str, Any], mc: dict[str, np.ndarray] | None
) -> pd.DataFrame:
    n = prep.n_segments
    codes = prep.codes

    def per_seg(values: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=values, minlength=n)

    accounts = per_seg(point["acc_row"])
    tam = per_seg(point["tam_row"])
    serv = prep.serviceable_seg
    grown = per_seg(point["tam_row"] * point["factor_row"] * prep.serviceable_row)
    out = prep.keys.copy()
    out["accounts"] = _as_count(accounts)
    # accounts-weighted ACV; a segment without accounts shows the plain mean of its rows' ACV
    plain = safe_ratio(per_seg(point["acv_row"]), np.bincount(codes, minlength=n))
    out["acv"] = np.where(accounts > 0, safe_ratio(tam, accounts), plain)
    out["growth"] = safe_ratio(per_seg(point["tam_row"] * point["g_row"]), tam)
    out["tam"] = tam
    out["serviceable"] = serv
    out["sam"] = np.where(serv, tam, 0.0)
    out["som"] = grown * point["share"]
    if mc is not None:
        tq, sq = mc["seg_tam_q"], mc["seg_som_q"]
        for i, q in enumerate(("p10", "p50", "p90")):
            out[f"tam_{q}"] = tq[i]
        for i, q in enumerate(("p10", "p50", "p90")):
            out[f"sam_{q}"] = np.where(serv, tq[i], 0.0)
        for i, q in enumerate(("p10", "p50", "p90")):
            out[f"som_{q}"] = sq[i]
    keys = list(prep.criteria)
    out = out.sort_values(
        ["sam", "tam", *keys],
        ascending=[False, False, *([True] * len(keys))],
        kind="mergesort",
        na_position="last",
    ).reset_index(drop=True)
    return out


def _totals_table(
    point: dict[str, Any], mc: dict[str, np.ndarray] | None, prefix: str
) -> pd.DataFrame:
    rows = []
    for m in MEASURES:
        key = prefix + m.lower()
        p = float(point[key])
        if mc is None:
            rows.append((m, p, p, p, p, p))
        else:
            d = mc[key]
            q = np.quantile(d, _QUANTILES)
            rows.append((m, p, float(d.mean()), float(q[0]), float(q[1]), float(q[2])))
    return pd.DataFrame(rows, columns=list(TOTALS_COLUMNS))


def _top_down_table(point: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for m in MEASURES:
        bu, td = float(point[m.lower()]), float(point["td_" + m.lower()])
        gap = td - bu
        rows.append((m, bu, td, gap, float(safe_ratio(gap, bu))))
    return pd.DataFrame(rows, columns=list(TOP_DOWN_COLUMNS))


def _gap_sentence(prep: _Prepared, point: dict[str, Any]) -> str:
    def cash(value: float) -> str:
        return money(value, prep.currency)

    n = prep.n_segments
    bu = f"{cash(point['tam'])} ({n} segment{'s' if n != 1 else ''} x accounts x ACV)"
    if "td_tam" not in point:
        return f"No top-down figure given: bottom-up TAM is {bu}."
    td_tam, tam = point["td_tam"], point["tam"]
    gap = td_tam - tam
    if tam > 0 and abs(gap) < 0.005 * tam:
        rel = "matches"
    elif tam > 0:
        rel = f"is {cash(abs(gap))} ({abs(gap) / tam:.0%}) {'above' if gap > 0 else 'below'}"
    else:
        rel = f"is {cash(abs(gap))} {'above' if gap > 0 else 'below'}"
    s_note = (
        "the stated serviceable share"
        if prep.serviceable_share is not None
        else "the bottom-up serviceable share"
    )
    return (
        f"Top-down TAM {cash(td_tam)} ({prep.top_down_label}) {rel} the bottom-up TAM {bu}; "
        f"with {s_note} and the same obtainable share, SOM is {cash(point['td_som'])} top-down "
        f"vs {cash(point['som'])} bottom-up."
    )


def _sentence(prep: _Prepared, totals: pd.DataFrame, method: str, has_ranges: bool) -> str:
    def cash(value: float) -> str:
        return money(value, prep.currency)

    t = totals.set_index("measure")
    share = prep.ranges["share"]
    share_txt = (
        f"{pct(share.mode[0])} (range {pct(share.low[0])}-{pct(share.high[0])})"
        if share.is_range
        else pct(share.mode[0])
    )

    def fig(m: str) -> str:
        if has_ranges:
            return (
                f"{m} {cash(t.loc[m, 'p50'])} (P10-P90 {cash(t.loc[m, 'p10'])}-"
                f"{cash(t.loc[m, 'p90'])})"
            )
        return f"{m} {cash(t.loc[m, 'point'])}"

    years = f"{prep.horizon:g} year{'s' if prep.horizon != 1 else ''}"
    how = "top-down" if method == "top_down" else "bottom-up"
    return (
        f"{fig('TAM')}, {fig('SAM')}, {fig('SOM')} ({how}; SOM = {share_txt} of the serviceable "
        f"market after {years} of growth)."
    )
