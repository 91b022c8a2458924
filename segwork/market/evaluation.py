"""Evaluation of a market size with every assumption at a fixed level (low, mode or high): the
point figures of :func:`segwork.market.market_size` and the ends of the tornado of
:func:`segwork.market.sensitivity`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from segwork.market.assumptions import ASSUMPTIONS, Level
from segwork.market.prepare import Prepared

__all__ = ["evaluate"]


def evaluate(prep: Prepared, levels: Mapping[str, Level] | None = None) -> dict[str, Any]:
    """Totals and per-row values with each assumption at a level (default: every mode).

    Parameters
    ----------
    prep : Prepared
        The prepared market (:func:`segwork.market.prepare.prepare`).
    levels : mapping of str to {"low", "mode", "high"}, optional
        The level of some assumptions; the others are at their mode.

    Returns
    -------
    dict
        ``tam, sam, som`` and the per-row arrays behind them (``acc_row, acv_row, g_row, tam_row,
        factor_row``, ``share``); with a top-down figure also ``td_tam, td_sam, td_som,
        td_growth_factor``.
    """
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
    """SAM-weighted growth factor (1+g)^h of the serviceable rows (TAM-weighted if SAM is 0).

    Parameters
    ----------
    tam_row, factor_row : numpy.ndarray
        TAM and growth factor of each market row.
    serv : numpy.ndarray
        Boolean mask of the serviceable rows.

    Returns
    -------
    float
        The weighted mean growth factor; 1.0 when the market has no TAM at all.
    """
    for mask in (serv, np.ones_like(serv)):
        w = float(tam_row[mask].sum())
        if w > 0:
            return float((tam_row * factor_row)[mask].sum() / w)
    return 1.0
