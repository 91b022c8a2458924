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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segwork.market.assumptions import ASSUMPTIONS, Triple, assumption_table
from segwork.market.evaluation import evaluate
from segwork.market.montecarlo import QUANTILES, monte_carlo
from segwork.market.options import (
    Correlation,
    Distribution,
    Method,
    SizingOptions,
    check_options,
)
from segwork.market.prepare import Prepared, prepare
from segwork.market.table import ASSUMPTION_COLUMNS, MarketLike, market_frame
from segwork.market.text import money, pct
from segwork.metrics.stats import safe_ratio
from segwork.options import bind_options

__all__ = [
    "ASSUMPTIONS",
    "ASSUMPTION_COLUMNS",
    "MEASURES",
    "MarketSize",
    "market_frame",
    "market_size",
]

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


def _as_count(values: np.ndarray) -> np.ndarray:
    """int64 when every value is a whole number (accounts are counts), else float64."""
    if np.all(np.isfinite(values)) and np.all(values == np.round(values)):
        return values.astype("int64")
    return values.astype("float64")


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
    check_options(method, top_down, n_draws, random_state, distribution, correlation)
    prep = prepare(
        market, criteria, serviceable, share, horizon_years, top_down, acv_scale, currency
    )
    point = evaluate(prep)
    has_ranges = any(r.is_range for r in prep.ranges.values())
    mc = (
        monte_carlo(prep, int(n_draws), int(random_state), distribution, correlation)
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
        assumptions=assumption_table(prep.ranges, prep.acv_scale),
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
    prep: Prepared, point: dict[str, Any], mc: dict[str, np.ndarray] | None
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
            q = np.quantile(d, QUANTILES)
            rows.append((m, p, float(d.mean()), float(q[0]), float(q[1]), float(q[2])))
    return pd.DataFrame(rows, columns=list(TOTALS_COLUMNS))


def _top_down_table(point: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for m in MEASURES:
        bu, td = float(point[m.lower()]), float(point["td_" + m.lower()])
        gap = td - bu
        rows.append((m, bu, td, gap, float(safe_ratio(gap, bu))))
    return pd.DataFrame(rows, columns=list(TOP_DOWN_COLUMNS))


def _gap_sentence(prep: Prepared, point: dict[str, Any]) -> str:
    def cash(value: float) -> str:
        return money(value, prep.currency)

    n = prep.n_segments
    bu = f"{cash(point['tam'])} ({n} segment{'s' if n != 1 else ''} x accounts x ACV)"
    if "td_tam" not in point:
        return (
            "No top-down figure given: the bottom-up TAM at the assumptions' modes (point "
            f"estimate) is {bu}."
        )
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
        f"Top-down TAM {cash(td_tam)} ({prep.top_down_label}) {rel} the bottom-up TAM {bu} "
        f"(point estimates, assumptions at their modes); with {s_note} and the same obtainable "
        f"share, SOM is {cash(point['td_som'])} top-down vs {cash(point['som'])} bottom-up."
    )


def _sentence(prep: Prepared, totals: pd.DataFrame, method: str, has_ranges: bool) -> str:
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
        return (
            f"{m} {cash(t.loc[m, 'p50'])} (P10-P90 {cash(t.loc[m, 'p10'])}-"
            f"{cash(t.loc[m, 'p90'])})"
        )

    def point(m: str) -> str:
        return f"{m} {cash(t.loc[m, 'point'])}"

    years = f"{prep.horizon:g} year{'s' if prep.horizon != 1 else ''}"
    how = "top-down" if method == "top_down" else "bottom-up"
    points = f"{point('TAM')}, {point('SAM')}, {point('SOM')}"
    # each figure says which estimate it is: the Monte Carlo median over the ranges, or the
    # point estimate with every assumption at its mode (what the gap and penetration use)
    head = (
        f"Monte Carlo medians: {fig('TAM')}, {fig('SAM')}, {fig('SOM')}; point estimates "
        f"(assumptions at their modes): {points}"
        if has_ranges
        else f"Point estimates: {points}"
    )
    return (
        f"{head} ({how}; SOM = {share_txt} of the serviceable market after {years} of growth)."
    )


def sizing_arguments(market: MarketLike, options: SizingOptions) -> dict[str, Any]:
    """Every argument of :func:`market_size` for ``market`` and ``options``, its defaults filled in.

    Functions that take the same options (:func:`segwork.market.sensitivity`) read them here,
    so that the defaults are written once, in ``market_size``'s signature.

    Examples
    --------
    >>> args = sizing_arguments("market", {"share": 0.1})
    >>> args["share"], args["horizon_years"], args["method"]
    (0.1, 3, 'bottom_up')
    >>> sizing_arguments("market", {"shares": 0.1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: unknown market sizing option 'shares'; the options are: criteria, serviceable, ...
    """
    return {
        "market": market,
        **bind_options(market_size, options, what="market sizing", leading=1, exclude=["currency"]),
    }
