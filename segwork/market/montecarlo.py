"""The seeded Monte Carlo of a market size: assumptions drawn by the inverse CDF of their
triangular or PERT distribution, vectorised over segments and draws in bounded chunks
(docs/metrics.md "Market ranges and Monte Carlo")."""

from __future__ import annotations

import numpy as np
from scipy import special

from segwork.market.assumptions import ASSUMPTIONS
from segwork.market.evaluation import evaluate
from segwork.market.options import Correlation, Distribution
from segwork.market.prepare import Prepared
from segwork.metrics.stats import safe_ratio

__all__ = ["QUANTILES", "monte_carlo"]

#: The quantiles reported of the draws: P10, P50, P90.
QUANTILES = (0.1, 0.5, 0.9)
#: Cells (rows x draws) per chunk of the Monte Carlo: bounds every temporary array to ~8 MB.
_CHUNK_CELLS = 1_000_000
#: Largest segments x draws matrix kept for per-segment percentiles (two of them: ~320 MB).
_MAX_SEGMENT_CELLS = 20_000_000


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


def monte_carlo(
    prep: Prepared,
    n_draws: int,
    random_state: int,
    distribution: Distribution,
    correlation: Correlation,
) -> dict[str, np.ndarray]:
    """Per-draw totals and per-segment P10/P50/P90 (see :func:`segwork.market.market_size`, Notes).

    Parameters
    ----------
    prep : Prepared
        The prepared market (:func:`segwork.market.prepare.prepare`).
    n_draws, random_state, distribution, correlation
        As in :func:`segwork.market.market_size`.

    Returns
    -------
    dict of str to numpy.ndarray
        ``tam, sam, som`` per draw, ``seg_tam_q, seg_som_q`` (quantiles x segments) and, with a
        top-down figure, ``td_tam, td_sam, td_som`` per draw.

    Raises
    ------
    ValueError
        When segments x draws exceeds the cells kept for per-segment percentiles.
    """
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
        "seg_tam_q": np.quantile(tam_seg, QUANTILES, axis=1),
    }
    grown_seg *= share[None, :]
    out["seg_som_q"] = np.quantile(grown_seg, QUANTILES, axis=1)
    if top_total is not None:
        s = prep.serviceable_share
        s_used = s if s is not None else np.nan_to_num(safe_ratio(sam_tot, tam_tot), nan=0.0)
        point = evaluate(prep)
        out["td_tam"] = top_total
        out["td_sam"] = top_total * s_used
        out["td_som"] = top_total * s_used * share * point["td_growth_factor"]
    return out
