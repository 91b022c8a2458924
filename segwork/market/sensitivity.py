"""Sensitivity of SOM to each assumption: the tornado table (docs/metrics.md "Sensitivity").

With assumptions given as ranges (docs/metrics.md "Market ranges and Monte Carlo"), the tornado
table ranks them by how far each one moves SOM.
"""

from __future__ import annotations

from typing import Unpack

import pandas as pd

from segwork.market.assumptions import ASSUMPTIONS, assumption_table
from segwork.market.evaluation import evaluate
from segwork.market.options import SizingOptions, check_options
from segwork.market.prepare import prepare
from segwork.market.sizing import sizing_arguments
from segwork.market.table import MarketLike

__all__ = ["TORNADO_COLUMNS", "sensitivity"]

#: Columns of :func:`sensitivity`, in order.
TORNADO_COLUMNS: tuple[str, ...] = (
    "assumption",
    "low",
    "mode",
    "high",
    "som_low",
    "som_base",
    "som_high",
    "swing",
)


def sensitivity(market: MarketLike, **options: Unpack[SizingOptions]) -> pd.DataFrame:
    """Tornado table: how far SOM moves when each assumption goes from its low to its high value.

    docs/metrics.md "Sensitivity": the ranged assumptions ranked by how far they move SOM.
    For every assumption given as a range (``share``, ``accounts``, ``acv``, ``growth`` and, for
    ``method="top_down"``, the ``top_down`` total), SOM (of ``method``, defined as in
    :func:`segwork.market.market_size`) is computed with that assumption at its low and at its
    high value and every other assumption at its mode.  A per-segment assumption (accounts, ACV,
    growth) moves in every segment at once (all at their low, then all at their high), as in the
    ``"shared"`` Monte Carlo.  The result is deterministic: ``n_draws``, ``random_state``,
    ``distribution`` and ``correlation`` are accepted so that the same arguments as
    :func:`~segwork.market.market_size` can be passed, and are not used.

    Parameters
    ----------
    market
        As in :func:`segwork.market.market_size`.
    **options
        The options of :func:`~segwork.market.market_size` (:class:`~segwork.market.options.
        SizingOptions`), with its defaults: ``criteria, serviceable, share, horizon_years,
        method, top_down, acv_scale`` as there; ``n_draws, random_state, distribution,
        correlation`` accepted and checked for symmetry, unused.

    Returns
    -------
    pandas.DataFrame
        ``assumption, low, mode, high, som_low, som_base, som_high, swing``: the assumption's
        values (per-segment ones summarised as in ``MarketSize.assumptions``: accounts summed,
        ACV accounts-weighted, growth TAM-weighted), SOM at its low end, with everything at the
        mode, at its high end, and ``swing = |som_high - som_low|``.  One row per ranged
        assumption (point assumptions do not move SOM and are left out), sorted by swing
        descending, ties in the order share, accounts, acv, growth, top_down.

    Examples
    --------
    >>> import pandas as pd
    >>> from segwork.market import sensitivity
    >>> market = pd.DataFrame({"industry": ["software", "retail"], "accounts": [100, 200],
    ...                        "acv_low": [500.0, 250.0], "acv_mode": [1000.0, 500.0],
    ...                        "acv_high": [1500.0, 750.0]})
    >>> sensitivity(market, share=(0.02, 0.05, 0.10), horizon_years=0)[
    ...     ["assumption", "som_low", "som_base", "som_high", "swing"]]
      assumption  som_low  som_base  som_high    swing
    0      share   4000.0   10000.0   20000.0  16000.0
    1        acv   5000.0   10000.0   15000.0  10000.0
    """
    a = sizing_arguments(market, options)
    method = a["method"]
    check_options(
        method, a["top_down"], a["n_draws"], a["random_state"], a["distribution"], a["correlation"]
    )
    prep = prepare(
        market, a["criteria"], a["serviceable"], a["share"], a["horizon_years"], a["top_down"],
        a["acv_scale"],
    )  # fmt: skip
    key = "td_som" if method == "top_down" else "som"
    base = float(evaluate(prep)[key])
    summary = assumption_table(prep.ranges, prep.acv_scale).set_index("assumption")
    rows = []
    for name in ASSUMPTIONS:
        if name not in prep.ranges or not prep.ranges[name].is_range:
            continue
        low = float(evaluate(prep, {name: "low"})[key])
        high = float(evaluate(prep, {name: "high"})[key])
        s = summary.loc[name]
        rows.append(
            (name, float(s["low"]), float(s["mode"]), float(s["high"]), low, base, high,
             abs(high - low))
        )  # fmt: skip
    out = pd.DataFrame(rows, columns=list(TORNADO_COLUMNS))
    for col in TORNADO_COLUMNS[1:]:
        out[col] = out[col].astype("float64")
    out["_order"] = [ASSUMPTIONS.index(a) for a in out["assumption"]]
    out = out.sort_values(["swing", "_order"], ascending=[False, True], kind="mergesort")
    out = out.drop(columns="_order").reset_index(drop=True)
    out.attrs.update({"method": method, "som_base": base})
    return out
